"""UN/EDIFACT for customs brokers: CUSDEC D:96B out, CUSRES D:96B in. Pure Python (pydifact).

    build_cusdec(payload, interchange_ref, sender, recipient, prepared_at) -> str
    build_cusdec_cancellation(payload, interchange_ref, sender, recipient, prepared_at) -> str
    parse_cusres(text, status_map=None) -> [customs.status dict, ...]   # one per message
    resolve_status(codes, status_map=None) -> (status or None, [unknown codes])
    status_key(source, code, agency) / default_status_map() / describe_code(code)
    interchange_reference(text) -> UNB control reference, or None (never raises)
    interchange_sender(text) -> UNB sender "id:qualifier", or None (never raises)
    EdifactError(ValueError): .segment (tag or None), .position (1-based or None)

The broker's side (reading CUSDEC, writing CUSRES) is implemented independently in the
customs broker simulator (``tests/logistics_simulators/customs_broker.py``) from the same
profiles, documented here.

Interchange
-----------

======================================  ==================================================
Segment                                 Content
======================================  ==================================================
UNA:+.? '                               service string advice: ``:`` ``+`` decimal point
                                        ``.`` release character ``?`` (``?'`` ``?+`` ``?:``
                                        ``??`` in values), segment terminator ``'``
UNB+UNOC:3+sender:ZZ+recipient:ZZ+      syntax UNOC (ISO 8859-1) version 3; partner ids
YYMMDD:HHMM+ref'                        with qualifier ZZ (mutually defined); preparation
                                        date and time (UTC); control reference (an..14)
UNH+n+CUSDEC:D:96B:UN' ... UNT+count+n' one message; UNT counts UNH to UNT inclusive
UNZ+messages+ref'                       number of messages and the UNB control reference
======================================  ==================================================

One segment follows the other without line breaks (the parser accepts line breaks after a
segment terminator). Text outside ISO 8859-1 is transliterated (``Ł`` -> ``L``, ``œ`` ->
``oe``, accents dropped) or replaced by ``?``; control characters become spaces. Dates and
times are UTC (a naive ``prepared_at`` is taken as UTC). Numbers are written with ``.`` as
decimal mark and no exponent or trailing zeros (``1250.5``, ``12500``).

CUSDEC profile (the suite's customs declaration)
------------------------------------------------

The UN/EDIFACT D.96B CUSDEC, in the order of its segment table (``tests/conformance/
edifact_customs/unece_d96b/CUSDEC_D.96B``; the tests check every CUSDEC written against it).

==========================================  ==============================================
Segment                                     Canonical ``customs.declaration`` field
==========================================  ==============================================
BGM+830+reference+9'                        1001: ``830`` export (goods declaration for
                                            exportation) / ``929`` import (for
                                            importation); 1004 ``reference``; 1225 ``9``
                                            original for ``version`` 1, ``5`` replacement
                                            for an amendment (``version`` > 1)
LOC+35+DE'                                  ``country_of_dispatch`` (exportation country)
LOC+28+US'                                  ``country_of_destination``
DTM+137:CCYYMMDDHHMM:203'                   ``prepared_at`` (document date, UTC)
MEA+WT+G+KGM:n'                             ``gross_weight_kg``
MEA+WT+AAL+KGM:n'                           ``net_weight_kg``
RFF+ABE:reference::version'                 (segment group 1) declarant's reference with
                                            its version in C506/4000 (reference version
                                            number): the version travels in both
                                            directions this way
RFF+DQ:transfer'                            ``transfer`` (delivery note number), if any
RFF+VN:order' / RFF+ON:order'               ``order``: the sale order (vendor order
                                            number) of an export, the purchase order
                                            (order number) of an import, if any
TDT+11++3'                                  (group 4) ``transport_mode`` at the border,
                                            8067: 1 sea, 2 rail, 3 road, 4 air, 5 post
                                            (omitted if none)
NAD+EX+eori::ZZZ++name+street+city++zip+CC' (group 6) ``exporter``: C082 EORI (mutually
                                            defined code list ZZZ; empty without EORI),
                                            C080 name in up to 5 x 35 characters (cut at
                                            spaces), C059 street in up to 4 x 35, 3164
                                            city, 3251 postcode, 3207 ``country_code``
NAD+IM+...' / NAD+DT+...'                   ``importer`` / ``declarant`` (if any), same
                                            layout
TOD+6++FCA'                                 (group 7) ``incoterm.code`` (4055 6 =
                                            delivery condition)
LOC+1+:::place'                             ``incoterm.place`` (place of delivery terms)
MOA+39:total:USD'                           (group 8) ``total_value`` (invoice total)
CUX+2:USD:9++rate'                          (group 9, of that amount) ``currency``; 5402
                                            ``exchange_rate`` (company currency units per
                                            unit of it), if any
UNS+D'                                      start of the goods items
CST+line+hs_code:169'                       (group 30) one goods item per line: 1496
                                            ``line``; C246/7361 ``hs_code``, 1131 ``169``
                                            Harmonized system
FTX+AAA+++text:text...'                     ``description`` (goods description), 5 x 70
                                            characters per FTX cut at spaces, repeated
                                            while needed
LOC+27+CN'                                  ``origin`` (country of origin)
MEA+WT+AAL+KGM:n' / MEA+WT+G+KGM:n'         line ``net_weight_kg`` / ``gross_weight_kg``
MEA+AAR++PCE:quantity'                      ``quantity`` (6311 AAR 1st specified tariff
                                            quantity) in the UN/ECE Rec. 20 code of
                                            ``uom`` (Units -> PCE, kg -> KGM, L -> LTR...;
                                            a code of up to 3 letters passes as is; C62
                                            "one" when unknown)
MOA+38:value:USD'                           (group 33) line ``value`` (invoice item
                                            amount)
UNS+S'                                      end of the goods items
CNT+11:packages'                            ``packages`` (total number of packages)
CNT+5:items'                                number of goods items (customs item lines)
==========================================  ==============================================

CUSDEC cancellation profile (the suite's ``customs.cancel``)
------------------------------------------------------------

A declaration sent and then withdrawn by the declarant: one CUSDEC whose BGM message
function is ``1`` (cancellation), in an interchange of its own.

==========================================  ==============================================
Segment                                     Canonical ``customs.cancel`` field
==========================================  ==============================================
BGM+830+reference+1'                        1001 ``830`` export / ``929`` import
                                            (``direction``); 1004 ``reference``; 1225 ``1``
                                            cancellation
DTM+137:CCYYMMDDHHMM:203'                   ``prepared_at`` (document date, UTC)
FTX+ACB+++text:text...'                     ``reason`` (5 x 70 characters per FTX, repeated
                                            while needed)
RFF+ABE:reference::version'                 ``reference`` and the last ``version`` sent
RFF+AAE:mrn'                                ``broker_reference`` (goods declaration
                                            number: the MRN or entry number), if any
UNS+D' UNS+S'                               the section controls the segment table makes
                                            mandatory, no goods item between them
==========================================  ==============================================

CUSRES profile (the suite's customs response)
---------------------------------------------

The UN/EDIFACT D.96B CUSRES (``tests/conformance/edifact_customs/unece_d96b/CUSRES_D.96B``,
segment table 4.3.1). An interchange may hold several CUSRES messages; each is one
canonical ``customs.status``.

==========================================  ==============================================
Segment                                     Canonical ``customs.status`` field
==========================================  ==============================================
BGM+962+reference+11'                       mandatory. C002/1001 document name and 1225
                                            message function go to ``codes``; C106/1004 is
                                            "the reference number of the message to which
                                            the CUSRES is a response" (directory, 0020):
                                            our CUSDEC's, the ``reference``, when no
                                            RFF+ABE says it
DTM+137:CCYYMMDDHHMM:203'                   ``event_time`` (UTC; formats 203, 204
                                            CCYYMMDDHHMMSS and 102 CCYYMMDD accepted)
FTX+ACB+++text:text...'                     ``reason`` (additional information), repeated
                                            FTX+ACB are joined
GIS+4'  GIS+1:120:ZZZ'                      each GIS of the message header (position 0070;
                                            not the payment method GIS of segment group 5
                                            nor a goods item's) goes to ``codes``: C529/
                                            7365 processing indicator with its 3055 agency
RFF+ABE:reference::version'                 ``reference`` (declarant's reference) and
                                            ``version`` (C506/4000); the first counts
RFF+ABT:mrn' (or RFF+AAE:mrn')              ``broker_reference``: customs declaration
                                            number (goods declaration number), the MRN or
                                            entry number
ERP+1' or ERP+2'                            starts one of ``errors``: 1 = on the
                                            declaration, 2 = on a goods item
RFF+LI:item'                                (after ERP) ``pointer`` = ``/lines/<item-1>``:
                                            goods items are the declaration's ``line``
                                            numbers, 1, 2, 3... in order
ERC+code::ZZZ'                              (after ERP) error ``code``
FTX+AAO+++text:text...'                     (after ERP) error ``text`` (error description)
TAX+5+CUD' / TAX+7+VAT' / TAX+7+EXC' /      starts one of ``duties``: ``duty`` (customs
TAX+6+OTH'; TAX+1|3+CUD|VAT|EXC'            duty), ``vat``, ``excise``, ``fee``; 5283 2, 4,
                                            9 and 5153 TOT (totals of all, information) are
                                            not duties; a goods item's duties (after CST,
                                            segment group 11) are added up per type only
                                            when the message gives no declaration's
MOA+161:amount:EUR'                         (after TAX, mandatory) ``amount`` and
                                            ``currency`` (duty/tax/fee amount)
DOC+code::ZZZ:name'                         one of ``documents_requested``: ``code`` (e.g.
                                            N954, mutually defined list; ``ZZZ`` = none),
                                            ``name`` in C002/1000 when it fits in 35
                                            characters, else in the following
FTX+DOC+++text:text...'                     (after DOC) document ``name``
==========================================  ==============================================

``status`` is what ``codes`` say under a status mapping (:func:`resolve_status`): the
backend's (``logistics.customs.status.map``) or :data:`DEFAULT_STATUS_MAP`, the D.96B code
lists (UNCL 7365: 1 accepted, 2/3 rejected, 4 released, 5 inspection, 6 documents
required, 7 detained = inspection, 8 released under transfer, 9 accepted awaiting arrival,
14 error = rejected, 17 received = submitted...; 1001: 932 delivery note = released, 963
error response = rejected; 1225: 1 cancellation, 27 not accepted, 29/44 accepted) and the
first profile's mutually defined GIS codes (agency ZZZ: ``SUB``, ``ACC``, ``DOC``,
``INS``, ``REL``, ``REJ``, ``CAN``), with which the MRN travelled in BGM 1004 (still read
so). An agency other than none or 6 (UN/ECE) is another list: ``GIS+1:120:ZZZ`` is not UN
code 1. Several statuses: the first of :data:`STATUS_PRECEDENCE`. A code the mapping does
not know, or codes that say no status: ``status`` None, the codes kept for the backend to
read when the message is processed (and again on Retry).

Other segments (NAD, LOC, TDT, CNT...) are ignored; ``codes``, ``errors``,
``documents_requested`` and ``duties`` are always present (possibly empty), absent values
are None. Amounts accept ``.`` or ``,`` as decimal mark.

Errors
------

Everything that cannot be read raises :class:`EdifactError`, never a partial result:
text pydifact cannot tokenize (its detail kept), a broken envelope (no UNB/UNZ, UNZ or UNT
counts and references that do not match), a message that is not a CUSRES, a missing BGM,
declaration reference (RFF+ABE or BGM 1004) or status code (no GIS, BGM 1001 or 1225 at
all), an unknown duty type or date format, a
non-numeric amount or version. ``position`` is the 1-based index of the segment in the
interchange, UNB being segment 1 (UNA is a service string advice, not a segment, and is
not counted); for a missing segment, ``segment`` names the missing tag and ``position`` is
the UNH of the message lacking it.
"""

