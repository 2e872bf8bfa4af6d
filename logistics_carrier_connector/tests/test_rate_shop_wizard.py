"""The rate shop as a salesperson meets it on a quotation: *Add shipping* opens Odoo's
delivery wizard (``choose.delivery.carrier``), *Get rate* prices the order and *Add* puts
the delivery line on it; *Update shipping cost* reopens the wizard on the order's method and
prices it again. Every path ends in a price or in a message in words, never a traceback:
with every carrier answering, one down, all down, after an order line changed, and on an
order whose pricelist is in another currency than the company's."""

from unittest.mock import patch

from odoo.exceptions import UserError
from odoo.tests import Form, TransactionCase, new_test_user
from odoo.tools import config

from odoo.addons.logistics_integration_base.adapters import ADAPTERS

from .common import API_KEY, CarrierFixture, expected_price
from .test_rate_shop_capabilities import ODD_KEY, BrokenRatesAdapter

#: a port nothing listens on: a carrier that is down (connection refused)
DOWN_URL = "http://127.0.0.1:9/v2"


class TestRateShopWizard(CarrierFixture, TransactionCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.setup_carrier()
        env = cls.env
        cls.shop = env["delivery.carrier"].create(
            {
                "name": "Best rate",
                "delivery_type": "logistics",
                "product_id": env.ref("delivery.product_product_delivery").id,
                "logistics_rate_shop": True,
            }
        )
        # a second carrier account, down unless a test brings it up
        cls.second = cls._make_backend(
            name="Second Parcels",
            code="second-parcels",
            kind="carrier",
            provider="easypost",
            base_url=DOWN_URL,
            api_key="EZAK_second",
            timeout=2.0,
            circuit_threshold=0,
        )
        env["logistics.backend"].search(
            [("kind", "=", "carrier"), ("id", "not in", (cls.backend | cls.second).ids)]
        ).active = False
        cls.salesperson = new_test_user(
            env,
            login="rate-shop-seller",
            groups="sales_team.group_sale_salesman,base.group_user",
            company_id=env.company.id,
        )

    def make_order(self, qty=2, **vals):
        order = (
            self.env["sale.order"]
            .with_user(self.salesperson)
            .create(
                {
                    "partner_id": self.customer.id,
                    "warehouse_id": self.warehouse.id,
                    "order_line": [(0, 0, {"product_id": self.kettle.id, "product_uom_qty": qty})],
                    **vals,
                }
            )
        )
        return order

    def wizard_form(self, order, recompute=False):
        """The wizard as the order's button opens it (its action's context and view)."""
        order = order.with_user(self.salesperson)
        if recompute:
            order = order.with_context(carrier_recompute=True)
        action = order.action_open_delivery_wizard()
        Wizard = self.env["choose.delivery.carrier"].with_user(self.salesperson)
        return Form(Wizard.with_context(**action["context"]), view=action["view_id"])

    def add_shipping(self, order, method=None):
        """Add shipping: choose the rate-shop method (or ``method``), Get rate, Add."""
        form = self.wizard_form(order)
        form.carrier_id = method or self.shop
        wizard = form.save()
        wizard.update_price()
        wizard.button_confirm()
        return wizard

    def delivery_line(self, order):
        return order.order_line.filtered("is_delivery")

    def test_add_shipping_then_update_the_cost_on_the_same_order(self):
        order = self.make_order()
        wizard = self.add_shipping(order)
        price = expected_price([4.0], "USPS", "GroundAdvantage")
        self.assertEqual(wizard.delivery_price, price)
        self.assertIn("Best offer: USPS GroundAdvantage with Parcel Co.", wizard.delivery_message)
        self.assertIn("Not answering: Second Parcels", wizard.delivery_message)
        line = self.delivery_line(order)
        self.assertEqual((line.price_unit, order.carrier_id), (price, self.shop))
        # Update shipping cost: the wizard opens on the order's method, already priced
        form = self.wizard_form(order, recompute=True)
        self.assertEqual(form.carrier_id, self.shop)
        self.assertEqual(form.delivery_price, price)
        wizard = form.save()
        wizard.update_price()
        wizard.button_confirm()
        line = self.delivery_line(order)
        self.assertEqual(len(line), 1, "the delivery line is replaced, not added twice")
        self.assertEqual(line.price_unit, price)
        self.assertIn('"service": "GroundAdvantage"', order.logistics_carrier_choice)

    def test_update_with_a_second_carrier_up_takes_the_best_of_both(self):
        order = self.make_order()
        self.add_shipping(order)
        self.second.base_url = self.sim.url("/v2")  # the same prices: Parcel Co stays best
        self.second.api_key = API_KEY
        form = self.wizard_form(order, recompute=True)
        wizard = form.save()
        wizard.update_price()
        self.assertNotIn("Not answering", wizard.delivery_message)
        wizard.button_confirm()
        self.assertEqual(len(self.delivery_line(order)), 1)

    def test_all_carriers_down_says_so_in_words(self):
        order = self.make_order()
        self.add_shipping(order)
        self.backend.base_url = DOWN_URL
        # Update shipping cost: the wizard opens with a notice, not a traceback
        form = self.wizard_form(order, recompute=True)
        self.assertFalse(form.delivery_price)
        wizard = form.save()
        with self.assertRaises(UserError) as caught:
            wizard.update_price()
        message = str(caught.exception.args[0])
        self.assertRegex(
            message,
            r"^No carrier offered a service for this shipment: Parcel Co \(.*\); "
            r"Second Parcels \(.*\)\.",
        )
        self.assertNotIn("Traceback", message)
        # Update pressed anyway: no free shipping line, the order as it was
        price = self.delivery_line(order).price_unit
        with self.assertRaises(UserError) as caught:
            wizard.button_confirm()
        self.assertRegex(
            str(caught.exception.args[0]),
            rf"^Best rate has no price for {order.name}, so no shipping line was added or "
            r"changed: No carrier offered a service",
        )
        self.assertEqual(self.delivery_line(order).price_unit, price)
        self.assertTrue(price)

    def test_update_after_an_order_line_changed(self):
        order = self.make_order()
        self.add_shipping(order)
        with Form(order.with_user(self.salesperson)) as edit:
            with edit.order_line.edit(0) as line:
                line.product_uom_qty = 5  # 10 kg
        self.assertTrue(order.recompute_delivery_price)
        form = self.wizard_form(order, recompute=True)
        price = expected_price([10.0], "USPS", "GroundAdvantage")
        self.assertEqual(form.delivery_price, price)
        wizard = form.save()
        wizard.update_price()
        wizard.button_confirm()
        self.assertEqual(self.delivery_line(order).price_unit, price)
        self.assertFalse(order.recompute_delivery_price)

    def test_an_order_in_another_currency(self):
        env = self.env
        eur = env.ref("base.EUR")
        eur.active = True
        eur.rate_ids.unlink()
        env["res.currency.rate"].create(
            {"currency_id": eur.id, "name": "2020-01-01", "rate": 0.5, "company_id": env.company.id}
        )
        pricelist = env["product.pricelist"].create({"name": "Euro prices", "currency_id": eur.id})
        order = self.make_order(pricelist_id=pricelist.id)
        self.assertEqual(order.currency_id, eur)
        wizard = self.add_shipping(order)
        usd = expected_price([4.0], "USPS", "GroundAdvantage")
        self.assertAlmostEqual(wizard.delivery_price, round(usd * 0.5, 2), places=2)
        form = self.wizard_form(order, recompute=True)
        wizard = form.save()
        wizard.update_price()
        wizard.button_confirm()
        line = self.delivery_line(order)
        self.assertEqual(line.currency_id, eur)
        self.assertAlmostEqual(line.price_unit, round(usd * 0.5, 2), places=2)

    def assert_refused_in_words(self, order, expected):
        """Update shipping cost opens (the notice in the wizard, no traceback); Get rate
        says ``expected``; the delivery line stays as it was."""
        price = self.delivery_line(order).price_unit
        form = self.wizard_form(order, recompute=True)
        self.assertFalse(form.delivery_price)
        wizard = form.save()
        with self.assertRaises(UserError) as caught:
            wizard.update_price()
        self.assertRegex(str(caught.exception.args[0]), expected)
        self.assertEqual(self.delivery_line(order).price_unit, price)

    def test_a_carrier_account_whose_key_cannot_be_read(self):
        """The API key was stored with another encryption key (a database restored on
        another server): the method says so in words, the rate shop leaves it out."""
        order = self.make_order()
        self.add_shipping(order, self.method)
        with patch.dict(config.options, {"logistics_secret_key": "another-key"}):
            self.assert_refused_in_words(
                order,
                r"^Carrier backend Parcel Co cannot be used: A stored secret cannot be "
                r"decrypted .* Enter the secret again\.",
            )
        shop_order = self.make_order()
        self.add_shipping(shop_order)
        with patch.dict(config.options, {"logistics_secret_key": "another-key"}):
            self.assert_refused_in_words(
                shop_order,
                r"^No carrier offered a service for this shipment: Parcel Co \(A stored "
                r"secret cannot be decrypted",
            )

    def test_a_carrier_failing_unexpectedly_on_a_single_service_method(self):
        order = self.make_order()
        self.add_shipping(order, self.method)
        ADAPTERS.add(ODD_KEY, BrokenRatesAdapter)
        self.addCleanup(ADAPTERS._entries.pop, ODD_KEY)
        self.backend.write({"provider": "generic", "protocol": "soap"})
        with self.assertLogs(
            "odoo.addons.logistics_carrier_connector.models.delivery_carrier", "ERROR"
        ):
            self.assert_refused_in_words(
                order,
                r"^Carrier Parcel Co could not give a rate: an unexpected error \(KeyError\)",
            )

    def test_a_carrier_whose_circuit_is_open(self):
        order = self.make_order()
        self.add_shipping(order, self.method)
        self.backend.write({"circuit_threshold": 1})
        self.backend.base_url = DOWN_URL
        self.assert_refused_in_words(order, r"^Carrier Parcel Co is unavailable right now")
        self.assert_refused_in_words(order, r"circuit open")
