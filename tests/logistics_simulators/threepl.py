"""A 3PL warehouse partner, simulated: a real HTTP server on loopback plus a webhook sender.

    sim = ThreePLSimulator(webhook_url, "whsec_...", style="generic").start()
    ...                          # Odoo posts orders to sim.url("/events") (or sim.url("/order"))
    sim.orders["SO-001"]         # what the 3PL received
    sim.acknowledge("SO-001")    # signed webhooks back to Odoo; each returns a WebhookResponse
    sim.ship("SO-001", quantities={"SKU-A": 2}, lots={"SKU-A": "LOT-7"})
    sim.fail_next(503, times=2)  # the next two API calls answer 503
    sim.stop()

Partner API served (``Authorization: Bearer <api_token>`` required on every call when an
``api_token`` is set, else 401; ``GET /health`` is open):

* generic: ``POST /events`` takes a CloudEvents 1.0 structured event of type
  ``order.release``, ``order.update`` or ``order.cancel`` whose ``data`` is the canonical
  payload (Odoo's backend ``base_url`` is ``<sim>/events``); answers
  ``202 {"id", "external_order_id", "order_ref", "status"}`` (``id`` = the 3PL's order id);
  ``400`` malformed, ``404`` unknown order, ``409`` conflict with the order's state
  (already received, shipped).
  ``Idempotency-Key`` (else the event's ``source`` + ``id``) is honoured: a repeated key
  answers the first answer again (header ``Idempotent-Replayed: true``) without side effects;
  the same key with different ``type``/``data`` answers ``422``.
* ShipBob-shaped (its dated API 2026-01, checked against ShipBob's published document in
  ``test_conformance_shipbob``): ``GET /channel``; ``GET /inventory-level`` (cursor-paged
  :attr:`inventory_levels`); ``GET``/``POST /webhook``, ``DELETE /webhook/{id}``
  (:attr:`shipbob_webhooks`);
  ``POST /order`` (header
  ``shipbob_channel_id`` = :attr:`shipbob_channel_id` required, else ``400``/``403``;
  ``201`` order JSON; ``400`` ``{field: [messages]}``;
  duplicate ``reference_id`` -> ``422`` ``{"reference_id": [...]}``), ``GET /order/{id}``,
  ``GET /order?ReferenceIds=a,b&HasTracking=true&Limit=&Page=`` (polling),
  ``POST /order/{id}/cancel`` (or ``/order/{id}:cancel``). A leading version segment
  (``/1.0``, ``/2026-01``) is accepted.

Webhooks are signed with the ``standardwebhooks`` library (``webhook-id``,
``webhook-timestamp``, ``webhook-signature``). ``style="generic"`` sends CloudEvents whose
``data`` is canonical; ``style="shipbob"`` sends ShipBob-shaped bodies with the topic in the
``x-webhook-topic`` header (ShipBob has no acknowledgement or inventory webhook: there the
``201`` answer to ``POST /order`` is the acknowledgement, so :meth:`acknowledge` and
:meth:`post_inventory` refuse). Return items carry ``sku`` in addition to ShipBob's inventory
``id``. Every partner method returns a :class:`WebhookResponse` (``status`` is None when
nothing answered); :meth:`send_raw` posts arbitrary bytes, :meth:`redeliver` repeats a
delivery with the same ``webhook-id``.

``auto=True``: after an order arrives, acknowledge it after ``ack_delay`` s (generic style) and
ship it fully ``ship_delay`` s later; deliveries that get no answer, 429 or 5xx are redelivered
with backoff (``retry_base`` s, doubling, ``max_redeliveries`` times).

Customs hold: a generic order whose ``data`` carries ``"customs_hold": true`` is taken (and
acknowledged) but not shipped: :meth:`ship` and the SFTP shipment drops raise
:class:`CustomsHold`, auto mode and :meth:`sftp_cycle` leave it. An ``order.update`` states the
order in full: one with ``customs_hold`` false (or without it) lifts the hold, and auto mode
then ships the order ``ship_delay`` s later. ``orders[ref]["customs_hold"]`` tells.

SFTP file exchange (X12 004010 or CSV), on a real SFTP server such as
``logistics_simulators.sftp_server.SFTPTestServer``; ``settings`` is an ``SFTPSettings`` with
Odoo's folder layout (inbound = where the 3PL drops, outbound = where Odoo writes)::

    sim.sftp_pickup_orders(settings)               # read Odoo's 940s / CSV orders, answer 997s
    sim.sftp_cycle(settings)                       # pick up, then ship every open order (demo)
    sim.sftp_drop_945(settings, "WH/OUT/00012", quantities={"SKU-A": 2})   # ship, drop a 945
    sim.sftp_drop_846(settings, "E3PL", {"SKU-A": 40})                     # inventory advice
    sim.sftp_drop_shipment_csv(...), sim.sftp_drop_inventory_csv(...)      # the CSV layouts
    sim.sftp_drop_half_written(settings, "945_X.x12", content)   # an upload in progress (.part)
    sim.sftp_drop_file(settings, "945_bad.x12", damaged_content)

Files are written as ``<name>.part`` and renamed, as 3PLs do.

CLI (runs until killed, one log line per event)::

    python -m logistics_simulators.threepl --port 8070 --webhook-url URL --secret whsec_... \\
        --style generic --auto
"""

import csv
import dataclasses
import io
import itertools
import json
import logging
import posixpath
import re
import sys
import time
import uuid
from urllib.parse import parse_qs, urlsplit

from .sftp_drops import SftpDrop, sftp_connection, sftp_drop
from .webhooks import (
    WebhookPartner,
    WebhookResponse,  # noqa: F401 (part of this module's API)
    check_cloudevent,
    cli_parser,
    dumps,
    problem,
    run_cli,
    utc_now,
)

_logger = logging.getLogger("logistics_simulators.threepl")

SHIPBOB_TOPIC_HEADER = "x-webhook-topic"
GENERIC_ORDER_TYPES = ("order.release", "order.update", "order.cancel", "asn.release")
STATUS_TOPICS = {
    "delivered": "order.shipment.delivered",
    "exception": "order.shipment.exception",
    "on_hold": "order.shipment.on_hold",
    "cancelled": "order.shipment.cancelled",
    "in_transit": "order.shipment.tracking.updated",
}
RETURN_ACTIONS = {
    "restock": "Restock",
    "quarantine": "Quarantine",
    "damaged": "Quarantine",
    "scrap": "Dispose",
}
_VERSION_PREFIX = re.compile(r"^/(?:\d+\.\d+|\d{4}-\d{2}|experimental)(?=/)", re.IGNORECASE)


class UnsupportedByStyle(ValueError):
    """The partner style has no such message (e.g. ShipBob has no acknowledgement webhook)."""


class CustomsHold(ValueError):
    """The order is on customs hold: the 3PL ships it once an order update lifts the hold."""


PHONE_REQUIRED = "a delivery phone number is required for this service level"


def _accepted(order, status):
    external_id = order["external_id"]
    answer = {"id": external_id, "external_order_id": external_id, "order_ref": order["order_ref"]}
    return 202, {}, {**answer, "status": status}


def _number(value):
    value = float(value)
    return int(value) if value.is_integer() else value