import datetime as dt
import re
import textwrap
import unicodedata
from decimal import Decimal

from pydifact.control import Characters
from pydifact.exceptions import EDISyntaxError, ValidationError
from pydifact.parser import Parser
from pydifact.segmentcollection import Interchange, Message
from pydifact.segments import Segment, SegmentFactory

from odoo.addons.logistics_integration_base.formats.common import format_number, to_decimal

__all__ = [
    "CUSDEC",
    "CUSRES",
    "DEFAULT_STATUS_MAP",
    "DUTY_TYPES",
    "STATUS_SOURCES",
    "STATUS_CODES",
    "TRANSPORT_MODES",
    "EdifactError",
    "build_cusdec",
    "build_cusdec_cancellation",
    "interchange_reference",
    "interchange_sender",
    "describe_code",
    "parse_cusres",
    "resolve_status",
    "status_key",
]

UTC = dt.timezone.utc

SYNTAX = ("UNOC", 3)
#: UNA:+.? ' -- ISO 9735 default separators with the full stop as decimal mark
CHARACTERS = Characters(decimal_point=".")
PARTY_QUALIFIER = "ZZ"
CUSDEC = ("CUSDEC", "D", "96B", "UN")
CUSRES = ("CUSRES", "D", "96B", "UN")

DOCUMENT_CODES = {"export": "830", "import": "929"}
#: CST C246/1131: 169 Harmonized system; MEA 6311: AAR 1st specified tariff quantity
HS_CODE_LIST, QUANTITY, NO_UNIT = "169", "AAR", "C62"
ORIGINAL, REPLACEMENT, CANCELLATION = "9", "5", "1"
#: canonical transport mode -> UN/EDIFACT 8067 mode of transport
TRANSPORT_MODES = {"sea": "1", "rail": "2", "road": "3", "air": "4", "post": "5"}
#: canonical status -> GIS 7365 processing indicator (mutually defined, agency ZZZ)
STATUS_CODES = {
    "submitted": "SUB",
    "accepted": "ACC",
    "documents_required": "DOC",
    "inspection": "INS",
    "released": "REL",
    "rejected": "REJ",
    "cancelled": "CAN",
}
#: where a CUSRES says what became of a declaration, as read into ``codes``
STATUS_SOURCES = {
    "bgm_document": "BGM document name (1001)",
    "bgm_function": "BGM message function (1225)",
    "gis": "GIS processing indicator (7365)",
}
#: agencies (3055) of the UN/EDIFACT code lists themselves: none given, or 6 (UN/ECE)
UN_AGENCIES = ("", "6")
#: The default status mapping: the UN/EDIFACT D.96B code lists (UNCL 1001, 1225, 7365, in
#: ``tests/conformance/edifact_customs/``) as CUSRES_D.96B uses them, and the suite's former
#: mutually defined GIS codes (agency ZZZ). ``(source, code, agency, status, name)``;
#: agency "" = the UN/EDIFACT list; status None = the code says no status by itself.
DEFAULT_STATUS_MAP = (
    ("gis", "1", "", "accepted", "Message content accepted"),
    ("gis", "2", "", "rejected", "Message content rejected with comment"),
    ("gis", "3", "", "rejected", "Message content rejected without comment"),
    ("gis", "4", "", "released", "Goods released"),
    ("gis", "5", "", "inspection", "Goods required for examination"),
    ("gis", "6", "", "documents_required", "All documents or as specified to be produced"),
    ("gis", "7", "", "inspection", "Goods detained"),
    ("gis", "8", "", "released", "Goods may move under Customs transfer"),
    ("gis", "9", "", "accepted", "Declaration accepted awaiting goods arrival"),
    ("gis", "14", "", "rejected", "Error message"),
    ("gis", "15", "", "accepted", "Response after correction, correction approved"),
    ("gis", "16", "", "rejected", "Response after correction, correction non approved"),
    ("gis", "17", "", "submitted", "Message received"),
    ("gis", "19", "", None, "Bulk goods"),
    ("gis", "22", "", None, "Export"),
    ("gis", "23", "", None, "Import"),
    ("gis", "24", "", None, "Transit"),
    ("gis", "32", "", "accepted", "Transaction accepted"),
    ("gis", "33", "", "rejected", "Transaction rejected"),
    ("gis", "34", "", "submitted", "Transaction awaiting processing"),
    ("gis", "36", "", None, "Changed information"),
    ("gis", "37", "", None, "Complete information"),
    ("bgm_document", "932", "", "released", "Customs delivery note"),
    ("bgm_document", "961", "", None, "General response (Customs)"),
    ("bgm_document", "962", "", None, "Document response (Customs)"),
    ("bgm_document", "963", "", "rejected", "Error response (Customs)"),
    ("bgm_document", "964", "", None, "Package response (Customs)"),
    ("bgm_document", "965", "", None, "Tax calculation/confirmation response (Customs)"),
    ("bgm_function", "1", "", "cancelled", "Cancellation"),
    ("bgm_function", "9", "", None, "Original"),
    ("bgm_function", "11", "", None, "Response"),
    ("bgm_function", "27", "", "rejected", "Not accepted"),
    ("bgm_function", "29", "", "accepted", "Accepted without amendment"),
    ("bgm_function", "44", "", "accepted", "Accepted without reserves"),
    # the suite's first profile: mutually defined processing indicators (agency ZZZ)
    ("gis", "SUB", "ZZZ", "submitted", "Submitted (mutually defined)"),
    ("gis", "ACC", "ZZZ", "accepted", "Accepted (mutually defined)"),
    ("gis", "DOC", "ZZZ", "documents_required", "Documents required (mutually defined)"),
    ("gis", "INS", "ZZZ", "inspection", "Inspection (mutually defined)"),
    ("gis", "REL", "ZZZ", "released", "Released (mutually defined)"),
    ("gis", "REJ", "ZZZ", "rejected", "Rejected (mutually defined)"),
    ("gis", "CAN", "ZZZ", "cancelled", "Cancelled (mutually defined)"),
)
#: several codes of one message saying different things: the first of these wins (a
#: cancellation or a rejection over anything, a hold over a release, news over receipt)
STATUS_PRECEDENCE = (
    "cancelled",
    "rejected",
    "inspection",
    "documents_required",
    "released",
    "accepted",
    "submitted",
)
#: canonical duty type -> TAX 5283 function qualifier, C241/5153 type
DUTY_TYPES = {
    "duty": ("5", "CUD"),
    "vat": ("7", "VAT"),
    "excise": ("7", "EXC"),
    "fee": ("6", "OTH"),
}
#: Units of measure (names as Odoo spells them, lower case) -> UN/ECE Recommendation 20
UNIT_CODES = {
    "units": "PCE",
    "unit": "PCE",
    "unit(s)": "PCE",
    "pce": "PCE",
    "pcs": "PCE",
    "piece": "PCE",
    "pieces": "PCE",
    "dozens": "DZN",
    "dozen": "DZN",
    "kg": "KGM",
    "g": "GRM",
    "t": "TNE",
    "lb": "LBR",
    "lbs": "LBR",
    "oz": "ONZ",
    "l": "LTR",
    "ml": "MLT",
    "m³": "MTQ",
    "m3": "MTQ",
    "gal (us)": "GLL",
    "m": "MTR",
    "cm": "CMT",
    "mm": "MMT",
    "km": "KMT",
    "m²": "MTK",
    "m2": "MTK",
    "ft": "FOT",
    "in": "INH",
    "hours": "HUR",
    "days": "DAY",
}

