"""Declared values are the prices actually paid: each order line's subtotal before tax
(after its discount), in the order's currency, per unit, times the quantity the transfer
carries -- for sales and purchases, in any currency, and for a part of an order."""

from odoo.tests import TransactionCase

from .common import CustomsFixture


class TestDeclaredValues(CustomsFixture, TransactionCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.setup_customs()

    def sale_with_discounts(self, lines, currency=None):
        """``lines``: (product, quantity, unit price, discount %)."""
        vals = {
            "partner_id": self.us_customer.id,
            "warehouse_id": self.warehouse.id,
            "order_line": [
                (
                    0,
                    0,
                    {
                        "product_id": product.id,
                        "product_uom_qty": qty,
                        "price_unit": price,
                        "discount": discount,
                        "tax_id": [(5, 0, 0)],
                    },
                )
                for product, qty, price, discount in lines
            ],
        }
        if currency:
            vals["pricelist_id"] = (
                self.env["product.pricelist"]
                .create({"name": f"{currency.name} list", "currency_id": currency.id})
                .id
            )
        order = self.env["sale.order"].create(vals)
        order.action_confirm()
        return order

    def test_a_sale_discount_is_declared_at_the_price_paid(self):
        order = self.sale_with_discounts([(self.kettle, 10, 30.0, 20.0)])
        self.assertAlmostEqual(order.order_line.price_subtotal, 240.0)
        declaration = self.delivery_of(order).logistics_declaration_ids
        [line] = declaration.line_ids
        self.assertEqual((line.quantity, line.value), (10, 240.0))
        self.assertEqual(declaration.total_value, 240.0)
        payload = declaration._logistics_payload()
        self.assertEqual(payload["total_value"], 240.0)
        self.assertEqual(payload["lines"][0]["value"], 240.0)

    def test_a_purchase_discount_is_declared_at_the_price_paid(self):
        order = self.env["purchase.order"].create(
            {
                "partner_id": self.cn_supplier.id,
                "order_line": [
                    (
                        0,
                        0,
                        {
                            "product_id": self.kettle.id,
                            "product_qty": 10,
                            "price_unit": 18.0,
                            "discount": 10.0,
                            "taxes_id": [(5, 0, 0)],
                        },
                    ),
                    (
                        0,
                        0,
                        {
                            "product_id": self.toaster.id,
                            "product_qty": 3,
                            "price_unit": 12.5,
                            "taxes_id": [(5, 0, 0)],
                        },
                    ),
                ],
            }
        )
        order.button_confirm()
        declaration = order.picking_ids.logistics_declaration_ids
        self.assertEqual(declaration.direction, "import")
        kettles, toasters = declaration.line_ids.sorted("sequence")
        self.assertEqual((kettles.quantity, kettles.value), (10, 162.0))  # 10 x 18.00 - 10 %
        self.assertEqual((toasters.quantity, toasters.value), (3, 37.5))
        self.assertEqual(declaration.total_value, 199.5)

    def test_a_foreign_currency_order_is_declared_in_its_currency(self):
        eur = self.env.ref("base.EUR")
        eur.active = True
        if self.company.currency_id == eur:
            self.skipTest("the test company must not keep its books in EUR")
        self.env["res.currency.rate"].create({"currency_id": eur.id, "rate": 0.8})
        order = self.sale_with_discounts(
            [(self.kettle, 10, 30.0, 20.0), (self.kettle_xl, 3, 55.0, 0.0)], currency=eur
        )
        self.assertEqual(order.currency_id, eur)
        declaration = self.delivery_of(order).logistics_declaration_ids
        self.assertEqual(declaration.currency_id, eur)
        self.assertAlmostEqual(declaration.exchange_rate, 1.25, places=6)
        [kettles] = declaration.line_ids  # one HS code and origin
        self.assertEqual(kettles.quantity, 13)
        self.assertEqual(kettles.value, 240.0 + 165.0)  # EUR, as paid; not converted
        payload = declaration._logistics_payload()
        self.assertEqual((payload["currency"], payload["total_value"]), ("EUR", 405.0))

    def test_a_partial_shipment_declares_the_part_shipped_at_the_price_paid(self):
        order = self.sale_with_discounts([(self.kettle, 10, 30.0, 20.0)])
        delivery = self.delivery_of(order)
        first = delivery.logistics_declaration_ids
        self.assertEqual((first.line_ids.quantity, first.line_ids.value), (10, 240.0))
        first.sudo().state = "submitted"  # an override is for a declaration customs know of
        first._logistics_override("Customs cleared the first 6 kettles by phone")
        delivery.move_ids.quantity = 6
        delivery.with_context(skip_backorder=True).button_validate()
        self.assertEqual(delivery.state, "done")
        backorder = delivery.backorder_ids
        self.assertEqual(backorder.move_ids.product_uom_qty, 4)
        # the rest crosses the border later, under a declaration of its own
        [second] = backorder.logistics_declaration_ids
        self.assertEqual((second.state, second.direction), ("draft", "export"))
        [line] = second.line_ids
        self.assertEqual((line.quantity, line.value), (4, 96.0))  # 4 x 24.00 paid
        self.assertEqual(second.total_value, 96.0)
        self.assertEqual(second._logistics_payload()["lines"][0]["value"], 96.0)
