"""A void is a refund EasyPost settles later: the parcel shows *Void requested* until the
``refund.successful`` event or a poll of the account's refunds says ``refunded``
(*Voided*) or ``rejected`` (*Booked* again, the person who asked is told)."""

from odoo.exceptions import UserError
from odoo.tests import tagged

from odoo.addons.logistics_integration_base.tests.common import LogisticsHttpCase, run_jobs

from .common import CarrierFixture

SECRET = "refund-webhook-secret"


class RefundCase(CarrierFixture, LogisticsHttpCase):
    """A carrier backend taking EasyPost's signed webhooks; a booked kettle; news posted and
    applied."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.setup_carrier(webhook_scheme="easypost_hmac", webhook_secret=SECRET)

    def booked(self):
        picking = self.make_delivery([(self.kettle, 1)])
        self.validate(picking)
        return picking, picking.logistics_parcel_ids

    def post(self, event):
        answer = self.post_easypost_event(event, SECRET)
        self.assertEqual(answer.status_code, 202, answer.text)
        run_jobs(self.env)


@tagged("post_install", "-at_install")
class TestEasyPostRefunds(RefundCase):
    def test_requested_then_refunded_by_webhook(self):
        picking, parcel = self.booked()
        picking.cancel_shipment()
        self.assertEqual(parcel.state, "void_requested")
        self.assertEqual(self.sim.refunds, [parcel.shipment_ref])
        self.assertFalse(picking.carrier_tracking_ref)
        self.post(self.sim.settle_refund(parcel.shipment_ref, "refunded"))
        self.assertEqual(parcel.state, "voided")
        self.assertIn("refunded the postage of parcel", picking.message_ids[0].body)

    def test_requested_then_rejected_seen_by_polling(self):
        picking, parcel = self.booked()
        picking.cancel_shipment()
        self.env["logistics.backend"]._cron_poll_carrier_tracking()
        run_jobs(self.env)
        self.assertEqual(parcel.state, "void_requested", "nothing decided yet")
        self.assertIsNone(self.sim.settle_refund(parcel.shipment_ref, "rejected"), "no event")
        self.env["logistics.backend"]._cron_poll_carrier_tracking()
        run_jobs(self.env)
        self.assertEqual(parcel.state, "booked")
        self.assertEqual(picking.carrier_tracking_ref, parcel.tracking_number)
        [activity] = picking.activity_ids
        self.assertEqual(activity.user_id, self.env.user, "who asked for the void")
        self.assertIn("Ship the goods with this label", activity.note)
        self.assertTrue(any(r.path.startswith("/v2/refunds?") for r in self.sim.requests), "polled")

    def test_a_refund_done_at_once_voids_at_once(self):
        self.sim.refund_at_once = "refunded"
        picking, parcel = self.booked()
        picking.cancel_shipment()
        self.assertEqual(parcel.state, "voided")

    def test_a_refund_refused_at_once_keeps_the_parcel_booked(self):
        self.sim.refund_at_once = "rejected"
        picking, parcel = self.booked()
        with self.assertRaisesRegex(UserError, "refused to void the shipment of"):
            picking.cancel_shipment()
        self.assertEqual(parcel.state, "booked")

    def test_booked_again_while_the_void_is_requested(self):
        picking, parcel = self.booked()
        picking.cancel_shipment()
        picking.send_to_shipper()
        again = picking.logistics_parcel_ids - parcel
        self.assertEqual(again.state, "booked")
        self.assertEqual(parcel.state, "void_requested")
        # the first refund rejected: two labels booked, the operator is told which
        self.sim.settle_refund(parcel.shipment_ref, "rejected")
        self.env["logistics.backend"]._cron_poll_carrier_tracking()
        run_jobs(self.env)
        self.assertEqual(parcel.state, "booked")
        [activity] = picking.activity_ids
        self.assertIn(f"was booked again meanwhile ({again.tracking_number})", activity.note)
