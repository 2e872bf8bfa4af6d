"""The example partner, added through the extension points only, end to end: a signed
webhook in through the real route, its handler, a synchronous call and a queued send to a
real loopback server."""

import json
import socketserver
import threading
import uuid
from unittest.mock import patch

from logistics_simulators.http_server import CuedHTTPServer

from odoo.exceptions import UserError
from odoo.tests import tagged

from odoo.addons.logistics_integration_base.adapters import POLL, get_adapter_class
from odoo.addons.logistics_integration_base.exceptions import CapabilityMissing, TransportError
from odoo.addons.logistics_integration_base.handlers import get_handler_class
from odoo.addons.logistics_integration_base.tests.common import LogisticsHttpCase, run_jobs
from odoo.addons.logistics_integration_base.transport import TRANSPORTS, get_transport
from odoo.addons.logistics_integration_base.transport.signatures import get_scheme

from ..adapters.example import ExampleAdapter, ExampleLineAdapter
from ..handlers.parcel_scan import ParcelScanHandler
from ..signatures import sign
from ..transport import JsonLineClient

SECRET = "example-shared-secret"


def _partner(request):
    """The example partner: quotes and bookings in its own shapes."""
    if request.path == "/quotes":
        body = request.json()
        return 200, {}, {"price": round(4 + body["kg"] * 1.5, 2)}
    if request.path == "/parcels":
        body = request.json()
        if not body["to"]["zip"].isdigit():
            return 422, {}, {"problems": [{"field": "to.zip", "text": "is not a postcode"}]}
        return 201, {}, {"parcel_id": "EX-" + body["ref"]}
    return 404, {}, {"problems": [{"text": "no such endpoint"}]}


