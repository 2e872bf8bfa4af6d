"""Copies of the database never talk to real partners: idempotency keys carry the database
identity, and a neutralized copy releases nothing."""

from odoo.tests import TransactionCase, tagged

from odoo.addons.logistics_integration_base.tests.test_neutralize import neutralize

from .common import ThreePLFixture, run_jobs

UUID_A = "3f2a9c10-8b1e-11ef-9c4d-0242ac120002"
UUID_B = "7d41e0b2-8b1e-11ef-9c4d-0242ac120002"


@tagged("post_install", "-at_install")
class TestDatabaseIdentity(ThreePLFixture, TransactionCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.setup_3pl()

    def setUp(self):
        super().setUp()
        # the database is rolled back after each test; the 3PL forgets too
        self.sim._server.reset()
        self.sim.orders.clear()
        self.sim.idempotency.clear()

    def set_db_uuid(self, value):
        self.env["ir.config_parameter"].sudo().set_param("database.uuid", value)

    def picking_messages(self, picking, message_type="order.release"):
        return self.env["logistics.message"].search(
            [
                ("res_model", "=", "stock.picking"),
                ("res_id", "=", picking.id),
                ("message_type", "=", message_type),
            ]
        )

    def test_key_contains_the_database_part(self):
        self.set_db_uuid(UUID_A)
        picking = self.make_delivery([(self.chair, 1)])
        [release] = self.picking_messages(picking)
        self.assertEqual(release.idempotency_key, f"3f2a9c10:{picking.id}-order.release-0")
        run_jobs(self.env)
        [request] = self.sim.requests
        self.assertEqual(request.headers["Idempotency-Key"], release.idempotency_key)
        self.assertEqual(request.json()["id"], release.idempotency_key)
        # updates and cancellations are scoped the same way
        picking.move_ids.product_uom_qty = 2
        picking.action_cancel()
        self.assertEqual(
            self.picking_messages(picking, "order.update").idempotency_key,
            f"3f2a9c10:{picking.id}-order.update-1",
        )
        self.assertEqual(
            self.picking_messages(picking, "order.cancel").idempotency_key,
            f"3f2a9c10:{picking.id}-order.cancel",
        )

    def test_two_databases_give_different_keys_for_the_same_picking(self):
        Message = self.env["logistics.message"]
        self.set_db_uuid(UUID_A)
        key_a = Message._scoped_key(42, "order.release", 0)
        self.set_db_uuid(UUID_B)
        key_b = Message._scoped_key(42, "order.release", 0)
        self.assertNotEqual(key_a, key_b)
        self.assertEqual(
            (key_a, key_b), ("3f2a9c10:42-order.release-0", "7d41e0b2:42-order.release-0")
        )
        # the same picking released in each database: the partner sees two keys
        picking = self.make_delivery([(self.chair, 1)], confirm=False)
        self.set_db_uuid(UUID_A)
        picking.action_confirm()
        first = picking.logistics_release_message_id
        self.set_db_uuid(UUID_B)
        self.assertNotEqual(
            Message._scoped_key(picking.id, "order.release", 0), first.idempotency_key
        )

    def test_delivery_released_under_the_old_key_is_not_released_again(self):
        picking = self.make_delivery([(self.chair, 1)], confirm=False)
        old_key = f"{picking.id}-order.release-0"
        # released by the suite before keys were scoped to the database
        old = self.backend._send_message(
            "order.release",
            picking._logistics_release_payload(self.backend),
            record=picking,
            idempotency_key=old_key,
            ack_expected=True,
        )
        run_jobs(self.env)
        self.assertEqual((old.state, len(self.sim.requests)), ("sent", 1))
        # the release path runs again after the upgrade
        picking.action_confirm()
        self.env["stock.picking"]._cron_logistics_release_ready()
        run_jobs(self.env)
        self.assertEqual(self.picking_messages(picking), old, "no second release message")
        self.assertEqual(picking.logistics_release_message_id, old)
        self.assertEqual(picking.logistics_state, "released")
        self.assertEqual(len(self.sim.requests), 1, "no second request to the 3PL")

    def test_cancel_and_update_sent_under_the_old_key_are_not_sent_again(self):
        picking = self.make_delivery([(self.chair, 1)])
        run_jobs(self.env)
        for message_type, key in (
            ("order.update", f"{picking.id}-order.update-1"),
            ("order.cancel", f"{picking.id}-order.cancel"),
        ):
            self.backend._send_message(
                message_type, {"order_ref": picking.name}, record=picking, idempotency_key=key
            )
        picking.move_ids.product_uom_qty = 2  # revision 1, as the old update
        picking.action_cancel()
        for message_type in ("order.update", "order.cancel"):
            self.assertEqual(len(self.picking_messages(picking, message_type)), 1, message_type)

    def test_neutralized_copy_releases_nothing(self):
        released = self.make_delivery([(self.chair, 1)])
        self.assertEqual(released.logistics_release_message_id.job_id.state, "pending")
        neutralize(self.env)
        self.assertFalse(self.backend.active)
        crons = self.env["ir.cron"].with_context(active_test=False)
        for xmlid in (
            "logistics_3pl_connector.cron_logistics_release_ready",
            "logistics_3pl_connector.cron_logistics_pull_inventory",
            "logistics_integration_base.cron_logistics_sftp_poll",
            "logistics_3pl_connector.cron_logistics_shipbob_poll",
        ):
            cron = crons.browse(self.env.ref(xmlid).id)
            self.assertFalse(cron.active, xmlid)
        # a delivery reserved on the copy is not released, even by the safety-net cron
        fresh = self.make_delivery([(self.desk, 1)])
        self.env["stock.picking"]._cron_logistics_release_ready()
        self.assertEqual(fresh.logistics_state, "none")
        self.assertFalse(self.picking_messages(fresh))
        # the release queued before the copy was made does not reach the 3PL
        run_jobs(self.env)
        self.assertEqual(released.logistics_release_message_id.state, "failed")
        self.assertFalse(self.sim.requests, "the 3PL received nothing")
        self.assertFalse(self.sim.orders)
