from logistics_simulators.http_server import CuedHTTPServer

from odoo.exceptions import AccessError, UserError
from odoo.tests import new_test_user

from .common import LogisticsTransactionCase, run_jobs


class TestExceptionQueue(LogisticsTransactionCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.server = CuedHTTPServer().start()
        cls.addClassCleanup(cls.server.stop)
        cls.backend = cls._make_backend(base_url=cls.server.url("/events"), retry_max_attempts=1)
        cls.user = new_test_user(
            cls.env, "lgx_user", groups="logistics_integration_base.group_logistics_user"
        )
        cls.manager = new_test_user(
            cls.env, "lgx_manager", groups="logistics_integration_base.group_logistics_manager"
        )

    def setUp(self):
        super().setUp()
        self.server.reset()

    def failed_messages(self, n=1):
        self.server.cue(*([503] * n))
        ids = [
            self.backend.send_message("integration.ping", {"message": f"m{i}"}) for i in range(n)
        ]
        run_jobs(self.env)
        msgs = self.env["logistics.message"].browse(ids)
        self.assertEqual(set(msgs.mapped("state")), {"dead"})
        return msgs

    def test_retry_by_user_delivers_and_is_traced(self):
        msg = self.failed_messages()
        msg.with_user(self.user).action_retry()
        self.assertEqual((msg.state, msg.attempts), ("pending", 0))
        self.assertFalse(msg.error_message)
        run_jobs(self.env)
        self.assertEqual(msg.state, "sent")
        bodies = " ".join(msg.message_ids.mapped("body"))
        self.assertIn("Retry requested by lgx_user", bodies)
        # what machines did is in the attempt history, not the chatter: no "None -> ..." lines
        self.assertFalse(msg.message_ids.tracking_value_ids)
        self.assertEqual(msg.attempt_ids.sorted("number")[-1].outcome, "done")

    def test_bulk_retry_hundreds(self):
        msgs = self.failed_messages(300)
        msgs.with_user(self.user).action_retry()
        self.assertEqual(set(msgs.mapped("state")), {"pending"})
        self.assertEqual(len(msgs.mapped("job_id")), 300)
        run_jobs(self.env)
        self.assertEqual(set(msgs.mapped("state")), {"sent"})

    def test_retry_server_action_on_selection(self):
        msgs = self.failed_messages(3)
        action = self.env.ref("logistics_integration_base.action_server_logistics_message_retry")
        action.with_user(self.user).with_context(
            active_model="logistics.message", active_ids=msgs.ids
        ).run()
        self.assertEqual(set(msgs.mapped("state")), {"pending"})

    def test_ignore_needs_a_reason_and_records_it(self):
        msg = self.failed_messages()
        with self.assertRaisesRegex(UserError, "reason"):
            msg.with_user(self.user).action_ignore("")
        wizard = (
            self.env["logistics.message.ignore"]
            .with_user(self.user)
            .with_context(active_ids=msg.ids)
            .create({"reason": "Order cancelled by phone"})
        )
        wizard.action_confirm()
        self.assertEqual(msg.state, "ignored")
        self.assertEqual(msg.ignore_reason, "Order cancelled by phone")
        self.assertIn("Order cancelled by phone", " ".join(msg.message_ids.mapped("body")))
        exceptions = self.env["logistics.message"].search(
            [("backend_id", "=", self.backend.id), ("state", "in", ("failed", "dead"))]
        )
        self.assertNotIn(msg, exceptions)

    def test_ignored_messages_are_finished(self):
        """Ignored by hand or stored as ignored at intake: dated as finished, so that the
        24-hour counters count them and the erasure of personal data reaches them."""
        msg = self.failed_messages()
        self.assertFalse(msg.done_at)
        msg.with_user(self.user).action_ignore("Sent by phone instead")
        self.assertEqual(msg.state, "ignored")
        self.assertTrue(msg.done_at)
        self.env.invalidate_all()
        self.assertEqual(self.backend.count_done_24h, 1)
        Message = self.env["logistics.message"]
        [stored], _new = Message._store_inbound(
            self.backend,
            [
                {
                    "idempotency_key": "ignored-at-intake",
                    "message_type": "integration.ping",
                    "payload": {"message": "retired"},
                    "state": "ignored",
                    "ignore_reason": "Partner retired",
                }
            ],
        )
        self.assertTrue(stored.done_at)
        self.backend.personal_data_days = 1
        self.env.cr.execute(
            "UPDATE logistics_message SET done_at = now() - interval '2 days' WHERE id IN %s",
            [(msg.id, stored.id)],
        )
        self.env.invalidate_all()
        self.assertEqual(Message._cron_erase_personal_data(), 2)
        self.assertTrue(msg.personal_data_erased and stored.personal_data_erased)

    def test_edit_payload_is_for_managers(self):
        msg = self.backend.env["logistics.message"].browse(
            self.backend.send_message("integration.ping", {"message": 1})
        )
        self.assertEqual((msg.state, msg.error_category), ("failed", "validation"))
        with self.assertRaises(AccessError):
            msg.with_user(self.user)._edit_payload_and_retry('{"message": "fixed"}')
        with self.assertRaises(AccessError):
            msg.with_user(self.user).write({"payload": "{}"})
        with self.assertRaisesRegex(UserError, "breaks the integration.ping schema"):
            msg.with_user(self.manager)._edit_payload_and_retry('{"message": 2}')
        with self.assertRaisesRegex(UserError, "not valid JSON"):
            msg.with_user(self.manager)._edit_payload_and_retry("{oops")
        wizard = (
            self.env["logistics.message.edit.payload"]
            .with_user(self.manager)
            .create({"message_id": msg.id, "payload": '{"message": "fixed"}'})
        )
        wizard.action_confirm()
        self.assertEqual(msg._get_payload(), {"message": "fixed"})
        run_jobs(self.env)
        self.assertEqual(msg.state, "sent")
        self.assertEqual(self.server.requests[-1].json()["data"], {"message": "fixed"})

    def test_retry_of_a_waiting_message_runs_it_now(self):
        self.server.cue(503)
        self.backend.retry_max_attempts = 3
        msg = self.env["logistics.message"].browse(
            self.backend.send_message("integration.ping", {"message": "wait"})
        )
        run_jobs(self.env, ignore_eta=False)
        self.assertEqual(msg.state, "pending")
        self.assertTrue(msg.job_id.eta, "waiting for its backoff")
        msg.with_user(self.user).action_retry()
        self.assertFalse(msg.job_id.eta)
        run_jobs(self.env, ignore_eta=False)
        self.assertEqual(msg.state, "sent")

    def test_user_cannot_retry_without_group(self):
        outsider = new_test_user(self.env, "outsider", groups="base.group_user")
        msg = self.failed_messages()
        with self.assertRaises(AccessError):
            msg.with_user(outsider).action_retry()

    def test_inbound_processor_failure_lands_in_queue_and_replays(self):
        msg = self.env["logistics.message"].create(
            {
                "backend_id": self.backend.id,
                "direction": "in",
                "message_type": "integration.ping",
                "idempotency_key": "in-1",
                "state": "received",
                "payload": '{"message": 5}',
            }
        )
        msg._enqueue()
        run_jobs(self.env)
        self.assertEqual((msg.state, msg.error_category), ("failed", "validation"))
        msg.sudo().payload = '{"message": "ok"}'
        msg.with_user(self.user).action_retry()
        run_jobs(self.env)
        self.assertEqual(msg.state, "processed")

    def test_unregistered_type_is_a_validation_failure(self):
        msg = self.env["logistics.message"].create(
            {
                "backend_id": self.backend.id,
                "direction": "in",
                "message_type": "nobody.handles",
                "idempotency_key": "in-2",
                "state": "received",
                "payload": "{}",
            }
        )
        msg._enqueue()
        run_jobs(self.env)
        # No handler is registered for the type: a clear validation error, no traceback.
        self.assertEqual((msg.state, msg.error_category), ("failed", "validation"))
        self.assertIn("'nobody.handles', which no installed module handles", msg.error_message)
        self.assertIn(self.backend.name, msg.error_message)
        self.assertNotIn("Traceback", msg.error_message)
        # processing attempts are recorded as delivery attempts are
        [attempt] = msg.attempt_ids
        self.assertEqual((attempt.number, attempt.outcome), (1, "failed"))
        self.assertIn("which no installed module handles", attempt.error)
        self.assertEqual(attempt.job_id, msg.job_id)
