"""The form of a delivery a 3PL ships: its next step is the 3PL's (Release to 3PL), not
Validate; validating by hand stays possible, as a secondary button asking for a reason."""

from lxml import etree

from odoo.tests import TransactionCase

from .common import ThreePLFixture


class TestDeliveryForm(ThreePLFixture, TransactionCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.setup_3pl()

    def header(self):
        arch = self.env["stock.picking"].get_view(view_type="form")["arch"]
        return etree.fromstring(arch).xpath("//header")[0]

    def test_validate_is_not_primary_on_a_delivery_the_3pl_ships(self):
        picking = self.make_delivery([(self.chair, 1)])
        self.assertTrue(picking.logistics_shipped_by_3pl)
        own = self.env["stock.warehouse"].search(
            [("company_id", "=", self.env.company.id), ("logistics_backend_id", "=", False)],
            limit=1,
        )
        ours = self.make_delivery([(self.chair, 1)], warehouse=own, confirm=False)
        self.assertFalse(ours.logistics_shipped_by_3pl, "no 3PL runs that warehouse")

        header = self.header()
        [primary] = header.xpath(
            "button[@name='button_validate'][contains(@class, 'oe_highlight')]"
        )
        self.assertIn("logistics_shipped_by_3pl", primary.get("invisible"))
        [secondary] = header.xpath(
            "button[@name='button_validate'][contains(@class, 'o_logistics_validate_3pl')]"
        )
        self.assertNotIn("oe_highlight", secondary.get("class"))
        self.assertEqual(
            secondary.get("invisible"),
            "not logistics_shipped_by_3pl or state not in ('waiting', 'assigned')",
        )
        [release] = header.xpath("button[@name='action_logistics_release']")
        self.assertIn("btn-primary", release.get("class"))

        # pressed anyway, Validate asks for the reason first
        action = picking.button_validate()
        self.assertEqual(action["res_model"], "logistics.manual.validation")
