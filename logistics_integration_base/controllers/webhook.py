"""Inbound webhook route: ``POST /logistics/webhook/<backend code>``.

The route only verifies, stores and enqueues; processing runs in a queue job. Answers:
202 (new or duplicate event, with the message id), 401 (bad or missing signature, stale
timestamp), 404 (unknown or inactive backend), 413 (body above the backend's limit),
415 (content type), 400 (malformed JSON) and 422 (schema-invalid, with the field path).
Everything that passed authentication is stored, including the 400 and 422 cases.
"""

import json
import logging
import uuid

from werkzeug.exceptions import RequestEntityTooLarge
from werkzeug.wrappers import Response

from odoo import http
from odoo.http import request

from ..adapters import get_adapter_class
from ..exceptions import PayloadInvalid, SignatureError
from ..tools import metrics
from ..tools import secrets as secret_box

_logger = logging.getLogger(__name__)

# Headers never stored with the message.
_HIDDEN_HEADERS = {"authorization", "cookie", "webhook-signature", "proxy-authorization"}


def _answer(status, **data):
    return request.make_json_response(data, status=status)


def _signed_request(code, check=None):
    """Authenticate a request to a backend's route: ``(info, check's result, body, event
    id)``, or the response refusing it (503 secrets unreadable, 404 unknown backend, 413 too
    large, what ``check(info)`` refuses, 401 bad signature)."""
    env = request.env
    Backend = env["logistics.backend"]
    try:
        info = Backend._webhook_route_info(code)
    except (secret_box.SecretKeyMissing, secret_box.SecretUndecryptable) as exc:
        _logger.error("webhook for backend %s cannot be verified: %s", code, exc)
        return _answer(503, error="the receiver cannot verify signatures right now; retry later")
    if not info:
        return _answer(404, error=f"unknown or inactive backend '{code}'")
    httpreq = request.httprequest
    limit = info["max_body"]
    length = httpreq.content_length
    if length is not None and length > limit:
        return _answer(413, error=f"body of {length} bytes is above the limit of {limit}")
    httpreq.max_content_length = limit  # also bounds a chunked body without a length
    try:
        # kept (cache=True): when a concurrent update makes Odoo replay the request, the
        # replay must verify the same body, not an empty stream
        body = httpreq.get_data(cache=True)
    except RequestEntityTooLarge:
        return _answer(413, error=f"body is above the limit of {limit} bytes")
    checked = check(info) if check else None
    if isinstance(checked, Response):
        return checked
    try:
        event_id = Backend._webhook_verify(info, httpreq.headers, body)
    except SignatureError as exc:
        return _answer(401, error=str(exc))
    return info, checked, body, event_id


