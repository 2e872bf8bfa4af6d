from odoo.exceptions import UserError
from odoo.tests import TransactionCase

from .common import ThreePLFixture, run_jobs


class TestRelease(ThreePLFixture, TransactionCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.setup_3pl()
        cls.out_of_stock = cls.env["product.product"].create(
            {"name": "Lamp", "default_code": "LAMP-1", "is_storable": True}
        )

    def release_messages(self, picking, message_type="order.release"):
        return self.env["logistics.message"].search(
            [
                ("res_model", "=", "stock.picking"),
                ("res_id", "in", picking.ids),
                ("message_type", "=", message_type),
            ]
        )

    def test_reserved_delivery_is_released_once_with_canonical_payload(self):
        picking = self.make_delivery([(self.chair, 3), (self.desk, 1)])
        self.assertEqual(picking.state, "assigned")
        self.assertEqual(picking.logistics_backend_id, self.backend)
        self.assertEqual(picking.logistics_state, "released")
        [msg] = self.release_messages(picking)
        self.assertTrue(msg.ack_expected)
        data = msg._get_payload()
        self.assertEqual(data["order_ref"], picking.name)
        self.assertEqual(data["warehouse_code"], "E3PL")
        self.assertEqual(data["ship_to"]["zip"], "12345")
        self.assertEqual(data["ship_to"]["country_code"], "US")
        self.assertEqual(
            [(line["sku"], line["quantity"], line["uom"]) for line in data["lines"]],
            [("CHAIR-1", 3.0, "EA"), ("DESK-1", 1.0, "EA")],
        )
        # re-triggering does not send twice
        picking.action_assign()
        picking._logistics_release_ready()
        self.env["stock.picking"]._cron_logistics_release_ready()
        self.assertEqual(len(self.release_messages(picking)), 1)
        run_jobs(self.env)
        self.assertEqual(msg.state, "sent")
        self.assertIn(picking.name, self.sim.orders)
        self.assertEqual(
            picking.logistics_external_id, self.sim.orders[picking.name]["external_id"]
        )

    def test_unreserved_delivery_waits_for_the_trigger(self):
        picking = self.make_delivery([(self.out_of_stock, 1)])
        self.assertEqual(picking.state, "confirmed")
        self.assertEqual(picking.logistics_state, "none")
        self.backend.release_trigger = "confirmed"
        picking._logistics_release_ready()
        self.assertEqual(picking.logistics_state, "queued")
        self.run_release_jobs()
        self.assertEqual(picking.logistics_state, "released")

    def release_jobs(self):
        return self.env["queue.job"].search(
            [
                ("identity_key", "=", f"logistics.release:{self.backend.id}"),
                ("state", "=", "pending"),
            ]
        )

    def test_confirming_queues_the_release_for_one_job_after_the_transaction(self):
        pickings = self.env["stock.picking"].union(
            *(self.make_delivery([(self.chair, 1)], confirm=False) for _i in range(3))
        )
        for picking in pickings:  # one by one, as users and sale orders confirm
            picking.action_confirm()
        self.assertEqual(set(pickings.mapped("logistics_state")), {"queued"})
        self.assertEqual(set(pickings.mapped("logistics_status")), {"Release queued"})
        self.assertFalse(self.release_messages(pickings), "nothing built while confirming")
        job = self.release_jobs()
        self.assertEqual(len(job), 1, "one waiting release job for the backend")
        self.assertEqual(job.channel, "root.logistics.3pl")
        [result] = self.run_release_jobs()
        self.assertEqual(result, "3 released to Acme Fulfilment; 0 no longer due")
        self.assertEqual(set(pickings.mapped("logistics_state")), {"released"})
        for picking in pickings:
            self.assertEqual(len(self.release_messages(picking)), 1)
            self.assertEqual(picking.logistics_release_message_id.state, "pending")
        self.assertFalse(self.release_jobs())

    def test_transfer_cancelled_while_queued_is_not_released(self):
        kept, cancelled = (self.make_delivery([(self.chair, 1)], confirm=False) for _i in range(2))
        (kept | cancelled).action_confirm()
        cancelled.action_cancel()
        [result] = self.run_release_jobs()
        self.assertEqual(result, "1 released to Acme Fulfilment; 1 no longer due")
        self.assertEqual(kept.logistics_state, "released")
        self.assertEqual((cancelled.state, cancelled.logistics_state), ("cancel", "none"))
        self.assertFalse(self.release_messages(cancelled))

    def test_release_jobs_take_a_batch_each_and_queue_the_rest(self):
        self.patch(type(self.env["stock.picking"]), "RELEASE_BATCH", 2)
        pickings = self.env["stock.picking"].union(
            *(self.make_delivery([(self.desk, 1)], confirm=False) for _i in range(3))
        )
        pickings.action_confirm()
        results = self.run_release_jobs()
        self.assertEqual(
            results,
            [
                "2 released to Acme Fulfilment; 0 no longer due",
                "1 released to Acme Fulfilment; 0 no longer due",
            ],
        )
        self.assertEqual(set(pickings.mapped("logistics_state")), {"released"})

    def test_cron_queues_a_job_for_deliveries_whose_release_job_was_lost(self):
        picking = self.make_delivery([(self.chair, 1)], confirm=False)
        picking.action_confirm()
        self.release_jobs().unlink()  # e.g. purged by hand, or lost with a worker
        self.env["stock.picking"]._cron_logistics_release_ready()
        self.assertEqual(len(self.release_jobs()), 1)
        self.run_release_jobs()
        self.assertEqual(picking.logistics_state, "released")

    def test_release_now_from_the_queue(self):
        picking = self.make_delivery([(self.chair, 1)], confirm=False)
        picking.action_confirm()
        picking.action_logistics_release()  # the button, before the job runs
        self.assertEqual(picking.logistics_state, "released")
        [result] = self.run_release_jobs()
        self.assertEqual(result, "0 released to Acme Fulfilment; 0 no longer due")
        self.assertEqual(len(self.release_messages(picking)), 1)

    def test_other_warehouses_are_not_released(self):
        main = self.env.ref("stock.warehouse0")
        self.env["stock.quant"]._update_available_quantity(self.chair, main.lot_stock_id, 5)
        picking = self.make_delivery([(self.chair, 1)], warehouse=main)
        self.assertFalse(picking.logistics_backend_id)
        self.assertEqual(picking.logistics_state, "none")

    def test_product_mapping_and_uom_conversion(self):
        dozen = self.env.ref("uom.product_uom_dozen")
        self.env["logistics.product.mapping"].create(
            {
                "backend_id": self.backend.id,
                "product_id": self.chair.id,
                "partner_sku": "ACME-CH-12",
                "partner_uom_id": dozen.id,
            }
        )
        picking = self.make_delivery([(self.chair, 24)])
        line = self.release_messages(picking)._get_payload()["lines"][0]
        self.assertEqual((line["sku"], line["quantity"], line["uom"]), ("ACME-CH-12", 2.0, "DZ"))

    def test_missing_reference_is_a_clear_error(self):
        nameless = self.env["product.product"].create({"name": "No code", "is_storable": True})
        self.env["stock.quant"]._update_available_quantity(nameless, self.stock_location, 5)
        with self.assertRaisesRegex(UserError, "no internal reference"):
            self.make_delivery([(nameless, 1)])

    def test_cancel_sends_order_cancel(self):
        picking = self.make_delivery([(self.chair, 1)])
        picking.action_cancel()
        [cancel] = self.release_messages(picking, "order.cancel")
        self.assertEqual(cancel._get_payload()["order_ref"], picking.name)
        self.assertEqual(picking.logistics_state, "cancel_requested")
        run_jobs(self.env)
        self.assertEqual(cancel.state, "sent")

    def test_cancel_of_unreleased_delivery_sends_nothing(self):
        picking = self.make_delivery([(self.out_of_stock, 1)])
        picking.action_cancel()
        self.assertFalse(self.release_messages(picking, "order.cancel"))

    def test_change_sends_order_update(self):
        picking = self.make_delivery([(self.chair, 2)])
        picking.move_ids.product_uom_qty = 5
        [update] = self.release_messages(picking, "order.update")
        self.assertEqual(update._get_payload()["lines"][0]["quantity"], 5.0)
        other = self.env["res.partner"].create(
            {
                "name": "New address",
                "street": "9 Elm",
                "city": "Shelbyville",
                "zip": "54321",
                "country_id": self.env.ref("base.us").id,
            }
        )
        picking.partner_id = other
        updates = self.release_messages(picking, "order.update")
        self.assertEqual(len(updates), 2)
        self.assertEqual(updates[0]._get_payload()["ship_to"]["city"], "Shelbyville")

    def test_change_refused_when_3pl_takes_no_updates(self):
        self.backend.accepts_updates = False
        picking = self.make_delivery([(self.chair, 2)])
        with self.assertRaisesRegex(UserError, "does not accept changes"):
            picking.move_ids.product_uom_qty = 5

    def test_release_failure_lands_in_exception_queue_with_the_order(self):
        self.sim.fail_next(400, times=1)
        picking = self.make_delivery([(self.chair, 1)])
        run_jobs(self.env)
        [msg] = self.release_messages(picking)
        self.assertEqual(msg.state, "failed")
        self.assertEqual(msg.record_ref, picking)
        self.assertEqual(msg.subject, f"Release of {picking.name} to Acme Fulfilment")
        self.assertEqual(
            [(a.number, a.outcome, a.http_status) for a in msg.attempt_ids.sorted("number")],
            [(1, "failed", 400)],
        )
        msg.action_retry()
        run_jobs(self.env)
        self.assertEqual(msg.state, "sent")
