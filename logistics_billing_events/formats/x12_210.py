"""210 Motor Carrier Freight Details and Invoice (``freight.invoice``), functional group IM:
a carrier's invoice for one shipment, read into the canonical freight invoice.

Pure Python, no ORM, on top of the base's X12 layer
(``logistics_integration_base.formats.x12``: envelope, segment reader, errors). The carrier's
side is written by the simulator in the repository's
``tests/logistics_simulators/freight_invoices.py``. ``readme/FORMATS.md`` has a full example.

Profile: **one transaction set = one invoice = one shipment** (what motor carriers send: a
freight bill per PRO number). An interchange may carry many sets, hence many invoices. Inside
the set, LX loops are the line items of that shipment: lading lines (L0 weight, L1 line haul)
and accessorials (L1 with a special charge code), one or several L1 per LX.

======================================  ==========================================================
Segment                                 Canonical field
======================================  ==========================================================
B3*_*inv*pro*PP*unit*date*due****SCAC   B302 ``invoice_number``; B303 shipment identification
                                        (the PRO number): ``pro_number`` of the invoice and, without
                                        an N9*CN, of the shipment; B304 method of payment ->
                                        ``payment_method`` (PP/PC/PO/PA prepaid, CC/CA collect,
                                        TP third_party, any other code: other); B305 weight unit
                                        for L0/L3 without their own; B306 ``invoice_date``
                                        (CCYYMMDD, or YYMMDD as older versions write it); B307
                                        net amount due (N2: cents); B311 SCAC ->
                                        ``partner.code``
C3*USD                                  C301 ``currency`` (ISO 4217; no C3: USD)
N9*SI*ref                               shipper's identifying number: ``shipment_ref`` (our
                                        delivery or order reference)
N9*BM*ref                               ``bill_of_lading``; also ``shipment_ref`` without N9*SI
N9*PO*ref                               ``po_number``
N9*CN*ref                               carrier's reference (PRO): shipment ``pro_number``
N9*2I*ref                               ``tracking_number``
N1*SH / N1*CN / N1*BT (+ N3, N4)        ``shipper`` / ``consignee`` (N1*SF, N1*ST as fallbacks) /
                                        ``bill_to`` (N1*PR, the payer, as fallback): N102 name,
                                        N104 code (account number), N301-2 street, N401-4 city,
                                        state, zip, country
N1*CA or N1*RE                          N102 ``partner.name`` (carrier, remit-to)
LX*n                                    a line item of the shipment
L0*n***weight*B*****L                   L004 weight, L005 qualifier (B billed, G gross, N net),
                                        L011 unit (L pounds, K kilograms; G grams, O ounces, E
                                        metric, S short and T long tons): ``weight_kg`` = sum of
                                        the billed (B) weights; when none is billed, the L3
                                        total weight, else the sum of all L0 weights
L1*n*rate*qual*charge****code****desc   one charge: L102 ``rate``, L104 ``amount`` (N2: cents,
                                        may be negative), L108 special charge code ->
                                        ``partner_code`` as sent and ``code``
                                        (:data:`SPECIAL_CHARGES`; empty: the line haul,
                                        ``freight``; any other code: ``other``), L112
                                        ``description`` (else the code's meaning).
                                        ``quantity`` is not carried (``None``)
L3*weight*B***total*******L             L305 total charges (N2) -> ``total``; L301/L302/L312
                                        weight, qualifier, unit
======================================  ==========================================================

The special charge code list is open: X12 element 150 has over a thousand codes and carriers use
those of their trade (``ENS`` energy surcharge and ``GST`` on a Canadian railway's bill, ``490``
on a forwarder's). A code outside :data:`SPECIAL_CHARGES` is kept with its code
(``partner_code``) under the canonical code ``other``, described by L112, else by its meaning
(:data:`OTHER_CHARGES`), else as "Special charge XYZ"; the freight audit then holds the invoice
for a billing user to approve that charge (or dispute it), it never rejects the invoice.

Checks: the L1 charges add up to L305, and L305 equals B307, else an :class:`X12ParseError` on
L3 (or B3) showing both figures: ``segment L3 (position 27), element L305: L3 total 512.40 but
the L1 charges add up to 498.40 [transaction set 210, control number 0001]``. A special charge
code that is not a code (not 1 to 3 letters or digits), a currency that is not ISO 4217, an
amount that is not an N2 number (``512.40`` instead of ``51240``) or a weight unit that is not a
weight are errors naming the segment, its position and the element. Other segments (G62, R3,
K1, L5, L7, N7...) are read past.

What trading partners send is read as they send it (``logistics_integration_base.formats.x12``):
a UTF-8 byte-order mark, CR/LF or LF after segments, blanks indenting them, several segments on
one line or lines wrapped at 80 characters, and any separators the ISA declares (``~``, ``.``,
``!``...). ``readme/FORMATS.md`` is the implementation guide.
"""

