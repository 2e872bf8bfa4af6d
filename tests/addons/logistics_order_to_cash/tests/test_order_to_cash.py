"""Order to cash across the suite, on the partner simulators (real servers on loopback):

1. a sale order to a customer in Canada, shipped from the 3PL warehouse: its customs
   declaration goes to the broker, is held once for a certificate of origin, then
   released; only then is the delivery released to the 3PL;
2. the 3PL ships with UPS and reports the tracking number; the carrier backend follows it
   and polling brings it to delivered with a proof of delivery;
3. billing events: the 3PL's pick & pack fees and the delivery; the customer invoice is
   posted and the billing system is told;
4. the carrier's X12 210 (over SFTP) and the 3PL's invoice (webhook) arrive, are audited
   against the contract rates and become vendor bills;
5. a second order ships from the company's own warehouse, booked and labelled through the
   carrier connector, and is billed on delivery too.
"""

import json
import uuid

from logistics_simulators.customs_broker import CustomsBrokerSimulator
from logistics_simulators.easypost import EasyPostSimulator
from logistics_simulators.freight_invoices import build_210
from logistics_simulators.http_server import CuedHTTPServer
from logistics_simulators.otlp_receiver import OTLPReceiver

from odoo.tests import TransactionCase
from odoo.tools import config

from odoo.addons.logistics_3pl_connector.tests.common import ThreePLFixture
from odoo.addons.logistics_billing_events.tests.common import (
    BillingMixin,
    ensure_chart_of_accounts,
)
from odoo.addons.logistics_integration_base.formats.x12 import Envelope
from odoo.addons.logistics_integration_base.tests.common import run_jobs
from odoo.addons.logistics_integration_base.tools import otel
from odoo.addons.logistics_integration_base.transport import sftp

from .transaction import TransactionChecks

EASYPOST_KEY = "EZTK_order_to_cash"