_NAME_WIDTH, _NAME_PARTS = 35, 5  # C080 party name
_STREET_WIDTH, _STREET_PARTS = 35, 4  # C059 street
_TEXT_WIDTH, _TEXT_PARTS = 70, 5  # C108 free text
_TRANSLITERATION = {
    "Ł": "L",
    "ł": "l",
    "Đ": "D",
    "đ": "d",
    "Ħ": "H",
    "ħ": "h",
    "ı": "i",
    "Œ": "OE",
    "œ": "oe",
    "€": "EUR",
    "‘": "'",
    "’": "'",
    "‚": ",",
    "“": '"',
    "”": '"',
    "„": '"',
    "–": "-",
    "—": "-",
    "…": "...",
}
#: D.96B 5283: 2 and 4 are totals of all duties, 9 tax information (not read as duties);
#: 1 (per item) and 3 (per type, declaration) carry one type, read by its 5153 code
_TAX_TOTALS = ("2", "4", "9")
_TAX_FUNCTIONS = ("1", "3", "5", "7")
_TAX_TYPES = {"CUD": "duty", "VAT": "vat", "EXC": "excise"}
_TAG = re.compile(r"^[A-Z0-9]{3}$")
_NUMBER = re.compile(r"^-?(?:\d+(?:[.,]\d*)?|[.,]\d+)$")
_DATE_FORMATS = {"102": "%Y%m%d", "203": "%Y%m%d%H%M", "204": "%Y%m%d%H%M%S"}
_CODECS = {
    "UNOA": "latin-1",
    "UNOB": "latin-1",
    "UNOC": "latin-1",
    "UNOD": "iso8859-2",
    "UNOE": "iso8859-5",
    "UNOF": "iso8859-7",
    "UNOW": "utf-8",
    "UNOY": "utf-8",
}