import datetime as dt
import re
from decimal import Decimal

from odoo.addons.logistics_integration_base.formats.x12 import (
    ELEMENT_INVALID_CHARACTER,
    ELEMENT_INVALID_CODE,
    ELEMENT_MISSING,
    SEGMENT_UNEXPECTED,
    Interchange,
    SetReader,
    X12ParseError,
    parse_documents,
    parse_interchange,
)

from .freight_invoice import CURRENCIES, MESSAGE_TYPE, as_amount, as_weight

__all__ = [
    "FUNCTIONAL_ID",
    "MESSAGE_TYPE",
    "OTHER_CHARGES",
    "SPECIAL_CHARGES",
    "WEIGHT_UNITS",
    "parse_210",
    "parse_210_interchange",
    "parse_210_sets",
]

FUNCTIONAL_ID = "IM"
DEFAULT_CURRENCY = "USD"

#: L108 special charge or allowance codes (X12 element 150) -> (canonical code, meaning). The
#: meaning is the description when L112 is empty. An L1 without L108 is the line haul.
SPECIAL_CHARGES = {
    "400": ("freight", "Freight"),
    "LHS": ("freight", "Line haul service"),
    "FUE": ("fuel", "Fuel charge"),
    "405": ("fuel", "Fuel surcharge"),
    "DSC": ("discount", "Discount"),
    "RES": ("residential", "Residential delivery"),
    "LFT": ("liftgate", "Lift gate service at pickup or delivery"),
    "IDL": ("inside_delivery", "Inside delivery"),
    "APT": ("appointment", "Appointment (notification)"),
    "RCL": ("redelivery", "Redelivery"),
    "DET": ("waiting_time", "Detention of trailers"),
    "DTV": ("waiting_time", "Detention (vehicle)"),
    "DTL": ("waiting_time", "Detention loading"),
    "DTU": ("waiting_time", "Detention unloading"),
    "WTG": ("waiting_time", "Waiting time"),
    "690": ("special_handling", "Special handling service"),
    "HHB": ("special_handling", "Handling"),
    "HAZ": ("special_handling", "Hazardous cargo charge"),
    "420": ("special_handling", "Hazardous materials handling fee"),
    "020": ("address_correction", "Address correction"),
    "600": ("address_correction", "Recipient address correction"),
    "SRG": ("storage", "Storage"),
    "STR": ("storage", "Storage in transit"),
    "315": ("duty_tax", "Duty charge"),
    "999": ("other", "Other"),
}
LINE_HAUL = ("freight", "Freight")

#: Meanings of special charge codes (X12 element 150) carriers send that the profile does not
#: map to a canonical charge: kept as ``other`` with their code, for a billing user to approve.
OTHER_CHARGES = {
    "ENS": "Energy surcharge (fuel adjustment factor)",
    "ENC": "Energy charge",
    "GST": "Goods and services tax",
    "TAX": "Tax",
    "CUS": "Customs charge",
    "490": "Minimum air transportation charge",
    "GSS": "Greater security service",
    "MSC": "Other accessorial service",
    "INS": "Insurance",
    "SOC": "Stop-off charge",
    "SUR": "Surcharge",
    "DEL": "Delivery charge",
    "PUC": "Pickup charge",
    "HZC": "Hazardous materials surcharge",
    "OVR": "Over dimension",
    "EXL": "Extra length",
    "NFY": "Carrier notification charge",
    "SDL": "Split delivery",
    "MIN": "Minimum guarantee",
    "BEY": "Beyond freight charges",
}
_CODE = re.compile(r"^[A-Z0-9]{1,3}$")

