"""ANSI ASC X12 004010 for 3PL warehouses, mapped to and from the canonical payloads.

Pure Python, no ORM. Used by the 3PL connector (SFTP/AS2 file drops) and by the 3PL simulator
in the repository's ``tests/`` folder.

Public API
==========

Parsing::

    parse_interchange(text: str | bytes) -> Interchange
    parse_940(ts: TransactionSet) -> dict          # canonical order.release
    parse_945(ts: TransactionSet) -> dict          # canonical shipment.confirmed
    parse_846(ts: TransactionSet) -> dict          # canonical inventory.snapshot
    parse_997(ts: TransactionSet) -> dict          # functional acknowledgement (not canonical)
    parse_documents(text) -> list[tuple[str, dict]]  # ('shipment.confirmed', {...}), ...

Building (each returns a complete ISA..IEA interchange string)::

    build_940(order, envelope, set_control_number=1) -> str
    build_945(shipment, envelope, set_control_number=1, *, ordered_quantities=None,
              ship_to=None, transport_method="M") -> str
    build_846(snapshot, envelope, set_control_number=1) -> str
    build_997(interchange, accepted=True, errors=None, envelope=None, set_control_number=1) -> str

Every parse or validation failure raises :class:`X12ParseError`; its ``str()`` names the
segment, its position and the element, e.g. ``segment W12 (position 14), element W1203:
quantity 'abc' is not a number [transaction set 945, control number 0001]``. A value that
cannot be written (it contains a delimiter, say) raises :class:`X12BuildError`.

Conventions
===========

* Delimiters are detected from the fixed-width ISA segment: element separator = character 4,
  composite separator = ISA16 (character 105), segment terminator = character 106. Line breaks
  after segment terminators are tolerated. Builders always write ``*``, ``>`` and ``~``.
* Positions: inside a transaction set, ``segment_position`` is counted from ST = 1 (what the
  997 AK302 element expects); for envelope segments (ISA, GS, GE, IEA) it is counted from
  ISA = 1.
* Quantities are X12 ``R`` numbers (``12``, ``2.5``, ``-3``); parsed to ``float``.
* Dates CCYYMMDD become ``YYYY-MM-DD``; date + time become ``YYYY-MM-DDTHH:MM:SSZ`` (UTC). A time
  code (G6205, DTM04) of UT/GM or none means UTC; US zone codes (ET, ES, ED, CT, ...) are
  converted.
* Parsed dicts always contain every optional key the X12 document can carry (``None`` or ``[]``
  when absent); keys whose schema type does not allow ``null`` (``shipped_at``, ``as_of``) are
  left out when the document does not carry them.
* Builders do not truncate values and do not enforce X12 maximum lengths, except for the ISA
  fixed widths; free text longer than an element allows (NTE02: 80, G6901: 45) is wrapped at
  word boundaries over several segments. Element values are read without surrounding blanks.
* Totals segments (W76, W03) are checked for being numbers only; CTT01 (846) must equal the
  number of LIN loops.

940 Warehouse Shipping Order (order.release), functional group OW
-----------------------------------------------------------------

======================  =====================================================================
Segment                 Canonical field
======================  =====================================================================
W05*N*ref*origin        W0502 ``order_ref``, W0503 ``origin`` (purchase order number); a
                        cancellation (W0501 = C) is refused by the parser
N1*ST*name              ship-to loop: N102 ``ship_to.name``; N2 N201 ``ship_to.company``;
                        N3 ``street``/``street2``; N4 ``city``/``state_code``/``zip``/
                        ``country_code`` (N404 absent means US);
                        PER*IC*name*TE*phone*EM*email ``phone``/``email``
N1*WH**91*code          N104 ``warehouse_code`` (N102 when N104 is absent)
G62*10*CCYYMMDD         ``requested_date`` (requested ship date)
NTE*WHI*text            ``notes``: one NTE*WHI per line of text; a line longer than 80
                        characters is wrapped at word boundaries and continues in NTE*ADD
                        segments (joined with one space)
W66*PP*M***svc*****SCAC W6605 (routing) ``carrier.service``, W6610 ``carrier.code``. W66 is
                        mandatory in the 940, so it is always sent; parsed ``carrier`` is
                        ``None`` when both are empty
LX*n                    one LX loop per canonical line, holding one W01 loop per lot
W01*qty*uom**VN*sku     W0101 quantity (of the lot, or of the line without lots), W0102 UOM,
                        W0104/W0105 VN = ``sku`` (parser also accepts SK/VP/BP/IN, and the
                        W0106/W0107 and W0115/W0116 pairs)
G69*text                ``name`` (wrapped over several G69 when longer than 45 characters,
                        joined with one space)
N9*LI*line_ref          ``line_ref`` (parser falls back to LX01 when absent)
N9*LT*lot**CCYYMMDD     one lot per W01 loop; N904 = lot expiration date
W76*total               hash total of W0101
======================  =====================================================================

A line of 10 with lots A (6) and B (3) is sent as one LX with three W01 loops: 6 with N9*LT*A,
3 with N9*LT*B and the unassigned remainder 1 without a lot. The parser sums the W01 loops of an
LX loop into one line (``quantity`` 10, ``lots`` A and B); W01 loops outside an LX loop, and LX
loops repeating the same N9*LI line reference and SKU, are merged the same way. ``lot_tracking``
is not transmitted (the 3PL's item master holds it).

945 Warehouse Shipping Advice (shipment.confirmed), functional group SW
-----------------------------------------------------------------------

======================  =====================================================================
Segment                 Canonical field
======================  =====================================================================
W06*F*ref*date*shipid   W0602 ``order_ref``, W0603 ship date, W0604 ``shipment_ref`` (parser
                        falls back to a header N9*BM/SI/CN)
N1*ST ...               optional ship-to loop (``ship_to=`` keyword of the builder; not part
                        of the canonical shipment)
N9*2I*tracking          ``tracking_ref`` (first N9*2I of the set; header N9*CN as fallback)
G62*11*date*8*time*UT   ``shipped_at`` (date from G6202 or W0603, time G6204, zone G6205)
W27*M*SCAC*service      W2702 ``carrier.code``, W2703 ``carrier.service``
LX*n                    one LX loop per canonical line
N9*LI*line_ref          ``line_ref`` (LX level; also accepted after a W12)
W12*st*ord*shp*dif*uom**VN*sku
                        one W12 loop per lot (**lot pattern: one W12 per lot**). W1201 status
                        (CC complete, CP partial; repeated on every W12 of the line), W1203
                        units shipped of that lot, W1205 UOM, W1207/W1208 VN ``sku``. W1202
                        (ordered) and W1204 (difference = ordered - shipped) describe the whole
                        line and are sent on its first W12 only
N9*LT*lot**CCYYMMDD     lot of the preceding W12 (W1209 warehouse lot number is accepted too);
                        N904 = expiration date
W03*total               total units shipped
======================  =====================================================================

``quantity`` of a line = sum of W1203 of its W12 loops; ``lots`` lists the W12 loops that name a
lot and shipped more than zero; ``complete`` is true when every W12 has status CC. The builder
takes the ordered quantity per line from ``ordered_quantities`` (keyed by ``line_ref``, or by
``sku`` for lines without one): CC when shipped >= ordered, else CP. Without it W1202/W1204 are
left empty and the status is CC unless ``shipment['complete']`` is false (then CP).

846 Inventory Inquiry/Advice (inventory.snapshot), functional group IB
----------------------------------------------------------------------

======================  =====================================================================
Segment                 Canonical field
======================  =====================================================================
BIA*00*SI*ref*date*time BIA03 ``snapshot_ref``; BIA04/BIA05 are the fallback for ``as_of``
DTM*007*date*time*UT    ``as_of`` (effective date/time of the snapshot)
N1*WH**91*code          ``warehouse_code`` (N104, or N102)
LIN*n*SK*sku*LT*lot     ``sku`` (SK; VN/VP/BP/IN accepted), optional LT ``lot``
QTY*17*qty*uom          on-hand ``quantity``; QTY03 (first component) ``uom``
CTT*count*hash          CTT01 = number of LIN loops (checked); CTT02 hash of QTY02
======================  =====================================================================

997 Functional Acknowledgment, functional group FA
--------------------------------------------------

One 997 per functional group received: AK1 (GS01, GS06); per transaction set AK2 (ST01, ST02),
AK3 (segment id, position in set, loop id, segment error code) and AK4 (element position, data
element reference number, element error code, copy of the bad value) for each error given,
AK5 (A accepted / R rejected + set error codes); AK9 (A/P/R, sets included, received, accepted).
Errors are :class:`X12ParseError` instances (they carry the codes the parsers set: AK403 1 =
mandatory element missing, 6 = invalid character, 7 = invalid code, 8 = invalid date, 9 =
invalid time) or dicts with the same attribute names.
"""

from __future__ import annotations

import datetime as dt
import re
import textwrap
from collections.abc import Mapping
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from zoneinfo import ZoneInfo

__all__ = [
    "MESSAGE_TYPES",
    "Envelope",
    "FunctionalGroup",
    "Interchange",
    "Separators",
    "TransactionSet",
    "X12BuildError",
    "X12ParseError",
    "build_846",
    "build_940",
    "build_945",
    "build_997",
    "parse_846",
    "parse_940",
    "parse_945",
    "parse_997",
    "parse_documents",
    "parse_interchange",
]

ISA_VERSION = "00401"
GS_VERSION = "004010"
ISA_LENGTH = 106