class EdifactError(ValueError):
    """An interchange that cannot be built or read. ``segment``: the tag concerned (or
    None), ``position``: its 1-based index in the interchange, UNB = 1 (or None)."""

    def __init__(self, message, segment=None, position=None):
        super().__init__(message)
        self.segment = segment
        self.position = position

    def __reduce__(self):
        return type(self), (str(self), self.segment, self.position)


def _error(kind, detail, segment=None, position=None):
    if segment and position:
        where = f"{kind} segment {segment} (segment {position})"
    elif segment:
        where = f"{kind} segment {segment}"
    elif position:
        where = f"{kind} (segment {position})"
    else:
        where = kind
    return EdifactError(f"{where}: {detail}", segment=segment, position=position)


# building ----------------------------------------------------------------------------------
def _text(value):
    """Text for a UNOC (ISO 8859-1) interchange: transliterated, no control characters."""
    out = []
    for char in str(value):
        if unicodedata.category(char).startswith("C"):
            out.append(" ")
            continue
        if ord(char) < 256:
            out.append(char)
            continue
        replacement = _TRANSLITERATION.get(char)
        if replacement is None:
            decomposed = unicodedata.normalize("NFKD", char)
            replacement = "".join(
                c for c in decomposed if ord(c) < 256 and not unicodedata.combining(c)
            )
        out.append(replacement or "?")
    return "".join(out)


def _wrap(value, width, parts=None):
    """Text cut at spaces into pieces of at most ``width`` characters (all of them, or the
    first ``parts``)."""
    pieces = textwrap.wrap(_text(value), width, break_long_words=True, break_on_hyphens=False)
    return pieces[:parts] if parts else pieces


def _number(value, what, segment):
    """Canonical number -> its shortest plain text; a CUSDEC error on ``segment`` for
    anything that is not a finite number."""
    number = to_decimal(value, what, error=lambda detail: _error("CUSDEC", detail, segment))
    return format_number(number)


def _need(mapping, key, what, segment):
    value = mapping.get(key) if isinstance(mapping, dict) else None
    if value is None or value == "":
        raise _error("CUSDEC", f"{what} is missing", segment)
    return value


def _utc(moment, what="prepared_at"):
    if not isinstance(moment, dt.datetime):
        raise _error("CUSDEC", f"{what} must be a datetime, got {moment!r}", "UNB")
    if moment.tzinfo is None:
        return moment.replace(tzinfo=UTC)
    return moment.astimezone(UTC)


def _element(value):
    if value is None:
        return ""
    if isinstance(value, (list, tuple)):
        parts = ["" if v is None else str(v) for v in value]
        while parts and parts[-1] == "":
            parts.pop()
        if not parts:
            return ""
        return parts if len(parts) > 1 else parts[0]
    return str(value)


def _segment(tag, *elements):
    """pydifact Segment without trailing empty elements or components."""
    values = [_element(e) for e in elements]
    while values and values[-1] == "":
        values.pop()
    return Segment(tag, *values)


def _unit_code(uom):
    if not uom:
        return None
    name = str(uom).strip()
    code = UNIT_CODES.get(name.lower())
    if code:
        return code
    if re.fullmatch(r"[A-Za-z0-9]{1,3}", name):
        return name.upper()
    return None


def _party(qualifier, party, what):
    name = _need(party, "name", f"{what}.name", "NAD")
    country = _need(party, "country_code", f"{what}.country_code", "NAD")
    eori = party.get("eori")
    return _segment(
        "NAD",
        qualifier,
        [_text(eori), "", "ZZZ"] if eori else "",
        "",
        _wrap(name, _NAME_WIDTH, _NAME_PARTS),
        _wrap(party.get("street") or "", _STREET_WIDTH, _STREET_PARTS),
        _text(party.get("city") or ""),
        "",
        _text(party.get("zip") or ""),
        _text(country),
    )


def _free_text(qualifier, text):
    """FTX segments carrying ``text`` (5 x 70 characters each)."""
    pieces = _wrap(text, _TEXT_WIDTH)
    return [
        _segment("FTX", qualifier, "", "", pieces[i : i + _TEXT_PARTS])
        for i in range(0, len(pieces), _TEXT_PARTS)
    ]


def _check_envelope(interchange_ref, sender, recipient):
    for value, what in ((interchange_ref, "interchange reference"), (sender, "sender")):
        if not value or not str(value).strip():
            raise _error("CUSDEC", f"the {what} is missing", "UNB")
    if not recipient or not str(recipient).strip():
        raise _error("CUSDEC", "the recipient is missing", "UNB")
    if len(str(interchange_ref)) > 14:
        raise _error(
            "CUSDEC",
            f"the interchange control reference {interchange_ref!r} is longer than 14 characters",
            "UNB",
        )
    for value, what in ((sender, "sender"), (recipient, "recipient")):
        if len(str(value)) > 35:
            raise _error("CUSDEC", f"the {what} id {value!r} is longer than 35 characters", "UNB")


