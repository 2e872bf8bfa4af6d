"""A booking is one operation under one key across its attempts: when the carrier bought
the postage but its answer was lost (a timeout, a 500 after the purchase), the next attempt
finds that shipment under the same reference and records it instead of buying a second one;
any other shipment bought under the reference is refunded. The carrier simulator counts its
own purchases and refunds; everything goes over real HTTP."""

import requests
from logistics_simulators.soap_carrier import SoapCarrierSimulator

from odoo.exceptions import UserError
from odoo.tests import tagged

from odoo.addons.logistics_integration_base.tests.common import LogisticsHttpCase, run_jobs

from .common import CarrierFixture

SOAP_KEY = "ACME-SOAP-KEY"
#: Odoo's test framework lets no request wait less than 10 s: a carrier silent for longer
#: is a timeout
SILENCE = 12


@tagged("post_install", "-at_install")
class TestIdempotentBooking(CarrierFixture, LogisticsHttpCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.setup_carrier(retry_max_attempts=3)

    def ready(self, picking):
        for move in picking.move_ids:
            move.quantity = move.product_uom_qty
        return picking

    def creations(self):
        return [r for r in self.sim.requests if r.method == "POST" and r.path == "/v2/shipments"]

    def lookups(self):
        return [r for r in self.sim.requests if r.path.startswith("/v2/shipments?")]

    def test_a_validation_retried_after_a_lost_answer_records_the_first_purchase(self):
        picking = self.ready(self.make_delivery([(self.kettle, 1)]))
        self.sim.lose_next_buy("timeout", seconds=SILENCE)
        with self.assertRaises(UserError) as caught, self.env.cr.savepoint():
            picking.button_validate()
        self.assertIn("Carrier Parcel Co is unavailable right now", str(caught.exception))
        self.assertEqual(picking.state, "assigned", "the validation did not complete")
        self.assertFalse(picking.logistics_parcel_ids)
        [first] = self.sim.purchases
        self.assertTrue(self.sim.shipments[first]["tracking_code"], "the carrier had bought")

        # the user validates again: the purchase is found, kept, labelled and tracked
        self.assertIs(picking.button_validate(), True)
        self.assertEqual(picking.state, "done")
        self.assertEqual(self.sim.purchases, [first], "no second purchase")
        self.assertEqual(self.sim.refunds, [])
        self.assertEqual([s["id"] for s in self.sim.bought()], [first], "none orphaned")
        [parcel] = picking.logistics_parcel_ids
        shipment = self.sim.shipments[first]
        self.assertEqual(parcel.shipment_ref, first)
        self.assertEqual(parcel.tracking_number, shipment["tracking_code"])
        self.assertEqual(picking.carrier_tracking_ref, shipment["tracking_code"])
        self.assertEqual(parcel.tracker_ref, shipment["tracker"]["id"])
        self.assertTrue(self.label_bytes(parcel).startswith(b"%PDF"))
        self.assertTrue(
            any(
                "earlier attempt of this booking whose answer was lost" in m.body
                for m in picking.message_ids
            )
        )
        # both attempts named the booking alike: one key, in the reference and the header
        [created] = self.creations()
        reference = created.json()["shipment"]["reference"]
        self.assertEqual(shipment["reference"], reference)
        self.assertTrue(reference.startswith(f"{picking.name}/"))
        self.assertEqual(len(self.lookups()), 2, "each attempt looked before buying")
        key = created.headers["Idempotency-Key"]
        self.assertTrue(key.endswith("/create"))
        buy = next(r for r in self.sim.requests if r.path.endswith("/buy"))
        self.assertEqual(buy.headers["Idempotency-Key"], key.replace("/create", "/buy"))

    def test_a_queued_booking_retried_after_a_500_records_the_first_purchase(self):
        self.backend.carrier_booking_mode = "queued"
        picking = self.make_delivery([(self.kettle, 1), (self.mixer, 1)])
        self.pack(picking, self.kettle, 2.0)
        self.pack(picking, self.mixer, 3.5)
        self.validate(picking)
        booking = picking.logistics_booking_message_id
        # the first parcel's postage is bought, then the carrier answers 500: the job is
        # retried with the same key
        self.sim.lose_next_buy(500)
        run_jobs(self.env)
        self.assertEqual(booking.state, "sent")
        self.assertEqual(booking.attempt_ids.sorted("number").mapped("outcome"), ["retry", "done"])
        self.assertEqual(picking.logistics_booking_state, "booked")
        parcels = picking.logistics_parcel_ids
        self.assertEqual(len(parcels), 2)
        lost = self.sim.purchases[0]
        self.assertIn(lost, parcels.mapped("shipment_ref"), "the purchase whose answer was lost")
        self.assertEqual(len(self.sim.purchases), 2, "one purchase per parcel, none twice")
        self.assertEqual(self.sim.refunds, [])
        self.assertEqual(
            sorted(s["id"] for s in self.sim.bought()), sorted(parcels.mapped("shipment_ref"))
        )
        self.assertEqual(
            sorted(booking.external_id.split(",")), sorted(parcels.mapped("shipment_ref"))
        )
        # the message's key is the booking's, in every attempt's references and headers
        creations = self.creations()
        self.assertEqual(len(creations), 2, "the lost one is not created again")
        for created in creations:
            self.assertIn(booking.idempotency_key, created.json()["shipment"]["reference"])
            self.assertTrue(created.headers["Idempotency-Key"].startswith(booking.idempotency_key))

    def test_an_orphan_bought_under_the_same_booking_is_refunded(self):
        picking = self.ready(self.make_delivery([(self.kettle, 1)]))
        self.sim.lose_next_buy(500)
        with self.assertRaises(UserError), self.env.cr.savepoint():
            picking.button_validate()
        [first] = self.sim.purchases
        # meanwhile a second purchase was made under the same reference (another worker,
        # a version of the connector that did not look first): the same request, bought
        [created] = self.creations()
        body = created.json()
        auth = (self.sim.api_key, "")
        second = requests.post(self.sim.url("/v2/shipments"), json=body, auth=auth, timeout=10)
        rate = next(r for r in second.json()["rates"] if r["service"] == "Priority")
        requests.post(
            self.sim.url(f"/v2/shipments/{second.json()['id']}/buy"),
            json={"rate": {"id": rate["id"]}},
            auth=auth,
            timeout=10,
        ).raise_for_status()
        orphan = second.json()["id"]
        self.assertEqual(self.sim.purchases, [first, orphan])

        self.assertIs(picking.button_validate(), True)
        [parcel] = picking.logistics_parcel_ids
        self.assertEqual(parcel.shipment_ref, first, "the first purchase is kept")
        self.assertEqual(self.sim.purchases, [first, orphan], "nothing bought a third time")
        self.assertEqual(self.sim.refunds, [orphan], "the orphan is refunded")
        self.assertEqual([s["id"] for s in self.sim.bought()], [first])
        self.assertTrue(any(orphan in m.body and "refunded" in m.body for m in picking.message_ids))
        recorded = self.calls(picking, "carrier.book").filtered(lambda m: m.state == "acknowledged")
        self.assertIn(orphan, recorded.response_payload)

    def test_a_purchase_for_the_delivery_as_it_was_is_refunded_when_rebuilt(self):
        self.backend.write({"carrier_booking_mode": "queued", "retry_max_attempts": 1})
        picking = self.make_delivery([(self.kettle, 1)])
        self.validate(picking)
        booking = picking.logistics_booking_message_id
        self.sim.lose_next_buy(500)
        run_jobs(self.env)
        self.assertEqual(booking.state, "dead")
        [outdated] = self.sim.purchases
        # the operator corrects the address, then retries: the booking is rebuilt as a new
        # revision under a new key; what the carrier bought for the old address, under the
        # key it replaces, is not what is booked now
        self.customer.street = "14 Elm St"
        booking.action_retry()
        revision = booking.replaced_by_id
        self.assertEqual(revision.idempotency_key, f"{booking.idempotency_key}-r2")
        run_jobs(self.env)
        self.assertEqual(revision.state, "sent")
        [parcel] = picking.logistics_parcel_ids
        self.assertNotEqual(parcel.shipment_ref, outdated)
        self.assertEqual(
            self.sim.shipments[parcel.shipment_ref]["to_address"]["street1"], "14 Elm St"
        )
        self.assertIn(booking.idempotency_key, self.sim.shipments[outdated]["reference"])
        self.assertEqual(self.sim.refunds, [outdated])
        self.assertEqual([s["id"] for s in self.sim.bought()], [parcel.shipment_ref])
        self.assertTrue(
            any(outdated in m.body and "refunded" in m.body for m in picking.message_ids)
        )

    def test_the_same_booking_twice_books_once(self):
        picking = self.make_delivery([(self.kettle, 1)])
        self.validate(picking)
        [parcel] = picking.logistics_parcel_ids
        with self.assertRaisesRegex(UserError, "is booked with the carrier already"):
            picking.send_to_shipper()
        self.assertEqual(self.sim.purchases, [parcel.shipment_ref])
        # cancelled, then booked again: another operation, under another key
        picking.cancel_shipment()
        picking.send_to_shipper()
        self.assertEqual(len(self.sim.purchases), 2)
        again = picking.logistics_parcel_ids.filtered(lambda p: p.state == "booked")
        self.assertEqual(again.shipment_ref, self.sim.purchases[1])
        references = [self.sim.shipments[s]["reference"] for s in self.sim.purchases]
        self.assertNotEqual(references[0], references[1])

    def test_a_booking_voided_after_a_rollback_is_never_taken_back(self):
        """The validation rolls back after the carrier answered: the void queued for that
        booking and the booking made next are two operations; the next one never reuses the
        shipment being voided, even before the void reached the carrier."""
        picking = self.ready(self.make_delivery([(self.kettle, 1)]))

        def printer_offline(self):
            raise RuntimeError("the warehouse label printer is offline")

        Picking = type(self.env["stock.picking"])
        original = Picking._check_carrier_details_compliance
        self.patch(Picking, "_check_carrier_details_compliance", printer_offline)
        with self.assertRaises(RuntimeError), self.env.cr.savepoint():
            picking.button_validate()
        self.env.cr.postrollback.run()
        self.env.invalidate_all()
        [voided] = self.sim.purchases
        self.patch(Picking, "_check_carrier_details_compliance", original)
        self.assertIs(picking.button_validate(), True)  # before the void is sent
        [parcel] = picking.logistics_parcel_ids
        self.assertNotEqual(parcel.shipment_ref, voided)
        run_jobs(self.env)
        self.assertEqual(self.sim.refunds, [voided])
        self.assertEqual([s["id"] for s in self.sim.bought()], [parcel.shipment_ref])


@tagged("post_install", "-at_install")
class TestSoapLostAnswer(CarrierFixture, LogisticsHttpCase):
    """The SOAP web service takes no key and cannot be asked what it booked: a booking whose
    answer is lost is never booked again by itself."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.setup_carrier()
        cls.soap = SoapCarrierSimulator(account_key=SOAP_KEY).start()
        cls.addClassCleanup(cls.soap.stop)
        cls.soap_backend = cls._make_backend(
            name="Acme Carrier WS",
            code="acme-ws",
            kind="carrier",
            provider="classic_soap",
            protocol="soap",
            base_url=cls.soap.url(),
            api_key=SOAP_KEY,
            timeout=3.0,
            circuit_threshold=0,
            carrier_booking_mode="queued",
            retry_max_attempts=5,
        )
        cls.express = cls.env["delivery.carrier"].create(
            {
                "name": "Acme Express",
                "delivery_type": "logistics",
                "product_id": cls.env.ref("delivery.product_product_delivery").id,
                "logistics_backend_id": cls.soap_backend.id,
                "logistics_carrier_code": "ACME",
                "logistics_service_code": "EXPRESS",
            }
        )

    def test_a_queued_booking_whose_answer_is_lost_waits_for_a_person(self):
        picking = self.make_delivery([(self.kettle, 1)], carrier=self.express)
        self.validate(picking)
        booking = picking.logistics_booking_message_id
        self.soap.lose_next_answer(SILENCE)
        run_jobs(self.env)
        self.assertEqual(len(self.soap.shipments), 1, "the carrier booked")
        self.assertEqual((booking.state, booking.attempts), ("failed", 1), "not retried")
        self.assertIn("Acme Carrier WS may have booked", booking.error_message)
        self.assertIn("Check its shipments for", booking.error_message)
        self.assertEqual(picking.logistics_booking_state, "failed")
        run_jobs(self.env)
        self.assertEqual(self.soap.calls.count("processShipment"), 1, "booked once")

    def test_a_validation_whose_answer_is_lost_says_what_to_check(self):
        self.soap_backend.carrier_booking_mode = "on_validation"
        picking = self.ready(self.make_delivery([(self.kettle, 1)], carrier=self.express))
        self.soap.lose_next_answer(SILENCE)
        with self.assertRaises(UserError) as caught, self.env.cr.savepoint():
            picking.button_validate()
        self.assertIn("could not be booked", str(caught.exception))
        self.assertIn("Acme Carrier WS may have booked", str(caught.exception))
        self.assertIn("before booking again", str(caught.exception))

    ready = TestIdempotentBooking.ready
