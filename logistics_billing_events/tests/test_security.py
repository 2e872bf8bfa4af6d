"""What a user without billing rights cannot do over RPC (``with_user``: access rights and
record rules apply as they do for a JSON-RPC or XML-RPC call), method by method.

Every public method of the billing modules that elevates with ``sudo()`` reads its records
as the caller first (``check_access``); ``SUDO_ENTRY_POINTS`` lists them with the test that
attacks each, and a test fails when a new public method using ``sudo()`` is not listed."""

import inspect

from odoo import Command, fields
from odoo.exceptions import AccessError, UserError
from odoo.tests import TransactionCase, new_test_user

from odoo.addons.logistics_integration_base.tests.common import LogisticsCaseMixin

from .common import BillingMixin

MODULES = ("odoo.addons.logistics_billing_events", "odoo.addons.logistics_billing_landed_costs")

#: (model, public method) elevating with sudo(), directly or through a private helper ->
#: the test attacking it
SUDO_ENTRY_POINTS = {
    ("account.move", "button_draft"): "test_a_stock_user_cannot_reset_cancel_or_delete",
    ("account.move", "button_cancel"): "test_a_stock_user_cannot_reset_cancel_or_delete",
    ("account.move", "write"): "test_a_stock_user_cannot_reset_cancel_or_delete",
    ("account.move", "unlink"): "test_a_stock_user_cannot_reset_cancel_or_delete",
    ("account.move.line", "unlink"): "test_a_stock_user_cannot_reset_cancel_or_delete",
    ("logistics.billing.event", "action_invoice"): "test_a_logistics_user_cannot_bill",
    ("logistics.freight.invoice", "action_accept"): "test_a_logistics_user_cannot_bill",
    ("logistics.freight.invoice.dispute", "action_dispute"): "test_a_logistics_user_cannot_bill",
}


