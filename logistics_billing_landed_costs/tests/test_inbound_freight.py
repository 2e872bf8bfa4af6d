"""Freight a carrier invoices for a receipt becomes a draft landed cost on it, linked to the
vendor bill the audit created."""

import json
import uuid

from odoo.tests import TransactionCase

from odoo.addons.logistics_billing_events.tests.common import BillingMixin
from odoo.addons.logistics_integration_base.tests.common import LogisticsCaseMixin, run_jobs


class TestInboundFreight(BillingMixin, LogisticsCaseMixin, TransactionCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.setup_billing()
        env = cls.env
        company = env.company
        if not company.lc_journal_id:
            company.lc_journal_id = env["account.journal"].create(
                {"name": "Landed costs", "type": "general", "code": "LCJ"}
            )
        cls.vendor = env["res.partner"].create({"name": "Freightways Inc.", "is_company": True})
        cls.freight_cost = env["product.product"].create(
            {"name": "Freight costs", "type": "service"}
        )
        cls.freightways = cls._make_backend(
            name="Freightways",
            code="freightways",
            kind="carrier",
            freight_vendor_id=cls.vendor.id,
            freight_product_id=cls.freight_cost.id,
            freight_bill_policy="post",
        )
        env["logistics.freight.rate"].create(
            {"backend_id": cls.freightways.id, "charge_code": "freight", "price": 40.0}
        )
        fifo = env["product.category"].create(
            {"name": "Goods at FIFO", "property_cost_method": "fifo"}
        )
        cls.pallet_goods = env["product.product"].create(
            {
                "name": "Palletised goods",
                "is_storable": True,
                "weight": 12.0,
                "standard_price": 5,
                "categ_id": fifo.id,
            }
        )
        warehouse = env["stock.warehouse"].search([("company_id", "=", company.id)], limit=1)
        cls.receipt = env["stock.picking"].create(
            {
                "picking_type_id": warehouse.in_type_id.id,
                "partner_id": cls.vendor.id,
                "location_id": env.ref("stock.stock_location_suppliers").id,
                "location_dest_id": warehouse.lot_stock_id.id,
                "move_ids": [
                    (
                        0,
                        0,
                        {
                            "name": "goods",
                            "product_id": cls.pallet_goods.id,
                            "product_uom_qty": 10,
                            "product_uom": cls.pallet_goods.uom_id.id,
                            "location_id": env.ref("stock.stock_location_suppliers").id,
                            "location_dest_id": warehouse.lot_stock_id.id,
                        },
                    )
                ],
            }
        )
        cls.receipt.action_confirm()
        cls.receipt.move_ids.quantity = 10
        cls.receipt.button_validate()

    def test_inbound_freight_becomes_a_landed_cost_on_the_receipt(self):
        self.assertEqual(self.receipt.state, "done")
        message = self.env["logistics.message"].create(
            {
                "backend_id": self.freightways.id,
                "direction": "in",
                "message_type": "freight.invoice",
                "idempotency_key": str(uuid.uuid4()),
                "state": "received",
                "payload": json.dumps(
                    {
                        "invoice_number": "FW-7001",
                        "invoice_date": "2026-11-30",
                        "currency": "USD",
                        "total": 40.0,
                        "shipments": [
                            {
                                "shipment_ref": self.receipt.name,
                                "charges": [
                                    {"code": "freight", "amount": 40.0, "description": "inbound"}
                                ],
                            }
                        ],
                    }
                ),
            }
        )
        message._enqueue()
        run_jobs(self.env)
        self.assertEqual(message.state, "processed", message.error_message)
        invoice = self.env["logistics.freight.invoice"].search([("name", "=", "FW-7001")])
        self.assertEqual(invoice.state, "billed")
        [cost] = invoice.landed_cost_ids
        self.assertEqual(cost.state, "draft")
        self.assertEqual(cost.picking_ids, self.receipt)
        self.assertEqual(cost.vendor_bill_id, invoice.move_id)
        self.assertEqual(cost.cost_lines.price_unit, 40.0)
        self.assertEqual(cost.cost_lines.split_method, "by_weight")
        self.assertIn("Freight of", cost.description)
        self.assertIn(f"Draft landed cost {cost.name}", invoice.message_ids[0].body)
        # the cost is applied to the received goods once validated
        cost.button_validate()
        self.assertEqual(cost.state, "done")
        self.assertAlmostEqual(
            sum(cost.valuation_adjustment_lines.mapped("additional_landed_cost")), 40.0
        )

    def receive(self, number, amount):
        message = self.env["logistics.message"].create(
            {
                "backend_id": self.freightways.id,
                "direction": "in",
                "message_type": "freight.invoice",
                "idempotency_key": str(uuid.uuid4()),
                "state": "received",
                "payload": json.dumps(
                    {
                        "invoice_number": number,
                        "invoice_date": "2026-11-30",
                        "currency": "USD",
                        "total": amount,
                        "shipments": [
                            {
                                "shipment_ref": self.receipt.name,
                                "charges": [{"code": "freight", "amount": amount}],
                            }
                        ],
                    }
                ),
            }
        )
        message._enqueue()
        run_jobs(self.env)
        return message

    def test_a_copy_at_another_amount_replaces_the_draft_landed_cost_once_accepted(self):
        self.assertEqual(self.receive("FW-7002", 40.0).state, "processed")
        Invoice = self.env["logistics.freight.invoice"]
        first = Invoice.search([("name", "=", "FW-7002")])
        [first_cost] = first.landed_cost_ids
        # the same number at 55.00: a copy to review, no second landed cost meanwhile
        self.assertEqual(self.receive("FW-7002", 55.0).state, "failed")
        copy = Invoice.search([("name", "=", "FW-7002")]) - first
        self.assertEqual((copy.state, copy.landed_cost_ids.ids), ("to_review", []))
        # the partner confirms 55.00 replaces 40.00: the first bill reversed, the copy accepted
        first.move_id.button_draft()
        first.move_id.button_cancel()
        copy.action_accept()
        self.assertEqual(first_cost.state, "cancel")
        [cost] = copy.landed_cost_ids
        self.assertEqual((cost.state, cost.cost_lines.price_unit), ("draft", 55.0))
        self.assertEqual(
            self.env["stock.landed.cost"].search_count(
                [("picking_ids", "in", self.receipt.ids), ("state", "!=", "cancel")]
            ),
            1,
        )
