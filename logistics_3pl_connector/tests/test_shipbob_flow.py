"""The ``shipbob`` provider end to end, against the 3PL simulator in ShipBob style (a real
HTTP server on loopback): requests out to ``POST /order`` & co., signed webhooks with a topic
header into Odoo's real route, and the polling fallback. The request and response examples
below are what goes over the wire."""

import json
import time

import requests

from odoo import fields
from odoo.exceptions import UserError
from odoo.tests import tagged

from odoo.addons.logistics_integration_base.tests.common import (
    LogisticsHttpCase,
    LogisticsTransactionCase,
)

from ..mappers import shipbob
from .common import ThreePLFixture, run_jobs

TOKEN = "pat-shipbob-flow"


class ShipbobCase(ThreePLFixture):
    simulator_style = "shipbob"

    @classmethod
    def setup_shipbob(cls, code):
        cls.setup_3pl(code=code, provider="shipbob", auth_type="bearer", auth_token=TOKEN)
        cls.sim.api_token = TOKEN
        cls.backend.base_url = cls.sim.url(f"/{shipbob.API_VERSION}")
        cls.backend.shipbob_channel_id = str(cls.sim.shipbob_channel_id)

    def released(self, lines):
        picking = self.make_delivery(lines)
        run_jobs(self.env)
        self.assertEqual(picking.logistics_state, "accepted")
        return picking

    def released_failed(self, lines):
        picking = self.make_delivery(lines)
        run_jobs(self.env)
        return picking

    def calls_since(self, start):
        return [(r.method, r.path.split("?")[0]) for r in self.sim.requests[start:]]

    def shipbob_api(self, method, path, **kw):
        """Call the simulated ShipBob API directly (as the merchant's other tools would)."""
        return requests.request(
            method,
            self.sim.url(path),
            headers={"Authorization": f"Bearer {TOKEN}", "shipbob_channel_id": "100102"},
            timeout=5,
            **kw,
        )

    def picking_messages(self, picking, message_type):
        return self.env["logistics.message"].search(
            [
                ("res_model", "=", "stock.picking"),
                ("res_id", "=", picking.id),
                ("message_type", "=", message_type),
            ]
        )


