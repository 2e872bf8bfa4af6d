"""A carrier quoting in another currency than the order's: its price is converted with
Odoo's rates at the order date (never read as the order's currency), the carrier's own
figure is shown beside it, the rate shop compares converted prices, and a booking is
recorded in the order's currency. A currency Odoo cannot convert is an error in words."""

from logistics_simulators.easypost import EasyPostSimulator

from odoo.tests import TransactionCase, tagged

from odoo.addons.logistics_integration_base.tests.common import LogisticsHttpCase, run_jobs

from .common import API_KEY, CarrierFixture, expected_price


class CurrencyFixture(CarrierFixture):
    """Parcel Co quotes in USD (the company's currency); Maple Post, a second carrier
    backend on a simulator of its own, quotes in CAD at 1.2 times Parcel Co's figures. One
    USD is 1.25 CAD until June 2026, 1.382 CAD from 1 June, 1.5 CAD from 20 June."""

    ORDER_DATE = "2026-06-15 10:00:00"

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.setup_carrier()
        env = cls.env
        cls.usd = env.company.currency_id
        assert cls.usd.name == "USD", "the test company works in USD"
        cls.cad = env.ref("base.CAD")
        cls.cad.active = True
        cls.cad.rate_ids.unlink()
        for day, rate in (("2026-01-01", 1.25), ("2026-06-01", 1.382), ("2026-06-20", 1.5)):
            env["res.currency.rate"].create(
                {"currency_id": cls.cad.id, "name": day, "rate": rate, "company_id": env.company.id}
            )
        cls.maple_sim = EasyPostSimulator(api_key=API_KEY, currency="CAD", price_factor=1.2)
        cls.maple_sim.start()
        cls.addClassCleanup(cls.maple_sim.stop)
        cls.maple = cls._make_backend(
            name="Maple Post",
            code="maple-post",
            kind="carrier",
            provider="easypost",
            base_url=cls.maple_sim.url("/v2"),
            api_key=API_KEY,
            timeout=3.0,
            circuit_threshold=0,
        )
        cls.maple_priority = cls.method.copy(
            {"name": "Maple Post USPS Priority", "logistics_backend_id": cls.maple.id}
        )
        # 3.867 kg is 136.4 oz: USPS Priority costs 7.00 + 0.05 x 136.4 = 13.82
        cls.heavy_kettle = cls.env["product.product"].create(
            {"name": "Cast iron kettle", "is_storable": True, "weight": 3.867}
        )
        env["stock.quant"]._update_available_quantity(
            cls.heavy_kettle, cls.warehouse.lot_stock_id, 50
        )

    def setUp(self):
        super().setUp()
        self.maple_sim.reset()

    def make_order(self, lines, date_order=None):
        return self.env["sale.order"].create(
            {
                "partner_id": self.customer.id,
                "warehouse_id": self.warehouse.id,
                "date_order": date_order or self.ORDER_DATE,
                "order_line": [
                    (0, 0, {"product_id": product.id, "product_uom_qty": qty})
                    for product, qty in lines
                ],
            }
        )

    def quoting_in(self, code):
        """Maple Post quotes (and bills) in ``code`` for this test."""
        self.maple_sim.currency = code
        self.addCleanup(setattr, self.maple_sim, "currency", "CAD")


