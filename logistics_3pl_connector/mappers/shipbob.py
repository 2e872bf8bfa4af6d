"""ShipBob <-> canonical payload mapping (pure Python, no Odoo import).

ShipBob's public REST API (https://developer.shipbob.com), dated version ``2026-01`` (the
backend's base URL ends with it: ``https://api.shipbob.com/2026-01``; versions 1.0, 2.0 and
2025-07 were retired on 31 July 2026). Checked against ShipBob's published OpenAPI document
of that version (``tests/conformance/shipbob/SOURCES.md``):

* ``POST /order`` (bearer token = Personal Access Token; header ``shipbob_channel_id``
  required) creates an order; ``reference_id`` must be unique per channel. Answers ``201``
  with the order (``id``, ``status``, ``shipments[]``...). A repeated ``reference_id`` answers
  ``422``; both ``400`` and ``422`` carry ``{field: [messages]}`` (``422`` also
  ``{"errors": [messages]}``). Optional values the order does not have are left out, not sent
  as ``null``; a consumer's address has no ``type`` (that is for the ``MarkFor``/``ShipFrom``
  addresses of retailer programmes).
* ``GET /order/{id}``, ``GET /order?ReferenceIds=...&HasTracking=true&Limit=250`` (polling
  fallback for shipped orders), ``POST /order/{id}:cancel`` (no body) answering
  ``canceled_shipment_results[]``; ``GET /channel`` lists the token's channels and scopes;
  ``GET /webhook`` / ``POST /webhook`` (``{topics, url, secret}``) list and create webhook
  subscriptions (ShipBob offers no other way to subscribe).
* Webhooks are signed with the Standard Webhooks scheme (``webhook-id``,
  ``webhook-timestamp``, ``webhook-signature``); the topic travels in the ``x-webhook-topic``
  header (subscriptions created on the legacy 1.0/2.0 API use ``shipbob-topic`` with names such
  as ``order_shipped``; :func:`topic_from_headers` understands both).
  The payload of the shipment topics is the shipment (``id``, ``order_id``, ``reference_id`` =
  the order's reference, ``status``, ``status_details[]``, ``tracking{carrier,
  tracking_number, carrier_service, shipping_date}``, ``products[{reference_id, sku, name,
  inventory_items[{id, quantity, lot, expiration_date}]}]``); an order wrapping
  ``shipments[]`` is accepted too (legacy ``order_shipped``).

Canonical message types produced: ``shipment.confirmed``, ``shipment.status``,
``return.received`` (schemas in ``../schemas``). Topics that carry nothing the canonical model
needs raise :class:`IgnoredEvent` (with the reason to record on the message); unknown topics and
unusable payloads raise :class:`MappingError`, whose text is meant for an operations user.
"""

import hashlib
import json
import re
from datetime import UTC, datetime, timedelta, timezone

TOPIC_HEADER = "x-webhook-topic"
LEGACY_TOPIC_HEADER = "shipbob-topic"
CHANNEL_HEADER = "shipbob_channel_id"
ORDER_PATH = "/order"
CHANNEL_PATH = "/channel"
WEBHOOK_PATH = "/webhook"
#: the topics a subscription asks for: those the connector applies (of the topics ShipBob's
#: 2026-01 document lets one subscribe to; returns announced or updated and billing are not
#: needed)
WEBHOOK_TOPICS = (
    "order.shipped",
    "order.shipment.delivered",
    "order.shipment.exception",
    "order.shipment.on_hold",
    "order.shipment.cancelled",
    "return.completed",
)
API_VERSION = "2026-01"
#: versions past ShipBob's end of support (https://developer.shipbob.com/versioning)
RETIRED_VERSIONS = ("1.0", "2.0", "2025-07")
DEFAULT_SHIPPING_METHOD = "Standard"

# Legacy (1.0/2.0 subscriptions) topic names -> current names.
LEGACY_TOPICS = {
    "order_shipped": "order.shipped",
    "shipment_delivered": "order.shipment.delivered",
    "shipment_exception": "order.shipment.exception",
    "shipment_onhold": "order.shipment.on_hold",
    "shipment_cancelled": "order.shipment.cancelled",
}

