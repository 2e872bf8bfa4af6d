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


@tagged("post_install", "-at_install")
class TestOrdersOpenPastStep(LogisticsHttpCase):
    """``logistics_orders_open_past_step`` and ``logistics_step_open_oldest_seconds``: orders
    released to a 3PL and not acknowledged / not shipped, by how long, read at scrape time."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.backend = cls._make_backend(code="open-3pl")
        cls.elsewhere = cls._make_backend(
            code="open-3pl-elsewhere",
            company_id=cls.env["res.company"].create({"name": "Open Elsewhere Ltd"}).id,
        )
        metrics.set_token(cls.env, TOKEN)

    def message(self, message_type, hours_ago, order, backend=None, state="sent", **vals):
        """A message of ``order`` (a delivery id; its correlation id is derived from it)
        finished ``hours_ago`` hours ago."""
        direction = "out" if message_type.startswith("order.") else "in"
        if message_type == "order.ack":
            direction = "in"
        message = self.env["logistics.message"].create(
            {
                "backend_id": (backend or self.backend).id,
                "direction": direction,
                "message_type": message_type,
                "idempotency_key": f"{message_type}-{order}-{hours_ago}",
                "correlation_id": f"order-{order}",
                "res_model": "stock.picking",
                "res_id": order,
                "state": state,
                **vals,
            }
        )
        when = fields.Datetime.now() - timedelta(hours=hours_ago)
        self.env.cr.execute(
            "UPDATE logistics_message SET done_at = %s, last_attempt_at = %s, create_date = %s "
            "WHERE id = %s",
            [when, when, when, message.id],
        )
        return message

    def gauges(self):
        resp = self.url_open("/logistics/metrics", headers={"Authorization": f"Bearer {TOKEN}"})
        self.assertEqual(resp.status_code, 200, resp.text)
        found = {}
        for family in text_string_to_metric_families(resp.text):
            if family.name in (
                "logistics_orders_open_past_step",
                "logistics_step_open_oldest_seconds",
            ):
                for sample in family.samples:
                    labels = sample.labels
                    key = (
                        sample.name,
                        labels["backend"],
                        labels["next_step"],
                        labels.get("over"),
                    )
                    self.assertEqual((labels["kind"], labels["step"]), ("3pl", "released"))
                    found[key] = sample.value
        return found

    def test_orders_open_past_their_release(self):
        # nothing released yet: every 3PL backend has its series, at zero
        empty = self.gauges()
        self.assertEqual(empty[("logistics_orders_open_past_step", "open-3pl", "shipped", "1h")], 0)
        self.assertEqual(
            empty[("logistics_step_open_oldest_seconds", "open-3pl", "shipped", None)], 0
        )

        self.message("order.release", 2, 901)  # open 2 h: neither acknowledged nor shipped
        self.message("order.release", 30, 902, state="acknowledged")  # acknowledged inline
        self.message("order.release", 100, 903)  # acknowledged, then shipped: closed
        self.message("order.ack", 99, 903, state="processed")
        shipped = self.message("shipment.confirmed", 90, 903, state="processed")
        shipped.write({"res_model": False, "res_id": False})  # found by its correlation id
        self.message("order.release", 5, 904)  # cancelled after its release: closed
        self.message("order.cancel", 4, 904)
        self.message("order.release", 0.2, 905)  # released 12 minutes ago: in no bucket yet
        self.message("order.release", 40 * 24, 906)  # older than the 30 days looked at
        self.message("order.release", 50, 907)  # released twice: counted once, the latest
        self.message("order.release", 3, 907)
        self.message("order.release", 2, 908, backend=self.elsewhere)  # another company's
        self.message("order.release", 26, 909, state="failed")  # never reached the 3PL
        self.message("order.ack", 1, 909, state="failed")  # a failed ack acknowledges nothing

        found = self.gauges()

        def open_past(next_step, over, backend="open-3pl"):
            return found[("logistics_orders_open_past_step", backend, next_step, over)]

        def oldest(next_step, backend="open-3pl"):
            return found[("logistics_step_open_oldest_seconds", backend, next_step, None)]

        # not acknowledged: 901 (2 h), 907 (3 h), 905 (12 min)
        self.assertEqual(
            [open_past("acknowledged", over) for over in ("1h", "4h", "24h", "72h")], [2, 0, 0, 0]
        )
        self.assertAlmostEqual(oldest("acknowledged"), 3 * 3600, delta=120)
        # not shipped: 901 (2 h), 902 (30 h), 907 (3 h), 905 (12 min)
        self.assertEqual(
            [open_past("shipped", over) for over in ("1h", "4h", "24h", "72h")], [3, 1, 1, 0]
        )
        self.assertAlmostEqual(oldest("shipped"), 30 * 3600, delta=120)
        # the other company's backend has its own series
        self.assertEqual(open_past("shipped", "1h", backend="open-3pl-elsewhere"), 1)
        self.assertAlmostEqual(oldest("shipped", backend="open-3pl-elsewhere"), 2 * 3600, delta=120)

        # the 3PL ships 902 now: it leaves the gauge
        self.message("shipment.confirmed", 0, 902, state="processed")
        found = self.gauges()
        self.assertEqual(
            [open_past("shipped", over) for over in ("1h", "4h", "24h", "72h")], [2, 0, 0, 0]
        )
        self.assertAlmostEqual(oldest("shipped"), 3 * 3600, delta=120)

    def test_one_query_whatever_the_number_of_orders(self):
        def queries():
            self.env.flush_all()
            metrics.exposition(self.env)
            before = self.env.cr.sql_log_count
            metrics.exposition(self.env)
            return self.env.cr.sql_log_count - before

        few = queries()
        for order in range(920, 960):
            self.message("order.release", 30, order)
        self.assertEqual(queries(), few)
