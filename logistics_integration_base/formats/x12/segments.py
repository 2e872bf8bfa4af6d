"""X12 segments: separators, the segment reader and writer, element values (numbers, dates,
times, time codes).

A segment is a list of elements with the segment id first (``segment[n]`` is element n).
Reading: :func:`tokenize` splits an interchange into segments; :class:`SetReader` reads the
elements of a transaction set with errors that name the segment, its position and the element.
Writing: :func:`render` serializes one segment and refuses values that contain a delimiter.
"""

from __future__ import annotations

import datetime as dt
import re
import textwrap
from dataclasses import dataclass, field
from decimal import Decimal
from zoneinfo import ZoneInfo

from ..common import UTC, iso_utc
from .errors import (
    ELEMENT_INVALID_CHARACTER,
    ELEMENT_INVALID_CODE,
    ELEMENT_INVALID_DATE,
    ELEMENT_INVALID_TIME,
    ELEMENT_MISSING,
    SEGMENT_ELEMENT_ERRORS,
    SEGMENT_MISSING,
    X12BuildError,
    X12ParseError,
)

__all__ = [
    "DIGITS",
    "NUMBER",
    "OUTPUT",
    "SEGMENT_ID",
    "Separators",
    "SetReader",
    "TransactionSet",
    "datetime_from",
    "element",
    "parse_time",
    "render",
    "same_control",
    "time_zone",
    "tokenize",
    "wrap",
    "x12_date",
    "x12_time",
]

SEGMENT_ID = re.compile(r"^[A-Z][A-Z0-9]{1,2}$")
NUMBER = re.compile(r"^-?(\d+\.?\d*|\.\d+)$")  # X12 "R" (decimal number) element
DIGITS = re.compile(r"^\d+$")
QUALIFIER = re.compile(r"^[A-Z0-9]{2}$")  # X12 235 product/service id qualifier

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


@dataclass(frozen=True)
class Separators:
    element: str = "*"
    composite: str = ">"
    segment: str = "~"


#: What the builders write.
OUTPUT = Separators()


@dataclass
class TransactionSet:
    """One ST..SE transaction set; ``segments`` includes ST and SE, each a list of elements
    with the segment id first (``segments[i][n]`` is element n of the segment at position
    i + 1)."""

    code: str
    control_number: str
    segments: list[list[str]]
    separators: Separators = field(default_factory=Separators, repr=False, compare=False)


# element values --------------------------------------------------------------------------------
def element(segment, position):
    """Element ``position`` of ``segment``, ``""`` when the segment is shorter."""
    return segment[position] if position < len(segment) else ""


def same_control(a, b):
    """Control numbers are equal (as numbers when both are digits: ``0001`` = ``1``)."""
    a, b = (a or "").strip(), (b or "").strip()
    if DIGITS.match(a) and DIGITS.match(b):
        return int(a) == int(b)
    return a == b


def parse_time(value):
    """HHMM, HHMMSS, HHMMSSD or HHMMSSDD -> time, or None when invalid."""
    if not DIGITS.match(value) or len(value) not in (4, 6, 7, 8):
        return None
    try:
        hours, minutes = int(value[0:2]), int(value[2:4])
        seconds = int(value[4:6]) if len(value) >= 6 else 0
        return dt.time(hours, minutes, seconds)
    except ValueError:
        return None


def time_zone(code):
    """tzinfo of an X12 time code (G6205, DTM04): none, UT or GM is UTC, US zone codes are
    converted; None for a code that is not supported."""
    code = (code or "").strip().upper()
    if not code:
        return UTC
    if code in _FIXED_ZONES:
        return dt.timezone(dt.timedelta(hours=_FIXED_ZONES[code]))
    if code in _NAMED_ZONES:
        return ZoneInfo(_NAMED_ZONES[code])
    return None


def datetime_from(day, moment, zone):
    """Canonical UTC date-time text of an X12 date, time (or None: midnight) and zone."""
    moment = moment or dt.time()
    return iso_utc(dt.datetime.combine(day, moment, tzinfo=zone or UTC))


def x12_date(day):
    """CCYYMMDD."""
    return day.strftime("%Y%m%d")


def x12_time(moment):
    """HHMM, or HHMMSS when there are seconds."""
    return moment.strftime("%H%M%S" if moment.second else "%H%M")


def wrap(text, width):
    """Split free text at word boundaries into pieces of at most ``width`` characters (the
    parsers join continuation pieces with one space, which survives partners that trim
    elements)."""
    return textwrap.wrap(text, width, break_on_hyphens=False) or [text]


# reading ---------------------------------------------------------------------------------------
def tokenize(raw, separators):
    """Split the interchange into segments (lists of elements)."""
    pieces = raw.split(separators.segment)
    tail = pieces.pop()
    segments = []
    for piece in pieces:
        piece = piece.lstrip().rstrip("\r\n")
        if not piece:
            continue
        elements = piece.split(separators.element)
        if not SEGMENT_ID.match(elements[0]):
            raise X12ParseError(
                f"invalid segment identifier {elements[0][:10]!r} (a segment id is 2 or 3 "
                "upper-case letters or digits); the file may be damaged",
                elements[0][:10] or "?",
                len(segments) + 1,
            )
        segments.append(elements)
    tail = tail.strip()
    if tail and tail.split(separators.element)[0] == "IEA":
        # Published files often end with an IEA without its terminator (the file's end
        # ends it); IEA's own checks (group count, ISA13) still catch a cut inside it.
        segments.append(tail.split(separators.element))
        tail = ""
    if tail:
        segment_id = tail.split(separators.element)[0][:3] or "?"
        raise X12ParseError(
            "the file ends in the middle of this segment (no segment terminator "
            f"{separators.segment!r} after {tail[:40]!r}): the interchange is truncated",
            segment_id,
            len(segments) + 1,
        )
    return segments


class SetReader:
    """Element access with errors that name the segment/element of a transaction set.

    ``ts`` is a :class:`TransactionSet` of the expected ``code``; positions (``index``) are
    0-based indexes into ``ts.segments`` (ST is 0), reported 1-based.
    """

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
        """``(index, segment)`` of every segment between ST and SE."""
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
        return element(self.ts.segments[index], position).strip()

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
        if not NUMBER.match(value):
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
            if len(value) != 8 or not DIGITS.match(value):
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
        moment = parse_time(value)
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
        zone = time_zone(code)
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
            if value and qualifier and not QUALIFIER.match(qualifier):
                # e.g. an element left out before it: the id would be read as a qualifier
                raise self.error(
                    f"product ID qualifier {qualifier!r} is not a qualifier code (2 letters or "
                    "digits such as VN, SK, UP, IN): an element is probably missing or extra "
                    "before it",
                    index,
                    qualifier_position,
                    element_error_code=ELEMENT_INVALID_CODE,
                    bad_value=qualifier,
                )
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


# writing ---------------------------------------------------------------------------------------
def render(segment, separators=OUTPUT):
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
