"""A delivery customs hold: its form says why and what happens next (a banner, as the 3PL's),
Validate is not its primary button, refusals name the state in words, and a customs manager
is offered Override only once the declaration was sent."""

from lxml import etree

from odoo.exceptions import UserError
from odoo.tests import TransactionCase, tagged

from odoo.addons.logistics_integration_base.tests.common import LogisticsHttpCase

from .common import CustomsFixture


class HeldDeliveryMixin(CustomsFixture):
    def export(self):
        delivery = self.delivery_of(self.sale(self.us_customer, [(self.kettle, 1, 40.0)]))
        return delivery, delivery.logistics_declaration_ids

    def hold_for_documents(self, declaration):
        declaration.sudo().state = "accepted"
        declaration._logistics_apply_status(
            {
                "reference": declaration.name,
                "status": "documents_required",
                "reason": "Proof of preferential origin required before release",
                "documents_requested": [{"code": "N954", "name": "Certificate of origin EUR.1"}],
            },
            None,
        )
        self.assertEqual(declaration.state, "documents_required")


class TestHeldDelivery(HeldDeliveryMixin, TransactionCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.setup_customs()

    def form_arch(self, model="stock.picking", view=None):
        arch = self.env[model].get_view(view_id=view, view_type="form")["arch"]
        return etree.fromstring(arch)

    def test_the_banner_says_why_and_what_happens_next(self):
        delivery, declaration = self.export()
        self.assertTrue(delivery.logistics_customs_held)
        self.assertEqual(
            delivery.logistics_customs_why,
            f"Its customs declaration {declaration.name} is not sent to the customs broker yet.",
        )
        self.assertIn("press Send to broker", delivery.logistics_customs_next)

        self.hold_for_documents(declaration)
        delivery.invalidate_recordset()
        self.assertEqual(
            delivery.logistics_customs_why,
            f"Its customs declaration {declaration.name} is waiting for customs release: "
            "customs ask for documents.",
        )
        self.assertIn("Certificate of origin EUR.1", delivery.logistics_customs_next)
        self.assertIn(f"Send them to {self.broker.name}", delivery.logistics_customs_next)

        declaration._logistics_apply_status(
            {"reference": declaration.name, "status": "released"}, None
        )
        delivery.invalidate_recordset()
        self.assertFalse(delivery.logistics_customs_held)
        self.assertFalse(delivery.logistics_customs_why)

    def test_a_refusal_names_the_state_in_words(self):
        delivery, declaration = self.export()
        self.hold_for_documents(declaration)
        with self.assertRaises(UserError) as caught:
            self.validate(delivery)
        text = str(caught.exception)
        self.assertIn(
            f"{delivery.name} cannot be validated: its customs declaration {declaration.name} "
            "is waiting for customs release: customs ask for documents.",
            text,
        )
        self.assertNotIn("documents required, not released", text)
        self.assertIn("Certificate of origin EUR.1", text, "what to do comes with it")

    def test_the_form_has_the_banner_and_validate_is_not_primary_while_held(self):
        arch = self.form_arch()
        [banner] = arch.xpath("//div[@name='logistics_customs_banner']")
        self.assertEqual(banner.get("invisible"), "not logistics_customs_held")
        self.assertTrue(banner.xpath(".//field[@name='logistics_customs_why']"))
        self.assertTrue(banner.xpath(".//field[@name='logistics_customs_next']"))
        [primary] = arch.xpath(
            "//header/button[@name='button_validate'][contains(@class, 'oe_highlight')]"
        )
        self.assertIn("logistics_customs_held", primary.get("invisible"))
        [secondary] = arch.xpath(
            "//header/button[@name='button_validate']"
            "[contains(@class, 'o_logistics_validate_customs')]"
        )
        self.assertNotIn("oe_highlight", secondary.get("class"))
        self.assertIn("not logistics_customs_held", secondary.get("invisible"))

    def test_override_is_offered_once_the_declaration_was_sent(self):
        delivery, declaration = self.export()
        with self.assertRaisesRegex(UserError, "was never sent to the customs broker"):
            declaration._logistics_override("Urgent")
        self.assertTrue(delivery.logistics_customs_held, "nothing moved")
        arch = self.form_arch("logistics.customs.declaration")
        [button] = arch.xpath("//header/button[@name='action_open_override']")
        invisible = button.get("invisible")
        self.assertIn("state in ('draft', 'released')", invisible)
        self.assertIn("(state == 'cancelled' and not submitted_at)", invisible)

        self.hold_for_documents(declaration)
        declaration._logistics_override("Broker confirmed the release by phone")
        delivery.invalidate_recordset()
        self.assertFalse(delivery.logistics_customs_held)
        self.assertIs(self.validate(delivery), True)


@tagged("post_install", "-at_install")
class TestHeldDeliveryTour(HeldDeliveryMixin, LogisticsHttpCase):
    """The delivery form of a customs-held delivery, as a stock user opens it."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.setup_customs()

    def test_a_customs_held_delivery_shows_its_banner(self):
        delivery, declaration = self.export()
        self.hold_for_documents(declaration)
        self.start_tour(
            f"/odoo/action-stock.action_picking_tree_all/{delivery.id}",
            "logistics_customs_held_delivery",
            login="admin",
        )
