import json

from odoo.tests import tagged

from odoo.addons.logistics_integration_base.tests.common import LogisticsHttpCase

from .common import ThreePLFixture, run_jobs


@tagged("post_install", "-at_install")
class TestShipbobProvider(ThreePLFixture, LogisticsHttpCase):
    """The ShipBob-shaped provider against the simulator in ShipBob style: REST calls out,
    signed webhooks with a topic header into Odoo's real route, polling fallback."""

    simulator_style = "shipbob"

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.setup_3pl(
            code="shipbob-e2e",
            provider="shipbob",
            auth_type="bearer",
            auth_token="pat-123",
            accepts_updates=False,
        )
        cls.sim.api_token = "pat-123"
        cls.backend.base_url = cls.sim.url("/2026-01")
        cls.backend.shipbob_channel_id = str(cls.sim.shipbob_channel_id)

    def setUp(self):
        super().setUp()
        self.sim.webhook_url = self.base_url() + "/logistics/webhook/shipbob-e2e"

    def released(self, lines):
        picking = self.make_delivery(lines)
        run_jobs(self.env)
        return picking

    def test_release_posts_order_and_the_answer_is_the_acknowledgement(self):
        picking = self.released([(self.chair, 2), (self.desk, 1)])
        msg = picking.logistics_release_message_id
        self.assertEqual(msg.state, "acknowledged", msg.error_message)
        order = self.sim.orders[picking.name]
        self.assertEqual(picking.logistics_state, "accepted")
        self.assertEqual(picking.logistics_external_id, str(order["shipbob_id"]))
        body = json.loads(msg._clear_text("raw_payload"))
        self.assertEqual(body["reference_id"], picking.name)
        self.assertEqual(body["recipient"]["address"]["zip_code"], "12345")
        self.assertEqual(body["recipient"]["address"]["country"], "US")
        self.assertEqual(
            sorted((p["reference_id"], p["quantity"]) for p in body["products"]),
            [("CHAIR-1", 2), ("DESK-1", 1)],
        )

    def test_duplicate_reference_after_a_lost_answer_is_a_success(self):
        picking = self.make_delivery([(self.chair, 1)])
        msg = picking.logistics_release_message_id
        run_jobs(self.env)
        order_id = picking.logistics_external_id
        # the answer was lost: the message is sent again and ShipBob says "duplicate"
        msg.sudo().write({"state": "pending"})
        picking.sudo().logistics_state = "released"
        msg._enqueue()
        run_jobs(self.env)
        self.assertEqual(msg.state, "acknowledged", msg.error_message)
        self.assertEqual(picking.logistics_external_id, order_id)
        self.assertEqual(len([o for o in self.sim.orders if o == picking.name]), 1)

    def test_validation_and_auth_errors_in_words(self):
        self.sim.fail_next(400, body={"Recipient.Address.ZipCode": ["Zip code is invalid"]})
        picking = self.released([(self.chair, 1)])
        msg = picking.logistics_release_message_id
        self.assertEqual((msg.state, msg.error_category), ("failed", "validation"))
        self.assertIn("ShipBob refused the data", msg.error_message)
        self.assertIn("Zip code is invalid", msg.error_message)
        self.backend.auth_token = "revoked"
        other = self.released([(self.desk, 1)])
        msg = other.logistics_release_message_id
        self.assertEqual((msg.state, msg.error_category), ("failed", "auth"))
        self.assertIn("Personal Access Token", msg.error_message)
        self.backend.auth_token = "pat-123"

    def test_shipped_webhook_partial_with_lots(self):
        picking = self.released([(self.serum, 5), (self.chair, 2)])
        status, answer = self.sim.ship(
            picking.name, quantities={"SERUM-1": 3}, lots={"SERUM-1": "L-100"}, tracking_ref="1ZSB1"
        )
        self.assertEqual(status, 202, answer)
        run_jobs(self.env)
        msg = self.env["logistics.message"].browse(answer["message_id"])
        self.assertEqual(
            (msg.message_type, msg.state), ("shipment.confirmed", "processed"), msg.error_message
        )
        self.assertEqual(picking.state, "done")
        self.assertEqual(picking.logistics_tracking_ref, "1ZSB1")
        self.assertEqual(picking.move_line_ids.lot_id.name, "L-100")
        self.assertEqual(
            sorted(picking.backorder_ids.move_ids.mapped("product_uom_qty")), [2.0, 2.0]
        )

    def test_delivered_and_exception_topics(self):
        picking = self.released([(self.chair, 1)])
        self.sim.ship(picking.name)
        status, _answer = self.sim.post_status(
            picking.name, "exception", reason="Damaged in transit"
        )
        self.assertEqual(status, 202)
        run_jobs(self.env)
        self.assertEqual(picking.logistics_shipment_status, "exception")
        self.assertTrue(picking.activity_ids)

    def test_ignored_topic_is_stored_as_ignored(self):
        status, answer = self.sim.post_shipbob("return.created", {"id": 77, "status": "Created"})
        self.assertEqual(status, 202, answer)
        msg = self.env["logistics.message"].browse(answer["message_id"])
        self.assertEqual(msg.state, "ignored")
        self.assertTrue(msg.ignore_reason)
        self.assertFalse(msg.job_id)

    def test_unknown_topic_is_refused_and_stored(self):
        status, answer = self.sim.post_shipbob("warehouse.teleported", {"id": 1})
        self.assertEqual(status, 422, answer)
        msg = self.env["logistics.message"].browse(answer["message_id"])
        self.assertEqual((msg.state, msg.error_category), ("failed", "validation"))
        self.assertIn("Unknown ShipBob webhook topic", msg.error_message)

    def test_bad_signature_401(self):
        self.sim.webhook_secret = "whsec_" + "b3RoZXItc2VjcmV0LWZvci1zaGlwYm9i"
        from standardwebhooks.webhooks import Webhook

        saved = self.sim._webhook
        self.sim._webhook = Webhook(self.sim.webhook_secret)
        try:
            status, _answer = self.sim.post_shipbob("order.shipped", {"id": 1})
        finally:
            self.sim._webhook = saved
        self.assertEqual(status, 401)

    def test_polling_applies_a_missed_shipment_once(self):
        picking = self.released([(self.chair, 2)])
        self.sim.webhook_url = "http://127.0.0.1:9/missed"  # the webhook never arrives
        self.sim.ship(picking.name, tracking_ref="1ZPOLL")
        self.assertEqual(self.env["logistics.backend"]._cron_poll_shipped(), 1)
        run_jobs(self.env)
        self.assertEqual(picking.state, "done")
        self.assertEqual(picking.logistics_tracking_ref, "1ZPOLL")
        self.assertEqual(self.env["logistics.backend"]._cron_poll_shipped(), 0)

    def test_cancel_calls_shipbob_cancel(self):
        picking = self.released([(self.chair, 1)])
        picking.action_cancel()
        cancel = self.env["logistics.message"].search(
            [
                ("res_id", "=", picking.id),
                ("res_model", "=", "stock.picking"),
                ("message_type", "=", "order.cancel"),
            ]
        )
        run_jobs(self.env)
        self.assertEqual(cancel.state, "sent", cancel.error_message)
        self.assertEqual(self.sim.orders[picking.name]["status"].lower(), "cancelled")

    def test_update_is_refused_up_front(self):
        picking = self.released([(self.chair, 1)])
        from odoo.exceptions import UserError

        with self.assertRaisesRegex(UserError, "does not accept changes"):
            picking.move_ids.product_uom_qty = 3

    def test_connection(self):
        action = self.backend.action_test_connection()
        self.assertEqual(action["params"]["type"], "success", action["params"]["message"])