SHIPMENT_STATUS_TOPICS = {
    "order.shipment.delivered": "delivered",
    "order.shipment.exception": "exception",
    "order.shipment.on_hold": "on_hold",
    "order.shipment.cancelled": "cancelled",
}

# ShipBob carrier tracking statuses (order.shipment.tracking.updated) -> canonical status.
TRACKING_STATUSES = {
    "intransit": "in_transit",
    "outfordelivery": "in_transit",
    "pickedup": "in_transit",
    "delivered": "delivered",
    "deliveryexception": "exception",
    "deliveryattemptfailed": "exception",
    "exception": "exception",
    "returntosender": "exception",
}

# Topics ShipBob sends that the canonical model deliberately does not use.
IGNORED_TOPICS = {
    "return.created": "a return was announced; stock is only booked when ShipBob completes it",
    "return.updated": "a return changed before completion; stock is only booked at completion",
    "return.cancelled": "a return was cancelled before anything was received",
    "order.shipment.address.updated": "address changes made at ShipBob are not synchronised",
    "order.shipment.line_item.added": "line changes before shipping are reconciled at shipment",
    "order.shipment.line_item.removed": "line changes before shipping are reconciled at shipment",
    "order.shipment.line_item.updated": "line changes before shipping are reconciled at shipment",
    "order.shipment.shipping_service.updated": "the shipping service is taken from the shipment",
    "order.shipment.tracking_received": "tracking arrives with order.shipped",
}
IGNORED_PREFIXES = {
    "wro.": "receiving orders are not handled by the order connector",
    "billing.": "billing events belong to the billing connector",
}

# ShipBob return actions -> canonical disposition.
RETURN_DISPOSITIONS = {
    "restock": "restock",
    "default": "restock",
    "quarantine": "quarantine",
    "dispose": "scrap",
    "damaged": "damaged",
}

_TIMESTAMP = re.compile(
    r"^(\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(?::\d{2})?)(\.\d+)?(Z|[+-]\d{2}:\d{2})?$", re.IGNORECASE
)

# Shipment statuses meaning "left the warehouse" when polling.
SHIPPED_STATUSES = {"completed", "labeledcreated", "shipped", "intransit", "delivered"}


class MappingError(ValueError):
    """A partner payload cannot be mapped; the message says why, in business words."""


class IgnoredEvent(Exception):
    """A known topic that needs no processing; ``reason`` is what to record."""

    def __init__(self, topic, reason):
        self.topic = topic
        self.reason = reason
        super().__init__(f"ShipBob event '{topic}' ignored: {reason}")


# helpers -----------------------------------------------------------------------------------
def _clean(value):
    if value is None:
        return None
    value = str(value).strip()
    return value or None


def _timestamp(value, what):
    """ShipBob timestamps (up to 7 fractional digits, sometimes no zone) -> RFC 3339 UTC."""
    if value in (None, ""):
        return None
    match = _TIMESTAMP.match(str(value).strip())
    if not match:
        raise MappingError(f"ShipBob sent an unreadable {what}: {value!r}")
    base, fraction, zone = match.groups()
    try:
        moment = datetime.fromisoformat(base + (fraction or "")[:7])
    except ValueError as exc:
        raise MappingError(f"ShipBob sent an unreadable {what}: {value!r}") from exc
    if zone and zone.upper() != "Z":
        hours, minutes = int(zone[1:3]), int(zone[4:6])
        offset = timedelta(hours=hours, minutes=minutes)
        moment = moment.replace(tzinfo=timezone(offset if zone[0] == "+" else -offset))
    elif moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    moment = moment.astimezone(UTC)
    text = moment.strftime("%Y-%m-%dT%H:%M:%S")
    if moment.microsecond:
        text += f".{moment.microsecond:06d}".rstrip("0")
    return text + "Z"


def _present(values):
    """``values`` without the optional ones the order does not have: ShipBob's document marks
    them optional, so they are left out rather than sent as ``null``."""
    return {key: value for key, value in values.items() if value not in (None, "")}


