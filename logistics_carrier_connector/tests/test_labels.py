"""Labels after the booking: printed again from what was kept (never a new booking or a
duplicate attachment), customs documents kept apart from labels, return labels."""

import base64
import io

from lxml import etree

from odoo.exceptions import UserError
from odoo.tests import tagged
from odoo.tools.pdf import PdfFileReader

from odoo.addons.logistics_integration_base.tests.common import LogisticsHttpCase

from .common import CarrierFixture


@tagged("post_install", "-at_install")
class TestLabels(CarrierFixture, LogisticsHttpCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.setup_carrier()

    def attachments(self, picking):
        return self.env["ir.attachment"].search(
            [("res_model", "=", "stock.picking"), ("res_id", "=", picking.id)]
        )

    def download(self, action):
        self.assertEqual((action["type"], action["target"]), ("ir.actions.act_url", "download"))
        self.authenticate("admin", "admin")
        response = self.url_open(action["url"])
        self.assertEqual(response.status_code, 200, response.text[:300])
        return response

    @staticmethod
    def pages(content):
        return [page.extract_text() for page in PdfFileReader(io.BytesIO(content)).pages]

    def test_printing_again_merges_the_kept_labels_without_booking_again(self):
        picking = self.make_delivery([(self.kettle, 1), (self.mixer, 1)])
        self.pack(picking, self.kettle, 2.0)
        self.pack(picking, self.mixer, 3.5)
        self.validate(picking)
        parcels = picking.logistics_parcel_ids.sorted("id")
        attachments, shipments = self.attachments(picking), dict(self.sim.shipments)
        self.assertEqual(len(attachments), 2)

        prints = [self.download(picking.action_logistics_print_labels()) for _ in range(2)]
        for response in prints:
            self.assertEqual(response.headers["Content-Type"], "application/pdf")
            self.assertIn(
                f"Labels-{picking.name.replace('/', '-')}.pdf",
                response.headers["Content-Disposition"],
            )
            pages = self.pages(response.content)
            self.assertEqual(len(pages), 2, "one page per package")
            for page, parcel in zip(pages, parcels, strict=True):
                self.assertIn(f"Tracking {parcel.tracking_number}", page)
        self.assertEqual(prints[0].content, prints[1].content, "a re-print is the same print")
        self.assertEqual(self.attachments(picking), attachments, "no attachment added")
        self.assertEqual(self.sim.shipments, shipments, "nothing booked again")

    def test_zpl_labels_print_one_after_another(self):
        self.backend.carrier_label_format = "ZPL"
        picking = self.make_delivery([(self.kettle, 1), (self.mixer, 1)])
        self.pack(picking, self.kettle, 2.0)
        self.pack(picking, self.mixer, 3.5)
        self.validate(picking)
        response = self.download(picking.action_logistics_print_labels())
        self.assertEqual(response.headers["Content-Type"], "application/zpl")
        labels = response.content.split(b"\n")
        self.assertEqual(
            [label.count(b"^XA") for label in labels], [1, 1], "two labels, each complete"
        )
        for parcel in picking.logistics_parcel_ids:
            self.assertIn(parcel.tracking_number.encode(), response.content)

    def test_customs_documents_of_an_international_parcel_are_kept_apart(self):
        self.customer.write(
            {
                "country_id": self.env.ref("base.ca").id,
                "city": "Ottawa",
                "zip": "K1A 0B1",
                "state_id": False,
            }
        )
        picking = self.make_delivery([(self.kettle, 1)])
        self.validate(picking)
        [parcel] = picking.logistics_parcel_ids
        [document] = parcel.document_ids
        self.assertNotEqual(document, parcel.label_attachment_id)
        self.assertEqual(
            document.name, f"ShippingDoc-logistics-{parcel.tracking_number}-commercial_invoice.pdf"
        )
        invoice = self.pages(base64.b64decode(document.datas))
        self.assertIn("Commercial invoice", invoice[0])
        self.assertIn(f"Tracking {parcel.tracking_number}", invoice[0])
        [label_page] = self.pages(self.download(picking.action_logistics_print_labels()).content)
        self.assertIn("shipping label", label_page)
        self.assertNotIn("Commercial invoice", label_page, "documents are not labels")

    def test_domestic_parcels_come_without_customs_documents(self):
        picking = self.make_delivery([(self.kettle, 1)])
        self.validate(picking)
        self.assertFalse(picking.logistics_parcel_ids.document_ids)

    def test_a_return_gets_its_label_once_and_prints_it_again(self):
        delivery = self.make_delivery([(self.kettle, 1)])
        self.validate(delivery)
        wizard = (
            self.env["stock.return.picking"]
            .with_context(active_id=delivery.id, active_model="stock.picking")
            .create({})
        )
        wizard.product_return_moves.quantity = 1
        ret = self.env["stock.picking"].browse(wizard.action_create_returns()["res_id"])
        self.assertEqual(ret.carrier_id, self.method, "the return keeps its delivery method")
        self.assertTrue(ret.is_return_picking)

        action = ret.print_return_label()
        [parcel] = ret.logistics_parcel_ids
        self.assertTrue(parcel.is_return)
        ret.invalidate_recordset(["return_label_ids"])  # computed without dependencies
        self.assertEqual(ret.return_label_ids, parcel.label_attachment_id)
        self.assertTrue(parcel.label_attachment_id.name.startswith("LabelReturn-logistics-"))
        shipment = self.sim.shipments[parcel.shipment_ref]
        self.assertTrue(shipment["is_return"])
        # as the carrier sees it: from the customer back to the warehouse
        self.assertEqual(shipment["from_address"]["street1"], "12 Elm St")
        self.assertEqual(shipment["to_address"]["street1"], "5 Dock Rd")
        [page] = self.pages(self.download(action).content)
        self.assertIn(f"Tracking {parcel.tracking_number}", page)

        shipments = dict(self.sim.shipments)
        again = ret.print_return_label()
        self.assertEqual(ret.logistics_parcel_ids, parcel, "not booked twice")
        self.assertEqual(self.sim.shipments, shipments)
        self.assertEqual(self.download(again).content, self.download(action).content)

    def test_return_label_booked_with_the_delivery_when_the_method_asks(self):
        self.method.return_label_on_delivery = True
        picking = self.make_delivery([(self.kettle, 1)])
        self.validate(picking)
        outbound = picking.logistics_parcel_ids.filtered(lambda p: not p.is_return)
        returned = picking.logistics_parcel_ids - outbound
        self.assertEqual((len(outbound), len(returned)), (1, 1))
        self.assertTrue(returned.is_return)
        self.assertEqual(picking.carrier_tracking_ref, outbound.tracking_number)
        self.assertIn(outbound.tracking_number, picking.carrier_tracking_url)
        picking.invalidate_recordset(["return_label_ids"])  # computed without dependencies
        self.assertEqual(picking.return_label_ids, returned.label_attachment_id)
        [page] = self.pages(self.download(picking.action_logistics_print_labels()).content)
        self.assertIn(outbound.tracking_number, page, "the shipping label only")

    def test_print_labels_is_offered_only_with_a_booked_parcel_label(self):
        arch = etree.fromstring(self.env["stock.picking"].get_view(view_type="form")["arch"])
        [button] = arch.xpath("//header/button[@name='action_logistics_print_labels']")
        self.assertEqual(button.get("invisible"), "not logistics_has_labels or state != 'done'")

        picking = self.make_delivery([(self.kettle, 1)])
        self.pack(picking, self.kettle, 2.0)
        self.validate(picking)
        self.assertTrue(picking.logistics_has_labels)

        # a parcel a 3PL shipped, only followed: no label here, nothing to print
        followed = self.make_delivery([(self.mixer, 1)])
        self.env["logistics.carrier.parcel"].sudo().create(
            {
                "picking_id": followed.id,
                "backend_id": self.backend.id,
                "tracking_number": "1Z999AA10123456784",
                "state": "followed",
            }
        )
        self.assertTrue(followed.logistics_parcel_ids)
        self.assertFalse(followed.logistics_has_labels)
        with self.assertRaisesRegex(UserError, "has no label of a booked parcel to print"):
            followed.action_logistics_print_labels()
