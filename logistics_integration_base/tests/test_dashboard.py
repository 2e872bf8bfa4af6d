import datetime as pydatetime
from datetime import timedelta
from types import SimpleNamespace

import pytz
from dateutil.relativedelta import relativedelta
from logistics_simulators.http_server import CuedHTTPServer
from lxml import etree

from odoo import fields
from odoo.osv import expression
from odoo.tests import new_test_user, tagged
from odoo.tools import safe_eval

from .common import LogisticsTransactionCase, run_jobs


def client_eval_context(env):
    """What the web client evaluates a search filter's domain with (its Python
    interpreter, py.js): ``datetime.datetime.now()`` and ``context_today()`` in the user's
    time zone, ``.to_utc()`` to compare with stored date-times, ``relativedelta``."""
    tz = pytz.timezone(env.context.get("tz") or env.user.tz or "UTC")

    class ClientDateTime(pydatetime.datetime):
        @classmethod
        def now(cls, tz_=None):
            local = pydatetime.datetime.now(pytz.utc).astimezone(tz).replace(tzinfo=None)
            return cls.combine(local.date(), local.time())

        def __add__(self, other):
            return self._cast(super().__add__(other))

        def __sub__(self, other):
            return self._cast(super().__sub__(other))

        @classmethod
        def _cast(cls, value):
            if not isinstance(value, pydatetime.datetime):
                return value  # a timedelta, or NotImplemented (relativedelta answers)
            return cls.combine(value.date(), value.time())

        def to_utc(self):
            utc = tz.localize(self).astimezone(pytz.utc).replace(tzinfo=None)
            return self._cast(utc)

    datetime_module = SimpleNamespace(
        datetime=ClientDateTime,
        date=pydatetime.date,
        time=pydatetime.time,
        timedelta=pydatetime.timedelta,
    )
    return {
        "datetime": datetime_module,
        "relativedelta": relativedelta,
        "context_today": lambda: ClientDateTime.now().date(),
        "uid": env.uid,
        "time": safe_eval.time,
    }


def search_filters(env, model):
    """The filters of ``model``'s search view: ``{name: (domain text, group)}``, grouped
    as the web client groups them (search_arch_parser.js: filters written one after another
    form a group, ORed in the search; a separator, a field, a group-by or a group ends it)."""
    arch = etree.fromstring(env[model].get_view(view_type="search")["arch"])
    found = {}
    state = {"group": 0, "tag": None}

    def push(tag=None):
        state["group"] += 1
        state["tag"] = tag

    def visit(parent):
        for node in parent.iterchildren(tag=etree.Element):
            if node.tag == "group":
                push()
                visit(node)
                push()
            elif node.tag == "separator":
                push()
            elif node.tag == "field":
                push("field")
            elif node.tag == "filter":
                kind = "groupBy" if "group_by" in (node.get("context") or "") else "filter"
                if kind != state["tag"]:
                    push(kind)
                if node.get("domain"):
                    found[node.get("name")] = (node.get("domain"), state["group"])

    visit(arch)
    return found