#: Weight unit codes (X12 element 188) -> kilograms per unit. Without a unit: pounds.
WEIGHT_UNITS = {
    "L": Decimal("0.45359237"),
    "K": Decimal(1),
    "G": Decimal("0.001"),
    "O": Decimal("0.028349523125"),
    "E": Decimal(1000),
    "S": Decimal("907.18474"),
    "T": Decimal("1016.0469088"),
}
DEFAULT_WEIGHT_UNIT = "L"

PAYMENT_METHODS = {
    "PP": "prepaid",
    "PC": "prepaid",
    "PO": "prepaid",
    "PA": "prepaid",
    "CC": "collect",
    "CA": "collect",
    "TP": "third_party",
}

_N2 = re.compile(r"^-?\d+$")
_CURRENCY = re.compile(r"^[A-Z]{3}$")


def _cents(r, index, position, what):
    """N2 element (implied 2 decimals) -> ``Decimal`` with 2 decimals; required."""
    value = r.el(index, position)
    if not value:
        raise r.error(f"{what} is missing", index, position, element_error_code=ELEMENT_MISSING)
    if not _N2.match(value):
        raise r.error(
            f"{what} {value!r} is not an X12 N2 amount (whole cents, the decimal point implied: "
            "51240 means 512.40)",
            index,
            position,
            element_error_code=ELEMENT_INVALID_CHARACTER,
            bad_value=value,
        )
    return Decimal(value).scaleb(-2)


def _fmt(amount):
    return format(amount, ".2f")


def _party(r, index):
    return {
        "code": r.el(index, 4) or None,
        "name": r.el(index, 2) or None,
        "street": None,
        "street2": None,
        "city": None,
        "state_code": None,
        "zip": None,
        "country_code": None,
    }


class _Once:
    """Segments allowed once per set (B3, C3, L3)."""

    def __init__(self, r):
        self.r = r
        self.seen = {}

    def __call__(self, index, what):
        segment_id = self.r.ts.segments[index][0]
        if segment_id in self.seen:
            raise self.r.error(
                f"a second {segment_id} segment ({what}; the first is at position "
                f"{self.seen[segment_id] + 1}): one invoice per transaction set",
                index,
                segment_error_code=SEGMENT_UNEXPECTED,
            )
        self.seen[segment_id] = index
        return index