FUNCTIONAL_IDS = {"940": "OW", "945": "SW", "846": "IB", "997": "FA"}
MESSAGE_TYPES = {
    "940": "order.release",
    "945": "shipment.confirmed",
    "846": "inventory.snapshot",
    "997": "functional.ack",
}

# Product/Service ID qualifiers accepted for the SKU, most preferred first.
_SKU_QUALIFIERS = ("VN", "SK", "VP", "BP", "IN", "MG", "UP", "UK", "EN")
_SKU_QUALIFIERS_846 = ("SK", "VN", "VP", "BP", "IN", "MG", "UP", "UK", "EN")

_SEGMENT_ID = re.compile(r"^[A-Z][A-Z0-9]{1,2}$")
_NUMBER = re.compile(r"^-?(\d+\.?\d*|\.\d+)$")
_DIGITS = re.compile(r"^\d+$")

_UTC = dt.timezone.utc
_FIXED_ZONES = {
    "UT": 0,
    "GM": 0,
    "Z": 0,
    "ES": -5,
    "ED": -4,
    "CS": -6,
    "CD": -5,
    "MS": -7,
    "MD": -6,
    "PS": -8,
    "PD": -7,
    "AS": -4,
    "AD": -3,
    "HS": -10,
}
_NAMED_ZONES = {
    "ET": "America/New_York",
    "CT": "America/Chicago",
    "MT": "America/Denver",
    "PT": "America/Los_Angeles",
    "AT": "America/Halifax",
    "HT": "Pacific/Honolulu",
}

# AK403 data element syntax error codes set by the parsers.
ELEMENT_MISSING = "1"
ELEMENT_INVALID_CHARACTER = "6"
ELEMENT_INVALID_CODE = "7"
ELEMENT_INVALID_DATE = "8"
ELEMENT_INVALID_TIME = "9"
# AK304 segment syntax error codes.
SEGMENT_UNEXPECTED = "2"
SEGMENT_MISSING = "3"
SEGMENT_ELEMENT_ERRORS = "8"


# --------------------------------------------------------------------------------------------
# Errors and data classes
# --------------------------------------------------------------------------------------------


def _fromisoformat(value):
    """``datetime.fromisoformat`` accepting a trailing ``Z`` also on Python 3.10."""
    value = str(value).strip()
    if value[-1:] in ("Z", "z"):
        value = value[:-1] + "+00:00"
    return dt.datetime.fromisoformat(value)


class X12ParseError(ValueError):
    """An X12 document could not be parsed or failed validation.

    ``str()`` names the segment, its position and the failing element so that an operator can
    find it in the file. ``segment_position`` counts from ST = 1 inside a transaction set and
    from ISA = 1 for envelope segments. The optional codes are what a 997 reports (AK304,
    AK403, AK502).
    """

    def __init__(
        self,
        message,
        segment_id=None,
        segment_position=None,
        element_position=None,
        *,
        component_position=None,
        transaction_set=None,
        set_control_number=None,
        group_control_number=None,
        segment_error_code=None,
        element_error_code=None,
        set_error_code=None,
        bad_value=None,
    ):
        super().__init__(message)
        self.message = message
        self.segment_id = segment_id
        self.segment_position = segment_position
        self.element_position = element_position
        self.component_position = component_position
        self.transaction_set = transaction_set
        self.set_control_number = set_control_number
        self.group_control_number = group_control_number
        self.segment_error_code = segment_error_code
        self.element_error_code = element_error_code
        self.set_error_code = set_error_code
        self.bad_value = bad_value

    @property
    def element_name(self):
        """``W1203`` style name of the failing element, or ``None``."""
        if not (self.segment_id and self.element_position):
            return None
        name = f"{self.segment_id}{self.element_position:02d}"
        if self.component_position:
            name += f"-{self.component_position:02d}"
        return name

    def __str__(self):
        parts = []
        if self.segment_id:
            where = f"segment {self.segment_id}"
            if self.segment_position is not None:
                where += f" (position {self.segment_position})"
            if self.element_name:
                where += f", element {self.element_name}"
            parts.append(where + ": ")
        parts.append(str(self.message))
        if self.transaction_set or self.set_control_number:
            context = []
            if self.transaction_set:
                context.append(f"transaction set {self.transaction_set}")
            if self.set_control_number:
                context.append(f"control number {self.set_control_number}")
            parts.append(f" [{', '.join(context)}]")
        return "".join(parts)

    def __reduce__(self):
        return (_rebuild_error, (self.__class__, self.__dict__.copy()))


def _rebuild_error(cls, state):
    error = cls.__new__(cls)
    ValueError.__init__(error, state.get("message"))
    error.__dict__.update(state)
    return error


class X12BuildError(ValueError):
    """A canonical payload cannot be written as X12 (missing field, delimiter in a value...)."""


@dataclass(frozen=True)
class Separators:
    element: str = "*"
    composite: str = ">"
    segment: str = "~"


@dataclass
class TransactionSet:
    """One ST..SE transaction set; ``segments`` includes ST and SE, each a list of elements
    with the segment id first (``segments[i][n]`` is element n of the segment at position
    i + 1)."""

    code: str
    control_number: str
    segments: list[list[str]]
    separators: Separators = field(default_factory=Separators, repr=False, compare=False)


@dataclass
class FunctionalGroup:
    functional_id: str
    sender: str
    receiver: str
    date: dt.date
    time: dt.time
    control_number: str
    version: str
    transaction_sets: list[TransactionSet]


@dataclass
class Interchange:
    sender_qualifier: str
    sender_id: str
    receiver_qualifier: str
    receiver_id: str
    date: dt.date
    time: dt.time
    control_number: str
    usage_indicator: str
    separators: Separators
    groups: list[FunctionalGroup]

    @property
    def transaction_sets(self):
        return [ts for group in self.groups for ts in group.transaction_sets]


@dataclass
class Envelope:
    """Interchange (ISA/IEA) and functional group (GS/GE) data for the builders.

    ``date``/``time`` default to the current UTC date and time. ``application_sender`` and
    ``application_receiver`` (GS02/GS03) default to the interchange ids.
    """

    sender_qualifier: str
    sender_id: str
    receiver_qualifier: str
    receiver_id: str
    interchange_control_number: int
    group_control_number: int
    usage_indicator: str = "P"
    date: dt.date | None = None
    time: dt.time | None = None
    application_sender: str | None = None
    application_receiver: str | None = None
    acknowledgment_requested: bool = False

    def __post_init__(self):
        if self.date is None or self.time is None:
            now = dt.datetime.now(_UTC)
            if self.date is None:
                self.date = now.date()
            if self.time is None:
                self.time = now.time().replace(microsecond=0)
        for name in ("sender_qualifier", "receiver_qualifier"):
            value = getattr(self, name)
            if not isinstance(value, str) or len(value) != 2:
                raise X12BuildError(f"envelope {name} must be 2 characters, got {value!r}")
        for name in ("sender_id", "receiver_id"):
            value = getattr(self, name)
            if not isinstance(value, str) or not value.strip() or len(value) > 15:
                raise X12BuildError(f"envelope {name} must be 1 to 15 characters, got {value!r}")
            if any(char in value for char in "*>~\r\n"):
                raise X12BuildError(f"envelope {name} {value!r} contains an X12 delimiter")
        for name in ("interchange_control_number", "group_control_number"):
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, int):
                raise X12BuildError(f"envelope {name} must be an integer, got {value!r}")
            if not 0 < value <= 999_999_999:
                raise X12BuildError(f"envelope {name} must be between 1 and 999999999")
        if self.usage_indicator not in ("P", "T", "I"):
            raise X12BuildError(
                f"envelope usage_indicator must be P, T or I, got {self.usage_indicator!r}"
            )

    @classmethod
    def reply_to(cls, interchange, interchange_control_number=None, group_control_number=None):
        """Envelope answering ``interchange`` (sender and receiver swapped).

        Without explicit control numbers the received ones are reused: fine for a simulator,
        production code passes its own sequence values.
        """
        group_number = group_control_number
        if group_number is None:
            first = interchange.groups[0].control_number if interchange.groups else "1"
            group_number = int(first) if _DIGITS.match(first) else 1
        if interchange_control_number is None:
            received = interchange.control_number
            interchange_control_number = int(received) if _DIGITS.match(received) else 1
        return cls(
            sender_qualifier=interchange.receiver_qualifier,
            sender_id=interchange.receiver_id,
            receiver_qualifier=interchange.sender_qualifier,
            receiver_id=interchange.sender_id,
            interchange_control_number=interchange_control_number,
            group_control_number=group_number,
            usage_indicator=interchange.usage_indicator,
        )


# --------------------------------------------------------------------------------------------
# Small value helpers
# --------------------------------------------------------------------------------------------


def _to_decimal(value, what):
    """Canonical number (int/float/Decimal/numeric str) -> Decimal, for the builders."""
    if isinstance(value, bool) or value is None:
        raise X12BuildError(f"{what} must be a number, got {value!r}")
    try:
        number = Decimal(str(value).strip())
    except InvalidOperation:
        raise X12BuildError(f"{what} must be a number, got {value!r}") from None
    if not number.is_finite():
        raise X12BuildError(f"{what} must be a finite number, got {value!r}")
    return number


def _format_number(value, what="quantity"):
    number = _to_decimal(value, what).normalize()
    if number == 0:
        return "0"
    if number.as_tuple().exponent > 0:
        number = number.quantize(Decimal(1))
    return format(number, "f")


