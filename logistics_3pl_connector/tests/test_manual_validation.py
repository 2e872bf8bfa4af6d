"""A delivery the 3PL executes is confirmed by the 3PL: validating it by hand in Odoo asks
for a reason, kept in its chatter; shipment confirmations validate without asking."""

from odoo.tests import TransactionCase, tagged

from .common import ThreePLFixture


@tagged("post_install", "-at_install")
class TestManualValidation(ThreePLFixture, TransactionCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.setup_3pl()

    def test_validating_by_hand_asks_why_and_keeps_it(self):
        picking = self.make_delivery([(self.chair, 1)])
        self.assertEqual(picking.logistics_state, "released")
        action = picking.button_validate()
        self.assertEqual(action["res_model"], "logistics.manual.validation")
        self.assertEqual(action["name"], "Validate without the 3PL's confirmation")
        self.assertEqual(picking.state, "assigned", "nothing validated before the reason")
        wizard = (
            self.env["logistics.manual.validation"]
            .with_context(**action["context"])
            .create({"reason": "the 3PL's portal is down; shipped from the counter"})
        )
        self.assertEqual(wizard.backend_names, "Acme Fulfilment")
        self.assertEqual(wizard.picking_ids, picking)
        wizard.action_confirm()
        self.assertEqual(picking.state, "done")
        notes = [body for body in picking.message_ids.mapped("body") if body]
        self.assertTrue(
            any(
                "Validated by hand in Odoo by" in body
                and "not confirmed by 3PL Acme Fulfilment" in body
                and "portal is down" in body
                for body in notes
            ),
            notes,
        )

    def test_deliveries_no_3pl_runs_validate_as_usual(self):
        own = self.env["stock.warehouse"].create({"name": "Own warehouse", "code": "OWN"})
        self.env["stock.quant"]._update_available_quantity(self.chair, own.lot_stock_id, 5)
        picking = self.make_delivery([(self.chair, 1)], warehouse=own)
        self.assertFalse(picking.logistics_backend_id)
        picking.button_validate()
        self.assertEqual(picking.state, "done")
