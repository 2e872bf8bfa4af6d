"""Returns (``return.received``), receipts (``receipt.confirmed``) and ASNs (``asn.release``)
against a 3PL warehouse, with real deliveries shipped through ``shipment.confirmed`` first."""

from odoo.tests import TransactionCase

from .common import ThreePLFixture, run_jobs


class ReturnsReceiptsCase(ThreePLFixture):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.setup_3pl()
        cls.suppliers = cls.env.ref("stock.stock_location_suppliers")
        cls.vendor = cls.env["res.partner"].create({"name": "Supplier Co"})

    def qty(self, product, location=None, lot=None):
        return self.env["stock.quant"]._get_available_quantity(
            product, location or self.stock_location, lot_id=lot, strict=bool(location)
        )

    def lot(self, product, name):
        return self.env["stock.lot"].search([("product_id", "=", product.id), ("name", "=", name)])


class TestReturns(ReturnsReceiptsCase, TransactionCase):
    def shipped(self, lines, sku_lines, ref=None):
        """A delivery released to the 3PL and shipped in full by a ``shipment.confirmed``."""
        picking = self.make_delivery(lines)
        run_jobs(self.env)
        msg = self.process_inbound(
            "shipment.confirmed",
            {
                "order_ref": ref or picking.name,
                "shipment_ref": "S-" + picking.name,
                "lines": sku_lines,
            },
        )
        self.assertEqual(msg.state, "processed", msg.error_message)
        self.assertEqual(picking.state, "done")
        return picking

    def returned(self, order_ref, return_ref, lines):
        return self.process_inbound(
            "return.received",
            {
                "order_ref": order_ref,
                "return_ref": return_ref,
                "received_at": "2026-11-23T09:30:00Z",
                "lines": lines,
            },
        )

    def returns_of(self, return_ref):
        return self.env["stock.picking"].search([("logistics_return_ref", "=", return_ref)])

    def test_restock_creates_and_validates_the_return_of_the_delivery(self):
        delivery = self.shipped([(self.chair, 4)], [{"sku": "CHAIR-1", "quantity": 4}])
        before = self.qty(self.chair)
        msg = self.returned(
            delivery.name, "RR-1", [{"sku": "CHAIR-1", "quantity": 3, "disposition": "restock"}]
        )
        self.assertEqual(msg.state, "processed", msg.error_message)
        ret = self.returns_of("RR-1")
        self.assertEqual(len(ret), 1)
        self.assertEqual(msg.record_ref, ret, "the message points at the return")
        self.assertEqual(ret.return_id, delivery, "made by Odoo's return wizard")
        self.assertEqual(ret.move_ids.origin_returned_move_id, delivery.move_ids)
        self.assertEqual(ret.picking_type_id, self.warehouse.in_type_id)
        self.assertEqual(ret.location_dest_id, self.stock_location)
        self.assertEqual((ret.state, ret.logistics_state), ("done", "received"))
        self.assertEqual(ret.move_ids.quantity, 3)
        self.assertEqual(self.qty(self.chair), before + 3)
        self.assertIn(ret.name, msg.job_id.result)
        self.assertFalse(
            self.messages(self.backend, message_type="asn.release"),
            "a return reported by the 3PL is not announced back to it",
        )

    def test_damaged_and_scrap_are_returned_then_scrapped(self):
        delivery = self.shipped([(self.chair, 4)], [{"sku": "CHAIR-1", "quantity": 4}])
        before = self.qty(self.chair)
        msg = self.returned(
            delivery.name,
            "RR-2",
            [
                {"sku": "CHAIR-1", "quantity": 1, "disposition": "restock"},
                {"sku": "CHAIR-1", "quantity": 1, "disposition": "damaged", "reason": "crushed"},
                {"sku": "CHAIR-1", "quantity": 2, "disposition": "scrap"},
            ],
        )
        self.assertEqual(msg.state, "processed", msg.error_message)
        ret = self.returns_of("RR-2")
        self.assertEqual((ret.state, ret.move_ids.quantity), ("done", 4), "all of it came back")
        scraps = self.env["stock.scrap"].search([("product_id", "=", self.chair.id)])
        self.assertEqual(sorted(scraps.mapped("scrap_qty")), [1, 2])
        self.assertEqual(set(scraps.mapped("state")), {"done"})
        self.assertEqual(scraps.location_id, self.stock_location)
        self.assertTrue(all("RR-2" in s.origin for s in scraps))
        self.assertIn("crushed", scraps.filtered(lambda s: s.scrap_qty == 1).origin)
        self.assertEqual(self.qty(self.chair), before + 1, "only the restocked unit is sellable")

    def test_quarantine_moves_to_a_quarantine_location_created_once(self):
        delivery = self.shipped([(self.chair, 3)], [{"sku": "CHAIR-1", "quantity": 3}])
        before = self.qty(self.chair)
        for ref, qty in (("RR-3a", 2), ("RR-3b", 1)):
            msg = self.returned(
                delivery.name,
                ref,
                [{"sku": "CHAIR-1", "quantity": qty, "disposition": "quarantine"}],
            )
            self.assertEqual(msg.state, "processed", msg.error_message)
        quarantine = self.env["stock.location"].search(
            [("name", "=", "Quarantine"), ("location_id", "=", self.warehouse.view_location_id.id)]
        )
        self.assertEqual(len(quarantine), 1, "created on first use, then reused")
        self.assertEqual(quarantine.usage, "internal")
        self.assertEqual(quarantine.warehouse_id, self.warehouse)
        self.assertEqual(self.qty(self.chair, quarantine), 3)
        self.assertEqual(self.qty(self.chair), before, "quarantined goods are not sellable")
        self.assertEqual(set(self.returns_of("RR-3a").mapped("logistics_state")), {"received"})

    def test_lots_come_back_with_their_disposition(self):
        l200 = self.env["stock.lot"].create({"name": "L-200", "product_id": self.serum.id})
        self.env["stock.quant"]._update_available_quantity(
            self.serum, self.stock_location, 10, lot_id=l200
        )
        l100 = self.lot(self.serum, "L-100")
        delivery = self.shipped(
            [(self.serum, 4)],
            [
                {
                    "sku": "SERUM-1",
                    "quantity": 4,
                    "lots": [{"lot": "L-100", "quantity": 2}, {"lot": "L-200", "quantity": 2}],
                }
            ],
        )
        before = {lot: self.qty(self.serum, self.stock_location, lot) for lot in (l100, l200)}
        msg = self.returned(
            delivery.name,
            "RR-4",
            [
                {
                    "sku": "SERUM-1",
                    "quantity": 1,
                    "disposition": "restock",
                    "lots": [{"lot": "L-100", "quantity": 1}],
                },
                {
                    "sku": "SERUM-1",
                    "quantity": 1,
                    "disposition": "quarantine",
                    "lots": [{"lot": "L-200", "quantity": 1}],
                },
                {
                    "sku": "SERUM-1",
                    "quantity": 1,
                    "disposition": "damaged",
                    "lots": [{"lot": "L-200", "quantity": 1}],
                },
            ],
        )
        self.assertEqual(msg.state, "processed", msg.error_message)
        ret = self.returns_of("RR-4")
        returned = {}
        for line in ret.move_line_ids:
            returned[line.lot_id.name] = returned.get(line.lot_id.name, 0) + line.quantity
        self.assertEqual(returned, {"L-100": 1, "L-200": 2})
        self.assertEqual(self.qty(self.serum, self.stock_location, l100), before[l100] + 1)
        self.assertEqual(self.qty(self.serum, self.stock_location, l200), before[l200])
        quarantine = self.env["stock.location"].search(
            [("name", "=", "Quarantine"), ("location_id", "=", self.warehouse.view_location_id.id)]
        )
        self.assertEqual(self.qty(self.serum, quarantine, l200), 1)
        scrap = self.env["stock.scrap"].search([("product_id", "=", self.serum.id)])
        self.assertEqual((scrap.lot_id, scrap.scrap_qty, scrap.state), (l200, 1, "done"))

    def test_same_return_twice_changes_nothing(self):
        delivery = self.shipped([(self.chair, 2)], [{"sku": "CHAIR-1", "quantity": 2}])
        lines = [{"sku": "CHAIR-1", "quantity": 1, "disposition": "damaged"}]
        first = self.returned(delivery.name, "RR-5", lines)
        self.assertEqual(first.state, "processed", first.error_message)
        stock, scraps = self.qty(self.chair), self.env["stock.scrap"].search_count([])
        # the same return again, e.g. once by webhook and once by file: another message
        again = self.returned(delivery.name, "RR-5", lines)
        self.assertNotEqual(again, first)
        self.assertEqual(again.state, "processed", again.error_message)
        self.assertIn("already applied", again.job_id.result)
        self.assertEqual(again.record_ref, first.record_ref)
        self.assertEqual(len(self.returns_of("RR-5")), 1)
        self.assertEqual(self.qty(self.chair), stock)
        self.assertEqual(self.env["stock.scrap"].search_count([]), scraps)

    def test_unknown_order_fails_in_business_words_then_replays(self):
        data_lines = [{"sku": "CHAIR-1", "quantity": 1, "disposition": "restock"}]
        msg = self.returned("SHOP-1001", "RR-6", data_lines)
        self.assertEqual((msg.state, msg.error_category), ("failed", "business"))
        self.assertIn("Unknown order SHOP-1001", msg.error_message)
        self.assertIn(self.backend.name, msg.error_message)
        self.assertIn("Retry", msg.error_message, "tells the operator what to do")
        # the order reaches Odoo under the 3PL's reference and ships
        delivery = self.make_delivery([(self.chair, 2)], confirm=False)
        delivery.logistics_order_ref = "SHOP-1001"
        delivery.action_confirm()
        self.shipped_existing(delivery, "SHOP-1001")
        msg.action_retry()
        run_jobs(self.env)
        self.assertEqual(msg.state, "processed", msg.error_message)
        self.assertEqual(msg.record_ref.return_id, delivery)
        self.assertEqual(msg.record_ref.state, "done")

    def shipped_existing(self, delivery, order_ref):
        run_jobs(self.env)
        self.assertEqual(delivery.logistics_release_message_id.state, "sent")
        ship = self.process_inbound(
            "shipment.confirmed",
            {
                "order_ref": order_ref,
                "shipment_ref": "S-" + order_ref,
                "lines": [{"sku": "CHAIR-1", "quantity": delivery.move_ids.product_uom_qty}],
            },
        )
        self.assertEqual(ship.state, "processed", ship.error_message)

    def test_returning_more_than_delivered_is_refused(self):
        delivery = self.shipped([(self.chair, 2)], [{"sku": "CHAIR-1", "quantity": 2}])
        before = self.qty(self.chair)
        msg = self.returned(
            delivery.name, "RR-7", [{"sku": "CHAIR-1", "quantity": 3, "disposition": "restock"}]
        )
        self.assertEqual((msg.state, msg.error_category), ("failed", "business"))
        self.assertIn("more than was delivered", msg.error_message)
        self.assertIn(delivery.name, msg.error_message)
        self.assertFalse(self.returns_of("RR-7"))
        self.assertFalse(self.env["stock.picking"].search([("return_id", "=", delivery.id)]))
        self.assertEqual(self.qty(self.chair), before)
        # earlier returns count: 2 delivered, 2 back, one more is refused
        ok = self.returned(
            delivery.name, "RR-8", [{"sku": "CHAIR-1", "quantity": 2, "disposition": "restock"}]
        )
        self.assertEqual(ok.state, "processed", ok.error_message)
        late = self.returned(
            delivery.name, "RR-9", [{"sku": "CHAIR-1", "quantity": 1, "disposition": "restock"}]
        )
        self.assertEqual((late.state, late.error_category), ("failed", "business"))
        self.assertEqual(self.qty(self.chair), before + 2)

    def test_return_spans_the_delivery_and_its_backorder(self):
        delivery = self.make_delivery([(self.chair, 3)])
        run_jobs(self.env)
        for ref, qty in (("S-1", 2), ("S-2", 1)):
            self.process_inbound(
                "shipment.confirmed",
                {
                    "order_ref": delivery.name,
                    "shipment_ref": ref,
                    "lines": [{"sku": "CHAIR-1", "quantity": qty}],
                },
            )
        backorder = delivery.backorder_ids
        self.assertEqual(backorder.state, "done")
        msg = self.returned(
            delivery.name, "RR-10", [{"sku": "CHAIR-1", "quantity": 3, "disposition": "restock"}]
        )
        self.assertEqual(msg.state, "processed", msg.error_message)
        returns = self.returns_of("RR-10")
        self.assertEqual(returns.return_id, delivery | backorder)
        self.assertEqual(sum(returns.move_ids.mapped("quantity")), 3)


