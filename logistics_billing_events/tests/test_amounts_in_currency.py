"""Every amount of billing reads with its currency: the contract rates, a rule's price and
monthly minimum, the freight tolerance and the dashboard's freight variance. A unit price
keeps the digits of Product Price (a monetary field would round it to cents); a rule's
percentage of freight reads as one."""

from odoo.tests import TransactionCase, tagged

from odoo.addons.logistics_integration_base.tests.test_plain_words import amounts_shown


@tagged("post_install", "-at_install")
class TestBillingAmountsInCurrency(TransactionCase):
    def test_every_amount_of_billing_is_shown_with_its_currency(self):
        missing, checked = amounts_shown(self.env)
        self.assertFalse(missing, "amounts shown without their currency")
        for amount in (
            ("logistics.billing.rule", "monthly_minimum"),
            ("logistics.freight.rate", "price"),
            ("logistics.backend", "freight_tolerance_amount"),
            ("logistics.backend", "tile_freight_variance"),
            ("logistics.billing.event", "price_unit"),
            ("logistics.billing.event", "amount"),
            ("logistics.freight.invoice", "variance"),
        ):
            self.assertIn(amount, checked, "shown somewhere, and checked")
        fields = self.env["logistics.billing.rule"]._fields
        self.assertEqual(fields["monthly_minimum"].type, "monetary")
        self.assertEqual(
            self.env["logistics.backend"]._fields["freight_tolerance_amount"].type, "monetary"
        )

    def test_a_unit_price_keeps_its_digits_and_reads_with_its_currency(self):
        self.env.ref("product.decimal_price").digits = 4
        currency = self.env.company.currency_id
        product = self.env["product.product"].create(
            {"name": "Pick & pack per unit", "type": "service"}
        )
        Rule = self.env["logistics.billing.rule"]
        per_unit = Rule.create(
            {
                "name": "Pick & pack per unit",
                "milestone": "shipped",
                "product_id": product.id,
                "price_basis": "per_unit",
                "price": 0.0355,
            }
        )
        self.assertEqual(per_unit.price, 0.0355, "not rounded to the currency's cents")
        self.assertIn("0.0355", per_unit.price_label)
        self.assertIn(currency.symbol, per_unit.price_label)
        self.assertTrue(per_unit.price_label.endswith("per unit"), per_unit.price_label)
        self.assertEqual(per_unit._logistics_quantity({"units": 10}), (10.0, 0.0355, None))

        percent = Rule.create(
            {
                "name": "Freight surcharge",
                "milestone": "delivered",
                "product_id": product.id,
                "price_basis": "percent_freight",
                "freight_percent": 2.5,
            }
        )
        self.assertEqual((percent.price, percent.price_label), (2.5, "2.5% of freight"))

        storage = Rule.create(
            {
                "name": "Storage per pallet",
                "milestone": "storage",
                "product_id": product.id,
                "price_basis": "per_pallet_day",
                "price": 0.5,
                "monthly_minimum": 25.004,
            }
        )
        self.assertEqual(storage.monthly_minimum, currency.round(25.004))
        quantity, price, note = storage._logistics_quantity({"pallet_days": 10})
        self.assertEqual((quantity, price), (1.0, 25.0))
        self.assertIn(f"(10.0 at 0.5000 {currency.name} come to less)", note)
