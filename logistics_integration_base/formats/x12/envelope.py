"""X12 envelope: interchange (ISA/IEA), functional groups (GS/GE), transaction sets (ST/SE)
and their control numbers, read and written.

Reading (:func:`parse_interchange`) detects the separators from the fixed-width ISA and
checks every trailer: ISA13 = IEA02, IEA01 = number of groups, GS06 = GE02, GE01 = number of
sets, ST02 = SE02 and SE01 = number of segments ST..SE. Writing
(:func:`build_interchange`) wraps transaction set bodies in ST/SE, GS/GE and ISA/IEA with the
control numbers of an :class:`Envelope`.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from ..common import UTC
from .errors import (
    ELEMENT_INVALID_CHARACTER,
    ELEMENT_INVALID_CODE,
    ELEMENT_INVALID_DATE,
    ELEMENT_INVALID_TIME,
    ELEMENT_MISSING,
    SEGMENT_UNEXPECTED,
    X12BuildError,
    X12ParseError,
)
from .segments import (
    DIGITS,
    OUTPUT,
    Separators,
    TransactionSet,
    element,
    parse_time,
    render,
    same_control,
    tokenize,
    x12_date,
)

__all__ = [
    "GS_VERSION",
    "ISA_LENGTH",
    "ISA_VERSION",
    "Envelope",
    "FunctionalGroup",
    "Interchange",
    "TransactionSet",
    "build_interchange",
    "parse_documents",
    "parse_interchange",
]

ISA_VERSION = "00401"
GS_VERSION = "004010"
ISA_LENGTH = 106


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
            now = dt.datetime.now(UTC)
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
            group_number = int(first) if DIGITS.match(first) else 1
        if interchange_control_number is None:
            received = interchange.control_number
            interchange_control_number = int(received) if DIGITS.match(received) else 1
        return cls(
            sender_qualifier=interchange.receiver_qualifier,
            sender_id=interchange.receiver_id,
            receiver_qualifier=interchange.sender_qualifier,
            receiver_id=interchange.sender_id,
            interchange_control_number=interchange_control_number,
            group_control_number=group_number,
            usage_indicator=interchange.usage_indicator,
        )


# reading ---------------------------------------------------------------------------------------
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


def _without_line_breaks(raw):
    """CR and LF removed: X12 data never contains them, so when the segment terminator is
    another character they are only a sender's layout (a line per segment, or lines wrapped
    at a fixed width, even inside a segment or an element)."""
    return raw.replace("\r", "").replace("\n", "")


def _declared_separators(raw, element_separator, end):
    """The separators of an ISA whose segment terminator is at index ``end`` (ISA16 just
    before it), or None when the text does not read as an ISA ending there."""
    if end >= len(raw):
        return None
    composite, terminator = raw[end - 1], raw[end]
    isa = raw[:end].split(element_separator)
    if (
        len(isa) != 17
        or len(isa[16]) != 1
        or terminator.isalnum()
        or terminator in (element_separator, composite, " ")
        or terminator in raw[:end]
    ):
        return None
    return Separators(element=element_separator, composite=composite, segment=terminator)


def _isa_separators(raw):
    """The separators an interchange declares in its ISA: element separator = character 4,
    composite separator = ISA16, segment terminator = the character after ISA16. ISA16 is
    character 105 of the fixed-width ISA; an ISA whose padded elements were trimmed by the
    sender's tools (``ISA*00* *00* *ZZ*WAQE *...``, as published samples show) is read too,
    ISA16 then being the character after its 16th element separator."""
    element_separator = raw[3]
    separators = None
    if not (element_separator.isalnum() or element_separator.isspace()):
        separators = _declared_separators(raw, element_separator, ISA_LENGTH - 1)
        if separators is None:
            found = [i for i, char in enumerate(raw[: 2 * ISA_LENGTH]) if char == element_separator]
            if len(found) >= 16:
                separators = _declared_separators(raw, element_separator, found[15] + 2)
    if separators is None:
        raise X12ParseError(
            "the ISA segment does not declare its separators: expected the element separator "
            "as character 4, then 16 elements, ISA16 (the composite separator) and the segment "
            "terminator (character 105 and 106 of a fixed-width ISA)",
            "ISA",
            1,
        )
    return separators


def _envelope_date(segment, position, index):
    value = element(segment, position).strip()
    try:
        if len(value) == 8:
            return dt.datetime.strptime(value, "%Y%m%d").date()
        if len(value) == 6:
            year = int(value[:2])
            century = 2000 if year < 70 else 1900
            return dt.date(century + year, int(value[2:4]), int(value[4:6]))
    except ValueError:  # pylint: disable=except-pass
        pass  # reported just below, naming the segment and element
    raise X12ParseError(
        f"date {value!r} is not a valid date",
        segment[0],
        index + 1,
        position,
        element_error_code=ELEMENT_INVALID_DATE,
        bad_value=value,
    )


def _envelope_time(segment, position, index):
    value = element(segment, position).strip()
    moment = parse_time(value)
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
    value = element(segment, position).strip()
    if not DIGITS.match(value):
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
            bad_value=element(segment, 1),
        )
    if not same_control(element(segment, 2), control_number):
        raise X12ParseError(
            f"{control_what} control number {element(segment, 2)!r} does not match "
            f"{header_element} {control_number!r}",
            segment_id,
            index + 1,
            2,
            bad_value=element(segment, 2),
        )


def parse_interchange(text):
    """Parse and validate one ISA..IEA interchange (``str`` or ``bytes``).

    Checks ISA13 = IEA02, IEA01 = number of groups, GS06 = GE02, GE01 = number of sets,
    ST02 = SE02 and SE01 = number of segments ST..SE. Raises :class:`X12ParseError`.
    """
    raw = _decode(text).lstrip()
    if "\r" in raw[: ISA_LENGTH - 1] or "\n" in raw[: ISA_LENGTH - 1]:
        # a file wrapped at a fixed width (80 characters...): its line breaks are not data
        raw = _without_line_breaks(raw)
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
    separators = _isa_separators(raw)
    terminator = separators.segment
    if terminator not in "\r\n":
        raw = _without_line_breaks(raw)
    segments = tokenize(raw, separators)
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
    if not DIGITS.match(interchange.control_number):
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
                    bad_value=element(se, 1),
                    **context,
                )
            if not same_control(element(se, 2), control):
                raise X12ParseError(
                    f"transaction set control number {element(se, 2)!r} does not match "
                    f"ST02 {control!r}",
                    "SE",
                    se_position,
                    2,
                    set_error_code="3",
                    bad_value=element(se, 2),
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


def parse_documents(text, parsers):
    """Parse every transaction set of an interchange with the parser of its code.

    ``text`` is X12 text (``str``/``bytes``) or an :class:`Interchange`; ``parsers`` maps a
    transaction set code (ST01) to ``(message type, parser)``, the parser taking a
    :class:`TransactionSet`. Returns ``[(message type, parsed), ...]`` in file order. A set
    without a parser raises :class:`X12ParseError` (set error code 1); a parser's error gets
    the group control number.
    """
    interchange = text if isinstance(text, Interchange) else parse_interchange(text)
    documents = []
    for group in interchange.groups:
        for ts in group.transaction_sets:
            entry = parsers.get(ts.code)
            if entry is None:
                raise X12ParseError(
                    f"transaction set {ts.code!r} is not supported (supported: "
                    f"{', '.join(sorted(parsers))})",
                    "ST",
                    1,
                    1,
                    transaction_set=ts.code,
                    set_control_number=ts.control_number,
                    group_control_number=group.control_number,
                    element_error_code=ELEMENT_INVALID_CODE,
                    set_error_code="1",
                )
            message_type, parser = entry
            try:
                documents.append((message_type, parser(ts)))
            except X12ParseError as error:
                error.group_control_number = group.control_number
                raise
    return documents


# writing ---------------------------------------------------------------------------------------
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
        OUTPUT.composite,
    ]


def build_interchange(envelope, functional_id, bodies, set_control_number=1):
    """Wrap transaction set bodies ``[(code, [segments without ST/SE])]`` in ST/SE, GS/GE and
    ISA/IEA and return the interchange text (no line breaks between segments). The sets are
    numbered from ``set_control_number`` (ST02 ``0001``...)."""
    if isinstance(set_control_number, bool) or not isinstance(set_control_number, int):
        raise X12BuildError(f"set_control_number must be an integer, got {set_control_number!r}")
    out = []
    isa = render(_isa(envelope))
    if len(isa) != ISA_LENGTH:  # pragma: no cover - guarded by Envelope validation
        raise X12BuildError(f"ISA segment is {len(isa)} characters, expected {ISA_LENGTH}")
    out.append(isa)
    out.append(
        render(
            [
                "GS",
                functional_id,
                (envelope.application_sender or envelope.sender_id).strip(),
                (envelope.application_receiver or envelope.receiver_id).strip(),
                x12_date(envelope.date),
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
        out.extend(render(segment) for segment in segments)
        count += 1
    out.append(render(["GE", str(count), str(envelope.group_control_number)]))
    out.append(render(["IEA", "1", f"{envelope.interchange_control_number:09d}"]))
    return "".join(out)