class ThreePLSimulator(WebhookPartner):
    """3PL partner on ``http://<host>:<port>``; see the module docstring."""

    thread_name = "3pl"
    logger = _logger
    label = "3PL simulator"
    max_retry_delay = 60.0

    def __init__(
        self,
        webhook_url=None,
        webhook_secret=None,
        style="generic",
        api_token=None,
        host="127.0.0.1",
        port=0,
        auto=False,
        ack_delay=0.5,
        ship_delay=1.0,
        source="urn:logistics:simulator:3pl",
        carrier="UPS",
        carrier_service="Ground",
        timeout=10.0,
        hang_seconds=5.0,
        retry_base=1.0,
        require_phone=False,
        max_redeliveries=8,
    ):
        if style not in ("generic", "shipbob"):
            raise ValueError(f"style must be 'generic' or 'shipbob', not {style!r}")
        super().__init__(
            webhook_url,
            webhook_secret,
            api_token=api_token,
            host=host,
            port=port,
            source=source,
            timeout=timeout,
            hang_seconds=hang_seconds,
            retry_base=retry_base,
            max_redeliveries=max_redeliveries,
        )
        self.webhook_secret = webhook_secret
        self.style = style
        self.auto = auto
        # like carriers' express services: refuse an order whose ship-to has no phone
        self.require_phone = require_phone
        self.ack_delay = ack_delay
        self.ship_delay = ship_delay
        self.carrier = carrier
        self.carrier_service = carrier_service

        self.shipbob_channel_id = 100102  # the channel that may create orders (ShipBob style)
        self.inventory_levels = {}  # sku -> on hand, served by GET /inventory-level (ShipBob)
        self.shipbob_webhooks = []  # subscriptions made by POST /webhook (ShipBob)
        # POST /webhook answers 400 quoting the secret it was sent (as validators often do)
        self.shipbob_refuse_secret = False
        self.orders = {}  # order_ref -> order record (dict)
        self.asns = {}  # receipt_ref -> advance shipping notice received
        self._products = {}  # sku -> (product_id, inventory_id)

    # HTTP API -------------------------------------------------------------------------------
    def _dispatch(self, req):
        split = urlsplit(req.path)
        path = _VERSION_PREFIX.sub("", split.path.rstrip("/") or "/")
        query = {k: v[-1] for k, v in parse_qs(split.query).items()}
        headers = {k.lower(): v for k, v in req.headers.items()}
        try:
            if path == "/health":
                return 200, {}, {"status": "ok", "style": self.style}
            if self._refuses_token(req, path, headers):
                return 401, {}, {"message": "Authorization has been denied for this request."}
            try:
                body = json.loads(req.body.decode()) if req.body else None
            except ValueError:
                return 400, {}, {"message": "The request body is not valid JSON."}
            if req.method == "POST" and path == "/events":
                return self._post_event(body, headers)
            if req.method == "GET" and path == "/channel":
                return self._shipbob_channels()
            if path == "/webhook" and req.method in ("GET", "POST"):
                return self._shipbob_webhooks(req.method, body)
            hook = re.fullmatch(r"/webhook/([^/]+)", path)
            if hook and req.method == "DELETE":
                return self._shipbob_delete_webhook(hook.group(1))
            if req.method == "GET" and path == "/inventory-level":
                prefix = split.path[: len(split.path) - len(path)] if path != "/" else ""
                return self._shipbob_inventory_levels(query, prefix)
            if req.method == "POST" and path == "/order":
                refused = self._shipbob_refuses_channel(headers)
                if refused:
                    return refused
                return self._shipbob_create(body, headers)
            if req.method == "GET" and path == "/order":
                return self._shipbob_list(query)
            match = re.fullmatch(r"/order/(\d+)(?:(/cancel|:cancel))?", path)
            if match and req.method == "GET" and not match.group(2):
                return self._shipbob_get(int(match.group(1)))
            if match and req.method == "POST" and match.group(2):
                return self._shipbob_refuses_channel(headers) or self._shipbob_cancel(
                    int(match.group(1))
                )
            return 404, {}, {"message": f"No route for {req.method} {path}"}
        except Exception as exc:
            _logger.warning("3PL simulator failed on %s %s: %r", req.method, path, exc)
            return 500, {}, {"message": f"Simulator error: {exc!r}"}

    # generic CloudEvents endpoint -------------------------------------------------------------
    def _generic_asn(self, data, key, correlation):
        """An advance shipping notice: the 3PL expects these goods and says so."""
        ref = data.get("receipt_ref")
        if not ref:
            return problem(400, "invalid_asn", "receipt_ref is required")
        self.asns[ref] = {"payload": data, "received_at": utc_now(), "correlation": correlation}
        self._log("asn.release %s received -> 202", ref)
        return 202, {}, {"id": f"ASN-{ref}", "receipt_ref": ref, "status": "expected"}

    def _post_event(self, event, headers):
        refused = check_cloudevent(event)
        if refused:
            return refused
        if event["type"] not in GENERIC_ORDER_TYPES:
            return problem(
                400,
                "unsupported_type",
                f"type {event['type']!r} is not one of " + ", ".join(GENERIC_ORDER_TYPES),
            )
        handler = {
            "order.release": self._generic_release,
            "order.update": self._generic_update,
            "order.cancel": self._generic_cancel,
            "asn.release": self._generic_asn,
        }[event["type"]]
        return self._receive_once(
            event,
            headers,
            event["type"],
            lambda key, correlation: handler(event["data"], key, correlation),
        )

    def _check_order_data(self, data):
        problems = []
        if not data.get("order_ref"):
            problems.append("data.order_ref is required")
        lines = data.get("lines")
        if not isinstance(lines, list) or not lines:
            problems.append("data.lines must list at least one line")
        else:
            for i, line in enumerate(lines):
                if not isinstance(line, dict) or not line.get("sku"):
                    problems.append(f"data.lines[{i}].sku is required")
                    continue
                try:
                    ok = float(line.get("quantity")) > 0
                except (TypeError, ValueError):
                    ok = False
                if not ok:
                    problems.append(f"data.lines[{i}].quantity must be a positive number")
        return problems

    def _phone_missing(self, kind, data):
        """The refusal of an order (release or update: each states the order in full) whose
        ship-to has no phone, when :attr:`require_phone` is set; else None."""
        if self.require_phone and not (data.get("ship_to") or {}).get("phone"):
            self._log("%s %s refused: no delivery phone", kind, data.get("order_ref"))
            return 400, {}, {"errors": {"ship_to.phone": [PHONE_REQUIRED]}}
        return None

    def _generic_release(self, data, key, correlation):
        refused = self._phone_missing("order.release", data)
        if refused:
            return refused
        problems = self._check_order_data(data)
        if problems:
            self._log("order.release refused: %s", "; ".join(problems))
            return problem(422, "invalid_order", "; ".join(problems))
        ref = data["order_ref"]
        existing = self.orders.get(ref)
        if existing and existing["status"] not in ("cancelled", "rejected"):
            self._log("order.release %s refused: already received", ref)
            return problem(
                409,
                "duplicate_order",
                f"order {ref} was already received as {existing['external_id']}",
            )
        order = self._new_order(
            ref,
            channel="generic",
            lines=data["lines"],
            payload=data,
            correlation_id=correlation,
            idempotency_key=key,
            carrier=data.get("carrier") or {},
            warehouse_code=data.get("warehouse_code"),
            ship_to=data.get("ship_to") or {},
            customs_hold=bool(data.get("customs_hold")),
            customs_hold_reason=data.get("customs_hold_reason"),
        )
        self._log(
            "order.release %s received as %s%s -> 202",
            ref,
            order["external_id"],
            " (customs hold)" if order["customs_hold"] else "",
        )
        self._schedule_auto(ref)
        return _accepted(order, "received")

    def _generic_update(self, data, key, correlation):
        refused = self._phone_missing("order.update", data)
        if refused:
            return refused
        problems = self._check_order_data(data)
        if problems:
            return problem(422, "invalid_order", "; ".join(problems))
        ref = data["order_ref"]
        order = self.orders.get(ref)
        if not order:
            return problem(404, "unknown_order", f"order {ref} is unknown")
        if order["status"] in ("shipped", "partially_shipped", "cancelled"):
            return problem(
                409, "order_locked", f"order {ref} is {order['status']} and can no longer change"
            )
        order["lines"] = self._lines(data["lines"])
        order["payload"] = data
        order["history"].append(("updated", utc_now()))
        held = bool(data.get("customs_hold"))
        lifted = order.get("customs_hold") and not held
        order["customs_hold"] = held
        order["customs_hold_reason"] = data.get("customs_hold_reason") if held else None
        if lifted:
            order["history"].append(("customs_hold_lifted", utc_now()))
            if self.auto:
                self._schedule(
                    time.monotonic() + self.ship_delay, f"ship {ref}", self._auto_ship, ref
                )
        self._log("order.update %s applied%s -> 202", ref, " (hold lifted)" if lifted else "")
        return _accepted(order, "updated")

    def _generic_cancel(self, data, key, correlation):
        ref = data.get("order_ref")
        order = self.orders.get(ref)
        if not order:
            return problem(404, "unknown_order", f"order {ref} is unknown")
        if any(line["shipped"] for line in order["lines"]):
            return problem(409, "already_shipped", f"order {ref} has already (partly) shipped")
        order["status"] = "cancelled"
        order["history"].append(("cancelled", utc_now()))
        self._log("order.cancel %s applied -> 202", ref)
        return _accepted(order, "cancelled")

    # ShipBob-shaped endpoints ----------------------------------------------------------------
    def _shipbob_channels(self):
        """``GET /channel``: the token's channels (dated versions' ``items`` envelope)."""
        scopes = ["channels_read", "orders_read", "orders_write", "returns_read"]
        return (
            200,
            {},
            {
                "items": [
                    {
                        "id": self.shipbob_channel_id,
                        "name": "Odoo (API)",
                        "application_name": "SMA",
                        "scopes": scopes,
                    },
                    {
                        "id": self.shipbob_channel_id + 1,
                        "name": "ShipBob Default",
                        "application_name": "ShipBob",
                        "scopes": ["channels_read", "orders_read"],
                    },
                ],
                "next": None,
                "prev": None,
            },
        )

    def _shipbob_inventory_levels(self, query, prefix):
        """``GET /inventory-level``: :attr:`inventory_levels` (sku -> on hand) in pages of
        ``PageSize``, each linking the ``next`` one by a cursor."""
        size = max(int(query.get("PageSize") or 50), 1)
        start = int(query.get("cursor") or 0)
        with self._lock:
            skus = sorted(self.inventory_levels)
            items = []
            for sku in skus[start : start + size]:
                _product_id, inventory_id = self._product(sku)
                on_hand = self.inventory_levels[sku]
                items.append(
                    {
                        "inventory_id": inventory_id,
                        "name": sku,
                        "sku": sku,
                        "total_on_hand_quantity": on_hand,
                        "total_fulfillable_quantity": on_hand,
                        "total_committed_quantity": 0,
                        "total_awaiting_quantity": 0,
                        "total_backordered_quantity": 0,
                        "total_exception_quantity": 0,
                        "total_internal_transfer_quantity": 0,
                        "total_sellable_quantity": on_hand,
                    }
                )
        more = start + size < len(skus)
        link = f"{prefix}/inventory-level?PageSize={size}&cursor={start + size}"
        return (
            200,
            {},
            {
                "items": items,
                "next": link if more else None,
                "prev": None,
                "first": None,
                "last": None,
            },
        )

    def _shipbob_webhooks(self, method, body):
        """``GET /webhook`` lists :attr:`shipbob_webhooks`; ``POST /webhook`` adds one
        (``topics`` and ``url`` required, else 422)."""
        if method == "GET":
            with self._lock:
                items = [
                    {k: v for k, v in sub.items() if k != "secret"} for sub in self.shipbob_webhooks
                ]
            return 200, {}, {"items": items, "next": None, "prev": None}
        body = body if isinstance(body, dict) else {}
        topics, url = body.get("topics"), body.get("url")
        if not isinstance(topics, list) or not topics or not url:
            return 422, {}, {"topics": ["Topics and url are required."]}
        if self.shipbob_refuse_secret:
            return 400, {}, {"secret": [f"'{body.get('secret')}' is not a valid secret."]}
        with self._lock:
            subscription = {
                "id": str(next(self._ids)),
                "url": url,
                "topics": list(topics),
                "description": body.get("description"),
                "secret": body.get("secret") or f"whsec_simulated{len(self.shipbob_webhooks)}",
                "created_at": utc_now(),
                "enabled": True,
            }
            self.shipbob_webhooks.append(subscription)
        answer = {k: v for k, v in subscription.items() if k != "enabled"}
        self._log("POST /webhook %s -> %s", url, topics)
        return 200, {}, answer

    def _shipbob_delete_webhook(self, subscription_id):
        with self._lock:
            kept = [s for s in self.shipbob_webhooks if s["id"] != subscription_id]
            if len(kept) == len(self.shipbob_webhooks):
                return 404, {}, b""
            self.shipbob_webhooks[:] = kept
        return 204, {}, b""

    def _shipbob_refuses_channel(self, headers):
        """Calls that write need the ``shipbob_channel_id`` header naming a channel that may
        create orders (ShipBob's document makes it required there)."""
        channel = (headers.get("shipbob_channel_id") or "").strip()
        if not channel:
            return (
                400,
                {},
                {"shipbob_channel_id": ["The shipbob_channel_id header is required."]},
            )
        if channel != str(self.shipbob_channel_id):
            return 403, {}, {"message": f"Channel {channel} may not write orders."}
        return None

    def _shipbob_create(self, body, headers):
        if not isinstance(body, dict):
            return 400, {}, {"": ["A non-empty request body is required."]}
        errors = {}
        recipient = body.get("recipient") or {}
        address = recipient.get("address") or {}
        required = {
            "reference_id": body.get("reference_id"),
            "shipping_method": body.get("shipping_method"),
            "recipient.name": recipient.get("name"),
            "recipient.address.address1": address.get("address1"),
            "recipient.address.city": address.get("city"),
            "recipient.address.country": address.get("country"),
        }
        for field, value in required.items():
            if not value:
                errors[field] = [f"The {field.split('.')[-1]} field is required."]
        products = body.get("products")
        if not isinstance(products, list) or not products:
            errors["products"] = ["At least one product is required."]
        else:
            for i, product in enumerate(products):
                if not product.get("reference_id") and not product.get("id"):
                    errors[f"products[{i}].reference_id"] = [
                        "Either id or reference_id is required."
                    ]
                qty = product.get("quantity")
                if not isinstance(qty, int) or isinstance(qty, bool) or qty <= 0:
                    errors[f"products[{i}].quantity"] = [
                        "The field quantity must be a whole number greater than 0."
                    ]
        if errors:
            self._log("POST /order refused -> 400 %s", errors)
            return 400, {}, errors
        ref = str(body["reference_id"])
        with self._lock:
            if ref in self.orders:
                self._log("POST /order %s refused: duplicate reference_id -> 422", ref)
                return (
                    422,
                    {},
                    {
                        "reference_id": [
                            f"Cannot insert order with existing ReferenceId {ref} for this channel."
                        ]
                    },
                )
            lines = [
                {
                    "line_ref": str(p["external_line_id"]) if p.get("external_line_id") else None,
                    "sku": p.get("reference_id") or str(p.get("id")),
                    "name": p.get("name"),
                    "quantity": p["quantity"],
                }
                for p in products
            ]
            order = self._new_order(
                ref,
                channel="shipbob",
                lines=lines,
                payload=body,
                correlation_id=headers.get("x-correlation-id"),
                idempotency_key=headers.get("idempotency-key"),
                carrier={"code": None, "service": body.get("shipping_method")},
                warehouse_code=body.get("location_id"),
                ship_to=recipient,
            )
            self._log("POST /order %s created as %s -> 201", ref, order["external_id"])
            self._schedule_auto(ref)
            return 201, {}, self._shipbob_order_json(order)

    def _shipbob_list(self, query):
        refs = {r for r in (query.get("ReferenceIds") or "").split(",") if r}
        has_tracking = (query.get("HasTracking") or "").lower()
        limit = int(query.get("Limit") or 50)
        page = max(int(query.get("Page") or 1), 1)
        with self._lock:
            result = []
            for order in self.orders.values():
                if refs and order["order_ref"] not in refs:
                    continue
                tracked = any(s["tracking_ref"] for s in order["shipments"])
                if has_tracking == "true" and not tracked:
                    continue
                if has_tracking == "false" and tracked:
                    continue
                result.append(self._shipbob_order_json(order))
        return 200, {}, result[(page - 1) * limit : page * limit]

    def _shipbob_get(self, order_id):
        with self._lock:
            order = self._by_shipbob_id(order_id)
            if not order:
                return 404, {}, {"message": f"Order {order_id} not found"}
            return 200, {}, self._shipbob_order_json(order)

    def _shipbob_cancel(self, order_id):
        with self._lock:
            order = self._by_shipbob_id(order_id)
            if not order:
                return 404, {}, {"message": f"Order {order_id} not found"}
            results = []
            for shipment in order["shipments"]:
                if shipment["status"] == "Processing":
                    shipment["status"] = "Cancelled"
                    results.append(
                        {
                            "action": "Cancel",
                            "is_success": True,
                            "reason": None,
                            "shipment_id": shipment["id"],
                        }
                    )
                elif shipment["status"] != "Cancelled":
                    results.append(
                        {
                            "action": "Cancel",
                            "is_success": False,
                            "reason": "Shipment has already been picked, packed or shipped.",
                            "shipment_id": shipment["id"],
                        }
                    )
            if all(r["is_success"] for r in results):
                order["status"] = "cancelled"
                order["history"].append(("cancelled", utc_now()))
            self._log("cancel %s -> 200 %s", order["order_ref"], results)
            return (
                200,
                {},
                {
                    "canceled_shipment_results": results,
                    "order": self._shipbob_order_json(order),
                },
            )

    # order records --------------------------------------------------------------------------
    def _lines(self, lines):
        return [
            {
                "line_ref": line.get("line_ref"),
                "sku": line["sku"],
                "name": line.get("name"),
                "quantity": _number(line["quantity"]),
                "uom": line.get("uom"),
                "shipped": 0,
            }
            for line in lines
        ]

    def _new_order(self, ref, channel, lines, payload, **extra):
        n = next(self._ids)
        shipbob_id = 1000000 + n
        order = {
            "order_ref": ref,
            "external_id": f"3PL-{n:06d}" if channel == "generic" else str(shipbob_id),
            "shipbob_id": shipbob_id,
            "channel": channel,
            "status": "received",
            "lines": self._lines(lines),
            "payload": payload,
            "shipments": [],
            "received_at": utc_now(),
            "history": [("received", utc_now())],
            **extra,
        }
        # ShipBob creates one shipment per order up front; it is "Processing" until shipped.
        order["shipments"].append(self._new_shipment(order, status="Processing"))
        self.orders[ref] = order
        for line in order["lines"]:
            self._product(line["sku"])
        return order

    def _new_shipment(self, order, status, lines=None, tracking_ref=None, carrier=None):
        return {
            "id": 2000000 + next(self._ids),
            "status": status,
            "lines": lines or [],
            "tracking_ref": tracking_ref,
            "carrier": carrier,
            "service": (order.get("carrier") or {}).get("service") or self.carrier_service,
            "shipped_at": utc_now() if tracking_ref else None,
            "delivered_at": None,
            "status_details": [],
        }

    def _product(self, sku):
        if sku not in self._products:
            n = next(self._ids)
            self._products[sku] = (500000 + n, 700000 + n)
        return self._products[sku]

    def _by_shipbob_id(self, order_id):
        for order in self.orders.values():
            if order["shipbob_id"] == order_id or order["external_id"] == str(order_id):
                return order
        return None

    def _order(self, order_ref, required=True):
        order = self.orders.get(order_ref)
        if order is None and required:
            raise KeyError(f"the 3PL simulator never received order {order_ref!r}")
        return order

    @staticmethod
    def _refuse_held(order):
        """A 3PL does not ship goods customs have not released."""
        if order and order.get("customs_hold"):
            reason = order.get("customs_hold_reason") or "no reason given"
            raise CustomsHold(
                f"order {order['order_ref']} is on customs hold ({reason}): it ships once an "
                "order update lifts the hold"
            )

    def _shipbob_order_json(self, order):
        status = {
            "received": "Processing",
            "accepted": "Processing",
            "partially_shipped": "PartiallyFulfilled",
            "shipped": "Fulfilled",
            "cancelled": "Cancelled",
            "rejected": "Cancelled",
        }.get(order["status"], "Processing")
        payload = order["payload"] if order["channel"] == "shipbob" else {}
        products = []
        for line in order["lines"]:
            product_id, _inventory_id = self._product(line["sku"])
            item = {
                "id": product_id,
                "reference_id": line["sku"],
                "sku": line["sku"],
                "name": line.get("name") or line["sku"],
                "quantity": line["quantity"],
            }
            if line.get("line_ref") and str(line["line_ref"]).isdigit():
                item["external_line_id"] = int(line["line_ref"])
            products.append(item)
        return {
            "id": order["shipbob_id"],
            "created_date": order["received_at"],
            "purchase_date": None,
            "reference_id": order["order_ref"],
            "order_number": payload.get("order_number") or order["order_ref"],
            "status": status,
            "type": payload.get("type") or "DTC",
            "channel": {"id": self.shipbob_channel_id, "name": "Odoo (API)"},
            "shipping_method": payload.get("shipping_method") or "Standard",
            "recipient": payload.get("recipient") or {},
            "products": products,
            "tags": payload.get("tags") or [],
            "shipments": [self._shipbob_shipment_json(order, s) for s in order["shipments"]],
        }

    def _shipbob_shipment_json(self, order, shipment):
        by_sku = {}
        for line in shipment["lines"] or [
            {"sku": ln["sku"], "quantity": ln["quantity"] - ln["shipped"], "lots": []}
            for ln in order["lines"]
            if ln["quantity"] > ln["shipped"]
        ]:
            by_sku.setdefault(line["sku"], []).append(line)
        products = []
        for sku, lines in by_sku.items():
            product_id, inventory_id = self._product(sku)
            name = next((ln.get("name") for ln in order["lines"] if ln["sku"] == sku), None)
            items = []
            for line in lines:
                lotted = 0
                for lot in line.get("lots") or []:
                    lotted += lot["quantity"]
                    items.append(
                        {
                            "id": inventory_id,
                            "name": name or sku,
                            "quantity": lot["quantity"],
                            "quantity_committed": lot["quantity"],
                            "lot": lot["lot"],
                            "expiration_date": (
                                f"{lot['expiration_date']}T00:00:00Z"
                                if lot.get("expiration_date")
                                else None
                            ),
                            "serial_numbers": [],
                        }
                    )
                if line["quantity"] - lotted > 0:
                    items.append(
                        {
                            "id": inventory_id,
                            "name": name or sku,
                            "quantity": _number(line["quantity"] - lotted),
                            "quantity_committed": _number(line["quantity"] - lotted),
                            "lot": None,
                            "expiration_date": None,
                            "serial_numbers": [],
                        }
                    )
            products.append(
                {
                    "id": product_id,
                    "reference_id": sku,
                    "name": name or sku,
                    "sku": sku,
                    "inventory_items": items,
                }
            )
        tracking = None
        if shipment["tracking_ref"]:
            tracking = {
                "carrier": shipment["carrier"],
                "carrier_service": shipment["service"],
                "tracking_number": shipment["tracking_ref"],
                "tracking_url": f"https://track.example.com/{shipment['tracking_ref']}",
                "shipping_date": shipment["shipped_at"],
            }
        answer = {
            "id": shipment["id"],
            "order_id": order["shipbob_id"],
            "reference_id": order["order_ref"],
            "recipient": (order["payload"] or {}).get("recipient") or {},
            "created_date": order["received_at"],
            "last_update_at": shipment.get("updated_at") or shipment["shipped_at"] or utc_now(),
            "status": shipment["status"],
            "status_details": shipment["status_details"],
            "location": {"id": 10, "name": "Simulated FC"},
            "ship_option": shipment["service"],
            "products": products,
            "actual_fulfillment_date": shipment["shipped_at"],
            "delivery_date": shipment["delivered_at"],
            "is_tracking_uploaded": False,
        }
        if tracking:  # ShipBob's document has no null tracking: a shipment without it omits it
            answer["tracking"] = tracking
        return answer

    # webhooks ---------------------------------------------------------------------------------
    def post_shipbob(self, topic, payload, msg_id=None, timestamp=None):
        """Signed ShipBob-shaped webhook, topic in the ``x-webhook-topic`` header."""
        body = dumps(payload)
        headers = self.sign(body, msg_id=msg_id, timestamp=timestamp)
        headers[SHIPBOB_TOPIC_HEADER] = topic
        return self.send_raw(body, headers, kind=topic)

    def _correlation(self, order):
        return (order or {}).get("correlation_id")

    # partner actions ------------------------------------------------------------------------
    def acknowledge(self, order_ref, accepted=True, reason=None, **send):
        """``order.ack`` (generic only): accepted, or rejected with ``reason``."""
        if self.style == "shipbob":
            raise UnsupportedByStyle(
                "ShipBob has no acknowledgement webhook: the 201 answer to POST /order is it"
            )
        with self._lock:
            order = self._order(order_ref, required=False)
            if order:
                order["status"] = "accepted" if accepted else "rejected"
                order["history"].append((order["status"], utc_now()))
            data = {
                "order_ref": order_ref,
                "status": "accepted" if accepted else "rejected",
                "reason": reason,
                "external_order_id": order["external_id"] if order else None,
            }
        return self.post_event("order.ack", data, correlation_id=self._correlation(order), **send)

    def ship(
        self,
        order_ref,
        lines=None,
        quantities=None,
        tracking_ref=None,
        lots=None,
        carrier=None,
        **send,
    ):
        """Ship and confirm: everything still open (default), the open quantity of the SKUs in
        ``lines``, or ``quantities`` ``{sku: qty}`` (partial; SKUs the order does not have are
        sent as given). ``lots``: ``{sku: "LOT"}`` or ``{sku: [{"lot", "quantity",
        "expiration_date"}]}``. An order on customs hold raises :class:`CustomsHold`."""
        lots = lots or {}
        with self._lock:
            order = self._order(order_ref, required=quantities is None)
            self._refuse_held(order)
            order_lines = order["lines"] if order else []
            wanted = {}
            if quantities is not None:
                wanted = {sku: _number(qty) for sku, qty in quantities.items()}
            else:
                skus = None
                if lines is not None:
                    skus = {ln if isinstance(ln, str) else ln["sku"] for ln in lines}
                for line in order_lines:
                    if skus is None or line["sku"] in skus:
                        open_qty = line["quantity"] - line["shipped"]
                        if open_qty > 0:
                            wanted[line["sku"]] = wanted.get(line["sku"], 0) + open_qty
            if not wanted:
                raise ValueError(f"nothing left to ship on order {order_ref}")
            shipped_lines = []
            for sku, qty in wanted.items():
                left = qty
                for line in order_lines:
                    if line["sku"] != sku or left <= 0:
                        continue
                    take = min(left, line["quantity"] - line["shipped"])
                    if take <= 0:
                        continue
                    line["shipped"] = _number(line["shipped"] + take)
                    left -= take
                    shipped_lines.append(
                        {
                            "line_ref": line["line_ref"],
                            "sku": sku,
                            "quantity": _number(take),
                            "uom": line.get("uom"),
                        }
                    )
                if left > 0:  # over-shipment or unknown SKU: sent as the test asked
                    shipped_lines.append(
                        {"line_ref": None, "sku": sku, "quantity": _number(left), "uom": None}
                    )
            for line in shipped_lines:
                lot = lots.get(line["sku"])
                if isinstance(lot, str):
                    line["lots"] = [
                        {"lot": lot, "quantity": line["quantity"], "expiration_date": None}
                    ]
                elif lot:
                    line["lots"] = [dict(x) for x in lot]
                    lots.pop(line["sku"])  # a lot list goes with the first line of its SKU
            complete = bool(order_lines) and all(
                ln["shipped"] >= ln["quantity"] for ln in order_lines
            )
            carrier_code = (
                carrier or ((order or {}).get("carrier") or {}).get("code") or self.carrier
            )
            tracking_ref = tracking_ref or f"1Z{uuid.uuid4().hex[:16].upper()}"
            stub = order or {"carrier": {}, "shipments": [], "order_ref": order_ref}
            shipment = self._new_shipment(
                stub, "Completed", shipped_lines, tracking_ref, carrier_code
            )
            if order:
                order["shipments"] = [
                    s for s in order["shipments"] if not (s["status"] == "Processing" and complete)
                ]
                order["shipments"].append(shipment)
                order["status"] = "shipped" if complete else "partially_shipped"
                order["history"].append((order["status"], utc_now()))
            if self.style == "shipbob":
                payload = self._shipbob_shipment_json(
                    order or self._stub_order(order_ref), shipment
                )
            else:
                payload = {
                    "order_ref": order_ref,
                    "shipment_ref": f"SHP-{shipment['id']}",
                    "shipped_at": shipment["shipped_at"],
                    "carrier": {"code": carrier_code, "service": shipment["service"]},
                    "tracking_ref": tracking_ref,
                    "complete": complete,
                    "lines": shipped_lines,
                }
        if self.style == "shipbob":
            return self.post_shipbob("order.shipped", payload, **send)
        return self.post_event(
            "shipment.confirmed", payload, correlation_id=self._correlation(order), **send
        )

    def _stub_order(self, order_ref):
        return {
            "order_ref": order_ref,
            "shipbob_id": 0,
            "payload": {},
            "lines": [],
            "received_at": utc_now(),
        }

    def post_status(self, order_ref, status, reason=None, shipment_ref=None, **send):
        """``shipment.status`` (generic) or the matching ShipBob shipment topic: ``delivered``,
        ``exception``, ``on_hold``, ``cancelled``, ``in_transit``."""
        if status not in STATUS_TOPICS:
            raise ValueError(f"status must be one of {', '.join(STATUS_TOPICS)}")
        with self._lock:
            order = self._order(order_ref, required=False)
            shipments = (order or {}).get("shipments") or []
            shipped = [s for s in shipments if s["tracking_ref"]]
            open_ = [s for s in shipments if s["status"] == "Processing"]
            if status in ("delivered", "in_transit"):
                shipment = (shipped or open_ or [None])[-1]
            else:
                shipment = (open_ or shipped or [None])[-1]
            now = utc_now()
            if shipment:
                shipment["updated_at"] = now
                if status == "delivered":
                    shipment["delivered_at"] = now
                elif status in ("exception", "on_hold"):
                    shipment["status"] = "Exception" if status == "exception" else "OnHold"
                    name = "OutOfStock" if status == "exception" else "InvalidAddress"
                    shipment["status_details"] = [
                        {"id": 1, "name": name, "description": reason or name}
                    ]
                elif status == "cancelled":
                    shipment["status"] = "Cancelled"
            if order and status == "cancelled" and not shipped:
                order["status"] = "cancelled"
            if order:
                order["history"].append((f"status:{status}", now))
            tracking_ref = shipment["tracking_ref"] if shipment else None
            if self.style == "shipbob":
                if status == "in_transit":
                    payload = {
                        "event_time": now,
                        "order_id": (order or {}).get("shipbob_id"),
                        "shipment_id": shipment["id"] if shipment else None,
                        "reference_id": order_ref,
                        "status": "InTransit",
                        "tracking": {
                            "carrier": shipment["carrier"] if shipment else self.carrier,
                            "tracking_id": tracking_ref,
                        },
                    }
                else:
                    payload = self._shipbob_shipment_json(
                        order or self._stub_order(order_ref),
                        shipment or self._new_shipment({}, "Processing"),
                    )
                    payload["status_details"] = payload["status_details"] or (
                        [{"id": 0, "name": status, "description": reason}] if reason else []
                    )
            else:
                payload = {
                    "order_ref": order_ref,
                    "shipment_ref": shipment_ref
                    or (f"SHP-{shipment['id']}" if shipment and shipment["tracking_ref"] else None),
                    "status": status,
                    "occurred_at": now,
                    "reason": reason,
                    "tracking_ref": tracking_ref,
                }
        if self.style == "shipbob":
            return self.post_shipbob(STATUS_TOPICS[status], payload, **send)
        return self.post_event(
            "shipment.status", payload, correlation_id=self._correlation(order), **send
        )

    def post_inventory(self, warehouse_code, lines, snapshot_ref=None, **send):
        """``inventory.snapshot`` (generic only); ``lines``: ``{sku: qty}`` or dicts with
        ``sku``, ``quantity`` and optional ``lot``/``uom``."""
        if self.style == "shipbob":
            raise UnsupportedByStyle(
                "ShipBob has no inventory webhook: stock is read from GET /inventory-level"
            )
        if isinstance(lines, dict):
            lines = [{"sku": sku, "quantity": qty} for sku, qty in lines.items()]
        data = {
            "snapshot_ref": snapshot_ref or f"INV-{next(self._ids):06d}",
            "warehouse_code": warehouse_code,
            "as_of": utc_now(),
            "lines": [
                {k: v for k, v in line.items() if k in ("sku", "quantity", "lot", "uom")}
                for line in lines
            ],
        }
        return self.post_event("inventory.snapshot", data, **send)

    def receive_return(self, order_ref, lines, return_ref=None, **send):
        """Return received: ``lines`` ``{sku: qty}`` or dicts with ``sku``, ``quantity`` and
        optional ``disposition`` (restock), ``reason``, ``lot``."""
        if isinstance(lines, dict):
            lines = [{"sku": sku, "quantity": qty} for sku, qty in lines.items()]
        return_ref = return_ref or f"RMA-{next(self._ids):06d}"
        now = utc_now()
        with self._lock:
            order = self._order(order_ref, required=False)
            if order:
                order["history"].append((f"return:{return_ref}", now))
        canonical = []
        for line in lines:
            item = {
                "sku": line["sku"],
                "quantity": _number(line["quantity"]),
                "uom": line.get("uom"),
                "disposition": line.get("disposition") or "restock",
                "reason": line.get("reason"),
            }
            if line.get("lot"):
                item["lots"] = [
                    {"lot": line["lot"], "quantity": item["quantity"], "expiration_date": None}
                ]
            canonical.append(item)
        if self.style == "generic":
            data = {
                "order_ref": order_ref,
                "return_ref": return_ref,
                "received_at": now,
                "lines": canonical,
            }
            return self.post_event(
                "return.received", data, correlation_id=self._correlation(order), **send
            )
        inventory = []
        for item in canonical:
            _product_id, inventory_id = self._product(item["sku"])
            action = RETURN_ACTIONS.get(item["disposition"], "Restock")
            reason = item["reason"] or ("Damaged" if item["disposition"] == "damaged" else None)
            taken = {
                "action": action,
                "action_reason": reason,
                "quantity_processed": item["quantity"],
                "image_url": None,
            }
            if item.get("lots"):
                taken["lot_number"] = item["lots"][0]["lot"]
            inventory.append(
                {
                    "id": inventory_id,
                    "name": item["sku"],
                    "sku": item["sku"],
                    "quantity": item["quantity"],
                    "action_requested": {"action": action, "action_type": None},
                    "action_taken": [taken],
                }
            )
        shipped = [s for s in (order or {}).get("shipments", []) if s["tracking_ref"]]
        payload = {
            "id": next(self._ids),
            "reference_id": return_ref,
            "status": "Completed",
            "return_type": "Regular",
            "store_order_id": order_ref,
            "original_shipment_id": shipped[-1]["id"] if shipped else None,
            "customer_name": ((order or {}).get("ship_to") or {}).get("name"),
            "tracking_number": None,
            "insert_date": now,
            "completed_date": now,
            "fulfillment_center": {"id": 10, "name": "Simulated FC"},
            "channel": {"id": self.shipbob_channel_id, "name": "Odoo (API)"},
            "inventory": inventory,
        }
        return self.post_shipbob("return.completed", payload, **send)

    # auto mode ------------------------------------------------------------------------------
    def _schedule_auto(self, order_ref):
        if not self.auto:
            return
        now = time.monotonic()
        if self.style == "generic":
            self._schedule(now + self.ack_delay, f"ack {order_ref}", self.acknowledge, order_ref)
        ship_at = now + (self.ack_delay if self.style == "generic" else 0) + self.ship_delay
        self._schedule(ship_at, f"ship {order_ref}", self._auto_ship, order_ref)

    def _auto_ship(self, order_ref):
        order = self.orders.get(order_ref)
        if not order or order["status"] in ("cancelled", "rejected", "shipped"):
            self._log("auto: %s not shipped (%s)", order_ref, order and order["status"])
            return None
        if order.get("customs_hold"):
            self._log(
                "auto: %s not shipped (customs hold; shipped once an update lifts it)", order_ref
            )
            return None
        return self.ship(order_ref)

    # SFTP file exchange (X12 / CSV) ---------------------------------------------------------
    # ``settings`` is an SFTPSettings (logistics_integration_base.transport.sftp) with Odoo's
    # folder layout, e.g. the backend's own ``_sftp_settings()`` or the same server with the
    # 3PL's login: ``inbound_dir`` is where Odoo reads (the 3PL drops its files there),
    # ``outbound_dir`` where Odoo writes (the 3PL picks its orders up there). Files are
    # dropped as the 3PL would: written as ``<name>.part``, then renamed.

    #: interchange ids of the simulated 3PL's X12 files (ISA05/06, ISA07/08 of Odoo)
    x12_qualifier = "ZZ"
    x12_id = "SIM3PL"
    x12_partner_id = "ODOO"
    x12_first_control_number = 5001

    @property
    def sftp_acks(self):
        """997s Odoo wrote for the 3PL's files, as collected by :meth:`sftp_pickup_orders`:
        ``[(file name, [parse_997 dicts])]``."""
        return self.__dict__.setdefault("_sftp_acks", [])

    def sftp_envelope(self, number=None, receiver_id=None):
        """X12 envelope of the 3PL's next file (ISA13 = GS06 = a new control number)."""
        x12 = _x12()
        with self._lock:
            numbers = self.__dict__.setdefault(
                "_x12_numbers", itertools.count(self.x12_first_control_number)
            )
            number = number or next(numbers)
        return x12.Envelope(
            sender_qualifier=self.x12_qualifier,
            sender_id=self.x12_id,
            receiver_qualifier=self.x12_qualifier,
            receiver_id=receiver_id or self.x12_partner_id,
            interchange_control_number=number,
            group_control_number=number,
        )

    def sftp_pickup_orders(self, settings, ack=True, reject=(), remove=True):
        """Take the files Odoo wrote in ``settings.outbound_dir``, as the 3PL does: 940s
        (W0501 ``N`` release, ``R`` update, ``C`` cancel) and CSV ``order_``/``update_``/
        ``cancel_`` files update :attr:`orders` (like the REST endpoints would); every 940
        interchange is answered with a 997 dropped in ``settings.inbound_dir`` (``ack``),
        rejecting the sets that cannot be read or whose order reference is in ``reject``.
        997s Odoo wrote are collected in :attr:`sftp_acks`. Files are removed once read
        (``remove``). Returns ``[(file name, message type, order_ref, outcome)]``."""
        pickup = dataclasses.replace(settings, inbound_dir=settings.outbound_dir, min_file_age=0)
        results, replies = [], []
        with sftp_connection(pickup) as conn:
            files = [(remote, conn.read(remote.name)) for remote in conn.list_ready()]
            # oldest first; files of the same second in the order of their control numbers
            files.sort(key=lambda item: (int(item[0].mtime), _isa13(item[1]), item[0].name))
            for remote, data in files:
                name = remote.name
                if data.lstrip()[:3] == b"ISA":
                    reply = self._sftp_read_x12(name, data, reject, results)
                    if reply and ack:
                        replies.append(reply)
                elif name.lower().endswith(".csv"):
                    self._sftp_read_csv(name, data, results)
                else:
                    results.append((name, "unknown", None, "not an order file"))
                if remove:
                    conn.sftp.remove(posixpath.join(pickup.inbound_dir or ".", name))
        for name, content in replies:
            sftp_drop(settings, name, content)
        self._log("sftp: picked up %d file(s), %d 997(s) sent", len(results), len(replies))
        return results

    def sftp_cycle(self, settings, ship=True):
        """One round of a file-based 3PL, e.g. every few seconds in a demo: pick up Odoo's
        files (answering 997s), then ship in full every order received by file and not
        shipped or cancelled yet, with a 945 (or a CSV confirmation for CSV orders).
        Returns ``(picked up, [SftpDrop])``."""
        picked = self.sftp_pickup_orders(settings)
        drops = []
        if ship:
            with self._lock:
                due = [
                    (ref, order["sftp_format"])
                    for ref, order in self.orders.items()
                    if order.get("sftp_format")
                    and order["status"] in ("received", "accepted")
                    and not order.get("customs_hold")
                ]
            for ref, fmt in due:
                drop = self.sftp_drop_945 if fmt == "x12" else self.sftp_drop_shipment_csv
                drops.append(drop(settings, ref))
        return picked, drops

    def _sftp_read_x12(self, name, data, reject, results):
        x12 = _x12()
        try:
            interchange = x12.parse_interchange(data)
        except x12.X12ParseError as exc:  # no envelope: nothing can be acknowledged
            results.append((name, "unreadable", None, str(exc)))
            return None
        errors, acked = {}, False
        for group in interchange.groups:
            for ts in group.transaction_sets:
                if ts.code == "997":
                    self.sftp_acks.append((name, [x12.parse_997(ts)]))
                    results.append((name, "functional.ack", None, "collected"))
                    continue
                acked = True
                key = (group.control_number, ts.control_number)
                w05 = next(((i, s) for i, s in enumerate(ts.segments) if s[0] == "W05"), None)
                purpose = (w05[1][1] if w05 and len(w05[1]) > 1 else "N").strip()
                ref = (w05[1][2] if w05 and len(w05[1]) > 2 else "").strip() or None
                if ts.code == "940" and ref in reject:
                    errors[key] = [
                        {
                            "segment_id": "W05",
                            "segment_position": w05[0] + 1,
                            "element_position": 2,
                            "element_error_code": "7",
                            "bad_value": ref,
                        }
                    ]
                    results.append((name, "order.release", ref, "rejected"))
                    continue
                if ts.code == "940" and purpose == "C":
                    status, _headers, _body = self._generic_cancel({"order_ref": ref}, None, None)
                    results.append((name, "order.cancel", ref, status))
                    continue
                try:
                    if ts.code != "940":
                        raise x12.X12ParseError(
                            f"transaction set {ts.code} is not an order for a 3PL",
                            "ST",
                            1,
                            1,
                            transaction_set=ts.code,
                            set_control_number=ts.control_number,
                            element_error_code="7",
                            set_error_code="1",
                        )
                    order = x12.parse_940(ts)
                except x12.X12ParseError as exc:
                    errors[key] = [exc]
                    results.append((name, "unreadable", ref, str(exc)))
                    continue
                handler = self._generic_update if purpose == "R" else self._generic_release
                status, _headers, _body = handler(order, f"sftp:{name}", None)
                kind = "order.update" if purpose == "R" else "order.release"
                results.append((name, kind, ref, status))
                if status < 300:
                    self.orders[ref]["sftp_format"] = "x12"
        if not acked:
            return None  # 997s are never acknowledged
        envelope = self.sftp_envelope(receiver_id=interchange.sender_id)
        envelope.receiver_qualifier = interchange.sender_qualifier
        content = x12.build_997(interchange, errors=errors or None, envelope=envelope)
        return (
            f"997_{interchange.control_number}_{envelope.interchange_control_number}.x12",
            content,
        )

    def _sftp_read_csv(self, name, data, results):
        from odoo.addons.logistics_3pl_connector.formats import csv_format

        from . import csv_partner

        prefix = name.split("_", 1)[0].lower()
        try:
            if prefix == "cancel":
                rows = csv.DictReader(io.StringIO(data.decode("utf-8-sig")))
                for row in rows:
                    ref = (row.get("order_ref") or "").strip()
                    status, _headers, _body = self._generic_cancel({"order_ref": ref}, None, None)
                    results.append((name, "order.cancel", ref, status))
                return
            orders = csv_partner.parse_orders_csv(data)
        except (csv_format.CSVParseError, UnicodeDecodeError) as exc:
            results.append((name, "unreadable", None, str(exc)))
            return
        handler = self._generic_update if prefix == "update" else self._generic_release
        kind = "order.update" if prefix == "update" else "order.release"
        for order in orders:
            status, _headers, _body = handler(order, f"sftp:{name}", None)
            results.append((name, kind, order["order_ref"], status))
            if status < 300:
                self.orders[order["order_ref"]]["sftp_format"] = "csv"

    def _sftp_shipment(self, order_ref, quantities, lots, tracking_ref, carrier, shipment_ref):
        """Canonical shipment.confirmed for an SFTP drop, and the open quantity per line
        before it (W1202 "ordered" of the 945: CC when it is all shipped, else CP)."""
        lots = dict(lots or {})
        with self._lock:
            order = self._order(order_ref, required=quantities is None)
            self._refuse_held(order)
            order_lines = order["lines"] if order else []
            if quantities is None:
                wanted = {}
                for line in order_lines:
                    open_qty = line["quantity"] - line["shipped"]
                    if open_qty > 0:
                        wanted[line["sku"]] = wanted.get(line["sku"], 0) + open_qty
            else:
                wanted = {sku: _number(qty) for sku, qty in quantities.items()}
            if not wanted:
                raise ValueError(f"nothing left to ship on order {order_ref}")
            lines, ordered = [], {}
            for sku, qty in wanted.items():
                left = qty
                for line in order_lines:
                    open_qty = line["quantity"] - line["shipped"]
                    if line["sku"] != sku or left <= 0 or open_qty <= 0:
                        continue
                    take = min(left, open_qty)
                    key = line["line_ref"] or sku
                    ordered[key] = _number(open_qty)
                    line["shipped"] = _number(line["shipped"] + take)
                    left -= take
                    lines.append(
                        {
                            "line_ref": line["line_ref"],
                            "sku": sku,
                            "quantity": _number(take),
                            "uom": line.get("uom"),
                        }
                    )
                if left > 0:  # over-shipment or unknown SKU: sent as asked
                    lines.append(
                        {"line_ref": None, "sku": sku, "quantity": _number(left), "uom": None}
                    )
            for line in lines:
                lot = lots.get(line["sku"])
                if isinstance(lot, str):
                    line["lots"] = [
                        {"lot": lot, "quantity": line["quantity"], "expiration_date": None}
                    ]
                elif lot:
                    line["lots"] = [dict(x) for x in lot]
                    lots.pop(line["sku"])
            complete = bool(order_lines) and all(
                ln["shipped"] >= ln["quantity"] for ln in order_lines
            )
            carrier_code = (
                carrier or ((order or {}).get("carrier") or {}).get("code") or self.carrier
            )
            tracking_ref = tracking_ref or f"1Z{uuid.uuid4().hex[:16].upper()}"
            stub = order or {"carrier": {}, "shipments": [], "order_ref": order_ref}
            shipment = self._new_shipment(stub, "Completed", lines, tracking_ref, carrier_code)
            if order:
                order["shipments"] = [
                    s for s in order["shipments"] if not (s["status"] == "Processing" and complete)
                ]
                order["shipments"].append(shipment)
                order["status"] = "shipped" if complete else "partially_shipped"
                order["history"].append((order["status"], utc_now()))
            payload = {
                "order_ref": order_ref,
                "shipment_ref": shipment_ref or f"SHP-{shipment['id']}",
                "shipped_at": shipment["shipped_at"],
                "carrier": {"code": carrier_code, "service": shipment["service"]},
                "tracking_ref": tracking_ref,
                "complete": complete,
                "lines": lines,
            }
        return payload, ordered

    def sftp_drop_945(
        self,
        settings,
        order_ref,
        quantities=None,
        lots=None,
        tracking_ref=None,
        carrier=None,
        shipment_ref=None,
        envelope=None,
        filename=None,
    ):
        """Ship (everything open, or ``quantities`` ``{sku: qty}``) and drop the 945 warehouse
        shipping advice in Odoo's inbound folder. Returns an :class:`SftpDrop`."""
        from . import x12_partner

        shipment, ordered = self._sftp_shipment(
            order_ref, quantities, lots, tracking_ref, carrier, shipment_ref
        )
        content = x12_partner.build_945(
            shipment, envelope or self.sftp_envelope(), ordered_quantities=ordered
        )
        name = filename or f"945_{_file_safe(shipment['shipment_ref'])}.x12"
        return SftpDrop(sftp_drop(settings, name, content), name, content, shipment)

    def sftp_drop_shipment_csv(
        self,
        settings,
        order_ref,
        quantities=None,
        lots=None,
        tracking_ref=None,
        carrier=None,
        shipment_ref=None,
        filename=None,
    ):
        """Same as :meth:`sftp_drop_945`, as a CSV shipment confirmation file."""
        from . import csv_partner

        shipment, _ordered = self._sftp_shipment(
            order_ref, quantities, lots, tracking_ref, carrier, shipment_ref
        )
        content = csv_partner.build_shipments_csv([shipment])
        name = filename or f"shipment_{_file_safe(shipment['shipment_ref'])}.csv"
        return SftpDrop(sftp_drop(settings, name, content), name, content, shipment)

    def _sftp_snapshot(self, warehouse_code, lines, snapshot_ref, as_of):
        if isinstance(lines, dict):
            lines = [{"sku": sku, "quantity": qty} for sku, qty in lines.items()]
        return {
            "snapshot_ref": snapshot_ref or f"INV-{next(self._ids):06d}",
            "warehouse_code": warehouse_code,
            "as_of": as_of or utc_now(),
            "lines": [
                {
                    "sku": line["sku"],
                    "lot": line.get("lot"),
                    "quantity": _number(line["quantity"]),
                    "uom": line.get("uom"),
                }
                for line in lines
            ],
        }

    def sftp_drop_846(
        self,
        settings,
        warehouse_code,
        lines,
        snapshot_ref=None,
        as_of=None,
        envelope=None,
        filename=None,
    ):
        """Drop an 846 inventory advice; ``lines``: ``{sku: qty}`` or dicts with ``sku``,
        ``quantity`` and optional ``lot``/``uom``. Returns an :class:`SftpDrop`."""
        from . import x12_partner

        snapshot = self._sftp_snapshot(warehouse_code, lines, snapshot_ref, as_of)
        content = x12_partner.build_846(snapshot, envelope or self.sftp_envelope())
        name = filename or f"846_{_file_safe(snapshot['snapshot_ref'])}.x12"
        return SftpDrop(sftp_drop(settings, name, content), name, content, snapshot)

    def sftp_drop_inventory_csv(
        self, settings, warehouse_code, lines, snapshot_ref=None, as_of=None, filename=None
    ):
        """Same as :meth:`sftp_drop_846`, as a CSV inventory file."""
        from . import csv_partner

        snapshot = self._sftp_snapshot(warehouse_code, lines, snapshot_ref, as_of)
        content = csv_partner.build_inventory_csv(snapshot)
        name = filename or f"inventory_{_file_safe(snapshot['snapshot_ref'])}.csv"
        return SftpDrop(sftp_drop(settings, name, content), name, content, snapshot)

    def sftp_drop_file(self, settings, filename, content):
        """Drop any content (a hand-made or damaged file) atomically."""
        return SftpDrop(sftp_drop(settings, filename, content), filename, content, None)

    def sftp_drop_half_written(self, settings, filename, content):
        """Leave an upload in progress: the first half of ``content`` as ``<name>.part``
        (complete it with :meth:`sftp_drop_file` of the same name)."""
        path = sftp_drop(settings, filename, content, half_written=True)
        return SftpDrop(path, filename, content, None)


