"""Deliveries booked through the carrier connector (EasyPost-shaped simulator on loopback),
tracked by polling to delivered: the delivery milestone bills once per rule, whatever the
news says twice or a message is replayed; no proof of delivery or an open exception makes
it wait for approval."""

from datetime import datetime, timedelta

from odoo.exceptions import UserError
from odoo.tests import TransactionCase

from odoo.addons.logistics_carrier_connector.tests.common import CarrierFixture
from odoo.addons.logistics_integration_base.tests.common import run_jobs

from .common import BillingMixin


def at(hours):
    return (datetime(2026, 11, 30, 8, 0) + timedelta(hours=hours)).strftime("%Y-%m-%dT%H:%M:%SZ")


class TestDeliveryBilling(BillingMixin, CarrierFixture, TransactionCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.setup_carrier()
        cls.setup_billing()
        cls.fee = cls.rule("Delivery fee", "delivered", cls.delivery_fee, "fixed", 4.5)
        cls.freight = cls.rule(
            "Freight surcharge 10%", "delivered", cls.fuel_fee, "percent_freight", 10.0
        )
        cls.per_kg = cls.rule("Delivery per kg", "delivered", cls.weight_fee, "per_kg", 0.8)

    def booked(self, lines=None):
        picking = self.make_delivery(lines or [(self.kettle, 2)])
        self.validate(picking)
        self.assertTrue(picking.logistics_parcel_ids.tracker_ref)
        return picking

    def news(self, picking, status, hours, **kw):
        for parcel in picking.logistics_parcel_ids:
            self.sim.advance(parcel.tracking_number, status, at(hours), **kw)
        self.env["logistics.backend"]._cron_poll_carrier_tracking()
        run_jobs(self.env)

    def test_a_delivery_with_proof_of_delivery_is_billed_once_per_rule(self):
        picking = self.booked()
        self.news(picking, "in_transit", 1)
        self.assertFalse(self.events(picking_id=picking.id), "not delivered yet")
        self.news(picking, "delivered", 5, signed_by="A. RECEIVER", pod_url="https://pod/1")
        fee, surcharge, weight = self.events(picking_id=picking.id)
        parcel = picking.logistics_parcel_ids
        self.assertEqual(
            (fee.product_id, fee.quantity, fee.price_unit, fee.amount, fee.state),
            (self.delivery_fee, 1.0, 4.5, 4.5, "approved"),
        )
        self.assertGreater(parcel.price, 0)
        self.assertEqual(surcharge.amount, round(parcel.price * 0.10, 2), "10% of the freight")
        self.assertEqual((weight.quantity, weight.price_unit), (4.0, 0.8), "2 kettles of 2 kg")
        self.assertAlmostEqual(weight.amount, 3.2)
        self.assertEqual(fee.partner_id, self.customer)
        self.assertEqual(fee.milestone_key, f"delivered:stock.picking:{picking.id}")
        self.assertEqual(fee.backend_id, self.backend)
        self.assertEqual(fee.message_id.message_type, "tracking.update")
        self.assertEqual(fee.date, parcel.delivered_at)
        self.assertEqual(
            fee.description, f"Delivery fee: delivery {picking.name} ({parcel.tracking_number})"
        )

        # the same news sent again under another event id, and the message that delivered
        # it replayed from the exception queue: nothing more is billed
        original = fee.message_id
        copy, _new = self.env["logistics.message"]._store_inbound(
            self.backend,
            [
                {
                    "message_type": "tracking.update",
                    "idempotency_key": "the-same-news-again",
                    "schema_version": original.schema_version,
                    "payload": original._get_payload(),
                }
            ],
        )
        original.write({"state": "failed", "error_category": "technical"})
        original._retry("an operator")
        run_jobs(self.env)
        self.assertEqual((copy.state, original.state), ("processed", "processed"))
        self.assertEqual(len(self.events(picking_id=picking.id)), 3)

    def test_every_parcel_must_be_delivered(self):
        picking = self.make_delivery([(self.kettle, 1), (self.mixer, 1)])
        self.pack(picking, self.kettle, 2.0)
        self.pack(picking, self.mixer, 3.5)
        self.validate(picking)
        first, second = picking.logistics_parcel_ids
        self.sim.advance(first.tracking_number, "delivered", at(3), signed_by="ANN")
        self.env["logistics.backend"]._cron_poll_carrier_tracking()
        run_jobs(self.env)
        self.assertEqual(first.tracking_state, "delivered")
        self.assertFalse(self.events(picking_id=picking.id), "one parcel is still on its way")
        self.sim.advance(second.tracking_number, "delivered", at(4), signed_by="ANN")
        self.env["logistics.backend"]._cron_poll_carrier_tracking()
        run_jobs(self.env)
        fee = self.events(picking_id=picking.id, product_id=self.delivery_fee.id)
        self.assertEqual(len(fee), 1)
        self.assertEqual(fee.date, second.delivered_at, "the delivery completed with the last")
        weight = self.events(picking_id=picking.id, product_id=self.weight_fee.id)
        self.assertAlmostEqual(weight.quantity, 5.5, msg="both packages' weight")

    def test_no_proof_of_delivery_waits_for_approval(self):
        picking = self.booked()
        self.news(picking, "delivered", 5)  # no signature, no document
        fee, surcharge, weight = self.events(picking_id=picking.id)
        self.assertEqual({fee.state, surcharge.state, weight.state}, {"to_approve"})
        self.assertEqual(fee.approval_reason, "no proof of delivery from the carrier")
        [activity] = fee.activity_ids
        self.assertIn("no proof of delivery", activity.summary)
        self.assertIn(self.customer.name, activity.note)
        self.fee.requires_pod = False  # the rule no longer asks
        other = self.booked()
        self.news(other, "delivered", 6)
        self.assertEqual(self.events(picking_id=other.id, rule_id=self.fee.id).state, "approved")

        feedback = (fee | surcharge).action_approve()
        self.assertEqual((fee.state, fee.decided_by_id), ("approved", self.env.user))
        self.assertEqual(feedback["tag"], "display_notification")
        self.assertIn("2 billing events are approved", feedback["params"]["message"])
        self.assertFalse(fee.activity_ids, "the to-do is done")
        self.assertIn("Approved by", fee.message_ids[0].body)

    def test_an_open_exception_on_the_shipment_waits_for_approval(self):
        picking = self.booked()
        failed = self.env["logistics.message"].create(
            {
                "backend_id": self.backend.id,
                "direction": "in",
                "message_type": "tracking.update",
                "idempotency_key": "broken-scan",
                "state": "failed",
                "error_category": "validation",
                "error_message": "bad scan",
                "subject": "Unreadable scan",
                "res_model": "stock.picking",
                "res_id": picking.id,
            }
        )
        self.news(picking, "delivered", 5, signed_by="A. RECEIVER")
        fee = self.events(picking_id=picking.id, rule_id=self.fee.id)
        self.assertEqual(fee.state, "to_approve")
        self.assertIn(f"open exception ({failed.name}: Unreadable scan)", fee.approval_reason)

    def test_a_customer_rule_overrides_the_general_one_for_the_same_service(self):
        self.rule(
            "Delivery fee (Ann)",
            "delivered",
            self.delivery_fee,
            "fixed",
            3.0,
            partner_id=self.customer.id,
        )
        picking = self.booked()
        self.news(picking, "delivered", 5, signed_by="A. RECEIVER")
        [fee] = self.events(picking_id=picking.id, product_id=self.delivery_fee.id)
        self.assertEqual(fee.price_unit, 3.0)
        self.assertEqual(fee.rule_id.partner_id, self.customer)

    def test_rejecting_keeps_the_reason_and_nothing_is_invoiced(self):
        picking = self.booked()
        self.news(picking, "delivered", 5)
        fee = self.events(picking_id=picking.id, rule_id=self.fee.id)
        wizard = (
            self.env["logistics.billing.event.reject"]
            .with_context(default_event_ids=fee.ids)
            .create({"reason": "Delivered to the wrong address: not billable"})
        )
        wizard.action_reject()
        self.assertEqual((fee.state, fee.decision_note), ("rejected", wizard.reason))
        self.assertIn("Delivered to the wrong address", fee.message_ids[0].body)
        self.assertFalse(fee._logistics_invoice())

    def test_a_percentage_of_an_unknown_freight_waits_for_its_price(self):
        """A parcel without a booked price: 10% of it is not 0.00. The event waits with
        the reason and what to do; it is neither approved nor invoiced before its price is
        entered, and no 0.00 line is ever invoiced from it."""
        picking = self.booked()
        picking.logistics_parcel_ids.sudo().write({"price": 0.0})
        self.news(picking, "delivered", 5, signed_by="A. RECEIVER")
        fee, surcharge, weight = self.events(picking_id=picking.id)
        self.assertEqual((fee.state, weight.state), ("approved", "approved"))
        self.assertEqual((surcharge.state, surcharge.price_missing), ("to_approve", True))
        self.assertIn(
            f"the freight price of {picking.name} is unknown (no price was booked for its "
            "parcels), so 10% of it cannot be computed: enter the price",
            surcharge.approval_reason,
        )
        self.assertIn("is unknown", surcharge.activity_ids.summary)
        with self.assertRaisesRegex(UserError, f"{surcharge.name} for Ann Receiver has no price"):
            surcharge.action_approve()
        move = (fee | surcharge | weight)._logistics_invoice()
        self.assertEqual(
            sorted(move.invoice_line_ids.mapped("price_unit")), [0.8, 4.5], "no 0.00 line"
        )
        self.assertEqual(surcharge.state, "to_approve")
        # the billing user enters the price (10% of what the carrier charged) and approves
        surcharge.price_unit = 1.23
        self.assertFalse(surcharge.price_missing)
        surcharge.action_approve()
        [line] = surcharge._logistics_invoice().invoice_line_ids
        self.assertEqual(line.price_unit, 1.23)

    def test_a_percentage_of_freight_booked_in_another_currency(self):
        cad = self.env.ref("base.CAD")
        cad.active = True
        self.env["res.currency.rate"].create(
            {
                "currency_id": cad.id,
                "name": "2020-01-01",
                "rate": 1.25,
                "company_id": self.env.company.id,
            }
        )
        picking = self.booked()
        picking.logistics_parcel_ids.sudo().write({"price": 20.0, "currency": "CAD"})
        self.news(picking, "delivered", 5, signed_by="A. RECEIVER")
        surcharge = self.events(picking_id=picking.id, rule_id=self.freight.id)
        # 20.00 CAD are 16.00 USD: 10% is 1.60 USD
        self.assertEqual(
            (surcharge.amount, surcharge.currency_id), (1.6, self.env.company.currency_id)
        )

    def test_dashboard_tiles_count_unbilled_and_time_to_invoice(self):
        picking = self.booked()
        self.news(picking, "delivered", 5, signed_by="A. RECEIVER")
        events = self.events(picking_id=picking.id)
        self.backend.invalidate_recordset()
        self.assertEqual(self.backend.tile_billing_unbilled, 3)
        self.assertEqual(self.backend.tile_billing_to_approve, 0)
        invoice = events._logistics_invoice()
        invoice.action_post()
        self.assertTrue(all(e.invoiced_at for e in events))
        expected = (events[0].invoiced_at - events[0].date).total_seconds() / 86400.0
        self.assertAlmostEqual(events[0].cycle_days, expected, places=1)
        self.backend.invalidate_recordset()
        self.assertEqual(self.backend.tile_billing_unbilled, 0)
        self.assertAlmostEqual(self.backend.tile_billing_cycle_days, expected, places=1)
        invoice.button_cancel()
        self.assertFalse(events[0].invoiced_at, "billable again: not invoiced")
