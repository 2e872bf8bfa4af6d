"""What a user who is not allowed cannot do with the suite, read as a list, and the audit
of every public method (callable over RPC) that elevates with ``sudo()`` in the nine
modules: each reads its records as the caller first, and ``SUDO_ENTRY_POINTS`` names the
test attacking it (another user, another company, over the RPC path). A public method of a
suite module reaching ``sudo()`` (itself or through the model's private methods) that is
not listed fails ``test_every_sudo_entry_point_is_listed_with_its_attack``.

Routes: the webhook (and its legacy-copy sibling of a parallel run, signed the same way) and
the metrics endpoint are the only public ones (tested below); the
OAuth callback (``/logistics/oauth/callback``, logged-in users) finishes only the sign-in the
same user started, once, within ten minutes, on a backend he may write
(``TestHmrcCdsUserRestricted.test_only_the_manager_who_pressed_connect_finishes_once_in_time``);
the carrier's label route reads the delivery as the logged-in user
(``TestCarrierSecurity.test_another_companys_delivery_is_neither_booked_printed_nor_retried``).
"""

import importlib
import inspect
import re

from odoo.exceptions import AccessError, UserError
from odoo.tests import new_test_user, tagged

from .common import LogisticsTransactionCase

B = "logistics_integration_base.tests.test_security.TestSecurity"
T = "logistics_3pl_connector.tests.test_security.TestThreePLSecurity"
C = "logistics_carrier_connector.tests.test_security.TestCarrierSecurity"
D = "logistics_customs.tests.test_security"
D_GOODS = f"{D}.TestCustomsGateSecurity.test_a_stock_user_cannot_write_the_mrn_nor_the_broker_nor_the_goods"  # noqa: E501
F = "logistics_billing_events.tests.test_security.TestBillingSecurity"
P = "logistics_3pl_connector.tests.test_personal_data.TestPersonalData"
M = "logistics_customs.tests.test_attack_review_status_map.TestStatusMapAcrossCompanies"
U = "logistics_customs_uk_cds.tests.test_hmrc_cds_oauth.TestHmrcCdsUserRestricted"
R = "logistics_3pl_connector.tests.test_parallel_run.TestParallelRun"

