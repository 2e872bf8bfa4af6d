import uuid
from datetime import timedelta

from logistics_simulators.http_server import CuedHTTPServer

from odoo import fields

from .common import LogisticsTransactionCase, run_jobs
from .test_dashboard import action_records


class TestCrons(LogisticsTransactionCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.server = CuedHTTPServer().start()
        cls.addClassCleanup(cls.server.stop)
        cls.backend = cls._make_backend(
            base_url=cls.server.url("/events"), sla_minutes=30, retention_days=10
        )

    def age(self, messages, **delta):
        past = fields.Datetime.now() - timedelta(**delta)
        self.env.flush_all()
        self.env.cr.execute(
            "UPDATE logistics_message SET create_date = %s, write_date = %s WHERE id IN %s",
            [past, past, tuple(messages.ids)],
        )
        messages.invalidate_recordset()

    def send(self, text="x"):
        return self.env["logistics.message"].browse(
            self.backend.send_message("integration.ping", {"message": text})
        )

    def test_retry_scheduler_requeues_messages_whose_job_is_gone(self):
        lost, fine = self.send("lost"), self.send("fine")
        lost.job_id.unlink()  # e.g. purged or cancelled by hand while the runner was down
        self.age(lost + fine, minutes=10)
        self.assertEqual(self.env["logistics.message"]._cron_retry_scheduler(), 1)
        self.assertTrue(lost.job_id)
        run_jobs(self.env)
        self.assertEqual((lost + fine).mapped("state"), ["sent", "sent"])
        self.assertEqual(self.env["logistics.message"]._cron_retry_scheduler(), 0)

    def test_retry_scheduler_leaves_waiting_jobs_alone(self):
        msg = self.send()
        self.age(msg, minutes=10)
        job = msg.job_id
        self.assertEqual(self.env["logistics.message"]._cron_retry_scheduler(), 0)
        self.assertEqual(msg.job_id, job)

    def test_purge_respects_retention_and_keeps_exceptions(self):
        done, recent = self.send("old"), self.send("new")
        run_jobs(self.env)
        self.server.cue(400)
        failed = self.send("bad")
        run_jobs(self.env)
        self.assertEqual(failed.state, "failed")
        self.age(done + failed, days=11)
        self.assertEqual(self.env["logistics.message"]._cron_purge(), 1)
        self.assertFalse(done.exists())
        self.assertTrue(recent.exists())
        self.assertTrue(failed.exists(), "exceptions are never purged")

    def inbound(self, state, backend=None, count=1):
        """``count`` inbound messages in ``state``, stored directly (no job)."""
        return self.env["logistics.message"].create(
            [
                {
                    "backend_id": (backend or self.backend).id,
                    "direction": "in",
                    "message_type": "integration.ping",
                    "idempotency_key": f"purge-{uuid.uuid4().hex}",
                    "state": state,
                    "payload": '{"message": "x"}',
                }
                for _i in range(count)
            ]
        )

    def test_purge_in_batches_smaller_than_the_rows_deletes_everything(self):
        old = self.inbound("processed", count=7)
        self.age(old, days=11)
        self.assertEqual(self.env["logistics.message"]._cron_purge(batch_size=2), 7)
        self.assertFalse(old.exists())
        # the batch size also comes from a system parameter
        old = self.inbound("acknowledged", count=5)
        self.age(old, days=11)
        self.env["ir.config_parameter"].sudo().set_param(
            "logistics_integration_base.purge_batch_size", "3"
        )
        self.assertEqual(self.env["logistics.message"]._cron_purge(), 5)
        self.assertFalse(old.exists())

    def test_purge_out_of_time_triggers_the_cron_and_the_next_run_continues(self):
        old = self.inbound("processed", count=3)
        self.age(old, days=11)
        cron = self.env.ref("logistics_integration_base.cron_logistics_purge")
        Trigger = self.env["ir.cron.trigger"].sudo()
        triggers = Trigger.search_count([("cron_id", "=", cron.id)])
        Message = self.env["logistics.message"]
        self.assertEqual(Message._cron_purge(batch_size=1, time_budget=1e-9), 1)
        self.assertEqual(Trigger.search_count([("cron_id", "=", cron.id)]), triggers + 1)
        self.assertEqual(len(old.exists()), 2)
        self.assertEqual(Message._cron_purge(batch_size=1, time_budget=0), 2)
        self.assertFalse(old.exists())

    def test_purge_removes_chatter_attempts_and_attachments_of_purged_messages_only(self):
        # the kept message sits between the purged ones, inside the batch's id range
        old, kept, older = self.inbound("received", count=3)
        self.env.cr.flush()  # as if created in an earlier transaction: later writes are tracked
        Attachment = self.env["ir.attachment"]
        chatter = {}
        for msg in (old, kept, older):
            msg.message_subscribe(partner_ids=self.env.user.partner_id.ids)
            posted = Attachment.create(
                {"name": "posted.txt", "raw": b"posted", "res_model": "mail.compose.message"}
            )
            msg.message_post(body="operator note", attachment_ids=posted.ids)
            direct = Attachment.create(
                {"name": "direct.txt", "raw": b"direct", "res_model": msg._name, "res_id": msg.id}
            )
            msg.sudo().write({"state": "processed"})
            attempt = self.env["logistics.message.attempt"].create(
                {
                    "message_id": msg.id,
                    "number": 1,
                    "started_at": msg.create_date,
                    "outcome": "done",
                }
            )
            self.env.cr.flush()
            mails = self.env["mail.message"].search(
                [("model", "=", msg._name), ("res_id", "=", msg.id)]
            )
            chatter[msg] = {
                "mails": mails,
                "attempts": attempt,
                "followers": msg.message_follower_ids,
                "attachments": posted | direct,
            }
            self.assertTrue(all(chatter[msg].values()), chatter[msg])
        self.age(old | older, days=11)
        self.assertEqual(self.env["logistics.message"]._cron_purge(), 2)
        self.assertFalse((old | older).exists())
        for records in list(chatter[old].values()) + list(chatter[older].values()):
            self.assertFalse(records.exists(), records)
        self.assertTrue(kept.exists())
        for records in chatter[kept].values():
            self.assertEqual(records.exists(), records)

    def test_purge_keeps_unfinished_messages_and_backends_with_no_retention(self):
        keep_all = self._make_backend(retention_days=0)
        kept = self.inbound("processed", backend=keep_all)
        for state in ("pending", "received", "failed", "dead"):
            kept |= self.inbound(state)
        purged = self.inbound("processed") | self.inbound("ignored")
        self.age(kept | purged, days=400)
        self.assertEqual(self.env["logistics.message"]._cron_purge(batch_size=1), 2)
        self.assertFalse(purged.exists())
        self.assertEqual(kept.exists(), kept)

    def test_sla_check_flags_late_messages_and_dashboard_counts_them(self):
        late, fresh = self.send("late"), self.send("fresh")
        self.age(late, minutes=45)
        self.assertEqual(self.env["logistics.message"]._cron_sla_check(), 1)
        self.assertTrue(late.sla_breached)
        self.assertFalse(fresh.sla_breached)
        self.backend.invalidate_recordset()
        self.assertEqual(self.backend.count_late, 1)
        self.assertEqual(self.backend.count_pending, 2)
        self.assertGreaterEqual(self.backend.oldest_pending_minutes, 44)

    def test_sent_awaiting_ack_is_late_too(self):
        msg = self.backend._send_message(
            "integration.ping", {"message": "ack me"}, ack_expected=True
        )
        run_jobs(self.env)
        self.assertEqual(msg.state, "sent")
        self.age(msg, minutes=31)
        self.env["logistics.message"]._cron_sla_check()
        self.assertTrue(msg.sla_breached)

    def test_dashboard_counters(self):
        self.server.cue(400)
        self.send("a")
        self.send("b")
        run_jobs(self.env)
        self.backend.invalidate_recordset()
        self.assertEqual(self.backend.count_exceptions, 1)
        self.assertEqual(self.backend.count_done_24h, 1)
        self.assertEqual(self.backend.count_pending, 0)
        action = self.backend.action_view_exceptions()
        self.assertEqual(len(action_records(self.env, action)), 1)

    def test_crons_are_installed(self):
        for xmlid in (
            "cron_logistics_retry_scheduler",
            "cron_logistics_purge",
            "cron_logistics_sla_check",
        ):
            cron = self.env.ref(f"logistics_integration_base.{xmlid}")
            self.assertTrue(cron.active)
            cron.method_direct_trigger()  # runs without error
