"""The backend's configuration has an audit trail in its chatter: who changed its URL,
authentication, retry policy or any other setting and when (tracked fields), and who set,
replaced or rotated which secret (a note) — never a secret's value, neither in the notes nor
in the tracking values."""

from .common import WEBHOOK_SECRET, LogisticsTransactionCase

TOKEN = "tok-audit-Zq81-never-shown"
NEW_TOKEN = "tok-audit-Yw02-never-shown"
NEW_WEBHOOK_SECRET = "whsec_" + "YXVkaXQtdHJhaWwtbmV2ZXItc2hvd24tMDEyMzQ1Njc="


class TestConfigurationAudit(LogisticsTransactionCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.admin = cls.env["res.users"].create(
            {
                "name": "Alice Admin",
                "login": "alice-audit",
                "email": "alice.audit@example.com",
                "groups_id": [
                    (4, cls.env.ref("logistics_integration_base.group_logistics_manager").id)
                ],
            }
        )
        cls.backend = cls._make_backend(name="Audited partner").with_user(cls.admin)
        # the creation's own tracking done, as when it was committed: changes made in the
        # transaction that creates a record are not tracked
        cls.env.flush_all()
        cls.env.cr.flush()

    def flush_tracking(self):
        self.env.flush_all()
        self.env.cr.flush()  # the tracking values, written before a commit (mail's tests too)
        self.env.invalidate_all()

    def notes(self):
        return self.backend.message_ids.filtered(lambda m: m.body).mapped("body")

    def tracked(self):
        """``{field name: (old, new)}`` of the backend's tracking values, as displayed."""
        values = self.backend.sudo().message_ids.tracking_value_ids
        return {
            v.field_id.name: (
                v._format_display_value(v.field_id.ttype, new=False)[0],
                v._format_display_value(v.field_id.ttype, new=True)[0],
            )
            for v in values
        }

    def assert_no_secret_stored(self, *secrets):
        """No chatter message body nor tracking value of any record holds a secret."""
        self.flush_tracking()
        for secret in secrets:
            self.env.cr.execute(
                "SELECT count(*) FROM mail_message WHERE body::text LIKE %s",
                [f"%{secret}%"],
            )
            self.assertEqual(self.env.cr.fetchone()[0], 0, "a message body holds a secret")
            self.env.cr.execute(
                "SELECT count(*) FROM mail_tracking_value WHERE "
                "old_value_char LIKE %(s)s OR new_value_char LIKE %(s)s OR "
                "old_value_text LIKE %(s)s OR new_value_text LIKE %(s)s",
                {"s": f"%{secret}%"},
            )
            self.assertEqual(self.env.cr.fetchone()[0], 0, "a tracking value holds a secret")

    def test_url_authentication_and_retry_policy_are_tracked(self):
        self.backend.write(
            {
                "base_url": "https://partner.example/api",
                "auth_type": "bearer",
                "retry_max_attempts": 8,
                "retry_interval": 120,
                "timeout": 12.0,
                "verify_tls": False,
                "circuit_threshold": 3,
            }
        )
        self.flush_tracking()

        tracked = self.tracked()
        self.assertEqual(
            tracked["base_url"], ("http://127.0.0.1:9/none", "https://partner.example/api")
        )
        self.assertEqual(tracked["auth_type"], ("None", "Bearer token"))
        self.assertEqual(tracked["retry_max_attempts"], (3, 8))
        self.assertEqual(tracked["retry_interval"], (10, 120))
        self.assertEqual(tracked["timeout"], (2.0, 12.0))
        self.assertEqual(tracked["verify_tls"], (True, False))
        self.assertEqual(tracked["circuit_threshold"], (0, 3))
        change = self.backend.message_ids.filtered("tracking_value_ids")[:1]
        self.assertEqual(change.author_id, self.admin.partner_id, "who changed it")
        self.assertTrue(change.date, "when")

    def test_secrets_set_replaced_and_rotated_are_noted_without_their_value(self):
        self.backend.write({"auth_type": "bearer", "auth_token": TOKEN})
        self.backend.auth_token = NEW_TOKEN
        self.backend.webhook_secret = NEW_WEBHOOK_SECRET
        self.flush_tracking()
        notes = self.notes()
        self.assertIn("<p>Bearer token set by Alice Admin.</p>", notes)
        self.assertIn("<p>Bearer token replaced by Alice Admin.</p>", notes)
        rotated = [n for n in notes if "Webhook secret rotated by Alice Admin" in n]
        self.assertEqual(len(rotated), 1, notes)
        self.assertIn("the previous one stays valid until", rotated[0])
        for message in self.backend.message_ids.filtered(lambda m: "Alice Admin." in m.body):
            self.assertEqual(message.author_id, self.admin.partner_id)
            self.assertEqual(message.subtype_id, self.env.ref("mail.mt_note"))
        self.assertNotIn("auth_token", self.tracked(), "a secret is noted, never tracked")
        self.assert_no_secret_stored(TOKEN, NEW_TOKEN, NEW_WEBHOOK_SECRET, WEBHOOK_SECRET)

    def test_generated_webhook_secret_is_noted_without_its_value(self):
        action = self.backend.action_generate_webhook_secret()
        shown = action["context"]["logistics_new_webhook_secret"]
        self.flush_tracking()
        self.assertTrue(any("Webhook secret rotated by Alice Admin" in n for n in self.notes()))
        self.assert_no_secret_stored(shown, WEBHOOK_SECRET)

    def test_first_secret_of_a_new_backend_is_noted_as_set(self):
        backend = self._make_backend(name="New partner", auth_type="api_key", api_key="k-913")
        self.flush_tracking()
        bodies = backend.message_ids.mapped("body")
        self.assertTrue(any("API key set by" in b for b in bodies), bodies)
        self.assertTrue(any("Webhook secret set by" in b for b in bodies), bodies)
        self.assert_no_secret_stored("k-913")

    def test_an_empty_write_notes_nothing(self):
        before = len(self.backend.message_ids)
        self.backend.write({"auth_token": False, "webhook_secret": ""})
        self.flush_tracking()
        self.assertEqual(len(self.backend.message_ids), before)
