"""Parallel run: what the suite would have sent, compared with what the legacy system sent.

While a backend runs in *shadow* mode the suite builds, validates and records every outbound
message without sending it, and the legacy interface keeps running. When the legacy output is
given to the suite (files in a folder of the partner's SFTP server, or copies posted to
``/logistics/webhook/<code>/legacy``), each legacy document is read into the same canonical
payload and compared with the suite's message of the same *business key*: which field differs,
in words ("quantity 5 vs 4 for SKU MUG-01 on WH/OUT/00042").

A module declares, for each message type it wants compared, how a document is identified and
how its lines are matched, once::

    from odoo.addons.logistics_integration_base.tools.parallel_run import register_comparison

    register_comparison(
        "order.release",
        key="order_ref",                 # the business key: a payload path
        lines="lines", line_key="sku",   # list compared item by item, matched by SKU
        line_label="SKU",
        labels={"quantity": "quantity", "ship_to.zip": "ship-to postcode"},
        ignore=("lines.line_ref",),      # numbering of the suite's own
    )

Values are compared after normalisation: missing, ``None`` and ``""`` are the same; numbers
compare as numbers (``5`` = ``5.0``); text ignores surrounding blanks. A field whose schema
marks it ``x-personal`` is named but its values are not written ("ship-to street differs"):
the report may be read by people who need not see customers' addresses. No ORM here.
"""

import json
from dataclasses import dataclass, field

from .canonical import parse_dataschema

_COMPARISONS = {}


@dataclass(frozen=True)
class Comparison:
    message_type: str
    key: str
    lines: str = None
    line_key: str = None
    line_label: str = None
    labels: dict = field(default_factory=dict)
    ignore: tuple = ()


def register_comparison(
    message_type, key, lines=None, line_key=None, line_label=None, labels=None, ignore=()
):
    """Declare how documents of ``message_type`` are compared (see the module's doc)."""
    if bool(lines) != bool(line_key):
        raise ValueError("lines and line_key go together")
    _COMPARISONS[message_type] = Comparison(
        message_type,
        key,
        lines,
        line_key,
        line_label or line_key,
        dict(labels or {}),
        tuple(ignore),
    )
    return _COMPARISONS[message_type]


def comparison_for(message_type):
    """The registered :class:`Comparison` of ``message_type``, or None."""
    return _COMPARISONS.get(message_type)


def value_at(payload, path):
    """The value at a dotted path of a payload (None when any step is missing)."""
    value = payload
    for part in path.split("."):
        if not isinstance(value, dict):
            return None
        value = value.get(part)
    return value


def business_key(message_type, payload):
    """The business key of a document (text), or None when the type is not compared or the
    document carries no key."""
    comparison = _COMPARISONS.get(message_type)
    if comparison is None or not isinstance(payload, dict):
        return None
    value = value_at(payload, comparison.key)
    if value is None:
        return None
    return str(value).strip() or None


def _normal(value):
    if value is None:
        return None
    if isinstance(value, bool):
        return value
    if isinstance(value, int | float):
        return float(value)
    if isinstance(value, str):
        text = value.strip()
        return text or None
    if isinstance(value, list | dict):
        return json.dumps(value, sort_keys=True, default=str) if value else None
    return str(value)


def _shown(value):
    if value is None:
        return "(empty)"
    if isinstance(value, float):
        return f"{value:g}"
    return str(value)


def _flatten(payload, prefix="", skip=()):
    """``{dotted path: value}`` of the scalar leaves of a payload; lists are kept whole
    (except those in ``skip``, compared by the caller)."""
    out = {}
    for name, value in (payload or {}).items():
        path = f"{prefix}{name}"
        if path in skip:
            continue
        if isinstance(value, dict):
            out.update(_flatten(value, f"{path}.", skip))
        else:
            out[path] = value
    return out


def _label(comparison, path):
    if path in comparison.labels:
        return comparison.labels[path]
    if comparison.lines and path.startswith(f"{comparison.lines}."):
        path = path[len(comparison.lines) + 1 :]
    return path.replace(".", " ").replace("_", " ")


def _is_personal(path, personal_paths):
    parts = tuple(path.split("."))
    return any(parts[: len(p)] == tuple(p) for p in personal_paths)


def _field_differences(comparison, suite, legacy, where, prefix, personal_paths, skip=()):
    out = []
    suite_flat = _flatten(suite, skip=skip)
    legacy_flat = _flatten(legacy, skip=skip)
    for path in sorted(set(suite_flat) | set(legacy_flat)):
        full = f"{prefix}{path}"
        if full in comparison.ignore:
            continue
        ours, theirs = _normal(suite_flat.get(path)), _normal(legacy_flat.get(path))
        if ours == theirs:
            continue
        label = _label(comparison, full)
        if _is_personal(full, personal_paths):
            out.append(f"{label} differs{where}")
        else:
            out.append(f"{label} {_shown(ours)} vs {_shown(theirs)}{where}")
    return out