def _parse_canonical_datetime(value, what):
    """ISO 8601 string (or datetime/date) -> aware UTC datetime."""
    if isinstance(value, dt.datetime):
        moment = value
    elif isinstance(value, dt.date):
        moment = dt.datetime.combine(value, dt.time())
    elif isinstance(value, str) and value.strip():
        try:
            moment = _fromisoformat(value.strip())
        except ValueError:
            raise X12BuildError(f"{what} {value!r} is not an ISO 8601 date-time") from None
    else:
        raise X12BuildError(f"{what} {value!r} is not an ISO 8601 date-time")
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=_UTC)
    return moment.astimezone(_UTC)


def _parse_canonical_date(value, what):
    if isinstance(value, dt.datetime):
        return value.date()
    if isinstance(value, dt.date):
        return value
    try:
        return dt.date.fromisoformat(str(value).strip())
    except ValueError:
        raise X12BuildError(f"{what} {value!r} is not an ISO date (YYYY-MM-DD)") from None


def _x12_date(day):
    return day.strftime("%Y%m%d")


def _x12_time(moment):
    return moment.strftime("%H%M%S" if moment.second else "%H%M")


def _iso_utc(moment):
    return moment.astimezone(_UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def _zone(code):
    code = (code or "").strip().upper()
    if not code:
        return _UTC
    if code in _FIXED_ZONES:
        return dt.timezone(dt.timedelta(hours=_FIXED_ZONES[code]))
    if code in _NAMED_ZONES:
        return ZoneInfo(_NAMED_ZONES[code])
    return None


def _same_control(a, b):
    a, b = (a or "").strip(), (b or "").strip()
    if _DIGITS.match(a) and _DIGITS.match(b):
        return int(a) == int(b)
    return a == b


def _element(segment, position):
    return segment[position] if position < len(segment) else ""


def _wrap(text, width):
    """Split free text at word boundaries into pieces of at most ``width`` characters (the
    parsers join continuation pieces with one space, which survives partners that trim
    elements)."""
    return textwrap.wrap(text, width, break_on_hyphens=False) or [text]


# --------------------------------------------------------------------------------------------
# Parsing: interchange envelope
# --------------------------------------------------------------------------------------------


def _decode(text):
    if isinstance(text, bytes | bytearray | memoryview):
        data = bytes(text)
        try:
            return data.decode("utf-8-sig")
        except UnicodeDecodeError:
            return data.decode("latin-1")
    if not isinstance(text, str):
        raise TypeError(f"X12 text must be str or bytes, not {type(text).__name__}")
    return text.lstrip("\ufeff")


def _tokenize(raw, separators):
    """Split the interchange into segments (lists of elements)."""
    pieces = raw.split(separators.segment)
    tail = pieces.pop()
    segments = []
    for piece in pieces:
        piece = piece.lstrip().rstrip("\r\n")
        if not piece:
            continue
        elements = piece.split(separators.element)
        if not _SEGMENT_ID.match(elements[0]):
            raise X12ParseError(
                f"invalid segment identifier {elements[0][:10]!r} (a segment id is 2 or 3 "
                "upper-case letters or digits); the file may be damaged",
                elements[0][:10] or "?",
                len(segments) + 1,
            )
        segments.append(elements)
    tail = tail.strip()
    if tail:
        segment_id = tail.split(separators.element)[0][:3] or "?"
        raise X12ParseError(
            "the file ends in the middle of this segment (no segment terminator "
            f"{separators.segment!r} after {tail[:40]!r}): the interchange is truncated",
            segment_id,
            len(segments) + 1,
        )
    return segments


def _envelope_date(segment, position, index):
    value = _element(segment, position).strip()
    try:
        if len(value) == 8:
            return dt.datetime.strptime(value, "%Y%m%d").date()
        if len(value) == 6:
            year = int(value[:2])
            century = 2000 if year < 70 else 1900
            return dt.date(century + year, int(value[2:4]), int(value[4:6]))
    except ValueError:
        pass
    raise X12ParseError(
        f"date {value!r} is not a valid date",
        segment[0],
        index + 1,
        position,
        element_error_code=ELEMENT_INVALID_DATE,
        bad_value=value,
    )


def _parse_time_value(value):
    """HHMM, HHMMSS, HHMMSSD or HHMMSSDD -> time, or None when invalid."""
    if not _DIGITS.match(value) or len(value) not in (4, 6, 7, 8):
        return None
    try:
        hours, minutes = int(value[0:2]), int(value[2:4])
        seconds = int(value[4:6]) if len(value) >= 6 else 0
        return dt.time(hours, minutes, seconds)
    except ValueError:
        return None


def _envelope_time(segment, position, index):
    value = _element(segment, position).strip()
    moment = _parse_time_value(value)
    if moment is None:
        raise X12ParseError(
            f"time {value!r} is not a valid time (HHMM)",
            segment[0],
            index + 1,
            position,
            element_error_code=ELEMENT_INVALID_TIME,
            bad_value=value,
        )
    return moment


def _count_element(segment, position, index, what):
    value = _element(segment, position).strip()
    if not _DIGITS.match(value):
        raise X12ParseError(
            f"{what} {value!r} is not a number",
            segment[0],
            index + 1,
            position,
            element_error_code=ELEMENT_INVALID_CHARACTER if value else ELEMENT_MISSING,
            bad_value=value,
        )
    return int(value)


def _require_elements(segment, count, index):
    if len(segment) - 1 < count:
        raise X12ParseError(
            f"segment has {len(segment) - 1} element(s), {count} are required",
            segment[0],
            index + 1,
            len(segment),
            element_error_code=ELEMENT_MISSING,
        )


def _check_trailer(
    segment,
    index,
    segment_id,
    where,
    count_what,
    container,
    contained,
    contained_what,
    control_what,
    header_element,
    control_number,
):
    """Check a GE or IEA trailer: its id, the count it declares and its control number."""
    if segment[0] != segment_id:
        raise X12ParseError(
            f"unexpected segment {where}",
            segment[0],
            index + 1,
            segment_error_code=SEGMENT_UNEXPECTED,
        )
    declared = _count_element(segment, 1, index, count_what)
    if declared != contained:
        raise X12ParseError(
            f"{container} declares {declared} {contained_what} but contains {contained}",
            segment_id,
            index + 1,
            1,
            bad_value=_element(segment, 1),
        )
    if not _same_control(_element(segment, 2), control_number):
        raise X12ParseError(
            f"{control_what} control number {_element(segment, 2)!r} does not match "
            f"{header_element} {control_number!r}",
            segment_id,
            index + 1,
            2,
            bad_value=_element(segment, 2),
        )


def parse_interchange(text):
    """Parse and validate one ISA..IEA interchange (``str`` or ``bytes``).

    Checks ISA13 = IEA02, IEA01 = number of groups, GS06 = GE02, GE01 = number of sets,
    ST02 = SE02 and SE01 = number of segments ST..SE. Raises :class:`X12ParseError`.
    """
    raw = _decode(text).lstrip()
    if not raw:
        raise X12ParseError("the document is empty: expected an X12 interchange (ISA ... IEA)")
    if not raw.startswith("ISA"):
        raise X12ParseError(
            f"not an X12 interchange: it must start with an ISA segment, found {raw[:20]!r}"
        )
    if len(raw) < ISA_LENGTH:
        raise X12ParseError(
            f"the interchange header is truncated: ISA must be {ISA_LENGTH} characters long "
            f"including the segment terminator, the file has only {len(raw)}",
            "ISA",
            1,
        )
    element, composite, terminator = raw[3], raw[104], raw[105]
    isa = raw[:105].split(element)
    if (
        element.isalnum()
        or element.isspace()
        or len(isa) != 17
        or len(isa[16]) != 1
        or terminator.isalnum()
        or terminator in (element, composite, " ")
        or terminator in raw[:105]
    ):
        raise X12ParseError(
            "the ISA segment is not 106 characters with fixed-width elements, so the "
            "separators cannot be detected (element separator at character 4, ISA16 at "
            "character 105, segment terminator at character 106)",
            "ISA",
            1,
        )
    separators = Separators(element=element, composite=composite, segment=terminator)
    segments = _tokenize(raw, separators)
    isa = segments[0]
    interchange = Interchange(
        sender_qualifier=isa[5].strip(),
        sender_id=isa[6].strip(),
        receiver_qualifier=isa[7].strip(),
        receiver_id=isa[8].strip(),
        date=_envelope_date(isa, 9, 0),
        time=_envelope_time(isa, 10, 0),
        control_number=isa[13].strip(),
        usage_indicator=isa[15].strip(),
        separators=separators,
        groups=[],
    )
    if not _DIGITS.match(interchange.control_number):
        raise X12ParseError(
            f"interchange control number {isa[13]!r} is not a number",
            "ISA",
            1,
            13,
            element_error_code=ELEMENT_INVALID_CHARACTER,
        )

    count = len(segments)
    i = 1

    def truncated(expected, what):
        last = segments[-1]
        return X12ParseError(
            f"{what}: the {expected} trailer is missing (the file ends after segment "
            f"{last[0]} at position {count}); the interchange is truncated",
            expected,
        )

    while i < count and segments[i][0] == "GS":
        gs, gs_index = segments[i], i
        _require_elements(gs, 8, gs_index)
        group = FunctionalGroup(
            functional_id=gs[1].strip(),
            sender=gs[2].strip(),
            receiver=gs[3].strip(),
            date=_envelope_date(gs, 4, gs_index),
            time=_envelope_time(gs, 5, gs_index),
            control_number=gs[6].strip(),
            version=gs[8].strip(),
            transaction_sets=[],
        )
        i += 1
        while i < count and segments[i][0] == "ST":
            st, st_index = segments[i], i
            _require_elements(st, 2, st_index)
            code, control = st[1].strip(), st[2].strip()
            j = i + 1
            while j < count and segments[j][0] != "SE":
                if segments[j][0] in ("ST", "GS", "GE", "IEA", "ISA"):
                    raise X12ParseError(
                        f"transaction set {code} (control number {control}) has no SE "
                        f"trailer: found {segments[j][0]} before SE",
                        segments[j][0],
                        j + 1,
                        transaction_set=code,
                        set_control_number=control,
                        set_error_code="2",
                    )
                j += 1
            if j >= count:
                raise truncated("SE", f"transaction set {code} (control number {control})")
            se, set_segments = segments[j], segments[i : j + 1]
            se_position = len(set_segments)
            context = {"transaction_set": code, "set_control_number": control}
            declared = _count_element(se, 1, se_position - 1, "number of included segments")
            if declared != se_position:
                raise X12ParseError(
                    f"transaction set declares {declared} segment(s) but contains "
                    f"{se_position} (ST through SE)",
                    "SE",
                    se_position,
                    1,
                    set_error_code="4",
                    bad_value=_element(se, 1),
                    **context,
                )
            if not _same_control(_element(se, 2), control):
                raise X12ParseError(
                    f"transaction set control number {_element(se, 2)!r} does not match "
                    f"ST02 {control!r}",
                    "SE",
                    se_position,
                    2,
                    set_error_code="3",
                    bad_value=_element(se, 2),
                    **context,
                )
            group.transaction_sets.append(
                TransactionSet(code, control, set_segments, separators=separators)
            )
            i = j + 1
        if i >= count:
            raise truncated("GE", f"functional group {group.control_number}")
        _check_trailer(
            segments[i],
            i,
            "GE",
            "inside a functional group (expected ST or GE)",
            "number of transaction sets",
            "functional group",
            len(group.transaction_sets),
            "transaction set(s)",
            "group",
            "GS06",
            group.control_number,
        )
        interchange.groups.append(group)
        i += 1
    if i >= count:
        raise truncated("IEA", f"interchange {interchange.control_number}")
    _check_trailer(
        segments[i],
        i,
        "IEA",
        "(expected GS or IEA)",
        "number of included functional groups",
        "interchange",
        len(interchange.groups),
        "functional group(s)",
        "interchange",
        "ISA13",
        interchange.control_number,
    )
    if i + 1 < count:
        raise X12ParseError(
            "unexpected data after the IEA trailer (one interchange per file is supported)",
            segments[i + 1][0],
            i + 2,
        )
    return interchange


# --------------------------------------------------------------------------------------------
# Parsing: transaction set helpers
# --------------------------------------------------------------------------------------------


class _SetReader:
    """Element access with errors that name the segment/element of a transaction set."""

    def __init__(self, ts, code):
        if not isinstance(ts, TransactionSet):
            raise TypeError("expected a TransactionSet (see parse_interchange)")
        self.ts = ts
        if ts.code != code:
            raise self.error(
                f"expected a {code} transaction set, got {ts.code!r}",
                0,
                1,
                element_error_code=ELEMENT_INVALID_CODE,
            )

    def body(self):
        for index in range(1, len(self.ts.segments) - 1):
            yield index, self.ts.segments[index]

    def error(self, message, index=None, element=None, **codes):
        segment_id = self.ts.segments[index][0] if index is not None else codes.pop("segment")
        if element and "segment_error_code" not in codes:
            codes["segment_error_code"] = SEGMENT_ELEMENT_ERRORS
        return X12ParseError(
            message,
            segment_id,
            index + 1 if index is not None else None,
            element,
            transaction_set=self.ts.code,
            set_control_number=self.ts.control_number,
            **codes,
        )

    def missing_segment(self, segment_id, message):
        return self.error(message, segment=segment_id, segment_error_code=SEGMENT_MISSING)

    def el(self, index, position):
        return _element(self.ts.segments[index], position).strip()

    def required(self, index, position, what):
        value = self.el(index, position)
        if not value:
            raise self.error(
                f"{what} is missing", index, position, element_error_code=ELEMENT_MISSING
            )
        return value

    def number(self, index, position, what, required=False):
        value = self.el(index, position)
        if not value:
            if required:
                raise self.error(
                    f"{what} is missing", index, position, element_error_code=ELEMENT_MISSING
                )
            return None
        if not _NUMBER.match(value):
            raise self.error(
                f"{what} {value!r} is not a number",
                index,
                position,
                element_error_code=ELEMENT_INVALID_CHARACTER,
                bad_value=value,
            )
        return Decimal(value)

    def date(self, index, position, what):
        value = self.el(index, position)
        try:
            if len(value) != 8 or not _DIGITS.match(value):
                raise ValueError
            return dt.datetime.strptime(value, "%Y%m%d").date()
        except ValueError:
            raise self.error(
                f"{what} {value!r} is not a valid date (CCYYMMDD)",
                index,
                position,
                element_error_code=ELEMENT_INVALID_DATE,
                bad_value=value,
            ) from None

    def time(self, index, position, what):
        value = self.el(index, position)
        moment = _parse_time_value(value)
        if moment is None:
            raise self.error(
                f"{what} {value!r} is not a valid time (HHMM or HHMMSS)",
                index,
                position,
                element_error_code=ELEMENT_INVALID_TIME,
                bad_value=value,
            )
        return moment

    def zone(self, index, position):
        code = self.el(index, position)
        zone = _zone(code)
        if zone is None:
            raise self.error(
                f"time code {code!r} is not supported (use UT or a US zone code)",
                index,
                position,
                element_error_code=ELEMENT_INVALID_CODE,
                bad_value=code,
            )
        return zone

    def product_id(self, index, pairs, qualifiers, what="product ID (SKU)"):
        """First qualified product id among element ``pairs``, by qualifier preference."""
        found = {}
        for qualifier_position, id_position in pairs:
            qualifier = self.el(index, qualifier_position)
            value = self.el(index, id_position)
            if value and qualifier != "LT":
                found.setdefault(qualifier, value)
        for qualifier in qualifiers:
            if qualifier in found:
                return found[qualifier]
        if found:
            return next(iter(found.values()))
        raise self.error(
            f"{what} is missing", index, pairs[0][1], element_error_code=ELEMENT_MISSING
        )


def _datetime_from(day, moment, zone):
    moment = moment or dt.time()
    return _iso_utc(dt.datetime.combine(day, moment, tzinfo=zone or _UTC))


class _LineAccumulator:
    """Collects the loops (W01 or W12) belonging to one canonical line."""

    def __init__(self, assigned_number=None, index=None):
        self.assigned_number = assigned_number
        self.index = index  # position of the LX segment (0-based), None without LX
        self.line_ref = None
        self.sku = None
        self.sku_index = None
        self.name_parts = []
        self.uom = None
        self.quantity = Decimal(0)
        self.lots = []  # [lot, quantity, expiration, index]
        self.statuses = []
        self.items = 0

    def add_item(self, reader, index, sku, sku_position, quantity, uom, uom_position):
        if self.sku is None:
            self.sku, self.sku_index = sku, index
        elif sku != self.sku:
            raise reader.error(
                f"SKU {sku!r} differs from SKU {self.sku!r} earlier in the same line loop "
                f"(segment position {self.sku_index + 1}); send one line loop per SKU",
                index,
                sku_position,
                element_error_code=ELEMENT_INVALID_CODE,
                bad_value=sku,
            )
        if uom:
            if self.uom is None:
                self.uom = uom
            elif uom != self.uom:
                raise reader.error(
                    f"unit of measure {uom!r} differs from {self.uom!r} earlier in the "
                    "same line loop",
                    index,
                    uom_position,
                    element_error_code=ELEMENT_INVALID_CODE,
                    bad_value=uom,
                )
        self.quantity += quantity
        self.items += 1

    def merge(self, other):
        self.quantity += other.quantity
        self.lots.extend(other.lots)
        self.statuses.extend(other.statuses)
        if self.uom is None:
            self.uom = other.uom
        if not self.name_parts:
            self.name_parts = other.name_parts


def _merge_lines(reader, lines, item_segment):
    """Merge line loops that repeat the same (line_ref, sku); refuse empty LX loops."""
    merged, by_key = [], {}
    for line in lines:
        if not line.items:
            raise reader.error(
                f"the LX loop has no {item_segment} line item",
                line.index,
                segment_error_code=SEGMENT_MISSING,
            )
        key = (line.line_ref, line.sku)
        if line.line_ref is not None and key in by_key:
            by_key[key].merge(line)
            continue
        if line.line_ref is not None:
            by_key[key] = line
        merged.append(line)
    return merged


def _lots_output(line):
    return [
        {"lot": lot, "quantity": float(quantity), "expiration_date": expiration}
        for lot, quantity, expiration, _index in line.lots
        if quantity > 0
    ]


def _lot_expiration(reader, index):
    if reader.el(index, 4):
        return reader.date(index, 4, "lot expiration date").isoformat()
    return None


# --------------------------------------------------------------------------------------------
# Parsing: 940
# --------------------------------------------------------------------------------------------


def parse_940(ts):
    """940 Warehouse Shipping Order -> canonical ``order.release`` dict."""
    r = _SetReader(ts, "940")
    order_ref = origin = requested_date = warehouse_code = None
    carrier = None
    notes = []
    parties = {}  # entity code -> dict
    party = None
    lines = []
    line = None  # current line accumulator (LX loop)
    item = None  # current W01 loop: dict
    in_lx = False
    has_w05 = False

    def close_item():
        nonlocal item
        if item is not None:
            if len(item["lots"]) > 1:
                second = item["lots"][1]
                raise r.error(
                    "a W01 loop can name only one lot (N9*LT); send one W01 per lot",
                    second[3],
                    2,
                    segment_error_code=SEGMENT_UNEXPECTED,
                )
            for lot in item["lots"]:
                line.lots.append([lot[0], item["quantity"], lot[2], lot[3]])
            if not line.name_parts:
                line.name_parts = item["name_parts"]
            item = None

    for i, seg in r.body():
        sid = seg[0]
        if sid == "W05":
            has_w05 = True
            if r.el(i, 1) == "C":
                raise r.error(
                    "this 940 cancels a shipping order (W0501 = C); it is not an order release",
                    i,
                    1,
                    element_error_code=ELEMENT_INVALID_CODE,
                    bad_value="C",
                )
            order_ref = r.required(i, 2, "depositor order number")
            origin = r.el(i, 3) or None
        elif sid == "N1" and line is None:
            entity = r.required(i, 1, "entity identifier code")
            party = {"index": i, "name": r.el(i, 2), "id": r.el(i, 4), "n3": []}
            parties.setdefault(entity, party)
        elif sid in ("N2", "N3", "N4", "PER") and party is not None and line is None:
            if sid == "N2":
                party.setdefault("company", r.el(i, 1))
            elif sid == "N3":
                party["n3"].append(i)
            elif sid == "N4":
                party.setdefault("n4", i)
            else:
                for qualifier_position in (3, 5, 7):
                    qualifier = r.el(i, qualifier_position)
                    value = r.el(i, qualifier_position + 1)
                    if qualifier == "TE" and value:
                        party.setdefault("phone", value)
                    elif qualifier == "EM" and value:
                        party.setdefault("email", value)
        elif sid == "G62" and line is None:
            party = None
            if r.el(i, 1) == "10":
                requested_date = r.date(i, 2, "requested ship date").isoformat()
        elif sid == "NTE" and line is None:
            party = None
            text = r.el(i, 2)
            if r.el(i, 1) == "ADD" and notes:
                notes[-1] += " " + text
            elif text:
                notes.append(text)
        elif sid == "W66":
            party = None
            code, service = r.el(i, 10) or None, r.el(i, 5) or None
            carrier = {"code": code, "service": service} if code or service else None
        elif sid == "LX":
            close_item()
            line = _LineAccumulator(r.el(i, 1) or None, i)
            lines.append(line)
            in_lx = True
        elif sid == "W01":
            close_item()
            if line is None or (not in_lx and line.items):
                line = _LineAccumulator()
                lines.append(line)
            quantity = r.number(i, 1, "quantity ordered", required=True)
            if quantity <= 0:
                raise r.error(
                    f"quantity ordered {r.el(i, 1)!r} must be greater than zero",
                    i,
                    1,
                    element_error_code=ELEMENT_INVALID_CODE,
                    bad_value=r.el(i, 1),
                )
            uom = r.required(i, 2, "unit of measure")
            sku = r.product_id(i, ((4, 5), (6, 7), (15, 16)), _SKU_QUALIFIERS)
            line.add_item(r, i, sku, 5, quantity, uom, 2)
            item = {"quantity": quantity, "lots": [], "name_parts": []}
        elif sid == "G69" and item is not None:
            item["name_parts"].append(r.el(i, 1))
        elif sid == "N9" and item is not None:
            qualifier, value = r.el(i, 1), r.el(i, 2)
            if qualifier == "LI" and value:
                if line.line_ref is None:
                    line.line_ref = value
                elif value != line.line_ref:
                    raise r.error(
                        f"line reference {value!r} differs from {line.line_ref!r} earlier in "
                        "the same LX loop",
                        i,
                        2,
                        element_error_code=ELEMENT_INVALID_CODE,
                        bad_value=value,
                    )
            elif qualifier == "LT":
                lot = r.required(i, 2, "lot number")
                item["lots"].append([lot, None, _lot_expiration(r, i), i])
        elif sid == "W76":
            close_item()
            r.number(i, 1, "total quantity ordered", required=True)
    close_item()

    if not has_w05:
        raise r.missing_segment("W05", "the W05 shipping order identification is missing")
    ship = parties.get("ST")
    if ship is None:
        raise r.missing_segment("N1", "no ship-to party (N1*ST) in the shipping order")
    warehouse = parties.get("WH")
    if warehouse is None:
        raise r.missing_segment("N1", "no warehouse party (N1*WH) in the shipping order")
    warehouse_code = warehouse["id"] or warehouse["name"]
    if not warehouse_code:
        raise r.error(
            "warehouse code is missing", warehouse["index"], 4, element_error_code=ELEMENT_MISSING
        )
    if not lines:
        raise r.missing_segment("W01", "the shipping order has no W01 line items")

    ship_index = ship["index"]
    if not ship["name"]:
        raise r.error("ship-to name is missing", ship_index, 2, element_error_code=ELEMENT_MISSING)
    if not ship["n3"]:
        raise r.missing_segment("N3", "the ship-to address (N3) is missing")
    if "n4" not in ship:
        raise r.missing_segment("N4", "the ship-to city/postal code (N4) is missing")
    n3 = ship["n3"][0]
    street2_parts = [r.el(n3, 2)] + [r.el(extra, 1) for extra in ship["n3"][1:]]
    street2 = ", ".join(part for part in street2_parts if part) or None
    n4 = ship["n4"]
    country = r.el(n4, 4) or "US"
    if not re.match(r"^[A-Z]{2}$", country):
        raise r.error(
            f"country code {country!r} must be a 2-letter ISO code",
            n4,
            4,
            element_error_code=ELEMENT_INVALID_CODE,
            bad_value=country,
        )
    ship_to = {
        "name": ship["name"],
        "company": ship.get("company") or None,
        "street": r.required(n3, 1, "ship-to street"),
        "street2": street2,
        "city": r.required(n4, 1, "ship-to city"),
        "state_code": r.el(n4, 2) or None,
        "zip": r.required(n4, 3, "ship-to postal code"),
        "country_code": country,
        "email": ship.get("email") or None,
        "phone": ship.get("phone") or None,
    }
    out_lines = []
    for position, line in enumerate(_merge_lines(r, lines, "W01"), start=1):
        out_lines.append(
            {
                "line_ref": line.line_ref or line.assigned_number or str(position),
                "sku": line.sku,
                "name": " ".join(part for part in line.name_parts if part) or None,
                "quantity": float(line.quantity),
                "uom": line.uom,
                "lots": _lots_output(line),
            }
        )
    return {
        "order_ref": order_ref,
        "origin": origin,
        "warehouse_code": warehouse_code,
        "requested_date": requested_date,
        "carrier": carrier,
        "ship_to": ship_to,
        "lines": out_lines,
        "notes": "\n".join(notes) or None,
    }


# --------------------------------------------------------------------------------------------
# Parsing: 945
# --------------------------------------------------------------------------------------------


def parse_945(ts):
    """945 Warehouse Shipping Advice -> canonical ``shipment.confirmed`` dict."""
    r = _SetReader(ts, "945")
    w06 = None
    order_ref = shipment_ref = None
    ship_date = ship_time = None
    zone = None
    carrier = None
    tracking = None
    header_refs = {}
    lines = []
    line = None
    item = None  # current W12 loop
    in_lx = False

    def close_item():
        nonlocal item
        if item is not None:
            lots = item["lots"]
            if len(lots) > 1:
                raise r.error(
                    "a W12 loop can name only one lot (N9*LT); send one W12 per lot",
                    lots[1][3],
                    2,
                    segment_error_code=SEGMENT_UNEXPECTED,
                )
            if not lots and item["warehouse_lot"]:
                lots = [[item["warehouse_lot"], None, None, item["index"]]]
            for lot in lots:
                line.lots.append([lot[0], item["quantity"], lot[2], lot[3]])
            item = None

    for i, seg in r.body():
        sid = seg[0]
        if sid == "W06":
            w06 = i
            order_ref = r.required(i, 2, "depositor order number")
            if r.el(i, 3):
                ship_date = r.date(i, 3, "shipment date")
            shipment_ref = r.el(i, 4) or None
        elif sid == "G62" and line is None:
            if r.el(i, 1) == "11":
                ship_date = r.date(i, 2, "ship date")
                if r.el(i, 4):
                    ship_time = r.time(i, 4, "ship time")
                    zone = r.zone(i, 5)
        elif sid == "W27":
            code, service = r.el(i, 2) or None, r.el(i, 3) or None
            carrier = {"code": code, "service": service} if code or service else None
        elif sid == "N9":
            qualifier, value = r.el(i, 1), r.el(i, 2)
            if qualifier == "2I" and value and tracking is None:
                tracking = value
            if line is None:
                if value:
                    header_refs.setdefault(qualifier, value)
            elif qualifier == "LI" and value:
                if line.line_ref is None:
                    line.line_ref = value
                elif value != line.line_ref:
                    raise r.error(
                        f"line reference {value!r} differs from {line.line_ref!r} earlier in "
                        "the same LX loop",
                        i,
                        2,
                        element_error_code=ELEMENT_INVALID_CODE,
                        bad_value=value,
                    )
            elif qualifier == "LT" and item is not None:
                lot = r.required(i, 2, "lot number")
                item["lots"].append([lot, None, _lot_expiration(r, i), i])
        elif sid == "LX":
            close_item()
            line = _LineAccumulator(r.el(i, 1) or None, i)
            lines.append(line)
            in_lx = True
        elif sid == "W12":
            close_item()
            if line is None or (not in_lx and line.items):
                line = _LineAccumulator()
                lines.append(line)
            status = r.required(i, 1, "shipment/order status code")
            r.number(i, 2, "quantity ordered")
            shipped = r.number(i, 3, "quantity shipped", required=True)
            if shipped < 0:
                raise r.error(
                    f"quantity shipped {r.el(i, 3)!r} must not be negative",
                    i,
                    3,
                    element_error_code=ELEMENT_INVALID_CODE,
                    bad_value=r.el(i, 3),
                )
            r.number(i, 4, "quantity difference")
            sku = r.product_id(i, ((7, 8), (17, 18)), _SKU_QUALIFIERS)
            line.add_item(r, i, sku, 8, shipped, r.el(i, 5) or None, 5)
            line.statuses.append(status)
            item = {"index": i, "quantity": shipped, "lots": [], "warehouse_lot": r.el(i, 9)}
        elif sid == "W03":
            close_item()
            r.number(i, 1, "total units shipped", required=True)
    close_item()

    if w06 is None:
        raise r.missing_segment("W06", "the W06 warehouse shipment identification is missing")
    if not shipment_ref:
        for qualifier in ("BM", "SI", "CN"):
            if header_refs.get(qualifier):
                shipment_ref = header_refs[qualifier]
                break
        else:
            raise r.error(
                "shipment identification number is missing",
                w06,
                4,
                element_error_code=ELEMENT_MISSING,
            )
    if tracking is None:
        tracking = header_refs.get("CN")
    if not lines:
        raise r.missing_segment("W12", "the shipping advice has no W12 line items")

    result = {"order_ref": order_ref, "shipment_ref": shipment_ref}
    if ship_date is not None:
        result["shipped_at"] = _datetime_from(ship_date, ship_time, zone)
    merged = _merge_lines(r, lines, "W12")
    result.update(
        {
            "carrier": carrier,
            "tracking_ref": tracking,
            "complete": all(status == "CC" for ln in merged for status in ln.statuses),
            "lines": [
                {
                    "line_ref": ln.line_ref,
                    "sku": ln.sku,
                    "quantity": float(ln.quantity),
                    "uom": ln.uom,
                    "lots": _lots_output(ln),
                }
                for ln in merged
            ],
        }
    )
    return result


# --------------------------------------------------------------------------------------------
# Parsing: 846
# --------------------------------------------------------------------------------------------


def parse_846(ts):
    """846 Inventory Inquiry/Advice -> canonical ``inventory.snapshot`` dict."""
    r = _SetReader(ts, "846")
    bia = None
    as_of = None
    warehouse_code = None
    lines = []
    current = None  # dict for the current LIN loop
    ctt = None

    def close_line():
        if current is not None and current["quantity"] is None:
            raise r.error(
                f"no on-hand quantity (QTY*17) for SKU {current['sku']!r}",
                current["index"],
                segment_error_code=SEGMENT_MISSING,
            )

    for i, seg in r.body():
        sid = seg[0]
        if sid == "BIA":
            bia = i
        elif sid == "DTM" and current is None:
            if r.el(i, 1) in ("007", "405") and as_of is None:
                day = r.date(i, 2, "inventory date")
                moment = r.time(i, 3, "inventory time") if r.el(i, 3) else None
                zone = r.zone(i, 4)
                as_of = _datetime_from(day, moment, zone)
        elif sid == "N1" and current is None:
            if r.el(i, 1) == "WH" and warehouse_code is None:
                warehouse_code = r.el(i, 4) or r.el(i, 2)
                if not warehouse_code:
                    raise r.error(
                        "warehouse code is missing", i, 4, element_error_code=ELEMENT_MISSING
                    )
        elif sid == "LIN":
            close_line()
            pairs = tuple((p, p + 1) for p in range(2, max(len(seg), 4), 2))
            sku = r.product_id(i, pairs, _SKU_QUALIFIERS_846)
            lot = None
            for qualifier_position, id_position in pairs:
                if r.el(i, qualifier_position) == "LT":
                    lot = r.el(i, id_position) or None
            current = {"index": i, "sku": sku, "lot": lot, "quantity": None, "uom": None}
            lines.append(current)
        elif sid == "QTY" and current is not None:
            if r.el(i, 1) == "17":
                if current["quantity"] is not None:
                    raise r.error(
                        "a second QTY*17 in the same LIN loop",
                        i,
                        1,
                        segment_error_code=SEGMENT_UNEXPECTED,
                    )
                current["quantity"] = r.number(i, 2, "quantity on hand", required=True)
                composite = r.el(i, 3)
                uom = composite.split(ts.separators.composite)[0] if composite else ""
                current["uom"] = uom or None
        elif sid == "CTT":
            close_line()
            ctt = i
    close_line()

    if bia is None:
        raise r.missing_segment("BIA", "the BIA beginning segment is missing")
    snapshot_ref = r.required(bia, 3, "inventory report reference")
    if as_of is None and r.el(bia, 4):
        day = r.date(bia, 4, "report date")
        moment = r.time(bia, 5, "report time") if r.el(bia, 5) else None
        as_of = _datetime_from(day, moment, _UTC)
    if warehouse_code is None:
        raise r.missing_segment("N1", "no warehouse party (N1*WH) in the inventory advice")
    if ctt is not None:
        declared = r.number(ctt, 1, "number of line items", required=True)
        if declared != len(lines):
            raise r.error(
                f"CTT declares {r.el(ctt, 1)} line item(s) but the advice has {len(lines)} "
                "LIN loop(s)",
                ctt,
                1,
                element_error_code=ELEMENT_INVALID_CODE,
                bad_value=r.el(ctt, 1),
            )
        r.number(ctt, 2, "hash total")
    result = {"snapshot_ref": snapshot_ref, "warehouse_code": warehouse_code}
    if as_of is not None:
        result["as_of"] = as_of
    result["lines"] = [
        {
            "sku": line["sku"],
            "lot": line["lot"],
            "quantity": float(line["quantity"]),
            "uom": line["uom"],
        }
        for line in lines
    ]
    return result


# --------------------------------------------------------------------------------------------
# Parsing: 997 and convenience
# --------------------------------------------------------------------------------------------

_ACK_STATUS = {
    "A": "accepted",
    "E": "accepted_with_errors",
    "M": "rejected",
    "P": "partially_accepted",
    "R": "rejected",
    "W": "rejected",
    "X": "rejected",
}


def _ack_error(segment_id, position, code):
    return {
        "segment_id": segment_id or None,
        "segment_position": int(position) if position is not None else None,
        "segment_error_code": code or None,
        "element_position": None,
        "element_error_code": None,
        "bad_value": None,
    }


def parse_997(ts):
    """997 Functional Acknowledgment -> dict (not a canonical payload).

    ``{"functional_id", "group_control_number", "status", "sets_included", "sets_received",
    "sets_accepted", "transaction_sets": [{"code", "control_number", "status", "error_codes",
    "errors": [{"segment_id", "segment_position", "segment_error_code", "element_position",
    "element_error_code", "bad_value"}]}]}``; status is accepted, accepted_with_errors,
    partially_accepted or rejected.
    """
    r = _SetReader(ts, "997")
    result = None
    current = None
    for i, seg in r.body():
        sid = seg[0]
        if sid == "AK1":
            result = {
                "functional_id": r.required(i, 1, "functional identifier code"),
                "group_control_number": r.required(i, 2, "group control number"),
                "status": None,
                "sets_included": None,
                "sets_received": None,
                "sets_accepted": None,
                "transaction_sets": [],
            }
        elif sid == "AK2" and result is not None:
            current = {
                "code": r.required(i, 1, "transaction set identifier code"),
                "control_number": r.required(i, 2, "transaction set control number"),
                "status": None,
                "error_codes": [],
                "errors": [],
            }
            result["transaction_sets"].append(current)
        elif sid == "AK3" and current is not None:
            position = r.number(i, 2, "segment position in transaction set")
            current["errors"].append(_ack_error(r.el(i, 1), position, r.el(i, 4)))
        elif sid == "AK4" and current is not None:
            if not current["errors"] or current["errors"][-1]["element_position"] is not None:
                previous = current["errors"][-1] if current["errors"] else None
                current["errors"].append(
                    _ack_error(
                        previous and previous["segment_id"],
                        previous and previous["segment_position"],
                        previous and previous["segment_error_code"],
                    )
                )
            error = current["errors"][-1]
            position = r.el(i, 1).split(ts.separators.composite)[0]
            error["element_position"] = int(position) if _DIGITS.match(position) else None
            error["element_error_code"] = r.el(i, 3) or None
            error["bad_value"] = r.el(i, 4) or None
        elif sid == "AK5" and current is not None:
            code = r.required(i, 1, "transaction set acknowledgment code")
            if code not in _ACK_STATUS:
                raise r.error(
                    f"unknown acknowledgment code {code!r}",
                    i,
                    1,
                    element_error_code=ELEMENT_INVALID_CODE,
                )
            current["status"] = _ACK_STATUS[code]
            current["error_codes"] = [r.el(i, n) for n in range(2, 7) if r.el(i, n)]
        elif sid == "AK9" and result is not None:
            code = r.required(i, 1, "functional group acknowledge code")
            if code not in _ACK_STATUS:
                raise r.error(
                    f"unknown acknowledgment code {code!r}",
                    i,
                    1,
                    element_error_code=ELEMENT_INVALID_CODE,
                )
            result["status"] = _ACK_STATUS[code]
            for key, position in (
                ("sets_included", 2),
                ("sets_received", 3),
                ("sets_accepted", 4),
            ):
                value = r.number(i, position, key.replace("_", " "), required=True)
                result[key] = int(value)
    if result is None:
        raise r.missing_segment("AK1", "the AK1 functional group response header is missing")
    if result["status"] is None:
        raise r.missing_segment("AK9", "the AK9 functional group response trailer is missing")
    return result


_PARSERS = {"940": parse_940, "945": parse_945, "846": parse_846, "997": parse_997}


def parse_documents(text):
    """Parse every transaction set of an interchange.

    Returns ``[(message_type, payload), ...]`` in file order, with message types
    ``order.release`` (940), ``shipment.confirmed`` (945), ``inventory.snapshot`` (846) and
    ``functional.ack`` (997). Any other transaction set raises :class:`X12ParseError`.
    """
    interchange = text if isinstance(text, Interchange) else parse_interchange(text)
    documents = []
    for group in interchange.groups:
        for ts in group.transaction_sets:
            parser = _PARSERS.get(ts.code)
            if parser is None:
                raise X12ParseError(
                    f"transaction set {ts.code!r} is not supported (supported: "
                    f"{', '.join(sorted(_PARSERS))})",
                    "ST",
                    1,
                    1,
                    transaction_set=ts.code,
                    set_control_number=ts.control_number,
                    group_control_number=group.control_number,
                    element_error_code=ELEMENT_INVALID_CODE,
                    set_error_code="1",
                )
            try:
                documents.append((MESSAGE_TYPES[ts.code], parser(ts)))
            except X12ParseError as error:
                error.group_control_number = group.control_number
                raise
    return documents


# --------------------------------------------------------------------------------------------
# Building
# --------------------------------------------------------------------------------------------

_OUT = Separators()


def _render(segment, separators=_OUT):
    """Serialize one segment: drop trailing empty elements, refuse delimiters in values."""
    elements = ["" if value is None else str(value) for value in segment]
    while len(elements) > 1 and elements[-1] == "":
        elements.pop()
    forbidden = (separators.element, separators.composite, separators.segment, "\r", "\n")
    checked = elements[1:] if elements[0] != "ISA" else elements[1:16]  # ISA16 is a delimiter
    for position, value in enumerate(checked, start=1):
        for char in forbidden:
            if char in value:
                shown = {"\r": "carriage return", "\n": "line break"}.get(char, repr(char))
                raise X12BuildError(
                    f"cannot write element {elements[0]}{position:02d}: value {value!r} "
                    f"contains the X12 delimiter {shown}; remove it from the source record"
                )
    return separators.element.join(elements) + separators.segment


def _isa(envelope):
    return [
        "ISA",
        "00",
        " " * 10,
        "00",
        " " * 10,
        envelope.sender_qualifier,
        envelope.sender_id.ljust(15),
        envelope.receiver_qualifier,
        envelope.receiver_id.ljust(15),
        envelope.date.strftime("%y%m%d"),
        envelope.time.strftime("%H%M"),
        "U",
        ISA_VERSION,
        f"{envelope.interchange_control_number:09d}",
        "1" if envelope.acknowledgment_requested else "0",
        envelope.usage_indicator,
        _OUT.composite,
    ]


def _interchange(envelope, functional_id, bodies, set_control_number=1):
    """Wrap transaction set bodies ``[(code, [segments without ST/SE])]`` in ST/SE, GS/GE and
    ISA/IEA and return the interchange text (no line breaks between segments)."""
    if isinstance(set_control_number, bool) or not isinstance(set_control_number, int):
        raise X12BuildError(f"set_control_number must be an integer, got {set_control_number!r}")
    out = []
    isa = _render(_isa(envelope))
    if len(isa) != ISA_LENGTH:  # pragma: no cover - guarded by Envelope validation
        raise X12BuildError(f"ISA segment is {len(isa)} characters, expected {ISA_LENGTH}")
    out.append(isa)
    out.append(
        _render(
            [
                "GS",
                functional_id,
                (envelope.application_sender or envelope.sender_id).strip(),
                (envelope.application_receiver or envelope.receiver_id).strip(),
                _x12_date(envelope.date),
                envelope.time.strftime("%H%M"),
                str(envelope.group_control_number),
                "X",
                GS_VERSION,
            ]
        )
    )
    count = 0
    for offset, (code, body) in enumerate(bodies):
        control = f"{set_control_number + offset:04d}"
        segments = [["ST", code, control], *body]
        segments.append(["SE", str(len(segments) + 1), control])
        out.extend(_render(segment) for segment in segments)
        count += 1
    out.append(_render(["GE", str(count), str(envelope.group_control_number)]))
    out.append(_render(["IEA", "1", f"{envelope.interchange_control_number:09d}"]))
    return "".join(out)


def _require(mapping, key, what):
    value = mapping.get(key) if isinstance(mapping, Mapping) else None
    if value is None or (isinstance(value, str) and not value.strip()):
        raise X12BuildError(f"{what} is required")
    return value


def _party_segments(entity, party, what):
    segments = [["N1", entity, _require(party, "name", f"{what}.name")]]
    if party.get("company"):
        segments.append(["N2", party["company"]])
    segments.append(["N3", _require(party, "street", f"{what}.street"), party.get("street2")])
    segments.append(
        [
            "N4",
            _require(party, "city", f"{what}.city"),
            party.get("state_code"),
            _require(party, "zip", f"{what}.zip"),
            _require(party, "country_code", f"{what}.country_code"),
        ]
    )
    contacts = []
    if party.get("phone"):
        contacts += ["TE", party["phone"]]
    if party.get("email"):
        contacts += ["EM", party["email"]]
    if contacts:
        segments.append(["PER", "IC", party["name"], *contacts])
    return segments


def _split_lots(line, what):
    """[(lot dict or None, Decimal quantity)] covering the whole line quantity."""
    quantity = _to_decimal(line.get("quantity"), f"{what}.quantity")
    parts, assigned = [], Decimal(0)
    for n, lot in enumerate(line.get("lots") or []):
        lot_quantity = _to_decimal(lot.get("quantity"), f"{what}.lots[{n}].quantity")
        _require(lot, "lot", f"{what}.lots[{n}].lot")
        assigned += lot_quantity
        parts.append((lot, lot_quantity))
    if assigned > quantity:
        raise X12BuildError(
            f"{what}: the lot quantities ({_format_number(assigned)}) exceed the line quantity "
            f"({_format_number(quantity)})"
        )
    if quantity - assigned > 0 or not parts:
        parts.append((None, quantity - assigned))
    return quantity, parts


def _lot_segment(lot, what):
    expiration = lot.get("expiration_date")
    if expiration:
        expiration = _x12_date(_parse_canonical_date(expiration, f"{what}.lots.expiration_date"))
    return ["N9", "LT", lot["lot"], None, expiration or None]


def _body_940(order):
    if not isinstance(order, Mapping):
        raise X12BuildError("order must be a dict (canonical order.release)")
    segments = [
        ["W05", "N", _require(order, "order_ref", "order_ref"), order.get("origin")],
    ]
    segments += _party_segments("ST", _require(order, "ship_to", "ship_to"), "ship_to")
    segments.append(["N1", "WH", None, "91", _require(order, "warehouse_code", "warehouse_code")])
    if order.get("requested_date"):
        day = _parse_canonical_date(order["requested_date"], "requested_date")
        segments.append(["G62", "10", _x12_date(day)])
    for text in (order.get("notes") or "").splitlines():
        if text.strip():
            chunks = _wrap(text, 80)
            segments.append(["NTE", "WHI", chunks[0]])
            segments += [["NTE", "ADD", chunk] for chunk in chunks[1:]]
    carrier = order.get("carrier") or {}
    segments.append(
        ["W66", "PP", "M", None, None, carrier.get("service"), None, None, None, None]
        + [carrier.get("code")]
    )
    lines = order.get("lines") or []
    if not lines:
        raise X12BuildError("order has no lines")
    total = Decimal(0)
    for n, line in enumerate(lines, start=1):
        what = f"lines[{n - 1}]"
        quantity, parts = _split_lots(line, what)
        if quantity <= 0:
            raise X12BuildError(f"{what}.quantity must be greater than zero")
        total += quantity
        sku = _require(line, "sku", f"{what}.sku")
        uom = _require(line, "uom", f"{what}.uom")
        line_ref = _require(line, "line_ref", f"{what}.line_ref")
        segments.append(["LX", str(n)])
        for lot, part_quantity in parts:
            segments.append(["W01", _format_number(part_quantity), uom, None, "VN", sku])
            if line.get("name"):
                segments += [["G69", chunk] for chunk in _wrap(line["name"], 45)]
            segments.append(["N9", "LI", line_ref])
            if lot is not None:
                segments.append(_lot_segment(lot, what))
    segments.append(["W76", _format_number(total)])
    return segments


def build_940(order, envelope, set_control_number=1):
    """Canonical ``order.release`` -> 940 interchange (functional group OW)."""
    return _interchange(envelope, "OW", [("940", _body_940(order))], set_control_number)


def _body_945(shipment, ordered_quantities=None, ship_to=None, transport_method="M"):
    if not isinstance(shipment, Mapping):
        raise X12BuildError("shipment must be a dict (canonical shipment.confirmed)")
    shipped_at = None
    if shipment.get("shipped_at"):
        shipped_at = _parse_canonical_datetime(shipment["shipped_at"], "shipped_at")
    segments = [
        [
            "W06",
            "F",
            _require(shipment, "order_ref", "order_ref"),
            _x12_date(shipped_at) if shipped_at else None,
            _require(shipment, "shipment_ref", "shipment_ref"),
        ]
    ]
    if ship_to:
        segments += _party_segments("ST", ship_to, "ship_to")
    if shipment.get("tracking_ref"):
        segments.append(["N9", "2I", shipment["tracking_ref"]])
    if shipped_at:
        segments.append(["G62", "11", _x12_date(shipped_at), "8", _x12_time(shipped_at), "UT"])
    carrier = shipment.get("carrier") or {}
    if carrier.get("code") or carrier.get("service"):
        segments.append(["W27", transport_method, carrier.get("code"), carrier.get("service")])
    lines = shipment.get("lines") or []
    if not lines:
        raise X12BuildError("shipment has no lines")
    ordered_quantities = ordered_quantities or {}
    default_status = "CP" if shipment.get("complete") is False else "CC"
    total = Decimal(0)
    for n, line in enumerate(lines, start=1):
        what = f"lines[{n - 1}]"
        shipped, parts = _split_lots(line, what)
        if shipped < 0:
            raise X12BuildError(f"{what}.quantity must not be negative")
        total += shipped
        sku = _require(line, "sku", f"{what}.sku")
        key = line.get("line_ref") or sku
        ordered = difference = None
        status = default_status
        if key in ordered_quantities and ordered_quantities[key] is not None:
            ordered = _to_decimal(ordered_quantities[key], f"ordered quantity of {key}")
            difference = ordered - shipped
            status = "CC" if shipped >= ordered else "CP"
        segments.append(["LX", str(n)])
        if line.get("line_ref"):
            segments.append(["N9", "LI", line["line_ref"]])
        for part, (lot, part_quantity) in enumerate(parts):
            first = part == 0
            segments.append(
                [
                    "W12",
                    status,
                    _format_number(ordered) if first and ordered is not None else None,
                    _format_number(part_quantity),
                    _format_number(difference) if first and difference is not None else None,
                    line.get("uom"),
                    None,
                    "VN",
                    sku,
                ]
            )
            if lot is not None:
                segments.append(_lot_segment(lot, what))
    segments.append(["W03", _format_number(total)])
    return segments


def build_945(
    shipment,
    envelope,
    set_control_number=1,
    *,
    ordered_quantities=None,
    ship_to=None,
    transport_method="M",
):
    """Canonical ``shipment.confirmed`` -> 945 interchange (functional group SW).

    ``ordered_quantities`` maps ``line_ref`` (or ``sku`` for lines without one) to the ordered
    quantity, which sets W1202/W1204 and the CC/CP status. ``ship_to`` (same shape as the
    order.release ``ship_to``) adds an N1*ST loop. ``transport_method`` is W2701.
    """
    body = _body_945(shipment, ordered_quantities, ship_to, transport_method)
    return _interchange(envelope, "SW", [("945", body)], set_control_number)


def _body_846(snapshot, envelope):
    if not isinstance(snapshot, Mapping):
        raise X12BuildError("snapshot must be a dict (canonical inventory.snapshot)")
    as_of = None
    if snapshot.get("as_of"):
        as_of = _parse_canonical_datetime(snapshot["as_of"], "as_of")
    report = as_of or dt.datetime.combine(envelope.date, envelope.time, tzinfo=_UTC)
    segments = [
        [
            "BIA",
            "00",
            "SI",
            _require(snapshot, "snapshot_ref", "snapshot_ref"),
            _x12_date(report),
            _x12_time(report),
        ]
    ]
    if as_of:
        segments.append(["DTM", "007", _x12_date(as_of), _x12_time(as_of), "UT"])
    segments.append(
        ["N1", "WH", None, "91", _require(snapshot, "warehouse_code", "warehouse_code")]
    )
    lines = snapshot.get("lines") or []
    total = Decimal(0)
    for n, line in enumerate(lines, start=1):
        what = f"lines[{n - 1}]"
        quantity = _to_decimal(line.get("quantity"), f"{what}.quantity")
        total += quantity
        lin = ["LIN", str(n), "SK", _require(line, "sku", f"{what}.sku")]
        if line.get("lot"):
            lin += ["LT", line["lot"]]
        segments.append(lin)
        segments.append(["QTY", "17", _format_number(quantity), line.get("uom")])
    segments.append(["CTT", str(len(lines)), _format_number(total)])
    return segments


def build_846(snapshot, envelope, set_control_number=1):
    """Canonical ``inventory.snapshot`` -> 846 interchange (functional group IB)."""
    body = _body_846(snapshot, envelope)
    return _interchange(envelope, "IB", [("846", body)], set_control_number)


_ERROR_KEYS = (
    "segment_id",
    "segment_position",
    "loop_id",
    "segment_error_code",
    "element_position",
    "component_position",
    "element_reference",
    "element_error_code",
    "bad_value",
    "set_error_code",
)


def _error_attributes(error):
    if isinstance(error, X12ParseError):
        return {
            "segment_id": error.segment_id,
            "segment_position": error.segment_position,
            "loop_id": None,
            "segment_error_code": error.segment_error_code,
            "element_position": error.element_position,
            "component_position": error.component_position,
            "element_reference": None,
            "element_error_code": error.element_error_code,
            "bad_value": error.bad_value,
            "set_error_code": error.set_error_code,
        }
    if isinstance(error, Mapping):
        return {key: error.get(key) for key in _ERROR_KEYS}
    raise X12BuildError(f"997 errors must be X12ParseError or dict, got {type(error).__name__}")


def _errors_by_set(errors):
    """Normalize ``errors`` to {(group control or None, set control): [attribute dicts]}."""
    result = {}
    if not errors:
        return result
    if isinstance(errors, Mapping):
        items = errors.items()
    else:
        items = []
        for error in errors:
            if not getattr(error, "set_control_number", None):
                raise X12BuildError(
                    "a 997 error given as a list must carry set_control_number; pass a dict "
                    "{set control number: [errors]} instead"
                )
            key = (error.group_control_number, error.set_control_number)
            items.append((key, [error]))
    for key, values in items:
        group, control = key if isinstance(key, tuple) else (None, key)
        if isinstance(values, X12ParseError | Mapping):
            values = [values]
        bucket = result.setdefault((group, str(control)), [])
        bucket.extend(_error_attributes(value) for value in values)
    return result


def _set_errors(errors_by_set, group, ts):
    found = []
    for (group_control, control), errors in errors_by_set.items():
        if group_control is not None and not _same_control(group_control, group.control_number):
            continue
        if _same_control(control, ts.control_number):
            found.extend(errors)
    return found


def _ak_segments(ts, errors):
    segments = []
    set_codes = []
    for error in errors:
        if error["set_error_code"] and error["set_error_code"] not in set_codes:
            set_codes.append(str(error["set_error_code"]))
        if not error["segment_id"]:
            continue
        element = error["element_position"]
        segment_code = error["segment_error_code"]
        if not segment_code:
            if element:
                segment_code = SEGMENT_ELEMENT_ERRORS
            elif error["segment_position"] is None:
                segment_code = SEGMENT_MISSING
            else:
                segment_code = SEGMENT_UNEXPECTED
        position = error["segment_position"] or len(ts.segments)
        segments.append(
            ["AK3", error["segment_id"], str(position), error["loop_id"], str(segment_code)]
        )
        if element:
            where = str(element)
            if error["component_position"]:
                where += f"{_OUT.composite}{error['component_position']}"
            bad_value = error["bad_value"]
            if bad_value is not None:
                bad_value = str(bad_value)[:99]
                if any(char in bad_value for char in "*>~\r\n"):
                    bad_value = None
            segments.append(
                [
                    "AK4",
                    where,
                    error["element_reference"],
                    str(error["element_error_code"] or ELEMENT_INVALID_CODE),
                    bad_value,
                ]
            )
        if "5" not in set_codes:
            set_codes.append("5")
    return segments, set_codes[:5]


def build_997(interchange, accepted=True, errors=None, envelope=None, set_control_number=1):
    """Functional acknowledgement of every functional group of ``interchange``.

    A transaction set is accepted (AK5*A) when ``accepted`` is true and no error is given for
    it; otherwise it is rejected (AK5*R with AK3/AK4 per error). ``errors`` is either a dict
    ``{set control number (or (group control number, set control number)): [errors]}`` or a
    list of :class:`X12ParseError` carrying ``set_control_number``. ``envelope`` defaults to
    :meth:`Envelope.reply_to` (received control numbers reused).
    """
    if not isinstance(interchange, Interchange):
        raise TypeError("build_997 expects an Interchange (see parse_interchange)")
    if envelope is None:
        envelope = Envelope.reply_to(interchange)
    errors_by_set = _errors_by_set(errors)
    bodies = []
    for group in interchange.groups:
        body = [["AK1", group.functional_id, group.control_number]]
        accepted_count = 0
        for ts in group.transaction_sets:
            body.append(["AK2", ts.code, ts.control_number])
            set_errors = _set_errors(errors_by_set, group, ts)
            ak_segments, set_codes = _ak_segments(ts, set_errors)
            body += ak_segments
            if accepted and not set_errors:
                body.append(["AK5", "A"])
                accepted_count += 1
            else:
                body.append(["AK5", "R", *set_codes])
        total = len(group.transaction_sets)
        if not accepted or (total and accepted_count == 0):
            status = "R"
        elif accepted_count == total:
            status = "A"
        else:
            status = "P"
        body.append(["AK9", status, str(total), str(total), str(accepted_count)])
        bodies.append(("997", body))
    return _interchange(envelope, "FA", bodies, set_control_number)
