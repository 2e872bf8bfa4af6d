"""997 Functional Acknowledgment, functional group FA: read and written.

One 997 per functional group received: AK1 (GS01, GS06); per transaction set AK2 (ST01, ST02),
AK3 (segment id, position in set, loop id, segment error code) and AK4 (element position, data
element reference number, element error code, copy of the bad value) for each error given,
AK5 (A accepted / R rejected + set error codes); AK9 (A/P/R, sets included, received, accepted).
Errors are :class:`~.errors.X12ParseError` instances (they carry the codes the parsers set:
AK403 1 = mandatory element missing, 6 = invalid character, 7 = invalid code, 8 = invalid date,
9 = invalid time) or dicts with the same attribute names.
"""

import dataclasses
from collections.abc import Mapping

from .envelope import Envelope, Interchange, build_interchange
from .errors import (
    ELEMENT_INVALID_CODE,
    SEGMENT_ELEMENT_ERRORS,
    SEGMENT_MISSING,
    SEGMENT_UNEXPECTED,
    X12BuildError,
    X12ParseError,
)
from .segments import DIGITS, OUTPUT, SetReader, same_control

__all__ = [
    "FUNCTIONAL_ID",
    "MESSAGE_TYPE",
    "build_997",
    "describe_997_errors",
    "parse_997",
    "reply_997",
]

FUNCTIONAL_ID = "FA"
MESSAGE_TYPE = "functional.ack"

_ACK_STATUS = {
    "A": "accepted",
    "E": "accepted_with_errors",
    "M": "rejected",
    "P": "partially_accepted",
    "R": "rejected",
    "W": "rejected",
    "X": "rejected",
}


# reading ---------------------------------------------------------------------------------------
def _ack_status(r, index, what):
    """The status an acknowledgment code (AK501, AK901: ``what``) stands for."""
    code = r.required(index, 1, what)
    if code not in _ACK_STATUS:
        raise r.error(
            f"unknown acknowledgment code {code!r}",
            index,
            1,
            element_error_code=ELEMENT_INVALID_CODE,
        )
    return _ACK_STATUS[code]


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
    r = SetReader(ts, "997")
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
            error["element_position"] = int(position) if DIGITS.match(position) else None
            error["element_error_code"] = r.el(i, 3) or None
            error["bad_value"] = r.el(i, 4) or None
        elif sid == "AK5" and current is not None:
            current["status"] = _ack_status(r, i, "transaction set acknowledgment code")
            current["error_codes"] = [r.el(i, n) for n in range(2, 7) if r.el(i, n)]
        elif sid == "AK9" and result is not None:
            result["status"] = _ack_status(r, i, "functional group acknowledge code")
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


# writing ---------------------------------------------------------------------------------------
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
        if group_control is not None and not same_control(group_control, group.control_number):
            continue
        if same_control(control, ts.control_number):
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
                where += f"{OUTPUT.composite}{error['component_position']}"
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
    return build_interchange(envelope, FUNCTIONAL_ID, bodies, set_control_number)


# answering and explaining --------------------------------------------------------------------
def reply_997(interchange, control_number, accepted=True, errors=None):
    """The 997 answering a received interchange, as ``(file name, content)``, with our own
    ``control_number`` (ISA13 = GS06); None when nothing is owed (997s themselves are never
    acknowledged)."""
    groups = [group for group in interchange.groups if group.functional_id != FUNCTIONAL_ID]
    if not groups:
        return None
    target = dataclasses.replace(interchange, groups=groups)
    envelope = Envelope.reply_to(
        target, interchange_control_number=control_number, group_control_number=control_number
    )
    content = build_997(target, accepted=accepted, errors=errors, envelope=envelope)
    return f"997_{interchange.control_number}_{control_number}.x12", content


# 997 codes, for operators reading a rejection from a partner.
AK304_SEGMENT_ERRORS = {
    "1": "unrecognized segment",
    "2": "unexpected segment",
    "3": "mandatory segment missing",
    "4": "loop occurs too often",
    "5": "segment occurs too often",
    "6": "segment not in the transaction set",
    "7": "segment out of sequence",
    "8": "segment has data element errors",
}
AK403_ELEMENT_ERRORS = {
    "1": "mandatory element missing",
    "2": "conditional element missing",
    "3": "too many elements",
    "4": "value too short",
    "5": "value too long",
    "6": "invalid character",
    "7": "invalid code value",
    "8": "invalid date",
    "9": "invalid time",
    "10": "exclusion condition violated",
}


def describe_997_errors(sets):
    """Readable lines for the errors a received 997 reports (``parse_997``'s
    ``transaction_sets``): the segment, its position, the element and what is wrong."""
    lines = []
    for ts in sets:
        for error in ts.get("errors") or []:
            where = f"segment {error.get('segment_id') or '?'}"
            if error.get("segment_position"):
                where += f" (position {error['segment_position']})"
            if error.get("element_position"):
                where += f", element {error['element_position']}"
            code = error.get("element_error_code") or error.get("segment_error_code")
            text = AK403_ELEMENT_ERRORS.get(str(error.get("element_error_code") or ""))
            text = text or AK304_SEGMENT_ERRORS.get(str(error.get("segment_error_code") or ""))
            what = text or f"error code {code}"
            if error.get("bad_value"):
                what += f" ({error['bad_value']!r})"
            lines.append(f"{where}: {what}")
        if not ts.get("errors") and ts.get("error_codes"):
            lines.append(
                f"transaction set {ts.get('code')} {ts.get('control_number')}: "
                f"error codes {', '.join(ts['error_codes'])}"
            )
    return lines