def differences(message_type, suite, legacy, personal_paths=()):
    """The differences between the suite's payload and the legacy one, as sentences
    ("<field> <suite's value> vs <legacy value> for <line> on <key>"); empty when they
    match. ``personal_paths``: payload paths (tuples, lists as ``[]``) whose values are not
    written."""
    comparison = _COMPARISONS[message_type]
    personal = {tuple(p for p in path if p != "[]") for path in personal_paths}
    key = business_key(message_type, suite) or business_key(message_type, legacy) or "?"
    on = f" on {key}"
    skip = {comparison.lines} if comparison.lines else set()
    out = _field_differences(comparison, suite, legacy, on, "", personal, skip)
    if not comparison.lines:
        return out

    def by_key(payload):
        items = {}
        for item in value_at(payload, comparison.lines) or []:
            item_key = _normal(item.get(comparison.line_key)) if isinstance(item, dict) else None
            items.setdefault(item_key, []).append(item)
        return items

    ours, theirs = by_key(suite), by_key(legacy)
    line_label = comparison.line_label
    for item_key in sorted(set(ours) | set(theirs), key=lambda k: str(k)):
        shown = _shown(item_key)
        mine, other = ours.get(item_key, []), theirs.get(item_key, [])
        if not other:
            out.append(f"{line_label} {shown} only in the suite's message{on}")
            continue
        if not mine:
            out.append(f"{line_label} {shown} only in the legacy output{on}")
            continue
        if len(mine) != len(other):
            out.append(f"{line_label} {shown} on {len(mine)} lines vs {len(other)}{on}")
            continue
        where = f" for {line_label} {shown}{on}"
        for a, b in zip(mine, other, strict=True):
            out.extend(
                _field_differences(
                    comparison, a, b, where, f"{comparison.lines}.", personal, skip=()
                )
            )
    return out


# reading legacy documents ------------------------------------------------------------------------
_LEGACY_READERS = []  # (kind or None, reader, version)


def register_legacy_reader(reader, kind=None, version=None):
    """Add a reader of legacy documents for backends of ``kind`` (all kinds when None):
    ``reader(name, data: bytes)`` returns ``[(message type, canonical payload), ...]``, or
    None when the document is not of its formats; it raises ``ValueError`` (its text naming
    the line or segment) for a document of its format that cannot be read. ``version``: the
    schema version its payloads are in (a file layout carries one version's fields): the
    suite's message is compared in that version."""
    _LEGACY_READERS.append((kind, reader, version))
    return reader


def _read_cloudevents(name, data):
    """Copies given in the canonical form: one CloudEvents JSON event, or a list of them;
    their ``dataschema`` says their version."""
    text = data.lstrip(b"\xef\xbb\xbf \t\r\n")
    if not text.startswith((b"{", b"[")):
        return None
    value = json.loads(text)  # ValueError names the line and column
    events = value if isinstance(value, list) else [value]
    out = []
    for event in events:
        if not isinstance(event, dict) or not event.get("type") or "data" not in event:
            raise ValueError("a JSON copy is a CloudEvents event (type and data) or a list of them")
        named = parse_dataschema(event.get("dataschema"))
        out.append((event["type"], event["data"], named[1] if named else None))
    return out


def read_legacy(name, data, kind=None):
    """What a legacy document holds, ``[(message type, payload, version or None)]``, read by
    the first reader (of the backend's kind) that knows its format; raises ``ValueError``
    when none does or it cannot be read."""
    for reader_kind, reader, version in [*_LEGACY_READERS, (None, _read_cloudevents, None)]:
        if reader_kind not in (None, kind):
            continue
        documents = reader(name, data)
        if documents is not None:
            return [(*doc, version) if len(doc) == 2 else tuple(doc) for doc in documents]
    raise ValueError("its format is not one the parallel run reads")


# the partner's messages during a parallel run ----------------------------------------------------
_INBOUND_CHECKS = {}


def register_inbound_check(message_type, check):
    """Declare how a partner's ``message_type`` received during a parallel run is compared
    with what the legacy interface applied: ``check(message, payload)`` (called with the
    stored message, read by the system) returns ``(business key, [difference, ...])``, the
    differences in words (empty: the legacy applied the same), or None when it cannot tell
    yet (nothing applied yet, to be checked again later)."""
    _INBOUND_CHECKS[message_type] = check
    return check


def inbound_check(message_type):
    return _INBOUND_CHECKS.get(message_type)
