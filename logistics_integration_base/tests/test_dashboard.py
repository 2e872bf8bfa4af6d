from datetime import timedelta

from dateutil.relativedelta import relativedelta
from logistics_simulators.http_server import CuedHTTPServer
from lxml import etree

from odoo import fields
from odoo.tools import safe_eval

from .common import LogisticsTransactionCase, run_jobs


def action_records(env, action):
    """The records a window action shows, as the web client opens it: its domain and the
    search view's filters (and field values) its context turns on."""
    Model = env[action["res_model"]]
    domain = list(action.get("domain") or [])
    arch = etree.fromstring(Model.get_view(view_type="search")["arch"])
    eval_context = {"datetime": safe_eval.datetime, "relativedelta": relativedelta}
    for key, value in (action.get("context") or {}).items():
        if not key.startswith("search_default_") or not value:
            continue
        name = key.removeprefix("search_default_")
        [node] = arch.xpath(f"//filter[@name='{name}'] | //field[@name='{name}']")
        if node.tag == "filter":
            domain += safe_eval.safe_eval(node.get("domain"), eval_context)
        else:
            domain.append((name, "=", value))
    return Model.search(domain)


def facets(action):
    """The filters and fields an action turns on in the search bar (removable there)."""
    return {
        key.removeprefix("search_default_")
        for key, value in (action.get("context") or {}).items()
        if key.startswith("search_default_") and value
    }


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
        return action_records(self.env, action)

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
        label = dict(
            self.env["logistics.message"]._fields["error_category"]._description_selection(self.env)
        )["validation"]
        self.assertEqual(action["name"], f"Exceptions ({label}) of {backend.name}")
        self.assertEqual(facets(action), {"backend_id", "exceptions", "category_validation"})
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

    def test_drill_downs_are_titled_and_their_filters_removable(self):
        self.server.cue(400)
        refused = self.send("refused")
        run_jobs(self.env)
        self.assertEqual(refused.state, "failed")
        backend = self.backend
        for action, title, filters in (
            (backend.action_view_exceptions(), "Exceptions", {"exceptions"}),
            (backend.action_view_pending(), "Pending messages", {"open"}),
            (backend.action_view_late(), "Late messages", {"late"}),
            (backend.action_view_messages(), "Messages", set()),
        ):
            self.assertEqual(action["name"], f"{title} of {backend.name}")
            # a facet the user sees and may remove, not a hidden domain
            self.assertEqual(facets(action), {"backend_id"} | filters)
            self.assertEqual(action["context"]["search_default_backend_id"], backend.id)
            self.assertFalse(action["domain"], title)
        self.assertEqual(self.opened(backend.action_view_exceptions()), refused)
        self.assertFalse(self.opened(self.other.action_view_exceptions()))
        attempts = backend.with_context(logistics_window="24h").action_view_failed_attempts()
        self.assertEqual(
            attempts["name"], f"Failed attempts in the last 24 hours of {backend.name}"
        )
        self.assertEqual(facets(attempts), {"failed", "started_24h"})
        self.assertEqual(self.opened(attempts).message_id, refused)

    def test_the_circuit_badge_reads_as_a_sentence(self):
        backend = self.backend
        backend.circuit_open_until = False
        self.assertEqual(backend.circuit_summary, "Closed (healthy)")
        backend.circuit_open_until = fields.Datetime.now() + timedelta(minutes=5)
        backend.invalidate_recordset(["circuit_state", "circuit_summary"])
        self.assertEqual(backend.circuit_state, "open")
        self.assertRegex(backend.circuit_summary, r"^Open — calls paused until \S")
        arch = etree.fromstring(self.env["logistics.backend"].get_view(view_type="kanban")["arch"])
        self.assertTrue(arch.xpath("//div[@name='circuit']/field[@name='circuit_summary']"))

    def test_oldest_pending_shows_only_with_something_pending(self):
        arch = etree.fromstring(
            self.env.ref("logistics_integration_base.view_logistics_backend_kanban").arch
        )
        [oldest] = arch.xpath("//div[@name='oldest_pending']")
        self.assertEqual(oldest.get("t-if"), "record.count_pending.raw_value")

    def test_cards_come_in_the_order_of_what_needs_attention(self):
        quiet = self._make_backend(name="AAA quiet partner")
        self.server.cue(400)
        self.send("refused")
        run_jobs(self.env)
        ids = [quiet.id, self.other.id, self.backend.id]
        Backend = self.env["logistics.backend"]
        found = Backend.with_context(logistics_attention_order=True).web_search_read(
            [("id", "in", ids)], {"name": {}}
        )
        self.assertEqual(found["length"], 3)
        self.assertEqual(found["records"][0]["id"], self.backend.id, "the one with an exception")
        self.other.circuit_open_until = fields.Datetime.now() + timedelta(minutes=5)
        found = Backend.with_context(logistics_attention_order=True).web_search_read(
            [("id", "in", ids)], {"name": {}}, limit=2
        )
        self.assertEqual(
            [r["id"] for r in found["records"]], [self.other.id, self.backend.id], "open first"
        )
        self.assertEqual(found["length"], 3)
        action = self.env.ref("logistics_integration_base.action_logistics_dashboard")
        self.assertIn("logistics_attention_order", action.context)
