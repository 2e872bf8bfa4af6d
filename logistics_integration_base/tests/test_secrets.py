from unittest.mock import patch

from odoo.exceptions import AccessError, UserError, ValidationError
from odoo.tools import config

from ..tools import secrets as secret_box
from .common import WEBHOOK_SECRET, LogisticsTransactionCase


class TestSecrets(LogisticsTransactionCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.backend = cls._make_backend(auth_type="bearer", auth_token="tok-clear-123")

    def test_never_stored_in_clear(self):
        self.env.flush_all()
        self.env.cr.execute(
            "SELECT key, value FROM logistics_backend_secret WHERE backend_id = %s",
            [self.backend.id],
        )
        rows = dict(self.env.cr.fetchall())
        self.assertEqual(set(rows), {"auth_token", "webhook_secret"})
        for value in rows.values():
            self.assertTrue(value.startswith(secret_box.PREFIX))
            self.assertNotIn("tok-clear-123", value)
            self.assertNotIn(WEBHOOK_SECRET, value)
        self.assertEqual(self.backend._get_secret("auth_token"), "tok-clear-123")

    def test_never_readable_back(self):
        data = self.backend.read(["auth_token", "webhook_secret", "auth_token_set"])[0]
        self.assertFalse(data["auth_token"])
        self.assertFalse(data["webhook_secret"])
        self.assertTrue(data["auth_token_set"])
        # the storage model is closed to every group, even administrators
        with self.assertRaises(AccessError):
            self.env["logistics.backend.secret"].with_user(self.env.ref("base.user_admin")).search(
                []
            )

    def test_empty_write_keeps_secret(self):
        self.backend.write({"auth_token": False, "name": "Renamed"})
        self.assertEqual(self.backend._get_secret("auth_token"), "tok-clear-123")

    def test_missing_key_is_a_clear_error(self):
        with (
            patch.dict(config.options, {"logistics_secret_key": ""}),
            patch.dict("os.environ", {"LOGISTICS_SECRET_KEY": ""}),
        ):
            with self.assertRaisesRegex(UserError, "logistics_secret_key"):
                self.backend.auth_token = "new"
            with self.assertRaisesRegex(secret_box.SecretKeyMissing, "") as ctx:
                self.backend._get_secret("auth_token")
            self.assertIn("LOGISTICS_SECRET_KEY", str(ctx.exception))

    def test_wrong_key_is_a_clear_error(self):
        with patch.dict(config.options, {"logistics_secret_key": "another-key"}):
            with self.assertRaisesRegex(secret_box.SecretUndecryptable, ""):
                self.backend._get_secret("auth_token")

    def test_key_rotation_with_several_keys(self):
        current = config.get("logistics_secret_key") or "test-key"
        with patch.dict(config.options, {"logistics_secret_key": f"new-key,{current}"}):
            # old ciphertexts still open, new ones are made with the new key
            self.assertEqual(self.backend._get_secret("auth_token"), "tok-clear-123")
            self.backend.auth_token = "rotated"
        with patch.dict(config.options, {"logistics_secret_key": "new-key"}):
            self.assertEqual(self.backend._get_secret("auth_token"), "rotated")

    def test_webhook_secret_format_checked(self):
        with self.assertRaisesRegex(ValidationError, "whsec_"):
            self.backend.webhook_secret = "whsec_not base64!!"

    def test_webhook_rotation_keeps_previous_valid(self):
        new = "whsec_" + "bmV3LXNlY3JldC1mb3Itcm90YXRpb24tdGVzdHM="
        self.backend.webhook_rotation_hours = 24
        self.backend.webhook_secret = new
        self.assertEqual(self.backend._webhook_secrets(), [new, WEBHOOK_SECRET])
        self.assertTrue(self.backend.webhook_previous_valid_until)
        # after the window, only the new one is accepted
        self.env["logistics.backend.secret"].sudo().search(
            [("backend_id", "=", self.backend.id), ("key", "=", "webhook_secret_previous")]
        ).valid_until = "2000-01-01 00:00:00"
        self.assertEqual(self.backend._webhook_secrets(), [new])

    def test_generate_webhook_secret_shows_it_once(self):
        self.backend.webhook_rotation_hours = 24
        action = self.backend.action_generate_webhook_secret()
        self.assertEqual(action["name"], f"New webhook secret for {self.backend.name}")
        self.assertEqual(action["target"], "new")
        dialog = (
            self.env[action["res_model"]].with_context(**action["context"]).browse(action["res_id"])
        )
        shown = dialog.secret
        self.assertTrue(shown.startswith("whsec_"))
        self.assertEqual(self.backend._webhook_secrets()[0], shown)
        self.assertFalse(self.backend.read(["webhook_secret"])[0]["webhook_secret"])
        # the dialog says until when the previous secret is accepted
        self.assertTrue(dialog.previous_valid_until)
        self.assertEqual(dialog.previous_valid_until, self.backend.webhook_previous_valid_until)
        # shown once: the secret is in the dialog's context, not in any table
        self.env.flush_all()
        self.env.cr.execute(
            "SELECT count(*) FROM logistics_webhook_secret_shown WHERE id = %s", [dialog.id]
        )
        self.assertEqual(self.env.cr.fetchone()[0], 1)
        self.assertFalse(dialog.with_context(logistics_new_webhook_secret=None).secret)
        self.env.cr.execute(
            "SELECT column_name FROM information_schema.columns "
            "WHERE table_name = 'logistics_webhook_secret_shown'"
        )
        self.assertNotIn("secret", {row[0] for row in self.env.cr.fetchall()})
