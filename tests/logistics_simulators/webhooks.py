"""What the simulated partners that call Odoo back share: a partner API on a real loopback HTTP
server whose next answers can be cued faults, CloudEvents received once per idempotency key,
webhooks signed with the ``standardwebhooks`` library (``webhook-id``, ``webhook-timestamp``,
``webhook-signature``) and, in auto mode, delivered again with backoff; and their command line.

    class MyPartner(WebhookPartner):
        thread_name, label = "my-partner", "my partner simulator"

        def _dispatch(self, req):  # RecordedRequest -> (status, headers, body)
            ...

Every delivery returns a :class:`WebhookResponse` (``status`` is None when nothing answered)
and is kept in ``deliveries``; :meth:`~WebhookPartner.send_raw` posts arbitrary bytes,
:meth:`~WebhookPartner.redeliver` repeats a delivery with the same ``webhook-id``.
"""

import argparse
import hashlib
import heapq
import http
import itertools
import json
import logging
import signal
import sys
import threading
import time
import uuid
from datetime import UTC, datetime
from http.server import ThreadingHTTPServer

import requests
from standardwebhooks.webhooks import Webhook

from .http_server import CuedHTTPServer, _Handler

_logger = logging.getLogger("logistics_simulators.webhooks")


def utc_now():
    """The current time as the partners write it: ISO 8601 in UTC, to the second."""
    return datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def dumps(obj):
    """Compact JSON, as a webhook body."""
    return json.dumps(obj, separators=(",", ":"), ensure_ascii=False)


def problem(status, error, detail):
    """An error answer ``(status, headers, {"error", "detail"})``."""
    return status, {}, {"error": error, "detail": detail}


def check_cloudevent(event):
    """The ``400`` answer for anything but a structured CloudEvents 1.0 event whose ``data``
    is a JSON object; None for such an event (its ``type`` is the caller's to check)."""
    if not isinstance(event, dict):
        return problem(400, "invalid_event", "a JSON object is expected")
    missing = [k for k in ("specversion", "id", "source", "type", "data") if not event.get(k)]
    if missing:
        return problem(
            400, "invalid_event", "missing CloudEvents attributes: " + ", ".join(missing)
        )
    if event["specversion"] != "1.0" or not isinstance(event["data"], dict):
        return problem(400, "invalid_event", "specversion must be 1.0 and data a JSON object")
    return None


class WebhookResponse:
    """Odoo's answer to one webhook delivery. Unpacks as ``status, json``."""

    def __init__(self, status, json_body, text, msg_id, body, headers, kind):
        self.status = status
        self.json = json_body
        self.text = text
        self.msg_id = msg_id  # webhook-id sent
        self.body = body  # exact bytes sent
        self.headers = headers  # headers sent
        self.kind = kind  # CloudEvents type or the partner's topic

    @property
    def ok(self):
        return self.status is not None and 200 <= self.status < 300

    def __iter__(self):
        return iter((self.status, self.json))

    def __repr__(self):
        return f"<WebhookResponse {self.kind} {self.msg_id} -> {self.status} {self.json!r}>"