class TestReceipts(ReturnsReceiptsCase, TransactionCase):
    def make_receipt(self, lines, ref=None):
        picking = self.env["stock.picking"].create(
            {
                "picking_type_id": self.warehouse.in_type_id.id,
                "partner_id": self.vendor.id,
                "origin": "P00042",
                "location_id": self.suppliers.id,
                "location_dest_id": self.stock_location.id,
                "move_ids": [
                    (
                        0,
                        0,
                        {
                            "name": product.name,
                            "product_id": product.id,
                            "product_uom_qty": qty,
                            "product_uom": product.uom_id.id,
                            "location_id": self.suppliers.id,
                            "location_dest_id": self.stock_location.id,
                        },
                    )
                    for product, qty in lines
                ],
            }
        )
        if ref:
            picking.logistics_order_ref = ref
        picking.action_confirm()
        return picking

    def receive(self, ref, lines, **extra):
        return self.process_inbound(
            "receipt.confirmed", {"receipt_ref": ref, "lines": lines, **extra}
        )

    def test_full_receipt_validates_the_transfer(self):
        receipt = self.make_receipt([(self.chair, 5), (self.desk, 2)])
        chairs, desks = self.qty(self.chair), self.qty(self.desk)
        msg = self.receive(
            receipt.name, [{"sku": "CHAIR-1", "quantity": 5}, {"sku": "DESK-1", "quantity": 2}]
        )
        self.assertEqual(msg.state, "processed", msg.error_message)
        self.assertEqual(msg.record_ref, receipt)
        self.assertEqual((receipt.state, receipt.logistics_state), ("done", "received"))
        self.assertFalse(receipt.backorder_ids)
        self.assertEqual((self.qty(self.chair), self.qty(self.desk)), (chairs + 5, desks + 2))

    def test_partial_receipt_backorder_keeps_the_reference_and_takes_the_rest(self):
        receipt = self.make_receipt([(self.chair, 10)], ref="ASN-5001")
        before = self.qty(self.chair)
        msg = self.receive("ASN-5001", [{"sku": "CHAIR-1", "quantity": 6}])
        self.assertEqual(msg.state, "processed", msg.error_message)
        self.assertEqual((receipt.state, receipt.logistics_state), ("done", "received"))
        backorder = receipt.backorder_ids
        self.assertEqual(len(backorder), 1)
        self.assertEqual(backorder.move_ids.product_uom_qty, 4)
        self.assertEqual(backorder.logistics_order_ref, "ASN-5001", "the 3PL keeps its reference")
        self.assertIn(backorder.name, msg.job_id.result)
        second = self.receive("ASN-5001", [{"sku": "CHAIR-1", "quantity": 4}])
        self.assertEqual(second.state, "processed", second.error_message)
        self.assertEqual(second.record_ref, backorder)
        self.assertEqual((backorder.state, backorder.logistics_state), ("done", "received"))
        self.assertFalse(backorder.backorder_ids)
        self.assertEqual(self.qty(self.chair), before + 10)
        # nothing left open: a further receipt changes nothing and says so
        third = self.receive("ASN-5001", [{"sku": "CHAIR-1", "quantity": 4}])
        self.assertEqual(third.state, "processed", third.error_message)
        self.assertIn("already fully received", third.job_id.result)
        self.assertEqual(self.qty(self.chair), before + 10)

    def test_partial_receipt_with_cancel_policy_closes_the_transfer(self):
        self.backend.backorder_policy = "cancel"
        receipt = self.make_receipt([(self.chair, 10)])
        self.receive(receipt.name, [{"sku": "CHAIR-1", "quantity": 7}])
        self.assertEqual(receipt.state, "done")
        self.assertFalse(receipt.backorder_ids)

    def test_lots_are_created(self):
        receipt = self.make_receipt([(self.serum, 6)])
        msg = self.receive(
            receipt.name,
            [
                {
                    "sku": "SERUM-1",
                    "quantity": 6,
                    "lots": [{"lot": "NEW-A", "quantity": 4}, {"lot": "NEW-B", "quantity": 2}],
                }
            ],
        )
        self.assertEqual(msg.state, "processed", msg.error_message)
        self.assertEqual(receipt.state, "done")
        for name, qty in (("NEW-A", 4), ("NEW-B", 2)):
            lot = self.lot(self.serum, name)
            self.assertEqual(len(lot), 1, f"lot {name} created")
            self.assertEqual(lot.company_id, receipt.company_id)
            self.assertEqual(self.qty(self.serum, self.stock_location, lot), qty)

    def test_complete_closes_without_backorder(self):
        receipt = self.make_receipt([(self.chair, 10)])
        before = self.qty(self.chair)
        msg = self.receive(receipt.name, [{"sku": "CHAIR-1", "quantity": 3}], complete=True)
        self.assertEqual(msg.state, "processed", msg.error_message)
        self.assertEqual(receipt.state, "done")
        self.assertFalse(receipt.backorder_ids, "complete: nothing more will arrive")
        self.assertEqual(self.qty(self.chair), before + 3)
        again = self.receive(receipt.name, [{"sku": "CHAIR-1", "quantity": 1}])
        self.assertIn("already fully received", again.job_id.result)

    def test_receipt_before_the_transfer_exists_is_replayed(self):
        msg = self.receive("PO-ASN-88", [{"sku": "DESK-1", "quantity": 2}])
        self.assertEqual((msg.state, msg.error_category), ("failed", "business"))
        self.assertIn("PO-ASN-88", msg.error_message)
        self.assertIn("Retry", msg.error_message)
        receipt = self.make_receipt([(self.desk, 2)], ref="PO-ASN-88")
        msg.action_retry()
        run_jobs(self.env)
        self.assertEqual(msg.state, "processed", msg.error_message)
        self.assertEqual(msg.record_ref, receipt)
        self.assertEqual((receipt.state, receipt.logistics_state), ("done", "received"))

    def test_receipts_of_other_warehouses_are_not_touched(self):
        other = self.env["stock.warehouse"].create({"name": "Own site", "code": "OWN"})
        receipt = self.env["stock.picking"].create(
            {
                "picking_type_id": other.in_type_id.id,
                "location_id": self.suppliers.id,
                "location_dest_id": other.lot_stock_id.id,
                "move_ids": [
                    (
                        0,
                        0,
                        {
                            "name": "Chair",
                            "product_id": self.chair.id,
                            "product_uom_qty": 1,
                            "product_uom": self.chair.uom_id.id,
                            "location_id": self.suppliers.id,
                            "location_dest_id": other.lot_stock_id.id,
                        },
                    )
                ],
            }
        )
        receipt.action_confirm()
        msg = self.receive(receipt.name, [{"sku": "CHAIR-1", "quantity": 1}])
        self.assertEqual((msg.state, msg.error_category), ("failed", "business"))
        self.assertNotEqual(receipt.state, "done")

    def test_asn_release_for_incoming_transfers(self):
        self.backend.send_asn = True
        receipt = self.make_receipt([(self.chair, 5), (self.serum, 2)])
        self.assertEqual(receipt.state, "assigned")
        self.assertEqual(receipt.logistics_state, "queued")
        self.run_release_jobs()
        msg = receipt.logistics_release_message_id
        self.assertEqual((msg.message_type, msg.state), ("asn.release", "pending"))
        self.assertEqual(receipt.logistics_state, "released")
        self.assertEqual(receipt.logistics_order_ref, receipt.name)
        data = msg._get_payload()
        self.env["logistics.message"]._schema_registry().validate("asn.release", data)
        self.assertEqual(
            (data["receipt_ref"], data["warehouse_code"], data["origin"]),
            (receipt.name, "E3PL", "P00042"),
        )
        self.assertEqual(data["supplier"]["name"], "Supplier Co")
        self.assertEqual(
            [(line["sku"], line["quantity"], line["lot_tracking"]) for line in data["lines"]],
            [("CHAIR-1", 5, "none"), ("SERUM-1", 2, "lot")],
        )
        run_jobs(self.env)
        sent = [r.json() for r in self.sim.requests if r.path.endswith("/events")]
        asn = [e for e in sent if e.get("type") == "asn.release"]
        self.assertEqual(len(asn), 1, "the ASN reached the 3PL")
        self.assertEqual(asn[0]["data"], data)
        self.assertEqual(asn[0]["id"], msg.idempotency_key)
        self.assertEqual(msg.state, "sent", msg.error_message)
        self.assertIn(receipt.name, self.sim.asns)
        # the 3PL confirms the ASN by its reference: the receipt is applied
        done = self.receive(
            receipt.name,
            [
                {"sku": "CHAIR-1", "quantity": 5},
                {"sku": "SERUM-1", "quantity": 2, "lots": [{"lot": "S-9", "quantity": 2}]},
            ],
        )
        self.assertEqual(done.state, "processed", done.error_message)
        self.assertEqual((receipt.state, receipt.logistics_state), ("done", "received"))