@tagged("post_install", "-at_install")
class TestExtensionPoints(LogisticsHttpCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.server = CuedHTTPServer(handler=_partner).start()
        cls.addClassCleanup(cls.server.stop)
        cls.backend = cls._make_backend(
            name="Example Parcels",
            kind="carrier",
            provider="example",
            webhook_scheme="example_hmac",
            webhook_secret=SECRET,
            base_url=cls.server.url("/"),
        )

    def setUp(self):
        super().setUp()
        self.server.reset()

    def _parcel(self, name):
        return self.env["logistics.example.parcel"].create(
            {"name": name, "backend_id": self.backend.id}
        )

    def _post_scan(self, ref, state, secret=SECRET, event_id=None):
        body = json.dumps({"evt": "scan", "parcel": {"ref": ref, "state": state}}).encode()
        return self.url_open(
            f"/logistics/webhook/{self.backend.code}",
            data=body,
            headers={
                "Content-Type": "application/json",
                "X-Example-Signature": sign(secret, body),
                "X-Example-Event": event_id or uuid.uuid4().hex,
            },
        )

    # registration ----------------------------------------------------------------------------
    def test_plug_ins_are_found_by_their_keys(self):
        self.assertIs(get_adapter_class("example", "rest", self.env), ExampleAdapter)
        self.assertIs(get_handler_class("parcel.scan", self.env), ParcelScanHandler)
        self.assertTrue(callable(get_scheme("example_hmac", self.env)))
        self.assertIn("parcel.scan", self.env["logistics.message"]._schema_registry().types())

    def test_plug_ins_of_modules_not_installed_are_not_found(self):
        class OtherRegistry:  # a database where the example addon is not installed
            ready = True
            _init_modules = {"base", "logistics_integration_base"}

        class OtherEnv:
            registry = OtherRegistry()

        self.assertIsNone(get_handler_class("parcel.scan", OtherEnv()))
        self.assertIsNotNone(get_handler_class("integration.ping", OtherEnv()))

    # inbound: signature scheme, adapter, handler ---------------------------------------------
    def test_signed_webhook_is_stored_and_handled(self):
        parcel = self._parcel("P-1")
        response = self._post_scan("P-1", "D", event_id="evt-1")
        self.assertEqual(response.status_code, 202, response.text)
        message = self.env["logistics.message"].browse(response.json()["message_id"])
        self.assertEqual((message.message_type, message.state), ("parcel.scan", "received"))
        self.assertEqual(message._get_payload()["status"], "delivered")
        again = self._post_scan("P-1", "D", event_id="evt-1")
        self.assertEqual((again.status_code, again.json()["duplicate"]), (202, True))
        run_jobs(self.env)
        self.assertEqual(message.state, "processed")
        self.assertEqual(parcel.status, "delivered")
        self.assertEqual(message.record_ref, parcel)

    def test_bad_signature_is_refused_and_nothing_stored(self):
        response = self._post_scan("P-2", "S", secret="not-the-secret")
        self.assertEqual(response.status_code, 401)
        self.assertIn("does not match", response.json()["error"])
        self.assertFalse(self.messages(self.backend, direction="in"))

    def test_partner_shape_breaking_the_schema_is_stored_as_422(self):
        response = self._post_scan("", "S")
        self.assertEqual(response.status_code, 422)
        self.assertEqual(response.json()["path"], "data.parcel_ref")
        message = self.messages(self.backend, direction="in")
        self.assertEqual((message.state, message.error_category), ("failed", "validation"))

    def test_scan_before_the_parcel_exists_is_retried_then_applied(self):
        response = self._post_scan("P-3", "S")
        message = self.env["logistics.message"].browse(response.json()["message_id"])
        run_jobs(self.env, ignore_eta=False)
        # out_of_order = "retry": waits for the parcel with the backend's backoff
        self.assertEqual(message.state, "received")
        self.assertTrue(message.next_retry_at)
        self.assertIn("scanned parcel P-3, which does not exist in Odoo", message.error_message)
        parcel = self._parcel("P-3")
        run_jobs(self.env)
        self.assertEqual((message.state, parcel.status), ("processed", "in_transit"))

    # call and send -------------------------------------------------------------------------------
    def test_synchronous_call_is_recorded_with_answer_and_duration(self):
        result = self.backend._call("parcel.quote", {"weight_kg": 3, "zip": "75001"})
        self.assertEqual(result.data, {"price": 8.5})
        self.assertEqual([r.path for r in self.server.requests], ["/quotes"])
        self.assertEqual(self.server.requests[0].json(), {"kg": 3, "zip": "75001"})
        call = self.messages(self.backend, direction="out", is_call=True)
        self.assertEqual((call.message_type, call.state), ("parcel.quote", "acknowledged"))
        self.assertEqual(json.loads(call.response_payload), {"price": 8.5})
        self.assertGreaterEqual(call.duration_ms, 0)
        self.assertEqual(call.http_status, 200)

    def test_failed_call_raises_and_is_recorded_never_retried(self):
        self.server.cue((422, {}, {"problems": [{"field": "kg", "text": "too heavy"}]}))
        # (not in assertRaises, which rolls back: a caller that reports the error, as a
        # carrier's rate request does, keeps its transaction and so the record)
        error = None
        try:
            self.backend._call("parcel.quote", {"weight_kg": 900, "zip": "75001"})
        except TransportError as exc:
            error = exc
        self.assertIsNotNone(error, "a refused call raises")
        self.assertEqual(error.status, 422)
        adapter = self.backend._get_adapter()
        self.assertEqual(adapter.parse_error(422, error.body), [("kg", "too heavy")])
        call = self.messages(self.backend, direction="out", is_call=True)
        self.assertEqual((call.state, call.error_category), ("failed", "validation"))
        with self.assertRaises(UserError):
            call.action_retry()

    def test_queued_send_reaches_the_partner_in_its_shape(self):
        payload = {"parcel_ref": "P-4", "weight_kg": 2.5, "zip": "1017"}
        message = self.backend._send_message("parcel.book", payload)
        self.assertEqual(message.state, "pending")
        run_jobs(self.env)
        self.assertEqual((message.state, message.external_id), ("sent", "EX-P-4"))
        request = self.server.requests[-1]
        self.assertEqual(request.path, "/parcels")
        self.assertEqual(request.json(), {"ref": "P-4", "kg": 2.5, "to": {"zip": "1017"}})
        self.assertEqual(request.headers["Idempotency-Key"], message.idempotency_key)

    def test_queued_send_over_a_transport_the_addon_registers(self):
        lines = []

        class LinePartner(socketserver.StreamRequestHandler):
            def handle(self):
                request = json.loads(self.rfile.readline())
                lines.append(request)
                self.wfile.write(json.dumps({"parcel_id": "LN-" + request["ref"]}).encode())
                self.wfile.write(b"\n")

        server = socketserver.ThreadingTCPServer(("127.0.0.1", 0), LinePartner)
        threading.Thread(target=server.serve_forever, daemon=True).start()
        self.addCleanup(server.server_close)
        self.addCleanup(server.shutdown)
        backend = self._make_backend(
            name="Example Parcels (line)",
            kind="carrier",
            provider="example",
            protocol="jsonl",
            base_url=f"tcp://127.0.0.1:{server.server_address[1]}",
        )
        self.assertIs(get_transport("jsonl", self.env), JsonLineClient)
        self.assertIs(get_adapter_class("example", "jsonl", self.env), ExampleLineAdapter)
        msg = self.env["logistics.message"].browse(
            backend.send_message(
                "parcel.book", {"parcel_ref": "P-9", "weight_kg": 2, "zip": "75001"}
            )
        )
        run_jobs(self.env)
        self.assertEqual((msg.state, msg.external_id), ("sent", "LN-P-9"))
        self.assertEqual(
            lines,
            [
                {
                    "op": "book",
                    "key": msg.idempotency_key,
                    "ref": "P-9",
                    "kg": 2,
                    "to": {"zip": "75001"},
                }
            ],
        )

    def test_a_protocol_without_its_transport_is_refused_clearly(self):
        backend = self._make_backend(provider="example", protocol="jsonl")
        adapter = get_adapter_class("example", "jsonl", self.env)(backend)
        with patch.dict(TRANSPORTS._entries):
            del TRANSPORTS._entries["jsonl"]
            with self.assertRaisesRegex(CapabilityMissing, "needs the 'jsonl' transport"):
                adapter.transport("jsonl", None)

    def test_capability_not_declared_is_refused_clearly(self):
        adapter = self.backend._get_adapter()
        self.assertFalse(adapter.supports(POLL))
        with self.assertRaises(CapabilityMissing) as caught:
            self.backend._poll_inbound()
        self.assertIn("Example Parcels", str(caught.exception))
        self.assertIn("cannot poll", str(caught.exception))
