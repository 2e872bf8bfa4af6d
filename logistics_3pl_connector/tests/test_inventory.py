"""Inventory snapshots: reconciliation with the quants, tolerances, approvals, lots, units,
idempotency, the polling cron against a real HTTP server, and batches."""

import json
from urllib.parse import parse_qs, urlparse

from logistics_simulators.http_server import CuedHTTPServer

from odoo.exceptions import AccessError
from odoo.tests import TransactionCase, new_test_user

from .common import ThreePLFixture, run_jobs


def snapshot(lines, ref="SNAP-1", warehouse_code="E3PL", as_of="2026-11-22T06:00:00Z"):
    data = {"snapshot_ref": ref, "warehouse_code": warehouse_code, "lines": lines}
    if as_of:
        data["as_of"] = as_of
    return data


def line(sku, quantity, lot=None, uom=None):
    vals = {"sku": sku, "quantity": quantity}
    if lot:
        vals["lot"] = lot
    if uom:
        vals["uom"] = uom
    return vals


class InventoryCase(ThreePLFixture, TransactionCase):
    """Shared set-up: the 3PL fixture (chair 100, desk 50, serum lot L-100 30 in E3PL),
    auto-apply tolerance of 2 units."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.setup_3pl(inventory_tolerance_qty=2.0)
        cls.Recon = cls.env["logistics.inventory.reconciliation"]
        cls.manager = new_test_user(
            cls.env,
            "inv_manager",
            groups="logistics_integration_base.group_logistics_manager,stock.group_stock_user",
        )
        cls.stock_manager = new_test_user(
            cls.env, "inv_stock_manager", groups="stock.group_stock_manager"
        )
        cls.user = new_test_user(
            cls.env, "inv_user", groups="logistics_integration_base.group_logistics_user"
        )

    def full(self, chair=100, desk=50, serum=30, **kw):
        return snapshot(
            [line("CHAIR-1", chair), line("DESK-1", desk), line("SERUM-1", serum, lot="L-100")],
            **kw,
        )

    def reconcile(self, data, event_id=None):
        msg = self.process_inbound("inventory.snapshot", data, event_id=event_id)
        recon = self.Recon.search([("snapshot_ref", "=", data["snapshot_ref"])])
        return msg, recon

    def qty(self, product, lot=None):
        quants = self.env["stock.quant"].search(
            [("product_id", "=", product.id), ("location_id", "child_of", self.stock_location.id)]
        )
        if lot is not None:
            quants = quants.filtered(lambda q: q.lot_id.name == lot)
        return sum(quants.mapped("quantity"))

    def adjustments(self, product):
        return self.env["stock.move"].search(
            [("product_id", "=", product.id), ("is_inventory", "=", True), ("state", "=", "done")]
        )

    def lines(self, recon, product=None, **domain):
        dom = [("reconciliation_id", "=", recon.id)] + [(k, "=", v) for k, v in domain.items()]
        if product:
            dom.append(("product_id", "=", product.id))
        return self.env["logistics.inventory.reconciliation.line"].search(dom)


class TestInventory(InventoryCase):
    """One class, so that ``--test-tags /logistics_3pl_connector:TestInventory`` runs every
    inventory test: pushed snapshots, the polling cron against a real HTTP server on
    loopback, and batches."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.inventory = {"E3PL": snapshot([line("CHAIR-1", 99), line("DESK-1", 50)], ref="PULL-1")}
        cls.server = CuedHTTPServer(handler=cls._answer).start()
        cls.addClassCleanup(cls.server.stop)
        cls.backend.write({"base_url": cls.server.url("/api/v2"), "inventory_poll": True})

    @classmethod
    def _answer(cls, request):
        url = urlparse(request.path)
        if request.method != "GET" or url.path != "/api/v2/inventory":
            return 404, {}, {"error": "not found"}
        code = parse_qs(url.query).get("warehouse_code", [""])[0]
        if code not in cls.inventory:
            return 404, {}, {"error": f"unknown warehouse {code}"}
        return 200, {}, cls.inventory[code]

    def setUp(self):
        super().setUp()
        self.server.reset()

    def pulled(self, **domain):
        return self.messages(self.backend, message_type="inventory.snapshot", **domain)

    # pushed snapshots --------------------------------------------------------------------
    def test_matching_snapshot_changes_nothing(self):
        msg, recon = self.reconcile(self.full())
        self.assertEqual(msg.state, "processed")
        self.assertEqual(msg.record_ref, recon)
        self.assertEqual(recon.message_id, msg)
        self.assertEqual(recon.location_id, self.warehouse.lot_stock_id)
        self.assertEqual(recon.state, "done")
        self.assertEqual(recon.as_of.isoformat(), "2026-11-22T06:00:00")
        self.assertEqual(
            (
                recon.line_count,
                recon.matched_count,
                recon.auto_applied_count,
                recon.to_approve_count,
            ),
            (3, 3, 0, 0),
        )
        self.assertFalse(self.adjustments(self.chair) | self.adjustments(self.desk))
        self.assertIn("3 matched", msg.job_id.result)

    def test_small_differences_are_applied_as_inventory_adjustments(self):
        msg, recon = self.reconcile(self.full(chair=99, desk=52))
        self.assertEqual(msg.state, "processed")
        self.assertEqual(recon.state, "done")
        self.assertEqual(recon.auto_applied_count, 2)
        self.assertEqual(self.qty(self.chair), 99)
        self.assertEqual(self.qty(self.desk), 52)
        chair_line = self.lines(recon, self.chair)
        self.assertEqual(
            (chair_line.odoo_qty, chair_line.partner_qty, chair_line.difference, chair_line.state),
            (100, 99, -1, "auto_applied"),
        )
        self.assertTrue(chair_line.applied_at)
        loss = self.chair.with_company(self.warehouse.company_id).property_stock_inventory
        [out] = self.adjustments(self.chair)
        self.assertEqual((out.location_id, out.location_dest_id), (self.stock_location, loss))
        self.assertEqual(out.quantity, 1)
        self.assertIn("SNAP-1", out.name)
        [inc] = self.adjustments(self.desk)
        self.assertEqual((inc.location_id, inc.location_dest_id), (loss, self.stock_location))
        self.assertEqual(inc.quantity, 2)

    def test_percent_tolerance(self):
        self.backend.write({"inventory_tolerance_qty": 0, "inventory_tolerance_percent": 10})
        _msg, recon = self.reconcile(self.full(chair=89, desk=45))
        self.assertEqual(self.lines(recon, self.desk).state, "auto_applied", "5 = 10 % of 50")
        self.assertEqual(self.lines(recon, self.chair).state, "to_approve", "11 > 10 % of 100")
        self.assertEqual((self.qty(self.desk), self.qty(self.chair)), (45, 100))

    def test_large_differences_wait_then_are_approved_or_rejected(self):
        msg, recon = self.reconcile(self.full(chair=90, desk=60))
        self.assertEqual(msg.state, "processed")
        self.assertEqual(recon.state, "waiting_approval")
        self.assertEqual((recon.to_approve_count, recon.matched_count), (2, 1))
        self.assertEqual((self.qty(self.chair), self.qty(self.desk)), (100, 50), "nothing applied")
        chair_line, desk_line = self.lines(recon, self.chair), self.lines(recon, self.desk)
        # plain Logistics users see, but do not decide
        with self.assertRaises(AccessError):
            chair_line.with_user(self.user).action_approve()
        self.assertEqual(
            self.Recon.with_user(self.user).search([("id", "=", recon.id)]).to_approve_count, 2
        )
        feedback = chair_line.with_user(self.manager).action_approve()
        self.assertEqual(chair_line.state, "approved")
        # the approver reads what was done
        self.assertEqual(feedback["tag"], "display_notification")
        self.assertIn(self.chair.display_name, feedback["params"]["message"])
        self.assertIn("is applied", feedback["params"]["message"])
        self.assertEqual(chair_line.applied_by_id, self.manager)
        self.assertEqual(self.qty(self.chair), 90)
        self.assertEqual(sum(self.adjustments(self.chair).mapped("quantity")), 10)
        self.assertEqual(recon.state, "waiting_approval")
        desk_line.with_user(self.stock_manager).action_reject()
        self.assertEqual(desk_line.state, "rejected")
        self.assertEqual(self.qty(self.desk), 50)
        self.assertFalse(self.adjustments(self.desk))
        self.assertEqual(recon.state, "done")
        self.assertEqual(
            (recon.approved_count, recon.rejected_count, recon.to_approve_count), (1, 1, 0)
        )
        chatter = " ".join(recon.message_ids.mapped("body"))
        self.assertIn("approved and applied", chatter)
        self.assertIn("rejected", chatter)

    def test_approve_all_on_the_reconciliation(self):
        _msg, recon = self.reconcile(self.full(chair=90, desk=60))
        feedback = recon.with_user(self.stock_manager).action_approve_all()
        self.assertEqual(recon.state, "done")
        self.assertIn("2 stock differences applied", feedback["params"]["message"])
        self.assertEqual((self.qty(self.chair), self.qty(self.desk)), (90, 60))

    def test_approval_applies_the_difference_not_the_old_count(self):
        """Stock that moved after the snapshot is kept: the difference is applied."""
        _msg, recon = self.reconcile(self.full(chair=90))
        self.env["stock.quant"]._update_available_quantity(self.chair, self.stock_location, 5)
        recon.with_user(self.manager).action_approve_all()
        self.assertEqual(self.qty(self.chair), 95)

    def test_lots(self):
        data = snapshot(
            [
                line("CHAIR-1", 100),
                line("DESK-1", 50),
                line("SERUM-1", 29, lot="L-100"),
                line("SERUM-1", 2, lot="L-200"),
                line("SERUM-1", 10, lot="L-300"),
            ]
        )
        _msg, recon = self.reconcile(data)
        l100 = self.lines(recon, self.serum, lot_name="L-100")
        l200 = self.lines(recon, self.serum, lot_name="L-200")
        l300 = self.lines(recon, self.serum, lot_name="L-300")
        self.assertEqual((l100.difference, l100.state), (-1, "auto_applied"))
        self.assertEqual((l200.odoo_qty, l200.difference, l200.state), (0, 2, "auto_applied"))
        self.assertEqual(l200.lot_id.name, "L-200", "the 3PL's new lot is created in Odoo")
        self.assertEqual((l300.difference, l300.state), (10, "to_approve"))
        self.assertFalse(l300.lot_id)
        self.assertEqual(self.qty(self.serum, "L-100"), 29)
        self.assertEqual(self.qty(self.serum, "L-200"), 2)
        l300.with_user(self.manager).action_approve()
        self.assertEqual(self.qty(self.serum, "L-300"), 10)
        self.assertEqual(l300.lot_id.product_id, self.serum)

    def test_lot_tracked_product_counted_without_lot_waits(self):
        _msg, recon = self.reconcile(
            snapshot([line("CHAIR-1", 100), line("DESK-1", 50), line("SERUM-1", 29)])
        )
        serum = self.lines(recon, self.serum)
        self.assertEqual((serum.per_lot, serum.difference, serum.state), (False, -1, "to_approve"))
        self.assertIn("without lots", serum.note)
        serum.with_user(self.manager).action_approve()
        self.assertEqual(self.qty(self.serum, "L-100"), 29)

    def test_lot_tracked_product_with_lots_and_an_unlotted_count(self):
        _msg, recon = self.reconcile(
            snapshot(
                [
                    line("CHAIR-1", 100),
                    line("DESK-1", 50),
                    line("SERUM-1", 30, lot="L-100"),
                    line("SERUM-1", 1),
                ]
            )
        )
        self.assertEqual(self.lines(recon, self.serum, lot_name="L-100").state, "matched")
        unlotted = self.lines(recon, self.serum, per_lot=True, lot_name=False)
        self.assertEqual((unlotted.difference, unlotted.state), (1, "to_approve"), "in tolerance")
        self.assertIn("without lots", unlotted.note)
        self.assertEqual(self.qty(self.serum), 30)

    def test_products_missing_from_the_snapshot_count_as_zero(self):
        lamp = self.env["product.product"].create(
            {"name": "Lamp", "default_code": "LAMP-1", "is_storable": True}
        )
        main = self.env.ref("stock.warehouse0").lot_stock_id
        self.env["stock.quant"]._update_available_quantity(lamp, main, 7)  # other warehouse
        _msg, recon = self.reconcile(snapshot([line("CHAIR-1", 100)]))
        desk = self.lines(recon, self.desk)
        self.assertEqual((desk.odoo_qty, desk.partner_qty, desk.state), (50, 0, "to_approve"))
        serum = self.lines(recon, self.serum)
        self.assertEqual((serum.lot_id.name, serum.odoo_qty, serum.partner_qty), ("L-100", 30, 0))
        self.assertFalse(self.lines(recon, lamp), "stock of other warehouses is not compared")
        self.assertEqual((recon.line_count, recon.to_approve_count), (3, 2))
        recon.with_user(self.manager).action_approve_all()
        self.assertEqual((self.qty(self.desk), self.qty(self.serum)), (0, 0))

    def test_sublocations_are_compared_and_decreased(self):
        shelf = self.env["stock.location"].create(
            {"name": "Shelf 1", "location_id": self.stock_location.id, "usage": "internal"}
        )
        self.env["stock.quant"]._update_available_quantity(self.chair, shelf, 5)
        _msg, recon = self.reconcile(self.full(chair=105))
        self.assertEqual(self.lines(recon, self.chair).state, "matched")
        _msg, recon = self.reconcile(self.full(chair=2, ref="SNAP-2", as_of="2026-11-23T06:00:00Z"))
        recon.with_user(self.manager).action_approve_all()
        self.assertEqual(self.qty(self.chair), 2)
        quants = self.env["stock.quant"].search(
            [
                ("product_id", "=", self.chair.id),
                ("location_id", "in", [self.stock_location.id, shelf.id]),
            ]
        )
        self.assertTrue(all(q.quantity >= 0 for q in quants), "no negative quant left behind")

    def test_unknown_sku_is_kept_and_reported(self):
        data = self.full()
        data["lines"].append(line("NOPE-1", 7, lot="X1"))
        msg, recon = self.reconcile(data)
        self.assertEqual((msg.state, msg.error_category), ("failed", "business"))
        self.assertIn("NOPE-1", msg.error_message)
        self.assertEqual(msg.record_ref, recon)
        self.assertEqual(recon.unknown_count, 1)
        self.assertEqual(recon.matched_count, 3, "the rest is reconciled")
        [unknown] = recon.unknown_line_ids
        self.assertEqual((unknown.sku, unknown.lot_name, unknown.partner_qty), ("NOPE-1", "X1", 7))
        self.assertFalse(unknown.product_id)
        self.assertNotIn(unknown, recon.line_ids)
        # Retry (e.g. once the SKU is mapped): nothing is applied twice, the message is closed.
        msg.action_retry()
        run_jobs(self.env)
        self.assertEqual(msg.state, "processed")
        self.assertEqual(self.Recon.search_count([("snapshot_ref", "=", "SNAP-1")]), 1)

    def test_same_snapshot_twice_is_a_noop(self):
        first, recon = self.reconcile(self.full(chair=99))
        self.assertEqual(self.qty(self.chair), 99)
        second, again = self.reconcile(self.full(chair=99))
        self.assertEqual(again, recon)
        self.assertEqual(second.state, "processed")
        self.assertIn("already reconciled", second.job_id.result)
        self.assertEqual(second.record_ref, recon)
        self.assertEqual(self.qty(self.chair), 99)
        self.assertEqual(len(self.adjustments(self.chair)), 1)
        self.assertEqual(len(self.lines(recon)), 3)

    def test_unit_conversion_via_product_mapping_and_line_unit(self):
        self.env["logistics.product.mapping"].create(
            {
                "backend_id": self.backend.id,
                "product_id": self.chair.id,
                "partner_sku": "ACME-CH-12",
                "partner_uom_id": self.env.ref("uom.product_uom_dozen").id,
            }
        )
        data = snapshot(
            [
                line("ACME-CH-12", 8),  # 8 dozen = 96 units
                line("DESK-1", 4, uom="DZ"),  # the line's own unit: 48 units
                line("SERUM-1", 30, lot="L-100"),
            ]
        )
        self.backend.inventory_tolerance_qty = 5
        _msg, recon = self.reconcile(data)
        chair = self.lines(recon, self.chair)
        self.assertEqual((chair.sku, chair.partner_qty, chair.difference), ("ACME-CH-12", 96, -4))
        self.assertEqual(chair.state, "auto_applied")
        self.assertEqual(self.qty(self.chair), 96)
        desk = self.lines(recon, self.desk)
        self.assertEqual((desk.partner_qty, desk.difference), (48, -2))
        self.assertEqual(self.qty(self.desk), 48)

    def test_unknown_warehouse_fails_with_a_readable_reason(self):
        msg, recon = self.reconcile(self.full(warehouse_code="NOPE"))
        self.assertEqual((msg.state, msg.error_category), ("failed", "business"))
        self.assertIn("NOPE", msg.error_message)
        self.assertFalse(recon)

    def test_newer_snapshot_supersedes_waiting_differences(self):
        _msg, old = self.reconcile(self.full(chair=90, ref="MON", as_of="2026-11-23T06:00:00Z"))
        self.assertEqual(old.state, "waiting_approval")
        _msg, new = self.reconcile(self.full(chair=90, ref="TUE", as_of="2026-11-24T06:00:00Z"))
        self.assertEqual(old.state, "done")
        self.assertEqual(self.lines(old, self.chair).state, "superseded")
        self.assertEqual(new.to_approve_count, 1)
        new.with_user(self.manager).action_approve_all()
        self.assertEqual(self.qty(self.chair), 90, "the difference is applied once")

    def test_older_snapshot_arriving_late_is_not_applied(self):
        self.reconcile(self.full(ref="TUE", as_of="2026-11-24T06:00:00Z"))
        msg, late = self.reconcile(self.full(chair=90, ref="MON", as_of="2026-11-23T06:00:00Z"))
        self.assertEqual(msg.state, "processed")
        self.assertEqual(late.state, "done")
        self.assertIn("TUE", late.note)
        self.assertFalse(self.lines(late))
        self.assertEqual(self.qty(self.chair), 100)

    # polling ------------------------------------------------------------------------------
    def test_cron_pulls_a_snapshot_and_processes_it_like_a_pushed_one(self):
        self.env["logistics.backend"]._cron_logistics_pull_inventory()
        [msg] = self.pulled()
        self.assertEqual(
            (msg.state, msg.direction, msg.idempotency_key), ("received", "in", "poll:PULL-1")
        )
        [request] = self.server.requests
        self.assertEqual(request.path, "/api/v2/inventory?warehouse_code=E3PL")
        run_jobs(self.env)
        self.assertEqual(msg.state, "processed")
        recon = self.Recon.search([("snapshot_ref", "=", "PULL-1")])
        self.assertEqual(msg.record_ref, recon)
        self.assertEqual(self.qty(self.chair), 99)
        # the same snapshot pulled again is not stored twice
        self.env["logistics.backend"]._cron_logistics_pull_inventory()
        self.assertEqual(len(self.pulled()), 1)

    def test_http_failure_lands_in_the_exception_queue_and_retry_pulls_again(self):
        self.server.cue((503, {}, {"error": "maintenance"}))
        self.env["logistics.backend"]._cron_logistics_pull_inventory()
        [msg] = self.pulled()
        self.assertEqual(
            (msg.state, msg.error_category, msg.http_status), ("failed", "technical", 503)
        )
        self.assertIn("warehouse E3PL", msg.error_message)
        self.assertIn("HTTP 503", msg.error_message)
        self.assertIn("Press Retry", msg.error_message)
        self.assertNotIn("Traceback", msg.error_message)
        self.assertIn(
            msg, self.env["logistics.message"].search([("state", "in", ("failed", "dead"))])
        )
        # Retry pulls again: still down, the same readable reason
        self.server.cue((502, {}, {"error": "bad gateway"}))
        msg.with_user(self.manager).action_retry()
        run_jobs(self.env)
        self.assertEqual((msg.state, msg.http_status), ("failed", 502))
        self.assertIn("warehouse E3PL", msg.error_message)
        self.assertIn("HTTP 502", msg.error_message)
        self.assertIn("Press Retry", msg.error_message)
        self.assertEqual(self.server.requests[-1].path, "/api/v2/inventory?warehouse_code=E3PL")
        # ...and once the 3PL answers, the pulled snapshot is processed
        msg.with_user(self.manager).action_retry()
        run_jobs(self.env)
        self.assertEqual(msg.state, "processed")
        self.assertEqual(msg.external_id, "PULL-1")
        self.assertEqual(msg.record_ref, self.Recon.search([("snapshot_ref", "=", "PULL-1")]))
        self.assertEqual(self.qty(self.chair), 99)
        self.assertEqual(len(self.server.requests), 3)

    def test_failed_pulls_leave_the_queue_once_a_pull_succeeds(self):
        self.server.cue(503, 503)
        self.env["logistics.backend"]._cron_logistics_pull_inventory()
        self.env["logistics.backend"]._cron_logistics_pull_inventory()
        failed = self.pulled(state="failed")
        self.assertEqual(len(failed), 2)
        self.env["logistics.backend"]._cron_logistics_pull_inventory()
        self.assertEqual(failed.mapped("state"), ["ignored", "ignored"])
        self.assertIn("PULL-1", failed[0].ignore_reason)
        [ok] = self.pulled(idempotency_key="poll:PULL-1")
        run_jobs(self.env)
        self.assertEqual(ok.state, "processed")
        self.assertEqual(self.qty(self.chair), 99)

    def test_schema_invalid_answer_is_kept_with_the_body(self):
        self.server.cue((200, {}, {"snapshot_ref": "BAD", "lines": []}))
        self.env["logistics.backend"]._cron_logistics_pull_inventory()
        [msg] = self.pulled()
        self.assertEqual((msg.state, msg.error_category), ("failed", "validation"))
        self.assertIn("warehouse_code", msg.error_message)
        self.assertEqual(json.loads(msg._clear_text("raw_payload"))["snapshot_ref"], "BAD")

    def test_unreachable_partner(self):
        self.backend.base_url = "http://127.0.0.1:9/none"
        self.env["logistics.backend"]._cron_logistics_pull_inventory()
        [msg] = self.pulled()
        self.assertEqual((msg.state, msg.error_category), ("failed", "technical"))
        self.assertIn("Nothing answers at 127.0.0.1:9", msg.error_message)

    def test_backends_without_polling_are_not_pulled(self):
        self.backend.inventory_poll = False
        self.env["logistics.backend"]._cron_logistics_pull_inventory()
        self.assertFalse(self.pulled())
        self.assertFalse(self.server.requests)

    # batches ------------------------------------------------------------------------------
    def test_2000_line_snapshot_is_processed_in_batches(self):
        self.env["ir.config_parameter"].set_param(
            "logistics_3pl_connector.inventory_batch_size", 500
        )
        products = self.env["product.product"].create(
            [
                {"name": f"Bulk {i}", "default_code": f"BULK-{i:05d}", "is_storable": True}
                for i in range(2000)
            ]
        )
        self.env["stock.quant"].sudo().create(
            [
                {"product_id": p.id, "location_id": self.stock_location.id, "quantity": 100}
                for p in products
            ]
        )
        lines = []
        for i, product in enumerate(products):
            qty = 100
            if i % 100 == 0:
                qty = 99  # 20 small differences: applied
            elif i % 250 == 1:
                qty = 40  # 8 large differences: to approve
            lines.append(line(product.default_code, qty))
        lines.append(line("CHAIR-1", 100))
        lines.append(line("DESK-1", 50))
        # serum is missing: counted as 0 (to approve)
        msg, recon = self.reconcile(snapshot(lines, ref="BULK"))
        self.assertEqual(msg.state, "processed")
        self.assertEqual(
            (
                recon.line_count,
                recon.matched_count,
                recon.auto_applied_count,
                recon.to_approve_count,
                recon.unknown_count,
            ),
            (2003, 2003 - 20 - 8 - 1, 20, 9, 0),
        )
        self.assertIn("in 6 batches", msg.job_id.result, "5 of the snapshot, 1 of missing products")
        self.assertEqual(self.qty(products[0]), 99)
        self.assertEqual(self.qty(products[1]), 100)
        self.assertEqual(len(self.adjustments(products[100]) | self.adjustments(products[200])), 2)
