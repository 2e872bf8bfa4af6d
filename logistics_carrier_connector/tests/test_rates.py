from datetime import timedelta

from odoo import fields
from odoo.tests import TransactionCase

from .common import CarrierFixture, expected_price


class TestRates(CarrierFixture, TransactionCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.setup_carrier()

    def make_order(self, lines, partner=None):
        return self.env["sale.order"].create(
            {
                "partner_id": (partner or self.customer).id,
                "warehouse_id": self.warehouse.id,
                "order_line": [
                    (0, 0, {"product_id": product.id, "product_uom_qty": qty})
                    for product, qty in lines
                ],
            }
        )

    def test_rate_of_the_methods_service_through_a_recorded_call(self):
        order = self.make_order([(self.kettle, 2)])  # 4 kg
        result = self.method.rate_shipment(order)
        self.assertTrue(result["success"], result)
        self.assertAlmostEqual(result["price"], expected_price([4.0]))
        [request] = [r for r in self.sim.requests if r.path == "/v2/shipments"]
        shipment = request.json()["shipment"]
        self.assertEqual(shipment["parcel"]["weight"], 141.1, "ounces")
        self.assertEqual(shipment["to_address"]["zip"], "62701")
        self.assertEqual(shipment["from_address"]["city"], "Newark")
        self.assertTrue(request.headers["Authorization"].startswith("Basic "))
        [call] = self.calls(order, "carrier.rate")
        self.assertEqual(call.state, "acknowledged")
        self.assertIn('"Priority"', call.response_payload)
        self.assertGreaterEqual(call.duration_ms, 0)

    def test_another_service_of_the_same_backend(self):
        ups = self.method.copy(
            {
                "name": "Parcel Co UPS Ground",
                "logistics_carrier_code": "UPS",
                "logistics_service_code": "Ground",
            }
        )
        result = ups.rate_shipment(self.make_order([(self.mixer, 1)]))
        self.assertAlmostEqual(result["price"], expected_price([3.5], "UPS", "Ground"))

    def test_carrier_refusal_reads_in_plain_words(self):
        self.sim.server.cue(
            (
                422,
                {},
                {
                    "error": {
                        "code": "ADDRESS.VERIFY.FAILURE",
                        "message": "Unable to verify address.",
                        "errors": [{"field": "to_address.street1", "message": "street not found"}],
                    }
                },
            )
        )
        result = self.method.rate_shipment(self.make_order([(self.kettle, 1)]))
        self.assertFalse(result["success"])
        self.assertEqual(
            result["error_message"],
            "Carrier Parcel Co refused: street not found (to_address.street1). Correct the "
            "address or parcels it names, then try again, or choose another delivery method.",
        )

    def test_carrier_that_hangs_answers_unavailable_within_the_timeout(self):
        self.sim.hang_next(seconds=4)
        started = fields.Datetime.now()
        result = self.method.rate_shipment(self.make_order([(self.kettle, 1)]))
        self.assertFalse(result["success"])
        self.assertIn("Carrier Parcel Co is unavailable right now", result["error_message"])
        self.assertLess((fields.Datetime.now() - started).total_seconds(), 20)
        [call] = self.calls(
            self.env["sale.order"].search([], order="id desc", limit=1), "carrier.rate"
        )
        self.assertEqual((call.state, call.error_category), ("failed", "technical"))

    def test_open_circuit_answers_at_once_without_calling(self):
        self.backend.circuit_open_until = fields.Datetime.now() + timedelta(minutes=5)
        result = self.method.rate_shipment(self.make_order([(self.kettle, 1)]))
        self.assertFalse(result["success"])
        self.assertIn("circuit open", result["error_message"])
        self.assertFalse(self.sim.requests)

    def test_incomplete_address_is_refused_before_any_call(self):
        nowhere = self.customer.copy({"name": "No Zip", "zip": False})
        result = self.method.rate_shipment(self.make_order([(self.kettle, 1)], partner=nowhere))
        self.assertFalse(result["success"])
        self.assertIn("Complete the addresses and weights", result["error_message"])
        self.assertIn("zip", result["error_message"])
        self.assertFalse(self.sim.requests)

    def test_credentials_refused(self):
        self.backend.api_key = "EZTK_wrong"
        result = self.method.rate_shipment(self.make_order([(self.kettle, 1)]))
        self.assertFalse(result["success"])
        self.assertIn("Invalid API key", result["error_message"])
        self.assertIn("Check the credentials of carrier backend Parcel Co", result["error_message"])