def main(argv=None):
    parser = cli_parser(
        "logistics_simulators.threepl", __doc__.split("\n")[0], "acknowledge and ship by itself"
    )
    parser.add_argument("--style", choices=("generic", "shipbob"), default="generic")
    parser.add_argument("--ack-delay", type=float, default=2.0)
    parser.add_argument("--ship-delay", type=float, default=5.0)
    return run_cli(ThreePLSimulator, parser.parse_args(argv), "3pl-sim", shown=("style",))


if __name__ == "__main__":
    sys.exit(main())


def sftp_drop_945(settings, shipment, envelope, filename=None, **build):
    """Build a 945 (warehouse shipping advice) from canonical shipment data and drop it;
    ``build`` goes to ``x12_partner.build_945`` (e.g. ``ordered_quantities`` for partials)."""
    from . import x12_partner

    content = x12_partner.build_945(shipment, envelope, **build)
    name = filename or f"945_{shipment['shipment_ref']}.x12"
    return sftp_drop(settings, name, content), content


def _x12():
    from odoo.addons.logistics_3pl_connector.formats import x12

    return x12


def _file_safe(text):
    return re.sub(r"[^A-Za-z0-9_.-]+", "-", str(text)).strip("-.") or "file"


def _isa13(data):
    """Interchange control number of X12 content (0 for anything else), for ordering."""
    head = data.lstrip()[:106]
    if head[:3] != b"ISA" or len(head) < 106:
        return 0
    fields = head.decode("latin-1").split(head[3:4].decode("latin-1"))
    return int(fields[13]) if len(fields) > 13 and fields[13].strip().isdigit() else 0