def _date(value):
    if not value:
        return None
    return str(value)[:10]


def _number(value, what):
    try:
        number = float(value)
    except (TypeError, ValueError) as exc:
        raise MappingError(f"ShipBob sent a non-numeric {what}: {value!r}") from exc
    return int(number) if number.is_integer() else number


def _unwrap(body):
    if isinstance(body, bytes | str):
        try:
            body = json.loads(body)
        except ValueError as exc:
            raise MappingError("The ShipBob webhook body is not JSON.") from exc
    if not isinstance(body, dict):
        raise MappingError("The ShipBob webhook body is not a JSON object.")
    # Some relays wrap the resource: {"topic": ..., "data": {...}}.
    if isinstance(body.get("data"), dict) and "reference_id" not in body:
        return body["data"]
    return body


# outbound: order release -> POST /order ---------------------------------------------------
def order_release_to_request(
    data, shipping_method_map=None, location_map=None, default_shipping_method=None
):
    """Canonical ``order.release`` (or ``order.update``) data -> ``POST /order`` JSON body.

    ``shipping_method_map`` maps the canonical carrier to ShipBob's shipping method (the
    merchant maps that name to a Ship Option in ShipBob); keys tried in order:
    ``"<code>/<service>"``, ``service``, ``code``. ``location_map`` maps the canonical
    ``warehouse_code`` to a ShipBob fulfillment center id (``location_id``); unmapped
    warehouses leave the choice to ShipBob.

    ``customs_hold`` / ``customs_hold_reason`` are not mapped: a ShipBob order has no such
    field. ShipBob's nearest equivalent is a Manual hold on the order's shipments, placed and
    released by separate calls (``POST /shipment:bulkPlaceOnHold``,
    ``POST /shipment:bulkReleaseHold``) after the order exists. Until an adapter makes those
    calls, ShipBob backends wait for customs release instead (``logistics_customs_3pl``
    refuses the hold-flag policy for them).
    """
    shipping_method_map = shipping_method_map or {}
    location_map = location_map or {}
    ship_to = data["ship_to"]
    carrier = data.get("carrier") or {}
    code, service = _clean(carrier.get("code")), _clean(carrier.get("service"))
    method = None
    for key in (f"{code}/{service}" if code and service else None, service, code):
        if key and key in shipping_method_map:
            method = shipping_method_map[key]
            break
    method = method or service or default_shipping_method or DEFAULT_SHIPPING_METHOD

    products = []
    for line in data["lines"]:
        quantity = line["quantity"]
        if float(quantity) != int(quantity):
            raise MappingError(
                f"Order {data['order_ref']}: ShipBob ships whole units only, but product "
                f"{line['sku']} has quantity {quantity}. Round the quantity or use a unit "
                "of measure that ShipBob counts in."
            )
        product = {
            "reference_id": line["sku"],
            "name": line.get("name") or line["sku"],
            "quantity": int(quantity),
        }
        line_ref = str(line.get("line_ref") or "")
        if line_ref.isdigit():
            product["external_line_id"] = int(line_ref)
        products.append(product)

    address = _present(
        {
            "address1": ship_to["street"],
            "address2": _clean(ship_to.get("street2")),
            "company_name": _clean(ship_to.get("company")),
            "city": ship_to["city"],
            "state": _clean(ship_to.get("state_code")),
            "country": ship_to["country_code"],
            "zip_code": _clean(ship_to.get("zip")),
        }
    )
    recipient = {"name": ship_to["name"], "address": address}
    recipient.update(
        _present(
            {"email": _clean(ship_to.get("email")), "phone_number": _clean(ship_to.get("phone"))}
        )
    )
    body = {
        "reference_id": data["order_ref"],
        "order_number": data.get("origin") or data["order_ref"],
        "type": "DTC",
        "shipping_method": method,
        "recipient": recipient,
        "products": products,
    }
    location = location_map.get(data.get("warehouse_code"))
    if location is not None:
        body["location_id"] = location
    tags = [{"name": "warehouse", "value": data["warehouse_code"]}]
    if data.get("requested_date"):
        tags.append({"name": "requested_date", "value": data["requested_date"]})
    if data.get("notes"):  # ShipBob has no delivery-notes field; gift_message is printed
        tags.append({"name": "notes", "value": data["notes"]})
    body["tags"] = tags
    return body


