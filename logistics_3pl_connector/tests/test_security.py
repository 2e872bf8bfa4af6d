"""What a user cannot do with the 3PL connector, read as a list.

Every public method of the module that works as the system (``sudo()``) behind the caller,
and what it checks first (the audit of all modules is
``logistics_integration_base/tests/test_security.py``):

================================================  ==========================================
``stock.picking.action_logistics_release``        write access to the delivery (its company)
``stock.picking.action_cancel``                   write access to the delivery
``stock.picking.write`` (updates to the 3PL)      the ORM's write check, before the update
                                                  is sent as the system
``logistics.backend.action_pull_inventory``       Logistics manager; the backend readable
                                                  (its company)
``logistics.backend``                             Logistics manager; the backend writable
``.action_shipbob_subscribe_webhooks``            (its company)
``logistics.inventory.reconciliation(.line)``     Logistics manager or Inventory
``action_approve(_all)`` / ``action_reject(_all)``  administrator; the lines readable (their
                                                  company)
================================================  ==========================================
"""

from odoo import fields
from odoo.exceptions import AccessError
from odoo.tests import TransactionCase, new_test_user

from odoo.addons.logistics_integration_base.tests.common import LogisticsCaseMixin

from .common import ThreePLFixture


class TestThreePLSecurity(ThreePLFixture, LogisticsCaseMixin, TransactionCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.setup_3pl()
        env = cls.env
        cls.company_a = env.company
        cls.company_b = env["res.company"].create({"name": "3PL Company B"})
        cls.backend.company_id = cls.company_a
        in_b = {"company_id": cls.company_b.id, "company_ids": [cls.company_b.id]}
        cls.manager_b = new_test_user(
            env,
            "tpl_manager_b",
            groups="logistics_integration_base.group_logistics_manager,stock.group_stock_manager",
            **in_b,
        )
        cls.reader = new_test_user(
            env, "tpl_reader", groups="logistics_integration_base.group_logistics_user"
        )

    def reconciliation_line(self):
        reconciliation = self.env["logistics.inventory.reconciliation"].create(
            {
                "name": "REC/TEST/1",
                "backend_id": self.backend.id,
                "warehouse_id": self.warehouse.id,
                "location_id": self.stock_location.id,
                "snapshot_ref": "SNAP-1",
                "as_of": fields.Datetime.now(),
                "company_id": self.company_a.id,
            }
        )
        return self.env["logistics.inventory.reconciliation.line"].create(
            {
                "reconciliation_id": reconciliation.id,
                "company_id": self.company_a.id,
                "product_id": self.chair.id,
                "odoo_qty": 100,
                "partner_qty": 90,
                "difference": -10,
                "state": "to_approve",
            }
        )

    def test_another_companys_manager_cannot_release_cancel_or_pull(self):
        picking = self.make_delivery([(self.chair, 1)], confirm=False)
        released_before = picking.logistics_release_message_id
        for method in ("action_logistics_release", "action_cancel"):
            with self.subTest(method=method), self.assertRaises(AccessError):
                getattr(picking.with_user(self.manager_b), method)()
        self.assertEqual(picking.logistics_release_message_id, released_before)
        self.assertNotEqual(picking.state, "cancel")
        with self.assertRaises(AccessError):
            self.backend.with_user(self.manager_b).action_pull_inventory()

    def test_only_a_manager_reading_the_backend_subscribes_its_shipbob_webhooks(self):
        """The button gives ShipBob the backend's webhook secret: another company's manager
        and a plain Logistics user are refused before anything is read or sent."""
        start = len(self.sim.requests)
        for user in (self.manager_b, self.reader):
            with self.subTest(user=user.login), self.assertRaises(AccessError):
                self.backend.with_user(user).action_shipbob_subscribe_webhooks()
        self.assertEqual(self.sim.requests[start:], [])

    def test_a_logistics_user_cannot_release_or_cancel_a_delivery(self):
        picking = self.make_delivery([(self.chair, 1)], confirm=False)
        for method in ("action_logistics_release", "action_cancel"):
            with self.subTest(method=method), self.assertRaises(AccessError):
                getattr(picking.with_user(self.reader), method)()

    def test_another_companys_approver_cannot_decide_stock_differences(self):
        line = self.reconciliation_line()
        for target, methods in (
            (line, ("action_approve", "action_reject")),
            (line.reconciliation_id, ("action_approve_all", "action_reject_all")),
        ):
            for method in methods:
                with self.subTest(method=method), self.assertRaises(AccessError):
                    getattr(target.with_user(self.manager_b), method)()
        self.assertEqual(line.state, "to_approve")
        with self.assertRaises(AccessError):
            line.with_user(self.reader).action_approve()

    def test_another_companys_manager_cannot_change_a_released_delivery(self):
        picking = self.make_delivery([(self.chair, 1)])
        messages = self.env["logistics.message"].search_count([("res_id", "=", picking.id)])
        with self.assertRaises(AccessError):
            picking.with_user(self.manager_b).write({"origin": "changed by company B"})
        self.assertEqual(
            self.env["logistics.message"].search_count([("res_id", "=", picking.id)]), messages
        )
