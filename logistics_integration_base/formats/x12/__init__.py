"""ANSI ASC X12 004010, the generic layer: envelope, segments, 997 acknowledgements.

Pure Python, no ORM. A module exchanging X12 adds the transaction sets it speaks on top of
this layer (the 3PL connector: 940, 945, 846) and keeps its file transport and business logic
to itself.

Layout
======

* :mod:`.errors`: :class:`X12ParseError` (segment, position, element and the codes a 997
  reports), :class:`X12BuildError`, the AK304/AK403 codes.
* :mod:`.segments`: :class:`Separators`, :class:`TransactionSet`, the segment reader
  (:func:`tokenize`, :class:`SetReader`), the segment writer (:func:`render`) and element
  values (numbers, CCYYMMDD dates, times, time codes).
* :mod:`.envelope`: ISA/GS/ST/SE/GE/IEA and control numbers: :func:`parse_interchange`,
  :class:`Envelope`, :func:`build_interchange`, and :func:`parse_documents` which reads every
  set of an interchange with the parsers a module gives.
* :mod:`.ack997`: :func:`parse_997`, :func:`build_997`.

A transaction set module reads with ``SetReader(ts, "210")`` (``r.required``, ``r.number``,
``r.date``... raise errors naming the segment and element) and writes with
``build_interchange(envelope, "IM", [("210", segments)])``.

Conventions
===========

* Delimiters are detected from the fixed-width ISA segment: element separator = character 4,
  composite separator = ISA16 (character 105), segment terminator = character 106. A UTF-8
  byte-order mark and blanks before a segment are read past; when the segment terminator is not
  a line break, CR and LF are dropped wherever they are (a line per segment, or a file wrapped
  at 80 characters inside its segments). An ISA whose padded elements were trimmed is read
  (ISA16 then follows its 16th element separator), and so is a last IEA without its
  terminator. Builders always write ``*``, ``>`` and ``~``.
* Positions: inside a transaction set, ``segment_position`` is counted from ST = 1 (what the
  997 AK302 element expects); for envelope segments (ISA, GS, GE, IEA) it is counted from
  ISA = 1.
* Every parse or validation failure raises :class:`X12ParseError`; its ``str()`` names the
  segment, its position and the element, e.g. ``segment W12 (position 14), element W1203:
  quantity 'abc' is not a number [transaction set 945, control number 0001]``. A value that
  cannot be written (it contains a delimiter, say) raises :class:`X12BuildError`.
* Quantities are X12 ``R`` numbers (``12``, ``2.5``, ``-3``). Dates CCYYMMDD become
  ``YYYY-MM-DD``; date + time become ``YYYY-MM-DDTHH:MM:SSZ`` (UTC). A time code of UT/GM or
  none means UTC; US zone codes (ET, ES, ED, CT, ...) are converted.
* Builders do not truncate values and do not enforce X12 maximum lengths, except for the ISA
  fixed widths. Element values are read without surrounding blanks.
"""

from .ack997 import build_997, describe_997_errors, parse_997, reply_997
from .envelope import (
    GS_VERSION,
    ISA_LENGTH,
    ISA_VERSION,
    Envelope,
    FunctionalGroup,
    Interchange,
    build_interchange,
    parse_documents,
    parse_interchange,
)
from .errors import (
    ELEMENT_INVALID_CHARACTER,
    ELEMENT_INVALID_CODE,
    ELEMENT_INVALID_DATE,
    ELEMENT_INVALID_TIME,
    ELEMENT_MISSING,
    SEGMENT_ELEMENT_ERRORS,
    SEGMENT_MISSING,
    SEGMENT_UNEXPECTED,
    X12BuildError,
    X12ParseError,
)
from .segments import Separators, SetReader, TransactionSet, render, tokenize

__all__ = [
    "ELEMENT_INVALID_CHARACTER",
    "ELEMENT_INVALID_CODE",
    "ELEMENT_INVALID_DATE",
    "ELEMENT_INVALID_TIME",
    "ELEMENT_MISSING",
    "GS_VERSION",
    "ISA_LENGTH",
    "ISA_VERSION",
    "SEGMENT_ELEMENT_ERRORS",
    "SEGMENT_MISSING",
    "SEGMENT_UNEXPECTED",
    "Envelope",
    "FunctionalGroup",
    "Interchange",
    "Separators",
    "SetReader",
    "TransactionSet",
    "X12BuildError",
    "X12ParseError",
    "build_997",
    "describe_997_errors",
    "build_interchange",
    "parse_997",
    "reply_997",
    "parse_documents",
    "parse_interchange",
    "render",
    "tokenize",
]
