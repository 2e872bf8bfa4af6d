"""OpenTelemetry export of an order's messages, received by a real OTLP/HTTP collector on
loopback (``logistics_simulators.otlp_receiver``): one trace per order, a span per send or
processing with its attributes and steps, errors as error spans, nothing when switched off,
and a collector that hangs or is down never holds a send back."""

import json
import time
import uuid

from logistics_simulators.http_server import CuedHTTPServer
from logistics_simulators.otlp_receiver import OTLPReceiver
from logistics_simulators.waiting import wait_until

from odoo.tests import TransactionCase, tagged
from odoo.tools import config

from odoo.addons.logistics_integration_base.tools import otel

from .common import ThreePLFixture, run_jobs
from .test_shipment import shipment


@tagged("post_install", "-at_install")
class TestOtelExport(ThreePLFixture, TransactionCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.setup_3pl()
        cls.receiver = OTLPReceiver().start()
        cls.addClassCleanup(cls.receiver.stop)

    def setUp(self):
        super().setUp()
        self.receiver.reset()
        self.addCleanup(self.export_to, None)

    def export_to(self, endpoint, timeout=None):
        """Set (or remove) the options of the configuration file, as an administrator
        would in odoo.conf."""
        for option, value in ((otel.OPTION_ENDPOINT, endpoint), (otel.OPTION_TIMEOUT, timeout)):
            if value is None:
                config.options.pop(option, None)
            else:
                config.options[option] = str(value)

    def commit(self):
        """What a commit runs after it (the test's transaction is never committed), then
        what the batch thread holds goes to the collector now."""
        self.env.cr.postcommit.run()
        self.assertTrue(otel.force_flush(10))

    def inbound(self, message_type, data, correlation_id=None):
        """An inbound message as the 3PL sends it back, echoing the order's correlation id
        (X-Correlation-ID) or with one of its own (as the webhook route gives a message that
        carries none), processed by its job."""
        message = self.env["logistics.message"].create(
            {
                "backend_id": self.backend.id,
                "direction": "in",
                "message_type": message_type,
                "idempotency_key": str(uuid.uuid4()),
                "correlation_id": correlation_id or str(uuid.uuid4()),
                "state": "received",
                "payload": json.dumps(data),
            }
        )
        message._enqueue()
        run_jobs(self.env)
        return message

    def test_one_trace_per_order_with_its_steps_and_errors(self):
        self.export_to(self.receiver.endpoint)
        picking = self.make_delivery([(self.chair, 2)])
        run_jobs(self.env)
        release = picking.logistics_release_message_id
        self.assertEqual(release.state, "sent")
        correlation = release.correlation_id
        ack = self.inbound(
            "order.ack",
            {"order_ref": picking.name, "status": "accepted", "external_order_id": "W-1"},
            correlation,
        )
        self.assertEqual(ack.state, "processed", ack.error_message)
        wrong = self.inbound(
            "shipment.confirmed",
            shipment(picking.name, [{"sku": "NOPE-1", "quantity": 2}], ref="SHP-X"),
            correlation,
        )
        self.assertEqual(wrong.state, "failed")
        # a partner that does not echo the correlation id: its message is about the delivery
        shipped = self.inbound(
            "shipment.confirmed", shipment(picking.name, [{"sku": "CHAIR-1", "quantity": 2}])
        )
        self.assertEqual(shipped.state, "processed", shipped.error_message)
        self.commit()
        spans = wait_until(
            lambda: len(self.receiver.spans) >= 5 and self.receiver.spans,
            what="the spans of the release, the acknowledgement and two shipment confirmations",
        )
        self.assertEqual(len(spans), 5, spans)

        # one trace for the order, derived from the correlation id of its first message (the
        # release), under its transaction span
        self.assertNotEqual(shipped.correlation_id, correlation)
        trace_id, transaction_span_id = otel.trace_ids(correlation)
        self.assertEqual({s.trace_id for s in spans}, {f"{trace_id:032x}"})
        (transaction,) = self.receiver.spans_named("transaction")
        self.assertEqual(transaction.span_id, f"{transaction_span_id:016x}")
        self.assertFalse(transaction.parent_span_id.strip("0"), "the root of the trace")
        others = [s for s in spans if s is not transaction]
        self.assertEqual({s.parent_span_id for s in others}, {transaction.span_id})
        self.assertEqual(len({s.span_id for s in spans}), 5)
        self.assertEqual(transaction.attributes["logistics.correlation_id"], correlation)

        # the release: an outbound send
        (sent,) = self.receiver.spans_named("order.release")
        self.assertEqual(sent.kind, "client")
        expected = {
            "logistics.backend": "acme",
            "logistics.backend.kind": "3pl",
            "logistics.direction": "outbound",
            "logistics.state": "sent",
            "logistics.outcome": "done",
            "logistics.message.id": release.id,
            "logistics.message.reference": release.name,
            "logistics.correlation_id": correlation,
            "logistics.idempotency_key": release.idempotency_key,
            "logistics.record.model": "stock.picking",
        }
        self.assertLessEqual(expected.items(), sent.attributes.items(), sent.attributes)
        self.assertNotEqual(sent.status_code, 2)
        self.assertEqual([name for name, _attrs in sent.events], ["step released"])
        self.assertLessEqual(transaction.start_ns, sent.start_ns)

        # the acknowledgement and the shipment: inbound processing, with the time since the
        # previous step
        (acked,) = self.receiver.spans_named("order.ack")
        self.assertEqual(acked.kind, "consumer")
        self.assertEqual(acked.attributes["logistics.direction"], "inbound")
        self.assertEqual(acked.attributes["logistics.state"], "processed")
        self.assertEqual(acked.attributes["logistics.message.id"], ack.id)
        events = dict(acked.events)
        self.assertEqual(events["step acknowledged"]["logistics.step.from"], "released")
        self.assertGreaterEqual(events["step acknowledged"]["logistics.step.seconds"], 0)
        confirmations = {
            s.attributes["logistics.message.id"]: s
            for s in self.receiver.spans_named("shipment.confirmed")
        }
        good, bad = confirmations[shipped.id], confirmations[wrong.id]
        self.assertEqual(good.attributes["logistics.state"], "processed")
        self.assertEqual(dict(good.events)["step shipped"]["logistics.step.from"], "acknowledged")
        self.assertNotEqual(good.status_code, 2)

        # the failed one: an error span with the reason's first sentence
        self.assertTrue(bad.failed)
        self.assertEqual(bad.attributes["logistics.state"], "failed")
        self.assertEqual(bad.attributes["logistics.outcome"], "failed")
        self.assertEqual(bad.attributes["logistics.error.category"], wrong.error_category)
        self.assertTrue(bad.status_message)
        self.assertTrue(wrong.error_message.startswith(bad.status_message.rstrip("…")))
        self.assertNotIn("\n", bad.status_message)
        self.assertFalse(bad.events)

        # no payload, no personal data: the customer's name, address and phone are in the
        # release's payload, never in what the collector received
        body = b"".join(r.body for r in self.receiver.requests)
        for personal in (b"Jane Buyer", b"1 Main St", b"555 0100", b"jane@example.com"):
            self.assertNotIn(personal, body)
        self.assertIn(release.idempotency_key.encode(), body)

    def test_nothing_is_exported_by_default(self):
        picking = self.make_delivery([(self.chair, 1)])
        run_jobs(self.env)
        self.assertEqual(picking.logistics_release_message_id.state, "sent")
        self.commit()
        # switched on now: only what happens from now on arrives (the batch is in order)
        self.export_to(self.receiver.endpoint)
        later = self.make_delivery([(self.desk, 1)])
        run_jobs(self.env)
        self.commit()
        wait_until(lambda: self.receiver.spans_named("order.release"), what="the second release")
        ids = {s.attributes.get("logistics.message.id") for s in self.receiver.spans}
        self.assertEqual(ids, {later.logistics_release_message_id.id, None})  # + transaction
        self.assertEqual(len(self.receiver.spans), 2, self.receiver.spans)
        # and off again
        self.receiver.reset()
        self.export_to(None)
        self.make_delivery([(self.chair, 1)])
        run_jobs(self.env)
        self.commit()
        self.assertFalse(self.receiver.requests)

    def test_a_collector_down_or_hanging_never_holds_a_send_back(self):
        # it holds every export longer than the 2 s timeout (Odoo's tests raise the timeout
        # of requests to 10 s: it closes the connection after 4 s)
        hanging = CuedHTTPServer(handler=lambda _req: "hang", hang_seconds=4).start()
        self.addCleanup(hanging.stop)
        self.export_to(hanging.url(""), timeout=2)
        with self.assertLogs("odoo.addons.logistics_integration_base.tools.otel_sdk") as logs:
            picking = self.make_delivery([(self.chair, 1)])
            started = time.monotonic()
            run_jobs(self.env)
            self.env.cr.postcommit.run()
            elapsed = time.monotonic() - started
            release = picking.logistics_release_message_id
            self.assertEqual(release.state, "sent", "sent while the collector hangs")
            self.assertLess(elapsed, 1.5, "the send did not wait for the collector (2 s)")
            self.assertIn(picking.name, self.sim.orders, "the 3PL received the release")
            otel.force_flush(10)
            wait_until(lambda: hanging.requests, what="the export that hangs")
            # a second batch fails too, and is not logged again
            self.make_delivery([(self.desk, 1)])
            run_jobs(self.env)
            self.env.cr.postcommit.run()
            otel.force_flush(10)
            wait_until(lambda: len(hanging.requests) >= 2, what="the second export")
            # the collector answers again: said once too
            hanging.handler = None
            self.make_delivery([(self.chair, 1)])
            run_jobs(self.env)
            self.env.cr.postcommit.run()
            otel.force_flush(10)
        said = [(r.levelname, r.getMessage()) for r in logs.records]
        self.assertEqual([level for level, _text in said], ["WARNING", "INFO"], said)
        self.assertIn("spans could not be sent", said[0][1])
        self.assertIn("answers again", said[1][1])

        # a collector that is down (the port refuses): the send goes on as well
        down = CuedHTTPServer().start()
        address = down.url("")
        down.stop()
        self.export_to(address, timeout=1)
        picking = self.make_delivery([(self.chair, 1)])
        run_jobs(self.env)
        self.env.cr.postcommit.run()
        self.assertEqual(picking.logistics_release_message_id.state, "sent")
        otel.force_flush(10)