def parse_210(ts):
    """210 Motor Carrier Freight Details and Invoice -> canonical ``freight.invoice`` dict."""
    r = SetReader(ts, "210")
    once = _Once(r)
    b3 = c3 = l3 = None
    refs = {}
    parties = {}
    party = None
    weights = []  # (value, unit code or None, qualifier)
    charges = []  # (charge dict, Decimal amount)

    for i, seg in r.body():
        sid = seg[0]
        if sid not in ("N1", "N2", "N3", "N4", "PER", "N9"):
            party = None
        if sid == "B3":
            b3 = once(i, "beginning segment for carrier's invoice")
        elif sid == "C3":
            c3 = once(i, "currency")
        elif sid == "N9":
            qualifier, value = r.el(i, 1), r.el(i, 2)
            if not value:
                continue
            if qualifier == "SI" and "SI" in refs and refs["SI"][0] != value:
                raise r.error(
                    f"shipper's identifying number {value!r} differs from {refs['SI'][0]!r} "
                    f"(position {refs['SI'][1] + 1}): a 210 invoices one shipment; send one "
                    "transaction set per shipment",
                    i,
                    2,
                    element_error_code=ELEMENT_INVALID_CODE,
                    bad_value=value,
                )
            refs.setdefault(qualifier, (value, i))
        elif sid == "N1":
            party = _party(r, i)
            parties.setdefault(r.el(i, 1), party)
        elif sid == "N3" and party is not None:
            party["street"] = r.el(i, 1) or None
            party["street2"] = r.el(i, 2) or None
        elif sid == "N4" and party is not None:
            party["city"] = r.el(i, 1) or None
            party["state_code"] = r.el(i, 2) or None
            party["zip"] = r.el(i, 3) or None
            party["country_code"] = r.el(i, 4) or None
        elif sid == "L0":
            weight = _weight(r, i, 4, 11)
            if weight is not None:
                weights.append((*weight, r.el(i, 5)))
        elif sid == "L1":
            amount = _cents(r, i, 4, "charge")
            code = r.el(i, 8)
            if not code:
                canonical, meaning = LINE_HAUL
            elif code in SPECIAL_CHARGES:
                canonical, meaning = SPECIAL_CHARGES[code]
            elif _CODE.match(code):
                # an open list: kept with its code, for the audit to have it approved
                canonical = "other"
                meaning = OTHER_CHARGES.get(code) or f"Special charge {code}"
            else:
                raise r.error(
                    f"special charge code {code!r} is not a code (1 to 3 capital letters or "
                    "digits, X12 element 150, e.g. FUE or 405)",
                    i,
                    8,
                    element_error_code=ELEMENT_INVALID_CODE,
                    bad_value=code,
                )
            rate = r.number(i, 2, "freight rate")
            charge = {
                "code": canonical,
                "description": r.el(i, 12) or meaning,
                "amount": as_amount(amount),
                "quantity": None,
                "rate": float(rate) if rate is not None else None,
                "partner_code": code or None,
            }
            charges.append((charge, amount))
        elif sid == "L3":
            l3 = once(i, "total weight and charges")

    if b3 is None:
        raise r.missing_segment(
            "B3", "the B3 beginning segment for carrier's invoice is missing (invoice number)"
        )
    invoice_number = r.required(b3, 2, "invoice number")
    r.required(b3, 6, "invoice date")
    invoice_date = _invoice_date(r, b3)
    amount_due = _cents(r, b3, 7, "net amount due")
    header_unit = r.el(b3, 5) or None
    if header_unit and header_unit not in WEIGHT_UNITS:
        raise _unit_error(r, b3, 5, header_unit)
    method = r.el(b3, 4)
    payment_method = PAYMENT_METHODS.get(method, "other") if method else None

    currency = DEFAULT_CURRENCY
    if c3 is not None:
        currency = r.required(c3, 1, "currency code")
        if not _CURRENCY.match(currency) or currency not in CURRENCIES:
            raise r.error(
                f"currency code {currency!r} is not an ISO 4217 currency code (e.g. USD, CAD)",
                c3,
                1,
                element_error_code=ELEMENT_INVALID_CODE,
                bad_value=currency,
            )

    if not charges:
        raise r.missing_segment("L1", "the invoice has no L1 rate and charges segment")
    if l3 is None:
        raise r.missing_segment("L3", "the L3 total weight and charges segment is missing")
    total = _cents(r, l3, 5, "total charges")
    added = sum((amount for _charge, amount in charges), Decimal(0))
    if added != total:
        raise r.error(
            f"L3 total {_fmt(total)} but the L1 charges add up to {_fmt(added)}",
            l3,
            5,
            bad_value=r.el(l3, 5),
        )
    if amount_due != total:
        raise r.error(
            f"B3 net amount due {_fmt(amount_due)} but the L3 total is {_fmt(total)}",
            b3,
            7,
            bad_value=r.el(b3, 7),
        )

    # the billed weights of the lading lines, else the invoice's total weight, else the sum
    # of the lading lines' weights
    chosen = [weight for weight in weights if weight[2] == "B"]
    if not chosen:
        l3_weight = _weight(r, l3, 1, 12)
        chosen = [l3_weight] if l3_weight else weights
    weight_kg = None
    if chosen:
        default_unit = header_unit or DEFAULT_WEIGHT_UNIT
        weight_kg = sum(
            (value * WEIGHT_UNITS[unit or default_unit] for value, unit, *_rest in chosen),
            Decimal(0),
        )

    ref = {qualifier: value for qualifier, (value, _index) in refs.items()}
    pro_number = ref.get("CN") or r.el(b3, 3) or None
    scac = r.el(b3, 11) or None
    carrier = parties.get("CA") or parties.get("RE")
    carrier_name = carrier and carrier["name"]
    return {
        "invoice_number": invoice_number,
        "invoice_date": invoice_date.isoformat(),
        "currency": currency,
        "total": as_amount(total),
        "payment_method": payment_method,
        "partner": {"code": scac, "name": carrier_name} if scac or carrier_name else None,
        "bill_to": parties.get("BT") or parties.get("PR"),
        "pro_number": r.el(b3, 3) or ref.get("CN"),
        "shipments": [
            {
                "shipment_ref": ref.get("SI") or ref.get("BM"),
                "tracking_number": ref.get("2I"),
                "pro_number": pro_number,
                "bill_of_lading": ref.get("BM"),
                "po_number": ref.get("PO"),
                "weight_kg": as_weight(weight_kg) if weight_kg is not None else None,
                "shipper": parties.get("SH") or parties.get("SF"),
                "consignee": parties.get("CN") or parties.get("ST"),
                "charges": [charge for charge, _amount in charges],
            }
        ],
    }


