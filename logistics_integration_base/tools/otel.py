"""Optional OpenTelemetry export of the messages' exchanges as spans (off by default).

Switched on by one option of the Odoo configuration file, read by every worker at its first
span (the collector's address belongs to the server, not to the database: a copy of the
database restored elsewhere does not send its traces to production's collector)::

    logistics_otlp_endpoint = http://127.0.0.1:4318   ; OTLP/HTTP (protobuf), /v1/traces added
    logistics_otlp_timeout = 2                         ; seconds per export, default 2
    logistics_otlp_service_name = odoo-logistics      ; the service.name of the spans

It needs the ``opentelemetry-sdk`` and ``opentelemetry-exporter-otlp-proto-http`` packages
(in requirements.txt); without them, an endpoint set is reported once in the log and
nothing else changes.

Each attempt to deliver (outbound), process (inbound) or call a partner becomes one span,
handed to the exporter when its transaction commits (an attempt rolled back is not
exported): its name is the message type, its attributes the backend, kind, direction,
state, message, correlation id and idempotency key, its status an error with the first
sentence of the reason when the attempt failed, and the steps of the order it reached
(released, shipped...) are events on it with the time since the previous step. The trace
id is derived from the correlation id of the first message of the order's transaction (its
messages with every partner, ``models/logistics_transaction.py``), so every message of an
order lands in one trace, under one *transaction* span exported with the first attempt of
that first message. Payloads, subjects and partner answers are never exported: no personal
data.

The export runs in the SDK's batch thread: a send only appends to its queue (full: spans
are dropped), an export waits at most the timeout, and a failing collector is logged once
until it answers again. This module reads the ORM; ``otel_sdk.py`` talks to the SDK.
"""

import hashlib
import importlib
import logging
import threading
import time
from datetime import timezone

import psycopg2

from odoo.exceptions import AccessError
from odoo.tools import config

from .wording import first_sentence

_logger = logging.getLogger(__name__)

OPTION_ENDPOINT = "logistics_otlp_endpoint"
OPTION_TIMEOUT = "logistics_otlp_timeout"
OPTION_SERVICE = "logistics_otlp_service_name"
DEFAULT_TIMEOUT = 2.0
DEFAULT_SERVICE = "odoo-logistics"
TRACES_PATH = "/v1/traces"

_lock = threading.Lock()
_current = {"settings": None, "exporter": None}
_missing_reported = set()


def settings():
    """``(traces URL, timeout, service name)`` from the configuration file, or None when
    the export is off (the default)."""
    endpoint = str(config.get(OPTION_ENDPOINT) or "").strip()
    if not endpoint:
        return None
    if not endpoint.rstrip("/").endswith(TRACES_PATH):
        endpoint = endpoint.rstrip("/") + TRACES_PATH
    try:
        timeout = float(config.get(OPTION_TIMEOUT) or DEFAULT_TIMEOUT)
    except ValueError:
        timeout = DEFAULT_TIMEOUT
    service = str(config.get(OPTION_SERVICE) or DEFAULT_SERVICE)
    return endpoint, timeout, service


def exporter():
    """This worker's span exporter for the configured endpoint (built at the first span,
    rebuilt when the configuration changes), or None when the export is off or the
    OpenTelemetry packages are not installed."""
    wanted = settings()
    with _lock:
        if wanted == _current["settings"]:
            return _current["exporter"]
        old = _current["exporter"]
        _current.update(settings=wanted, exporter=None)
        if old is not None:
            threading.Thread(target=old.shutdown, name="logistics-otel-shutdown").start()
        if wanted is None:
            return None
        try:
            # the optional packages: imported when switched on
            otel_sdk = importlib.import_module(f"{__package__}.otel_sdk")
        except ImportError as err:
            if wanted[0] not in _missing_reported:
                _missing_reported.add(wanted[0])
                _logger.warning(
                    "%s is set but OpenTelemetry is not installed (%s): no span is exported. "
                    "Install opentelemetry-sdk and opentelemetry-exporter-otlp-proto-http "
                    "(requirements.txt), then restart Odoo.",
                    OPTION_ENDPOINT,
                    err,
                )
            return None
        _current["exporter"] = otel_sdk.SpanExport(*wanted)
        return _current["exporter"]


def force_flush(timeout_seconds=5.0):
    """Hand every span waiting in this worker's batch to the collector now (tests, exit)."""
    current = _current["exporter"]
    return current.force_flush(timeout_seconds) if current else True


def trace_ids(correlation_id):
    """``(trace id, transaction span id)`` of an order, derived from its correlation id:
    the same in every worker and every database, never zero."""
    digest = hashlib.sha256(f"logistics:{correlation_id}".encode()).digest()
    return int.from_bytes(digest[:16], "big") or 1, int.from_bytes(digest[16:24], "big") or 1


def _ns(moment):
    """Nanoseconds since the epoch of a datetime (naive: UTC, as Odoo stores them)."""
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=timezone.utc)
    return int(moment.timestamp() * 1e9)