class TestShipbobOrders(ShipbobCase, LogisticsTransactionCase):
    """Odoo -> ShipBob: order creation, its errors, cancellation, updates, connection test."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.setup_shipbob("shipbob-out")

    def test_release_request_and_answer(self):
        picking = self.make_delivery([(self.chair, 2), (self.desk, 1)])
        start = len(self.sim.requests)
        run_jobs(self.env)
        msg = picking.logistics_release_message_id
        self.assertEqual(msg.state, "acknowledged", msg.error_message)
        [request] = self.sim.requests[start:]
        self.assertEqual((request.method, request.path), ("POST", "/2026-01/order"))
        self.assertEqual(request.headers["Authorization"], f"Bearer {TOKEN}")
        self.assertEqual(request.headers["shipbob_channel_id"], "100102")
        chair = picking.move_ids.filtered(lambda m: m.product_id == self.chair)
        desk = picking.move_ids - chair
        self.assertEqual(
            request.json(),
            {
                "reference_id": picking.name,
                "order_number": "S0001",
                "type": "DTC",
                "shipping_method": "Standard",
                "recipient": {
                    "name": "Jane Buyer",
                    "address": {
                        "address1": "1 Main St",
                        "city": "Springfield",
                        "state": "CA",
                        "country": "US",
                        "zip_code": "12345",
                    },
                    "email": "jane@example.com",
                    "phone_number": "+1 555 0100",
                },
                "products": [
                    {
                        "reference_id": "CHAIR-1",
                        "name": "[CHAIR-1] Chair",
                        "quantity": 2,
                        "external_line_id": chair.id,
                    },
                    {
                        "reference_id": "DESK-1",
                        "name": "[DESK-1] Desk",
                        "quantity": 1,
                        "external_line_id": desk.id,
                    },
                ],
                "tags": [
                    {"name": "warehouse", "value": "E3PL"},
                    {
                        "name": "requested_date",
                        "value": fields.Date.to_string(picking.scheduled_date),
                    },
                ],
            },
        )
        # ShipBob answers 201 with its order: that answer is the acknowledgement
        order = self.shipbob_api("GET", f"/order/{picking.logistics_external_id}").json()
        self.assertEqual(msg.http_status, 201)
        self.assertEqual(order["reference_id"], picking.name)
        self.assertEqual(order["status"], "Processing")
        self.assertEqual(picking.logistics_state, "accepted")
        self.assertEqual(
            picking.logistics_external_id, str(self.sim.orders[picking.name]["shipbob_id"])
        )

    def test_resend_after_a_lost_answer_finds_the_order(self):
        picking = self.make_delivery([(self.chair, 1)])
        msg = picking.logistics_release_message_id
        # The first attempt reached ShipBob, which created the order; its answer was lost.
        body = shipbob.order_release_to_request(msg._get_payload())
        first = self.shipbob_api("POST", "/order", json=body)
        self.assertEqual(first.status_code, 201)
        start = len(self.sim.requests)
        run_jobs(self.env)
        # POST answers 422 "existing ReferenceId"; the order is looked up by reference
        self.assertEqual(
            self.calls_since(start), [("POST", "/2026-01/order"), ("GET", "/2026-01/order")]
        )
        self.assertIn(
            f"ReferenceIds={picking.name.replace('/', '%2F')}", self.sim.requests[-1].path
        )
        self.assertEqual(msg.state, "acknowledged", msg.error_message)
        self.assertEqual(picking.logistics_state, "accepted")
        self.assertEqual(picking.logistics_external_id, str(first.json()["id"]))

    def test_duplicate_reference_of_an_order_that_cannot_be_found_fails_in_words(self):
        picking = self.make_delivery([(self.chair, 1)])
        self.sim.fail_next(
            422,
            body={
                "reference_id": [
                    f"Cannot insert order with existing ReferenceId {picking.name} for this "
                    "channel."
                ]
            },
        )
        run_jobs(self.env)
        msg = picking.logistics_release_message_id
        self.assertEqual((msg.state, msg.error_category), ("failed", "business"))
        self.assertIn("already has an order with this reference", msg.error_message)

    def test_validation_errors_name_shipbob_fields(self):
        self.sim.fail_next(
            422,
            body={
                "Products[0].Quantity": ["The field Quantity must be between 1 and 2147483647."],
                "Recipient.Address.Country": ["Country 'XX' is not supported."],
            },
        )
        picking = self.released_failed([(self.chair, 1)])
        msg = picking.logistics_release_message_id
        self.assertEqual((msg.state, msg.error_category, msg.attempts), ("failed", "validation", 1))
        self.assertIn("ShipBob refused the data (HTTP 422)", msg.error_message)
        self.assertIn("Products[0].Quantity: The field Quantity must be", msg.error_message)
        self.assertIn(
            "Recipient.Address.Country: Country 'XX' is not supported.", msg.error_message
        )
        # refused: the delivery does not claim to be released, and can be released again
        self.assertEqual(picking.logistics_state, "failed")
        self.assertFalse(picking.logistics_external_id)

    def test_fractional_quantity_is_a_validation_failure(self):
        kg = self.env.ref("uom.product_uom_kgm")
        flour = self.env["product.product"].create(
            {
                "name": "Flour",
                "default_code": "FLOUR-1",
                "is_storable": True,
                "uom_id": kg.id,
                "uom_po_id": kg.id,
            }
        )
        self.env["stock.quant"]._update_available_quantity(flour, self.stock_location, 10)
        start = len(self.sim.requests)
        picking = self.released_failed([(flour, 1.5)])
        msg = picking.logistics_release_message_id
        self.assertEqual((msg.state, msg.error_category), ("failed", "validation"))
        self.assertIn("ShipBob ships whole units only", msg.error_message)
        self.assertEqual(self.calls_since(start), [])  # nothing was sent

    def test_rate_limit_is_retried(self):
        self.sim.fail_next(429, retry_after=1)
        picking = self.released([(self.chair, 1)])
        msg = picking.logistics_release_message_id
        self.assertEqual((msg.state, msg.attempts), ("acknowledged", 2))

    def test_revoked_token_is_an_auth_failure(self):
        self.backend.auth_token = "revoked"
        picking = self.released_failed([(self.chair, 1)])
        msg = picking.logistics_release_message_id
        self.assertEqual((msg.state, msg.error_category), ("failed", "auth"))
        self.assertIn("ShipBob rejected the API token (HTTP 401)", msg.error_message)
        self.assertIn("Personal Access Token", msg.error_message)
        action = self.backend.action_test_connection()
        self.assertEqual(action["params"]["type"], "danger")
        self.assertIn("Personal Access Token", action["params"]["message"])

    def test_connection(self):
        start = len(self.sim.requests)
        action = self.backend.action_test_connection()
        self.assertEqual(action["params"]["type"], "success", action["params"]["message"])
        self.assertIn("100102 (Odoo (API), may create orders)", action["params"]["message"])
        self.assertIn("The backend's channel 100102 may create orders", action["params"]["message"])
        [request] = self.sim.requests[start:]
        self.assertEqual((request.method, request.path), ("GET", "/2026-01/channel"))

    def test_connection_names_a_channel_that_may_not_create_orders(self):
        self.backend.shipbob_channel_id = str(self.sim.shipbob_channel_id + 1)
        action = self.backend.action_test_connection()
        self.assertEqual(action["params"]["type"], "danger")
        self.assertIn(
            "ShipBob channel 100103, which may not create orders", action["params"]["message"]
        )
        self.assertIn("100102 (Odoo (API), may create orders)", action["params"]["message"])

    def test_release_without_channel_fails_before_calling_shipbob(self):
        self.backend.shipbob_channel_id = False
        start = len(self.sim.requests)
        picking = self.released_failed([(self.chair, 1)])
        msg = picking.logistics_release_message_id
        self.assertEqual((msg.state, msg.error_category), ("failed", "auth"), msg.error_message)
        self.assertIn(f"Backend {self.backend.name} has no ShipBob channel", msg.error_message)
        self.assertIn("Press Test connection", msg.error_message)
        self.assertEqual(self.sim.requests[start:], [])

    def test_retired_or_missing_api_version_is_refused_in_words(self):
        for path, words in (
            ("/1.0", "API 1.0, which ShipBob retired on 31 July 2026"),
            ("/2025-07", "API 2025-07, which ShipBob retired on 31 July 2026"),
            ("/", "names no ShipBob API version"),
        ):
            with self.subTest(base_url=path):
                self.backend.base_url = self.sim.url(path)
                start = len(self.sim.requests)
                picking = self.released_failed([(self.chair, 1)])
                msg = picking.logistics_release_message_id
                self.assertEqual(msg.state, "failed")
                self.assertIn(words, msg.error_message)
                self.assertIn("https://api.shipbob.com/2026-01", msg.error_message)
                self.assertEqual(self.sim.requests[start:], [])

    def test_webhooks_are_subscribed_with_the_backends_current_secret(self):
        self.env["ir.config_parameter"].sudo().set_param("web.base.url", "https://odoo.example.com")
        self.sim.shipbob_webhooks.clear()
        action = self.backend.action_shipbob_subscribe_webhooks()
        self.assertEqual(action["params"]["type"], "success", action["params"]["message"])
        [first] = self.sim.shipbob_webhooks
        self.assertEqual(first["url"], "https://odoo.example.com/logistics/webhook/shipbob-out")
        self.assertEqual(first["topics"], list(shipbob.WEBHOOK_TOPICS))
        self.assertEqual(first["secret"], self.backend._get_secret("webhook_secret"))
        self.assertIn(f"(subscription {first['id']})", action["params"]["message"])
        # after a rotation, subscribing again replaces the subscription: one, new secret
        self.backend.action_generate_webhook_secret()
        start = len(self.sim.requests)
        again = self.backend.action_shipbob_subscribe_webhooks()
        [second] = self.sim.shipbob_webhooks
        self.assertEqual(second["secret"], self.backend._get_secret("webhook_secret"))
        self.assertNotEqual(second["secret"], first["secret"])
        self.assertIn(f"replaces subscription {first['id']}", again["params"]["message"])
        self.assertEqual(
            self.calls_since(start),
            [
                ("GET", "/2026-01/webhook"),
                ("POST", "/2026-01/webhook"),
                ("DELETE", f"/2026-01/webhook/{first['id']}"),
            ],
        )

    def test_a_refusal_quoting_the_secret_does_not_show_it(self):
        self.env["ir.config_parameter"].sudo().set_param("web.base.url", "https://odoo.example.com")
        self.sim.shipbob_webhooks.clear()
        self.sim.shipbob_refuse_secret = True
        self.addCleanup(setattr, self.sim, "shipbob_refuse_secret", False)
        secret = self.backend._get_secret("webhook_secret")
        action = self.backend.action_shipbob_subscribe_webhooks()
        self.assertEqual(action["params"]["type"], "danger")
        self.assertIn("is not a valid secret", action["params"]["message"])
        self.assertNotIn(secret, action["params"]["message"])
        self.assertIn("•••", action["params"]["message"])
        self.assertEqual(self.sim.shipbob_webhooks, [])

    def test_webhooks_need_an_https_address_and_a_secret(self):
        self.env["ir.config_parameter"].sudo().set_param("web.base.url", "http://odoo.local:8069")
        self.sim.shipbob_webhooks.clear()
        start = len(self.sim.requests)
        action = self.backend.action_shipbob_subscribe_webhooks()
        self.assertEqual(action["params"]["type"], "danger")
        self.assertIn("ShipBob sends webhooks to HTTPS addresses only", action["params"]["message"])
        self.assertIn("web.base.url", action["params"]["message"])
        self.assertEqual((self.sim.requests[start:], self.sim.shipbob_webhooks), ([], []))
        self.env["logistics.backend.secret"].sudo().search(
            [("backend_id", "=", self.backend.id), ("key", "=", "webhook_secret")]
        ).unlink()
        with self.assertRaisesRegex(UserError, "press Generate webhook secret first"):
            self.backend.action_shipbob_subscribe_webhooks()

    def test_cancel_posts_to_the_order_cancel_endpoint(self):
        picking = self.released([(self.chair, 1)])
        order_id = picking.logistics_external_id
        start = len(self.sim.requests)
        picking.action_cancel()
        self.assertEqual(picking.logistics_state, "cancel_requested")
        run_jobs(self.env)
        [cancel] = self.picking_messages(picking, "order.cancel")
        self.assertEqual(cancel.state, "sent", cancel.error_message)
        self.assertEqual(self.calls_since(start), [("POST", f"/2026-01/order/{order_id}:cancel")])
        order = self.shipbob_api("GET", f"/order/{order_id}").json()
        self.assertEqual(order["status"], "Cancelled")
        self.assertEqual({s["status"] for s in order["shipments"]}, {"Cancelled"})

    def test_cancel_refused_once_picked_says_why(self):
        picking = self.released([(self.chair, 1)])
        for shipment in self.sim.orders[picking.name]["shipments"]:
            shipment["status"] = "LabeledCreated"  # ShipBob has already picked and packed it
        picking.action_cancel()
        run_jobs(self.env)
        [cancel] = self.picking_messages(picking, "order.cancel")
        self.assertEqual((cancel.state, cancel.error_category), ("failed", "business"))
        self.assertIn(f"Order {picking.name} was not cancelled", cancel.error_message)
        self.assertIn("already been picked", cancel.error_message)

    def test_updates_are_refused(self):
        # ShipBob backends do not accept updates unless an administrator says otherwise
        self.assertFalse(self.backend.accepts_updates)
        picking = self.released([(self.chair, 1)])
        with self.assertRaisesRegex(UserError, "does not accept changes"):
            picking.move_ids.product_uom_qty = 3
        # ...and if one does, the message fails with what to do instead
        self.backend.accepts_updates = True
        picking.move_ids.product_uom_qty = 3
        run_jobs(self.env)
        [update] = self.picking_messages(picking, "order.update")
        self.assertEqual((update.state, update.error_category), ("failed", "business"))
        self.assertIn("ShipBob cannot change an order once it is created", update.error_message)
        self.assertEqual(self.sim.orders[picking.name]["lines"][0]["quantity"], 1)


@tagged("post_install", "-at_install")
class TestShipbobWebhooks(ShipbobCase, LogisticsHttpCase):
    """ShipBob -> Odoo: signed webhooks into the real route, and the polling fallback."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.setup_shipbob("shipbob-hooks")

    def setUp(self):
        super().setUp()
        self.hooks_on()

    def miss_webhooks(self):
        self.sim.webhook_url = "http://127.0.0.1:9/missed"

    def hooks_on(self):
        self.sim.webhook_url = self.base_url() + "/logistics/webhook/shipbob-hooks"

    def stored(self, answer):
        return self.env["logistics.message"].browse(answer["message_id"])

    def shipments(self, picking):
        return self.env["logistics.shipment"].search(
            [("backend_id", "=", self.backend.id), ("picking_id", "in", picking.ids)]
        )

    def poll(self):
        return self.env["logistics.backend"]._cron_poll_shipped()

    # order.shipped ------------------------------------------------------------------------
    def test_full_shipment(self):
        picking = self.released([(self.chair, 2), (self.desk, 1)])
        delivery = self.sim.ship(picking.name, tracking_ref="1ZFULL")
        status, answer = delivery
        self.assertEqual(status, 202, answer)
        self.assertFalse(answer["duplicate"])
        msg = self.stored(answer)
        shipment_id = self.sim.orders[picking.name]["shipments"][-1]["id"]
        self.assertEqual(
            (msg.message_type, msg.state, msg.idempotency_key, msg.external_id, msg.subject),
            ("shipment.confirmed", "received", delivery.msg_id, str(shipment_id), picking.name),
        )
        self.assertTrue(msg.event_time)
        run_jobs(self.env)
        self.assertEqual(msg.state, "processed", msg.error_message)
        self.assertEqual((picking.state, picking.logistics_state), ("done", "shipped"))
        self.assertFalse(picking.backorder_ids)
        self.assertEqual(picking.logistics_tracking_ref, "1ZFULL")
        self.assertEqual(picking.logistics_carrier_code, "UPS")
        self.assertEqual(
            sorted(picking.move_ids.mapped(lambda m: (m.product_id.default_code, m.quantity))),
            [("CHAIR-1", 2.0), ("DESK-1", 1.0)],
        )
        self.assertEqual(self.shipments(picking).shipment_ref, str(shipment_id))
        # ShipBob delivers the same webhook again: accepted, nothing new
        status, again = self.sim.redeliver(delivery)
        self.assertEqual((status, again["duplicate"], again["message_id"]), (202, True, msg.id))
        self.assertEqual(
            self.env["logistics.message"].search_count(
                [("backend_id", "=", self.backend.id), ("message_type", "=", "shipment.confirmed")]
            ),
            1,
        )

    def test_partial_shipments_with_lots_then_the_rest(self):
        lot = self.env["stock.lot"].create({"name": "L-200", "product_id": self.serum.id})
        self.env["stock.quant"]._update_available_quantity(
            self.serum, self.stock_location, 5, lot_id=lot
        )
        picking = self.released([(self.serum, 4), (self.chair, 3)])
        status, answer = self.sim.ship(
            picking.name,
            quantities={"SERUM-1": 3, "CHAIR-1": 1},
            lots={"SERUM-1": [{"lot": "L-100", "quantity": 2}, {"lot": "L-200", "quantity": 1}]},
        )
        self.assertEqual(status, 202, answer)
        run_jobs(self.env)
        self.assertEqual(self.stored(answer).state, "processed", self.stored(answer).error_message)
        self.assertEqual(picking.state, "done")
        serum_lines = picking.move_line_ids.filtered(lambda ml: ml.product_id == self.serum)
        self.assertEqual(
            sorted(serum_lines.mapped(lambda ml: (ml.lot_id.name, ml.quantity))),
            [("L-100", 2.0), ("L-200", 1.0)],
        )
        backorder = picking.backorder_ids
        self.assertEqual(
            sorted(
                backorder.move_ids.mapped(lambda m: (m.product_id.default_code, m.product_uom_qty))
            ),
            [("CHAIR-1", 2.0), ("SERUM-1", 1.0)],
        )
        self.assertEqual(
            (backorder.logistics_state, backorder.logistics_order_ref),
            ("accepted", picking.name),
        )
        # ShipBob ships the rest under the same order reference
        status, answer = self.sim.ship(picking.name, lots={"SERUM-1": "L-100"})
        self.assertEqual(status, 202, answer)
        run_jobs(self.env)
        self.assertEqual(self.stored(answer).state, "processed", self.stored(answer).error_message)
        self.assertEqual((backorder.state, backorder.logistics_state), ("done", "shipped"))
        self.assertFalse(backorder.backorder_ids)
        self.assertEqual(len(self.shipments(picking | backorder)), 2)

    def post_legacy_order_shipped(self, order):
        """A legacy (API 1.0) subscription: topic ``order_shipped`` in the ``shipbob-topic``
        header, the whole order with its shipments as body."""
        body = json.dumps(order)
        headers = self.sim.sign(body)
        headers["shipbob-topic"] = "order_shipped"
        delivery = self.sim.send_raw(body, headers, kind="order_shipped")
        self.assertEqual(delivery.status, 202, delivery.json)
        return delivery

    def test_legacy_order_webhook_with_several_shipments(self):
        picking = self.released([(self.chair, 3)])
        order_id = picking.logistics_external_id
        self.miss_webhooks()
        self.sim.ship(picking.name, quantities={"CHAIR-1": 1}, tracking_ref="1ZONE")
        partial = self.shipbob_api("GET", f"/order/{order_id}").json()
        self.assertEqual(
            sorted(s["status"] for s in partial["shipments"]), ["Completed", "Processing"]
        )
        self.sim.ship(picking.name, tracking_ref="1ZTWO")
        full = self.shipbob_api("GET", f"/order/{order_id}").json()
        first, second = (str(s["id"]) for s in full["shipments"])
        self.hooks_on()

        # the shipment still being processed is no confirmation: one message
        delivery = self.post_legacy_order_shipped(partial)
        msg = self.stored(delivery.json)
        self.assertNotIn("message_ids", delivery.json)
        self.assertEqual((msg.message_type, msg.external_id), ("shipment.confirmed", first))
        run_jobs(self.env)
        self.assertEqual(msg.state, "processed", msg.error_message)
        backorder = picking.backorder_ids
        self.assertEqual((picking.state, picking.logistics_tracking_ref), ("done", "1ZONE"))
        self.assertEqual(backorder.move_ids.product_uom_qty, 2.0)

        # both shipments: one canonical message each, keyed <webhook-id> and <webhook-id>#2
        delivery = self.post_legacy_order_shipped(full)
        messages = self.env["logistics.message"].browse(delivery.json["message_ids"])
        self.assertEqual(
            messages.mapped(lambda m: (m.idempotency_key, m.message_type, m.external_id)),
            [
                (delivery.msg_id, "shipment.confirmed", first),
                (f"{delivery.msg_id}#2", "shipment.confirmed", second),
            ],
        )
        run_jobs(self.env)
        self.assertEqual(
            set(messages.mapped("state")), {"processed"}, messages.mapped("error_message")
        )
        self.assertIn("already applied", messages[0].job_id.result)
        self.assertEqual((backorder.state, backorder.logistics_tracking_ref), ("done", "1ZTWO"))
        self.assertEqual(backorder.move_ids.quantity, 2.0)
        self.assertEqual(len(self.shipments(picking | backorder)), 2)

        # an order whose shipments are all still in process: stored as ignored
        other = self.released([(self.desk, 1)])
        order = self.shipbob_api("GET", f"/order/{other.logistics_external_id}").json()
        msg = self.stored(self.post_legacy_order_shipped(order).json)
        self.assertEqual((msg.message_type, msg.state), ("shipbob.order.shipped", "ignored"))
        self.assertIn("has left the warehouse yet", msg.ignore_reason)
        self.assertEqual(other.state, "assigned")

    # shipment status topics ---------------------------------------------------------------
    def test_delivered_and_exception(self):
        picking = self.released([(self.chair, 1)])
        self.sim.ship(picking.name)
        status, answer = self.sim.post_status(picking.name, "delivered")
        self.assertEqual(status, 202, answer)
        self.assertEqual(self.stored(answer).message_type, "shipment.status")
        run_jobs(self.env)
        self.assertEqual(self.stored(answer).state, "processed", self.stored(answer).error_message)
        self.assertEqual(picking.logistics_shipment_status, "delivered")
        self.assertFalse(picking.activity_ids)

        other = self.released([(self.desk, 1)])
        status, answer = self.sim.post_status(
            other.name, "exception", reason="Out of stock at the fulfillment center"
        )
        self.assertEqual(status, 202, answer)
        run_jobs(self.env)
        self.assertEqual(self.stored(answer).state, "processed", self.stored(answer).error_message)
        self.assertEqual(other.logistics_shipment_status, "exception")
        activity = other.activity_ids
        self.assertEqual(len(activity), 1)
        self.assertIn("exception", activity.summary)
        self.assertIn("Out of stock at the fulfillment center", str(activity.note))

    # topics that are ignored or refused ---------------------------------------------------
    def test_ignored_topic_is_stored_as_ignored(self):
        delivery = self.sim.post_shipbob("wro.completed", {"id": 5501, "status": "Completed"})
        status, answer = delivery
        self.assertEqual(status, 202, answer)
        msg = self.stored(answer)
        self.assertEqual(
            (msg.message_type, msg.state, msg.external_id),
            ("shipbob.wro.completed", "ignored", "5501"),
        )
        self.assertIn("receiving orders", msg.ignore_reason)
        self.assertEqual(json.loads(msg._clear_text("raw_payload"))["id"], 5501)
        self.assertFalse(msg.job_id)
        status, again = self.sim.redeliver(delivery)
        self.assertEqual((status, again["message_id"], again["duplicate"]), (202, msg.id, True))

    def test_unknown_topic_and_unusable_payloads_are_refused_and_stored(self):
        status, answer = self.sim.post_shipbob("warehouse.teleported", {"id": 1})
        self.assertEqual(status, 422, answer)
        msg = self.stored(answer)
        self.assertEqual(
            (msg.message_type, msg.state, msg.error_category),
            ("shipbob.warehouse.teleported", "failed", "validation"),
        )
        self.assertIn("Unknown ShipBob webhook topic 'warehouse.teleported'", msg.error_message)
        self.assertEqual(answer["path"], "headers.x-webhook-topic")

        # no topic header at all
        body = json.dumps({"id": 2})
        status, answer = self.sim.send_raw(body, self.sim.sign(body))
        self.assertEqual(status, 422, answer)
        self.assertEqual(self.stored(answer).message_type, "shipbob.unknown")
        self.assertIn("has no topic", answer["error"])

        # a shipment listing no products cannot confirm anything
        picking = self.released([(self.chair, 1)])
        shipment = {"id": 77, "reference_id": picking.name, "status": "Completed", "products": []}
        status, answer = self.sim.post_shipbob("order.shipped", shipment)
        self.assertEqual(status, 422, answer)
        msg = self.stored(answer)
        self.assertEqual((msg.message_type, msg.state), ("shipbob.order.shipped", "failed"))
        self.assertIn(
            f"Order {picking.name}: ShipBob shipment 77 lists no products", msg.error_message
        )

        # mapped, but the canonical payload breaks its schema: the path says where
        shipment["products"] = [
            {"reference_id": "CHAIR-1", "inventory_items": [{"id": 1, "quantity": -1}]}
        ]
        status, answer = self.sim.post_shipbob("order.shipped", shipment)
        self.assertEqual(status, 422, answer)
        msg = self.stored(answer)
        self.assertEqual((msg.message_type, msg.state), ("shipment.confirmed", "failed"))
        self.assertIn("lines[0].quantity", answer["path"])
        self.assertEqual(picking.state, "assigned")

    def test_bad_signature_or_stale_timestamp_401_and_nothing_stored(self):
        picking = self.released([(self.chair, 1)])
        before = self.env["logistics.message"].search_count([("direction", "=", "in")])
        body = json.dumps({"id": 3, "reference_id": picking.name})
        headers = self.sim.sign(body)
        headers["x-webhook-topic"] = "order.shipped"
        headers["webhook-signature"] = "v1,AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA="
        status, _answer = self.sim.send_raw(body, headers)
        self.assertEqual(status, 401)
        status, _answer = self.sim.ship(picking.name, timestamp=int(time.time()) - 3600)
        self.assertEqual(status, 401)
        self.assertEqual(
            self.env["logistics.message"].search_count([("direction", "=", "in")]), before
        )
        self.assertEqual(picking.state, "assigned")

    # polling fallback ---------------------------------------------------------------------
    def test_polling_applies_a_missed_shipment_and_a_late_webhook_changes_nothing(self):
        picking = self.released([(self.chair, 2)])
        self.miss_webhooks()
        missed = self.sim.ship(picking.name, tracking_ref="1ZLATE")
        self.assertIsNone(missed.status)
        start = len(self.sim.requests)
        self.assertEqual(self.poll(), 1)
        [request] = self.sim.requests[start:]
        self.assertIn("HasTracking=true", request.path)
        shipment_id = str(self.sim.orders[picking.name]["shipments"][-1]["id"])
        [polled] = self.env["logistics.message"].search(
            [("backend_id", "=", self.backend.id), ("idempotency_key", "=", f"poll:{shipment_id}")]
        )
        self.assertEqual(polled.message_type, "shipment.confirmed")
        run_jobs(self.env)
        self.assertEqual(polled.state, "processed", polled.error_message)
        self.assertEqual((picking.state, picking.logistics_tracking_ref), ("done", "1ZLATE"))
        self.assertEqual(self.poll(), 0)  # nothing left open

        # ShipBob's retry of the missed webhook finally arrives: stored, changes nothing
        self.hooks_on()
        status, answer = self.sim.redeliver(missed)
        self.assertEqual(status, 202, answer)
        run_jobs(self.env)
        late = self.stored(answer)
        self.assertEqual(late.state, "processed", late.error_message)
        self.assertIn("already applied", late.job_id.result)
        self.assertEqual(len(self.shipments(picking)), 1)
        self.assertEqual(picking.move_ids.quantity, 2.0)
        self.assertFalse(picking.backorder_ids)

    def test_polling_skips_what_webhooks_applied(self):
        picking = self.released([(self.chair, 3)])
        status, answer = self.sim.ship(picking.name, quantities={"CHAIR-1": 1})
        self.assertEqual(status, 202, answer)
        run_jobs(self.env)
        backorder = picking.backorder_ids
        self.assertEqual(picking.state, "done")
        self.assertNotIn(backorder.state, ("done", "cancel"))
        # the backorder keeps the order open: the poll asks, sees the shipment applied already
        start = len(self.sim.requests)
        self.assertEqual(self.poll(), 0)
        self.assertEqual(self.calls_since(start), [("GET", "/2026-01/order")])
        self.assertFalse(
            self.env["logistics.message"].search(
                [("backend_id", "=", self.backend.id), ("idempotency_key", "=like", "poll:%")]
            )
        )
        # the rest ships while webhooks are down: the poll brings exactly that shipment
        self.miss_webhooks()
        self.sim.ship(picking.name)
        self.assertEqual(self.poll(), 1)
        run_jobs(self.env)
        self.assertEqual(backorder.state, "done")
        self.assertEqual(backorder.move_ids.quantity, 2.0)
        self.assertEqual(len(self.shipments(picking | backorder)), 2)

    def test_polling_failure_is_reported_and_retried_next_time(self):
        picking = self.released([(self.chair, 1)])
        self.miss_webhooks()
        self.sim.ship(picking.name)
        self.sim.fail_next(503)
        self.assertEqual(self.poll(), 0)
        note = self.env["mail.message"].search(
            [("model", "=", "logistics.backend"), ("res_id", "=", self.backend.id)],
            order="id desc",
            limit=1,
        )
        self.assertIn("Polling for shipped orders failed", note.body)
        self.assertIn("ShipBob is unavailable (HTTP 503)", note.body)
        self.assertEqual(self.poll(), 1)
        run_jobs(self.env)
        self.assertEqual(picking.state, "done")
