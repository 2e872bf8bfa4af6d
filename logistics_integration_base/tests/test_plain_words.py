"""Nothing technical where an operator reads: Test connection says in words why a partner
could not be reached (refused, unknown name, TLS, timeout, cut), with the technical detail
below and never urllib3's chain; every record of the suite has a name (never
``logistics.shipment,41``); no view shows an HTTP status 0 for a call that got no answer."""

import re
import socket
import struct
import threading
from urllib.parse import urlsplit

from logistics_simulators.http_server import CuedHTTPServer
from lxml import etree

from odoo.models import BaseModel
from odoo.tests import common as test_common

from .common import LogisticsTransactionCase

LEAKS = ("HTTPConnectionPool", "urllib3", "object at 0x", "Max retries", "NewConnectionError")


def closed_port():
    """A loopback port nothing listens on."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class TestConnectionInWords(LogisticsTransactionCase):
    @classmethod
    def _request_handler(cls, s, r, /, **kw):
        # a name under .invalid never resolves (RFC 6761): the resolver answers, nothing is
        # sent; Odoo's tests block every other host but the loopback
        if urlsplit(r.url).hostname == "partner.invalid":
            return test_common._super_send(s, r, **kw)
        return super()._request_handler(s, r, **kw)

    def run_test(self, base_url, **vals):
        backend = self._make_backend(name="Acme Fulfilment", base_url=base_url, **vals)
        params = backend.action_test_connection()["params"]
        self.assertEqual(params["title"], "Connection to Acme Fulfilment failed")
        self.assertEqual(params["type"], "danger")
        self.assertEqual(params["className"], "o_logistics_notification", "keeps its lines")
        for leak in LEAKS:
            self.assertNotIn(leak, params["message"])
        sentence, technical = params["message"].split("\n\n")
        return sentence, technical

    def test_nothing_listening(self):
        port = closed_port()
        sentence, technical = self.run_test(f"http://127.0.0.1:{port}/events")
        self.assertEqual(
            sentence,
            f"Nothing answers at 127.0.0.1:{port} — is the partner's server up, and is the "
            "URL right?",
        )
        self.assertEqual(
            technical,
            f"Technical details: GET http://127.0.0.1:{port}/events: connection refused "
            "([Errno 111] Connection refused)",
        )

    def test_unknown_host_name(self):
        sentence, technical = self.run_test("https://partner.invalid/api")
        self.assertEqual(
            sentence, "The address partner.invalid is not known (DNS) — is the URL spelled right?"
        )
        self.assertTrue(
            technical.startswith(
                "Technical details: GET https://partner.invalid/api: DNS failure ("
            ),
            technical,
        )

    def test_tls_error(self):
        plain = CuedHTTPServer().start()  # speaks plain HTTP where TLS is expected
        self.addCleanup(plain.stop)
        sentence, technical = self.run_test(f"https://127.0.0.1:{plain.port}/api")
        self.assertTrue(
            sentence.startswith(
                f"The secure connection to 127.0.0.1:{plain.port} could not be set up (TLS "
                "certificate or protocol)"
            ),
            sentence,
        )
        self.assertIn(": TLS error (", technical)

    def test_no_answer_within_the_timeout(self):
        silent = socket.socket()  # accepts connections (backlog), never answers
        silent.bind(("127.0.0.1", 0))
        silent.listen(5)
        self.addCleanup(silent.close)
        port = silent.getsockname()[1]
        sentence, technical = self.run_test(f"http://127.0.0.1:{port}/", timeout=0.5)
        self.assertEqual(
            sentence,
            f"127.0.0.1:{port} did not answer within 0.5 s — the partner is slow or down: try "
            "again later, or raise the backend's timeout.",
        )
        self.assertIn(f"GET http://127.0.0.1:{port}/: read timeout (", technical)

    def test_connection_cut_without_answer(self):
        listener = socket.socket()
        listener.bind(("127.0.0.1", 0))
        listener.listen(5)
        self.addCleanup(listener.close)

        def cut_once():
            conn, _addr = listener.accept()
            conn.recv(1024)
            linger_zero = struct.pack("ii", 1, 0)
            conn.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, linger_zero)
            conn.close()  # a reset, no answer

        thread = threading.Thread(target=cut_once, daemon=True)
        thread.start()
        port = listener.getsockname()[1]
        sentence, technical = self.run_test(f"http://127.0.0.1:{port}/")
        thread.join(5)
        self.assertEqual(
            sentence,
            f"127.0.0.1:{port} closed the connection without answering — try again; if it "
            "keeps happening, ask the partner.",
        )
        self.assertIn(": connection cut (", technical)

    def test_a_working_partner_is_still_said_so(self):
        server = CuedHTTPServer().start()
        self.addCleanup(server.stop)
        backend = self._make_backend(name="Acme Fulfilment", base_url=server.url("/events"))
        params = backend.action_test_connection()["params"]
        self.assertEqual(params["title"], "Connection to Acme Fulfilment works")
        self.assertEqual(params["type"], "success")


class TestRecordsHaveNames(LogisticsTransactionCase):
    def test_every_suite_model_names_its_records(self):
        """A reference to a record of the suite (a message's related record, a many2one)
        reads as a name: every model of the suite has a ``_rec_name`` field or computes its
        display name, so that none shows as ``logistics.shipment,41``."""
        exempt = {
            "logistics.backend.secret",  # no group reads it
            "logistics.backend.oauth.state",  # a sign-in in progress, never displayed
        }
        unnamed = []
        for name, model in self.env.registry.items():
            if not name.startswith("logistics.") or name in exempt:
                continue
            if model._abstract or model._transient:
                continue
            records = self.env[name]
            computes = type(records)._compute_display_name is not BaseModel._compute_display_name
            if not computes and not (records._rec_name and records._rec_name in records._fields):
                unnamed.append(name)
        self.assertFalse(unnamed, "models whose records would read as 'model,id'")

    def test_a_shipment_reads_as_its_reference_and_delivery(self):
        if "logistics.shipment" not in self.env:
            self.skipTest("the 3PL connector is not installed")
        backend = self._make_backend(name="Demo 3PL")
        picking_type = self.env["stock.picking.type"].search([("code", "=", "outgoing")], limit=1)
        picking = self.env["stock.picking"].create(
            {
                "picking_type_id": picking_type.id,
                "location_id": picking_type.default_location_src_id.id,
                "location_dest_id": self.env.ref("stock.stock_location_customers").id,
            }
        )
        shipment = self.env["logistics.shipment"].create(
            {"backend_id": backend.id, "picking_id": picking.id, "shipment_ref": "SHP-41"}
        )
        self.assertEqual(shipment.display_name, f"Shipment SHP-41 of {picking.name}")
        message = self.env["logistics.message"].create(
            {
                "backend_id": backend.id,
                "direction": "in",
                "message_type": "integration.ping",
                "state": "received",
                "idempotency_key": "ping-named-record",
                "payload": "{}",
                "res_model": shipment._name,
                "res_id": shipment.id,
            }
        )
        related = message.web_read({"record_ref": {"fields": {"display_name": {}}}})[0]
        self.assertEqual(related["record_ref"]["display_name"], shipment.display_name)


class TestNoStatusZero(LogisticsTransactionCase):
    def test_http_status_shown_only_when_there_was_one(self):
        """A call that got no answer (refused, timed out) has no HTTP status: the views show
        nothing rather than "HTTP status 0"."""
        checked = 0
        for view, model, view_type, arch in suite_views(self.env):
            for node in arch.iter("field"):
                if node.get("name") != "http_status":
                    continue
                checked += 1
                self.assertIn(
                    "not http_status",
                    node.get("invisible", ""),
                    f"{view.xml_id}: shows an empty HTTP status as 0 ({model} {view_type})",
                )
        self.assertGreaterEqual(checked, 3, "the message form, its attempts and their list")


#: the names of plain number fields that hold an amount (a unit price keeps more digits
#: than the currency's cents, so it stays a float, shown with the monetary widget)
AMOUNT_NAME = re.compile(r"(^|_)(price|amount|cost|minimum|variance|total|fee)(_|$)")


def amounts_shown(env):
    """``(missing, checked)`` over the forms, lists and kanbans of the suite's modules:
    every amount (a monetary field, or a float whose name says it holds one) shows its
    currency: the monetary widget, and the currency field read by the same list, form or
    kanban level (or named in the widget's options). ``checked``: the ``(model, field)``
    amounts seen."""
    missing, checked = [], set()
    for view, model, _type, arch in suite_views(env, ("form", "list", "kanban")):
        for node in arch.iter("field"):
            level = _level_of(node)
            level_model = _model_of(env, model, level)
            field = level_model._fields.get(node.get("name"))
            if not field or not (
                field.type == "monetary"
                or (field.type == "float" and AMOUNT_NAME.search(field.name))
            ):
                continue
            checked.add((level_model._name, field.name))
            where = f"{view.xml_id or view.name}: {node.get('name')}"
            if field.type == "float" and node.get("widget") != "monetary":
                missing.append(f"{where} (a number without the monetary widget)")
                continue
            options = node.get("options") or ""
            if "currency_field" in options:
                continue
            currency = field.get_currency_field(level_model) if field.type == "monetary" else None
            names = {f.get("name") for f in level.iter("field") if _level_of(f) is level}
            if (currency or "currency_id") not in names:
                missing.append(where)
    return missing, checked


class TestViewsReadAsAPerson(LogisticsTransactionCase):
    def test_amounts_show_their_currency(self):
        """A monetary field shows its currency symbol only when its currency field is read
        by the same view (list, form or kanban level); a price kept as a float shows it
        through the monetary widget: every amount of the suite's views has it."""
        missing, _checked = amounts_shown(self.env)
        self.assertFalse(missing, "amounts shown without their currency")

    def test_json_is_shown_without_a_missing_editor_mode(self):
        """The code editor (ace) ships a few modes only (no JSON): a view asking for a mode
        Odoo does not ship fails to load it; JSON is shown as indented read-only text."""
        from odoo.tools.misc import file_path

        broken = []
        for view, _model, _type, arch in suite_views(self.env):
            for node in arch.iter("field"):
                if node.get("widget") not in ("ace", "code"):
                    continue
                options = node.get("options") or "{}"
                mode = "qweb"
                for candidate in ("json", "javascript", "python", "xml", "scss", "qweb"):
                    if f"'{candidate}'" in options or f'"{candidate}"' in options:
                        mode = candidate
                try:
                    file_path(f"web/static/lib/ace/mode-{mode}.js")
                except FileNotFoundError:
                    broken.append(f"{view.xml_id or view.name}: {node.get('name')} ({mode})")
        self.assertFalse(broken, "editor modes Odoo does not ship")


def _level_of(node):
    level = node.getparent()
    while level.tag not in ("list", "form", "kanban"):
        level = level.getparent()
    return level


def _model_of(env, model, level):
    """The model of a list/form ``level`` of a view of ``model``: a sub-view of a
    relational field has that field's comodel."""
    owners = []
    node = level.getparent()
    while node is not None:
        if node.tag == "field":
            owners.append(node.get("name"))
        node = node.getparent()
    records = env[model]
    for name in reversed(owners):
        records = env[records._fields[name].comodel_name]
    return records


def suite_views(env, types=("form", "list")):
    """``(view, model, view type, arch element)`` of every primary view of ``types`` of the
    suite's modules, as the web client receives it (inherited views applied)."""
    data = (
        env["ir.model.data"]
        .sudo()
        .search([("model", "=", "ir.ui.view"), ("module", "=like", "logistics\\_%")])
    )
    views = env["ir.ui.view"].browse(data.mapped("res_id")).exists()
    primary = views.filtered(lambda v: v.mode == "primary" and v.type in types)
    for view in primary:
        if view.model not in env:
            continue
        arch = env[view.model].get_views([(view.id, view.type)])["views"][view.type]["arch"]
        yield view, view.model, view.type, etree.fromstring(arch)
