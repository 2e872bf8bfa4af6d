"""Duties customs report on an import become a draft landed cost on its receipt."""

from odoo.tests import TransactionCase

from odoo.addons.logistics_customs.tests.common import CustomsFixture


class TestLandedCosts(CustomsFixture, TransactionCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.setup_customs()
        company = cls.env.company
        if not company.lc_journal_id:
            company.lc_journal_id = cls.env["account.journal"].create(
                {"name": "Landed costs", "type": "general", "code": "LCJ"}
            )
        cls.eur = cls.env.ref("base.EUR")
        cls.eur.active = True
        cls.env["res.currency.rate"].create({"currency_id": cls.eur.id, "rate": 0.8})

    def released_import(self, duties):
        order = self.env["purchase.order"].create(
            {
                "partner_id": self.cn_supplier.id,
                "order_line": [
                    (0, 0, {"product_id": self.kettle.id, "product_qty": 10, "price_unit": 18.0})
                ],
            }
        )
        order.button_confirm()
        receipt = order.picking_ids
        declaration = receipt.logistics_declaration_ids
        declaration.sudo().state = "accepted"
        declaration._logistics_apply_status(
            {
                "reference": declaration.name,
                "status": "released",
                "broker_reference": "26DE4F7H2K9M1P3Q5R",
                "duties": duties,
            },
            None,
        )
        return receipt, declaration

    def test_duties_and_fees_become_a_draft_landed_cost_without_the_vat(self):
        if self.env.company.currency_id == self.eur:
            self.skipTest("the test company must not keep its books in EUR")
        receipt, declaration = self.released_import(
            [
                {"type": "duty", "amount": 20.0, "currency": "EUR"},
                {"type": "vat", "amount": 40.0, "currency": "EUR"},
                {"type": "fee", "amount": 5.0, "currency": "EUR"},
            ]
        )
        self.assertEqual(declaration.state, "released")
        cost = declaration.landed_cost_id
        self.assertEqual(cost.state, "draft")
        self.assertEqual(cost.picking_ids, receipt)
        lines = {line.product_id.name: line for line in cost.cost_lines}
        self.assertEqual(set(lines), {"Customs duties", "Customs clearance fees"}, "no VAT")
        self.assertAlmostEqual(lines["Customs duties"].price_unit, 25.0, "20 EUR at 1.25")
        self.assertEqual(lines["Customs duties"].split_method, "by_current_cost_price")
        self.assertAlmostEqual(lines["Customs clearance fees"].price_unit, 6.25)
        self.assertIn(declaration.name, lines["Customs duties"].name)
        self.assertIn("26DE4F7H2K9M1P3Q5R", lines["Customs duties"].name)
        self.assertAlmostEqual(cost.amount_total, 31.25)
        self.assertIn("Draft landed cost", declaration.message_ids[0].body)

    def test_a_release_without_costs_creates_none(self):
        _receipt, declaration = self.released_import(
            [{"type": "vat", "amount": 40.0, "currency": "EUR"}]
        )
        self.assertEqual(declaration.state, "released")
        self.assertFalse(declaration.landed_cost_id)

    def test_an_export_gets_no_landed_cost(self):
        order = self.sale(self.us_customer, [(self.kettle, 1, 40.0)])
        declaration = self.delivery_of(order).logistics_declaration_ids
        declaration.sudo().state = "accepted"
        declaration._logistics_apply_status(
            {
                "reference": declaration.name,
                "status": "released",
                "duties": [{"type": "duty", "amount": 3.0, "currency": "USD"}],
            },
            None,
        )
        self.assertFalse(declaration.landed_cost_id)
