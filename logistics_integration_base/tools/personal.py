"""Personal data in messages: which fields of a canonical payload are personal (the
``"x-personal": true`` keyword of its JSON Schema), splitting a text into what every
Logistics user reads (personal values masked) and the clear text only the *Logistics
Integration / Personal data* group reads, putting masked values back after an edit, and
erasing them.

Canonical payloads are masked by their schema's paths. Raw bodies have the partner's shape:
a JSON body is masked by the names of every personal field of any schema (``name``,
``phone``...), wherever they occur, and by the payload's own personal values; a body that is
not JSON (CSV, X12) is hidden whole.
"""

import json
import re

MASK = "•••"
ERASED = "[erased]"
HIDDEN_RAW = "[hidden: may contain personal data]"


def personal_paths(schema):
    """Paths (tuples; ``"[]"`` for array items) of the fields marked ``x-personal``."""
    found = set()

    def walk(node, path):
        if not isinstance(node, dict):
            return
        if node.get("x-personal"):
            found.add(path)
        for key, sub in (node.get("properties") or {}).items():
            walk(sub, (*path, key))
        items = node.get("items")
        if isinstance(items, dict):
            walk(items, (*path, "[]"))
        for keyword in ("anyOf", "oneOf", "allOf"):
            for sub in node.get(keyword) or ():
                walk(sub, path)

    walk(schema, ())
    return frozenset(found)


def mask_paths(data, paths, replacement=MASK):
    """A copy of ``data`` with the values at ``paths`` replaced (``None`` kept)."""

    def walk(node, path):
        if path in paths and node is not None and node not in (MASK, ERASED):
            return replacement
        if isinstance(node, dict):
            return {k: walk(v, (*path, k)) for k, v in node.items()}
        if isinstance(node, list):
            return [walk(v, (*path, "[]")) for v in node]
        return node

    return walk(data, ())


def mask_keys(data, keys, replacement=MASK):
    """A copy of ``data`` with the values of every key in ``keys`` replaced, at any depth
    (a list or an object under such a key is replaced whole)."""
    if isinstance(data, dict):
        return {
            k: (
                replacement
                if k in keys and v not in (None, MASK, ERASED, [], {})
                else mask_keys(v, keys, replacement)
            )
            for k, v in data.items()
        }
    if isinstance(data, list):
        return [mask_keys(v, keys, replacement) for v in data]
    return data


# Storage split ------------------------------------------------------------------------------
# A message stores its texts readable by every Logistics user with the personal values
# replaced by MASK; the clear text, where it differs, goes to a field only the personal-data
# group reads (see logistics.message). These helpers do the splitting; they never touch the
# ORM.

SHORTEST_VALUE = 3  # shorter values ("US", "1") are not searched for in free texts


def _collect(node, path, paths, keys, found):
    if isinstance(node, dict):
        for key, value in node.items():
            if keys is not None and key in keys:
                _collect_all(value, found)
            else:
                _collect(value, (*path, key), paths, keys, found)
    elif isinstance(node, list):
        for value in node:
            _collect(value, (*path, "[]"), paths, keys, found)
    elif paths is not None and path in paths:
        _add(node, found)


def _collect_all(node, found):
    if isinstance(node, dict):
        for value in node.values():
            _collect_all(value, found)
    elif isinstance(node, list):
        for value in node:
            _collect_all(value, found)
    else:
        _add(node, found)


def _add(value, found):
    if value is None or isinstance(value, bool):
        return
    text = str(value).strip()
    if len(text) >= SHORTEST_VALUE:
        found.add(text)