def parse_order_response(json_body):
    """``201`` answer of ``POST /order`` (or ``GET /order/{id}``) -> what Odoo keeps.

    Returns ``{"external_order_id", "status", "partner_status", "shipment_ids"}``; ``status``
    is ``"accepted"`` (ShipBob took the order) or ``"rejected"`` (it answered with an order
    already cancelled).
    """
    if not isinstance(json_body, dict) or json_body.get("id") in (None, ""):
        raise MappingError("ShipBob accepted the order but its answer carries no order id.")
    partner_status = json_body.get("status")
    rejected = str(partner_status or "").lower() == "cancelled"
    return {
        "external_order_id": str(json_body["id"]),
        "status": "rejected" if rejected else "accepted",
        "partner_status": partner_status,
        "shipment_ids": [str(s["id"]) for s in json_body.get("shipments") or [] if "id" in s],
    }


def order_ack_from_response(order_ref, json_body):
    """Canonical ``order.ack`` data from the ``POST /order`` answer (ShipBob has no ack
    webhook: the 201 answer is the acknowledgement)."""
    parsed = parse_order_response(json_body)
    return {
        "order_ref": order_ref,
        "status": parsed["status"],
        "reason": (
            f"ShipBob answered with order {parsed['external_order_id']} already cancelled"
            if parsed["status"] == "rejected"
            else None
        ),
        "external_order_id": parsed["external_order_id"],
    }


def _flatten_errors(body):
    """ShipBob error bodies -> list of "field: message" strings."""
    if body is None:
        return []
    if isinstance(body, str):
        return [body.strip()] if body.strip() else []
    if isinstance(body, list):
        out = []
        for item in body:
            out.extend(_flatten_errors(item))
        return out
    if not isinstance(body, dict):
        return [str(body)]
    field = body.get("field") or body.get("property") or body.get("propertyName")
    if isinstance(body.get("message"), str) and field and not isinstance(field, dict | list):
        return [f"{field}: {body['message']}"]  # {"field": ..., "message": ...} items
    meta = {"message", "detail", "title", "type", "status", "traceId", "instance", "details"}
    meta |= {"stackTrace", "extensions", "errors"}
    out = [
        body[key].strip()
        for key in ("message", "detail", "title")
        if isinstance(body.get(key), str) and body[key].strip()
    ][:1]
    if "errors" in body:
        return out + _flatten_errors(body["errors"])
    if out and set(body) <= meta:
        return out
    out = []
    for key, messages in body.items():  # ShipBob validation: {field: [messages]}
        if isinstance(messages, list | tuple):
            text = "; ".join(str(m) for m in messages if m not in (None, ""))
        elif isinstance(messages, dict):
            text = "; ".join(_flatten_errors(messages))
        else:
            text = str(messages)
        name = "" if key in ("", "$") else str(key)
        out.append(f"{name}: {text}" if name and text else name or text)
    return [item for item in out if item]


def is_duplicate_reference(status_code, json_body=None):
    """True when ShipBob refuses an order because its ``reference_id`` already exists —
    typically a resend after a lost answer: look the order up by reference instead."""
    if status_code != 422:
        return False
    text = " ".join(_flatten_errors(json_body)).lower()
    return not text or "reference" in text or "already exists" in text or "duplicate" in text