class TestReturnsShippedQuantitiesAndLots(ReturnsReceiptsCase, TransactionCase):
    """What can come back is what the 3PL shipped (not what was ordered), in the product's
    unit whatever the delivery's unit, and only in lots the order delivered."""

    def ship(self, delivery, lines, **extra):
        run_jobs(self.env)
        msg = self.process_inbound(
            "shipment.confirmed",
            {"order_ref": delivery.name, "shipment_ref": "S-" + delivery.name, "lines": lines}
            | extra,
        )
        self.assertEqual(msg.state, "processed", msg.error_message)
        self.assertEqual(delivery.state, "done")
        return delivery

    def returned(self, delivery, return_ref, lines):
        return self.process_inbound(
            "return.received",
            {"order_ref": delivery.name, "return_ref": return_ref, "lines": lines},
        )

    def assertRefused(self, msg, *words):
        """Failed in business words, and no return transfer was made."""
        self.assertEqual((msg.state, msg.error_category), ("failed", "business"))
        for word in words:
            self.assertIn(word, msg.error_message)
        return_ref = msg._get_payload()["return_ref"]
        self.assertFalse(
            self.env["stock.picking"].search([("logistics_return_ref", "=", return_ref)])
        )

    def test_delivery_closed_short_takes_back_only_what_shipped(self):
        delivery = self.make_delivery([(self.chair, 3)])
        self.ship(delivery, [{"sku": "CHAIR-1", "quantity": 2}], complete=True)
        self.assertFalse(delivery.backorder_ids)
        before = self.qty(self.chair)
        lines = [{"sku": "CHAIR-1", "quantity": 3, "disposition": "restock"}]
        self.assertRefused(self.returned(delivery, "RQ-1", lines), "1 too many")
        self.assertEqual(self.qty(self.chair), before)
        lines[0]["quantity"] = 2
        msg = self.returned(delivery, "RQ-2", lines)
        self.assertEqual(msg.state, "processed", msg.error_message)
        self.assertEqual(self.qty(self.chair), before + 2)

    def test_over_shipped_quantity_can_come_back(self):
        delivery = self.make_delivery([(self.chair, 3)])
        self.ship(delivery, [{"sku": "CHAIR-1", "quantity": 4}])
        msg = self.returned(
            delivery, "RQ-3", [{"sku": "CHAIR-1", "quantity": 4, "disposition": "restock"}]
        )
        self.assertEqual(msg.state, "processed", msg.error_message)
        self.assertEqual(msg.record_ref.move_ids.quantity, 4)

    def test_delivery_in_another_unit(self):
        dozen = self.env.ref("uom.product_uom_dozen")
        delivery = self.make_delivery([(self.chair, 1)], confirm=False)
        delivery.move_ids.product_uom = dozen
        delivery.action_confirm()
        self.ship(delivery, [{"sku": "CHAIR-1", "quantity": 12}])
        before = self.qty(self.chair)
        msg = self.returned(
            delivery, "RQ-4", [{"sku": "CHAIR-1", "quantity": 2, "disposition": "restock"}]
        )
        self.assertEqual(msg.state, "processed", msg.error_message)
        move = msg.record_ref.move_ids
        self.assertEqual((move.product_uom, move.quantity), (self.chair.uom_id, 2))
        self.assertEqual(self.qty(self.chair), before + 2)
        late = self.returned(
            delivery, "RQ-5", [{"sku": "CHAIR-1", "quantity": 11, "disposition": "restock"}]
        )
        self.assertRefused(late, "1 too many")
        self.assertEqual(self.qty(self.chair), before + 2)

    def test_lot_not_delivered_is_refused_and_not_created(self):
        delivery = self.make_delivery([(self.serum, 2)])
        self.ship(
            delivery,
            [{"sku": "SERUM-1", "quantity": 2, "lots": [{"lot": "L-100", "quantity": 2}]}],
        )
        msg = self.returned(
            delivery,
            "RQ-6",
            [
                {
                    "sku": "SERUM-1",
                    "quantity": 1,
                    "disposition": "restock",
                    "lots": [{"lot": "L-999", "quantity": 1}],
                }
            ],
        )
        self.assertRefused(msg, "RQ-6", "L-999", "L-100", "not delivered")
        self.assertFalse(self.lot(self.serum, "L-999"))

    def test_more_of_a_lot_than_delivered_is_refused(self):
        l200 = self.env["stock.lot"].create({"name": "L-200", "product_id": self.serum.id})
        self.env["stock.quant"]._update_available_quantity(
            self.serum, self.stock_location, 5, lot_id=l200
        )
        delivery = self.make_delivery([(self.serum, 4)])
        self.ship(
            delivery,
            [
                {
                    "sku": "SERUM-1",
                    "quantity": 4,
                    "lots": [{"lot": "L-100", "quantity": 2}, {"lot": "L-200", "quantity": 2}],
                }
            ],
        )
        line = {
            "sku": "SERUM-1",
            "quantity": 3,
            "disposition": "restock",
            "lots": [{"lot": "L-100", "quantity": 3}],
        }
        self.assertRefused(self.returned(delivery, "RQ-7", [line]), "L-100", "only 2")
        line["lots"] = [{"lot": "L-100", "quantity": 2}, {"lot": "L-200", "quantity": 1}]
        ok = self.returned(delivery, "RQ-8", [line])
        self.assertEqual(ok.state, "processed", ok.error_message)
        # earlier returns count per lot: L-100 is all back
        line.update(quantity=1, lots=[{"lot": "L-100", "quantity": 1}])
        self.assertRefused(self.returned(delivery, "RQ-9", [line]), "L-100", "only 0")

    def test_lots_must_add_up_to_the_line(self):
        delivery = self.make_delivery([(self.serum, 2)])
        self.ship(
            delivery,
            [{"sku": "SERUM-1", "quantity": 2, "lots": [{"lot": "L-100", "quantity": 2}]}],
        )
        msg = self.returned(
            delivery,
            "RQ-10",
            [
                {
                    "sku": "SERUM-1",
                    "quantity": 2,
                    "disposition": "damaged",
                    "lots": [{"lot": "L-100", "quantity": 1}],
                }
            ],
        )
        self.assertRefused(msg, "add up to 1", "says 2")
        self.assertFalse(self.env["stock.scrap"].search([("product_id", "=", self.serum.id)]))
