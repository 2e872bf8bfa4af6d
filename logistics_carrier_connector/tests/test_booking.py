from odoo.exceptions import UserError
from odoo.tests import TransactionCase

from .common import CarrierFixture, expected_price


class TestBooking(CarrierFixture, TransactionCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.setup_carrier()

    def test_validating_books_one_parcel_with_its_label(self):
        picking = self.make_delivery([(self.kettle, 1)])
        self.validate(picking)
        [parcel] = picking.logistics_parcel_ids
        self.assertEqual(picking.carrier_tracking_ref, parcel.tracking_number)
        self.assertEqual(parcel.state, "booked")
        self.assertEqual(parcel.service, "USPS Priority")
        self.assertAlmostEqual(parcel.price, expected_price([2.0]))
        self.assertAlmostEqual(picking.carrier_price, expected_price([2.0]))
        self.assertTrue(self.label_bytes(parcel).startswith(b"%PDF"))
        self.assertEqual(parcel.label_attachment_id.res_id, picking.id)
        self.assertIn(parcel.shipment_ref, self.sim.shipments)
        self.assertEqual(
            self.sim.shipments[parcel.shipment_ref]["tracking_code"], parcel.tracking_number
        )
        [call] = self.calls(picking, "carrier.book")
        self.assertEqual(call.state, "acknowledged")
        self.assertNotIn("label_b64", call.response_payload, "labels are attachments, not audit")
        self.assertEqual(parcel.booking_message_id, call)
        self.assertIn(parcel.tracking_number, self.method.get_tracking_link(picking))

    def test_multi_parcel_shipment_gets_a_tracking_number_and_label_per_package(self):
        picking = self.make_delivery([(self.kettle, 1), (self.mixer, 1)])
        first = self.pack(picking, self.kettle, 2.5)
        second = self.pack(picking, self.mixer, 4.0)
        self.validate(picking)
        parcels = picking.logistics_parcel_ids.sorted("id")
        self.assertEqual(len(parcels), 2)
        self.assertEqual(set(parcels.package_id), {first, second})
        self.assertEqual(len(set(parcels.mapped("tracking_number"))), 2)
        self.assertEqual(
            sorted(picking.carrier_tracking_ref.split(",")),
            sorted(parcels.mapped("tracking_number")),
        )
        self.assertEqual(len(parcels.label_attachment_id), 2)
        weights = sorted(self.sim.shipments[p.shipment_ref]["parcel"]["weight"] for p in parcels)
        self.assertEqual(weights, [88.2, 141.1])
        self.assertAlmostEqual(picking.carrier_price, expected_price([2.5, 4.0]))

    def test_zpl_labels_when_the_backend_asks_for_them(self):
        self.backend.carrier_label_format = "ZPL"
        picking = self.make_delivery([(self.kettle, 1)])
        self.validate(picking)
        [parcel] = picking.logistics_parcel_ids
        self.assertEqual(parcel.label_format, "ZPL")
        self.assertTrue(self.label_bytes(parcel).startswith(b"^XA"))
        self.assertTrue(parcel.label_attachment_id.name.endswith(".zpl"))

    def test_empty_label_fails_the_booking_and_voids_it(self):
        self.sim.corrupt_labels = True
        picking = self.make_delivery([(self.kettle, 1)])
        for move in picking.move_ids:
            move.quantity = move.product_uom_qty
        with self.assertRaisesRegex(UserError, "label for parcel .* is empty"):
            picking.button_validate()
        self.assertEqual(len(self.sim.refunds), 1, "the postage bought is refunded")
        self.assertFalse(picking.logistics_parcel_ids)

    def test_service_not_offered_is_refused_clearly(self):
        odd = self.method.copy({"name": "Odd", "logistics_service_code": "Teleport"})
        picking = self.make_delivery([(self.kettle, 1)], carrier=odd)
        for move in picking.move_ids:
            move.quantity = move.product_uom_qty
        with self.assertRaisesRegex(UserError, "USPS Teleport is not offered for parcel"):
            picking.button_validate()

    def test_cancelling_voids_every_parcel_at_the_carrier(self):
        picking = self.make_delivery([(self.kettle, 1), (self.mixer, 1)])
        self.pack(picking, self.kettle, 2.0)
        self.pack(picking, self.mixer, 3.5)
        self.validate(picking)
        parcels = picking.logistics_parcel_ids
        picking.cancel_shipment()
        # the carrier refunds days later: requested until then
        self.assertEqual(set(parcels.mapped("state")), {"void_requested"})
        self.assertEqual(sorted(self.sim.refunds), sorted(parcels.mapped("shipment_ref")))
        self.assertFalse(picking.carrier_tracking_ref)
        self.assertEqual(self.calls(picking, "carrier.void").state, "acknowledged")
