"""Attacks on EasyPost's refund lifecycle: the same news twice, news about another
company's parcel, and a void EasyPost acted on while Odoo's record of it was rolled back."""

from odoo.exceptions import UserError
from odoo.tests import tagged

from odoo.addons.logistics_integration_base.tests.common import run_jobs

from .test_easypost_refunds import RefundCase


@tagged("post_install", "-at_install")
class TestAttackRefunds(RefundCase):
    def test_a_void_rolled_back_in_odoo_after_easypost_acted(self):
        """Cancelling the shipment asked EasyPost for the refund, then something later in
        the same request failed: Odoo still shows the parcel booked. EasyPost's refund
        must void it anyway, and say so: its label is no longer valid."""
        picking, parcel = self.booked()
        with self.assertRaises(UserError), self.env.cr.savepoint():
            picking.cancel_shipment()
            raise UserError(self.env._("a later step of the same request failed"))
        self.assertEqual(parcel.state, "booked", "Odoo's record undone")
        self.assertEqual(self.sim.refunds, [parcel.shipment_ref], "EasyPost acted")
        self.post(self.sim.settle_refund(parcel.shipment_ref, "refunded"))
        self.assertEqual(parcel.state, "voided")
        self.assertFalse(picking.carrier_tracking_ref, "no valid label to ship with")
        [activity] = picking.activity_ids
        self.assertIn(parcel.tracking_number, activity.note)
        self.assertIn("book the delivery again", activity.note)
        self.assertIn("Do not ship with it", picking.message_ids[0].body)

    def test_the_same_refund_twice_changes_nothing(self):
        picking, parcel = self.booked()
        picking.cancel_shipment()
        event = self.sim.settle_refund(parcel.shipment_ref, "refunded")
        self.post(event)
        notes = len(picking.message_ids)
        self.post(event)  # EasyPost retrying the same event
        self.env["logistics.backend"]._cron_poll_carrier_tracking()  # and the poll seeing it
        run_jobs(self.env)
        self.assertEqual(parcel.state, "voided")
        self.assertEqual(len(picking.message_ids), notes, "told once")
        self.assertFalse(picking.activity_ids)