class TestOrderToCash(TransactionChecks, BillingMixin, ThreePLFixture, TransactionCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.setup_3pl()
        env = cls.env
        ref = env.ref
        company = env.company
        ensure_chart_of_accounts(env, company)
        company.partner_id.write(
            {
                "street": "5 Dock Rd",
                "city": "Newark",
                "zip": "07105",
                "country_id": ref("base.us").id,
                "logistics_eori": "US000000123456",
            }
        )
        cls.warehouse.partner_id = company.partner_id
        cls.own_warehouse = env["stock.warehouse"].search(
            [("company_id", "=", company.id), ("id", "!=", cls.warehouse.id)], limit=1
        )
        cls.canada = env["res.partner"].create(
            {
                "name": "Maple Goods Ltd",
                "is_company": True,
                "street": "100 King St W",
                "city": "Toronto",
                "zip": "M5X 1A9",
                "country_id": ref("base.ca").id,
                "logistics_eori": "CA123456789000",
            }
        )
        cls.chair.write(
            {"hs_code": "940171", "country_of_origin": ref("base.us").id, "weight": 6.0}
        )
        env["stock.quant"]._update_available_quantity(cls.chair, cls.own_warehouse.lot_stock_id, 20)

        # customs broker (REST, CloudEvents)
        cls.customs_sim = CustomsBrokerSimulator().start()
        cls.addClassCleanup(cls.customs_sim.stop)
        cls.broker = cls._make_backend(
            name="Harbour Customs",
            code="harbour-customs",
            kind="customs",
            base_url=cls.customs_sim.url("/declarations"),
        )
        # the parcel carrier: follows the 3PL's UPS parcels, books our own
        cls.carrier_sim = EasyPostSimulator(api_key=EASYPOST_KEY).start()
        cls.addClassCleanup(cls.carrier_sim.stop)
        cls.carrier = cls._make_backend(
            name="Parcel Co",
            code="parcel-co",
            kind="carrier",
            provider="easypost",
            base_url=cls.carrier_sim.url("/v2"),
            api_key=EASYPOST_KEY,
            carrier_followed_codes="UPS",
        )
        cls.method = env["delivery.carrier"].create(
            {
                "name": "Parcel Co USPS Priority",
                "delivery_type": "logistics",
                "product_id": ref("delivery.product_product_delivery").id,
                "logistics_backend_id": cls.carrier.id,
                "logistics_carrier_code": "USPS",
                "logistics_service_code": "Priority",
            }
        )
        # billing: rules, the billing system, vendors and contract rates
        Product = env["product.product"]
        cls.tax = env["account.tax"].create(
            {"name": "Services 10%", "amount": 10.0, "type_tax_use": "sale"}
        )

        def service(name, code):
            return Product.create(
                {"name": name, "default_code": code, "type": "service", "taxes_id": cls.tax.ids}
            )

        Rule = env["logistics.billing.rule"]
        for name, milestone, product, basis, price in (
            ("Pick & pack per order", "shipped", service("Pick & pack", "PP-ORDER"), "fixed", 2.5),
            (
                "Pick & pack per unit",
                "shipped",
                service("Pick & pack unit", "PP-UNIT"),
                "per_unit",
                0.4,
            ),
            ("Delivery", "delivered", service("Delivery", "DELIVERY"), "fixed", 9.0),
        ):
            Rule.create(
                {
                    "name": name,
                    "milestone": milestone,
                    "product_id": product.id,
                    "price_basis": basis,
                    "price": price,
                }
            )
        cls.billing_http = CuedHTTPServer(default_status=202).start()
        cls.addClassCleanup(cls.billing_http.stop)
        cls._make_backend(
            name="Ledgerly", code="ledgerly", kind="billing", base_url=cls.billing_http.url("/")
        )
        cls.freight_cost = Product.create({"name": "Freight costs", "type": "service"})
        for backend, vendor in (
            (cls.carrier, "Parcel Co Inc."),
            (cls.backend, "Acme Fulfilment Inc."),
        ):
            backend.write(
                {
                    "freight_vendor_id": env["res.partner"].create({"name": vendor}).id,
                    "freight_product_id": cls.freight_cost.id,
                    "freight_bill_policy": "post",
                }
            )
        env["logistics.freight.rate"].create(
            [
                {
                    "backend_id": cls.carrier.id,
                    "charge_code": "freight",
                    "basis": "fixed",
                    "price": 14.2,
                },
                {
                    "backend_id": cls.backend.id,
                    "charge_code": "pick_pack",
                    "basis": "fixed",
                    "price": 1.5,
                },
                {
                    "backend_id": cls.backend.id,
                    "charge_code": "pick_pack",
                    "basis": "per_unit",
                    "price": 0.3,
                },
            ]
        )

    # helpers ------------------------------------------------------------------------------
    def inbound(self, backend, message_type, data, expected="processed"):
        """A partner's message, stored as the webhook route would and processed."""
        messages, _new = self.env["logistics.message"]._store_inbound(
            backend,
            [{"message_type": message_type, "idempotency_key": str(uuid.uuid4()), "payload": data}],
        )
        run_jobs(self.env)
        self.assertEqual(messages.state, expected, messages.error_message)
        return messages

    def customs_status(self, declaration, status, expected="processed", **kw):
        data = self.customs_sim.status_data(declaration.name, status, **kw)
        return self.inbound(self.broker, "customs.status", json.loads(json.dumps(data)), expected)

    def deliver(self, tracking_number, when):
        self.carrier_sim.advance(tracking_number, "delivered", when, signed_by="M. LEBLANC")
        self.env["logistics.backend"]._cron_poll_carrier_tracking()
        run_jobs(self.env)

    # the chain ----------------------------------------------------------------------------
    def test_order_to_cash(self):
        env = self.env
        # the first order's messages are exported as OpenTelemetry spans, to a local collector
        receiver = OTLPReceiver().start()
        self.addCleanup(receiver.stop)
        config.options[otel.OPTION_ENDPOINT] = receiver.endpoint
        self.addCleanup(config.options.pop, otel.OPTION_ENDPOINT, None)
        # 1. the export order, its declaration held once then released -----------------------
        order = env["sale.order"].create(
            {
                "partner_id": self.canada.id,
                "warehouse_id": self.warehouse.id,
                "incoterm": env.ref("account.incoterm_DAP").id,
                "incoterm_location": "Toronto",
                "order_line": [(0, 0, {"product_id": self.chair.id, "product_uom_qty": 3})],
            }
        )
        order.action_confirm()
        delivery = order.picking_ids
        declaration = delivery.logistics_declaration_ids
        self.assertEqual((declaration.direction, declaration.backend_id), ("export", self.broker))
        run_jobs(env)
        self.assertNotIn(delivery.name, self.sim.orders, "held for customs")
        declaration.action_submit()
        run_jobs(env)
        self.assertEqual(
            self.customs_sim.declarations[declaration.name][0]["lines"][0]["hs_code"], "940171"
        )
        self.customs_status(declaration, "accepted")
        hold = self.customs_status(
            declaration,
            "documents_required",
            expected="failed",  # a hold waits in the exception queue with an activity
            documents=[{"code": "N954", "name": "Certificate of origin"}],
        )
        self.assertEqual(declaration.state, "documents_required")
        self.assertIn("until they receive: N954: Certificate of origin", hold.error_message)
        self.assertNotIn(delivery.name, self.sim.orders)
        self.customs_status(declaration, "released")
        run_jobs(env)
        self.assertEqual(declaration.state, "released")
        self.assertEqual(hold.state, "ignored", "the release closed the hold")
        self.assertIn(delivery.name, self.sim.orders, "released to the 3PL once customs did")

        # 2. the 3PL ships with UPS; the carrier follows the parcel to delivered ---------------
        self.inbound(
            self.backend,
            "shipment.confirmed",
            {
                "order_ref": delivery.logistics_order_ref or delivery.name,
                "shipment_ref": "SHP-O2C-1",
                "shipped_at": "2026-12-01T08:00:00Z",
                "carrier": {"code": "UPS", "service": "GROUND"},
                "tracking_ref": "1ZO2C0001",
                "lines": [{"sku": "CHAIR-1", "quantity": 3}],
            },
        )
        self.assertEqual(delivery.state, "done")
        parcel = delivery.logistics_parcel_ids
        self.assertEqual((parcel.state, parcel.backend_id), ("followed", self.carrier))
        self.deliver("1ZO2C0001", "2026-12-01T10:00:00Z")
        self.assertEqual(parcel.tracking_state, "delivered")
        self.assertEqual(parcel.pod_signed_by, "M. LEBLANC")

        # 3. billing events, the customer invoice, the billing system --------------------------
        events = env["logistics.billing.event"].search([("picking_id", "=", delivery.id)])
        self.assertEqual(
            sorted((e.milestone, e.product_id.default_code, e.amount, e.state) for e in events),
            [
                ("delivered", "DELIVERY", 9.0, "approved"),
                ("shipped", "PP-ORDER", 2.5, "approved"),
                ("shipped", "PP-UNIT", 1.2, "approved"),
            ],
        )
        invoice = events._logistics_invoice()
        self.assertEqual(invoice.partner_id, self.canada)
        invoice.action_post()
        self.assertAlmostEqual(invoice.amount_untaxed, 12.7)
        self.assertAlmostEqual(invoice.amount_total, 13.97)
        run_jobs(env)
        [posted] = [r.json() for r in self.billing_http.requests]
        self.assertEqual(posted["type"], "invoice.posted")
        self.assertEqual(posted["data"]["invoice_number"], invoice.name)
        self.assertEqual(posted["data"]["amount_total"], 13.97)
        self.assertEqual(set(events.mapped("state")), {"invoiced"})

        # 4. the carrier's 210 over SFTP and the 3PL's invoice by webhook: vendor bills ------
        files, carrier_side, _server = self.freight_files(
            self.carrier,
            self.carrier.freight_vendor_id,
            self.freight_cost,
            freight_bill_policy="post",
        )
        freight_bill = {
            "invoice_number": "UPS-88812",
            "invoice_date": "2026-12-01",
            "currency": "USD",
            "total": 14.2,
            "shipments": [
                {
                    "shipment_ref": delivery.name,
                    "tracking_number": "1ZO2C0001",
                    "weight_kg": 18.0,
                    "charges": [{"code": "freight", "amount": 14.2, "description": "UPS Ground"}],
                }
            ],
        }
        with sftp.SFTPConnection(carrier_side) as conn:
            conn.ensure_dirs()
            conn.put_atomic(
                "210_UPS-88812.x12",
                build_210(
                    [freight_bill], Envelope("ZZ", "UPSN", "ZZ", "ODOO", 5001, 5001)
                ).encode(),
            )
        [received] = files._sftp_poll()
        run_jobs(env)
        self.assertEqual(received.state, "processed", received.error)
        self.inbound(
            self.backend,
            "freight.invoice",
            {
                "invoice_number": "ACME-2026-11",
                "invoice_date": "2026-11-30",
                "currency": "USD",
                "total": 2.4,
                "shipments": [
                    {
                        "shipment_ref": delivery.name,
                        "charges": [
                            {"code": "pick_pack", "amount": 2.4, "description": "order + 3 units"}
                        ],
                    }
                ],
            },
        )
        Freight = env["logistics.freight.invoice"]
        carrier_invoice = Freight.search([("name", "=", "UPS-88812")])
        threepl_invoice = Freight.search([("name", "=", "ACME-2026-11")])
        for freight, amount, vendor in (
            (carrier_invoice, 14.2, "Parcel Co Inc."),
            (threepl_invoice, 2.4, "Acme Fulfilment Inc."),
        ):
            self.assertEqual(freight.state, "billed", freight.issues)
            self.assertEqual(freight.move_id.state, "posted")
            self.assertEqual(freight.move_id.partner_id.name, vendor)
            self.assertAlmostEqual(freight.move_id.amount_total, amount)
            self.assertAlmostEqual(freight.expected_total, amount)
        self.assert_transaction(
            order, delivery, declaration, parcel, (invoice, carrier_invoice, threepl_invoice), hold
        )
        self.assert_one_trace(order, receiver, hold)
        config.options.pop(otel.OPTION_ENDPOINT)

        # 5. a second order from our own warehouse, booked and labelled, billed on delivery ---
        domestic = env["res.partner"].create(
            {
                "name": "Ann Receiver",
                "street": "12 Elm St",
                "city": "Springfield",
                "zip": "62701",
                "country_id": env.ref("base.us").id,
            }
        )
        order2 = env["sale.order"].create(
            {
                "partner_id": domestic.id,
                "warehouse_id": self.own_warehouse.id,
                "carrier_id": self.method.id,
                "order_line": [(0, 0, {"product_id": self.chair.id, "product_uom_qty": 1})],
            }
        )
        order2.action_confirm()
        own = order2.picking_ids
        self.assertFalse(own.logistics_declaration_ids, "domestic: no customs")
        own.action_assign()
        for move in own.move_ids:
            move.quantity = move.product_uom_qty
        self.assertIs(own.button_validate(), True)
        booked = own.logistics_parcel_ids
        self.assertEqual(booked.state, "booked")
        self.assertTrue(booked.label_attachment_id, "labelled")
        self.deliver(booked.tracking_number, "2026-12-01T16:00:00Z")
        [fee] = env["logistics.billing.event"].search([("picking_id", "=", own.id)])
        self.assertEqual((fee.milestone, fee.amount, fee.partner_id), ("delivered", 9.0, domestic))
        self.assertEqual(fee.state, "approved", "signed for: a proof of delivery")