#: (model, public method) reaching sudo() -> the test attacking it
SUDO_ENTRY_POINTS = {
    # integration base
    (
        "logistics.backend",
        "send_message",
    ): f"{B}.test_rpc_send_reads_the_backend_and_the_record_as_the_caller",
    ("logistics.backend", "create"): f"{B}.test_users_do_not_configure_backends",
    (
        "logistics.backend",
        "action_oauth_connect",
    ): f"{U}.test_a_user_or_another_companys_manager_cannot_connect_nor_read_tokens",
    ("logistics.backend", "write"): f"{B}.test_users_do_not_configure_backends",
    (
        "logistics.backend",
        "action_sftp_poll_now",
    ): f"{B}.test_exception_queue_actions_read_as_the_caller",
    (
        "logistics.backend",
        "action_legacy_poll_now",
    ): f"{R}.test_another_companys_manager_cannot_act_on_the_parallel_run",
    (
        "logistics.backend",
        "action_rollback_to_shadow",
    ): f"{R}.test_another_companys_manager_cannot_act_on_the_parallel_run",
    ("logistics.message", "create"): f"{B}.test_users_do_not_write_messages_directly",
    (
        "logistics.message",
        "write",
    ): f"{P}.test_a_manager_cannot_rewrite_the_integrations_texts_to_probe_the_masking",
    ("logistics.message", "action_retry"): f"{B}.test_exception_queue_actions_read_as_the_caller",
    ("logistics.message", "action_ignore"): f"{B}.test_exception_queue_actions_read_as_the_caller",
    (
        "logistics.message",
        "action_open_edit_payload",
    ): f"{P}.test_edit_payload_action_and_save_by_a_manager_outside_the_group",
    # 3PL connector
    (
        "logistics.backend",
        "action_pull_inventory",
    ): f"{T}.test_another_companys_manager_cannot_release_cancel_or_pull",
    (
        "logistics.backend",
        "action_shipbob_subscribe_webhooks",
    ): f"{T}.test_only_a_manager_reading_the_backend_subscribes_its_shipbob_webhooks",
    (
        "stock.picking",
        "action_logistics_release",
    ): f"{T}.test_another_companys_manager_cannot_release_cancel_or_pull",
    (
        "stock.picking",
        "action_cancel",
    ): f"{T}.test_a_logistics_user_cannot_release_or_cancel_a_delivery",
    (
        "stock.picking",
        "write",
    ): f"{T}.test_another_companys_manager_cannot_change_a_released_delivery",
    (
        "logistics.inventory.reconciliation",
        "action_approve_all",
    ): f"{T}.test_another_companys_approver_cannot_decide_stock_differences",
    (
        "logistics.inventory.reconciliation",
        "action_reject_all",
    ): f"{T}.test_another_companys_approver_cannot_decide_stock_differences",
    (
        "logistics.inventory.reconciliation.line",
        "action_approve",
    ): f"{T}.test_another_companys_approver_cannot_decide_stock_differences",
    (
        "logistics.inventory.reconciliation.line",
        "action_reject",
    ): f"{T}.test_another_companys_approver_cannot_decide_stock_differences",
    # carrier connector
    (
        "delivery.carrier",
        "logistics_rate_shipment",
    ): f"{C}.test_a_delivery_method_on_another_companys_backend_neither_rates_nor_books",
    (
        "delivery.carrier",
        "logistics_send_shipping",
    ): f"{C}.test_a_delivery_method_on_another_companys_backend_neither_rates_nor_books",
    (
        "delivery.carrier",
        "logistics_get_return_label",
    ): f"{C}.test_another_companys_delivery_is_neither_booked_printed_nor_retried",
    (
        "delivery.carrier",
        "logistics_cancel_shipment",
    ): f"{C}.test_another_companys_delivery_is_neither_booked_printed_nor_retried",
    (
        "stock.picking",
        "send_to_shipper",
    ): f"{C}.test_a_booked_delivery_is_not_booked_again_over_rpc",
    (
        "stock.picking",
        "action_logistics_print_labels",
    ): f"{C}.test_another_companys_delivery_is_neither_booked_printed_nor_retried",
    (
        "stock.picking",
        "print_return_label",
    ): f"{C}.test_another_companys_delivery_is_neither_booked_printed_nor_retried",
    # customs
    (
        "logistics.customs.status.map",
        "create",
    ): f"{M}.test_a_row_cannot_be_created_on_another_company_s_backend",
    (
        "logistics.customs.status.map",
        "write",
    ): f"{M}.test_a_user_who_may_not_change_codes_leaves_no_note",
    (
        "logistics.customs.status.map",
        "unlink",
    ): f"{M}.test_a_user_who_may_not_change_codes_leaves_no_note",
    (
        "logistics.backend",
        "action_customs_status_map_defaults",
    ): f"{M}.test_default_codes_are_one_note",
    (
        "logistics.customs.declaration",
        "action_submit",
    ): f"{D}.TestCustomsGateSecurity.test_a_stock_user_cannot_cancel_a_sent_declaration",
    (
        "logistics.customs.declaration",
        "action_amend",
    ): D_GOODS,
    (
        "logistics.customs.declaration",
        "action_send_again",
    ): "logistics_customs.tests.test_declaration_resend.TestDeclarationSentAgain"
    ".test_send_again_reads_the_declaration_as_the_caller",
    (
        "logistics.customs.declaration",
        "action_rebuild",
    ): D_GOODS,
    (
        "logistics.customs.declaration",
        "action_cancel",
    ): f"{D}.TestCustomsGateSecurity.test_a_stock_user_cannot_cancel_a_sent_declaration",
    (
        "logistics.customs.declaration",
        "action_declare_again",
    ): f"{D}.TestCustomsGateSecurity.test_a_stock_user_cancels_a_draft_and_the_goods_stay_held",
    (
        "stock.picking",
        "button_validate",
    ): f"{D}.TestCustomsGateSecurity.test_a_stock_user_cannot_override",
    # billing events
    ("account.move", "button_draft"): f"{F}.test_a_stock_user_cannot_reset_cancel_or_delete",
    ("account.move", "write"): f"{F}.test_a_stock_user_cannot_reset_cancel_or_delete",
    ("account.move", "unlink"): f"{F}.test_a_stock_user_cannot_reset_cancel_or_delete",
    ("account.move.line", "unlink"): f"{F}.test_a_stock_user_cannot_reset_cancel_or_delete",
    ("logistics.billing.event", "action_invoice"): f"{F}.test_a_logistics_user_cannot_bill",
    ("logistics.freight.invoice", "action_accept"): f"{F}.test_a_logistics_user_cannot_bill",
}

