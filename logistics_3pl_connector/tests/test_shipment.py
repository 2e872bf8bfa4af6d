from odoo.tests import TransactionCase, tagged

from odoo.addons.logistics_integration_base.tests.common import LogisticsHttpCase

from .common import ThreePLFixture, run_jobs


def shipment(order_ref, lines, ref="SHP-1", **extra):
    data = {
        "order_ref": order_ref,
        "shipment_ref": ref,
        "shipped_at": "2026-11-22T15:00:00Z",
        "carrier": {"code": "UPS", "service": "GROUND"},
        "tracking_ref": "1Z999",
        "lines": lines,
    }
    data.update(extra)
    return data


class TestShipmentFlows(ThreePLFixture, TransactionCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.setup_3pl()

    def released(self, lines):
        picking = self.make_delivery(lines)
        run_jobs(self.env)
        self.assertEqual(picking.logistics_release_message_id.state, "sent")
        return picking

    def test_ack_accepted(self):
        picking = self.released([(self.chair, 2)])
        msg = self.process_inbound(
            "order.ack",
            {"order_ref": picking.name, "status": "accepted", "external_order_id": "W-77"},
        )
        self.assertEqual(msg.state, "processed")
        self.assertEqual(msg.record_ref, picking)
        self.assertEqual(picking.logistics_state, "accepted")
        self.assertEqual(picking.logistics_external_id, "W-77")
        self.assertEqual(picking.logistics_release_message_id.state, "acknowledged")

    def test_ack_rejected_lands_in_exception_queue_linked_to_picking(self):
        picking = self.released([(self.chair, 2)])
        msg = self.process_inbound(
            "order.ack",
            {"order_ref": picking.name, "status": "rejected", "reason": "ZIP code not serviceable"},
        )
        self.assertEqual((msg.state, msg.error_category), ("failed", "business"))
        self.assertIn(f"rejected order {picking.name}: ZIP code not serviceable", msg.error_message)
        self.assertEqual(msg.record_ref, picking, "the exception points at the delivery")
        self.assertEqual(picking.logistics_state, "rejected")
        self.assertEqual(picking.logistics_reject_reason, "ZIP code not serviceable")
        # fix and release again: a new release message with a new key
        picking.action_logistics_release()
        releases = self.env["logistics.message"].search(
            [
                ("res_model", "=", "stock.picking"),
                ("res_id", "=", picking.id),
                ("message_type", "=", "order.release"),
            ]
        )
        self.assertEqual(len(releases), 2)
        self.assertEqual(len(set(releases.mapped("idempotency_key"))), 2)
        self.assertEqual(picking.logistics_state, "released")

    def test_full_shipment_validates_the_picking(self):
        picking = self.released([(self.chair, 2), (self.desk, 1)])
        msg = self.process_inbound(
            "shipment.confirmed",
            shipment(
                picking.name, [{"sku": "CHAIR-1", "quantity": 2}, {"sku": "DESK-1", "quantity": 1}]
            ),
        )
        self.assertEqual(msg.state, "processed", msg.error_message)
        self.assertEqual(picking.state, "done")
        self.assertFalse(picking.backorder_ids)
        self.assertEqual(picking.logistics_state, "shipped")
        self.assertEqual(picking.logistics_tracking_ref, "1Z999")
        self.assertEqual(picking.logistics_carrier_code, "UPS")
        self.assertEqual(picking.move_ids.mapped("quantity"), [2.0, 1.0])
        self.assertEqual(
            self.env["stock.quant"]._get_available_quantity(self.chair, self.stock_location), 98
        )

    def test_partial_shipment_creates_backorder_then_second_shipment_closes_it(self):
        picking = self.released([(self.chair, 5), (self.desk, 2)])
        self.process_inbound(
            "shipment.confirmed",
            shipment(picking.name, [{"sku": "CHAIR-1", "quantity": 3}], ref="SHP-A"),
        )
        self.assertEqual(picking.state, "done")
        backorder = picking.backorder_ids
        self.assertEqual(len(backorder), 1)
        self.assertEqual(
            sorted((m.product_id.default_code, m.product_uom_qty) for m in backorder.move_ids),
            [("CHAIR-1", 2.0), ("DESK-1", 2.0)],
        )
        self.assertEqual(backorder.logistics_order_ref, picking.name, "the 3PL keeps its reference")
        self.assertEqual(backorder.logistics_state, "accepted")
        # the second shipment uses the original order reference and lands on the backorder
        msg = self.process_inbound(
            "shipment.confirmed",
            shipment(
                picking.name,
                [{"sku": "CHAIR-1", "quantity": 2}, {"sku": "DESK-1", "quantity": 2}],
                ref="SHP-B",
            ),
        )
        self.assertEqual(msg.state, "processed", msg.error_message)
        self.assertEqual(msg.record_ref, backorder)
        self.assertEqual(backorder.state, "done")
        self.assertFalse(backorder.backorder_ids)

    def test_partial_shipment_cancels_rest_per_policy(self):
        self.backend.backorder_policy = "cancel"
        picking = self.released([(self.chair, 5)])
        self.process_inbound(
            "shipment.confirmed", shipment(picking.name, [{"sku": "CHAIR-1", "quantity": 3}])
        )
        self.assertEqual(picking.state, "done")
        self.assertFalse(picking.backorder_ids)
        self.assertEqual(picking.move_ids.filtered(lambda m: m.state == "done").quantity, 3)

    def test_complete_flag_closes_the_order(self):
        picking = self.released([(self.chair, 5)])
        self.process_inbound(
            "shipment.confirmed",
            shipment(picking.name, [{"sku": "CHAIR-1", "quantity": 4}], complete=True),
        )
        self.assertFalse(picking.backorder_ids)

    def test_lots_are_applied(self):
        picking = self.released([(self.serum, 5)])
        self.process_inbound(
            "shipment.confirmed",
            shipment(
                picking.name,
                [
                    {
                        "sku": "SERUM-1",
                        "quantity": 5,
                        "lots": [{"lot": "L-100", "quantity": 3}, {"lot": "L-200", "quantity": 2}],
                    }
                ],
            ),
        )
        self.assertEqual(picking.state, "done")
        lots = {ml.lot_id.name: ml.quantity for ml in picking.move_line_ids}
        self.assertEqual(lots, {"L-100": 3, "L-200": 2})

    def test_missing_lot_is_a_business_exception(self):
        picking = self.released([(self.serum, 1)])
        msg = self.process_inbound(
            "shipment.confirmed", shipment(picking.name, [{"sku": "SERUM-1", "quantity": 1}])
        )
        self.assertEqual((msg.state, msg.error_category), ("failed", "business"))
        self.assertIn("reported no lot", msg.error_message)
        self.assertNotEqual(picking.state, "done", "nothing half-applied")

    def test_same_shipment_twice_changes_nothing(self):
        picking = self.released([(self.chair, 5)])
        data = shipment(picking.name, [{"sku": "CHAIR-1", "quantity": 3}])
        self.process_inbound("shipment.confirmed", data)
        backorder = picking.backorder_ids
        again = self.process_inbound("shipment.confirmed", data)  # e.g. by file and by webhook
        self.assertEqual(again.state, "processed")
        self.assertIn("already applied", again.job_id.result)
        self.assertEqual(backorder.state, "assigned")
        self.assertEqual(backorder.move_ids.quantity, 2)

    def test_confirmation_before_acknowledgement_still_applies(self):
        picking = self.released([(self.chair, 1)])
        self.process_inbound(
            "shipment.confirmed", shipment(picking.name, [{"sku": "CHAIR-1", "quantity": 1}])
        )
        ack = self.process_inbound("order.ack", {"order_ref": picking.name, "status": "accepted"})
        self.assertEqual(ack.state, "processed")
        self.assertEqual(picking.logistics_state, "shipped", "a late ack does not move it back")

    def test_unknown_order_is_replayed_once_it_exists(self):
        msg = self.process_inbound(
            "shipment.confirmed", shipment("E3PL/OUT/99999", [{"sku": "CHAIR-1", "quantity": 1}])
        )
        self.assertEqual((msg.state, msg.error_category), ("failed", "business"))
        self.assertIn("Unknown order E3PL/OUT/99999", msg.error_message)
        picking = self.released([(self.chair, 1)])
        picking.logistics_order_ref = "E3PL/OUT/99999"  # the order the 3PL meant now exists
        msg.action_retry()
        run_jobs(self.env)
        self.assertEqual(msg.state, "processed", msg.error_message)
        self.assertEqual(picking.state, "done")

    def test_unknown_sku_is_a_business_exception(self):
        picking = self.released([(self.chair, 1)])
        msg = self.process_inbound(
            "shipment.confirmed", shipment(picking.name, [{"sku": "NOPE-9", "quantity": 1}])
        )
        self.assertEqual(msg.error_category, "business")
        self.assertIn("NOPE-9", msg.error_message)

    def test_mapped_partner_sku_and_unit(self):
        dozen = self.env.ref("uom.product_uom_dozen")
        self.env["logistics.product.mapping"].create(
            {
                "backend_id": self.backend.id,
                "product_id": self.chair.id,
                "partner_sku": "ACME-CH-12",
                "partner_uom_id": dozen.id,
            }
        )
        picking = self.released([(self.chair, 24)])
        self.process_inbound(
            "shipment.confirmed", shipment(picking.name, [{"sku": "ACME-CH-12", "quantity": 1}])
        )
        self.assertEqual(picking.move_ids.filtered(lambda m: m.state == "done").quantity, 12)
        self.assertEqual(picking.backorder_ids.move_ids.product_uom_qty, 12)

    def test_status_exception_schedules_an_activity(self):
        picking = self.released([(self.chair, 1)])
        self.process_inbound(
            "shipment.status",
            {"order_ref": picking.name, "status": "exception", "reason": "Address not found"},
        )
        self.assertEqual(picking.logistics_shipment_status, "exception")
        self.assertIn("Address not found", picking.activity_ids.note or "")

    def test_sla_flags_unacknowledged_releases_on_the_dashboard(self):
        picking = self.released([(self.chair, 1)])
        release = picking.logistics_release_message_id
        self.env.flush_all()
        self.env.cr.execute(
            "UPDATE logistics_message"
            " SET create_date = now() at time zone 'utc' - interval '2 hours'"
            " WHERE id = %s",
            [release.id],
        )
        release.invalidate_recordset()
        self.env["logistics.message"]._cron_sla_check()
        self.assertTrue(release.sla_breached)
        self.backend.invalidate_recordset()
        self.assertEqual(self.backend.count_late, 1)
        action = self.backend.action_view_awaiting_ack()
        self.assertIn(release, self.env["logistics.message"].search(action["domain"]))


@tagged("post_install", "-at_install")
class TestWebhookEndToEnd(ThreePLFixture, LogisticsHttpCase):
    """The 3PL simulator posts signed webhooks into Odoo's real route."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.setup_3pl(code="acme-e2e")

    def setUp(self):
        super().setUp()
        self.sim.webhook_url = self.base_url() + "/logistics/webhook/acme-e2e"

    def test_release_ack_ship_over_http(self):
        picking = self.make_delivery([(self.chair, 4)])
        run_jobs(self.env)
        self.assertIn(picking.name, self.sim.orders)
        status, answer = self.sim.acknowledge(picking.name)
        self.assertEqual(status, 202, answer)
        status, answer = self.sim.ship(
            picking.name, quantities={"CHAIR-1": 3}, tracking_ref="1ZE2E"
        )
        self.assertEqual(status, 202, answer)
        run_jobs(self.env)
        self.assertEqual(picking.state, "done")
        self.assertEqual(picking.logistics_tracking_ref, "1ZE2E")
        self.assertEqual(picking.backorder_ids.move_ids.product_uom_qty, 1)
        messages = self.env["logistics.message"].search(
            [("backend_id", "=", self.backend.id), ("direction", "=", "in")]
        )
        self.assertEqual(
            sorted(messages.mapped("message_type")), ["order.ack", "shipment.confirmed"]
        )
        self.assertEqual(set(messages.mapped("state")), {"processed"})
