"""Parallel run of a 3PL backend, cutover and rollback, against a real SFTP server on
loopback and a legacy interface stand-in (``logistics_simulators.legacy``) writing its own
order files with two planted differences; legacy copies and partner webhooks posted to the
real routes."""

import csv
import io
import os
import shutil
import tempfile

from logistics_simulators.legacy import LegacyInterface, file_name, order_file
from logistics_simulators.sftp_server import SFTPTestServer

from odoo.exceptions import AccessError, UserError
from odoo.tests import new_test_user, tagged

from odoo.addons.logistics_integration_base.exceptions import TransportError
from odoo.addons.logistics_integration_base.tests.common import (
    LogisticsHttpCase,
    cloud_event,
    run_jobs,
    sftp_backend_vals,
    sftp_partner_settings,
)

from .common import ThreePLFixture

ODOO_PASSWORD = "odoo-pw"
LEGACY_PASSWORD = "legacy-pw"


@tagged("post_install", "-at_install")
class TestParallelRun(ThreePLFixture, LogisticsHttpCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.root = tempfile.mkdtemp(prefix="lgx-parallel-")
        cls.addClassCleanup(shutil.rmtree, cls.root, True)
        cls.server = SFTPTestServer(
            cls.root,
            users={"odoo": {"password": ODOO_PASSWORD}, "legacy": {"password": LEGACY_PASSWORD}},
        )
        cls.server.start()
        cls.addClassCleanup(cls.server.stop)
        cls.setup_3pl(
            code="acme-parallel",
            operating_mode="shadow",
            file_format="csv",
            legacy_sftp_dir="legacy",
            **sftp_backend_vals(
                cls.server,
                "odoo",
                ODOO_PASSWORD,
                inbound_dir="in",
                outbound_dir="out",
                archive_dir="in/archive",
                error_dir="in/error",
            ),
        )
        cls.legacy = LegacyInterface(
            sftp_partner_settings(cls.server, "legacy", LEGACY_PASSWORD, outbound_dir="legacy")
        )
        cls.manager = new_test_user(
            cls.env,
            "parallel_manager",
            groups="logistics_integration_base.group_logistics_manager,stock.group_stock_manager",
        )
        cls.user = new_test_user(
            cls.env, "parallel_user", groups="logistics_integration_base.group_logistics_user"
        )

    def setUp(self):
        super().setUp()
        for entry in os.listdir(self.root):
            shutil.rmtree(os.path.join(self.root, entry), ignore_errors=True)

    # helpers --------------------------------------------------------------------------------
    def files(self, folder):
        path = os.path.join(self.root, folder)
        if not os.path.isdir(path):
            return []
        return sorted(e for e in os.listdir(path) if os.path.isfile(os.path.join(path, e)))

    @staticmethod
    def legacy_order(picking):
        """What the legacy script reads of a delivery (its own reading of the records)."""
        customer = picking.partner_id
        return {
            "ref": picking.name,
            "warehouse": picking.picking_type_id.warehouse_id.code,
            "origin": picking.origin,
            "date": picking.scheduled_date.date().isoformat(),
            "customer": {
                "name": customer.name,
                "street": customer.street,
                "city": customer.city,
                "state": customer.state_id.code,
                "zip": customer.zip,
                "country": customer.country_id.code,
                "email": customer.email,
                "phone": customer.phone,
            },
            "items": [
                (m.product_id.default_code, m.product_id.display_name, m.product_uom_qty, "EA")
                for m in picking.move_ids
            ],
        }

    def pair(self, picking):
        return self.env["logistics.parallel.pair"].search(
            [("backend_id", "=", self.backend.id), ("business_key", "=", picking.name)]
        )

    def figures(self):
        figures = self.backend._parallel_run_figures()
        return {k: figures[k] for k in ("matched", "different", "suite_only", "legacy_only")}

    # the parallel run ---------------------------------------------------------------------------
    def test_planted_differences_found_then_cutover_and_rollback(self):
        pickings = [
            self.make_delivery([(self.chair, 5), (self.desk, 1)]),
            self.make_delivery([(self.chair, 2)]),
            self.make_delivery([(self.desk, 3)]),
            self.make_delivery([(self.chair, 1), (self.desk, 2)]),
        ]
        run_jobs(self.env)
        releases = [p.logistics_release_message_id for p in pickings]
        # built, validated and recorded as they would go, not sent
        self.assertEqual({m.state for m in releases}, {"shadow"})
        self.assertEqual(self.files("out"), [], "nothing reached the 3PL's folder")
        wire = releases[0]._clear_text("raw_payload")  # the file it would have written
        self.assertTrue(wire.startswith("order_ref,origin,warehouse_code"), wire)
        self.assertIn(f"{pickings[0].name},S0001,E3PL", wire)
        self.assertIn("Jane Buyer", wire)
        self.assertIn("parallel run", pickings[0].logistics_status)
        self.assertFalse(self.exception_queue())

        # the legacy interface sends the same orders, with two planted differences
        a, b, c, d = pickings
        written = self.legacy.write_orders(
            [self.legacy_order(p) for p in pickings],
            plant={a.name: {"CHAIR-1": 4}},  # 1. a quantity
            skip={c.name},  # 2. an order the legacy never sent
        )
        self.assertEqual(len(written), 3)
        self.backend._legacy_poll()
        self.assertEqual(self.files("legacy"), [])
        self.assertEqual(sorted(self.files("legacy/compared")), sorted(written))

        self.assertEqual(
            self.figures(), {"matched": 2, "different": 1, "suite_only": 1, "legacy_only": 0}
        )
        self.assertEqual(self.pair(a).differences, f"quantity 5 vs 4 for SKU CHAIR-1 on {a.name}")
        self.assertEqual(self.pair(c).result, "suite_only")
        self.assertEqual(self.pair(c).message_id, c.logistics_release_message_id)
        self.assertEqual({self.pair(p).result for p in (b, d)}, {"matched"})

        # the report as a person reads and exports it
        report = (
            self.env["logistics.parallel.run.report"]
            .with_user(self.manager)
            .with_context(default_backend_id=self.backend.id)
            .create({})
        )
        self.assertEqual(
            (report.count_matched, report.count_different, report.count_suite_only),
            (2, 1, 1),
        )
        self.assertEqual(report.match_rate, 50.0)
        action = report.action_download()
        attachment = self.env["ir.attachment"].browse(
            int(action["url"].split("/")[3].split("?")[0])
        )
        rows = list(csv.reader(io.StringIO(attachment.raw.decode("utf-8-sig"))))
        self.assertEqual(len(rows), 5)
        self.assertIn(
            ["Different", f"quantity 5 vs 4 for SKU CHAIR-1 on {a.name}"],
            [row[2:4] for row in rows],
        )
        opened = report.action_open_pairs()
        self.assertEqual(
            self.env["logistics.parallel.pair"].search(
                opened["domain"] + [("result", "!=", "matched")]
            ),
            self.pair(a) | self.pair(c),
        )

        # the gate: 50 % matched is below 99.5 %
        self.backend.cutover_min_match_rate = 99.5
        with self.assertRaisesRegex(UserError, r"50\.0 % of the 4 documents"):
            report.action_cutover()
        self.assertEqual(self.backend.operating_mode, "shadow")

        # explained, the threshold lowered, cut over: a recorded act with its figures
        self.backend.cutover_min_match_rate = 50
        report.note = "MUG quantities: legacy bug, fixed there."
        report.action_cutover()
        self.assertEqual(self.backend.operating_mode, "live")
        change = self.backend.mode_change_ids
        self.assertEqual(len(change), 1)
        self.assertEqual(
            (change.from_mode, change.to_mode, change.user_id),
            ("shadow", "live", self.manager),
        )
        self.assertEqual(
            (change.count_matched, change.count_different, change.count_suite_only),
            (2, 1, 1),
        )
        self.assertEqual((change.match_rate, change.threshold), (50.0, 50.0))
        self.assertIn("Cut over to live by", self.backend.message_ids[0].body)

        # live: the next delivery goes to the 3PL
        e = self.make_delivery([(self.chair, 1)])
        run_jobs(self.env)
        self.assertEqual(e.logistics_release_message_id.state, "sent")
        self.assertEqual(
            self.files("out"),
            [f"order_{e.name.replace('/', '-')}_{e.logistics_release_message_id.id}.csv"],
        )
        self.assertNotIn("parallel run", e.logistics_status)

        # rollback: one act; what was sent stays sent, nothing is lost
        count = self.env["logistics.message"].search_count([("backend_id", "=", self.backend.id)])
        self.backend.with_user(self.manager).action_rollback_to_shadow()
        self.assertEqual(self.backend.operating_mode, "shadow")
        rollback = self.backend.mode_change_ids.sorted("id")[-1]
        self.assertEqual((rollback.to_mode, rollback.user_id), ("shadow", self.manager))
        self.assertEqual(
            self.env["logistics.message"].search_count([("backend_id", "=", self.backend.id)]),
            count,
        )
        self.assertEqual(e.logistics_release_message_id.state, "sent")
        f = self.make_delivery([(self.desk, 1)])
        run_jobs(self.env)
        self.assertEqual(f.logistics_release_message_id.state, "shadow")
        self.assertEqual(len(self.files("out")), 1)
        self.assertEqual([m.state for m in releases], ["shadow"] * 4)

    def test_a_manager_reads_the_differences_and_cuts_over_in_the_browser(self):
        a = self.make_delivery([(self.chair, 5)])
        b = self.make_delivery([(self.desk, 1)])
        run_jobs(self.env)
        self.legacy.write_orders(
            [self.legacy_order(p) for p in (a, b)], plant={a.name: {"CHAIR-1": 4}}
        )
        self.backend._legacy_poll()
        self.start_tour(
            "/odoo/action-logistics_integration_base.action_logistics_parallel_pair",
            "logistics_parallel_run_differences",
            login="parallel_manager",
        )
        self.start_tour(
            f"/odoo/action-logistics_integration_base.action_logistics_backend/{self.backend.id}",
            "logistics_parallel_run_cutover",
            login="parallel_manager",
        )
        self.assertEqual(self.backend.operating_mode, "live")
        change = self.backend.mode_change_ids
        self.assertEqual((change.user_id, change.to_mode), (self.manager, "live"))
        self.assertEqual((change.count_matched, change.count_different), (1, 1))
        self.assertEqual(change.note, "Quantities checked with the warehouse")

    def test_the_same_legacy_file_twice_and_a_late_suite_message(self):
        picking = self.make_delivery([(self.chair, 2)])
        order = self.legacy_order(picking)
        # the legacy output arrives before the suite's message is built (job not run yet)
        self.legacy.write_orders([order])
        self.backend._legacy_poll()
        self.assertEqual(self.pair(picking).result, "legacy_only")
        run_jobs(self.env)
        self.assertEqual(self.pair(picking).result, "matched")
        self.legacy.write_orders([order])  # sent again by the legacy
        self.backend._legacy_poll()
        self.assertEqual(len(self.pair(picking)), 1)
        self.assertEqual(self.pair(picking).result, "matched")

    def test_legacy_copies_posted_to_the_webhook(self):
        picking = self.make_delivery([(self.chair, 2), (self.desk, 1)])
        run_jobs(self.env)
        order = self.legacy_order(picking)
        url = f"{self.backend.code}/legacy"
        headers = {"X-Legacy-Document": file_name(order)}
        body = order_file(order, {"DESK-1": 3})
        response = self.post_webhook(url, body, headers=headers, content_type="text/csv")
        self.assertEqual(response.status_code, 202, response.text)
        self.assertEqual(
            response.json()["compared"],
            [{"document": picking.name, "type": "order.release", "result": "different"}],
        )
        self.assertEqual(
            self.pair(picking).differences, f"quantity 1 vs 3 for SKU DESK-1 on {picking.name}"
        )
        # unsigned: refused, nothing recorded
        unsigned = self.post_webhook(url, body, sign_with=None, content_type="text/csv")
        self.assertEqual(unsigned.status_code, 401)
        # unreadable: 422 with the line, and recorded as unreadable (counted, not lost)
        broken = order_file(dict(order, ref="X-1")).replace(
            b"X-1,10,CHAIR-1,2,", b"X-1,10,CHAIR-1,two,"
        )
        self.assertIn(b",two,", broken)
        response = self.post_webhook(
            url, broken, headers={"X-Legacy-Document": "order_X-1.csv"}, content_type="text/csv"
        )
        self.assertEqual(response.status_code, 422)
        self.assertIn("line 2", response.json()["error"])
        unreadable = self.env["logistics.parallel.pair"].search(
            [("backend_id", "=", self.backend.id), ("result", "=", "unreadable")]
        )
        self.assertEqual(unreadable.legacy_source, "order_X-1.csv")
        # a canonical JSON copy is compared too
        data = self.pair(picking).message_id._get_payload()
        response = self.post_webhook(url, cloud_event("order.release", data))
        self.assertEqual(response.json()["compared"][0]["result"], "matched")

    def shipment(self, picking, sku, quantity):
        return {
            "order_ref": picking.name,
            "shipment_ref": f"SHP-{picking.id}",
            "shipped_at": "2026-12-07T10:00:00Z",
            "lines": [{"line_ref": "1", "sku": sku, "quantity": quantity, "uom": "EA"}],
        }

    @staticmethod
    def legacy_validates(picking, quantities):
        """The legacy interface applies the 3PL's confirmation in Odoo, as its script does
        over RPC: quantities done, validated, no backorder."""
        for move in picking.move_ids:
            move.quantity = quantities[move.product_id.default_code]
        result = picking.with_context(
            skip_backorder=True, picking_ids_not_to_backorder=picking.ids
        ).button_validate()
        assert result is True, result  # no question asked during a parallel run
        return picking

    def test_inbound_stored_not_applied_then_compared_with_what_the_legacy_applied(self):
        a = self.make_delivery([(self.chair, 2)])
        b = self.make_delivery([(self.desk, 1)])
        run_jobs(self.env)
        messages = self.env["logistics.message"]
        for picking, sku, quantity in ((a, "CHAIR-1", 2), (b, "DESK-1", 1)):
            response = self.post_webhook(
                self.backend.code,
                cloud_event("shipment.confirmed", self.shipment(picking, sku, quantity)),
            )
            self.assertEqual(response.status_code, 202, response.text)
            messages |= messages.browse(response.json()["message_id"])
        run_jobs(self.env)
        self.assertEqual(set(messages.mapped("state")), {"shadow"})
        self.assertFalse(messages.job_id)
        self.assertEqual({a.state, b.state}, {"assigned"}, "stored, not applied")
        # not applied by the legacy yet: nothing to say, checked again later
        self.assertFalse(self.backend._check_shadow_inbound())
        # the legacy applies them, one with a chair fewer than the 3PL shipped
        self.legacy_validates(a, {"CHAIR-1": 1})
        self.legacy_validates(b, {"DESK-1": 1})
        pairs = self.backend._check_shadow_inbound()
        self.assertEqual(len(pairs), 2)
        self.assertEqual(set(pairs.mapped("direction")), {"in"})
        different = pairs.filtered(lambda p: p.result == "different")
        self.assertEqual(different.business_key, a.name)
        self.assertEqual(
            different.differences,
            f"quantity shipped 2 vs 1 done in Odoo for SKU CHAIR-1 on {a.name}",
        )
        self.assertEqual(pairs.filtered(lambda p: p.result == "matched").message_id, messages[1])
        # checked again: the matched one is left alone, the different one stays one row
        again = self.backend._check_shadow_inbound()
        self.assertEqual(again, different)
        self.assertEqual(
            self.figures(), {"matched": 1, "different": 1, "suite_only": 2, "legacy_only": 0}
        )

    # who may do what ------------------------------------------------------------------------------
    def test_acts_are_a_managers_and_the_mode_changes_only_by_them(self):
        with self.assertRaises(AccessError):
            self.backend.with_user(self.user)._cutover()
        with self.assertRaises(AccessError):
            self.backend.with_user(self.user).action_rollback_to_shadow()
        with self.assertRaisesRegex(UserError, "changes only by its acts"):
            self.backend.write({"operating_mode": "live"})
        self.assertEqual(self.backend.operating_mode, "shadow")
        # synchronous calls are the legacy's during the parallel run
        with self.assertRaisesRegex(TransportError, "runs in parallel"):
            self.backend._call("rate.request", {})

    def another_companys_manager(self, login):
        """A Logistics manager of another company; the backend belongs to ours."""
        company = self.env["res.company"].create({"name": f"Company of {login}"})
        self.backend.company_id = self.env.company
        return new_test_user(
            self.env,
            login,
            groups="logistics_integration_base.group_logistics_manager",
            company_id=company.id,
            company_ids=[company.id],
        )

    def test_another_companys_manager_cannot_act_on_the_parallel_run(self):
        manager_b = self.another_companys_manager("parallel_manager_b")
        self.legacy.write_orders([self.legacy_order(self.make_delivery([(self.chair, 1)]))])
        backend = self.backend.with_user(manager_b)
        for act in (
            backend.action_legacy_poll_now,
            backend.action_rollback_to_shadow,
            backend._cutover,
            backend.action_open_cutover,
        ):
            with self.assertRaises(AccessError):
                act()
        self.assertEqual(len(self.files("legacy")), 1, "the file was not read")
        self.assertFalse(self.backend.mode_change_ids)
        # live, the rollback is refused to them as well
        self.backend.with_user(self.manager)._cutover()
        with self.assertRaises(AccessError):
            self.backend.with_user(manager_b).action_rollback_to_shadow()
        self.assertEqual(self.backend.operating_mode, "live")

    def test_another_company_and_personal_data(self):
        picking = self.make_delivery([(self.chair, 2)])
        run_jobs(self.env)
        self.legacy.write_orders([self.legacy_order(picking)])
        self.backend._legacy_poll()
        pair = self.pair(picking)
        self.assertTrue(pair)
        other = self.another_companys_manager("parallel_other")
        Pair = self.env["logistics.parallel.pair"].with_user(other)
        self.assertFalse(Pair.search([]))
        self.assertFalse(Pair.read_group([], ["result"], ["result"]))
        with self.assertRaises(AccessError):
            pair.with_user(other).read(["differences"])
        Change = self.env["logistics.backend.mode.change"].with_user(other)
        self.assertFalse(Change.search([]))
        # the legacy payload holds customers' addresses: not for a plain user
        with self.assertRaises(AccessError):
            pair.with_user(self.user).read(["legacy_payload"])
        self.assertEqual(pair.with_user(self.user).read(["result"])[0]["result"], "matched")
        # and it is erased with the backend's personal data, the comparison kept
        self.backend.personal_data_days = 3
        self.env["logistics.message"]._cron_erase_personal_data()
        self.assertTrue(pair.legacy_payload, "not yet: seen today")
        self.env.cr.execute(
            "UPDATE logistics_parallel_pair SET first_seen_at = now() - interval '4 days' "
            "WHERE id = %s",
            [pair.id],
        )
        pair.invalidate_recordset()
        self.env["logistics.message"]._cron_erase_personal_data()
        self.assertFalse(pair.legacy_payload)
        self.assertEqual(pair.result, "matched")
