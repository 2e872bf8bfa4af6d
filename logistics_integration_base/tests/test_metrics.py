from datetime import timedelta

from logistics_simulators.http_server import CuedHTTPServer
from prometheus_client.parser import text_string_to_metric_families

from odoo import fields
from odoo.tests import tagged

from ..tools import metrics
from .common import LogisticsHttpCase, cloud_event, run_jobs

TOKEN = "scrape-token-for-tests"


@tagged("post_install", "-at_install")
class TestMetricsEndpoint(LogisticsHttpCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.server = CuedHTTPServer().start()
        cls.addClassCleanup(cls.server.stop)
        cls.backend = cls._make_backend(code="metrics-3pl", base_url=cls.server.url("/events"))
        metrics.set_token(cls.env, TOKEN)

    def setUp(self):
        super().setUp()
        self.server.reset()
        metrics.discard(self.env)  # what earlier tests counted and did not write

    def scrape(self, token=TOKEN):
        headers = {"Authorization": f"Bearer {token}"} if token is not None else {}
        return self.url_open("/logistics/metrics", headers=headers)

    def samples(self):
        resp = self.scrape()
        self.assertEqual(resp.status_code, 200, resp.text)
        self.assertTrue(resp.headers["Content-Type"].startswith("text/plain; version=0.0.4"))
        found = {}
        for family in text_string_to_metric_families(resp.text):
            for sample in family.samples:
                if sample.labels.get("backend", self.backend.code) == self.backend.code:
                    key = (sample.name, tuple(sorted(sample.labels.items())))
                    found[key] = sample.value
        return found

    def value(self, samples, name, **labels):
        labels.setdefault("backend", self.backend.code)
        labels.setdefault("kind", "3pl")
        return samples.get((name, tuple(sorted((k, str(v)) for k, v in labels.items()))))

    def test_token_is_required(self):
        for token in (None, "wrong", ""):
            resp = self.scrape(token)
            self.assertEqual(resp.status_code, 401, token)
            self.assertIn("Bearer", resp.headers["WWW-Authenticate"])
        resp = self.url_open("/logistics/metrics", headers={"Authorization": f"Basic {TOKEN}"})
        self.assertEqual(resp.status_code, 401)
        self.assertEqual(self.scrape().status_code, 200)
        # only its hash is stored
        stored = (
            self.env["ir.config_parameter"]
            .sudo()
            .get_param("logistics_integration_base.metrics_token_sha256")
        )
        self.assertNotIn(TOKEN, stored)

    def test_messages_attempts_latency_and_webhooks_are_exposed(self):
        Message = self.env["logistics.message"]
        self.server.cue(503, 503)  # then 200
        sent = Message.browse(self.backend.send_message("integration.ping", {"message": "a"}))
        run_jobs(self.env)
        self.assertEqual(sent.state, "sent")
        self.server.cue((400, {}, {"errors": {"message": ["is rude"]}}))
        refused = Message.browse(self.backend.send_message("integration.ping", {"message": "b"}))
        run_jobs(self.env)
        self.assertEqual(refused.state, "failed")
        waiting = Message.browse(self.backend.send_message("integration.ping", {"message": "c"}))
        self.env.cr.execute(
            "UPDATE logistics_message SET create_date = %s WHERE id = %s",
            [fields.Datetime.now() - timedelta(minutes=30), waiting.id],
        )
        self.assertEqual(
            self.post_webhook(
                self.backend.code, cloud_event("integration.ping", {"message": "x"})
            ).status_code,
            202,
        )
        bad = self.post_webhook(
            self.backend.code,
            cloud_event("integration.ping", {"message": "y"}),
            sign_with="whsec_" + "d3Jvbmctc2VjcmV0LWZvci10ZXN0cw==",
        )
        self.assertEqual(bad.status_code, 401)

        samples = self.samples()
        ping = {"message_type": "integration.ping"}
        self.assertEqual(
            self.value(samples, "logistics_messages", direction="out", state="failed", **ping), 1
        )
        self.assertEqual(
            self.value(samples, "logistics_messages", direction="out", state="pending", **ping), 1
        )
        self.assertEqual(
            self.value(samples, "logistics_messages", direction="in", state="received", **ping), 1
        )
        self.assertEqual(
            self.value(
                samples, "logistics_messages_finished_24h", direction="out", state="sent", **ping
            ),
            1,
        )
        age = self.value(samples, "logistics_oldest_pending_age_seconds", **ping)
        self.assertGreaterEqual(age, 30 * 60)
        attempts = "logistics_attempts_total"
        out = {"direction": "out", **ping}
        self.assertEqual(
            self.value(samples, attempts, outcome="retry", category="technical", **out), 2
        )
        self.assertEqual(self.value(samples, attempts, outcome="done", category="", **out), 1)
        self.assertEqual(
            self.value(samples, attempts, outcome="failed", category="validation", **out), 1
        )
        self.assertEqual(self.value(samples, "logistics_retries_total", **ping), 2)
        self.assertEqual(self.value(samples, "logistics_webhook_requests_total", status=202), 1)
        self.assertEqual(self.value(samples, "logistics_webhook_requests_total", status=401), 1)
        self.assertEqual(self.value(samples, "logistics_delivery_latency_seconds_count", **ping), 1)
        self.assertEqual(
            self.value(samples, "logistics_delivery_latency_seconds_bucket", le="+Inf", **ping), 1
        )
        self.assertEqual(self.value(samples, "logistics_circuit_open"), 0)

    def test_counters_are_delta_rows_merged_by_the_cron(self):
        def rows():
            self.env.cr.execute(
                "SELECT count(*), sum(value) FROM logistics_metric_counter "
                "WHERE name = 'webhook_requests' AND backend_id = %s",
                [self.backend.id],
            )
            return self.env.cr.fetchone()

        for _i in range(3):  # e.g. three workers, each writing its increments
            metrics.inc(self.env, "webhook_requests", self.backend.id, {"status": 202})
            metrics.flush(self.env)
        self.assertEqual(rows(), (3, 3.0), "inserted, never updated: no worker waits")
        self.assertEqual(
            self.value(self.samples(), "logistics_webhook_requests_total", status=202), 3
        )
        self.env["logistics.metric.counter"]._cron_compact()
        self.assertEqual(rows(), (1, 3.0))
        self.assertEqual(
            self.value(self.samples(), "logistics_webhook_requests_total", status=202), 3
        )

    def test_circuit_state_is_exposed(self):
        self.backend.circuit_open_until = fields.Datetime.now() + timedelta(minutes=5)
        self.assertEqual(self.value(self.samples(), "logistics_circuit_open"), 1)

    def scrape_queries(self):
        self.env.flush_all()
        metrics.exposition(self.env)  # warm the caches
        before = self.env.cr.sql_log_count
        metrics.exposition(self.env)
        return self.env.cr.sql_log_count - before

    def test_scrape_costs_a_bounded_number_of_queries(self):
        """The same queries whatever the number of backends and messages: a fixed few, plus
        one grouped count per dashboard tile the installed modules declare."""
        few = self.scrape_queries()
        for i in range(3):
            self._make_backend(code=f"metrics-more-{i}")
        for _i in range(20):
            self.backend.send_message("integration.ping", {"message": "q"})
        many = self.scrape_queries()
        self.assertEqual(many, few)
        tiles = self.env["logistics.backend"]._logistics_business_tiles()
        self.assertLessEqual(many, 7 + len(tiles))
