import base64
import json
import time

import odoo
from odoo.tests import tagged

from ..transport import signatures
from .common import WEBHOOK_SECRET, LogisticsHttpCase, cloud_event, run_jobs


@tagged("post_install", "-at_install")
class TestWebhookRoute(LogisticsHttpCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.backend = cls._make_backend(code="acme-3pl", webhook_max_body_kb=4)

    def ping(self, text="hello", **kw):
        return cloud_event("integration.ping", {"message": text}, **kw)

    def test_accepts_signed_event_stores_and_queues(self):
        resp = self.post_webhook(
            "acme-3pl", self.ping(), msg_id="msg_abc", headers={"X-Correlation-ID": "corr-1"}
        )
        self.assertEqual(resp.status_code, 202, resp.text)
        answer = resp.json()
        self.assertFalse(answer["duplicate"])
        msg = self.env["logistics.message"].browse(answer["message_id"])
        self.assertEqual(msg.backend_id, self.backend)
        self.assertEqual((msg.direction, msg.state), ("in", "received"))
        self.assertEqual(msg.message_type, "integration.ping")
        self.assertEqual(msg.idempotency_key, "msg_abc")
        self.assertEqual(json.loads(msg.payload), {"message": "hello"})
        self.assertEqual(msg.correlation_id, "corr-1")
        self.assertEqual(str(msg.event_time), "2026-11-22 10:00:00")
        self.assertNotIn("webhook-signature", msg.raw_headers)
        self.assertEqual(msg.job_id.method_name, "_job_process")
        self.assertEqual(msg.job_id.state, "pending", "processing is queued, not done inline")
        self.assertEqual(msg.job_id.user_id, self.env.ref("base.user_root"))
        run_jobs(self.env)
        self.assertEqual(msg.state, "processed")
        self.assertEqual(msg.job_id.result, "pong: hello")

    def test_duplicate_webhook_id_is_accepted_once(self):
        first = self.post_webhook("acme-3pl", self.ping(), msg_id="msg_dup")
        second = self.post_webhook("acme-3pl", self.ping("changed"), msg_id="msg_dup")
        self.assertEqual((first.status_code, second.status_code), (202, 202))
        self.assertEqual(first.json()["message_id"], second.json()["message_id"])
        self.assertTrue(second.json()["duplicate"])
        self.assertEqual(len(self.messages(self.backend, idempotency_key="msg_dup")), 1)

    def test_bad_signature_401(self):
        resp = self.post_webhook(
            "acme-3pl", self.ping(), sign_with="whsec_" + "d3Jvbmctc2VjcmV0LWZvci10ZXN0cw=="
        )
        self.assertEqual(resp.status_code, 401)
        self.assertIn("does not match", resp.json()["error"])
        self.assertFalse(self.messages(self.backend))

    def test_missing_signature_401(self):
        resp = self.post_webhook("acme-3pl", self.ping(), sign_with=None)
        self.assertEqual(resp.status_code, 401)
        self.assertIn("missing", resp.json()["error"])

    def test_stale_timestamp_401(self):
        resp = self.post_webhook("acme-3pl", self.ping(), timestamp=int(time.time()) - 600)
        self.assertEqual(resp.status_code, 401)
        self.assertIn("tolerance", resp.json()["error"])

    def test_unknown_and_inactive_backend_404(self):
        self.assertEqual(self.post_webhook("nobody", self.ping()).status_code, 404)
        archived = self._make_backend(code="old-3pl", active=False)
        self.assertEqual(self.post_webhook(archived.code, self.ping()).status_code, 404)

    def test_body_too_large_413(self):
        resp = self.post_webhook("acme-3pl", self.ping("x" * 5000))
        self.assertEqual(resp.status_code, 413)
        self.assertFalse(self.messages(self.backend))

    def test_wrong_content_type_415(self):
        resp = self.post_webhook("acme-3pl", b"<xml/>", content_type="application/xml")
        self.assertEqual(resp.status_code, 415)

    def test_malformed_json_400_is_stored(self):
        resp = self.post_webhook("acme-3pl", b'{"specversion": "1.0", ', msg_id="msg_broken")
        self.assertEqual(resp.status_code, 400)
        self.assertIn("malformed JSON", resp.json()["error"])
        msg = self.env["logistics.message"].browse(resp.json()["message_id"])
        self.assertEqual((msg.state, msg.error_category), ("failed", "validation"))
        # kept as received; a body that is not JSON reads hidden outside the personal-data group
        self.assertEqual(msg._clear_text("raw_payload"), '{"specversion": "1.0", ')
        self.assertEqual(msg.raw_payload, "[hidden: may contain personal data]")
        self.assertFalse(msg.job_id)

    def test_schema_invalid_422_names_the_field_and_is_stored(self):
        event = cloud_event("integration.ping", {"message": 12})
        resp = self.post_webhook("acme-3pl", event)
        self.assertEqual(resp.status_code, 422)
        self.assertEqual(resp.json()["path"], "data.message")
        msg = self.env["logistics.message"].browse(resp.json()["message_id"])
        self.assertEqual(msg.message_type, "integration.ping")
        self.assertEqual((msg.state, msg.error_category), ("failed", "validation"))
        self.assertIn("data.message", msg.error_message)

    def test_envelope_invalid_422(self):
        event = self.ping()
        del event["specversion"]
        resp = self.post_webhook("acme-3pl", event)
        self.assertEqual(resp.status_code, 422)
        self.assertIn("specversion", resp.json()["error"])

    def test_unknown_type_422(self):
        resp = self.post_webhook("acme-3pl", cloud_event("warehouse.teleported", {}))
        self.assertEqual(resp.status_code, 422)
        self.assertEqual(resp.json()["path"], "type")

    def test_previous_secret_valid_during_rotation(self):
        new = "whsec_" + "cm90YXRlZC1zZWNyZXQtZm9yLXdlYmhvb2tzIQ=="
        self.backend.webhook_secret = new
        self.assertEqual(self.post_webhook("acme-3pl", self.ping(), sign_with=new).status_code, 202)
        self.assertEqual(
            self.post_webhook("acme-3pl", self.ping(), sign_with=WEBHOOK_SECRET).status_code, 202
        )
        self.backend.webhook_rotation_hours = 0
        self.backend.webhook_secret = "whsec_" + "dGhpcmQtc2VjcmV0LWFmdGVyLXJvdGF0aW9uIQ=="
        self.assertEqual(self.post_webhook("acme-3pl", self.ping(), sign_with=new).status_code, 401)

    def test_body_hmac_scheme(self):
        backend = self._make_backend(
            code="hmac-3pl",
            webhook_scheme="body_hmac",
            webhook_secret="plain-shared-secret",
            webhook_signature_header="X-Hub-Hmac-Sha256",
            webhook_event_id_header="X-Hub-Event-Id",
        )
        body = json.dumps(self.ping()).encode()
        sig = signatures.body_hmac_sign("plain-shared-secret", body)
        headers = {"X-Hub-Hmac-Sha256": sig, "X-Hub-Event-Id": "evt-1"}
        resp = self.post_webhook(backend.code, body, sign_with=None, headers=headers)
        self.assertEqual(resp.status_code, 202, resp.text)
        again = self.post_webhook(backend.code, body, sign_with=None, headers=headers)
        self.assertTrue(again.json()["duplicate"])
        headers["X-Hub-Hmac-Sha256"] = signatures.body_hmac_sign("other", body)
        headers["X-Hub-Event-Id"] = "evt-2"
        self.assertEqual(
            self.post_webhook(backend.code, body, sign_with=None, headers=headers).status_code, 401
        )

    def test_get_is_not_allowed(self):
        resp = self.url_open("/logistics/webhook/acme-3pl")
        self.assertEqual(resp.status_code, 405)


@tagged("post_install", "-at_install")
class TestXmlRpc(LogisticsHttpCase):
    """send_message, action_retry and action_ignore over real XML-RPC calls."""

    def test_send_retry_ignore_over_xmlrpc(self):
        backend = self._make_backend(
            code="rpc-3pl", base_url="http://127.0.0.1:9/none", retry_max_attempts=1
        )
        admin = self.env.ref("base.user_admin")
        admin.password = "admin-rpc-pw"
        db = self.env.cr.dbname

        def call(model, method, *args):
            return self.xmlrpc_object.execute_kw(
                db, admin.id, "admin-rpc-pw", model, method, list(args)
            )

        msg_id = call(
            "logistics.backend",
            "send_message",
            [backend.id],
            "integration.ping",
            {"message": "over rpc"},
        )
        self.assertIsInstance(msg_id, int)
        msg = self.env["logistics.message"].browse(msg_id)
        self.assertEqual((msg.state, msg.direction), ("pending", "out"))
        run_jobs(self.env)  # nothing listens on port 9: one attempt, then dead
        self.assertEqual(msg.state, "dead")
        self.assertTrue(call("logistics.message", "action_retry", [msg_id]))
        msg.invalidate_recordset()
        self.assertEqual(msg.state, "pending")
        self.assertTrue(call("logistics.message", "action_ignore", [msg_id], "Partner retired"))
        msg.invalidate_recordset()
        self.assertEqual((msg.state, msg.ignore_reason), ("ignored", "Partner retired"))


@tagged("post_install", "-at_install")
class TestWebhookIntakeCost(LogisticsHttpCase):
    """The route answers from a per-worker cache of its backend and secrets: a webhook
    costs a handful of queries, and the cache follows every change."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.backend = cls._make_backend(code="cost-3pl")

    def _queries_of_one_webhook(self):
        before = odoo.sql_db.sql_counter
        response = self.post_webhook("cost-3pl", cloud_event("integration.ping", {"message": "x"}))
        self.assertEqual(response.status_code, 202, response.text)
        return odoo.sql_db.sql_counter - before

    def test_a_webhook_costs_at_most_twelve_queries(self):
        self._queries_of_one_webhook()  # fills the worker's cache
        # 11 in a server; the test harness adds its savepoint around the request
        self.assertLessEqual(self._queries_of_one_webhook(), 14)

    def test_cache_follows_secret_rotation_and_archiving(self):
        self.assertEqual(
            self.post_webhook(
                "cost-3pl", cloud_event("integration.ping", {"message": "before"})
            ).status_code,
            202,
        )
        new_secret = "whsec_" + base64.b64encode(b"fedcba9876543210fedcba9876543210").decode()
        self.backend.webhook_secret = new_secret
        ping = cloud_event("integration.ping", {"message": "after"})
        self.assertEqual(self.post_webhook("cost-3pl", ping, sign_with=new_secret).status_code, 202)
        # the previous secret stays valid during the rotation window
        self.assertEqual(self.post_webhook("cost-3pl", ping).status_code, 202)
        self.backend.active = False
        self.assertEqual(self.post_webhook("cost-3pl", ping).status_code, 404)
        self.backend.active = True
        self.backend.webhook_max_body_kb = 1
        big = cloud_event("integration.ping", {"message": "y" * 900})
        self.assertEqual(self.post_webhook("cost-3pl", big, sign_with=new_secret).status_code, 413)


@tagged("post_install", "-at_install")
class TestIntakeRefused(LogisticsHttpCase):
    """An event refused at intake keeps what was received as its payload: an operator reads
    it, fixes it with Edit payload and retry, and Retry reports the true error."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.backend = cls._make_backend(code="refused-3pl")

    def test_schema_invalid_event_keeps_its_data_and_retry_reports_the_field(self):
        event = cloud_event("integration.ping", {"message": 12, "sent_at": "2026-11-22T10:00:00Z"})
        resp = self.post_webhook("refused-3pl", event)
        self.assertEqual(resp.status_code, 422)
        msg = self.env["logistics.message"].browse(resp.json()["message_id"])
        self.assertEqual(
            msg.payload,
            '{\n  "message": 12,\n  "sent_at": "2026-11-22T10:00:00Z"\n}',
            "the data received, pretty-printed",
        )
        msg.action_retry()
        run_jobs(self.env)
        self.assertEqual((msg.state, msg.error_category), ("failed", "validation"))
        self.assertIn("data.message", msg.error_message)
        self.assertNotIn("required", msg.error_message, "not a false missing field")
        action = msg.action_open_edit_payload()
        self.assertEqual(action["context"]["default_payload"], msg.payload)
        # the manager fixes it and it goes through
        msg.with_user(self.env.ref("base.user_admin"))._edit_payload_and_retry(
            '{"message": "twelve"}'
        )
        run_jobs(self.env)
        self.assertEqual(msg.state, "processed")

    def test_malformed_body_retry_says_it_is_not_json(self):
        resp = self.post_webhook("refused-3pl", b'{"specversion": "1.0", ', msg_id="msg_cut")
        self.assertEqual(resp.status_code, 400)
        msg = self.env["logistics.message"].browse(resp.json()["message_id"])
        self.assertFalse(msg.payload)
        msg.action_retry()
        run_jobs(self.env)
        self.assertEqual((msg.state, msg.error_category), ("failed", "validation"))
        self.assertIn(f"What {self.backend.name} sent is not valid JSON", msg.error_message)
        action = msg.action_open_edit_payload()
        self.assertEqual(action["context"]["default_payload"], '{"specversion": "1.0", ')
