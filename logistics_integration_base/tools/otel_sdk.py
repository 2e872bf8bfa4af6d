"""The OpenTelemetry SDK side of ``otel.py``: a tracer provider of its own (the process's
global one is left alone), a batch span processor and the OTLP/HTTP exporter, with the
span and trace ids the suite derives from correlation ids. Imported only when the export
is switched on: the packages are optional."""

import logging
import random
import threading

from opentelemetry import trace
from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter
from opentelemetry.sdk.resources import Resource
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import BatchSpanProcessor, SpanExporter, SpanExportResult
from opentelemetry.sdk.trace.id_generator import IdGenerator
from opentelemetry.sdk.trace.sampling import ALWAYS_ON
from opentelemetry.trace import NonRecordingSpan, SpanContext, SpanKind, Status, StatusCode

_logger = logging.getLogger(__name__)
# the exporter's own logger: it reports every failed batch; ours says it once
EXPORTER_LOGGER = "opentelemetry.exporter.otlp.proto.http.trace_exporter"

KINDS = {"client": SpanKind.CLIENT, "consumer": SpanKind.CONSUMER, "internal": SpanKind.INTERNAL}
SAMPLED = trace.TraceFlags(trace.TraceFlags.SAMPLED)


class _Ids(IdGenerator):
    """Random ids, except the ids given for the span being started in this thread (the
    transaction span: its ids are derived from the order's correlation id)."""

    def __init__(self):
        self.given = threading.local()

    def generate_span_id(self):
        given = getattr(self.given, "ids", None)
        return given[1] if given else random.getrandbits(64) or 1

    def generate_trace_id(self):
        given = getattr(self.given, "ids", None)
        return given[0] if given else random.getrandbits(128) or 1


class _Quiet(logging.Filter):
    """Keeps the exporter's messages of the current export for :class:`_Reporting` instead
    of logging each one."""

    def __init__(self):
        super().__init__()
        self.local = threading.local()

    def filter(self, record):
        kept = getattr(self.local, "kept", None)
        if kept is None:
            return True  # not one of our exports
        kept.append(record.getMessage())
        return False


_quiet = _Quiet()
logging.getLogger(EXPORTER_LOGGER).addFilter(_quiet)


class _Reporting(SpanExporter):
    """The OTLP exporter, whose failures are logged once (and its recovery), not once per
    batch every second while the collector is down."""

    def __init__(self, endpoint, timeout):
        self.endpoint = endpoint
        self.exporter = OTLPSpanExporter(endpoint=endpoint, timeout=timeout)
        self.failing = False

    def export(self, spans):
        _quiet.local.kept = []
        try:
            result = self.exporter.export(spans)
        except Exception as err:  # a batch thread must keep running
            _quiet.local.kept.append(f"{type(err).__name__}: {err}")
            result = SpanExportResult.FAILURE
        finally:
            kept, _quiet.local.kept = _quiet.local.kept, None
        if result == SpanExportResult.SUCCESS:
            if self.failing:
                self.failing = False
                _logger.info("OpenTelemetry: the collector at %s answers again", self.endpoint)
        elif not self.failing:
            self.failing = True
            _logger.warning(
                "OpenTelemetry: spans could not be sent to %s (%s). Sends and processing go "
                "on; spans are dropped until the collector answers (logged once).",
                self.endpoint,
                kept[-1] if kept else "no answer",
            )
        return result

    def shutdown(self):
        self.exporter.shutdown()

    def force_flush(self, timeout_millis=30000):
        return True


class SpanExport:
    """This worker's spans to one OTLP/HTTP endpoint."""

    def __init__(self, endpoint, timeout, service):
        self.ids = _Ids()
        self.provider = TracerProvider(
            resource=Resource.create({"service.name": service}),
            id_generator=self.ids,
            sampler=ALWAYS_ON,
        )
        self.provider.add_span_processor(
            BatchSpanProcessor(
                _Reporting(endpoint, timeout),
                max_queue_size=4096,
                schedule_delay_millis=1000,
                max_export_batch_size=512,
                export_timeout_millis=timeout * 1000,
            )
        )
        self.tracer = self.provider.get_tracer("odoo.addons.logistics_integration_base")

    def emit(self, spans):
        """Start and end each span (dicts made by ``otel.record_attempts``) with its own
        times: they go to the batch queue, the network is the batch thread's."""
        for data in spans:
            if data["parent_id"]:
                parent = SpanContext(data["trace_id"], data["parent_id"], False, SAMPLED)
                context = trace.set_span_in_context(NonRecordingSpan(parent))
            else:
                context = trace.set_span_in_context(trace.INVALID_SPAN)
            self.ids.given.ids = (
                (data["trace_id"], data["span_id"]) if data.get("span_id") else None
            )
            try:
                span = self.tracer.start_span(
                    data["name"],
                    context=context,
                    kind=KINDS[data["kind"]],
                    attributes=data["attributes"],
                    start_time=data["start_ns"],
                )
            finally:
                self.ids.given.ids = None
            for name, attributes, when in data["events"]:
                span.add_event(name, attributes, timestamp=when)
            if data["error"]:
                span.set_status(Status(StatusCode.ERROR, data["error"]))
            span.end(end_time=data["end_ns"])

    def force_flush(self, timeout_seconds):
        return self.provider.force_flush(int(timeout_seconds * 1000))

    def shutdown(self):
        self.provider.shutdown()
