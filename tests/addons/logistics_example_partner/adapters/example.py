"""The ``example`` provider: a parcel partner with shapes of its own.

Outbound ``parcel.book`` -> ``POST <base_url>/parcels`` ``{"ref", "kg", "to": {...}}``; its
answer ``{"parcel_id": ...}`` is the partner reference. Synchronous ``parcel.quote`` ->
``POST <base_url>/quotes``. Webhooks: ``{"evt": "scan", "parcel": {"ref", "state", "at"}}``,
mapped to the canonical ``parcel.scan``. Errors: ``{"problems": [{"field", "text"}]}``.
"""

import json

from odoo.addons.logistics_integration_base.adapters import (
    CALL,
    PARSE_INBOUND,
    SEND,
    TEST_CONNECTION,
    Adapter,
    CallResult,
    InboundEvent,
    OutboundResult,
    register,
)
from odoo.addons.logistics_integration_base.exceptions import PayloadInvalid, TransportError

STATES = {"S": "in_transit", "D": "delivered", "X": "exception"}


def book_request(data):
    return {"ref": data["parcel_ref"], "kg": data["weight_kg"], "to": {"zip": data["zip"]}}


def scan_from_partner(body):
    parcel = body.get("parcel") if isinstance(body, dict) else None
    if body.get("evt") != "scan" or not isinstance(parcel, dict):
        raise PayloadInvalid("not a scan event", "evt")
    return {
        "parcel_ref": parcel.get("ref"),
        "status": STATES.get(parcel.get("state"), parcel.get("state")),
        "scanned_at": parcel.get("at"),
    }


@register("example")
class ExampleAdapter(Adapter):
    capabilities = frozenset({SEND, CALL, PARSE_INBOUND, TEST_CONNECTION})

    def send(self, message):
        if message.message_type != "parcel.book":
            raise TransportError(f"the example partner takes no {message.message_type}", "business")
        body = book_request(message._get_payload())
        response = self.http().request(
            "POST",
            "parcels",
            json=body,
            headers={"Idempotency-Key": message.idempotency_key},
        )
        answer = response.json()
        return OutboundResult(
            status=response.status_code,
            external_id=answer.get("parcel_id"),
            response=answer,
            request_body=json.dumps(body),
        )

    def call(self, operation, payload, correlation_id=None):
        body = {"kg": payload["weight_kg"], "zip": payload["zip"]}
        response = self.http().request(
            "POST", "quotes", json=body, headers={"X-Correlation-ID": correlation_id or ""}
        )
        return CallResult(
            data={"price": response.json()["price"]},
            status=response.status_code,
            request_body=json.dumps(body),
            response_body=response.text,
        )

    def test_connection(self):
        response = self.http().request("GET", "")
        return f"example partner answered HTTP {response.status_code}"

    def parse_inbound(self, headers, body, event_id):
        data = scan_from_partner(self.load_json(body))
        self.schemas.validate("parcel.scan", data)
        return InboundEvent(event_id=event_id, message_type="parcel.scan", data=data)

    def parse_error(self, status, body):
        try:
            problems = json.loads(body or "{}").get("problems") or []
        except ValueError:
            return []
        return [(p.get("field"), p.get("text")) for p in problems if isinstance(p, dict)]


@register("example", protocol="jsonl")
class ExampleLineAdapter(ExampleAdapter):
    """The same partner over its ``jsonl`` line protocol (``base_url`` ``tcp://host:port``):
    the transport comes from the registry, by the backend's protocol."""

    capabilities = frozenset({SEND})

    def send(self, message):
        from ..transport import LineSettings

        request = {"op": "book", "key": message.idempotency_key}
        request.update(book_request(message._get_payload()))
        client = self.transport("jsonl", LineSettings(self.backend.base_url, self.backend.timeout))
        answer = client.exchange(request)
        if answer.get("error"):
            raise TransportError(f"the example partner refused: {answer['error']}", "business")
        return OutboundResult(
            status=None,
            external_id=answer.get("parcel_id"),
            response=answer,
            request_body=json.dumps(request),
        )
