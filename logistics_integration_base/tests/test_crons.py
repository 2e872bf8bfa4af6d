from datetime import timedelta

from logistics_simulators.http_server import CuedHTTPServer

from odoo import fields

from .common import LogisticsTransactionCase, run_jobs


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
        self.assertEqual(self.env["logistics.message"].search_count(action["domain"]), 1)

    def test_crons_are_installed(self):
        for xmlid in (
            "cron_logistics_retry_scheduler",
            "cron_logistics_purge",
            "cron_logistics_sla_check",
        ):
            cron = self.env.ref(f"logistics_integration_base.{xmlid}")
            self.assertTrue(cron.active)
            cron.method_direct_trigger()  # runs without error
