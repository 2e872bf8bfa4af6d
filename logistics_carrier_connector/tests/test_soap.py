"""The classic SOAP carrier: zeep, with the module's WSDL, against a spyne service on
loopback that validates every request against the WSDL's schema."""

import time
from decimal import Decimal

from logistics_simulators.soap_carrier import NS, SoapCarrierSimulator, wsdl
from lxml import etree

from odoo.tests import TransactionCase

from odoo.addons.logistics_integration_base.tests.common import run_jobs

from ..adapters.classic_soap import WSDL
from .common import CarrierFixture

KEY = "ACME-SOAP-KEY"


class SoapFixture(CarrierFixture):
    """Both carriers: the EasyPost-shaped one (REST, in USD, the company's currency) and
    the SOAP web service (in EUR: one USD is 1.05 EUR here)."""

    EUR_PER_USD = 1.05

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.setup_carrier()
        eur = cls.env.ref("base.EUR")
        eur.active = True
        eur.rate_ids.unlink()
        cls.env["res.currency.rate"].create(
            {
                "currency_id": eur.id,
                "name": "2020-01-01",
                "rate": cls.EUR_PER_USD,
                "company_id": cls.env.company.id,
            }
        )
        cls.soap = SoapCarrierSimulator(account_key=KEY).start()
        cls.addClassCleanup(cls.soap.stop)
        cls.soap_backend = cls._make_backend(
            name="Acme Carrier WS",
            code="acme-ws",
            kind="carrier",
            provider="classic_soap",
            protocol="soap",
            base_url=cls.soap.url(),
            api_key=KEY,
            timeout=3.0,
            circuit_threshold=0,
        )
        cls.express = cls.env["delivery.carrier"].create(
            {
                "name": "Acme Express",
                "delivery_type": "logistics",
                "product_id": cls.env.ref("delivery.product_product_delivery").id,
                "logistics_backend_id": cls.soap_backend.id,
                "logistics_carrier_code": "ACME",
                "logistics_service_code": "EXPRESS",
            }
        )

    def setUp(self):
        super().setUp()
        self.soap.reset()

    def order(self, partner=None):
        return self.env["sale.order"].create(
            {
                "partner_id": (partner or self.customer).id,
                "warehouse_id": self.warehouse.id,
                "order_line": [(0, 0, {"product_id": self.kettle.id, "product_uom_qty": 2})],
            }
        )


class TestSoapCarrier(SoapFixture, TransactionCase):
    def test_the_shipped_wsdl_is_the_services(self):
        parser = etree.XMLParser(remove_blank_text=True)
        shipped = etree.parse(WSDL, parser).getroot()
        served = etree.fromstring(wsdl(), parser)

        def definitions(root):  # the types and operations, in any order
            schema = root.find(f".//{{{root.nsmap['xs']}}}schema")
            binding = root.find(f"{{{root.nsmap['wsdl']}}}binding")
            return sorted(etree.tostring(node) for node in [*schema, *binding])

        self.assertEqual(definitions(shipped), definitions(served))
        self.assertEqual(shipped.get("targetNamespace"), NS)

    def test_rate_over_soap(self):
        result = self.express.rate_shipment(self.order())
        self.assertTrue(result["success"], result)
        eur = float(self.soap.price("EXPRESS", Decimal("4"), 1))  # 18.80 EUR
        self.assertEqual(result["price"], round(eur / self.EUR_PER_USD, 2))
        self.assertIn(f"{eur:.2f} EUR quoted by the carrier", result["warning_message"])
        self.assertEqual(self.soap.calls, ["getRates"])
        [call] = self.calls(
            self.env["sale.order"].search([], order="id desc", limit=1), "carrier.rate"
        )
        self.assertEqual(call.state, "acknowledged")

    def test_address_fault_is_a_business_refusal_with_its_code(self):
        nowhere = self.customer.copy({"zip": "00000"})
        result = self.express.rate_shipment(self.order(partner=nowhere))
        self.assertFalse(result["success"])
        self.assertEqual(
            result["error_message"],
            "Carrier Acme Carrier WS refused: we do not deliver to 00000 Springfield "
            "(Client.Address). Correct the address or parcels it names, then try again, or "
            "choose another delivery method.",
        )
        call = self.env["logistics.message"].search(
            [("message_type", "=", "carrier.rate"), ("backend_id", "=", self.soap_backend.id)]
        )
        self.assertEqual((call.state, call.error_category), ("failed", "business"))

    def test_server_fault_is_transient(self):
        self.soap.fault_next("Server.Unavailable", "planned maintenance")
        result = self.express.rate_shipment(self.order())
        self.assertIn("Carrier Acme Carrier WS is unavailable right now", result["error_message"])
        self.assertIn("Server.Unavailable", result["error_message"])

    def test_wrong_account_key_is_an_authentication_failure(self):
        self.soap_backend.api_key = "WRONG"
        self.express.rate_shipment(self.order())
        call = self.env["logistics.message"].search(
            [("message_type", "=", "carrier.rate"), ("backend_id", "=", self.soap_backend.id)]
        )
        self.assertEqual(call.error_category, "auth")

    def test_a_late_answer_is_cut_by_the_operation_timeout(self):
        self.soap.hang_next(seconds=15)
        started = time.monotonic()
        result = self.express.rate_shipment(self.order())
        elapsed = time.monotonic() - started
        self.assertIn("is unavailable right now", result["error_message"])
        self.assertLess(elapsed, 14, "bounded by the timeout, not by the carrier")

    def test_book_two_packages_track_and_delete(self):
        picking = self.make_delivery([(self.kettle, 1), (self.mixer, 1)], carrier=self.express)
        self.pack(picking, self.kettle, 2.0)
        self.pack(picking, self.mixer, 3.5)
        self.validate(picking)
        parcels = picking.logistics_parcel_ids
        self.assertEqual(len(parcels), 2)
        self.assertEqual(len(set(parcels.mapped("shipment_ref"))), 1, "one SOAP shipment")
        self.assertTrue(all(self.label_bytes(p).startswith(b"%PDF") for p in parcels))
        self.assertEqual(self.soap.calls, ["processShipment"])
        # tracking by polling
        first = parcels.sorted("id")[0]
        self.soap.advance(
            first.tracking_number, "PICKED_UP", "2026-11-30T09:00:00Z", location="Lyon"
        )
        self.soap.advance(first.tracking_number, "DELAYED", "2026-11-30T18:00:00Z", "snow")
        self.env["logistics.backend"]._cron_poll_carrier_tracking()
        run_jobs(self.env)
        self.assertEqual(
            [(e.milestone, e.carrier_status) for e in first.event_ids.sorted("event_time")],
            [("picked_up", "PICKED_UP"), ("exception", "DELAYED")],
        )
        self.assertEqual(first.tracking_state, "exception")
        # cancel: the shipment is deleted once
        picking.cancel_shipment()
        self.assertEqual(self.soap.deleted, [first.shipment_ref])
        self.assertEqual(set(parcels.mapped("state")), {"voided"})


