"""A local OpenTelemetry collector for tests: a real HTTP server on loopback accepting
OTLP/HTTP protobuf ``POST /v1/traces``, decoding each request with ``opentelemetry-proto``'s
``ExportTraceServiceRequest`` (installed with the OTLP exporter) and keeping its spans::

    with OTLPReceiver() as receiver:
        config["logistics_otlp_endpoint"] = receiver.endpoint
        ...
        spans = wait_until(lambda: receiver.spans_named("order.release"))
        spans[0].trace_id, spans[0].attributes["logistics.backend"], spans[0].status_code

Anything else than a protobuf POST on /v1/traces is answered 404/415, as a collector does.
"""

import threading

from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import (
    ExportTraceServiceRequest,
    ExportTraceServiceResponse,
)

from .http_server import CuedHTTPServer

STATUS_ERROR = 2  # opentelemetry.proto.trace.v1.Status.STATUS_CODE_ERROR
KINDS = {1: "internal", 2: "server", 3: "client", 4: "producer", 5: "consumer"}


def _value(any_value):
    kind = any_value.WhichOneof("value")
    if kind == "array_value":
        return [_value(v) for v in any_value.array_value.values]
    return getattr(any_value, kind) if kind else None


class ReceivedSpan:
    """One span as the collector received it (ids in hex, as Jaeger and Tempo show them)."""

    def __init__(self, span, resource):
        self.name = span.name
        self.trace_id = span.trace_id.hex()
        self.span_id = span.span_id.hex()
        self.parent_span_id = span.parent_span_id.hex()
        self.kind = KINDS.get(span.kind, str(span.kind))
        self.attributes = {a.key: _value(a.value) for a in span.attributes}
        self.events = [
            (e.name, {a.key: _value(a.value) for a in e.attributes}) for e in span.events
        ]
        self.status_code = span.status.code
        self.status_message = span.status.message
        self.start_ns = span.start_time_unix_nano
        self.end_ns = span.end_time_unix_nano
        self.resource = resource

    @property
    def failed(self):
        return self.status_code == STATUS_ERROR

    def __repr__(self):
        return f"<span {self.name} {self.attributes.get('logistics.state')} {self.trace_id[:8]}>"


class OTLPReceiver(CuedHTTPServer):
    """The collector; :meth:`stop` it and the address refuses connections (a collector that
    is down)."""

    def __init__(self, port=0):
        super().__init__(handler=self._receive, port=port)
        self.spans = []
        self._spans_lock = threading.Lock()

    @property
    def endpoint(self):
        return self.url("")

    def _receive(self, req):
        if req.method != "POST" or req.path != "/v1/traces":
            return (404, {"Content-Type": "text/plain"}, b"not found")
        content_type = {k.lower(): v for k, v in req.headers.items()}.get("content-type")
        if content_type != "application/x-protobuf":
            return (415, {"Content-Type": "text/plain"}, b"protobuf only")
        export = ExportTraceServiceRequest()
        export.ParseFromString(req.body)
        received = []
        for resource_spans in export.resource_spans:
            resource = {a.key: _value(a.value) for a in resource_spans.resource.attributes}
            for scope_spans in resource_spans.scope_spans:
                received += [ReceivedSpan(s, resource) for s in scope_spans.spans]
        with self._spans_lock:
            self.spans += received
        body = ExportTraceServiceResponse().SerializeToString()
        return (200, {"Content-Type": "application/x-protobuf"}, body)

    def spans_named(self, name):
        with self._spans_lock:
            return [s for s in self.spans if s.name == name]

    def reset(self):
        super().reset()
        with self._spans_lock:
            self.spans.clear()