def classify_error(status_code, json_body=None, advice=None):
    """HTTP error answer -> ``(category, readable reason)``.

    Categories follow the message model: ``auth`` (fix credentials), ``validation`` (fix the
    data, then retry), ``business`` (the partner refuses the request as such), ``technical``
    (transient: retry later). ``advice`` (what to correct) goes before ShipBob's own words in
    a validation failure.
    """
    details = "; ".join(_flatten_errors(json_body))[:1000]
    suffix = f" ShipBob says: {details}" if details else ""
    if status_code in (401, 403):
        what = "rejected the API token" if status_code == 401 else "denied access"
        return "auth", (
            f"ShipBob {what} (HTTP {status_code}). Check the Personal Access Token and its "
            f"scopes (orders_write/orders_read) on the backend.{suffix}"
        )
    if status_code == 422 and is_duplicate_reference(status_code, json_body):
        return "business", (
            "ShipBob already has an order with this reference (HTTP 422); it was probably "
            f"created by an earlier attempt whose answer was lost.{suffix}"
        )
    if status_code in (400, 422):
        advice = f" {advice}" if advice else ""
        return "validation", f"ShipBob refused the data (HTTP {status_code}).{advice}{suffix}"
    if status_code == 404:
        return "business", f"ShipBob does not know this order or resource (HTTP 404).{suffix}"
    if status_code == 409:
        return "business", f"ShipBob refused the request in the order's state (HTTP 409).{suffix}"
    if status_code in (408, 425, 429) or status_code >= 500:
        label = "is rate limiting requests" if status_code == 429 else "is unavailable"
        return "technical", f"ShipBob {label} (HTTP {status_code}); will retry.{suffix}"
    return "technical", f"Unexpected ShipBob answer (HTTP {status_code}).{suffix}"


def order_cancel_request(data, external_order_id):
    """Canonical ``order.cancel`` -> ``(method, path, body)``; ShipBob needs its own order id
    (from :func:`parse_order_response`), the reason is not transmitted."""
    if not external_order_id:
        raise MappingError(
            f"Order {data['order_ref']} cannot be cancelled at ShipBob: its ShipBob order id is "
            "unknown (the order was never acknowledged)."
        )
    return "POST", f"{ORDER_PATH}/{external_order_id}:cancel", None


def parse_cancel_response(json_body):
    """Cancel answer -> ``{"cancelled": bool, "reason": str|None}``."""
    results = (json_body or {}).get("canceled_shipment_results") or []
    failed = [r for r in results if not r.get("is_success")]
    if not failed:
        return {"cancelled": True, "reason": None}
    reasons = "; ".join(
        f"shipment {r.get('shipment_id')}: {r.get('reason') or 'refused'}" for r in failed
    )
    return {"cancelled": False, "reason": f"ShipBob could not cancel {reasons}"}


# inbound: webhooks --------------------------------------------------------------------------
def topic_from_headers(headers):
    """Topic of a webhook, from ``x-webhook-topic`` or the legacy ``shipbob-topic``."""
    lowered = {str(k).lower(): v for k, v in (headers or {}).items()}
    topic = lowered.get(TOPIC_HEADER) or lowered.get(LEGACY_TOPIC_HEADER)
    topic = _clean(topic)
    return LEGACY_TOPICS.get(topic, topic) if topic else None


def event_id(headers, body):
    """Deduplication key of a delivery: the Standard Webhooks ``webhook-id`` (stable across
    ShipBob's retries); without it, a digest of topic and raw body."""
    lowered = {str(k).lower(): v for k, v in (headers or {}).items()}
    msg_id = _clean(lowered.get("webhook-id"))
    if msg_id:
        return msg_id
    raw = (
        body
        if isinstance(body, bytes)
        else (body.encode() if isinstance(body, str) else json.dumps(body, sort_keys=True).encode())
    )
    topic = topic_from_headers(headers) or ""
    return "shipbob-" + hashlib.sha256(topic.encode() + b"\n" + raw).hexdigest()[:40]


def _order_ref(shipment, order=None):
    ref = _clean(shipment.get("reference_id")) or _clean((order or {}).get("reference_id"))
    if not ref:
        raise MappingError(
            f"ShipBob shipment {shipment.get('id')} carries no order reference_id; it cannot be "
            "matched to an Odoo transfer."
        )
    return ref


