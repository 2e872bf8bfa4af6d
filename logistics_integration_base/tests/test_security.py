from odoo.exceptions import AccessError, UserError
from odoo.tests import new_test_user

from .common import LogisticsTransactionCase


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
        self.assertEqual(sorted(public), ["/logistics/metrics", "/logistics/webhook/<string:code>"])
