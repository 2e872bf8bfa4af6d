"""Backends that book in the queue: validating a delivery never waits on the carrier; the
booking is a message, retried, that fills the delivery when the carrier answers, lands in
the exception queue (linked to the delivery) when refused, and is rebuilt from the
corrected delivery when retried from there (a new revision: see test_booking_revisions)."""

import json

from odoo.tests import tagged

from odoo.addons.logistics_integration_base.tests.common import LogisticsHttpCase, run_jobs

from .common import CarrierFixture, expected_price


@tagged("post_install", "-at_install")
class TestQueuedBooking(CarrierFixture, LogisticsHttpCase):
    """An HttpCase: the void queued after a rollback uses a cursor of its own, which tests
    get in the registry's test mode."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.setup_carrier(carrier_booking_mode="queued", retry_max_attempts=3)

    def booking_of(self, picking):
        return self.env["logistics.message"].search(
            [
                ("message_type", "=", "carrier.book"),
                ("is_call", "=", False),
                ("res_model", "=", "stock.picking"),
                ("res_id", "=", picking.id),
            ]
        )

    def warnings(self, picking):
        return picking.activity_ids.filtered(
            lambda a: a.activity_type_id == self.env.ref("mail.mail_activity_data_warning")
        )

    def test_validation_queues_the_booking_and_the_labels_come_when_booked(self):
        picking = self.make_delivery([(self.kettle, 1), (self.mixer, 1)])
        self.pack(picking, self.kettle, 2.0)
        self.pack(picking, self.mixer, 3.5)
        self.validate(picking)

        self.assertFalse(self.sim.requests, "validation did not wait on the carrier")
        [booking] = self.booking_of(picking)
        self.assertEqual(booking.state, "pending")
        self.assertEqual(picking.logistics_booking_state, "queued")
        self.assertEqual(picking.logistics_booking_message_id, booking)
        self.assertFalse(picking.carrier_tracking_ref)
        self.assertFalse(picking.logistics_parcel_ids)
        self.assertIn("Booking with Parcel Co queued", picking.message_ids[0].body)
        self.assertEqual(len(booking._get_payload()["parcels"]), 2)

        run_jobs(self.env)
        self.assertEqual(booking.state, "sent")
        self.assertEqual(picking.logistics_booking_state, "booked")
        parcels = picking.logistics_parcel_ids
        self.assertEqual(len(parcels), 2)
        self.assertEqual(parcels.booking_message_id, booking)
        self.assertEqual(
            sorted(picking.carrier_tracking_ref.split(",")),
            sorted(parcels.mapped("tracking_number")),
        )
        self.assertAlmostEqual(picking.carrier_price, expected_price([2.0, 3.5]))
        for parcel in parcels:
            self.assertTrue(self.label_bytes(parcel).startswith(b"%PDF"))
            self.assertEqual(
                self.sim.shipments[parcel.shipment_ref]["tracking_code"], parcel.tracking_number
            )
        self.assertEqual(
            len(
                self.env["ir.attachment"].search(
                    [("res_model", "=", "stock.picking"), ("res_id", "=", picking.id)]
                )
            ),
            2,
            "one label per package",
        )
        self.assertEqual(
            sorted(booking.external_id.split(",")), sorted(parcels.mapped("shipment_ref"))
        )
        recorded = json.loads(booking.response_payload)
        self.assertEqual(len(recorded["parcels"]), 2)
        self.assertNotIn("label_b64", booking.response_payload, "labels are attachments")
        self.assertTrue(
            any("Shipment sent to carrier" in m.body for m in picking.message_ids),
            "recorded as Odoo records any carrier's booking",
        )

    def test_a_carrier_that_is_down_is_retried(self):
        picking = self.make_delivery([(self.kettle, 1)])
        self.validate(picking)
        self.sim.fail_next(503)
        run_jobs(self.env)
        [booking] = self.booking_of(picking)
        self.assertEqual(booking.state, "sent")
        self.assertEqual(booking.attempts, 2)
        self.assertEqual(booking.attempt_ids.sorted("number").mapped("outcome"), ["retry", "done"])
        self.assertEqual(picking.logistics_booking_state, "booked")
        self.assertEqual(len(picking.logistics_parcel_ids), 1)

    def test_a_refused_booking_is_an_exception_then_replayed_after_correction(self):
        self.customer.zip = "6270"  # the schema accepts it; the carrier does not
        picking = self.make_delivery([(self.kettle, 1)])
        self.validate(picking)
        run_jobs(self.env)

        [booking] = self.booking_of(picking)
        self.assertEqual((booking.state, booking.error_category), ("failed", "validation"))
        reason = booking.error_message.split("\n\n")[0]
        self.assertIn("Parcel Co refused", reason)
        self.assertIn(picking.name, reason)
        # the carrier's words quote the refused ZIP: masked like every personal value
        self.assertIn("••• is not a US ZIP code (to_address.zip)", reason)
        self.assertNotIn("6270", reason)
        self.assertIn(f"Correct the delivery address of {picking.name}, then press Retry", reason)
        self.assertIn(booking, self.env["logistics.message"].search([("state", "=", "failed")]))
        self.assertEqual(picking.logistics_booking_state, "failed")
        self.assertEqual(picking.logistics_booking_error, reason)
        [warning] = self.warnings(picking)
        self.assertEqual(warning.summary, "Carrier booking failed")
        self.assertIn("••• is not a US ZIP code", warning.note)
        self.assertFalse(picking.logistics_parcel_ids)

        # retried as it is: refused again, nothing booked twice
        booking.action_retry()
        run_jobs(self.env)
        self.assertEqual(booking.state, "failed")
        self.assertFalse([s for s in self.sim.shipments.values() if s["tracking_code"]])

        # corrected, then retried from the exception queue: rebuilt from the delivery, and
        # sent as a new revision of the booking (see test_booking_revisions)
        self.customer.zip = "62701"
        booking.action_retry()
        revision = picking.logistics_booking_message_id
        self.assertEqual(revision.replaces_id, booking)
        self.assertEqual(revision._get_payload()["ship_to"]["zip"], "62701")
        self.assertEqual(picking.logistics_booking_state, "queued")
        run_jobs(self.env)
        self.assertEqual(revision.state, "sent")
        self.assertEqual(picking.logistics_booking_state, "booked")
        [parcel] = picking.logistics_parcel_ids
        self.assertEqual(picking.carrier_tracking_ref, parcel.tracking_number)
        self.assertEqual(self.sim.shipments[parcel.shipment_ref]["to_address"]["zip"], "62701")
        self.assertFalse(self.warnings(picking), "the warning is closed once booked")
        self.assertFalse(picking.logistics_booking_error)

    def test_a_booking_whose_recording_rolls_back_is_voided_and_booked_again(self):
        picking = self.make_delivery([(self.kettle, 1)])
        self.validate(picking)
        [booking] = self.booking_of(picking)
        Picking = type(self.env["stock.picking"])
        original = Picking._logistics_booked

        def disk_full(self, message, data):
            raise OSError("no space left on device")

        # the carrier books, then the job's transaction fails before it commits
        self.patch(Picking, "_logistics_booked", disk_full)
        with self.assertRaises(OSError):
            run_jobs(self.env)
        self.env.cr.postrollback.run()  # what the cursor runs once the job rolled back
        self.env.invalidate_all()
        first = [s for s in self.sim.shipments.values() if s["tracking_code"]]
        self.assertEqual(len(first), 1, "the carrier had booked")
        self.assertEqual(booking.state, "pending", "the booking is still to be made")
        self.assertFalse(picking.logistics_parcel_ids)
        [void] = self.env["logistics.message"].search([("message_type", "=", "carrier.void")])
        self.assertEqual(void._get_payload()["tracking_numbers"], [first[0]["tracking_code"]])
        self.assertEqual(void.record_ref, picking)

        # queue_job marks the job failed; the safety net queues the booking again
        self.patch(Picking, "_logistics_booked", original)
        booking.job_id.state = "failed"
        self.env.cr.execute(  # the safety net's next run, a few minutes later
            "UPDATE logistics_message SET create_date = create_date - interval '5 minutes' "
            "WHERE id = %s",
            [booking.id],
        )
        self.assertEqual(self.env["logistics.message"]._cron_retry_scheduler(), 1)
        run_jobs(self.env)
        self.assertEqual(self.sim.refunds, [first[0]["id"]])
        self.assertEqual(booking.state, "sent")
        [parcel] = picking.logistics_parcel_ids
        self.assertNotEqual(parcel.tracking_number, first[0]["tracking_code"])
        self.assertEqual((void.state, void.error_category), ("failed", "business"))
        self.assertIn("the booking was voided at the carrier", void.error_message)
        self.assertIn("Its queued booking is sent again", void.error_message)