def _shipment_lines(shipment, order_ref):
    lines = []
    for product in shipment.get("products") or []:
        sku = _clean(product.get("sku")) or _clean(product.get("reference_id"))
        if not sku:
            raise MappingError(
                f"Order {order_ref}: ShipBob shipment {shipment.get('id')} lists product "
                f"{product.get('id')} ({product.get('name')}) without SKU or reference_id."
            )
        items = product.get("inventory_items") or []
        lots = []
        if items:
            quantity = 0
            for item in items:
                qty = _number(item.get("quantity", 0), f"quantity of {sku}")
                quantity += qty
                lot = _clean(item.get("lot") or item.get("lot_number"))
                if lot and qty > 0:
                    lots.append(
                        {
                            "lot": lot,
                            "quantity": qty,
                            "expiration_date": _date(item.get("expiration_date")),
                        }
                    )
        else:
            quantity = _number(product.get("quantity", 0), f"quantity of {sku}")
        line = {
            "line_ref": _clean(product.get("external_line_id")),
            "sku": sku,
            "quantity": quantity,
            "uom": None,
        }
        if lots:
            line["lots"] = lots
        lines.append(line)
    if not lines:
        raise MappingError(
            f"Order {order_ref}: ShipBob shipment {shipment.get('id')} lists no products, so "
            "nothing can be confirmed as shipped."
        )
    return lines


def _shipment_confirmed(shipment, order=None):
    order_ref = _order_ref(shipment, order)
    tracking = shipment.get("tracking") or {}
    shipped_at = _timestamp(
        tracking.get("shipping_date")
        or shipment.get("actual_fulfillment_date")
        or shipment.get("last_update_at"),
        "shipping date",
    )
    shipment_ref = _clean(shipment.get("id"))
    if not shipment_ref:
        raise MappingError(f"Order {order_ref}: the ShipBob shipment has no id.")
    data = {
        "order_ref": order_ref,
        "shipment_ref": shipment_ref,
        "carrier": {
            "code": _clean(tracking.get("carrier")),
            "service": _clean(tracking.get("carrier_service"))
            or _clean(shipment.get("ship_option")),
        },
        "tracking_ref": _clean(tracking.get("tracking_number") or tracking.get("tracking_id")),
        "complete": None,
        "lines": _shipment_lines(shipment, order_ref),
    }
    if shipped_at:
        data["shipped_at"] = shipped_at
    return data


def _shipments(body):
    """A shipment payload, or an order wrapping shipments -> [(shipment, order|None)]."""
    if isinstance(body.get("shipments"), list):
        return [(s, body) for s in body["shipments"]]
    return [(body, None)]


def _status_reason(shipment):
    reasons = []
    for detail in shipment.get("status_details") or []:
        text = _clean(detail.get("description")) or _clean(detail.get("name"))
        if text and text not in reasons:
            reasons.append(text)
    return "; ".join(reasons) or None


def _shipment_status(shipment, status, order=None, event_time=None):
    tracking = shipment.get("tracking") or {}
    data = {
        "order_ref": _order_ref(shipment, order),
        "shipment_ref": _clean(shipment.get("id")) or _clean(shipment.get("shipment_id")),
        "status": status,
        "reason": _status_reason(shipment),
        "tracking_ref": _clean(tracking.get("tracking_number") or tracking.get("tracking_id")),
    }
    occurred_at = _timestamp(
        event_time
        or shipment.get("event_time")
        or (shipment.get("delivery_date") if status == "delivered" else None)
        or shipment.get("last_update_at"),
        "event time",
    )
    if occurred_at:
        data["occurred_at"] = occurred_at
    return data