def _interchange(segments, interchange_ref, sender, recipient, prepared):
    """One interchange holding one CUSDEC message made of ``segments``."""
    message = Message("1", CUSDEC, characters=CHARACTERS)
    message.add_segments(segments)
    interchange = Interchange(
        sender=[_text(sender), PARTY_QUALIFIER],
        recipient=[_text(recipient), PARTY_QUALIFIER],
        control_reference=_text(interchange_ref),
        syntax_identifier=SYNTAX,
        timestamp=prepared,
        characters=CHARACTERS,
    )
    interchange.has_una_segment = True
    interchange.add_message(message)
    return interchange.serialize()


def build_cusdec_cancellation(payload, interchange_ref, sender, recipient, prepared_at):
    """Canonical ``customs.cancel`` -> one UN/EDIFACT interchange holding one CUSDEC
    D:96B message of function 1, cancellation (the suite's cancellation profile, see the
    module docstring). Raises :class:`EdifactError` for a value it cannot write."""
    if not isinstance(payload, dict):
        raise _error("CUSDEC", "the cancellation must be a dict (canonical payload)")
    _check_envelope(interchange_ref, sender, recipient)
    prepared = _utc(prepared_at)
    reference = str(_need(payload, "reference", "reference", "BGM"))
    version = payload.get("version")
    if isinstance(version, bool) or not isinstance(version, int) or version < 1:
        raise _error("CUSDEC", f"version must be a whole number >= 1, got {version!r}", "RFF")
    direction = payload.get("direction")
    if direction not in DOCUMENT_CODES:
        raise _error("CUSDEC", f"direction must be 'export' or 'import', got {direction!r}", "BGM")
    reason = str(_need(payload, "reason", "reason", "FTX"))
    segments = [
        _segment("BGM", DOCUMENT_CODES[direction], _text(reference), CANCELLATION),
        _segment("DTM", ["137", f"{prepared:%Y%m%d%H%M}", "203"]),
        *_free_text("ACB", reason),
        _segment("RFF", ["ABE", _text(reference), "", str(version)]),
    ]
    if payload.get("broker_reference"):
        segments.append(_segment("RFF", ["AAE", _text(payload["broker_reference"])]))
    # the D.96B segment table makes both section controls mandatory: no goods item between
    segments += [_segment("UNS", "D"), _segment("UNS", "S")]
    return _interchange(segments, interchange_ref, sender, recipient, prepared)


def build_cusdec(payload, interchange_ref, sender, recipient, prepared_at):
    """Canonical ``customs.declaration`` -> one UN/EDIFACT interchange holding one CUSDEC
    D:96B message (the suite's CUSDEC profile, see the module docstring). Raises
    :class:`EdifactError` for a payload or envelope value it cannot write."""
    if not isinstance(payload, dict):
        raise _error("CUSDEC", "the declaration must be a dict (canonical payload)")
    _check_envelope(interchange_ref, sender, recipient)
    prepared = _utc(prepared_at)

    reference = str(_need(payload, "reference", "reference", "BGM"))
    version = payload.get("version")
    if isinstance(version, bool) or not isinstance(version, int) or version < 1:
        raise _error("CUSDEC", f"version must be a whole number >= 1, got {version!r}", "BGM")
    direction = payload.get("direction")
    if direction not in DOCUMENT_CODES:
        raise _error("CUSDEC", f"direction must be 'export' or 'import', got {direction!r}", "BGM")
    currency = str(_need(payload, "currency", "currency", "CUX"))
    lines = payload.get("lines")
    if not isinstance(lines, list) or not lines:
        raise _error("CUSDEC", "the declaration has no lines", "CST")

    segments = [
        _segment(
            "BGM",
            DOCUMENT_CODES[direction],
            _text(reference),
            ORIGINAL if version == 1 else REPLACEMENT,
        ),
        _segment("LOC", "35", _need(payload, "country_of_dispatch", "country_of_dispatch", "LOC")),
        _segment(
            "LOC",
            "28",
            _need(payload, "country_of_destination", "country_of_destination", "LOC"),
        ),
        _segment("DTM", ["137", f"{prepared:%Y%m%d%H%M}", "203"]),
        _segment(
            "MEA",
            "WT",
            "G",
            ["KGM", _number(payload.get("gross_weight_kg"), "gross_weight_kg", "MEA")],
        ),
        _segment(
            "MEA",
            "WT",
            "AAL",
            ["KGM", _number(payload.get("net_weight_kg"), "net_weight_kg", "MEA")],
        ),
        _segment("RFF", ["ABE", _text(reference), "", str(version)]),
    ]
    if payload.get("transfer"):
        segments.append(_segment("RFF", ["DQ", _text(payload["transfer"])]))
    if payload.get("order"):
        qualifier = "VN" if direction == "export" else "ON"
        segments.append(_segment("RFF", [qualifier, _text(payload["order"])]))
    # segment group 4 (TDT), 6 (NAD), 7 (TOD-LOC), 8 (MOA, its CUX in group 9): the
    # order of the D.96B segment table
    mode = payload.get("transport_mode")
    if mode:
        if mode not in TRANSPORT_MODES:
            raise _error("CUSDEC", f"unknown transport_mode {mode!r}", "TDT")
        segments.append(_segment("TDT", "11", "", TRANSPORT_MODES[mode]))
    segments.append(_party("EX", _need(payload, "exporter", "exporter", "NAD"), "exporter"))
    segments.append(_party("IM", _need(payload, "importer", "importer", "NAD"), "importer"))
    if payload.get("declarant"):
        segments.append(_party("DT", payload["declarant"], "declarant"))
    incoterm = payload.get("incoterm")
    if incoterm:
        segments.append(
            _segment("TOD", "6", "", _text(_need(incoterm, "code", "incoterm.code", "TOD")))
        )
        if incoterm.get("place"):
            segments.append(_segment("LOC", "1", ["", "", "", _text(incoterm["place"])]))
    segments.append(
        _segment(
            "MOA",
            ["39", _number(payload.get("total_value"), "total_value", "MOA"), _text(currency)],
        )
    )
    rate = payload.get("exchange_rate")
    segments.append(
        _segment(
            "CUX",
            ["2", _text(currency), "9"],
            "",
            _number(rate, "exchange_rate", "CUX") if rate is not None else "",
        )
    )
    segments.append(_segment("UNS", "D"))
    for index, line in enumerate(lines):
        what = f"lines[{index}]"
        if not isinstance(line, dict):
            raise _error("CUSDEC", f"{what} must be a dict", "CST")
        number = line.get("line")
        if isinstance(number, bool) or not isinstance(number, int) or number < 1:
            raise _error("CUSDEC", f"{what}.line must be a whole number >= 1", "CST")
        # segment group 30: CST C246 customs identity code, 1131 169 = Harmonized system
        hs_code = _text(_need(line, "hs_code", f"{what}.hs_code", "CST"))
        segments.append(_segment("CST", str(number), [hs_code, HS_CODE_LIST]))
        segments += _free_text("AAA", _need(line, "description", f"{what}.description", "FTX"))
        segments.append(_segment("LOC", "27", _need(line, "origin", f"{what}.origin", "LOC")))
        quantity = _number(line.get("quantity"), f"{what}.quantity", "MEA")
        segments.append(
            _segment(
                "MEA",
                "WT",
                "AAL",
                ["KGM", _number(line.get("net_weight_kg"), f"{what}.net_weight_kg", "MEA")],
            )
        )
        segments.append(
            _segment(
                "MEA",
                "WT",
                "G",
                [
                    "KGM",
                    _number(line.get("gross_weight_kg"), f"{what}.gross_weight_kg", "MEA"),
                ],
            )
        )
        # 6311 AAR 1st specified tariff quantity, in the line's unit (C62 "one" when
        # it has no UN/ECE Recommendation 20 code)
        segments.append(
            _segment("MEA", QUANTITY, "", [_unit_code(line.get("uom")) or NO_UNIT, quantity])
        )
        segments.append(
            _segment(
                "MOA",
                ["38", _number(line.get("value"), f"{what}.value", "MOA"), _text(currency)],
            )
        )
    segments.append(_segment("UNS", "S"))
    packages = payload.get("packages")
    if isinstance(packages, bool) or not isinstance(packages, int) or packages < 1:
        raise _error("CUSDEC", f"packages must be a whole number >= 1, got {packages!r}", "CNT")
    segments.append(_segment("CNT", ["11", str(packages)]))
    segments.append(_segment("CNT", ["5", str(len(lines))]))
    return _interchange(segments, interchange_ref, sender, recipient, prepared)