class TestBillingSecurity(BillingMixin, LogisticsCaseMixin, TransactionCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.setup_billing()
        env = cls.env
        cls.rule("Pick & pack per order", "shipped", cls.pick_order, "fixed", 2.0)
        cls.acme = env["res.partner"].create({"name": "Acme Retail", "is_company": True})
        cls.company_b = env["res.company"].create({"name": "Other Logistics Co"})
        cls.stock_user = new_test_user(env, "billing-stock-clerk", groups="stock.group_stock_user")
        cls.logistics_user = new_test_user(
            env,
            "billing-logistics-user",
            groups="stock.group_stock_user,logistics_integration_base.group_logistics_user",
        )
        cls.biller_b = new_test_user(
            env,
            "billing-user-b",
            groups="logistics_billing_events.group_billing_user",
            company_id=cls.company_b.id,
            company_ids=[Command.set(cls.company_b.ids)],
        )
        cls.biller = new_test_user(
            env, "billing-user-a", groups="logistics_billing_events.group_billing_user"
        )
        vendor = env["res.partner"].create({"name": "Freight vendor", "is_company": True})
        cls.freight_backend = cls._make_backend(
            name="Freightways",
            code="freightways-security",
            kind="carrier",
            freight_vendor_id=vendor.id,
            freight_product_id=cls.pick_order.id,
        )

    def setUp(self):
        super().setUp()
        self.billing_http.reset()

    def billed_events(self, key):
        return self.env["logistics.billing.event"]._logistics_record_milestone(
            "shipped",
            f"shipped:security:{key}",
            self.env.company,
            self.acme,
            {"units": 1, "lines": 1},
            fields.Datetime.to_datetime("2026-11-10 10:00:00"),
        )

    def freight_invoice(self, number):
        data = {
            "invoice_number": number,
            "invoice_date": "2026-11-30",
            "currency": "USD",
            "total": 7.5,
            "shipments": [
                {"shipment_ref": "WH/OUT/NOPE", "charges": [{"code": "freight", "amount": 7.5}]}
            ],
        }
        invoice = self.env["logistics.freight.invoice"]._logistics_receive(
            self.freight_backend, data, self.env.company.currency_id
        )
        self.assertEqual(invoice.state, "to_review")
        return invoice

    # the list ---------------------------------------------------------------------------------
    def test_every_public_method_using_sudo_is_listed(self):
        found = set()
        for model_name in self.env.registry:
            for klass in type(self.env[model_name]).__mro__:
                if not getattr(klass, "__module__", "").startswith(MODULES):
                    continue
                for name, member in vars(klass).items():
                    if name.startswith("_") or not inspect.isfunction(member):
                        continue
                    if "sudo()" in inspect.getsource(member):
                        found.add((model_name, name))
        unlisted = found - set(SUDO_ENTRY_POINTS)
        self.assertFalse(
            unlisted,
            "public methods using sudo() without an attack test: list them in "
            "SUDO_ENTRY_POINTS with the test proving they check the caller's access first",
        )
        for test in set(SUDO_ENTRY_POINTS.values()):
            self.assertTrue(hasattr(self, test), test)

    # attacks ----------------------------------------------------------------------------------
    def test_a_stock_user_cannot_reset_cancel_or_delete(self):
        """Inventory / User rights only: the billed invoice, its lines and its events stay
        as they are, and the billing system hears nothing."""
        events = self.billed_events("S1")
        move = events._logistics_invoice()
        move.action_post()
        self.assertEqual([e["type"] for e in self.sent_to_billing()], ["invoice.posted"])
        as_clerk = move.with_user(self.stock_user)
        for method in ("button_draft", "button_cancel", "unlink"):
            with self.subTest(method=method), self.assertRaises(AccessError):
                getattr(as_clerk, method)()
        with self.assertRaises(AccessError):
            as_clerk.write({"state": "cancel"})
        with self.assertRaises(AccessError):
            move.invoice_line_ids[:1].with_user(self.stock_user).unlink()
        draft = self.billed_events("S2")._logistics_invoice()
        with self.assertRaises(AccessError):
            draft.with_user(self.stock_user).unlink()
        with self.assertRaises(AccessError):
            draft.invoice_line_ids[:1].with_user(self.stock_user).unlink()
        self.assertEqual(move.state, "posted")
        self.assertEqual(set(events.mapped("state")), {"invoiced"})
        self.assertEqual(draft.logistics_billing_event_ids.mapped("state"), ["draft_invoice"])
        self.assertEqual([e["type"] for e in self.sent_to_billing()], ["invoice.posted"])

    def test_a_logistics_user_cannot_bill(self):
        """A Logistics user without the billing group reads events and freight invoices,
        and cannot invoice, approve, accept or dispute them."""
        events = self.billed_events("L1")
        invoice = self.freight_invoice("FW-1")
        moves_before = self.env["account.move"].search_count([])
        for user in (self.logistics_user, self.stock_user):
            with self.subTest(user=user.login):
                with self.assertRaises(AccessError):
                    events.with_user(user).action_invoice()
                with self.assertRaises(UserError):  # an AccessError is one too
                    events.with_user(user).action_approve()
                with self.assertRaises(AccessError):
                    invoice.with_user(user).action_accept()
                with self.assertRaises(AccessError):
                    self.env["logistics.freight.invoice.dispute"].with_user(user).create(
                        {"invoice_ids": [Command.set(invoice.ids)], "reason": "no"}
                    )
                with self.assertRaises(AccessError):
                    invoice.with_user(user)._logistics_dispute("no")
        self.assertEqual(self.env["account.move"].search_count([]), moves_before)
        self.assertEqual(set(events.mapped("state")), {"approved"})
        self.assertEqual(invoice.state, "to_review")
        self.assertFalse(
            self.env["logistics.message"].search([("message_type", "=", "freight.dispute")])
        )

    def test_a_billing_user_of_another_company_cannot_bill_ours(self):
        events = self.billed_events("B1")
        invoice = self.freight_invoice("FW-2")
        with self.assertRaises(AccessError):
            events.with_user(self.biller_b).action_invoice()
        with self.assertRaises(AccessError):
            invoice.with_user(self.biller_b).action_accept()
        with self.assertRaises(AccessError):
            invoice.with_user(self.biller_b)._logistics_dispute("not ours")
        self.assertFalse(events.invoice_id)
        self.assertEqual(invoice.state, "to_review")

    def test_a_billing_user_bills_without_accounting_rights(self):
        """The billing group is what it takes: the invoices and vendor bills are created
        with elevated rights once the caller's access to the events is checked."""
        events = self.billed_events("A1")
        action = events.with_user(self.biller).action_invoice()
        move = self.env["account.move"].search(action["domain"])
        self.assertEqual((move.move_type, move.partner_id), ("out_invoice", self.acme))
        invoice = self.freight_invoice("FW-3")
        invoice.with_user(self.biller).action_accept()
        self.assertEqual(invoice.state, "billed")
        self.assertEqual(invoice.move_id.ref, "FW-3")
