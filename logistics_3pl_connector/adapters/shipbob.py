"""The ``shipbob`` provider: a ShipBob-shaped REST API (mapping in ``mappers/shipbob.py``).

Outbound: ``order.release`` → ``POST /order`` (bearer token); ShipBob's 201 answer is the
acknowledgement (there is no ack webhook), so the order is accepted at once with ShipBob's
order id. A 422 "duplicate reference" — a resend after a lost answer — is resolved by
looking the order up by reference. ``order.cancel`` → ``POST /order/{id}/cancel``.
ShipBob has no order update: ``order.update`` fails with a business reason (backends of
this provider should not accept updates).
Inbound: the topic header decides the canonical type; topics that need nothing are stored
as ignored with the reason; unknown topics and unusable payloads are refused with 422.
"""

import json

from odoo.addons.logistics_integration_base.adapters.base import (
    Adapter,
    InboundEvent,
    OutboundResult,
    register,
)
from odoo.addons.logistics_integration_base.tools.canonical import PayloadInvalid
from odoo.addons.logistics_integration_base.transport.http import TransportError

from ..mappers import shipbob


def _json(text):
    try:
        return json.loads(text) if text else None
    except ValueError:
        return text


@register("shipbob")
class ShipBobAdapter(Adapter):
    inbound_content_types = ("application/json",)

    def _error(self, err):
        """A TransportError reworded with ShipBob's own explanation."""
        if err.status is None:
            return err
        category, reason = shipbob.classify_error(err.status, _json(err.body))
        return TransportError(
            reason, category, err.transient, err.status, err.retry_after, err.body
        )

    def send(self, message):
        data = message._get_payload()
        http = self.http()
        if message.message_type == "order.release":
            body = shipbob.order_release_to_request(data)
            try:
                response = http.request("POST", shipbob.ORDER_PATH, json=body)
                order = response.json()
                status = response.status_code
            except TransportError as err:
                if not shipbob.is_duplicate_reference(err.status, _json(err.body)):
                    raise self._error(err) from None
                order = self._find_order(http, data["order_ref"])
                if order is None:
                    raise self._error(err) from None
                status = 200
            parsed = shipbob.parse_order_response(order)
            if parsed["status"] == "rejected":
                raise TransportError(
                    f"ShipBob answered with order {parsed['external_order_id']} already cancelled.",
                    "business",
                )
            return OutboundResult(
                status=status,
                external_id=parsed["external_order_id"],
                acknowledged=True,
                response=order,
                request_body=json.dumps(body, sort_keys=True),
            )
        if message.message_type == "order.cancel":
            picking = (
                message.env[message.res_model].browse(message.res_id)
                if message.res_model == "stock.picking"
                else None
            )
            try:
                method, path, body = shipbob.order_cancel_request(
                    data, picking.logistics_external_id if picking else None
                )
            except shipbob.MappingError as exc:
                raise TransportError(str(exc), "business") from None
            try:
                response = http.request(method, path, json=body)
            except TransportError as err:
                raise self._error(err) from None
            answer = response.json() if response.content else {}
            result = shipbob.parse_cancel_response(answer)
            if not result["cancelled"]:
                raise TransportError(result["reason"], "business")
            return OutboundResult(status=response.status_code, response=answer)
        raise TransportError(
            f"ShipBob has no API for '{message.message_type}': change the order in ShipBob, "
            "or cancel it and release a new one.",
            "business",
        )

    def _find_order(self, http, order_ref):
        params = shipbob.poll_shipped_orders_params([order_ref])
        params.pop("HasTracking", None)
        try:
            found = http.request("GET", shipbob.ORDER_PATH, params=params).json()
        except TransportError:
            return None
        if isinstance(found, dict):
            found = found.get("items") or []
        return next((o for o in found if o.get("reference_id") == order_ref), None)

    def poll_shipped(self, order_refs):
        """Canonical shipment.confirmed data for the shipped orders among ``order_refs``."""
        http = self.http()
        try:
            answer = http.request(
                "GET", shipbob.ORDER_PATH, params=shipbob.poll_shipped_orders_params(order_refs)
            ).json()
        except TransportError as err:
            raise self._error(err) from None
        return shipbob.poll_shipped_orders_to_canonical(answer)

    def test_connection(self):
        response = self.http().request("GET", shipbob.ORDER_PATH, params={"Limit": "1"})
        return f"ShipBob API answered HTTP {response.status_code} to GET {shipbob.ORDER_PATH}"

    def parse_inbound(self, headers, body, event_id):
        payload = self.load_json(body)
        topic = shipbob.topic_from_headers(dict(headers.items()))
        try:
            items = shipbob.webhook_to_canonical(topic, payload)
        except shipbob.IgnoredEvent as ignored:
            return InboundEvent(
                event_id=event_id,
                message_type=f"shipbob.{ignored.topic}",
                data={},
                ignored_reason=ignored.reason,
            )
        except shipbob.MappingError as exc:
            raise PayloadInvalid(str(exc), "topic" if "topic" in str(exc) else "") from None
        registry = self.backend.env["logistics.message"]._schema_registry()
        events = []
        for message_type, data in items:
            registry.validate(message_type, data)
            events.append(
                InboundEvent(
                    event_id=event_id,
                    message_type=message_type,
                    data=data,
                    schema_version=registry.latest_version(message_type) or 1,
                    external_id=str(payload.get("id"))
                    if isinstance(payload, dict) and payload.get("id")
                    else None,
                    subject=data.get("order_ref"),
                )
            )
        return events