# reading -----------------------------------------------------------------------------------
class _SegmentFactory(SegmentFactory):
    """pydifact's factory without its directory validation (it has no D:96B directory and
    warns for every service segment)."""

    @staticmethod
    def create_segment(name, *elements, validate=True, version="4", directory=""):
        if not isinstance(name, str) or not _TAG.match(name):
            shown = name if isinstance(name, str) else ":".join(name)
            shown = shown if len(shown) <= 20 else shown[:17] + "..."
            raise EDISyntaxError(f"{shown!r} is not a segment tag (three capital letters)")
        if not elements:  # a bare tag: pydifact would warn
            segment = SegmentFactory.create_segment(name, "", validate=False)
            segment.elements = []
            return segment
        return SegmentFactory.create_segment(
            name, *elements, validate=False, version=version, directory=directory
        )


def _decode(data):
    if isinstance(data, str):
        return data
    if not isinstance(data, (bytes, bytearray)):
        raise _error("EDIFACT interchange", f"text or bytes expected, got {type(data).__name__}")
    data = bytes(data)
    if data.startswith(b"\xef\xbb\xbf"):
        return _decode_as(data[3:], "utf-8", "UTF-8 (byte order mark)")
    head = data.lstrip()[:200]
    separator = head[4:5] if head[:3] == b"UNA" and len(head) > 4 else b"+"
    match = re.search(b"UNB" + re.escape(separator) + b"(UNO[A-Z])", head)
    if match and match.group(1).decode() in _CODECS:
        syntax = match.group(1).decode()
        return _decode_as(data, _CODECS[syntax], f"{syntax} (UNB)")
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError:
        return data.decode("latin-1")


def _decode_as(data, codec, what):
    try:
        return data.decode(codec)
    except UnicodeDecodeError as exc:
        raise _error(
            "EDIFACT interchange",
            f"the content is not valid {what}: byte {exc.start + 1} cannot be read",
            "UNB",
            1,
        ) from None


def _read_segments(text):
    """[(position, Segment)] of an interchange, UNB = 1 (UNA not counted)."""
    segments = []
    try:
        for segment in Parser(factory=_SegmentFactory()).parse(text):
            if segment.tag != "UNA":
                segments.append((len(segments) + 1, segment))
    except (EDISyntaxError, ValidationError, ValueError, TypeError, IndexError) as exc:
        position = len(segments) + 1
        after = f" after the {segments[-1][1].tag} segment" if segments else ""
        raise _error(
            "EDIFACT interchange",
            f"unreadable{after}: {exc}",
            None,
            position,
        ) from exc
    return segments


def _el(segment, index, component=None):
    """Element ``index`` of a segment (a component of it when ``component`` is given);
    '' when absent."""
    value = segment[index] if index < len(segment.elements) else None
    if value is None:
        return ""
    if component is None:
        return value[0] if isinstance(value, list) else value
    if isinstance(value, list):
        return value[component] if component < len(value) else ""
    return value if component == 0 else ""


def _components(segment, index):
    value = segment[index] if index < len(segment.elements) else None
    if value is None or value == "":
        return []
    return value if isinstance(value, list) else [value]


def _joined(pieces):
    text = " ".join(p.strip() for p in pieces if p and p.strip())
    return text or None


def _amount(text, kind, segment, position, what):
    value = (text or "").strip()
    if not _NUMBER.match(value):
        raise _error(kind, f"{what} {value!r} is not a number", segment, position)
    return float(Decimal(value.replace(",", ".")))


def _envelope(segments):
    """Check UNB/UNZ and split into messages: [(UNH position, [(position, segment)])]."""
    first_position, unb = segments[0]
    if unb.tag != "UNB":
        raise _error(
            "EDIFACT interchange",
            f"an interchange begins with UNB, not {unb.tag}",
            unb.tag,
            first_position,
        )
    reference = _el(unb, 4)
    last_position, unz = segments[-1]
    if unz.tag != "UNZ" or len(segments) < 2:
        raise _error(
            "EDIFACT interchange",
            f"the interchange ends with {unz.tag}, not UNZ: the file is incomplete",
            unz.tag,
            last_position,
        )
    if _el(unz, 1) != reference:
        raise _error(
            "EDIFACT interchange",
            f"UNZ control reference {_el(unz, 1)!r} is not the UNB one {reference!r}",
            "UNZ",
            last_position,
        )
    messages, current, groups = [], None, 0
    for position, segment in segments[1:-1]:
        tag = segment.tag
        if tag == "UNH":
            if current is not None:
                raise _error(
                    "EDIFACT interchange",
                    f"UNH before the UNT of message {_el(current[0][1], 0)!r}",
                    "UNH",
                    position,
                )
            current = [(position, segment)]
        elif tag == "UNT":
            if current is None:
                raise _error("EDIFACT interchange", "UNT without a UNH before it", "UNT", position)
            current.append((position, segment))
            _check_unt(current)
            messages.append(current)
            current = None
        elif tag in ("UNG", "UNE") and current is None:
            groups += tag == "UNG"
        elif current is None:
            raise _error(
                "EDIFACT interchange", "segment outside a message (UNH..UNT)", tag, position
            )
        else:
            current.append((position, segment))
    if current is not None:
        raise _error(
            "EDIFACT interchange",
            f"message {_el(current[0][1], 0)!r} has no UNT",
            "UNH",
            current[0][0],
        )
    expected = groups or len(messages)
    if _el(unz, 0).strip() != str(expected):
        raise _error(
            "EDIFACT interchange",
            f"UNZ counts {_el(unz, 0)!r} messages, the interchange holds {expected}",
            "UNZ",
            last_position,
        )
    return messages