def _return_received(body, inventory_sku_map):
    return_ref = _clean(body.get("reference_id")) or _clean(body.get("id"))
    order_ref = _clean(body.get("store_order_id")) or _clean(body.get("order_reference_id"))
    if not order_ref:
        raise MappingError(
            f"ShipBob return {return_ref}: no original order reference (store_order_id), so "
            "it cannot be matched to an Odoo delivery. Match it by hand from the ShipBob "
            f"dashboard (original shipment {body.get('original_shipment_id')})."
        )
    lines = []
    for item in body.get("inventory") or []:
        sku = _clean(item.get("sku")) or _clean(
            (inventory_sku_map or {}).get(
                item.get("id"), (inventory_sku_map or {}).get(str(item.get("id")))
            )
        )
        if not sku:
            raise MappingError(
                f"ShipBob return {return_ref} (order {order_ref}): inventory item "
                f"{item.get('id')} ({item.get('name')}) has no known SKU; add it to the "
                "backend's inventory-id mapping."
            )
        actions = item.get("action_taken") or []
        if not actions:
            requested = (item.get("action_requested") or {}).get("action") or "Restock"
            actions = [{"action": requested, "quantity_processed": item.get("quantity")}]
        for action in actions:
            qty = _number(action.get("quantity_processed") or 0, f"returned quantity of {sku}")
            if qty <= 0:
                continue
            name = str(action.get("action") or "Restock").lower()
            disposition = RETURN_DISPOSITIONS.get(name)
            if not disposition:
                raise MappingError(
                    f"ShipBob return {return_ref}: unknown return action '{action.get('action')}'"
                    f" for {sku}."
                )
            line = {
                "sku": sku,
                "quantity": qty,
                "uom": None,
                "disposition": disposition,
                "reason": _clean(action.get("action_reason")),
            }
            lot = _clean(action.get("lot_number") or item.get("lot_number"))
            if lot:
                line["lots"] = [{"lot": lot, "quantity": qty, "expiration_date": None}]
            lines.append(line)
    if not lines:
        raise IgnoredEvent(
            "return.completed",
            f"ShipBob return {return_ref} for order {order_ref} completed with nothing processed",
        )
    data = {"order_ref": order_ref, "return_ref": return_ref, "lines": lines}
    received_at = _timestamp(
        body.get("completed_date") or body.get("last_update_at"), "return completion date"
    )
    if received_at:
        data["received_at"] = received_at
    return data


def webhook_to_canonical(topic, body, inventory_sku_map=None):
    """ShipBob webhook -> ``[(message_type, data), ...]`` (one per shipment).

    ``body`` may be the raw bytes/str or the parsed JSON. Raises :class:`IgnoredEvent` for
    topics that need no processing and :class:`MappingError` for unknown topics or unusable
    payloads. ``inventory_sku_map`` maps ShipBob inventory ids to SKUs for return payloads
    that name items only by inventory id.
    """
    topic = LEGACY_TOPICS.get(_clean(topic), _clean(topic))
    if not topic:
        raise MappingError(
            f"The ShipBob webhook has no topic (header {TOPIC_HEADER} missing or empty)."
        )
    if topic in IGNORED_TOPICS:
        raise IgnoredEvent(topic, IGNORED_TOPICS[topic])
    for prefix, reason in IGNORED_PREFIXES.items():
        if topic.startswith(prefix):
            raise IgnoredEvent(topic, reason)
    body = _unwrap(body)

    if topic == "order.shipped":
        return [("shipment.confirmed", _shipment_confirmed(s, o)) for s, o in _shipments(body)]
    if topic in SHIPMENT_STATUS_TOPICS:
        status = SHIPMENT_STATUS_TOPICS[topic]
        return [("shipment.status", _shipment_status(s, status, o)) for s, o in _shipments(body)]
    if topic == "order.delivered":
        return [
            ("shipment.status", _shipment_status(s, "delivered", o)) for s, o in _shipments(body)
        ]
    if topic == "order.shipment.tracking.updated":
        raw = str(body.get("status") or (body.get("tracking") or {}).get("status") or "")
        status = TRACKING_STATUSES.get(raw.replace("_", "").replace(" ", "").lower())
        if not status:
            raise IgnoredEvent(topic, f"carrier status '{raw}' needs no action")
        return [("shipment.status", _shipment_status(body, status, None, body.get("event_time")))]
    if topic == "return.completed":
        return [("return.received", _return_received(body, inventory_sku_map))]
    raise MappingError(
        f"Unknown ShipBob webhook topic '{topic}'. Expected one of: order.shipped, "
        + ", ".join(sorted(SHIPMENT_STATUS_TOPICS))
        + ", order.delivered, order.shipment.tracking.updated, return.completed."
    )


