"""No booking is lost: when the transaction that validated a delivery (and booked it with
the carrier) rolls back, a void of the booking is queued in a transaction of its own, sent
like any message, and then shown in the exception queue."""

from odoo.tests import tagged

from odoo.addons.logistics_integration_base.tests.common import LogisticsHttpCase, run_jobs

from .common import CarrierFixture


@tagged("post_install", "-at_install")
class TestBookingSafety(CarrierFixture, LogisticsHttpCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.setup_carrier()

    def test_a_rolled_back_validation_voids_what_the_carrier_booked(self):
        picking = self.make_delivery([(self.kettle, 1), (self.mixer, 1)])
        self.pack(picking, self.kettle, 2.0)
        self.pack(picking, self.mixer, 3.5)
        for move in picking.move_ids:
            move.quantity = move.product_uom_qty

        def printer_offline(self):
            raise RuntimeError("the warehouse label printer is offline")

        # something fails after the carrier booked, in the same transaction: it rolls back
        self.patch(
            type(self.env["stock.picking"]), "_check_carrier_details_compliance", printer_offline
        )
        with self.assertRaises(RuntimeError), self.env.cr.savepoint():
            picking.button_validate()
        # what the cursor runs once its transaction rolled back (the test transaction itself
        # cannot roll back: the savepoint stands for it)
        self.env.cr.postrollback.run()
        self.env.invalidate_all()
        self.assertEqual(picking.state, "assigned", "the validation rolled back")
        self.assertFalse(picking.logistics_parcel_ids)
        booked = [s for s in self.sim.shipments.values() if s["tracking_code"]]
        self.assertEqual(len(booked), 2, "the carrier had booked both parcels")

        [void] = self.env["logistics.message"].search([("message_type", "=", "carrier.void")])
        self.assertEqual(void.state, "pending", "queued in a transaction of its own")
        self.assertEqual(void.record_ref, picking)
        self.assertEqual(
            sorted(void._get_payload()["tracking_numbers"]),
            sorted(s["tracking_code"] for s in booked),
        )
        run_jobs(self.env)
        self.assertEqual(sorted(self.sim.refunds), sorted(s["id"] for s in booked))
        self.assertEqual((void.state, void.error_category), ("failed", "business"))
        self.assertIn(
            "the booking was voided at the carrier, so nothing is billed", void.error_message
        )
        self.assertIn(picking.name, void.error_message)
        exceptions = self.env["logistics.message"].search([("state", "in", ("failed", "dead"))])
        self.assertIn(void, exceptions)

    def test_a_committed_validation_queues_no_void(self):
        picking = self.make_delivery([(self.kettle, 1)])
        for move in picking.move_ids:
            move.quantity = move.product_uom_qty
        self.assertIs(picking.button_validate(), True)
        self.assertEqual(picking.state, "done")
        self.assertFalse(
            self.env["logistics.message"].search([("message_type", "=", "carrier.void")])
        )
        self.assertFalse(self.sim.refunds)