class TestCarrierCurrency(CurrencyFixture, TransactionCase):
    def test_a_cad_quote_on_a_usd_order_is_converted_at_the_order_date(self):
        order = self.make_order([(self.heavy_kettle, 1)])
        self.maple_sim.price_factor = 1.0
        self.addCleanup(setattr, self.maple_sim, "price_factor", 1.2)
        result = self.maple_priority.rate_shipment(order)
        self.assertTrue(result["success"], result)
        quote = [r for r in self.maple_sim.requests if r.path == "/v2/shipments"]
        self.assertEqual(len(quote), 1)
        # 13.82 CAD at 1.382 CAD per USD (the rate of 1 June, in force on 15 June; not the
        # rate of 20 June, nor 13.82 read as dollars)
        self.assertEqual(result["price"], 10.00)
        self.assertIn("13.82 CAD quoted by the carrier", result["warning_message"])
        self.assertIn("10.00 USD at Odoo's rate of", result["warning_message"])

    def test_a_quote_in_the_orders_currency_is_not_converted(self):
        order = self.make_order([(self.heavy_kettle, 1)])
        result = self.method.rate_shipment(order)
        self.assertEqual(result["price"], 13.82)
        self.assertFalse(result["warning_message"])

    def rate_shop_of_two_carriers(self):
        """A rate-shop delivery method, Parcel Co (USD) and Maple Post (CAD) the only carrier
        backends taking part."""
        shop = self.env["delivery.carrier"].create(
            {
                "name": "Best carrier",
                "delivery_type": "logistics",
                "product_id": self.env.ref("delivery.product_product_delivery").id,
                "logistics_rate_shop": True,
            }
        )
        self.env["logistics.backend"].search(
            [("kind", "=", "carrier"), ("id", "not in", (self.backend | self.maple).ids)]
        ).active = False
        return shop

    def test_the_rate_shop_compares_converted_prices(self):
        shop = self.rate_shop_of_two_carriers()
        order = self.make_order([(self.kettle, 2)])  # 4 kg, 141.1 oz
        result = shop.rate_shipment(order)
        self.assertTrue(result["success"], result)
        # USPS GroundAdvantage: Parcel Co 8.73 USD; Maple Post 8.733 x 1.2 = 10.48 CAD, the
        # higher number, but 10.48 / 1.382 = 7.58 USD: Maple Post is the cheaper carrier
        self.assertEqual(expected_price([4.0], "USPS", "GroundAdvantage"), 8.73)
        self.assertEqual(result["price"], 7.58)
        warning = result["warning_message"]
        self.assertIn("Best offer: USPS GroundAdvantage with Maple Post.", warning)
        self.assertIn("10.48 CAD quoted by the carrier, 7.58 USD", warning)
        self.assertIn("Also offered (USD): USPS GroundAdvantage 8.73 (5 d)", warning)
        self.assertIn('"backend_id": %d' % self.maple.id, order.logistics_carrier_choice)
        self.assertIn('"currency": "CAD"', order.logistics_carrier_choice)

    def test_a_currency_odoo_cannot_convert_is_an_error_in_words(self):
        order = self.make_order([(self.kettle, 1)])
        self.quoting_in("XYZ")
        result = self.maple_priority.rate_shipment(order)
        self.assertFalse(result["success"])
        self.assertEqual(
            result["error_message"],
            "Carrier Maple Post quoted in XYZ, a currency Odoo does not know: ask the carrier "
            "for prices in a currency Odoo knows, or choose another delivery method.",
        )
        nok = self.env.ref("base.NOK")
        nok.active = False
        self.quoting_in("NOK")
        result = self.maple_priority.rate_shipment(order)
        self.assertEqual(
            result["error_message"],
            "Carrier Maple Post quoted in NOK, a currency that is not active in Odoo: activate "
            "NOK among the currencies and give it an exchange rate, then try again.",
        )
        nok.active = True
        nok.rate_ids.unlink()
        result = self.maple_priority.rate_shipment(order)
        self.assertFalse(result["success"], "no rate: never converted 1:1")
        self.assertIn("Odoo has no exchange rate for NOK", result["error_message"])

    def test_a_carrier_whose_currency_cannot_be_converted_is_left_out_of_the_shop(self):
        shop = self.rate_shop_of_two_carriers()
        self.quoting_in("XYZ")
        result = shop.rate_shipment(self.make_order([(self.kettle, 2)]))
        self.assertTrue(result["success"], result)
        self.assertIn("with Parcel Co", result["warning_message"])
        self.assertIn(
            "Left out: Carrier Maple Post quoted in XYZ, a currency Odoo does not know",
            result["warning_message"],
        )

    def test_a_booking_is_recorded_in_the_orders_currency(self):
        self.maple_priority.write({"invoice_policy": "real", "logistics_rate_shop": False})
        self.maple_sim.price_factor = 1.0
        self.addCleanup(setattr, self.maple_sim, "price_factor", 1.2)
        order = self.make_order([(self.heavy_kettle, 1)])
        order.set_delivery_line(self.maple_priority, 10.0)
        order.action_confirm()
        order.date_order = self.ORDER_DATE  # confirmed on 15 June (confirming dates it)
        picking = order.picking_ids
        for move in picking.move_ids:
            move.quantity = move.product_uom_qty
        self.assertIs(picking.button_validate(), True)
        [parcel] = picking.logistics_parcel_ids
        # the carrier's own figure stays on the parcel (what its invoice will say)
        self.assertEqual((parcel.price, parcel.currency), (13.82, "CAD"))
        # the delivery's cost, in the order's currency at the order date's rate
        self.assertEqual(picking.carrier_price, 10.00)
        self.assertTrue(
            any("13.82 CAD quoted by the carrier, 10.00 USD" in m.body for m in picking.message_ids)
        )
        self.assertTrue(any("Cost: 10.00 USD" in m.body for m in picking.message_ids))
        delivery_line = order.order_line.filtered("is_delivery")
        self.assertEqual(delivery_line.price_unit, 10.00)

    def test_a_delivery_without_order_is_priced_in_the_company_currency(self):
        picking = self.make_delivery([(self.heavy_kettle, 1)], carrier=self.maple_priority)
        self.maple_sim.price_factor = 1.0
        self.addCleanup(setattr, self.maple_sim, "price_factor", 1.2)
        self.validate(picking)
        # today's rate (the latest, of 20 June 2026: 1.5 CAD per USD): 13.82 / 1.5 = 9.21
        self.assertEqual(picking.carrier_price, 9.21)
        self.assertEqual(picking.logistics_parcel_ids.currency, "CAD")


@tagged("post_install", "-at_install")
class TestQueuedBookingCurrency(CurrencyFixture, LogisticsHttpCase):
    def test_a_queued_booking_in_a_currency_odoo_cannot_convert_is_voided_and_failed(self):
        self.maple.carrier_booking_mode = "queued"
        self.quoting_in("XYZ")
        picking = self.make_delivery([(self.kettle, 1)], carrier=self.maple_priority)
        self.validate(picking)
        booking = picking.logistics_booking_message_id
        run_jobs(self.env)
        self.assertEqual(len(self.maple_sim.purchases), 1, "the carrier booked once")
        self.assertEqual((booking.state, booking.error_category), ("failed", "business"))
        self.assertIn("quoted in XYZ, a currency Odoo does not know", booking.error_message)
        self.assertIn("is voided at the carrier", booking.error_message)
        self.assertEqual(picking.logistics_booking_state, "failed")
        self.assertFalse(picking.logistics_parcel_ids)
        self.assertEqual(self.maple_sim.refunds, self.maple_sim.purchases, "voided")
        # corrected (the carrier now bills in CAD), retried: booked anew, once
        self.quoting_in("CAD")
        booking.action_retry()
        run_jobs(self.env)
        self.assertEqual(booking.state, "sent")
        self.assertEqual(len(self.maple_sim.purchases), 2)
        [parcel] = picking.logistics_parcel_ids
        self.assertEqual(parcel.shipment_ref, self.maple_sim.purchases[1])
        self.assertEqual(parcel.currency, "CAD")