def _check_unt(message):
    unh, (unt_position, unt) = message[0][1], message[-1]
    if _el(unt, 0).strip() != str(len(message)):
        raise _error(
            "EDIFACT interchange",
            f"UNT counts {_el(unt, 0)!r} segments, message {_el(unh, 0)!r} has {len(message)}",
            "UNT",
            unt_position,
        )
    if _el(unt, 1) != _el(unh, 0):
        raise _error(
            "EDIFACT interchange",
            f"UNT message reference {_el(unt, 1)!r} is not the UNH one {_el(unh, 0)!r}",
            "UNT",
            unt_position,
        )


def _event_time(segment, position):
    value, fmt = _el(segment, 0, 1), _el(segment, 0, 2) or "203"
    if fmt not in _DATE_FORMATS:
        raise _error(
            "CUSRES", f"date/time format {fmt!r} is not one of 102, 203, 204", "DTM", position
        )
    try:
        moment = dt.datetime.strptime(value, _DATE_FORMATS[fmt])
    except ValueError:
        raise _error(
            "CUSRES", f"{value!r} is not a date/time of format {fmt}", "DTM", position
        ) from None
    return moment.strftime("%Y-%m-%dT%H:%M:%SZ")


def status_key(source, code, agency=None):
    """The key of a status code in a mapping: agency "" for the UN/EDIFACT lists (no agency
    given, or 6 = UN/ECE)."""
    agency = (agency or "").strip()
    return (source, (code or "").strip(), "" if agency in UN_AGENCIES else agency)


def default_status_map():
    """{status_key: status or None} of :data:`DEFAULT_STATUS_MAP`."""
    return {status_key(s, c, a): status for s, c, a, status, _name in DEFAULT_STATUS_MAP}


def describe_code(code):
    """``GIS processing indicator (7365) '8' (agency ZZZ)``: a code as an operator reads it."""
    text = f"{STATUS_SOURCES.get(code['source'], code['source'])} {code['code']!r}"
    agency = (code.get("agency") or "").strip()
    return f"{text} (agency {agency})" if agency and agency not in UN_AGENCIES else text


def resolve_status(codes, status_map=None):
    """The canonical status ``codes`` (as :func:`parse_cusres` reads them) say under
    ``status_map`` ({:func:`status_key`: status, or None for a code that says no status};
    the D.96B defaults when None) -> ``(status or None, [codes the map does not know])``.
    Several statuses: the first in :data:`STATUS_PRECEDENCE`."""
    status_map = default_status_map() if status_map is None else status_map
    said, unknown = set(), []
    for code in codes or []:
        key = status_key(code["source"], code["code"], code.get("agency"))
        if key not in status_map:
            unknown.append(code)
        elif status_map[key]:
            said.add(status_map[key])
    status = next((s for s in STATUS_PRECEDENCE if s in said), None)
    return status, unknown


def _sum_duties(duties):
    """Duties of the goods items added up per type and currency, in order of appearance."""
    totals = {}
    for duty in duties:
        key = (duty["type"], duty["currency"])
        totals[key] = totals.get(key, Decimal(0)) + Decimal(str(duty["amount"]))
    return [
        {"type": kind, "amount": float(amount), "currency": currency}
        for (kind, currency), amount in totals.items()
    ]


