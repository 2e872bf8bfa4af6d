"""Converters between the versions of the 3PL's canonical message types (see
``logistics_integration_base/tools/versions.py`` and ``schemas/CHANGELOG.md``).

- ``order.release`` v2 adds the required ``priority`` (normal / urgent): a 3PL schedules
  its pick waves and the day's carrier cut-off by it. A v1 partner is sent the order
  without it; an order read in v1 is a normal one.
- ``order.ack`` v2 replaces the free-text ``reason`` of a rejection by ``reasons``, one
  entry per problem (code, line, text). A v1 reason is one entry; v1 partners get the
  texts joined in one reason.
"""

from odoo.addons.logistics_integration_base.tools.versions import register_converter


def release_v1_to_v2(data):
    data.setdefault("priority", "normal")
    return data


def release_v2_to_v1(data):
    data.pop("priority", None)
    return data


def ack_v1_to_v2(data):
    reason = data.pop("reason", None)
    if data.get("status") == "rejected" or reason:
        data["reasons"] = [{"code": None, "line_ref": None, "text": reason}] if reason else []
    return data


def ack_v2_to_v1(data):
    reasons = data.pop("reasons", None) or []
    texts = [f"{r['line_ref']}: {r['text']}" if r.get("line_ref") else r["text"] for r in reasons]
    data["reason"] = "; ".join(texts) or None
    return data


register_converter("order.release", 1, 2, up=release_v1_to_v2, down=release_v2_to_v1)
register_converter("order.ack", 1, 2, up=ack_v1_to_v2, down=ack_v2_to_v1)
