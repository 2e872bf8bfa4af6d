"""The ``generic`` provider: speaks the canonical format itself.

Outbound: ``POST <base_url>`` with the CloudEvents envelope as body, headers
``Idempotency-Key`` (the message's key: the same on every retry) and ``X-Correlation-ID``.
Inbound: the webhook body is a CloudEvents envelope whose ``type`` is a canonical message
type and whose ``data`` validates against that type's schema.
"""

import json
import time

from ..tools.canonical import PayloadInvalid, make_envelope
from .base import Adapter, InboundEvent, OutboundResult, register


@register("generic")
class GenericAdapter(Adapter):
    def envelope(self, message):
        return make_envelope(
            message.message_type,
            message._get_payload(),
            source=message.backend_id._event_source(),
            event_id=message.idempotency_key,
            version=message.schema_version or 1,
            time=message.create_date.isoformat(timespec="seconds") + "Z",
            correlation_id=message.correlation_id,
            subject=message.subject or None,
        )

    def send(self, message):
        body = json.dumps(self.envelope(message), separators=(",", ":"), sort_keys=True)
        response = self.http().request(
            "POST",
            "",
            data=body.encode(),
            headers={
                "Content-Type": "application/cloudevents+json; charset=utf-8",
                "Idempotency-Key": message.idempotency_key,
                "X-Correlation-ID": message.correlation_id or "",
            },
        )
        try:
            answer = response.json() if response.content else {}
        except ValueError:
            answer = {}
        external_id = answer.get("id") if isinstance(answer, dict) else None
        return OutboundResult(
            status=response.status_code,
            external_id=str(external_id) if external_id else None,
            response=answer if isinstance(answer, dict) else {"body": answer},
            request_body=body,
        )

    def test_connection(self):
        url = self.backend.test_url or self.backend.base_url
        start = time.monotonic()
        response = self.http().request("GET", url)
        ms = (time.monotonic() - start) * 1000
        return f"HTTP {response.status_code} from GET {url} in {ms:.0f} ms"

    inbound_content_types = ("application/json", "application/cloudevents+json")

    def parse_inbound(self, headers, body, event_id):
        event = self.load_json(body)
        if not isinstance(event, dict):
            raise PayloadInvalid("the body must be a CloudEvents JSON object", "")
        registry = self.backend.env["logistics.message"]._schema_registry()
        version = registry.validate_envelope(event)
        return InboundEvent(
            event_id=event_id,
            message_type=event["type"],
            data=event["data"],
            schema_version=version,
            event_time=event.get("time"),
            correlation_id=event.get("correlationid") or headers.get("X-Correlation-ID"),
            external_id=event.get("id"),
            subject=event.get("subject"),
        )