def split_text(text, paths=None, keys=None, values=()):
    """``(readable, clear, found)`` of a JSON text: ``readable`` with the values at
    ``paths`` (a canonical payload) or of the ``keys`` (a partner's body) masked, and every
    string in it holding one of the known personal ``values`` (the payload's, found in a
    partner's body under its own field names) masked too; ``clear`` the text itself when
    that changed it (else ``None``); ``found`` the personal values found (to mask them in
    free texts, see :func:`redact_values`). A text that is not JSON is hidden whole."""
    if not text:
        return text, None, set()
    try:
        data = json.loads(text)
    except ValueError:
        return HIDDEN_RAW, text, set()
    if paths is not None:
        masked = mask_paths(data, paths)
        in_paths = paths
    else:
        masked = mask_keys(data, keys or ())
        in_paths = None
    found = set()
    _collect(data, (), in_paths, None if paths is not None else set(keys or ()), found)
    if values:
        masked = _redact_strings(masked, values)
    if masked == data:
        return text, None, found
    readable = json.dumps(masked, indent=2, sort_keys=True, ensure_ascii=False)
    return readable, text, found


def _redact_strings(node, values):
    if isinstance(node, dict):
        return {k: _redact_strings(v, values) for k, v in node.items()}
    if isinstance(node, list):
        return [_redact_strings(v, values) for v in node]
    if isinstance(node, str) and node not in (MASK, ERASED):
        return redact_values(node, values)
    return node


_SEPARATORS = r"[\s\-./()+]*"


def _value_pattern(value):
    """What matches ``value`` in a text someone else wrote: any letter case, and for a
    phone-like value its digits whatever separates them ("+1 555 0100", "+15550100")."""
    digits = re.sub(r"\D", "", value)
    if len(digits) >= 6 and len(digits) >= len(re.sub(r"[\s\-./()+]", "", value)) - 1:
        return _SEPARATORS.join(digits)
    return re.escape(value)


def redact_values(text, values, replacement=MASK):
    """``text`` with every occurrence of the personal ``values`` replaced (longest first,
    any letter case, phone numbers whatever their separators, JSON-escaped too): for what
    a partner or a validator wrote about the data (an error that echoes a phone number)."""
    if not text or not values:
        return text
    variants = set()
    for value in values:
        variants.add(value)
        quoted = json.dumps(value, ensure_ascii=True)[1:-1]  # "Zoë" echoed as "Zo\u00eb"
        if quoted != value:
            variants.add(quoted)
    patterns = [_value_pattern(v) for v in sorted(variants, key=len, reverse=True)]
    return re.sub("|".join(f"(?:{p})" for p in patterns), replacement, text, flags=re.I)


class MaskedEditRefused(ValueError):
    """An edit of a masked payload that cannot keep its personal values in place."""


def restore_masked(edited, clear, paths=None, keys=None):
    """``edited`` (a payload edited by someone who saw it masked) with the values still
    equal to MASK taken back from ``clear`` at the same place, by the rule that masked
    them (the ``paths`` of a canonical payload, or the ``keys`` of one that broke its
    schema): a manager outside the personal-data group corrects a quantity without erasing
    the recipient's phone number. Adding or removing items of a list holding masked values
    would move them to other items: refused (:class:`MaskedEditRefused`)."""
    keys = set(keys or ())

    def holds_mask(node):
        if isinstance(node, dict):
            return any(holds_mask(v) for v in node.values())
        if isinstance(node, list):
            return any(holds_mask(v) for v in node)
        return node == MASK

    def walk(new, old, path, key=None):
        if new == MASK and ((paths is not None and path in paths) or key in keys):
            return old
        if isinstance(new, dict) and isinstance(old, dict):
            return {k: walk(v, old.get(k), (*path, k), k) for k, v in new.items()}
        if isinstance(new, list) and isinstance(old, list):
            if len(new) != len(old) and holds_mask(new):
                raise MaskedEditRefused(".".join(p for p in path if p != "[]") or "payload")
            return [
                walk(v, old[i] if i < len(old) else None, (*path, "[]")) for i, v in enumerate(new)
            ]
        return new

    restored = walk(edited, clear, ())
    if holds_mask(restored):
        # a masked value moved where it cannot be put back from (another shape, a new key)
        raise MaskedEditRefused("payload")
    return restored
