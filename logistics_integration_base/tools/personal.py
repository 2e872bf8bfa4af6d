"""Personal data in messages: which fields of a canonical payload are personal (the
``"x-personal": true`` keyword of its JSON Schema), masking them for users outside the
*Logistics Integration / Personal data* group, and erasing them.

Canonical payloads are masked by their schema's paths. Raw bodies have the partner's shape:
a JSON body is masked by the names of every personal field of any schema (``name``,
``phone``...), wherever they occur; a body that is not JSON (CSV, X12) is hidden whole.
"""

import json

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
    """A copy of ``data`` with the values of every key in ``keys`` replaced, at any depth."""
    if isinstance(data, dict):
        return {
            k: (
                replacement
                if k in keys
                and v is not None
                and v not in (MASK, ERASED)
                and not isinstance(v, (dict, list))
                else mask_keys(v, keys, replacement)
            )
            for k, v in data.items()
        }
    if isinstance(data, list):
        return [mask_keys(v, keys, replacement) for v in data]
    return data


def mask_payload_text(text, paths, replacement=MASK):
    if not text or not paths:
        return text
    try:
        data = json.loads(text)
    except ValueError:
        return HIDDEN_RAW
    return json.dumps(
        mask_paths(data, paths, replacement), indent=2, sort_keys=True, ensure_ascii=False
    )


def mask_raw_text(text, keys):
    if not text:
        return text
    try:
        data = json.loads(text)
    except ValueError:
        return HIDDEN_RAW
    return json.dumps(mask_keys(data, keys), indent=2, sort_keys=True, ensure_ascii=False)


# Storage split ------------------------------------------------------------------------------
# A message stores its texts readable by every Logistics user with the personal values
# replaced by MASK; the clear text, where it differs, goes to a field only the personal-data
# group reads (see logistics.message). These helpers do the splitting; they never touch the
# ORM.

SHORTEST_VALUE = 3  # shorter values ("US", "1") are not searched for in free texts


def _collect(node, path, paths, keys, found):
    if isinstance(node, dict):
        for key, value in node.items():
            if keys is not None and key in keys and not isinstance(value, (dict, list)):
                _add(value, found)
            else:
                _collect(value, (*path, key), paths, keys, found)
    elif isinstance(node, list):
        for value in node:
            _collect(value, (*path, "[]"), paths, keys, found)
    elif paths is not None and path in paths:
        _add(node, found)


def _add(value, found):
    if value is None or isinstance(value, bool):
        return
    text = str(value).strip()
    if len(text) >= SHORTEST_VALUE:
        found.add(text)


def split_text(text, paths=None, keys=None):
    """``(readable, clear, values)`` of a JSON text: ``readable`` with the values at
    ``paths`` (a canonical payload) or of the ``keys`` (a partner's body) masked, ``clear``
    the text itself when masking changed it (else ``None``), ``values`` the personal values
    found (to mask them in free texts, see :func:`redact_values`). A text that is not JSON
    is hidden whole."""
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
    if masked == data:
        return text, None, set()
    found = set()
    _collect(data, (), in_paths, None if paths is not None else set(keys or ()), found)
    readable = json.dumps(masked, indent=2, sort_keys=True, ensure_ascii=False)
    return readable, text, found


def redact_values(text, values, replacement=MASK):
    """``text`` with every occurrence of the personal ``values`` replaced (longest first):
    for what a partner or a validator wrote about the data (an error that echoes a phone
    number)."""
    if not text or not values:
        return text
    for value in sorted(values, key=len, reverse=True):
        if value in text:
            text = text.replace(value, replacement)
        quoted = json.dumps(value, ensure_ascii=True)[1:-1]  # "Zoë" echoed as "Zo\u00eb"
        if quoted != value and quoted in text:
            text = text.replace(quoted, replacement)
    return text


def restore_masked(edited, clear, paths):
    """``edited`` (a payload edited by someone who saw it masked) with the values still
    equal to MASK at personal ``paths`` taken back from ``clear`` at the same place: a
    manager outside the personal-data group corrects a quantity without erasing the
    recipient's phone number."""

    def walk(new, old, path):
        if path in paths and new == MASK:
            return old
        if isinstance(new, dict) and isinstance(old, dict):
            return {k: walk(v, old.get(k), (*path, k)) for k, v in new.items()}
        if isinstance(new, list) and isinstance(old, list):
            return [
                walk(v, old[i] if i < len(old) else None, (*path, "[]")) for i, v in enumerate(new)
            ]
        return new

    return walk(edited, clear, ())