class WebhookPartner:
    """A partner on ``http://<host>:<port>`` that sends Odoo signed webhooks; see the module
    docstring. Subclasses answer the API in ``_dispatch(req)``."""

    #: prefix of the names of the HTTP server's and the auto mode's threads
    thread_name = "partner"
    #: where this partner logs, and what its log lines call it
    logger = _logger
    label = "partner simulator"
    #: key of the HTTP reason phrase in the body :meth:`fail_next` answers by default
    fault_key = "message"
    #: longest wait between two redeliveries in auto mode, in seconds (None: no cap)
    max_retry_delay = None

    def __init__(
        self,
        webhook_url,
        secret,
        *,
        api_token,
        host,
        port,
        source,
        timeout,
        hang_seconds,
        retry_base,
        max_redeliveries,
    ):
        self.webhook_url = webhook_url
        self._webhook = Webhook(secret) if secret else None
        self.api_token = api_token  # bearer token the API requires (None: open)
        self.source = source  # CloudEvents source of the webhooks
        self.timeout = timeout
        self.retry_base = retry_base  # auto mode: first redelivery delay, doubled each time
        self.max_redeliveries = max_redeliveries

        self.deliveries = []  # every WebhookResponse, in order
        self.idempotency = {}  # key -> (fingerprint, answer)
        self._lock = threading.RLock()
        self._ids = itertools.count(1)

        self._server = CuedHTTPServer(handler=self._dispatch, hang_seconds=hang_seconds)
        if port or host != "127.0.0.1":
            # CuedHTTPServer binds 127.0.0.1 on a random port; rebind where asked.
            self._server._httpd.server_close()
            httpd = ThreadingHTTPServer((host, port), _Handler)
            httpd.daemon_threads = True
            httpd.owner = self._server
            self._server._httpd = httpd
        self.host = host
        self._started = False
        self._agenda = []  # heap of (due, seq, description, callable, args)
        self._agenda_cv = threading.Condition()
        self._worker = None
        self._stopping = False

    def _dispatch(self, req):
        raise NotImplementedError

    def _refuses_token(self, req, path, headers):
        """True (and logged) when an ``api_token`` is set and ``req`` does not bear it."""
        if self.api_token and headers.get("authorization") != f"Bearer {self.api_token}":
            self._log("%s %s -> 401 (missing or wrong bearer token)", req.method, path)
            return True
        return False

    # address --------------------------------------------------------------------------------
    @property
    def port(self):
        return self._server.port

    @property
    def base_url(self):
        host = "127.0.0.1" if self.host in ("", "0.0.0.0") else self.host
        return f"http://{host}:{self.port}"

    def url(self, path="/"):
        return self.base_url + path

    @property
    def requests(self):
        """Every API request received (also those answered by a fault)."""
        return self._server.requests

    # lifecycle ------------------------------------------------------------------------------
    def start(self):
        # serve_forever's default 0.5 s poll makes every stop() wait; poll faster.
        self._server._thread = threading.Thread(
            target=self._server._httpd.serve_forever,
            kwargs={"poll_interval": 0.05},
            daemon=True,
            name=f"{self.thread_name}-http",
        )
        self._server._thread.start()
        self._started = True
        self._stopping = False
        self._worker = threading.Thread(
            target=self._run_agenda, daemon=True, name=f"{self.thread_name}-auto"
        )
        self._worker.start()
        return self

    def stop(self):
        with self._agenda_cv:
            self._stopping = True
            self._agenda_cv.notify_all()
        if self._started:
            self._server.stop()
            self._started = False
        if self._worker:
            self._worker.join(timeout=5)

    def __enter__(self):
        return self.start()

    def __exit__(self, *exc):
        self.stop()

    # fault injection ------------------------------------------------------------------------
    def fail_next(self, status, times=1, retry_after=None, body=None):
        """The next ``times`` API requests answer ``status`` without touching any state."""
        headers = {"Retry-After": str(retry_after)} if retry_after is not None else {}
        if body is None:
            body = {self.fault_key: http.HTTPStatus(status).phrase, "status": status}
        self._server.cue(*[(status, headers, body)] * times)

    def hang_next(self, times=1, seconds=None):
        """The next ``times`` API requests get no answer for ``seconds`` (client timeouts)."""
        if seconds is not None:
            self._server.hang_seconds = seconds
        self._server.cue(*["hang"] * times)

    def clear_faults(self):
        with self._server._lock:
            self._server._cues.clear()

    # idempotent CloudEvents -----------------------------------------------------------------
    def _receive_once(self, event, headers, what, receive):
        """Answer ``event`` (checked by :func:`check_cloudevent`) once per
        ``Idempotency-Key`` (else the event's ``source`` + ``id``): a repeated key answers
        the first answer again (header ``Idempotent-Replayed: true``) without calling
        ``receive``, the same key with another ``type``/``data`` answers ``422``. Else
        ``receive(key, correlation id)`` answers ``(status, headers, body)``, remembered
        unless it is a 5xx. ``what`` names the event in the log."""
        key = headers.get("idempotency-key") or f"ce:{event['source']}:{event['id']}"
        fingerprint = hashlib.sha256(
            json.dumps([event["type"], event["data"]], sort_keys=True).encode()
        ).hexdigest()
        with self._lock:
            known = self.idempotency.get(key)
            if known:
                if known[0] != fingerprint:
                    self._log("%s key %s reused with another payload -> 422", what, key)
                    return problem(
                        422,
                        "idempotency_key_reuse",
                        "this Idempotency-Key was used for a different request",
                    )
                status, answer_headers, answer = known[1]
                self._log("%s replayed for key %s -> %s", what, key, status)
                return status, {**answer_headers, "Idempotent-Replayed": "true"}, answer
            correlation = headers.get("x-correlation-id") or event.get("correlationid")
            answer = receive(key, correlation)
            if answer[0] < 500:
                self.idempotency[key] = (fingerprint, answer)
            return answer

    # webhooks -------------------------------------------------------------------------------
    def sign(self, body, msg_id=None, timestamp=None):
        """Standard Webhooks headers for ``body`` (bytes or str)."""
        if not self._webhook:
            raise RuntimeError("no webhook secret configured")
        text = body.decode() if isinstance(body, bytes) else body
        msg_id = msg_id or f"msg_{uuid.uuid4().hex}"
        stamp = int(timestamp if timestamp is not None else time.time())
        signature = self._webhook.sign(msg_id, datetime.fromtimestamp(stamp, UTC), text)
        return {
            "webhook-id": msg_id,
            "webhook-timestamp": str(stamp),
            "webhook-signature": signature,
            "Content-Type": "application/json",
        }

    def send_raw(self, body, headers=None, kind="raw"):
        """POST ``body`` (bytes/str) with exactly ``headers`` to the webhook URL."""
        if not self.webhook_url:
            raise RuntimeError("no webhook_url configured")
        data = body.encode() if isinstance(body, str) else body
        headers = dict(headers or {})
        lowered = {k.lower(): v for k, v in headers.items()}
        try:
            response = requests.post(
                self.webhook_url, data=data, headers=headers, timeout=self.timeout
            )
        except requests.RequestException as exc:  # no answer: status None, reason in text
            status, answer, text = None, None, f"{type(exc).__name__}: {exc}"
        else:
            status, text = response.status_code, response.text
            try:
                answer = response.json()
            except ValueError:
                answer = None
        result = WebhookResponse(
            status, answer, text, lowered.get("webhook-id"), data, headers, kind
        )
        with self._lock:
            self.deliveries.append(result)
        self._log("webhook %s -> %s %s", kind, status or "not delivered:", text[:200])
        return result

    def redeliver(self, delivery, resign=True):
        """Deliver ``delivery`` again with the same ``webhook-id`` (as a partner retry does),
        re-signed with a fresh timestamp unless ``resign`` is false."""
        headers = dict(delivery.headers)
        if resign:
            headers.update(self.sign(delivery.body, msg_id=delivery.msg_id))
        return self.send_raw(delivery.body, headers, kind=delivery.kind)

    def post_event(
        self, message_type, data, msg_id=None, timestamp=None, correlation_id=None, subject=None
    ):
        """Signed CloudEvents webhook of ``message_type`` carrying canonical ``data``."""
        event_id = str(uuid.uuid4())
        event = {
            "specversion": "1.0",
            "id": event_id,
            "source": self.source,
            "type": message_type,
            "time": utc_now(),
            "datacontenttype": "application/json",
            "dataschema": f"urn:logistics:schema:{message_type}:v1",
            "data": data,
        }
        if subject:
            event["subject"] = subject
        if correlation_id:
            event["correlationid"] = correlation_id
        body = dumps(event)
        headers = self.sign(body, msg_id=msg_id or event_id, timestamp=timestamp)
        if correlation_id:
            headers["X-Correlation-ID"] = correlation_id
        return self.send_raw(body, headers, kind=message_type)

    # auto mode ------------------------------------------------------------------------------
    def _schedule(self, due, description, func, *args):
        with self._agenda_cv:
            heapq.heappush(self._agenda, (due, next(self._ids), description, func, args))
            self._agenda_cv.notify_all()

    def _run_agenda(self):
        while True:
            with self._agenda_cv:
                while not self._stopping and (
                    not self._agenda or self._agenda[0][0] > time.monotonic()
                ):
                    timeout = self._agenda[0][0] - time.monotonic() if self._agenda else None
                    self._agenda_cv.wait(timeout)
                if self._stopping:
                    return
                _due, _seq, description, func, args = heapq.heappop(self._agenda)
            try:
                result = func(*args)
            except Exception as exc:
                self.logger.warning("%s auto step '%s' failed: %r", self.label, description, exc)
                continue
            if isinstance(result, WebhookResponse):
                self._retry_later(result, attempt=0)

    def _retry_later(self, delivery, attempt):
        """Auto mode delivers again what got no answer, 429 or 5xx, with backoff and the same
        webhook-id, as partners do."""
        if delivery.status is not None and delivery.status < 500 and delivery.status != 429:
            return
        if attempt >= self.max_redeliveries:
            self.logger.warning(
                "%s gives up delivering %s %s", self.label, delivery.kind, delivery.msg_id
            )
            return
        delay = self.retry_base * 2**attempt
        if self.max_retry_delay is not None:
            delay = min(delay, self.max_retry_delay)

        def again():
            self._retry_later(self.redeliver(delivery), attempt + 1)

        self._schedule(time.monotonic() + delay, f"redeliver {delivery.msg_id}", again)

    def _log(self, fmt, *args):
        self.logger.info(fmt, *args)


