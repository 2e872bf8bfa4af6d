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
from odoo.exceptions import UserError
from odoo.tests import TransactionCase, tagged

from odoo.addons.logistics_carrier_connector.tests.common import CarrierFixture
from odoo.addons.logistics_integration_base.formats.x12 import Envelope
from odoo.addons.logistics_integration_base.tests.common import (
    LogisticsHttpCase,
    cloud_event,
    run_jobs,
)
from odoo.addons.logistics_integration_base.transport import sftp

from .common import BillingMixin


class FreightAuditFixture(BillingMixin, CarrierFixture):
    """Parcels booked with the EasyPost-shaped carrier, its invoicing backend (webhooks in,
    disputes out to a recording server) and the helpers writing its invoices."""

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


class TestFreightAudit(FreightAuditFixture, TransactionCase):
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
            f"{picking.name}: expected {expected:.2f}, invoiced {invoiced:.2f} USD (+3.00, "
            "more than the tolerance of 1.00 USD and 5.0%)",
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


class TestFreightAuditHardening(FreightAuditFixture, TransactionCase):
    """What an independent review found: the same number again with another amount, a
    dispute of an invoice that came as a file, the cost of an approved accessorial, an
    invoice in another currency, a transfer of another company."""

    # the same number again ------------------------------------------------------------------
    def test_the_same_number_at_another_amount_is_a_copy_to_review_with_both_figures(self):
        picking, parcel = self.shipped()
        price = parcel.price
        first = self.invoice("PC-7001", [self.shipment(picking, parcel, ("freight", price, "r"))])
        message, invoice = self.receive(first)
        self.assertEqual((message.state, invoice.state), ("processed", "billed"))
        bill = invoice.move_id

        # the same number, now with a liftgate charge: never dropped, never billed by itself
        second = self.invoice(
            "PC-7001",
            [
                self.shipment(
                    picking, parcel, ("freight", price, "r"), ("liftgate", 15.0, "liftgate")
                )
            ],
        )
        again, both = self.receive(second)
        self.assertEqual(len(both), 2)
        copy = both - invoice
        self.assertEqual((again.state, again.error_category), ("failed", "business"))
        self.assertEqual(again.record_ref, copy)
        self.assertEqual(
            (copy.state, copy.copy_number, copy.duplicate_of_id), ("to_review", 1, invoice)
        )
        self.assertAlmostEqual(copy.total, price + 15.0)
        figures = (
            f"Invoice PC-7001 was billed already at {price:.2f} USD (vendor bill "
            f"{bill.display_name}), and Parcel Co invoicing sent it again at {price + 15.0:.2f} "
            "USD: the new amount is not billed."
        )
        self.assertIn(figures, again.error_message)
        self.assertIn(figures, copy.issues)
        self.assertIn(
            "PC-7001 (copy 1) from Parcel Co invoicing needs a review", again.error_message
        )
        # the first stays as it was billed
        self.assertEqual((invoice.state, invoice.move_id), ("billed", bill))
        self.assertAlmostEqual(invoice.total, price)
        self.assertEqual(self.env["account.move"].search_count([("ref", "=", "PC-7001")]), 1)
        self.invoicing.invalidate_recordset()
        self.assertEqual(self.invoicing.tile_freight_to_review, 1)

        # accepting it would pay the invoice twice while the first bill stands
        with self.assertRaisesRegex(UserError, "would pay the invoice twice"):
            copy.action_accept()
        self.assertEqual(self.env["account.move"].search_count([("ref", "=", "PC-7001")]), 1)

        # the first copy again, same amount: harmless, said so, nothing more
        harmless, same = self.receive(first)
        self.assertEqual(harmless.state, "processed", harmless.error_message)
        self.assertEqual(same, both)
        self.assertIn(
            "was received again with the same amount", harmless.attempt_ids[-1:].job_result
        )
        self.assertEqual(self.env["account.move"].search_count([("ref", "=", "PC-7001")]), 1)

        # the partner sends the 15.00 copy once more: the copy waiting is audited again,
        # no third record
        _again, still = self.receive(second)
        self.assertEqual(len(still), 2)
        self.assertEqual(again.state, "ignored", "the earlier message of the copy is closed")

        # the partner confirms the new amount replaces the first: the first bill is reversed
        # (cancelled here, a draft) and the copy accepted
        bill.button_draft()
        bill.button_cancel()
        copy.action_accept()
        self.assertEqual(copy.state, "billed")
        self.assertAlmostEqual(copy.move_id.amount_total, price + 15.0)

    def test_the_same_figure_in_another_currency_is_not_the_same_invoice(self):
        self.env.ref("base.EUR").active = True
        picking, parcel = self.shipped()
        data = self.invoice(
            "PC-7002", [self.shipment(picking, parcel, ("freight", parcel.price, "r"))]
        )
        _message, invoice = self.receive(data)
        self.assertEqual(invoice.state, "billed")
        message, both = self.receive(dict(data, currency="EUR"))
        self.assertEqual(message.state, "failed")
        copy = both - invoice
        self.assertEqual(copy.currency_id.name, "EUR")
        self.assertIn(f"sent it again at {parcel.price:.2f} EUR", message.error_message)

    def test_the_same_number_again_over_sftp(self):
        files, carrier, _server = self.freight_files(self.backend, self.vendor, self.freight_cost)
        picking, parcel = self.shipped()
        price = parcel.price
        first = self.invoice("PC-7101", [self.shipment(picking, parcel, ("freight", price, "r"))])
        second = self.invoice(
            "PC-7101",
            [
                self.shipment(
                    picking, parcel, ("freight", price, "r"), ("liftgate", 15.0, "liftgate")
                )
            ],
        )
        with sftp.SFTPConnection(carrier) as conn:
            conn.ensure_dirs()
            conn.put_atomic(
                "210_PC-7101.x12",
                build_210([first], Envelope("ZZ", "PARCELCO", "ZZ", "ODOO", 81, 81)).encode(),
            )
        files._sftp_poll()
        run_jobs(self.env)
        Invoice = self.env["logistics.freight.invoice"]
        original = Invoice.search([("backend_id", "=", files.id), ("name", "=", "PC-7101")])
        self.assertEqual(original.state, "billed")
        with sftp.SFTPConnection(carrier) as conn:
            conn.put_atomic("invoices_PC-7101-b.csv", build_csv([second]).encode())
            conn.put_atomic(
                "210_PC-7101-again.x12",
                build_210([first], Envelope("ZZ", "PARCELCO", "ZZ", "ODOO", 82, 82)).encode(),
            )
        received = files._sftp_poll()
        run_jobs(self.env)
        by_name = {f.name: f for f in received}
        [changed] = by_name["invoices_PC-7101-b.csv"].message_ids
        [same] = by_name["210_PC-7101-again.x12"].message_ids
        self.assertEqual((changed.state, changed.error_category), ("failed", "business"))
        self.assertIn(
            f"billed already at {price:.2f} USD (vendor bill {original.move_id.display_name}), "
            f"and Parcel Co invoice files sent it again at {price + 15.0:.2f} USD",
            changed.error_message,
        )
        self.assertEqual(same.state, "processed", same.error_message)
        copies = Invoice.search([("backend_id", "=", files.id), ("name", "=", "PC-7101")])
        self.assertEqual(sorted(copies.mapped("state")), ["billed", "to_review"])
        self.assertEqual(self.env["account.move"].search_count([("ref", "=", "PC-7101")]), 1)

    # disputes of invoices that came as files -------------------------------------------------
    def dispute(self, invoice, reason="Not our contract rate"):
        wizard = (
            self.env["logistics.freight.invoice.dispute"]
            .with_context(default_invoice_ids=invoice.ids)
            .create({"reason": reason})
        )
        return wizard.action_dispute()

    def test_a_dispute_of_a_210_reaches_the_carrier_not_the_files_backend(self):
        files, carrier, _server = self.freight_files(self.backend, self.vendor, self.freight_cost)
        # the files backend names no partner: the parcel the invoice matched does
        files.freight_partner_backend_id = False
        picking, parcel = self.shipped()
        data = self.invoice(
            "PC-7201", [self.shipment(picking, parcel, ("freight", parcel.price + 6.0, "r"))]
        )
        with sftp.SFTPConnection(carrier) as conn:
            conn.ensure_dirs()
            conn.put_atomic(
                "210_PC-7201.x12",
                build_210([data], Envelope("ZZ", "PARCELCO", "ZZ", "ODOO", 91, 91)).encode(),
            )
        files._sftp_poll()
        run_jobs(self.env)
        invoice = self.env["logistics.freight.invoice"].search([("name", "=", "PC-7201")])
        self.assertEqual(invoice.state, "to_review")
        self.dispute(invoice, "6.00 over the booked rate")
        run_jobs(self.env)
        self.assertFalse(self.messages(files, direction="out"), "nothing for the files backend")
        [request] = self.partner_http.requests
        event = request.json()
        self.assertEqual(event["type"], "freight.dispute")
        self.assertEqual(event["data"]["invoice_number"], "PC-7201")
        self.assertEqual(event["data"]["reason"], "6.00 over the booked rate")
        self.assertEqual(invoice.state, "disputed")
        self.assertEqual(invoice.dispute_backend_id, self.invoicing)
        [sent] = self.messages(self.invoicing, direction="out")
        self.assertEqual((sent.message_type, sent.state), ("freight.dispute", "sent"))
        self.assertTrue(
            any("with Parcel Co invoicing" in (m.body or "") for m in invoice.message_ids)
        )

    def test_a_dispute_nobody_can_take_is_refused_in_words(self):
        files, carrier, _server = self.freight_files(self.backend, self.vendor, self.freight_cost)
        self.invoicing.active = False  # the carrier's only channel taking disputes
        picking, parcel = self.shipped()
        data = self.invoice(
            "PC-7202", [self.shipment(picking, parcel, ("freight", parcel.price + 6.0, "r"))]
        )
        with sftp.SFTPConnection(carrier) as conn:
            conn.ensure_dirs()
            conn.put_atomic("invoices_PC-7202.csv", build_csv([data]).encode())
        files._sftp_poll()
        run_jobs(self.env)
        invoice = self.env["logistics.freight.invoice"].search([("name", "=", "PC-7202")])
        with self.assertRaisesRegex(
            UserError,
            "Invoice PC-7202 came from Parcel Co invoice files, which only brings invoice "
            "files, and no backend of the carrier or 3PL it is for takes disputes",
        ):
            self.dispute(invoice)
        self.assertEqual(invoice.state, "to_review")
        self.assertFalse(
            self.env["logistics.message"].search([("message_type", "=", "freight.dispute")])
        )

    # what an approved accessorial costs -------------------------------------------------------
    def report_charge(self, picking, charge_id, code, amount, currency="USD"):
        message = self.env["logistics.message"]._store_inbound(
            self.invoicing,
            [
                {
                    "message_type": "billing.charge",
                    "idempotency_key": charge_id,
                    "payload": {
                        "charge_id": charge_id,
                        "code": code,
                        "shipment_ref": picking.name,
                        "amount": amount,
                        "currency": currency,
                    },
                }
            ],
        )[0]
        run_jobs(self.env)
        self.assertEqual(message.state, "processed", message.error_message)
        return message

    def test_an_approved_accessorial_is_expected_at_the_partners_charge(self):
        """The customer pays 45.00 for a liftgate (and a 5.00 handling fee on it); the
        carrier reported 20.00: its invoice is expected to charge 20.00, once."""
        self.rule(
            "Liftgate", "accessorial", self.accessorial, "fixed", 45.0, charge_code="liftgate"
        )
        self.rule(
            "Handling", "accessorial", self.delivery_fee, "fixed", 5.0, charge_code="liftgate"
        )
        picking, parcel = self.shipped()
        self.report_charge(picking, "LG-1", "liftgate", 20.0)
        events = self.events(milestone="accessorial")
        self.assertEqual(sorted(events.mapped("amount")), [5.0, 45.0], "what the customer pays")
        self.assertEqual(set(events.mapped("cost_amount")), {20.0})
        events.action_approve()
        data = self.invoice(
            "PC-7301",
            [
                self.shipment(
                    picking, parcel, ("freight", parcel.price, "r"), ("liftgate", 20.0, "lift")
                )
            ],
        )
        message, invoice = self.receive(data)
        self.assertEqual(message.state, "processed", message.error_message)
        self.assertEqual(invoice.state, "billed")
        self.assertAlmostEqual(invoice.expected_total, parcel.price + 20.0)
        self.assertIn("approved accessorial liftgate 20.00", invoice.line_ids.expected_detail)

    def test_a_charge_under_the_carriers_own_code_waits_for_approval(self):
        """A charge code no canonical code stands for (ENS, an energy surcharge in a 210) is
        kept with its code and holds the invoice for approval, never rejects it; reported by
        the carrier (as 'other') and approved, it is expected like any accessorial and the
        replayed invoice is billed."""
        self.rule("Energy", "accessorial", self.accessorial, "fixed", 15.0, charge_code="other")
        picking, parcel = self.shipped()
        data = self.invoice(
            "PC-7401", [self.shipment(picking, parcel, ("freight", parcel.price, "r"))]
        )
        data["shipments"][0]["charges"].append(
            {"code": "other", "partner_code": "ENS", "amount": 12.5, "description": "Energy"}
        )
        data["total"] = round(parcel.price + 12.5, 2)
        message, invoice = self.receive(data)
        self.assertEqual(message.state, "failed")
        self.assertEqual(invoice.state, "to_review")
        self.assertIn(
            f"{picking.name}: charges outside the codes agreed with {self.backend.name}, kept "
            "as accessorials that need approval: ENS Energy 12.50 USD.",
            invoice.issues,
        )
        self.assertEqual(invoice.line_ids.charges_data[1]["partner_code"], "ENS")
        self.assertIn("ENS: 12.50 Energy", invoice.line_ids.charges)
        # the carrier reports it, a billing user approves it, the message is replayed
        self.report_charge(picking, "ENS-1", "other", 12.5)
        self.events(milestone="accessorial").action_approve()
        message._retry("billing user")
        run_jobs(self.env)
        self.assertEqual(message.state, "processed", message.error_message)
        self.assertEqual(invoice.state, "billed")
        self.assertFalse(invoice.issues)
        self.assertAlmostEqual(invoice.expected_total, parcel.price + 12.5)
        self.assertIn("ENS", " ".join(invoice.move_id.invoice_line_ids.mapped("name")))

    # other currencies and other companies -----------------------------------------------------
    def test_an_invoice_in_another_currency_is_expected_at_the_converted_rate(self):
        eur = self.env.ref("base.EUR")
        eur.active = True
        self.env["res.currency.rate"].create(
            {
                "currency_id": eur.id,
                "name": "2026-01-01",
                "rate": 0.5,
                "company_id": self.env.company.id,
            }
        )
        picking, parcel = self.shipped()
        in_eur = eur.round(parcel.price * 0.5)
        message, invoice = self.receive(
            self.invoice(
                "PC-7401",
                [self.shipment(picking, parcel, ("freight", in_eur, "r"))],
                currency="EUR",
            )
        )
        self.assertEqual(message.state, "processed", message.error_message)
        self.assertAlmostEqual(invoice.expected_total, in_eur)
        self.assertIn(
            f"booked rate {in_eur:.2f} ({parcel.price:.2f} USD)", invoice.line_ids.expected_detail
        )
        self.assertEqual(invoice.move_id.currency_id, eur)
        self.assertAlmostEqual(invoice.move_id.amount_total, in_eur)
        # the dollar figure written in euros is twice the cost: a variance
        other, other_parcel = self.shipped()
        message, invoice = self.receive(
            self.invoice(
                "PC-7402",
                [self.shipment(other, other_parcel, ("freight", other_parcel.price, "r"))],
                currency="EUR",
            )
        )
        self.assertEqual((message.state, invoice.state), ("failed", "to_review"))
        self.assertIn(
            f"expected {eur.round(other_parcel.price * 0.5):.2f}, "
            f"invoiced {other_parcel.price:.2f} EUR",
            message.error_message,
        )
        # the tolerance of 1.00 USD, in the invoice's euros
        self.assertIn("more than the tolerance of 0.50 EUR and 5.0%", message.error_message)
        # the dashboard adds variances up in the company's dollars
        self.assertAlmostEqual(invoice.variance_company, invoice.variance * 2, places=2)

    def test_a_transfer_of_another_company_is_not_matched(self):
        other_company = self.env["res.company"].create({"name": "Other Freight Co"})
        warehouse = self.env["stock.warehouse"].search(
            [("company_id", "=", other_company.id)], limit=1
        ) or self.env["stock.warehouse"].create(
            {"name": "Other warehouse", "code": "OTH", "company_id": other_company.id}
        )
        theirs = self.env["stock.picking"].create(
            {
                "name": "THEIRS/OUT/0001",
                "company_id": other_company.id,
                "picking_type_id": warehouse.out_type_id.id,
                "location_id": warehouse.lot_stock_id.id,
                "location_dest_id": self.env.ref("stock.stock_location_customers").id,
            }
        )
        self.assertEqual(self.invoicing.company_id, self.env.company)
        message, invoice = self.receive(
            self.invoice(
                "PC-7501",
                [
                    {
                        "shipment_ref": theirs.name,
                        "charges": [{"code": "freight", "amount": 9.0}],
                    }
                ],
            )
        )
        self.assertFalse(invoice.line_ids.picking_id)
        self.assertIn("Shipment THEIRS/OUT/0001 is not one Odoo knows", message.error_message)


