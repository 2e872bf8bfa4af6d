"""The customer's portal says where their export stands with customs, in words: waiting,
held for checks, or cleared and when; nothing of the declaration's content."""

import re
from datetime import datetime

from odoo.tests import new_test_user, tagged
from odoo.tools.misc import format_date

from odoo.addons.logistics_integration_base.tests.common import LogisticsHttpCase

from .test_held_delivery import HeldDeliveryMixin


@tagged("post_install", "-at_install")
class TestPortalCustomsStatus(HeldDeliveryMixin, LogisticsHttpCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.setup_customs()
        cls.buyer = new_test_user(
            cls.env, login="portal_maple", groups="base.group_portal", name="Maple Buyer", tz="UTC"
        )
        cls.buyer.partner_id.parent_id = cls.us_customer

    def export_order(self):
        delivery, declaration = self.export()
        self.assertEqual(declaration.direction, "export")
        return delivery.sale_id, declaration

    def status(self, order):
        self.authenticate("portal_maple", "portal_maple")
        response = self.url_open(f"/my/orders/{order.id}")
        self.assertEqual(response.status_code, 200)
        self.assertIn(order.name, response.text)
        # the page's words, as the customer reads them
        return " ".join(re.sub(r"<[^>]+>", " ", response.text).split())

    def test_cleared_by_customs_on_the_day(self):
        order, declaration = self.export_order()
        self.assertIn("Declared for export: waiting for customs clearance", self.status(order))
        declaration.sudo().state = "submitted"
        self.assertTrue(
            declaration._logistics_apply_status(
                {
                    "reference": declaration.name,
                    "status": "released",
                    "broker_reference": "26DE0000000000001A",
                    "event_time": "2026-12-03T09:30:00Z",
                },
                None,
            )
        )
        text = self.status(order)
        day = format_date(self.env, datetime(2026, 12, 3).date())
        self.assertIn(f"Cleared by customs on {day}", text)
        self.assertNotIn("26DE0000000000001A", text)

    def test_held_for_checks_says_so_without_the_reason(self):
        order, declaration = self.export_order()
        self.hold_for_documents(declaration)
        text = self.status(order)
        self.assertIn("Held by customs for checks", text)
        self.assertNotIn("preferential origin", text)
        self.assertNotIn("EUR.1", text)
