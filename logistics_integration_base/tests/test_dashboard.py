from datetime import timedelta

from logistics_simulators.http_server import CuedHTTPServer

from odoo import fields

from .common import LogisticsTransactionCase, run_jobs


class TestDashboard(LogisticsTransactionCase):
    """The figures of a backend's dashboard card, each opening the records behind it."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.server = CuedHTTPServer().start()
        cls.addClassCleanup(cls.server.stop)
        cls.backend = cls._make_backend(base_url=cls.server.url("/events"))
        cls.other = cls._make_backend()

    def setUp(self):
        super().setUp()
        self.server.reset()

    def send(self, text):
        return self.env["logistics.message"].browse(
            self.backend.send_message("integration.ping", {"message": text})
        )

    def opened(self, action):
        return self.env[action["res_model"]].search(action["domain"])

    def test_exceptions_by_category_throughput_and_failure_rate(self):
        self.server.cue(503)  # one failed attempt, then sent
        sent = self.send("ok")
        run_jobs(self.env)
        self.server.cue((400, {}, {"errors": {"message": ["bad"]}}), (401, {}, {}))
        refused, unauthorised = self.send("refused"), self.send("auth")
        run_jobs(self.env)
        self.assertEqual(
            (sent.state, refused.state, unauthorised.state), ("sent", "failed", "failed")
        )
        backend = self.backend
        backend.invalidate_recordset()
        self.assertEqual(
            (backend.count_exc_validation, backend.count_exc_auth, backend.count_exc_technical),
            (1, 1, 0),
        )
        self.assertEqual(backend.done_1h, 1)
        # 4 attempts (503, 200, 400, 401), 3 of them failed
        self.assertEqual(backend.failure_rate_1h, 75.0)
        self.assertEqual(backend.failure_rate_24h, 75.0)
        self.assertIn("<svg", backend.activity_chart)
        self.assertEqual(backend.activity_chart.count("<rect"), 2, "one hour: done, failed")
        self.assertEqual(self.other.failure_rate_24h, 0.0)
        # every figure opens its records
        action = backend.with_context(
            logistics_category="validation"
        ).action_view_exception_category()
        self.assertEqual(self.opened(action), refused)
        self.assertEqual(self.opened(backend.action_view_done_1h()), sent)
        attempts = self.opened(
            backend.with_context(logistics_window="1h").action_view_failed_attempts()
        )
        self.assertEqual(len(attempts), 3)
        self.assertEqual(attempts.message_id, sent | refused | unauthorised)

    def test_old_activity_leaves_the_last_hour(self):
        self.send("old")
        run_jobs(self.env)
        self.env.cr.execute(
            "UPDATE logistics_message SET done_at = %s WHERE backend_id = %s",
            [fields.Datetime.now() - timedelta(hours=3), self.backend.id],
        )
        self.env.cr.execute(
            "UPDATE logistics_message_attempt SET started_at = %s",
            [fields.Datetime.now() - timedelta(hours=3)],
        )
        self.backend.invalidate_recordset()
        self.assertEqual(self.backend.done_1h, 0)
        self.assertEqual(self.backend.count_done_24h, 1)
        self.assertEqual(self.backend.failure_rate_1h, 0.0)
        self.assertEqual(self.backend.activity_chart.count("<rect"), 1)
