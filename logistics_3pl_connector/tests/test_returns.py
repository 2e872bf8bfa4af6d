from odoo.tests import TransactionCase

from .common import ThreePLFixture, run_jobs


def ship(order_ref, lines, ref):
    return {"order_ref": order_ref, "shipment_ref": ref, "lines": lines}


class TestReturnsFlow(ThreePLFixture, TransactionCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.setup_3pl()

    def shipped(self, lines, sku_lines):
        picking = self.make_delivery(lines)
        run_jobs(self.env)
        msg = self.process_inbound(
            "shipment.confirmed", ship(picking.name, sku_lines, "S-" + picking.name)
        )
        self.assertEqual(msg.state, "processed", msg.error_message)
        return picking

    def qty(self, product, location=None):
        return self.env["stock.quant"]._get_available_quantity(
            product, location or self.stock_location
        )

    def test_restock_return_against_the_delivery(self):
        delivery = self.shipped([(self.chair, 4)], [{"sku": "CHAIR-1", "quantity": 4}])
        before = self.qty(self.chair)
        msg = self.process_inbound(
            "return.received",
            {
                "order_ref": delivery.name,
                "return_ref": "RMA-1",
                "received_at": "2026-11-22T10:00:00Z",
                "lines": [{"sku": "CHAIR-1", "quantity": 2, "disposition": "restock"}],
            },
        )
        self.assertEqual(msg.state, "processed", msg.error_message)
        ret = msg.record_ref
        self.assertEqual(ret.return_id, delivery)
        self.assertEqual(ret.state, "done")
        self.assertEqual(ret.logistics_state, "received")
        self.assertEqual(ret.logistics_return_ref, "RMA-1")
        self.assertEqual(self.qty(self.chair), before + 2)
        again = self.process_inbound("return.received", msg._get_payload())
        self.assertIn("already applied", again.job_id.result)
        self.assertEqual(self.qty(self.chair), before + 2)

    def test_damaged_goods_are_scrapped(self):
        delivery = self.shipped([(self.desk, 3)], [{"sku": "DESK-1", "quantity": 3}])
        before = self.qty(self.desk)
        msg = self.process_inbound(
            "return.received",
            {
                "order_ref": delivery.name,
                "return_ref": "RMA-2",
                "lines": [
                    {"sku": "DESK-1", "quantity": 1, "disposition": "restock"},
                    {
                        "sku": "DESK-1",
                        "quantity": 2,
                        "disposition": "damaged",
                        "reason": "broken leg",
                    },
                ],
            },
        )
        self.assertEqual(msg.state, "processed", msg.error_message)
        self.assertEqual(self.qty(self.desk), before + 1)
        scrap = self.env["stock.scrap"].search([("product_id", "=", self.desk.id)])
        self.assertEqual(scrap.scrap_qty, 2)
        self.assertEqual(scrap.state, "done")
        self.assertIn("broken leg", scrap.origin)

    def test_quarantine(self):
        delivery = self.shipped([(self.chair, 2)], [{"sku": "CHAIR-1", "quantity": 2}])
        before = self.qty(self.chair)
        self.process_inbound(
            "return.received",
            {
                "order_ref": delivery.name,
                "return_ref": "RMA-3",
                "lines": [{"sku": "CHAIR-1", "quantity": 2, "disposition": "quarantine"}],
            },
        )
        quarantine = self.env["stock.location"].search(
            [("name", "=", "Quarantine"), ("location_id", "=", self.warehouse.view_location_id.id)]
        )
        self.assertEqual(self.qty(self.chair, quarantine), 2)
        self.assertEqual(self.qty(self.chair), before)

    def test_lots_come_back(self):
        delivery = self.shipped(
            [(self.serum, 3)],
            [{"sku": "SERUM-1", "quantity": 3, "lots": [{"lot": "L-100", "quantity": 3}]}],
        )
        msg = self.process_inbound(
            "return.received",
            {
                "order_ref": delivery.name,
                "return_ref": "RMA-4",
                "lines": [
                    {
                        "sku": "SERUM-1",
                        "quantity": 1,
                        "disposition": "restock",
                        "lots": [{"lot": "L-100", "quantity": 1}],
                    }
                ],
            },
        )
        self.assertEqual(msg.state, "processed", msg.error_message)
        self.assertEqual(msg.record_ref.move_line_ids.lot_id.name, "L-100")

    def test_over_return_is_refused_and_nothing_applied(self):
        delivery = self.shipped([(self.chair, 1)], [{"sku": "CHAIR-1", "quantity": 1}])
        before = self.qty(self.chair)
        msg = self.process_inbound(
            "return.received",
            {
                "order_ref": delivery.name,
                "return_ref": "RMA-5",
                "lines": [{"sku": "CHAIR-1", "quantity": 3, "disposition": "restock"}],
            },
        )
        self.assertEqual((msg.state, msg.error_category), ("failed", "business"))
        self.assertIn("more than was delivered", msg.error_message)
        self.assertEqual(self.qty(self.chair), before)
        self.assertFalse(self.env["stock.picking"].search([("return_id", "=", delivery.id)]))

    def test_return_across_backorders(self):
        picking = self.make_delivery([(self.chair, 3)])
        run_jobs(self.env)
        self.process_inbound(
            "shipment.confirmed", ship(picking.name, [{"sku": "CHAIR-1", "quantity": 2}], "S-A")
        )
        self.process_inbound(
            "shipment.confirmed", ship(picking.name, [{"sku": "CHAIR-1", "quantity": 1}], "S-B")
        )
        msg = self.process_inbound(
            "return.received",
            {
                "order_ref": picking.name,
                "return_ref": "RMA-6",
                "lines": [{"sku": "CHAIR-1", "quantity": 3, "disposition": "restock"}],
            },
        )
        self.assertEqual(msg.state, "processed", msg.error_message)
        returns = self.env["stock.picking"].search([("logistics_return_ref", "=", "RMA-6")])
        self.assertEqual(len(returns), 2)
        self.assertEqual(sum(returns.move_ids.mapped("quantity")), 3)

    def test_return_before_shipment_then_replayed(self):
        picking = self.make_delivery([(self.chair, 1)])
        run_jobs(self.env)
        data = {
            "order_ref": picking.name,
            "return_ref": "RMA-7",
            "lines": [{"sku": "CHAIR-1", "quantity": 1, "disposition": "restock"}],
        }
        msg = self.process_inbound("return.received", data)
        self.assertEqual((msg.state, msg.error_category), ("failed", "business"))
        self.assertIn("has not been shipped", msg.error_message)
        self.process_inbound(
            "shipment.confirmed", ship(picking.name, [{"sku": "CHAIR-1", "quantity": 1}], "S-7")
        )
        msg.action_retry()
        run_jobs(self.env)
        self.assertEqual(msg.state, "processed", msg.error_message)


class TestReceiptsFlow(ThreePLFixture, TransactionCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.setup_3pl()
        cls.vendor = cls.env["res.partner"].create({"name": "Supplier Co"})

    def make_receipt(self, lines):
        ptype = self.warehouse.in_type_id
        picking = self.env["stock.picking"].create(
            {
                "picking_type_id": ptype.id,
                "partner_id": self.vendor.id,
                "location_id": self.env.ref("stock.stock_location_suppliers").id,
                "location_dest_id": self.stock_location.id,
                "move_ids": [
                    (
                        0,
                        0,
                        {
                            "name": p.name,
                            "product_id": p.id,
                            "product_uom_qty": q,
                            "product_uom": p.uom_id.id,
                            "location_id": self.env.ref("stock.stock_location_suppliers").id,
                            "location_dest_id": self.stock_location.id,
                        },
                    )
                    for p, q in lines
                ],
            }
        )
        picking.action_confirm()
        return picking

    def test_partial_receipt_then_rest_on_backorder(self):
        receipt = self.make_receipt([(self.chair, 10)])
        before = self.env["stock.quant"]._get_available_quantity(self.chair, self.stock_location)
        msg = self.process_inbound(
            "receipt.confirmed",
            {"receipt_ref": receipt.name, "lines": [{"sku": "CHAIR-1", "quantity": 6}]},
        )
        self.assertEqual(msg.state, "processed", msg.error_message)
        self.assertEqual(receipt.state, "done")
        self.assertEqual(receipt.logistics_state, "received")
        backorder = receipt.backorder_ids
        self.assertEqual(backorder.move_ids.product_uom_qty, 4)
        msg2 = self.process_inbound(
            "receipt.confirmed",
            {"receipt_ref": receipt.name, "lines": [{"sku": "CHAIR-1", "quantity": 4}]},
        )
        self.assertEqual(msg2.record_ref, backorder)
        self.assertEqual(backorder.state, "done")
        after = self.env["stock.quant"]._get_available_quantity(self.chair, self.stock_location)
        self.assertEqual(after - before, 10)
        msg3 = self.process_inbound(
            "receipt.confirmed",
            {"receipt_ref": receipt.name, "lines": [{"sku": "CHAIR-1", "quantity": 4}]},
        )
        self.assertIn("already fully received", msg3.job_id.result)

    def test_complete_receipt_closes_and_lots_are_created(self):
        receipt = self.make_receipt([(self.serum, 10)])
        msg = self.process_inbound(
            "receipt.confirmed",
            {
                "receipt_ref": receipt.name,
                "complete": True,
                "lines": [
                    {
                        "sku": "SERUM-1",
                        "quantity": 8,
                        "lots": [{"lot": "NEW-1", "quantity": 5}, {"lot": "NEW-2", "quantity": 3}],
                    }
                ],
            },
        )
        self.assertEqual(msg.state, "processed", msg.error_message)
        self.assertFalse(receipt.backorder_ids)
        self.assertEqual(sorted(receipt.move_line_ids.lot_id.mapped("name")), ["NEW-1", "NEW-2"])

    def test_receipt_before_the_transfer_exists_is_replayed(self):
        msg = self.process_inbound(
            "receipt.confirmed",
            {"receipt_ref": "PO-ASN-77", "lines": [{"sku": "DESK-1", "quantity": 1}]},
        )
        self.assertEqual((msg.state, msg.error_category), ("failed", "business"))
        self.assertIn("Unknown order PO-ASN-77", msg.error_message)
        receipt = self.make_receipt([(self.desk, 1)])
        receipt.logistics_order_ref = "PO-ASN-77"
        msg.action_retry()
        run_jobs(self.env)
        self.assertEqual(msg.state, "processed", msg.error_message)
        self.assertEqual(receipt.state, "done")

    def test_asn_release_for_incoming_transfers(self):
        self.backend.send_asn = True
        receipt = self.make_receipt([(self.chair, 5)])
        self.assertEqual(receipt.state, "assigned")
        self.assertEqual(receipt.logistics_state, "queued")
        self.run_release_jobs()
        msg = receipt.logistics_release_message_id
        self.assertEqual(msg.message_type, "asn.release")
        data = msg._get_payload()
        self.assertEqual(data["receipt_ref"], receipt.name)
        self.assertEqual(data["lines"][0]["sku"], "CHAIR-1")
        self.assertEqual(msg.state, "pending", msg.error_message)  # schema-valid, queued
        self.assertFalse(msg.ack_expected)