# what the models call ---------------------------------------------------------------------
def note_step(message, step, from_step, seconds):
    """``message`` brought its order to ``step`` (``seconds`` after ``from_step``, or none
    for the first step): an event on the span of the attempt that did it."""
    if settings() is None:
        return
    notes = message.env.cr.cache.setdefault("logistics_otel_steps", [])
    notes.append(
        {
            "step": step,
            "from_step": from_step,
            "seconds": seconds,
            "time_ns": time.time_ns(),
        }
    )


def record_attempts(attempts):
    """The spans of ``attempts`` (``logistics.message.attempt`` records just created), handed
    to the exporter when the transaction commits. Nothing at all when the export is off."""
    if settings() is None or not attempts:
        return
    try:
        spans = _spans(attempts)
    except psycopg2.Error:
        raise  # the transaction's own failure (a serialization error...): retried as such
    except Exception:  # a span must never break the send that made it
        _logger.exception("OpenTelemetry: no span for the attempts %s", attempts.ids)
        return
    if spans:
        attempts.env.cr.postcommit.add(lambda: _export(spans))


def _spans(attempts):
    """The spans of ``attempts``, as plain values (read now, exported after the commit)."""
    env = attempts.env
    end_ns = time.time_ns()
    spans = []
    for attempt in attempts.sudo():
        message = attempt.message_id
        backend = message.backend_id
        first = _transaction_first(message)
        trace_id, transaction_span_id = trace_ids(
            first.correlation_id or f"message:{env.cr.dbname}:{first.id}"
        )
        # the steps reached in this transaction: by this attempt (one attempt per job); a
        # failed one reached none (what its handler wrote before failing was rolled back)
        failed = attempt.outcome != "done"
        mine = [] if failed else env.cr.cache.pop("logistics_otel_steps", [])
        env.cr.cache.pop("logistics_otel_steps", None)
        attributes = {
            "logistics.backend": backend.code or "",
            "logistics.backend.kind": backend.kind or "",
            "logistics.direction": "outbound" if message.direction == "out" else "inbound",
            "logistics.state": message.state or "",
            "logistics.outcome": attempt.outcome,
            "logistics.attempt": attempt.number,
            "logistics.message.id": message.id,
            "logistics.message.reference": message.name or "",
            "logistics.message.type": message.message_type or "",
            "logistics.correlation_id": message.correlation_id or "",
            "logistics.idempotency_key": message.idempotency_key or "",
            "logistics.record.model": message.res_model or "",
            "logistics.database": env.cr.dbname,
        }
        if message.is_call:
            attributes["logistics.call"] = True
        if attempt.http_status:
            attributes["http.response.status_code"] = attempt.http_status
        if failed and message.error_category:
            attributes["logistics.error.category"] = message.error_category
        if mine:
            attributes["logistics.steps"] = [n["step"] for n in mine]
        duration_ns = max(attempt.duration_ms or 0, 0) * 1_000_000
        span = {
            "name": message.message_type or "message",
            "kind": "client" if message.direction == "out" else "consumer",
            "trace_id": trace_id,
            "parent_id": transaction_span_id,
            "start_ns": end_ns - duration_ns,
            "end_ns": end_ns,
            "attributes": attributes,
            "error": (first_sentence(attempt.error or message.error_message or "") or "failed")
            if failed
            else None,
            "events": [_step_event(note) for note in mine],
        }
        spans.append(span)
        if first == message and attempt.number == 1:
            spans.append(
                {
                    "name": "transaction",
                    "kind": "internal",
                    "trace_id": trace_id,
                    "span_id": transaction_span_id,
                    "parent_id": None,
                    "start_ns": min(_ns(message.create_date), end_ns - duration_ns),
                    "end_ns": end_ns,
                    "attributes": {
                        "logistics.correlation_id": message.correlation_id or "",
                        "logistics.record.model": message.res_model or "",
                        "logistics.message.type": message.message_type or "",
                        "logistics.backend": backend.code or "",
                        "logistics.database": env.cr.dbname,
                    },
                    "error": None,
                    "events": [],
                }
            )
    return spans


def _step_event(note):
    """An order's step as an event: ``(name, attributes, time)``."""
    attributes = {"logistics.step": note["step"]}
    if note["from_step"]:
        attributes["logistics.step.from"] = note["from_step"]
        attributes["logistics.step.seconds"] = float(note["seconds"])
    return f"step {note['step']}", attributes, note["time_ns"]


def _transaction_first(message):
    """The first message of the transaction of ``message`` (its order's, across every
    partner: see ``models/logistics_transaction.py``), read whatever the caller may read:
    its correlation id is the trace's, its first attempt exports the transaction span."""
    try:
        messages = message._logistics_transaction_messages()
    except AccessError:
        messages = message
    return messages[:1] or message


def _export(spans):
    """After the commit: to the batch queue (never raises, never waits on the network)."""
    try:
        current = exporter()
        if current is not None:
            current.emit(spans)
    except Exception:  # the export must never break what was committed
        _logger.exception("OpenTelemetry: spans not exported")