class TestRateShop(SoapFixture, TransactionCase):
    """A rate-shop delivery method asks both carriers (REST and SOAP) and books the best."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.shop = cls.env["delivery.carrier"].create(
            {
                "name": "Best carrier",
                "delivery_type": "logistics",
                "product_id": cls.env.ref("delivery.product_product_delivery").id,
                "logistics_rate_shop": True,
            }
        )
        # the shop asks every carrier backend of the company: only these two here
        cls.env["logistics.backend"].search(
            [("kind", "=", "carrier"), ("id", "not in", (cls.backend | cls.soap_backend).ids)]
        ).active = False

    def test_cheapest_of_every_carrier_then_booked_with_it(self):
        order = self.order()  # 4 kg
        result = self.shop.rate_shipment(order)
        self.assertTrue(result["success"], result)
        # EasyPost USPS GroundAdvantage: 4.50 + 0.03 * 141.1 oz = 8.73 USD; SOAP ECONOMY:
        # 6 + 2.4 = 8.40 EUR, 8.00 USD
        self.assertEqual(result["price"], 8.0)
        self.assertIn("Best offer: ACME-WS ECONOMY with Acme Carrier WS", result["warning_message"])
        self.assertIn("USPS GroundAdvantage 8.73", result["warning_message"])
        self.assertIn('"service": "ECONOMY"', order.logistics_carrier_choice)
        # the order's delivery is booked with the chosen carrier and service
        order.set_delivery_line(self.shop, result["price"])
        order.action_confirm()
        picking = order.picking_ids
        picking.picking_type_id.print_label = True
        for move in picking.move_ids:
            move.quantity = move.product_uom_qty
        self.assertIs(picking.button_validate(), True)
        self.assertEqual(picking.logistics_parcel_ids.backend_id, self.soap_backend)
        self.assertEqual(picking.logistics_parcel_ids.service, "ACME-WS ECONOMY")
        self.assertIn("processShipment", self.soap.calls)

    def test_fastest_and_a_carrier_down(self):
        self.shop.logistics_rate_shop_criterion = "fastest"
        self.soap.fault_next("Server.Unavailable", "maintenance")
        result = self.shop.rate_shipment(self.order())
        self.assertTrue(result["success"], result)
        self.assertIn("Best offer: UPS NextDayAir with Parcel Co", result["warning_message"])
        self.assertIn("Not answering: Acme Carrier WS", result["warning_message"])

    def test_no_carrier_answering(self):
        self.soap.fault_next("Server.Unavailable", "maintenance")
        self.sim.fail_next(503)
        result = self.shop.rate_shipment(self.order())
        self.assertFalse(result["success"])
        self.assertIn("No carrier offered a service for this shipment", result["error_message"])