def _invoice_date(r, b3):
    """B306: CCYYMMDD; a YYMMDD date (what 210s of earlier X12 versions carry, and some
    carriers still send) is read with the century of the ISA's own dates (00-69: 2000s)."""
    value = r.el(b3, 6)
    if len(value) == 6 and value.isdigit():
        year = int(value[:2])
        try:
            return dt.date((2000 if year < 70 else 1900) + year, int(value[2:4]), int(value[4:]))
        except ValueError:  # pylint: disable=except-pass
            pass  # reported below as any invalid date
    return r.date(b3, 6, "invoice date")


def _unit_error(r, index, position, unit):
    return r.error(
        f"weight unit {unit!r} is not a weight unit (L pounds, K kilograms, G grams, O ounces, "
        "E metric tons, S short tons, T long tons)",
        index,
        position,
        element_error_code=ELEMENT_INVALID_CODE,
        bad_value=unit,
    )


def _weight(r, index, position, unit_position):
    """``(weight, unit code or None)`` of an L0 or L3 segment, ``None`` without a weight."""
    weight = r.number(index, position, "weight")
    if weight is None:
        return None
    if weight < 0:
        raise r.error(
            f"weight {r.el(index, position)!r} must not be negative",
            index,
            position,
            element_error_code=ELEMENT_INVALID_CODE,
            bad_value=r.el(index, position),
        )
    unit = r.el(index, unit_position) or None
    if unit is not None and unit not in WEIGHT_UNITS:
        raise _unit_error(r, index, unit_position, unit)
    return weight, unit


def parse_210_interchange(data):
    """X12 text (``str``/``bytes``) or a parsed :class:`Interchange` -> ``(interchange,
    [canonical freight.invoice dict, ...])``, one invoice per 210 transaction set in file
    order. Any other transaction set, an envelope error or a bad invoice raises
    :class:`X12ParseError` naming the segment and element. The invoices are in the order of
    ``interchange.transaction_sets``."""
    interchange = data if isinstance(data, Interchange) else parse_interchange(data)
    documents = parse_documents(interchange, {"210": (MESSAGE_TYPE, parse_210)})
    return interchange, [payload for _message_type, payload in documents]


def parse_210_sets(data):
    """Like :func:`parse_210_interchange`, but a bad invoice does not stop the others (a
    carrier's daily file of freight bills): ``(interchange, [(transaction set, invoice or None,
    X12ParseError or None), ...])``, one entry per set in file order. Envelope errors (control
    numbers, counts, truncation) still raise: no set of such a file can be trusted. The errors
    carry the codes a 997 reports (``build_997(interchange, errors=[...])`` rejects those sets
    and accepts the others)."""
    interchange = data if isinstance(data, Interchange) else parse_interchange(data)
    results = []
    for group in interchange.groups:
        for ts in group.transaction_sets:
            try:
                if ts.code != "210":
                    raise X12ParseError(
                        f"transaction set {ts.code!r} is not supported (supported: 210)",
                        "ST",
                        1,
                        1,
                        transaction_set=ts.code,
                        set_control_number=ts.control_number,
                        element_error_code=ELEMENT_INVALID_CODE,
                        set_error_code="1",
                    )
                results.append((ts, parse_210(ts), None))
            except X12ParseError as error:
                error.group_control_number = group.control_number
                results.append((ts, None, error))
    return interchange, results
