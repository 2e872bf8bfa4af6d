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
        if path in paths and node is not None:
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
                if k in keys and v is not None and not isinstance(v, (dict, list))
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