def action_records(env, action):
    """The records a window action shows, as the web client opens it: its domain and the
    search view's filters (and field values) its context turns on, the filters of one
    group ORed, the groups ANDed."""
    Model = env[action["res_model"]]
    domain = list(action.get("domain") or [])
    filters = search_filters(env, action["res_model"])
    arch = etree.fromstring(Model.get_view(view_type="search")["arch"])
    eval_context = client_eval_context(env)
    groups = {}
    for key, value in (action.get("context") or {}).items():
        if not key.startswith("search_default_") or not value:
            continue
        name = key.removeprefix("search_default_")
        if name in filters:
            text, group = filters[name]
            groups.setdefault(group, []).append(safe_eval.safe_eval(text, eval_context))
        else:
            [_field] = arch.xpath(f"//field[@name='{name}']")
            domain.append((name, "=", value))
    for alternatives in groups.values():
        domain = expression.AND([domain, expression.OR(alternatives)])
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
            (
                backend.action_view_done_24h(),
                "Messages finished in the last 24 hours",
                {"done_24h"},
            ),
            (backend.action_view_done_1h(), "Messages finished in the last hour", {"done_1h"}),
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
        self.assertEqual(facets(attempts), {"backend_id", "failed", "started_24h"})
        self.assertEqual(attempts["context"]["search_default_backend_id"], backend.id)
        self.assertFalse(attempts["domain"], "the backend is a facet, not a hidden domain")
        self.assertEqual(self.opened(attempts).message_id, refused)
        self.assertEqual(self.opened(attempts).backend_id, backend)
        self.assertFalse(
            self.opened(
                self.other.with_context(logistics_window="24h").action_view_failed_attempts()
            )
        )

    def test_each_figure_opens_as_many_records_as_it_counts(self):
        """Every figure of the card opens, through the filters of the search view it turns
        on, the records it counts: none more, none fewer."""
        self.server.cue(503)
        self.send("sent after a failed attempt")
        run_jobs(self.env)
        self.server.cue((400, {}, {"errors": {"message": ["bad"]}}), (401, {}, {}))
        self.send("refused")
        self.send("unauthorised")
        run_jobs(self.env)
        old = self.send("finished two hours ago")
        run_jobs(self.env)
        self.env.cr.execute(
            "UPDATE logistics_message SET done_at = %s WHERE id = %s",
            [fields.Datetime.now() - timedelta(hours=2), old.id],
        )
        self.send("pending")  # not run: pending
        late = self.send("late")
        late.sla_breached = True
        backend = self.backend
        backend.invalidate_recordset()
        figures = [
            (backend.action_view_pending(), backend.count_pending),
            (backend.action_view_exceptions(), backend.count_exceptions),
            (backend.action_view_late(), backend.count_late),
            (backend.action_view_done_24h(), backend.count_done_24h),
            (backend.action_view_done_1h(), backend.done_1h),
        ]
        for category in ("technical", "business", "validation", "auth"):
            figures.append(
                (
                    backend.with_context(
                        logistics_category=category
                    ).action_view_exception_category(),
                    backend[f"count_exc_{category}"],
                )
            )
        self.assertEqual([count for _action, count in figures], [2, 2, 1, 2, 1, 0, 0, 1, 1])
        for action, count in figures:
            self.assertFalse(action["domain"], action["name"])
            self.assertEqual(len(self.opened(action)), count, action["name"])
        Attempt = self.env["logistics.message.attempt"]
        for window, rate in (("1h", backend.failure_rate_1h), ("24h", backend.failure_rate_24h)):
            action = backend.with_context(logistics_window=window).action_view_failed_attempts()
            attempts = Attempt.search([("backend_id", "=", backend.id)])
            self.assertEqual(
                round(100.0 * len(self.opened(action)) / len(attempts), 1), rate, window
            )

    def test_attempts_follow_their_backends_company(self):
        self.server.cue(400)
        refused = self.send("refused")
        run_jobs(self.env)
        attempt = refused.attempt_ids
        self.assertEqual(attempt.backend_id, self.backend)
        self.assertEqual(attempt.company_id, self.backend.company_id)
        other_company = self.env["res.company"].create({"name": "Other logistics company"})
        self.backend.company_id = other_company
        attempt.invalidate_recordset()
        self.assertEqual(attempt.company_id, other_company)
        user = new_test_user(
            self.env,
            login="dashboard-reader",
            groups="base.group_user,logistics_integration_base.group_logistics_user",
        )
        Attempt = self.env["logistics.message.attempt"].with_user(user)
        self.assertFalse(Attempt.search([("id", "=", attempt.id)]), "another company's attempt")
        self.backend.company_id = self.env.company
        self.assertEqual(Attempt.search([("id", "=", attempt.id)]), attempt)

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


@tagged("post_install", "-at_install")
class TestTileDrillDowns(LogisticsTransactionCase):
    """The business tiles of every installed module open their records as the figures of
    the card do: with no hidden condition, the tile's conditions and the backend as filters
    of the search view (facets the user sees and may remove), and these give the records
    the tile counts."""

    def test_every_tile_opens_its_records_through_visible_filters(self):
        backend = self._make_backend()
        tiles = backend._logistics_business_tiles()
        for tile in tiles:
            with self.subTest(tile=tile["key"]):
                action = backend.with_context(
                    logistics_tile=tile["key"]
                ).action_open_business_tile()
                self.assertFalse(action["domain"], "no hidden condition")
                self.assertTrue(tile.get("filters"), "the tile's conditions are named filters")
                filters = search_filters(self.env, tile["model"])
                for name in tile["filters"]:
                    self.assertIn(name, filters, f"a filter of {tile['model']}'s search view")
                self.assertEqual(facets(action), {tile["backend_field"], *tile["filters"]})
                self.assertEqual(
                    action["context"][f"search_default_{tile['backend_field']}"], backend.id
                )
                counted = (
                    self.env[tile["model"]]
                    .sudo()
                    .search(tile["domain"] + [(tile["backend_field"], "=", backend.id)])
                )
                self.assertEqual(action_records(self.env, action), counted)