#: public methods that reach sudo() but are no entry point a caller controls
NOT_ENTRY_POINTS = set()

_PRIVATE_CALL = re.compile(r"\.(_[a-z]\w*)\(")


def sudo_entry_points(env):
    """(model, public method) of the suite's code reaching ``sudo()``, itself or through
    the private methods of the same model it calls."""
    found = set()
    for model_name in env.registry.models:
        defs = {}
        for klass in type(env[model_name]).__mro__:
            if not (getattr(klass, "__module__", "") or "").startswith("odoo.addons.logistics_"):
                continue
            for name, member in vars(klass).items():
                if inspect.isfunction(member):
                    defs.setdefault(name, []).append(inspect.getsource(member))
        for name in defs:
            if name.startswith("_"):
                continue
            seen, todo = set(), [name]
            while todo:
                current = todo.pop()
                if current in seen:
                    continue
                seen.add(current)
                for source in defs.get(current, ()):
                    if "sudo(" in source:
                        found.add((model_name, name))
                    todo.extend(m for m in _PRIVATE_CALL.findall(source) if m in defs)
    return found


class TestSecurity(LogisticsTransactionCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.company_a = cls.env.company
        cls.company_b = cls.env["res.company"].create({"name": "Other Co"})
        cls.backend_a = cls._make_backend(name="A", company_id=cls.company_a.id)
        cls.backend_b = cls._make_backend(name="B", company_id=cls.company_b.id)
        cls.user_b = new_test_user(
            cls.env,
            "lgx_b",
            groups="logistics_integration_base.group_logistics_user",
            company_id=cls.company_b.id,
            company_ids=[(6, 0, cls.company_b.ids)],
        )
        cls.user_a = new_test_user(
            cls.env,
            "lgx_a",
            groups="logistics_integration_base.group_logistics_user",
            company_id=cls.company_a.id,
            company_ids=[(6, 0, cls.company_a.ids)],
        )
        cls.msg_a = cls.env["logistics.message"].browse(
            cls.backend_a.send_message("integration.ping", {"message": "a"})
        )
        cls.msg_b = cls.env["logistics.message"].browse(
            cls.backend_b.send_message("integration.ping", {"message": "b"})
        )

    def test_multi_company_rules(self):
        Message = self.env["logistics.message"].with_user(self.user_b)
        self.assertEqual(Message.search([("id", "in", (self.msg_a + self.msg_b).ids)]), self.msg_b)
        Backend = self.env["logistics.backend"].with_user(self.user_b)
        self.assertEqual(
            Backend.search([("id", "in", (self.backend_a + self.backend_b).ids)]), self.backend_b
        )
        with self.assertRaises(AccessError):
            self.msg_a.with_user(self.user_b).read(["state"])

    def test_attempts_follow_their_message_company(self):
        Attempt = self.env["logistics.message.attempt"]
        attempts = Attempt.create(
            [
                {
                    "message_id": msg.id,
                    "number": 1,
                    "started_at": "2026-01-01 00:00:00",
                    "outcome": "retry",
                }
                for msg in (self.msg_a, self.msg_b)
            ]
        )
        seen = Attempt.with_user(self.user_b).search([("id", "in", attempts.ids)])
        self.assertEqual(seen.message_id, self.msg_b)
        with self.assertRaises(AccessError):
            attempts.filtered(lambda a: a.message_id == self.msg_a).with_user(self.user_b).read(
                ["outcome"]
            )
        with self.assertRaises(AccessError):
            seen.with_user(self.user_b).write({"outcome": "done"})

    def test_users_do_not_configure_backends(self):
        with self.assertRaises(AccessError):
            self.backend_a.with_user(self.user_a).write({"base_url": "http://evil.example"})
        with self.assertRaises(AccessError):
            self.env["logistics.backend"].with_user(self.user_a).create(
                {"name": "x", "code": "x-user", "kind": "3pl"}
            )

    def test_users_do_not_write_messages_directly(self):
        with self.assertRaises(AccessError):
            self.msg_a.with_user(self.user_a).write({"state": "sent"})

    def test_rpc_send_needs_the_group(self):
        outsider = new_test_user(self.env, "plain", groups="base.group_user")
        with self.assertRaises(UserError):
            self.backend_a.with_user(outsider).send_message("integration.ping", {"message": "x"})
        msg_id = self.backend_a.with_user(self.user_a).send_message(
            "integration.ping", {"message": "by user"}
        )
        self.assertTrue(msg_id)

    def test_rpc_send_reads_the_backend_and_the_record_as_the_caller(self):
        """A user of company A cannot send through company B's backend, nor attach a
        message to a record of company B: refused before anything is stored or sent."""
        Message = self.env["logistics.message"]
        before = Message.search_count([])
        with self.assertRaises(AccessError):
            self.backend_b.with_user(self.user_a).send_message("integration.ping", {"message": "x"})
        partner_b = self.env["res.partner"].create(
            {"name": "B's customer", "company_id": self.company_b.id}
        )
        with self.assertRaises(AccessError):
            self.backend_a.with_user(self.user_a).send_message(
                "integration.ping", {"message": "x"}, res_model="res.partner", res_id=partner_b.id
            )
        with self.assertRaisesRegex(UserError, "does not exist"):
            self.backend_a.with_user(self.user_a).send_message(
                "integration.ping", {"message": "x"}, res_model="res.partner", res_id=987654321
            )
        self.assertEqual(Message.search_count([]), before, "nothing stored, nothing queued")
        # a user of both companies working in A only (the companies switcher) is refused B
        both = new_test_user(
            self.env,
            "lgx_ab",
            groups="logistics_integration_base.group_logistics_user",
            company_id=self.company_a.id,
            company_ids=[(6, 0, (self.company_a + self.company_b).ids)],
        )
        with self.assertRaises(AccessError):
            self.backend_b.with_user(both).with_context(
                allowed_company_ids=self.company_a.ids
            ).send_message("integration.ping", {"message": "x"})
        msg_id = (
            self.backend_b.with_user(both)
            .with_context(allowed_company_ids=self.company_b.ids)
            .send_message("integration.ping", {"message": "in B"})
        )
        self.assertEqual(Message.browse(msg_id).company_id, self.company_b)

    def test_webhook_and_metrics_are_the_only_public_routes(self):
        public = []
        for rule in self.env["ir.http"].routing_map().iter_rules():
            routing = rule.endpoint.routing
            module = getattr(rule.endpoint, "original_endpoint", rule.endpoint).__module__
            if "logistics_" in module and routing.get("auth") in ("public", "none"):
                public.append(rule.rule)
        # the metrics endpoint asks for its own bearer token
        # the legacy copies of a parallel run are signed like webhooks (TestParallelRun)
        self.assertEqual(
            sorted(public),
            [
                "/logistics/metrics",
                "/logistics/webhook/<string:code>",
                "/logistics/webhook/<string:code>/legacy",
            ],
        )

    def test_exception_queue_actions_read_as_the_caller(self):
        """Retry, Ignore, Edit payload and Fetch files now on another company's records:
        refused before anything is done as the system."""
        for method, args in (
            ("action_retry", ()),
            ("action_ignore", ("not mine",)),
            ("action_open_edit_payload", ()),
        ):
            with self.subTest(method=method), self.assertRaises(AccessError):
                getattr(self.msg_b.with_user(self.user_a), method)(*args)
        with self.assertRaises(AccessError):
            self.backend_b.with_user(self.user_a).action_sftp_poll_now()
        self.assertNotEqual(self.msg_b.state, "ignored")


@tagged("post_install", "-at_install")
class TestSudoEntryPoints(LogisticsTransactionCase):
    def test_every_sudo_entry_point_is_listed_with_its_attack(self):
        found = sudo_entry_points(self.env) - NOT_ENTRY_POINTS
        unlisted = sorted(found - set(SUDO_ENTRY_POINTS))
        self.assertFalse(
            unlisted,
            "public methods reaching sudo() without an attack test: read the records as the "
            "caller first (check_access), then list them in SUDO_ENTRY_POINTS with the test",
        )
        installed = set(self.env.registry._init_modules)
        for (model, method), test in SUDO_ENTRY_POINTS.items():
            module = test.split(".")[0]
            if module not in installed or model not in self.env:
                continue
            with self.subTest(entry=f"{model}.{method}"):
                self.assertIn((model, method), found, "listed, but reaches no sudo(): remove it")
                module_path, class_name, test_name = test.rsplit(".", 2)
                tests = importlib.import_module(f"odoo.addons.{module_path}")
                self.assertTrue(hasattr(getattr(tests, class_name), test_name), test)