def _parse_message(message, status_map):
    unh_position, unh = message[0]
    kind = _el(unh, 1, 0)
    if kind != "CUSRES":
        raise _error(
            "EDIFACT interchange",
            f"message {_el(unh, 0)!r} is a {kind or 'message without type'}, not a CUSRES",
            "UNH",
            unh_position,
        )
    reference = version = declaration_number = event_time = None
    bgm_number = None
    seen = set()
    codes, reasons, errors, documents, duties, item_duties = [], [], [], [], [], []
    in_items = False
    group = None  # ("error" | "doc" | "tax", dict, position of its first segment)

    def close(group):
        if group and group[0] == "tax" and "amount" not in group[1]:
            raise _error("CUSRES", "duty/tax/fee without its MOA+161 amount", "TAX", group[2])

    for position, segment in message[1:-1]:
        tag = segment.tag
        if tag == "BGM" and "BGM" not in seen:
            seen.add("BGM")
            # 1001 what the response is; 1004 the number of the message it answers (our
            # CUSDEC's, the declaration reference: C106/1004); 1225 its function
            if _el(segment, 0, 0).strip():
                codes.append(
                    {
                        "source": "bgm_document",
                        "code": _el(segment, 0, 0).strip(),
                        "agency": _el(segment, 0, 2).strip() or None,
                    }
                )
            bgm_number = _el(segment, 1, 0).strip() or None
            if _el(segment, 2).strip():
                codes.append(
                    {"source": "bgm_function", "code": _el(segment, 2).strip(), "agency": None}
                )
        elif tag == "DTM" and group is None and _el(segment, 0, 0) == "137":
            event_time = _event_time(segment, position)
        elif tag == "GIS" and group is None:
            code = _el(segment, 0, 0).strip()
            if code:
                codes.append(
                    {"source": "gis", "code": code, "agency": _el(segment, 0, 2).strip() or None}
                )
        elif tag == "RFF":
            qualifier = _el(segment, 0, 0)
            if qualifier == "ABE" and reference is None:
                reference = _el(segment, 0, 1) or None
                raw_version = _el(segment, 0, 3).strip()
                if raw_version:
                    if not raw_version.isdigit() or int(raw_version) < 1:
                        raise _error(
                            "CUSRES",
                            f"declaration version {raw_version!r} is not a whole number >= 1",
                            "RFF",
                            position,
                        )
                    version = int(raw_version)
            elif qualifier in ("ABT", "AAE") and group is None and not declaration_number:
                declaration_number = _el(segment, 0, 1).strip() or None
            elif qualifier == "LI" and group and group[0] == "error":
                item = _el(segment, 0, 1).strip()
                if not item.isdigit() or int(item) < 1:
                    raise _error(
                        "CUSRES", f"goods item number {item!r} is not a number", "RFF", position
                    )
                group[1]["pointer"] = f"/lines/{int(item) - 1}"
        elif tag == "FTX":
            qualifier, text = _el(segment, 0), _components(segment, 3)
            if qualifier == "ACB":
                reasons += text
            elif qualifier == "AAO":
                if not group or group[0] != "error":
                    close(group)
                    group = ("error", {"code": None, "text": [], "pointer": None}, position)
                    errors.append(group[1])
                group[1]["text"] += text
            elif qualifier == "DOC" and group and group[0] == "doc":
                group[1]["text"] += text
        elif tag == "ERP":
            close(group)
            group = ("error", {"code": None, "text": [], "pointer": None}, position)
            errors.append(group[1])
        elif tag == "ERC":
            if not group or group[0] != "error":
                close(group)
                group = ("error", {"code": None, "text": [], "pointer": None}, position)
                errors.append(group[1])
            group[1]["code"] = _el(segment, 0, 0) or None
        elif tag == "TAX":
            close(group)
            function, kind_code = _el(segment, 0), _el(segment, 1, 0)
            if function in _TAX_TOTALS or kind_code == "TOT":
                # a total of all duties and taxes, or tax information: not a duty of its own
                group = ("total", {}, position)
                continue
            duty_type = next(
                (name for name, codes_ in DUTY_TYPES.items() if codes_ == (function, kind_code)),
                None,
            )
            if duty_type is None and function in _TAX_FUNCTIONS:
                duty_type = _TAX_TYPES.get(kind_code)
            if duty_type is None and function == "6":
                duty_type = "fee"
            if duty_type is None:
                raise _error(
                    "CUSRES",
                    f"unknown duty/tax/fee {function}+{kind_code} (expected 5+CUD, 7+VAT, "
                    "7+EXC, 6, or a type CUD, VAT or EXC of function 1, 3, 5 or 7)",
                    "TAX",
                    position,
                )
            group = ("tax", {"type": duty_type}, position)
            (item_duties if in_items else duties).append(group[1])
        elif tag == "MOA" and group and group[0] == "tax":
            if _el(segment, 0, 0) != "161":
                continue
            group[1]["amount"] = _amount(_el(segment, 0, 1), "CUSRES", "MOA", position, "amount")
            currency = _el(segment, 0, 2).strip()
            if not re.fullmatch(r"[A-Z]{3}", currency):
                raise _error(
                    "CUSRES",
                    f"currency {currency!r} is not an ISO 4217 code",
                    "MOA",
                    position,
                )
            group[1]["currency"] = currency
        elif tag == "CST":
            # segment group 10: a goods item's customs status; its duties (segment group
            # 11) are read only when the response gives no declaration totals
            close(group)
            group, in_items = None, True
        elif tag == "DOC":
            close(group)
            code = _el(segment, 0, 0)
            document = {"code": None if code in ("", "ZZZ") else code, "name": _el(segment, 0, 3)}
            group = ("doc", {"document": document, "text": []}, position)
            documents.append(group[1])
    close(group)

    if "BGM" not in seen:
        raise _error("CUSRES", "the mandatory BGM segment is missing", "BGM", unh_position)
    if reference is None:
        # the profile's RFF+ABE, else what the directory says BGM 1004 holds: the number of
        # the message answered, our CUSDEC's BGM 1004 = the declaration reference
        reference = bgm_number
    elif bgm_number and bgm_number != reference and not declaration_number:
        # the suite's first profile: BGM 1004 = the MRN, RFF+ABE = our reference
        declaration_number = bgm_number
    if not reference:
        raise _error(
            "CUSRES",
            "the declaration reference (RFF+ABE, or BGM 1004) is missing",
            "RFF",
            unh_position,
        )
    if not codes:
        raise _error(
            "CUSRES",
            "the response says no status: no GIS processing indicator, no BGM document name "
            "or message function",
            "GIS",
            unh_position,
        )
    duties = duties or _sum_duties(item_duties)
    status, unknown = resolve_status(codes, status_map)
    if unknown:
        status = None  # read by the backend's mapping when the message is processed

    requested = []
    for entry in documents:
        document = entry["document"]
        name = _joined(entry["text"]) or document["name"] or document["code"]
        requested.append({"code": document["code"], "name": name})
    return {
        "reference": reference,
        "version": version,
        "status": status,
        "codes": codes,
        "broker_reference": declaration_number,
        "event_time": event_time,
        "reason": _joined(reasons),
        "errors": [
            {
                "code": error["code"],
                "text": _joined(error["text"]) or f"error {error['code'] or 'without text'}",
                "pointer": error["pointer"],
            }
            for error in errors
        ],
        "documents_requested": requested,
        "duties": duties,
    }


def _unb(text):
    """The UNB segment of an interchange, or None when it cannot be read."""
    try:
        segments = _read_segments(_decode(text).lstrip("\ufeff \t\r\n"))
    except (EdifactError, ValueError, TypeError):
        return None
    if not segments or segments[0][1].tag != "UNB":
        return None
    return segments[0][1]


def interchange_reference(text):
    """The UNB control reference of an interchange (str or bytes), or None when it cannot
    be read; never raises (used to label files, even broken ones)."""
    unb = _unb(text)
    return (_el(unb, 4) or None) if unb is not None else None


def interchange_sender(text):
    """The UNB sender of an interchange as ``id:qualifier`` (``BROKERSIM:ZZ``; the id
    alone without a qualifier), or None when it cannot be read; never raises. With the
    control reference it names the interchange, whatever the file is called."""
    unb = _unb(text)
    if unb is None:
        return None
    sender, qualifier = _el(unb, 1, 0).strip(), _el(unb, 1, 1).strip()
    if not sender:
        return None
    return f"{sender}:{qualifier}" if qualifier else sender


def parse_cusres(text, status_map=None):
    """UN/EDIFACT interchange (str or bytes) of CUSRES messages -> one canonical
    ``customs.status`` dict per message, in order (the suite's CUSRES profile, see the
    module docstring). ``status`` is what the message's ``codes`` say under ``status_map``
    (see :func:`resolve_status`; None when a code is unknown to it or none says a status).
    Raises :class:`EdifactError`, never returns a partial result."""
    text = _decode(text).lstrip("\ufeff \t\r\n")
    if not text:
        raise _error("EDIFACT interchange", "the file is empty")
    segments = _read_segments(text)
    if not segments:
        raise _error("EDIFACT interchange", "no segment found", None, 1)
    return [_parse_message(message, status_map) for message in _envelope(segments)]
