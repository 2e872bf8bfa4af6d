"""Backends take part in the rate shop by what their adapter declares it can do: a
carrier-kind backend that does not rate (a freight invoice feed on the generic provider) is
left out without being called; one that fails or answers no readable rates is named with
the reason while the others still compete."""

from logistics_simulators.easypost import EasyPostSimulator
from logistics_simulators.http_server import CuedHTTPServer

from odoo.tests import TransactionCase

from odoo.addons.logistics_integration_base.adapters import (
    ADAPTERS,
    CALL,
    CallResult,
)

from ..adapters.common import CarrierAdapter
from .common import API_KEY, CarrierFixture, expected_price

ODD_KEY = ("generic", "soap")


class OddRatesAdapter(CarrierAdapter):
    """A carrier adapter (test only) that says it rates, and answers something else."""

    capabilities = frozenset({CALL})
    call_operations = frozenset({"carrier.rate"})

    def call(self, operation, payload, correlation_id=None):
        return CallResult(data={"quotes": [{"amount": "cheap"}]}, status=200)


class BrokenRatesAdapter(CarrierAdapter):
    """A carrier adapter (test only) that fails on an answer it did not expect."""

    capabilities = frozenset({CALL})
    call_operations = frozenset({"carrier.rate"})

    def call(self, operation, payload, correlation_id=None):
        return {}["rates"]


class TestRateShopCapabilities(CarrierFixture, TransactionCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.setup_carrier()
        env = cls.env
        # the carrier's invoicing: freight invoices in by webhook, disputes out (generic
        # CloudEvents), as the billing module sets it up: a carrier backend that never rates
        cls.invoicing_http = CuedHTTPServer(default_status=202).start()
        cls.addClassCleanup(cls.invoicing_http.stop)
        cls.invoicing = cls._make_backend(
            name="Parcel Co invoicing",
            code="parcel-co-invoicing",
            kind="carrier",
            provider="generic",
            base_url=cls.invoicing_http.url("/disputes"),
        )
        cls.shop = env["delivery.carrier"].create(
            {
                "name": "Best carrier",
                "delivery_type": "logistics",
                "product_id": env.ref("delivery.product_product_delivery").id,
                "logistics_rate_shop": True,
            }
        )
        env["logistics.backend"].search(
            [("kind", "=", "carrier"), ("id", "not in", (cls.backend | cls.invoicing).ids)]
        ).active = False

    def setUp(self):
        super().setUp()
        self.invoicing_http.reset()

    def make_order(self):
        return self.env["sale.order"].create(
            {
                "partner_id": self.customer.id,
                "warehouse_id": self.warehouse.id,
                "order_line": [(0, 0, {"product_id": self.kettle.id, "product_uom_qty": 2})],
            }
        )

    def rate_calls(self, backend):
        return self.env["logistics.message"].search(
            [("backend_id", "=", backend.id), ("message_type", "=", "carrier.rate")]
        )

    def test_a_carrier_backend_that_does_not_rate_is_left_out_without_a_call(self):
        result = self.shop.rate_shipment(self.make_order())
        self.assertTrue(result["success"], result)
        self.assertEqual(result["price"], expected_price([4.0], "USPS", "GroundAdvantage"))
        self.assertIn("Best offer: USPS GroundAdvantage with Parcel Co.", result["warning_message"])
        self.assertNotIn("invoicing", result["warning_message"])
        self.assertFalse(self.invoicing_http.requests, "never asked for a rate")
        self.assertFalse(self.rate_calls(self.invoicing))

    def test_a_delivery_method_on_a_backend_that_does_not_rate_says_so(self):
        method = self.method.copy({"logistics_backend_id": self.invoicing.id})
        method.name = "Invoicing?"
        result = method.rate_shipment(self.make_order())
        self.assertFalse(result["success"])
        self.assertEqual(
            result["error_message"],
            "Carrier backend Parcel Co invoicing (provider generic) does not give rates: choose "
            "a carrier backend that does for Invoicing?.",
        )
        self.assertFalse(self.invoicing_http.requests)

    def test_carriers_that_fail_or_answer_no_rates_are_named_and_the_others_compete(self):
        ADAPTERS.add(ODD_KEY, OddRatesAdapter)
        self.addCleanup(ADAPTERS._entries.pop, ODD_KEY)
        odd = self._make_backend(
            name="Odd Rates",
            code="odd-rates",
            kind="carrier",
            provider="generic",
            protocol="soap",
            base_url="http://127.0.0.1:9/odd",
        )
        down_sim = EasyPostSimulator(api_key=API_KEY).start()
        self.addCleanup(down_sim.stop)
        down = self._make_backend(
            name="Down Parcels",
            code="down-parcels",
            kind="carrier",
            provider="easypost",
            base_url=down_sim.url("/v2"),
            api_key=API_KEY,
            timeout=3.0,
            circuit_threshold=0,
        )
        down_sim.fail_next(503, message="maintenance")
        result = self.shop.rate_shipment(self.make_order())
        self.assertTrue(result["success"], result)
        warning = result["warning_message"]
        self.assertIn("Best offer: USPS GroundAdvantage with Parcel Co.", warning)
        self.assertIn("Not answering: Down Parcels (HTTP 503", warning)
        self.assertIn(
            "Left out: Carrier backend Odd Rates answered the rate request without rates Odoo "
            "can read",
            warning,
        )
        self.assertTrue(self.rate_calls(odd), "asked: it declares that it rates")
        self.assertTrue(self.rate_calls(down))
        self.assertFalse(self.invoicing_http.requests)

    def test_no_carrier_able_to_rate(self):
        self.backend.active = False
        result = self.shop.rate_shipment(self.make_order())
        self.assertFalse(result["success"])
        self.assertEqual(result["error_message"], "No carrier offered a service for this shipment.")
        self.assertFalse(self.invoicing_http.requests)

    def test_a_carrier_failing_unexpectedly_is_left_out_and_the_others_compete(self):
        """A carrier whose adapter fails in a way nobody foresaw (a KeyError on an answer of
        an unknown shape) does not break the order form with a traceback: it is named as
        not answering, and the others still compete."""
        ADAPTERS.add(ODD_KEY, BrokenRatesAdapter)
        self.addCleanup(ADAPTERS._entries.pop, ODD_KEY)
        broken = self._make_backend(
            name="Broken Rates",
            code="broken-rates",
            kind="carrier",
            provider="generic",
            protocol="soap",
            base_url="http://127.0.0.1:9/broken",
        )
        with self.assertLogs(
            "odoo.addons.logistics_carrier_connector.models.delivery_carrier", "ERROR"
        ):
            result = self.shop.rate_shipment(self.make_order())
        self.assertTrue(result["success"], result)
        self.assertIn("Best offer: USPS GroundAdvantage with Parcel Co.", result["warning_message"])
        self.assertIn(
            "Not answering: Broken Rates (an unexpected error, KeyError: the server log has "
            "the detail).",
            result["warning_message"],
        )
        self.assertTrue(self.rate_calls(broken), "the failed call is recorded")
