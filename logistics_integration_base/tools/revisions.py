"""Revisions of an outbound message: what changed between two payloads, said as field paths
with their old and new values (personal values masked as a message masks them), and the
key a revision is sent under. No ORM here."""

import json

from . import personal

REVISION_MARK = "-r"


def revision_key(root_key, number):
    """The idempotency key of revision ``number`` (2, 3...) of the operation first sent
    under ``root_key``: ``<root key>-r<number>``."""
    return f"{root_key}{REVISION_MARK}{number}"


def _leaves(node, path, out):
    if isinstance(node, dict) and node:
        for key, value in node.items():
            _leaves(value, (*path, str(key)), out)
    elif isinstance(node, list) and node:
        for index, value in enumerate(node):
            _leaves(value, (*path, index), out)
    else:
        out[path] = node
    return out


def _shape(path):
    """A leaf path as the masking paths spell it (array items as ``"[]"``)."""
    return tuple("[]" if isinstance(part, int) else part for part in path)


def _label(path):
    text = ""
    for part in path:
        text += f"[{part}]" if isinstance(part, int) else (f".{part}" if text else part)
    return text or "(payload)"


def _show(value):
    if value is None or value in ({}, []):
        return None
    return value if isinstance(value, str) else json.dumps(value, sort_keys=True)


def changes(old, new, paths=None, keys=None):
    """``[(path, old, new)]`` for every leaf that differs between the payloads ``old`` and
    ``new``, in path order; ``path`` reads ``ship_to.phone`` or ``lines[0].quantity``, a
    value ``None`` when absent or empty, a personal one (at the schema's ``paths``, or under
    one of ``keys``) as ``personal.MASK``."""
    before, after = _leaves(old, (), {}), _leaves(new, (), {})
    found = []
    for path in sorted(before.keys() | after.keys(), key=lambda p: [str(x) for x in p]):
        was, now = _show(before.get(path)), _show(after.get(path))
        if was == now:
            continue
        shape = _shape(path)
        hidden = (paths is not None and any(shape[: len(p)] == p for p in paths)) or (
            keys is not None and any(part in keys for part in path)
        )
        if hidden:
            was = personal.MASK if was is not None else None
            now = personal.MASK if now is not None else None
        found.append((_label(path), was, now))
    return found