class LogisticsWebhookController(http.Controller):
    @http.route(
        "/logistics/webhook/<string:code>",
        type="http",
        auth="public",
        methods=["POST"],
        csrf=False,
        save_session=False,
    )
    def logistics_webhook(self, code, **_kw):
        response = self._logistics_webhook(code)
        try:
            info = request.env["logistics.backend"]._webhook_route_info(code)  # cached
        except (secret_box.SecretKeyMissing, secret_box.SecretUndecryptable):
            info = None
        metrics.inc(
            request.env,
            "webhook_requests",
            info["id"] if info else 0,
            {"status": response.status_code},
        )
        return response

    def _logistics_webhook(self, code):
        env = request.env
        Backend = env["logistics.backend"]

        def content_type(info):
            adapter = get_adapter_class(info["provider"], info["protocol"], env)(
                Backend.sudo().browse(info["id"])
            )
            mimetype = (request.httprequest.mimetype or "").lower()
            if mimetype not in adapter.inbound_content_types:
                return _answer(
                    415,
                    error=f"content type '{mimetype or 'none'}' is not accepted; send "
                    + " or ".join(adapter.inbound_content_types),
                )
            return adapter

        checked = _signed_request(code, content_type)
        if not isinstance(checked, tuple):
            return checked  # the refusal
        info, adapter, body, event_id = checked
        backend = adapter.backend
        headers = request.httprequest.headers

        Message = env["logistics.message"]
        vals = {
            "idempotency_key": event_id,
            "raw_payload": body.decode("utf-8", errors="replace"),
            "raw_headers": json.dumps(
                {k: v for k, v in headers.items() if k.lower() not in _HIDDEN_HEADERS},
                indent=1,
            ),
            "correlation_id": headers.get("X-Correlation-ID") or str(uuid.uuid4()),
            # the backend's kind and company come from the route's cache, not a query
            "backend_kind": info["kind"],
            "company_id": info["company_id"],
        }
        status, answer = 202, {}
        vals_list = [vals]
        try:
            parsed = adapter.parse_inbound(headers, body, event_id)
        except ValueError as exc:  # malformed JSON (PayloadInvalid is not a ValueError)
            vals.update(
                message_type="unknown",
                state="failed",
                error_category="validation",
                error_message=str(exc),
            )
            status, answer = 400, {"error": str(exc)}
        except PayloadInvalid as exc:
            vals.update(
                # an adapter may name the type (e.g. the partner's event) on the exception
                message_type=getattr(exc, "message_type", None) or _guess_type(body),
                state="failed",
                error_category="validation",
                error_message=str(exc),
            )
            status, answer = 422, {"error": exc.message, "path": exc.path}
            # what was received is the payload to read, fix and retry
            vals["payload"] = _received_payload(body)
        else:
            # One webhook may carry several canonical messages (e.g. one per shipment):
            # the first keeps the webhook id, the others get "<id>#2", "<id>#3"...
            events = parsed if isinstance(parsed, list) else [parsed]
            vals_list = []
            for index, event in enumerate(events):
                event_vals = Message._event_vals(
                    event, key=event_id if index == 0 else f"{event_id}#{index + 1}"
                )
                event_vals["correlation_id"] = (
                    event_vals.get("correlation_id") or vals["correlation_id"]
                )
                vals_list.append(dict(vals, **event_vals))
        # The adapter validated the events against their schemas already.
        messages, new = Message._store_inbound(backend, vals_list, validate=False)
        if not new:
            duplicate = messages[:1]
            if not duplicate:
                # Another request stored the same event at this very moment: its row is
                # committed but outside this transaction's snapshot; a new one sees it.
                env.cr.rollback()
                found = Message._find_inbound(Message.sudo(), backend, [event_id])
                duplicate = found.get(event_id, Message)
            return _answer(202, message_id=duplicate.id, duplicate=True)
        answer.update(message_id=messages[0].id, duplicate=False)
        if len(messages) > 1:
            answer["message_ids"] = messages.ids
        return _answer(status, **answer)


class LogisticsLegacyCopyController(http.Controller):
    """``POST /logistics/webhook/<code>/legacy``: a copy of what the legacy interface sent the
    partner, during a parallel run. Signed like the backend's webhooks; the body is the
    document (a file's bytes, or canonical CloudEvents JSON), its name in the
    ``X-Legacy-Document`` header. 202 with the comparisons, 422 when it cannot be read (the
    unreadable copy is recorded too)."""

    @http.route(
        "/logistics/webhook/<string:code>/legacy",
        type="http",
        auth="public",
        methods=["POST"],
        csrf=False,
        save_session=False,
    )
    def logistics_legacy_copy(self, code, **_kw):
        checked = _signed_request(code)
        if not isinstance(checked, tuple):
            return checked  # the refusal
        info, _none, body, event_id = checked
        env = request.env
        backend = env["logistics.backend"].sudo().browse(info["id"])
        httpreq = request.httprequest
        name = (httpreq.headers.get("X-Legacy-Document") or "").strip()[:200] or event_id
        pairs, failed = env["logistics.parallel.pair"].sudo()._receive_legacy(backend, name, body)
        answer = {
            "compared": [
                {"document": p.business_key, "type": p.message_type, "result": p.result}
                for p in pairs
            ]
        }
        if failed:
            return _answer(422, error=pairs[:1].differences, **answer)
        return _answer(202, **answer)


def _received_payload(body):
    """The body of a refused event as its payload, pretty-printed: the data of a CloudEvent,
    or the whole JSON body."""
    try:
        value = json.loads(body)
    except ValueError:
        return False
    if isinstance(value, dict) and "specversion" in value and "data" in value:
        value = value["data"]
    return json.dumps(value, indent=2, sort_keys=True, ensure_ascii=False)


def _guess_type(body):
    try:
        value = json.loads(body).get("type")
        return value if isinstance(value, str) and value else "unknown"
    except (ValueError, AttributeError):
        return "unknown"