@tagged("post_install", "-at_install")
class TestFreightInvoiceWebhook(FreightAuditFixture, LogisticsHttpCase):
    """The carrier's invoicing posts signed CloudEvents into Odoo's real webhook route."""

    def post_invoice(self, data, event_id=None):
        event = cloud_event("freight.invoice", data, event_id=event_id)
        # a partner sending an event again sends it under the same webhook id
        response = self.post_webhook(self.invoicing.code, event, msg_id=f"msg_{event['id']}")
        self.assertLess(response.status_code, 300, response.text)
        run_jobs(self.env)
        messages = self.env["logistics.message"].search(
            [("backend_id", "=", self.invoicing.id), ("external_id", "=", event["id"])]
        )
        return messages

    def test_the_same_number_at_another_amount_over_the_webhook(self):
        picking, parcel = self.shipped()
        price = parcel.price
        first = self.invoice("PC-7601", [self.shipment(picking, parcel, ("freight", price, "r"))])
        second = self.invoice(
            "PC-7601",
            [
                self.shipment(
                    picking, parcel, ("freight", price, "r"), ("liftgate", 15.0, "liftgate")
                )
            ],
        )
        Invoice = self.env["logistics.freight.invoice"]
        message = self.post_invoice(first, event_id="inv-7601-a")
        self.assertEqual(message.state, "processed", message.error_message)
        invoice = Invoice.search([("name", "=", "PC-7601")])
        self.assertEqual(invoice.state, "billed")

        changed = self.post_invoice(second, event_id="inv-7601-b")
        self.assertEqual((changed.state, changed.error_category), ("failed", "business"))
        self.assertIn(
            f"was billed already at {price:.2f} USD (vendor bill "
            f"{invoice.move_id.display_name}), and Parcel Co invoicing sent it again at "
            f"{price + 15.0:.2f} USD",
            changed.error_message,
        )
        copy = Invoice.search([("name", "=", "PC-7601")]) - invoice
        self.assertEqual((copy.state, copy.duplicate_of_id), ("to_review", invoice))

        # the first again under another event id: a harmless duplicate; under the same id:
        # the same message
        same = self.post_invoice(first, event_id="inv-7601-c")
        self.assertEqual(same.state, "processed", same.error_message)
        self.assertEqual(self.post_invoice(first, event_id="inv-7601-a"), message)
        self.assertEqual(len(Invoice.search([("name", "=", "PC-7601")])), 2)
        self.assertEqual(self.env["account.move"].search_count([("ref", "=", "PC-7601")]), 1)
