"""The ``shipbob`` provider: a ShipBob-shaped REST API (mapping in ``mappers/shipbob.py``).

Version: ShipBob's dated API ``2026-01`` (base URL ``https://api.shipbob.com/2026-01``); a base
URL naming the retired 1.0/2.0 is refused in words before anything is sent. Every call carries
the backend's channel in the ``shipbob_channel_id`` header (ShipBob requires it to create an
order; a backend without one is refused before sending, saying where to find it).
Outbound: ``order.release`` → ``POST /order`` (bearer token); ShipBob's 201 answer is the
acknowledgement (there is no ack webhook), so the order is accepted at once with ShipBob's
order id. A 422 "duplicate reference" — a resend after a lost answer — is resolved by
looking the order up by reference (``GET /order?ReferenceIds=``) and counts as a success.
``order.cancel`` → ``POST /order/{id}:cancel`` with the delivery's ShipBob order id.
ShipBob has no order update: ``order.update`` fails with a business reason (backends of this
provider do not accept updates by default, so Odoo refuses the change up front).
Inbound: the topic header decides the canonical type; every canonical payload is validated
against its schema; topics that need nothing are stored as ignored with the reason; unknown
topics and unusable payloads are refused with 422 (and stored as failed, typed
``shipbob.<topic>`` so the exception queue says which ShipBob event it was). One webhook
carrying several shipments (legacy ``order_shipped`` wrapping ``shipments[]``) gives one
canonical message per shipment.
Polling fallback: :meth:`ShipBobAdapter.poll` (capability ``poll``), called by the backend's
cron. Stock: ShipBob pushes no inventory, so a ShipBob backend with *Poll inventory* pulls
``GET /inventory-level`` (capability ``fetch``, every page by its ``next`` link) into an
``inventory.snapshot`` of the warehouse standing for ShipBob (on-hand quantity per SKU).
"""

import json
import logging
import re

from odoo import fields

from odoo.addons.logistics_integration_base.adapters import (
    FETCH,
    PARSE_INBOUND,
    POLL,
    SEND,
    TEST_CONNECTION,
    Adapter,
    InboundEvent,
    OutboundResult,
    register,
)
from odoo.addons.logistics_integration_base.exceptions import PayloadInvalid, TransportError
from odoo.addons.logistics_integration_base.tools import personal

from ..mappers import shipbob

_logger = logging.getLogger(__name__)

#: order references per polling request (they travel in the query string)
POLL_BATCH = 50
#: pages read per batch at most (ShipBob pages hold up to 250 orders)
POLL_MAX_PAGES = 20
#: inventory items per page, and pages read at most, when pulling stock levels
INVENTORY_PAGE_SIZE = 250
INVENTORY_MAX_PAGES = 200


def _without(err, secret):
    """``err`` with ``secret`` masked in its reason and body: a partner refusing a request
    may quote the values it was sent, and the refusal is shown to the user and stored."""
    if secret:
        err.reason = personal.redact_values(err.reason, [secret])
        err.args = (err.reason,)
        if isinstance(err.body, str):
            err.body = personal.redact_values(err.body, [secret])
    return err


def _json(text):
    try:
        return json.loads(text) if text else None
    except ValueError:
        return text


def _items(answer):
    """A ``GET /order`` answer as a list of orders (tolerates paged envelopes)."""
    if isinstance(answer, dict):
        answer = answer.get("items") or answer.get("data") or []
    return answer if isinstance(answer, list) else []


def _has_left(shipment):
    """The polling rule, also applied to an order wrapping its shipments: a shipment has left
    the warehouse when its status says so or it carries a tracking number."""
    status = str(shipment.get("status") or "").replace(" ", "").lower()
    if status in ("cancelled", "canceled"):
        return False
    tracking = shipment.get("tracking") or {}
    return status in shipbob.SHIPPED_STATUSES or bool(tracking.get("tracking_number"))


def _refused(exc, message_type, path=""):
    """``PayloadInvalid`` for the webhook route, naming the message type to store."""
    err = exc if isinstance(exc, PayloadInvalid) else PayloadInvalid(str(exc), path)
    err.message_type = message_type  # read by the webhook route when storing the failure
    return err


