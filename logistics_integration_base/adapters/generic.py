"""The ``generic`` provider: speaks the canonical format itself.

Outbound (``send``): ``POST <base_url>`` with the CloudEvents envelope as body, headers
``Idempotency-Key`` (the message's key: the same on every retry) and ``X-Correlation-ID``.
Synchronous (``call``): the same ``POST`` of an envelope whose type is the operation; the
answer is canonical JSON (or a CloudEvent carrying it).
Pull (``fetch``): ``GET <base_url>/<path>`` with the parameters in the query string.
Inbound: the webhook body is a CloudEvents envelope whose ``type`` is a canonical message
type and whose ``data`` validates against that type's schema.
"""

import json
import time
import uuid

from ..exceptions import PayloadInvalid, TransportError
from ..tools.canonical import make_envelope, now_rfc3339
from .base import (
    CALL,
    FETCH,
    PARSE_INBOUND,
    SEND,
    TEST_CONNECTION,
    Adapter,
    CallResult,
    InboundEvent,
    OutboundResult,
    register,
)


def _answer_json(response):
    try:
        return response.json() if response.content else {}
    except ValueError:
        return None


def _required_json(response, operation=None):
    """The JSON answer of ``response`` (to ``operation``); a body that is not JSON is a
    validation error."""
    answer = _answer_json(response)
    if answer is None:
        answered = "answered" if operation is None else f"answered {operation}"
        raise TransportError(
            f"{response.url} {answered} with a body that is not JSON",
            "validation",
            status=response.status_code,
            body=response.text,
        )
    return answer


def _unwrap(answer):
    """The data of a CloudEvent answer, or the answer itself."""
    if isinstance(answer, dict) and "specversion" in answer and "data" in answer:
        return answer["data"]
    return answer


@register("generic")
class GenericAdapter(Adapter):
    capabilities = frozenset({SEND, CALL, FETCH, PARSE_INBOUND, TEST_CONNECTION})
    inbound_content_types = ("application/json", "application/cloudevents+json")

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

    def _post_envelope(self, envelope, idempotency_key, correlation_id):
        """POST a CloudEvents ``envelope``; returns the body sent and the response."""
        body = json.dumps(envelope, separators=(",", ":"), sort_keys=True)
        response = self.http().request(
            "POST",
            "",
            data=body.encode(),
            headers={
                "Content-Type": "application/cloudevents+json; charset=utf-8",
                "Idempotency-Key": idempotency_key,
                "X-Correlation-ID": correlation_id or "",
            },
        )
        return body, response

    def preview(self, message):
        return json.dumps(self.envelope(message), separators=(",", ":"), sort_keys=True)

    def send(self, message):
        body, response = self._post_envelope(
            self.envelope(message), message.idempotency_key, message.correlation_id
        )
        answer = _answer_json(response)
        answer = {} if answer is None else answer
        external_id = answer.get("id") if isinstance(answer, dict) else None
        return OutboundResult(
            status=response.status_code,
            external_id=str(external_id) if external_id else None,
            response=answer if isinstance(answer, dict) else {"body": answer},
            request_body=body,
        )

    def call(self, operation, payload, correlation_id=None):
        event_id = str(uuid.uuid4())
        envelope = make_envelope(
            operation,
            payload,
            source=self.backend._event_source(),
            event_id=event_id,
            time=now_rfc3339(),
            correlation_id=correlation_id,
        )
        body, response = self._post_envelope(envelope, event_id, correlation_id)
        answer = _required_json(response, operation)
        external_id = answer.get("id") if isinstance(answer, dict) else None
        return CallResult(
            data=_unwrap(answer),
            status=response.status_code,
            request_body=body,
            response_body=response.text,
            external_id=str(external_id) if external_id else None,
        )

    def fetch(self, what, path=None, **params):
        response = self.http().request("GET", path or what, params=params or None)
        return _unwrap(_required_json(response))

    def test_connection(self):
        url = self.backend.test_url or self.backend.base_url
        start = time.monotonic()
        response = self.http().request("GET", url)
        ms = (time.monotonic() - start) * 1000
        return f"HTTP {response.status_code} from GET {url} in {ms:.0f} ms"

    def parse_inbound(self, headers, body, event_id):
        event = self.load_json(body)
        if not isinstance(event, dict):
            raise PayloadInvalid("the body must be a CloudEvents JSON object", "")
        version = self.schemas.validate_envelope(event)
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