# polling fallback ----------------------------------------------------------------------------
def poll_shipped_orders_params(order_refs=None, limit=250, page=1):
    """Query string for ``GET /order`` listing shipped orders (optionally some references)."""
    params = {"HasTracking": "true", "Limit": str(limit), "Page": str(page)}
    if order_refs:
        params["ReferenceIds"] = ",".join(order_refs)
    return params


def poll_shipped_orders_to_canonical(json_list):
    """``GET /order`` answer (list of orders) -> list of ``shipment.confirmed`` data for every
    shipment that has left the warehouse (tracking number or shipped status); cancelled and
    still-processing shipments are skipped."""
    if isinstance(json_list, dict):  # tolerate paged envelopes {"items": [...]}
        json_list = json_list.get("items") or json_list.get("data") or []
    results = []
    for order in json_list or []:
        for shipment in order.get("shipments") or []:
            status = str(shipment.get("status") or "").replace(" ", "").lower()
            tracking = shipment.get("tracking") or {}
            if status in ("cancelled", "canceled"):
                continue
            if status in SHIPPED_STATUSES or tracking.get("tracking_number"):
                results.append(_shipment_confirmed(shipment, order))
    return results


# channels ------------------------------------------------------------------------------------
def channels_from_response(json_body):
    """``GET /channel`` answer -> ``[{"id", "name", "orders_write"}]`` (``items[]`` of the dated
    versions, or a bare list)."""
    items = json_body.get("items") if isinstance(json_body, dict) else json_body
    channels = []
    for item in items if isinstance(items, list) else []:
        if not isinstance(item, dict) or item.get("id") in (None, ""):
            continue
        scopes = " ".join(str(scope) for scope in item.get("scopes") or []).split()
        channels.append(
            {
                "id": str(item["id"]),
                "name": _clean(item.get("name")) or "",
                "orders_write": "orders_write" in scopes,
            }
        )
    return channels


def api_version(base_url):
    """The dated version a base URL names (its last path segment), or None."""
    path = re.sub(r"^[a-z]+://[^/]+", "", str(base_url or ""), flags=re.IGNORECASE)
    last = path.rstrip("/").rsplit("/", 1)[-1]
    return last if re.fullmatch(r"\d+\.\d+|\d{4}-\d{2}", last) else None


# inventory -----------------------------------------------------------------------------------
INVENTORY_PATH = "/inventory-level"


def inventory_levels_to_snapshot(items, warehouse_code, as_of):
    """``GET /inventory-level`` items (every page) -> canonical ``inventory.snapshot`` data for
    the warehouse standing for ShipBob: the quantity physically in ShipBob's fulfillment centers
    (``total_on_hand_quantity``) per SKU. Items without SKU are ShipBob's own (digital or
    unnamed) and cannot be matched to a product: they are left out."""
    lines = {}
    for item in items or []:
        sku = _clean(item.get("sku")) if isinstance(item, dict) else None
        if not sku:
            continue
        quantity = _number(item.get("total_on_hand_quantity") or 0, f"on-hand quantity of {sku}")
        lines[sku] = lines.get(sku, 0) + quantity
    stamp = _timestamp(as_of, "snapshot time")
    return {
        "snapshot_ref": f"shipbob-inventory-{warehouse_code}-{stamp}",
        "warehouse_code": warehouse_code,
        "as_of": stamp,
        "lines": [
            {"sku": sku, "quantity": quantity, "lot": None, "uom": None}
            for sku, quantity in sorted(lines.items())
        ],
    }


def next_page(answer):
    """The ``next`` link of a cursor-paged answer when it is one (a URL or an absolute
    path), else None."""
    link = _clean(answer.get("next")) if isinstance(answer, dict) else None
    if link and (link.startswith("/") or re.match(r"^https?://", link, re.IGNORECASE)):
        return link
    return None
