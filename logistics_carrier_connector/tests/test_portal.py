"""The customer's portal: each parcel of their order's deliveries with its timeline in
words, last scan, signer and proof of delivery; nothing of another customer's order, by
login or by another order's access token."""

from datetime import date, datetime, timedelta
from urllib.parse import urlencode

from odoo.tests import new_test_user, tagged
from odoo.tools.misc import format_date, format_datetime

from odoo.addons.logistics_integration_base.tests.common import LogisticsHttpCase

from .common import CarrierFixture

POD_URL = "https://carrier.example/pod/1Z-ANN-0001.pdf"


@tagged("post_install", "-at_install")
class TestPortalTracking(CarrierFixture, LogisticsHttpCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.setup_carrier()
        cls.ann = new_test_user(
            cls.env, login="portal_ann", groups="base.group_portal", name="Ann Portal", tz="UTC"
        )
        cls.beth = new_test_user(
            cls.env, login="portal_beth", groups="base.group_portal", name="Beth Elsewhere"
        )
        for user in (cls.ann, cls.beth):
            user.partner_id.write(
                {
                    "street": "12 Elm St",
                    "city": "Springfield",
                    "zip": "62701",
                    "country_id": cls.env.ref("base.us").id,
                }
            )
        cls.order_ann, cls.parcel_ann = cls.shipped_order(cls.ann.partner_id, "1Z-ANN-0001")
        cls.order_beth, cls.parcel_beth = cls.shipped_order(cls.beth.partner_id, "1Z-BETH-0002")
        cls.parcel_ann.sudo().write({"pod_signed_by": "J. DOE", "pod_url": POD_URL})
        cls.parcel_beth.sudo().write(
            {"pod_signed_by": "B. NEIGHBOUR", "pod_url": "https://carrier.example/pod/beth.pdf"}
        )

    @classmethod
    def shipped_order(cls, partner, tracking_number):
        """A confirmed order of ``partner`` whose delivery has one parcel the carrier
        picked up in Newark and delivered in Springfield."""
        order = cls.env["sale.order"].create(
            {
                "partner_id": partner.id,
                "carrier_id": cls.method.id,
                "order_line": [(0, 0, {"product_id": cls.kettle.id, "product_uom_qty": 1})],
            }
        )
        order.action_confirm()
        parcel = cls.env["logistics.carrier.parcel"].create(
            {
                "picking_id": order.picking_ids.id,
                "backend_id": cls.backend.id,
                "carrier_id": cls.method.id,
                "tracking_number": tracking_number,
                "package_name": "Bulk Content",
                "service": "USPS Priority",
            }
        )
        Event = cls.env["logistics.carrier.tracking.event"]
        for hour, milestone, code, what, where in (
            (8, "picked_up", "PU-SCAN-77", "Picked up by the driver", "Newark, US"),
            (30, "delivered", "DLV-SIGNED", "Delivered, front desk", "Springfield, US"),
        ):
            Event.create(
                {
                    "parcel_id": parcel.id,
                    "event_time": datetime(2026, 11, 30) + timedelta(hours=hour),
                    "milestone": milestone,
                    "carrier_status": code,
                    "description": what,
                    "location": where,
                }
            )
        return order, parcel

    def page(self, order, **params):
        response = self.url_open(f"/my/orders/{order.id}?{urlencode(params)}")
        self.assertEqual(response.status_code, 200)
        return response

    def pod(self, order, parcel, **params):
        return self.url_open(
            f"/my/orders/{order.id}/proof-of-delivery/{parcel.id}?{urlencode(params)}",
            allow_redirects=False,
        )

    def test_the_customer_reads_their_parcel_timeline(self):
        self.authenticate("portal_ann", "portal_ann")
        response = self.page(self.order_ann)
        self.assertTrue(response.url.endswith(f"/my/orders/{self.order_ann.id}"), response.url)
        text = response.text
        delivered = format_datetime(
            self.env, datetime(2026, 12, 1, 6), tz="UTC", dt_format="medium"
        )
        for expected in (
            "Parcel Co USPS Priority",
            "1Z-ANN-0001",
            "Delivered",
            "Last scan:",
            delivered,
            "Springfield, US",
            "Delivered, front desk",
            "signed by",
            "J. DOE",
            "Picked up by the driver",
            f"/my/orders/{self.order_ann.id}/proof-of-delivery/{self.parcel_ann.id}",
        ):
            self.assertIn(expected, text)
        # the carrier's codes and nothing of the other customer's order
        for absent in (
            "DLV-SIGNED",
            "PU-SCAN-77",
            "Beth Elsewhere",
            "1Z-BETH-0002",
            "B. NEIGHBOUR",
        ):
            self.assertNotIn(absent, text)

    def test_the_estimated_delivery_until_the_parcel_is_delivered(self):
        order, parcel = self.shipped_order(self.ann.partner_id, "1Z-ANN-0003")
        parcel.event_ids.filtered(lambda e: e.milestone == "delivered").unlink()
        parcel.sudo().estimated_delivery = date(2026, 12, 9)
        self.authenticate("portal_ann", "portal_ann")
        estimate = format_date(self.env, date(2026, 12, 9))
        self.assertIn(f"Estimated delivery: <span>{estimate}</span>", self.page(order).text)
        # delivered: the estimate is history, the delivery day is shown instead
        self.assertNotIn("Estimated delivery", self.page(self.order_ann).text)
        self.parcel_ann.sudo().estimated_delivery = date(2026, 12, 3)
        self.assertNotIn("Estimated delivery", self.page(self.order_ann).text)

    def test_the_proof_of_delivery_of_their_own_parcel_only(self):
        self.authenticate("portal_ann", "portal_ann")
        response = self.pod(self.order_ann, self.parcel_ann)
        self.assertEqual(response.status_code, 303)
        self.assertEqual(response.headers["Location"], POD_URL)
        # another customer's parcel, through their own order or through the other's
        self.assertEqual(self.pod(self.order_ann, self.parcel_beth).status_code, 404)
        self.assertEqual(self.pod(self.order_beth, self.parcel_beth).status_code, 404)
        # their orders list theirs only, and the other customer's page is not theirs to read
        listed = self.url_open("/my/orders").text
        self.assertIn(self.order_ann.name, listed)
        self.assertNotIn(self.order_beth.name, listed)
        response = self.url_open(f"/my/orders/{self.order_beth.id}")
        self.assertNotIn("1Z-BETH-0002", response.text)
        self.assertNotIn(f"/my/orders/{self.order_beth.id}", response.url)

    def test_a_parcel_with_no_proof_has_no_download(self):
        self.parcel_ann.sudo().pod_url = False
        self.authenticate("portal_ann", "portal_ann")
        self.assertNotIn("proof-of-delivery", self.page(self.order_ann).text)
        self.assertEqual(self.pod(self.order_ann, self.parcel_ann).status_code, 404)

    def test_the_order_link_with_its_access_token(self):
        token = self.order_ann._portal_ensure_token()
        text = self.page(self.order_ann, access_token=token).text
        self.assertIn("1Z-ANN-0001", text)
        self.assertIn(
            f"/my/orders/{self.order_ann.id}/proof-of-delivery/{self.parcel_ann.id}"
            f"?access_token={token}",
            text,
        )
        response = self.pod(self.order_ann, self.parcel_ann, access_token=token)
        self.assertEqual((response.status_code, response.headers["Location"]), (303, POD_URL))
        # the token opens that order only
        self.assertEqual(
            self.pod(self.order_beth, self.parcel_beth, access_token=token).status_code, 404
        )
        self.assertEqual(
            self.pod(self.order_ann, self.parcel_ann, access_token="x" * 36).status_code, 404
        )

    def test_portal_tour(self):
        self.start_tour(
            "/my/orders",
            "logistics_carrier_portal_timeline",
            login="portal_ann",
            step_delay=None,
        )
