"""Carrier invoices audited against the rate stored at booking (EasyPost-shaped simulator on
loopback), contract rates and approved accessorials: within tolerance a vendor bill (amounts
and journal items checked); a variance, a re-billed weight, an unknown shipment or a
duplicate reference lands in the exception queue with both figures; accept, dispute (a real
HTTP partner receives it), correct and replay; invoices as X12 210 files over SFTP."""

import json
import os
import uuid

from logistics_simulators.freight_invoices import build_210, build_csv
from logistics_simulators.http_server import CuedHTTPServer

from odoo import fields
from odoo.tests import TransactionCase

from odoo.addons.logistics_carrier_connector.tests.common import CarrierFixture
from odoo.addons.logistics_integration_base.formats.x12 import Envelope
from odoo.addons.logistics_integration_base.tests.common import run_jobs
from odoo.addons.logistics_integration_base.transport import sftp

from .common import BillingMixin


class TestFreightAudit(BillingMixin, CarrierFixture, TransactionCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.setup_carrier()
        cls.setup_billing()
        env = cls.env
        cls.vendor = env["res.partner"].create({"name": "Parcel Co Billing", "is_company": True})
        cls.freight_cost = env["product.product"].create(
            {"name": "Freight costs", "type": "service", "purchase_ok": True}
        )
        cls.partner_http = CuedHTTPServer(default_status=202).start()
        cls.addClassCleanup(cls.partner_http.stop)
        # the carrier's invoicing: webhooks in, disputes out (generic CloudEvents)
        cls.invoicing = cls._make_backend(
            name="Parcel Co invoicing",
            code="parcel-co-invoicing",
            kind="carrier",
            provider="generic",
            base_url=cls.partner_http.url("/disputes"),
            freight_partner_backend_id=cls.backend.id,
            freight_vendor_id=cls.vendor.id,
            freight_product_id=cls.freight_cost.id,
            freight_tolerance_amount=1.0,
            freight_tolerance_percent=5.0,
            freight_bill_policy="post",
        )

    def setUp(self):
        super().setUp()
        self.partner_http.reset()

    def shipped(self, lines=None):
        picking = self.make_delivery(lines or [(self.kettle, 1)])
        self.validate(picking)
        return picking, picking.logistics_parcel_ids

    def invoice(self, number, shipments, total=None, currency="USD"):
        charges = [c for s in shipments for c in s["charges"]]
        return {
            "invoice_number": number,
            "invoice_date": "2026-11-30",
            "currency": currency,
            "total": round(sum(c["amount"] for c in charges), 2) if total is None else total,
            "shipments": shipments,
        }

    def shipment(self, picking, parcel, *charges, weight_kg=None):
        return {
            "shipment_ref": picking.name,
            "tracking_number": parcel.tracking_number,
            "weight_kg": weight_kg,
            "charges": [
                {"code": code, "amount": round(amount, 2), "description": description}
                for code, amount, description in charges
            ],
        }

    def receive(self, data):
        message = self.env["logistics.message"].create(
            {
                "backend_id": self.invoicing.id,
                "direction": "in",
                "message_type": "freight.invoice",
                "idempotency_key": str(uuid.uuid4()),
                "state": "received",
                "payload": json.dumps(data),
            }
        )
        message._enqueue()
        run_jobs(self.env)
        invoice = self.env["logistics.freight.invoice"].search(
            [("name", "=", data["invoice_number"])]
        )
        return message, invoice

    # within tolerance -----------------------------------------------------------------------
    def test_an_invoice_at_the_booked_rate_becomes_a_posted_vendor_bill(self):
        picking, parcel = self.shipped()
        data = self.invoice(
            "PC-1001", [self.shipment(picking, parcel, ("freight", parcel.price, "USPS Priority"))]
        )
        message, invoice = self.receive(data)
        self.assertEqual(message.state, "processed", message.error_message)
        self.assertEqual(invoice.state, "billed")
        self.assertEqual((invoice.expected_total, invoice.total), (parcel.price, parcel.price))
        self.assertEqual(invoice.line_ids.picking_id, picking)
        self.assertIn(f"booked rate {parcel.price:.2f}", invoice.line_ids.expected_detail)
        bill = invoice.move_id
        self.assertEqual(
            (bill.move_type, bill.state, bill.partner_id, bill.ref),
            ("in_invoice", "posted", self.vendor, "PC-1001"),
        )
        self.assertAlmostEqual(bill.amount_total, parcel.price)
        self.assertEqual(bill.invoice_line_ids.name, f"{picking.name} freight USPS Priority")
        expense = bill.line_ids.filtered(lambda li: li.display_type == "product")
        payable = bill.line_ids.filtered(lambda li: li.display_type == "payment_term")
        self.assertAlmostEqual(expense.debit, parcel.price)
        self.assertEqual(expense.account_id.account_type, "expense")
        self.assertAlmostEqual(payable.credit, parcel.price)
        self.assertEqual(payable.account_id, self.vendor.property_account_payable_id)
        self.assertFalse(bill.line_ids.filtered(lambda li: li.display_type == "tax"))

        # the same invoice again (another event id): nothing more
        again, same = self.receive(data)
        self.assertEqual((again.state, same), ("processed", invoice))
        self.assertEqual(self.env["account.move"].search_count([("ref", "=", "PC-1001")]), 1)

    def test_approved_accessorials_and_contract_rates_are_expected(self):
        self.env["logistics.freight.rate"].create(
            {"backend_id": self.backend.id, "charge_code": "fuel", "basis": "per_kg", "price": 0.5}
        )
        self.rule("Waiting time", "accessorial", self.delivery_fee, "reported")
        picking, parcel = self.shipped([(self.kettle, 2)])  # 4 kg
        charge = self.env["logistics.message"]._store_inbound(
            self.invoicing,
            [
                {
                    "message_type": "billing.charge",
                    "idempotency_key": "WT-9",
                    "payload": {
                        "charge_id": "WT-9",
                        "code": "waiting_time",
                        "shipment_ref": picking.name,
                        "amount": 30.0,
                        "currency": "USD",
                    },
                }
            ],
        )[0]
        run_jobs(self.env)
        self.assertEqual(charge.state, "processed", charge.error_message)
        data = self.invoice(
            "PC-1002",
            [
                self.shipment(
                    picking,
                    parcel,
                    ("freight", parcel.price, "line haul"),
                    ("fuel", 2.0, "fuel 4 kg"),
                    ("waiting_time", 30.0, "driver waited"),
                )
            ],
        )
        _message, invoice = self.receive(data)
        self.assertEqual(invoice.state, "to_review", "the accessorial is not approved yet")
        self.assertAlmostEqual(invoice.expected_total, parcel.price + 2.0)
        self.env["logistics.billing.event"].search(
            [("milestone", "=", "accessorial")]
        ).action_approve()
        # the partner sends it again once we approved: audited again, now within tolerance
        message, invoice = self.receive(data)
        self.assertEqual(message.state, "processed", message.error_message)
        self.assertEqual(invoice.state, "billed")
        self.assertAlmostEqual(invoice.expected_total, parcel.price + 32.0)
        self.assertEqual(len(invoice.move_id.invoice_line_ids), 3)

    # needs a review -------------------------------------------------------------------------
    def test_a_variance_lands_in_the_exception_queue_and_is_accepted(self):
        picking, parcel = self.shipped()
        data = self.invoice(
            "PC-2001", [self.shipment(picking, parcel, ("freight", parcel.price + 3.0, "rate"))]
        )
        message, invoice = self.receive(data)
        self.assertEqual((message.state, invoice.state), ("failed", "to_review"))
        self.assertFalse(invoice.move_id)
        expected, invoiced = parcel.price, parcel.price + 3.0
        self.assertIn(
            f"{picking.name}: expected {expected:.2f}, invoiced {invoiced:.2f} (+3.00, more "
            "than the tolerance of 1.00 and 5.0%)",
            message.error_message,
        )
        self.assertIn("needs a review before it is paid", message.error_message)
        self.assertEqual(message.record_ref, invoice)
        self.assertEqual(self.invoicing.tile_freight_to_review, 1)
        invoice.invoice_date = fields.Date.context_today(invoice)  # an invoice of this month
        self.invoicing.invalidate_recordset()
        self.assertAlmostEqual(self.invoicing.tile_freight_variance, 3.0)

        invoice.action_accept()
        self.assertEqual(invoice.state, "billed")
        self.assertAlmostEqual(invoice.move_id.amount_total, invoiced)
        self.assertEqual(message.state, "ignored")
        self.assertIn("Accepted by", message.ignore_reason)

    def test_a_dispute_tells_the_partner_and_a_corrected_replay_bills(self):
        picking, parcel = self.shipped()
        data = self.invoice(
            "PC-2002",
            [
                self.shipment(
                    picking, parcel, ("freight", parcel.price, "rate"), ("fuel", 4.0, "fuel")
                )
            ],
        )
        message, invoice = self.receive(data)
        self.assertEqual(invoice.state, "to_review")
        wizard = (
            self.env["logistics.freight.invoice.dispute"]
            .with_context(default_invoice_ids=invoice.ids)
            .create({"reason": "No fuel surcharge in our contract"})
        )
        wizard.action_dispute()
        run_jobs(self.env)
        self.assertEqual(invoice.state, "disputed")
        [request] = self.partner_http.requests
        event = request.json()
        self.assertEqual(event["type"], "freight.dispute")
        self.assertEqual(event["data"]["reason"], "No fuel surcharge in our contract")
        self.assertEqual(
            (event["data"]["expected_total"], event["data"]["invoiced_total"]),
            (parcel.price, round(parcel.price + 4.0, 2)),
        )
        self.assertEqual(message.state, "ignored")

        # the operator corrects the message (the partner confirmed by phone) and replays it
        corrected = dict(data, total=round(parcel.price, 2))
        corrected["shipments"][0]["charges"] = corrected["shipments"][0]["charges"][:1]
        message.write({"state": "failed", "payload": json.dumps(corrected)})
        message._retry("billing user")
        run_jobs(self.env)
        self.assertEqual(message.state, "processed", message.error_message)
        self.assertEqual(invoice.state, "billed")
        self.assertAlmostEqual(invoice.move_id.amount_total, parcel.price)

    def test_rebilled_weight_unknown_shipment_and_duplicate_reference(self):
        picking, parcel = self.shipped()  # one 2 kg kettle
        message, invoice = self.receive(
            self.invoice(
                "PC-3001",
                [self.shipment(picking, parcel, ("freight", parcel.price, "r"), weight_kg=9.0)],
            )
        )
        self.assertEqual(invoice.state, "to_review")
        self.assertIn(
            f"{picking.name}: re-billed weight, 9.00 kg billed for 2.00 kg shipped",
            message.error_message,
        )
        message, invoice = self.receive(
            self.invoice(
                "PC-3002",
                [
                    {
                        "shipment_ref": "WH/OUT/99999",
                        "tracking_number": "940000000000",
                        "charges": [{"code": "freight", "amount": 7.5}],
                    }
                ],
            )
        )
        self.assertIn("Shipment WH/OUT/99999 is not one Odoo knows", message.error_message)
        self.assertIn("expected 0.00, invoiced 7.50", message.error_message)
        # a bill with this reference was already keyed in by hand
        self.env["account.move"].create(
            {
                "move_type": "in_invoice",
                "partner_id": self.vendor.id,
                "ref": "PC-3003",
                "invoice_date": "2026-11-30",
                "invoice_line_ids": [
                    (0, 0, {"name": "freight", "quantity": 1, "price_unit": parcel.price})
                ],
            }
        )
        other, other_parcel = self.shipped()
        message, invoice = self.receive(
            self.invoice(
                "PC-3003",
                [self.shipment(other, other_parcel, ("freight", other_parcel.price, "r"))],
            )
        )
        self.assertEqual(invoice.state, "to_review")
        self.assertIn("already has the reference PC-3003", message.error_message)

    def test_bad_totals_and_currencies_are_refused_with_both_figures(self):
        picking, parcel = self.shipped()
        message, invoice = self.receive(
            self.invoice(
                "PC-4001", [self.shipment(picking, parcel, ("freight", 10.0, "r"))], total=12.5
            )
        )
        self.assertEqual((message.state, message.error_category), ("failed", "business"))
        self.assertIn("the total is 12.50 but the charges add up to 10.00", message.error_message)
        self.assertFalse(invoice, "nothing is recorded from it")
        message, invoice = self.receive(
            self.invoice(
                "PC-4002", [self.shipment(picking, parcel, ("freight", 10.0, "r"))], currency="UDS"
            )
        )
        self.assertIn("'UDS' is not an ISO 4217 currency code", message.error_message)
        message, _invoice = self.receive(
            self.invoice(
                "PC-4003", [self.shipment(picking, parcel, ("freight", 10.0, "r"))], currency="XOF"
            )
        )
        self.assertIn("in XOF, a currency that is not active in Odoo", message.error_message)

    # files ------------------------------------------------------------------------------------
    def test_x12_210_and_csv_files_over_sftp(self):
        files, carrier, server = self.freight_files(self.backend, self.vendor, self.freight_cost)
        picking, parcel = self.shipped()
        other, other_parcel = self.shipped()
        good = self.invoice(
            "PC-5001", [self.shipment(picking, parcel, ("freight", parcel.price, "USPS"))]
        )
        good["pro_number"] = None
        wrong = self.invoice(
            "PC-5002",
            [self.shipment(other, other_parcel, ("freight", other_parcel.price, "USPS"))],
            total=99.0,
        )
        envelope = Envelope("ZZ", "PARCELCO", "ZZ", "ODOO", 71, 71)
        with sftp.SFTPConnection(carrier) as conn:
            conn.ensure_dirs()
            conn.put_atomic("210_PC-5001.x12", build_210([good], envelope).encode())
            conn.put_atomic("210_PC-5002.x12", build_210([wrong], envelope).encode())
            conn.put_atomic(
                "invoices_PC-5003.csv",
                build_csv(
                    [
                        self.invoice(
                            "PC-5003",
                            [
                                self.shipment(
                                    other, other_parcel, ("freight", other_parcel.price, "USPS")
                                )
                            ],
                        )
                    ]
                ).encode(),
            )
        received = files._sftp_poll()
        run_jobs(self.env)
        by_name = {f.name: f for f in received}
        self.assertEqual(by_name["210_PC-5001.x12"].state, "processed")
        self.assertEqual(by_name["invoices_PC-5003.csv"].state, "processed")
        broken = by_name["210_PC-5002.x12"]
        self.assertEqual(broken.state, "error")
        self.assertIn("segment L3", broken.error)
        self.assertIn("99.00", broken.error)
        self.assertEqual(
            sorted(os.listdir(os.path.join(server.root, "invoices/error"))), ["210_PC-5002.x12"]
        )
        [failed] = broken.message_ids
        self.assertEqual((failed.state, failed.message_type), ("failed", "freight.invoice"))
        Invoice = self.env["logistics.freight.invoice"]
        billed = Invoice.search([("backend_id", "=", files.id)])
        self.assertEqual(sorted(billed.mapped("name")), ["PC-5001", "PC-5003"])
        self.assertEqual(set(billed.mapped("state")), {"billed"})
        self.assertEqual(set(billed.move_id.mapped("state")), {"draft"}, "the default policy")