# command line ---------------------------------------------------------------------------------
def cli_parser(module, description, auto_help):
    """Command line of the partner simulator run as ``python -m <module>``, with the options
    every partner has; add the partner's own, named as its constructor's arguments."""
    parser = argparse.ArgumentParser(prog=f"python -m {module}", description=description)
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=0, help="0 = a free port")
    parser.add_argument("--webhook-url", required=True, help="Odoo's webhook URL for us")
    parser.add_argument("--secret", required=True, help="webhook signing secret, whsec_...")
    parser.add_argument("--api-token", default=None, help="bearer token expected from Odoo")
    parser.add_argument("--auto", action="store_true", help=auto_help)
    return parser


def run_cli(partner_class, args, log_name, shown=()):
    """Run ``partner_class`` until SIGINT or SIGTERM, one log line per event on stdout (as
    ``log_name``). ``args`` (from :func:`cli_parser`): ``webhook_url`` and ``secret`` are the
    constructor's first two arguments, every other option its argument of the same name.
    The "listening" line also shows the attributes named in ``shown``."""
    options = dict(vars(args))
    logging.basicConfig(
        level=logging.INFO, stream=sys.stdout, format=f"%(asctime)s {log_name} %(message)s"
    )
    # before "listening" is printed: whoever reads it may stop us at once
    done = threading.Event()
    for sig in (signal.SIGINT, signal.SIGTERM):
        signal.signal(sig, lambda *_: done.set())
    sim = partner_class(options.pop("webhook_url"), options.pop("secret"), **options).start()
    details = [f"{name} {getattr(sim, name)}" for name in shown]
    details += [f"auto {'on' if sim.auto else 'off'}", f"webhooks to {sim.webhook_url}"]
    sim.logger.info("listening on %s (%s)", sim.base_url, ", ".join(details))
    done.wait()
    sim.stop()
    sim.logger.info("stopped")
    return 0
