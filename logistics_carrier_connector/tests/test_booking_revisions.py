"""A queued booking the carrier refused is rebuilt by Retry from the delivery as it is now:
once the operator corrected the delivery, it goes as a new revision under a new key, linked
to the booking it replaces, the changes listed on both chatters (personal values masked),
and the delivery follows it. An unchanged booking is sent again under its key; automatic
retries send what was queued; a delivery that moved on is not booked again. A failed
booking is superseded when a later booking of the same delivery (Send to Shipper) goes
through. Every booking goes over real HTTP to the EasyPost-shaped simulator."""

import json

from odoo.exceptions import UserError
from odoo.tests import TransactionCase, tagged

from odoo.addons.logistics_integration_base.tests.common import run_jobs
from odoo.addons.logistics_integration_base.tools import personal

from .common import CarrierFixture


class RefusedBookingFixture(CarrierFixture):
    """A carrier backend booking in the queue, and a customer whose ZIP code the carrier
    refuses (the schema accepts it)."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.setup_carrier(carrier_booking_mode="queued", retry_max_attempts=1)

    def refused_booking(self, validate=True):
        """A delivery to the customer with a ZIP code of four digits, its queued booking
        refused by the carrier: the delivery and its failed booking message."""
        self.customer.zip = "6270"
        picking = self.make_delivery([(self.kettle, 1)])
        if validate:
            self.validate(picking)
        else:  # booked before validation, as Send to Shipper does over RPC
            for move in picking.move_ids:
                move.quantity = move.product_uom_qty
            self.assertIsNone(picking.send_to_shipper())
        booking = picking.logistics_booking_message_id
        run_jobs(self.env)
        self.assertEqual((booking.state, booking.error_category), ("failed", "validation"))
        self.assertEqual(picking.logistics_booking_state, "failed")
        return picking, booking

    def warnings(self, picking):
        return picking.activity_ids.filtered(
            lambda a: a.activity_type_id == self.env.ref("mail.mail_activity_data_warning")
        )

    def bookings_of(self, picking):
        return self.env["logistics.message"].search(
            [
                ("message_type", "=", "carrier.book"),
                ("is_call", "=", False),
                ("res_model", "=", "stock.picking"),
                ("res_id", "=", picking.id),
            ],
            order="id",
        )


@tagged("post_install", "-at_install")
class TestBookingRevisions(RefusedBookingFixture, TransactionCase):
    def test_retry_after_the_address_was_corrected_books_a_new_revision(self):
        picking, booking = self.refused_booking()
        self.assertIn(f"Correct the delivery address of {picking.name}", booking.error_message)
        self.customer.zip = "62701"

        feedback = booking.action_retry()

        revision = picking.logistics_booking_message_id
        self.assertNotEqual(revision, booking)
        self.assertEqual(revision.idempotency_key, f"{booking.idempotency_key}-r2")
        self.assertEqual((revision.revision, revision.replaces_id), (2, booking))
        self.assertEqual((revision.message_type, revision.is_call), ("carrier.book", False))
        self.assertEqual(revision.record_ref, picking)
        self.assertEqual(booking.replaced_by_id, revision)
        self.assertEqual(booking.state, "ignored", "the replaced booking leaves the queue")
        self.assertIn(revision.name, booking.ignore_reason)
        self.assertNotIn(booking, self.exception_queue())
        self.assertEqual(booking._get_payload()["ship_to"]["zip"], "6270", "kept as it was sent")
        self.assertEqual(revision._get_payload()["ship_to"]["zip"], "62701")
        self.assertEqual(picking.logistics_booking_state, "queued")
        self.assertFalse(picking.logistics_booking_error)
        # the operator reads what happened and lands on the revision
        self.assertEqual(feedback["tag"], "display_notification")
        self.assertIn(revision.name, feedback["params"]["message"])
        self.assertEqual(feedback["params"]["next"]["res_id"], revision.id)
        # both chatters name the field that changed, the ZIP code masked; the delivery's
        # says which booking it waits for now
        for message in (booking, revision):
            [note] = message.message_ids.filtered(lambda m: "ship_to.zip" in (m.body or ""))
            self.assertIn(personal.MASK, note.body)
            self.assertNotIn("6270", note.body)
            self.assertIn(revision.idempotency_key, note.body)
        said = (
            f"Booking rebuilt from {picking.name} as it is now and sent to Parcel Co as "
            f"{revision.name} (revision 2)"
        )
        self.assertTrue(any(said in m.body for m in picking.message_ids))

        run_jobs(self.env)
        self.assertEqual(revision.state, "sent")
        self.assertEqual(booking.state, "ignored")
        self.assertEqual(picking.logistics_booking_state, "booked")
        [parcel] = picking.logistics_parcel_ids
        self.assertEqual(parcel.booking_message_id, revision)
        self.assertEqual(picking.carrier_tracking_ref, parcel.tracking_number)
        # the carrier holds the corrected address, bought under the revision's key
        shipment = self.sim.shipments[parcel.shipment_ref]
        self.assertEqual(shipment["to_address"]["zip"], "62701")
        self.assertTrue(shipment["reference"].endswith(f"/{revision.idempotency_key}"))
        self.assertEqual([s["id"] for s in self.sim.bought()], [parcel.shipment_ref])
        self.assertFalse(self.warnings(picking), "the warning is closed once booked")

    def test_retry_from_the_delivery_sends_the_revision_and_stays_there(self):
        picking, booking = self.refused_booking()
        self.customer.zip = "62701"
        action = picking.action_logistics_retry_booking()
        revision = picking.logistics_booking_message_id
        self.assertEqual(revision.replaces_id, booking)
        self.assertEqual(action["params"]["next"]["tag"], "soft_reload")
        run_jobs(self.env)
        self.assertEqual(picking.logistics_booking_state, "booked")

    def test_retry_of_an_unchanged_booking_keeps_its_key(self):
        picking = self.make_delivery([(self.kettle, 1)])
        self.validate(picking)
        booking = picking.logistics_booking_message_id
        key = booking.idempotency_key
        self.sim.fail_next(503)
        run_jobs(self.env)
        self.assertEqual(booking.state, "dead")
        self.assertEqual(picking.logistics_booking_state, "failed")

        feedback = booking.action_retry()

        self.assertIn(f"{booking.name} is queued to Parcel Co again", feedback["params"]["message"])
        self.assertEqual((booking.state, booking.idempotency_key), ("pending", key))
        self.assertFalse(booking.replaced_by_id)
        self.assertEqual(picking.logistics_booking_message_id, booking)
        self.assertEqual(picking.logistics_booking_state, "queued")
        run_jobs(self.env)
        self.assertEqual(booking.state, "sent")
        self.assertEqual(self.bookings_of(picking), booking, "no second booking message")
        [parcel] = picking.logistics_parcel_ids
        self.assertEqual(parcel.booking_message_id, booking)
        self.assertTrue(self.sim.shipments[parcel.shipment_ref]["reference"].endswith(f"/{key}"))

    def test_automatic_retries_send_the_booking_as_it_was_queued(self):
        self.backend.retry_max_attempts = 3
        picking = self.make_delivery([(self.kettle, 1)])
        self.validate(picking)
        booking = picking.logistics_booking_message_id
        self.sim.fail_next(503)
        run_jobs(self.env, ignore_eta=False)  # the first attempt only; the next one waits
        self.assertEqual(booking.state, "pending")
        self.assertTrue(booking.next_retry_at)

        self.customer.street = "14 Elm St"
        run_jobs(self.env)

        self.assertEqual(booking.state, "sent")
        self.assertFalse(booking.replaced_by_id)
        self.assertEqual(self.bookings_of(picking), booking)
        [parcel] = picking.logistics_parcel_ids
        self.assertEqual(
            self.sim.shipments[parcel.shipment_ref]["to_address"]["street1"],
            "12 Elm St",
            "an automatic retry sends the booking as it was queued",
        )

    def test_retry_is_refused_for_a_delivery_booked_again_since(self):
        picking, booking = self.refused_booking()
        self.customer.zip = "62701"
        self.assertIsNone(picking.send_to_shipper())  # Send to Shipper, from the delivery
        later = picking.logistics_booking_message_id
        self.assertNotEqual(later, booking)
        self.assertEqual(picking.logistics_booking_state, "queued")

        with self.assertRaises(UserError) as caught:
            booking.action_retry()
        self.assertEqual(
            str(caught.exception),
            f"{booking.name} was not retried: {picking.name} was booked again since, by "
            f"{later.name}: retry that one if it failed.",
        )
        self.assertEqual(booking.state, "failed")
        self.assertFalse(booking.replaced_by_id)
        self.assertEqual(picking.logistics_booking_message_id, later)

    def test_retry_is_refused_for_a_delivery_cancelled_since(self):
        picking, booking = self.refused_booking(validate=False)
        self.customer.zip = "62701"
        picking.action_cancel()
        self.assertEqual(picking.state, "cancel")
        with self.assertRaises(UserError) as caught:
            booking.action_retry()
        self.assertEqual(
            str(caught.exception),
            f"{booking.name} was not retried: {picking.name} is cancelled; nothing is booked "
            "for it.",
        )
        self.assertEqual(booking.state, "failed")
        self.assertFalse(booking.replaced_by_id)
        run_jobs(self.env)
        self.assertFalse(self.sim.bought())

    def test_edit_payload_and_retry_is_a_revision_the_delivery_follows(self):
        picking, booking = self.refused_booking()
        data = booking._get_payload()
        data["ship_to"]["zip"] = "62701"
        revision = booking._edit_payload_and_retry(json.dumps(data))
        self.assertEqual(revision.replaces_id, booking)
        self.assertEqual(revision.idempotency_key, f"{booking.idempotency_key}-r2")
        self.assertEqual(picking.logistics_booking_message_id, revision)
        run_jobs(self.env)
        self.assertEqual(revision.state, "sent")
        [parcel] = picking.logistics_parcel_ids
        self.assertEqual(parcel.booking_message_id, revision)
        self.assertEqual(self.sim.shipments[parcel.shipment_ref]["to_address"]["zip"], "62701")


@tagged("post_install", "-at_install")
class TestSupersededBooking(RefusedBookingFixture, TransactionCase):
    def test_a_booking_made_again_from_the_delivery_supersedes_the_failed_one(self):
        picking, refused = self.refused_booking()
        reason = refused.error_message
        self.assertIn(refused, self.exception_queue())
        self.customer.zip = "62701"

        self.assertIsNone(picking.send_to_shipper())  # Send to Shipper, from the delivery
        later = picking.logistics_booking_message_id
        self.assertNotEqual(later, refused)
        self.assertEqual(refused.state, "failed", "superseded once the new one succeeded only")
        run_jobs(self.env)

        self.assertEqual(later.state, "sent")
        self.assertEqual(picking.logistics_booking_state, "booked")
        self.assertEqual(refused.state, "superseded")
        self.assertEqual(refused.superseded_by_id, later)
        self.assertEqual(refused.error_message, reason, "the reason is kept")
        self.assertIn(
            f"Superseded by {later.name}, which succeeded on", refused.message_ids[0].body
        )
        self.assertNotIn(refused, self.exception_queue())
        self.assertFalse(self.warnings(picking), "the warning of the failure is closed")
        [parcel] = picking.logistics_parcel_ids
        self.assertEqual(parcel.booking_message_id, later)

        # Retry of the failure is refused in words, and books nothing
        purchases = list(self.sim.purchases)
        with self.assertRaisesRegex(
            UserError,
            f"{refused.name} was superseded by {later.name}, which succeeded on .*; "
            "nothing to retry.",
        ):
            refused.action_retry()
        self.assertIs(picking.action_logistics_retry_booking(), True, "nothing failed")
        run_jobs(self.env)
        self.assertEqual(self.sim.purchases, purchases)
        self.assertEqual(refused.state, "superseded")