@register("shipbob")
class ShipBobAdapter(Adapter):
    capabilities = frozenset({SEND, POLL, FETCH, PARSE_INBOUND, TEST_CONNECTION})
    inbound_content_types = ("application/json",)

    def _error(self, err, order_ref=None, advice=None):
        """A TransportError reworded with ShipBob's own explanation; about an order, it
        names the order and, for refused data, says what to correct."""
        if err.status is None:
            return err
        category, reason = shipbob.classify_error(err.status, _json(err.body), advice)
        if order_ref and category in ("validation", "business"):
            reason = self.env._("Order %(ref)s: %(reason)s", ref=order_ref, reason=reason)
        return TransportError(
            reason, category, err.transient, err.status, err.retry_after, err.body
        )

    # outbound -------------------------------------------------------------------------------
    def preview(self, message):
        """The order ShipBob would be sent (its API's request body); other messages as the
        canonical payload."""
        if message.message_type != "order.release":
            return super().preview(message)
        try:
            body = shipbob.order_release_to_request(message._get_payload())
        except shipbob.MappingError as exc:
            raise TransportError(str(exc), "validation") from None
        return json.dumps(body, indent=2, sort_keys=True)

    def send(self, message):
        if message.message_type == "order.release":
            return self._send_release(message, message._get_payload())
        if message.message_type == "order.cancel":
            return self._send_cancel(message, message._get_payload())
        if message.message_type == "order.update":
            raise TransportError(
                self.env._(
                    "ShipBob cannot change an order once it is created. Change it in the "
                    "ShipBob dashboard, or cancel the delivery in Odoo (ShipBob is told) and "
                    "create a new one. Then ignore this message."
                ),
                "business",
            )
        raise TransportError(
            self.env._(
                "Backend %(backend)s speaks the ShipBob API, which has no call for "
                "'%(type)s' messages.",
                backend=self.backend.name,
                type=message.message_type,
            ),
            "business",
        )

    def _headers(self, message=None):
        """The channel ShipBob files the call under; for a message, also its idempotency key
        and correlation id (ShipBob ignores both; they make the calls traceable in proxies
        and the simulator)."""
        headers = {shipbob.CHANNEL_HEADER: self._channel()}
        if message is not None:
            headers["Idempotency-Key"] = message.idempotency_key
            headers["X-Correlation-ID"] = message.correlation_id or ""
        return headers

    def _channel(self):
        self._check_version()
        channel = (self.backend.shipbob_channel_id or "").strip()
        if not channel:
            raise TransportError(
                self.env._(
                    "Backend %(backend)s has no ShipBob channel, and ShipBob files every order "
                    "under one. Press Test connection on the backend: it lists the channels "
                    "the token sees; enter the one that may create orders in ShipBob channel, "
                    "then retry.",
                    backend=self.backend.name,
                ),
                "auth",
            )
        return channel

    def _check_version(self):
        version = shipbob.api_version(self.backend.base_url)
        if version is None:
            raise TransportError(
                self.env._(
                    "The base URL of backend %(backend)s names no ShipBob API version. End it "
                    "with the version the connector speaks: https://api.shipbob.com/%(current)s "
                    "(sandbox: https://sandbox-api.shipbob.com/%(current)s), then retry.",
                    backend=self.backend.name,
                    current=shipbob.API_VERSION,
                ),
                "business",
            )
        if version in shipbob.RETIRED_VERSIONS:
            raise TransportError(
                self.env._(
                    "Backend %(backend)s calls ShipBob's API %(version)s, which ShipBob retired "
                    "on 31 July 2026. Change its base URL to https://api.shipbob.com/%(current)s "
                    "(sandbox: https://sandbox-api.shipbob.com/%(current)s), then retry.",
                    backend=self.backend.name,
                    version=version,
                    current=shipbob.API_VERSION,
                ),
                "business",
            )

    def _send_release(self, message, data):
        try:
            body = shipbob.order_release_to_request(data)
        except shipbob.MappingError as exc:
            raise TransportError(str(exc), "validation") from None
        http = self.http()
        try:
            response = http.request(
                "POST", shipbob.ORDER_PATH, json=body, headers=self._headers(message)
            )
            order = response.json()
            status = response.status_code
        except TransportError as err:
            advice = self.env._(
                "Correct the delivery in Odoo (recipient address, products, quantities), "
                "then retry."
            )
            if not shipbob.is_duplicate_reference(err.status, _json(err.body)):
                raise self._error(err, data["order_ref"], advice) from None
            # An earlier attempt created the order and its answer was lost: find it.
            order = self._find_order(http, data["order_ref"])
            if order is None:
                raise self._error(err, data["order_ref"]) from None
            status = 200
        except ValueError:
            raise TransportError(
                self.env._("ShipBob accepted the order but its answer is not JSON."), "technical"
            ) from None
        try:
            parsed = shipbob.parse_order_response(order)
        except shipbob.MappingError as exc:
            raise TransportError(str(exc), "technical") from None
        if parsed["status"] == "rejected":
            raise TransportError(
                self.env._(
                    "ShipBob answered with order %(id)s for %(ref)s, already cancelled there. "
                    "Check the order in ShipBob.",
                    id=parsed["external_order_id"],
                    ref=data["order_ref"],
                ),
                "business",
            )
        return OutboundResult(
            status=status,
            external_id=parsed["external_order_id"],
            acknowledged=True,
            response=order,
            request_body=json.dumps(body, sort_keys=True),
        )

    def _find_order(self, http, order_ref):
        params = shipbob.poll_shipped_orders_params([order_ref])
        params.pop("HasTracking", None)
        try:
            found = http.request(
                "GET", shipbob.ORDER_PATH, params=params, headers=self._headers()
            ).json()
        except (TransportError, ValueError):
            return None
        return next((o for o in _items(found) if o.get("reference_id") == order_ref), None)

    def _send_cancel(self, message, data):
        picking = None
        if message.res_model == "stock.picking" and message.res_id:
            picking = message.env["stock.picking"].sudo().browse(message.res_id).exists()
        try:
            method, path, body = shipbob.order_cancel_request(
                data, picking.logistics_external_id if picking else None
            )
        except shipbob.MappingError as exc:
            raise TransportError(str(exc), "business") from None
        try:
            response = self.http().request(method, path, json=body, headers=self._headers(message))
        except TransportError as err:
            raise self._error(err, data["order_ref"]) from None
        answer = _json(response.text) or {}
        result = shipbob.parse_cancel_response(answer if isinstance(answer, dict) else {})
        if not result["cancelled"]:
            raise TransportError(
                self.env._(
                    "Order %(ref)s was not cancelled: %(reason)s. Stop it in the ShipBob "
                    "dashboard if it is still possible, else handle it as a return.",
                    ref=data["order_ref"],
                    reason=result["reason"].rstrip("."),
                ),
                "business",
            )
        return OutboundResult(
            status=response.status_code,
            response=answer,
            request_body=json.dumps(body) if body is not None else None,
        )

    def test_connection(self):
        """Lists the channels the token sees (``GET /channel``) and says whether the backend's
        channel is one of them and may create orders."""
        self._check_version()
        try:
            response = self.http().request("GET", shipbob.CHANNEL_PATH)
        except TransportError as err:
            raise self._error(err) from None
        channels = shipbob.channels_from_response(_json(response.text))
        listed = "; ".join(
            self.env._(
                "%(id)s (%(name)s, %(may)s)",
                id=channel["id"],
                name=channel["name"],
                may=self.env._("may create orders")
                if channel["orders_write"]
                else self.env._("read only"),
            )
            for channel in channels
        ) or self.env._("none")
        configured = (self.backend.shipbob_channel_id or "").strip()
        mine = next((c for c in channels if c["id"] == configured), None)
        if not configured:
            verdict = self.env._("Enter one that may create orders in ShipBob channel.")
        elif mine is None or not mine["orders_write"]:
            raise TransportError(
                self.env._(
                    "Backend %(backend)s files orders under ShipBob channel %(channel)s, which "
                    "%(problem)s. The token's channels: %(channels)s. Enter one that may create "
                    "orders in ShipBob channel.",
                    backend=self.backend.name,
                    channel=configured,
                    problem=self.env._("the token does not see")
                    if mine is None
                    else self.env._("may not create orders"),
                    channels=listed,
                ),
                "auth",
            )
        else:
            verdict = self.env._("The backend's channel %s may create orders.", configured)
        return self.env._(
            "ShipBob answered with the token's channels: %(channels)s. %(verdict)s",
            channels=listed,
            verdict=verdict,
        )

    # webhook subscription -------------------------------------------------------------------
    def subscribe_webhooks(self, url, secret):
        """Have ShipBob send the topics the connector applies to ``url``, signed with
        ``secret``: a new subscription first (``POST /webhook``), then the earlier ones to the
        same address deleted (``DELETE /webhook/{id}``), so that after a secret rotation
        ShipBob signs with the new secret and no event falls in a gap."""
        self._check_version()
        if not str(url or "").lower().startswith("https://"):
            raise TransportError(
                self.env._(
                    "ShipBob sends webhooks to HTTPS addresses only, and the webhook address of "
                    "backend %(backend)s is %(url)s. Set the system parameter web.base.url to "
                    "Odoo's public https address, then subscribe again.",
                    backend=self.backend.name,
                    url=url or self.env._("empty"),
                ),
                "business",
            )
        http = self.http()
        try:
            listed = _json(http.request("GET", shipbob.WEBHOOK_PATH).text)
            items = listed.get("items") if isinstance(listed, dict) else listed
            earlier = [
                str(sub["id"])
                for sub in (items if isinstance(items, list) else [])
                if isinstance(sub, dict) and sub.get("url") == url and sub.get("id")
            ]
            body = {
                "topics": list(shipbob.WEBHOOK_TOPICS),
                "url": url,
                "secret": secret,
                "description": f"Odoo backend {self.backend.code}",
            }
            answer = _json(http.request("POST", shipbob.WEBHOOK_PATH, json=body).text)
            for subscription_id in earlier:
                http.request("DELETE", f"{shipbob.WEBHOOK_PATH}/{subscription_id}")
        except TransportError as err:
            raise _without(self._error(err), secret) from None
        summary = self.env._(
            "ShipBob now sends %(topics)s to %(url)s, signed with the backend's current webhook "
            "secret (subscription %(id)s).",
            topics=", ".join(shipbob.WEBHOOK_TOPICS),
            url=url,
            id=answer.get("id") if isinstance(answer, dict) else "?",
        )
        if earlier:
            summary += " " + self.env._(
                "It replaces subscription %s to the same address.", ", ".join(earlier)
            )
        return summary

    # polling fallback -----------------------------------------------------------------------
    def poll(self, order_refs=()):
        """A ``shipment.confirmed`` event for every shipment that left ShipBob's warehouse
        among the orders ``order_refs`` (batched references, every page read), keyed by its
        shipment reference."""
        return [
            InboundEvent(
                event_id=data["shipment_ref"],
                message_type="shipment.confirmed",
                data=data,
                subject=data.get("order_ref"),
            )
            for data in self.poll_shipped(order_refs)
        ]

    def poll_shipped(self, order_refs):
        """Canonical ``shipment.confirmed`` data for every shipment that left ShipBob's
        warehouse among the orders ``order_refs`` (batched references, every page read).

        An order ShipBob answers with that cannot be mapped is skipped and reported on the
        backend's chatter; the others are still returned."""
        http = self.http()
        refs = list(order_refs)
        results, problems = [], []
        for start in range(0, len(refs), POLL_BATCH):
            batch = refs[start : start + POLL_BATCH]
            for page in range(1, POLL_MAX_PAGES + 1):
                params = shipbob.poll_shipped_orders_params(batch, page=page)
                try:
                    answer = http.request(
                        "GET", shipbob.ORDER_PATH, params=params, headers=self._headers()
                    ).json()
                except TransportError as err:
                    raise self._error(err) from None
                except ValueError:
                    raise TransportError(
                        self.env._(
                            "ShipBob answered the list of shipped orders with something other "
                            "than JSON."
                        ),
                        "technical",
                    ) from None
                orders = _items(answer)
                for order in orders:
                    try:
                        results += shipbob.poll_shipped_orders_to_canonical([order])
                    except shipbob.MappingError as exc:
                        problems.append(str(exc))
                if len(orders) < int(params["Limit"]):
                    break
        if problems:
            _logger.warning("ShipBob polling of %s: %s", self.backend.code, problems)
            self.backend.message_post(
                body=self.env._(
                    "Polling for shipped orders skipped what could not be read: %s",
                    "; ".join(problems),
                )
            )
        return results

    # inventory pull -------------------------------------------------------------------------
    def fetch(self, what, path=None, warehouse_code=None, **params):
        """``inventory.snapshot``: ShipBob's stock levels (``GET /inventory-level``, every page
        followed by its ``next`` link) as the snapshot of ``warehouse_code``, the Odoo
        warehouse standing for ShipBob."""
        if what != "inventory.snapshot":
            raise TransportError(
                self.env._(
                    "Backend %(backend)s speaks the ShipBob API, which cannot be asked for "
                    "'%(what)s'.",
                    backend=self.backend.name,
                    what=what,
                ),
                "business",
            )
        http = self.http()
        headers = self._headers()
        origin = re.match(r"^[a-z]+://[^/]+", self.backend.base_url or "", re.IGNORECASE)
        url, query = shipbob.INVENTORY_PATH, {"PageSize": str(INVENTORY_PAGE_SIZE)}
        items, seen = [], set()
        as_of = fields.Datetime.now().strftime("%Y-%m-%dT%H:%M:%SZ")
        for _page in range(INVENTORY_MAX_PAGES):
            try:
                answer = http.request("GET", url, params=query, headers=headers).json()
            except TransportError as err:
                raise self._error(err) from None
            except ValueError:
                raise TransportError(
                    self.env._("ShipBob answered the stock levels with something other than JSON."),
                    "technical",
                ) from None
            page = answer.get("items") if isinstance(answer, dict) else answer
            items += page if isinstance(page, list) else []
            link = shipbob.next_page(answer)
            if not link or link in seen or not page:
                break
            seen.add(link)
            url = link if "://" in link else (origin.group(0) if origin else "") + link
            query = None
        return shipbob.inventory_levels_to_snapshot(items, warehouse_code, as_of)

    # inbound --------------------------------------------------------------------------------
    def parse_inbound(self, headers, body, event_id):
        payload = self.load_json(body)
        topic = shipbob.topic_from_headers(dict(headers.items()))
        label = f"shipbob.{topic}" if topic else "shipbob.unknown"
        resource_id = payload.get("id") if isinstance(payload, dict) else None
        if (
            topic == "order.shipped"
            and isinstance(payload, dict)
            and isinstance(payload.get("shipments"), list)
        ):
            # A (legacy) order.shipped carrying the whole order lists every shipment,
            # also those still being processed: only the ones that left are confirmations.
            shipped = [s for s in payload["shipments"] if isinstance(s, dict) and _has_left(s)]
            if not shipped:
                return InboundEvent(
                    event_id=event_id,
                    message_type=label,
                    data={},
                    external_id=str(resource_id) if resource_id else None,
                    ignored_reason=self.env._(
                        "no shipment of ShipBob order %s has left the warehouse yet",
                        payload.get("reference_id") or resource_id,
                    ),
                )
            payload = dict(payload, shipments=shipped)
        try:
            items = shipbob.webhook_to_canonical(topic, payload)
        except shipbob.IgnoredEvent as ignored:
            return InboundEvent(
                event_id=event_id,
                message_type=f"shipbob.{ignored.topic}",
                data={},
                external_id=str(resource_id) if resource_id else None,
                ignored_reason=ignored.reason,
            )
        except shipbob.MappingError as exc:
            path = "" if topic else f"headers.{shipbob.TOPIC_HEADER}"
            if topic and "topic" in str(exc):
                path = f"headers.{shipbob.TOPIC_HEADER}"
            raise _refused(exc, label, path) from None
        registry = self.env["logistics.message"]._schema_registry()
        events = []
        for message_type, data in items:
            try:
                registry.validate(message_type, data)
            except PayloadInvalid as exc:
                raise _refused(exc, message_type) from None
            reference = data.get("shipment_ref") or data.get("return_ref") or resource_id
            events.append(
                InboundEvent(
                    event_id=event_id,
                    message_type=message_type,
                    data=data,
                    schema_version=registry.latest_version(message_type) or 1,
                    event_time=data.get("shipped_at")
                    or data.get("occurred_at")
                    or data.get("received_at"),
                    external_id=str(reference) if reference else None,
                    subject=data.get("order_ref"),
                )
            )
        return events
