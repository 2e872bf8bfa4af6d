"""ShipBob, as its published OpenAPI documents (API 2026-01) say.

* Every request the adapter sends — order release, the lookup after a lost answer, cancel,
  polling, Test connection — goes from the job (or the backend's button) through the adapter
  over HTTP to the simulator on loopback, and each request as the simulator received it
  (method, path, query, headers with ``Authorization`` and ``shipbob_channel_id``, body) is
  validated with ``openapi-core`` against ShipBob's document.
* The simulator's ShipBob answers are validated against the document's response schemas, so
  the simulator cannot agree with the adapter by construction.
* The response examples of the operations (and the documented error bodies) are served by a
  loopback server and read by the adapter through the same job path.

ShipBob attaches no licence to the documents, so they are kept out of the repository: each
machine keeps its copy in ``~/.cache/logistics-conformance/shipbob/``, checked against the
SHA-256 in ``tests/conformance/shipbob/SHA256SUMS`` (``SOURCES.md`` says where to get them);
without them these tests are skipped and say why.
"""

import json
import re
import unittest
from unittest.mock import patch

import requests

from odoo.addons.logistics_integration_base.tests.common import LogisticsTransactionCase

from ..adapters import shipbob as shipbob_adapter
from ..mappers import shipbob
from .common import run_jobs
from .test_shipbob_flow import TOKEN, ShipbobCase

try:  # tests/ is on PYTHONPATH
    from conformance import material
except ImportError:  # pragma: no cover - run outside the suite's runners
    material = None

#: ShipBob's OpenAPI 3.1 document of the API reference (https://developer.shipbob.com/openapi.json)
SPEC_FILE = "openapi.json"
#: ShipBob's downloadable OpenAPI 3.0 document of 2026-01, which carries the examples
EXAMPLES_FILE = "openapi-2026-01.json"
#: the document's production server: requests are validated as if sent there
SERVER = "https://api.shipbob.com"
#: what a refused order asks the user to do
CORRECT = "Correct the delivery in Odoo (recipient address, products, quantities), then retry."


def _document(name):
    """Path of a published ShipBob document, or a skip saying where it comes from."""
    try:
        if material is None:
            raise FileNotFoundError(name)
        return material("shipbob", name)
    except FileNotFoundError:
        raise unittest.SkipTest(
            f"ShipBob's published document {name} is not on this machine (ShipBob attaches no "
            "licence to it, so it is not redistributed: tests/conformance/shipbob/SOURCES.md "
            "says where to get it and where to keep it)"
        ) from None


_loaded = {}


def _openapi():
    if "spec" not in _loaded:
        from openapi_core import Config, OpenAPI

        # ShipBob's documents do not pass the strict OpenAPI spec check (a schema of the
        # orders API lists a required property it does not define); the request and
        # response validation used here does not need it.
        _loaded["spec"] = OpenAPI.from_file_path(
            str(_document(SPEC_FILE)), config=Config(spec_validator_cls=None)
        )
    return _loaded["spec"]


def _examples():
    if "examples" not in _loaded:
        _loaded["examples"] = json.loads(_document(EXAMPLES_FILE).read_bytes())
    return _loaded["examples"]


def _documented_statuses(method, path):
    """The statuses ShipBob's document gives the operation ``method path``."""
    if "document" not in _loaded:
        _loaded["document"] = json.loads(_document(SPEC_FILE).read_bytes())
    path = path.split("?")[0]
    for template, operations in _loaded["document"]["paths"].items():
        pattern = re.sub(r"\\{[^}]+\\}", "[^/:]+", re.escape(template))
        if re.fullmatch(pattern, path) and method.lower() in operations:
            return set(operations[method.lower()]["responses"])
    return set()


def _errors(exc):
    cause = exc.__cause__
    details = [str(err).split("\n", 1)[0] for err in getattr(cause, "schema_errors", ()) or ()]
    return f"{type(exc).__name__}: {exc}" + ("".join(f"\n  - {d}" for d in details))


def _as_sent_to_shipbob(method, path, headers, body):
    """A request as it reached the loopback server, addressed to ShipBob's server."""
    return requests.Request(
        method, SERVER + path, headers=dict(headers), data=body or None
    ).prepare()


class ShipbobDocumentMixin:
    """Validation against ShipBob's document, with failures that say what broke."""

    def assertRequestConforms(self, recorded):
        from openapi_core.contrib.requests import RequestsOpenAPIRequest
        from openapi_core.exceptions import OpenAPIError

        request = _as_sent_to_shipbob(
            recorded.method, recorded.path, recorded.headers, recorded.body
        )
        try:
            _openapi().validate_request(RequestsOpenAPIRequest(request))
        except OpenAPIError as exc:
            self.fail(
                f"{recorded.method} {recorded.path} breaks ShipBob's document: {_errors(exc)}"
            )

    def assertResponseConforms(self, response):
        from openapi_core.contrib.requests import (
            RequestsOpenAPIRequest,
            RequestsOpenAPIResponse,
        )
        from openapi_core.exceptions import OpenAPIError

        sent = response.request
        path = sent.path_url
        request = _as_sent_to_shipbob(sent.method, path, sent.headers, sent.body)
        if response.status_code == 204:
            # HTTP gives a 204 no body, though ShipBob's document describes one (an empty
            # object): the request is checked, and that the operation documents a 204
            self.assertIn("204", _documented_statuses(sent.method, path))
            self.assertEqual(response.content, b"")
            return
        try:
            _openapi().validate_response(
                RequestsOpenAPIRequest(request), RequestsOpenAPIResponse(response)
            )
        except OpenAPIError as exc:
            self.fail(
                f"The simulator's answer {response.status_code} to {sent.method} {path} breaks "
                f"ShipBob's document: {_errors(exc)}\n{response.text[:2000]}"
            )


class TestShipbobRequestsConform(ShipbobDocumentMixin, ShipbobCase, LogisticsTransactionCase):
    """Every request the adapter sends, through the real path, against ShipBob's document."""

    @classmethod
    def setUpClass(cls):
        _openapi()  # skip the class at once when the document is absent
        super().setUpClass()
        cls.setup_shipbob("shipbob-conformance")

    def sent(self, start):
        return [r for r in self.sim.requests[start:] if r.path != "/health"]

    def test_release_lookup_cancel_poll_and_connection_requests_are_valid(self):
        start = len(self.sim.requests)
        picking = self.released([(self.chair, 2), (self.desk, 1)])
        # a resend after a lost answer: 422, then the lookup by reference
        lost = self.make_delivery([(self.desk, 1)])
        body = shipbob.order_release_to_request(lost.logistics_release_message_id._get_payload())
        self.assertEqual(self.shipbob_api("POST", "/2026-01/order", json=body).status_code, 201)
        direct = len(self.sim.requests) - 1  # the merchant's own call, not the adapter's
        run_jobs(self.env)
        self.assertEqual(lost.logistics_state, "accepted")
        picking.action_cancel()
        run_jobs(self.env)
        self.backend._cron_poll_shipped()
        action = self.backend.action_test_connection()
        self.assertEqual(action["params"]["type"], "success", action["params"]["message"])
        self.env["ir.config_parameter"].sudo().set_param("web.base.url", "https://odoo.example.com")
        self.sim.shipbob_webhooks.clear()
        for _twice in range(2):  # the second replaces the first: DELETE /webhook/{id}
            action = self.backend.action_shipbob_subscribe_webhooks()
            self.assertEqual(action["params"]["type"], "success", action["params"]["message"])
        own_calls = [
            r
            for i, r in enumerate(self.sim.requests)
            if i >= start and i != direct and r.path != "/health"
        ]
        calls = {
            (r.method, re.sub(r"/(order|webhook)/\d+", r"/\1/{id}", r.path.split("?")[0]))
            for r in own_calls
        }
        self.assertEqual(
            calls,
            {
                ("POST", "/2026-01/order"),
                ("GET", "/2026-01/order"),
                ("POST", "/2026-01/order/{id}:cancel"),
                ("GET", "/2026-01/channel"),
                ("GET", "/2026-01/webhook"),
                ("POST", "/2026-01/webhook"),
                ("DELETE", "/2026-01/webhook/{id}"),
            },
        )
        for recorded in own_calls:
            with self.subTest(request=f"{recorded.method} {recorded.path}"):
                self.assertEqual(recorded.headers.get("Authorization"), f"Bearer {TOKEN}")
                # the channel is found by GET /channel; webhooks belong to no channel
                channel = None if re.search(r"/(channel|webhook)\b", recorded.path) else "100102"
                self.assertEqual(recorded.headers.get("shipbob_channel_id"), channel)
                self.assertRequestConforms(recorded)

    def test_inventory_pull_requests_are_valid_and_follow_the_pages(self):
        self.sim.inventory_levels = {"CHAIR-1": 7, "DESK-1": 3, "SERUM-1": 2, "GIFT-CARD": 1}
        start = len(self.sim.requests)
        with patch.object(shipbob_adapter, "INVENTORY_PAGE_SIZE", 3):
            [message] = self.backend._logistics_pull_inventory()
        pulls = self.sent(start)
        self.assertEqual(len(pulls), 2)  # the second page through the first one's next link
        for recorded in pulls:
            with self.subTest(request=recorded.path):
                self.assertEqual(recorded.headers.get("shipbob_channel_id"), "100102")
                self.assertRequestConforms(recorded)
        self.assertEqual(message.message_type, "inventory.snapshot")
        data = message._get_payload()
        self.assertEqual(data["warehouse_code"], self.warehouse.code)
        self.assertEqual(
            {line["sku"]: line["quantity"] for line in data["lines"]},
            {"CHAIR-1": 7, "DESK-1": 3, "SERUM-1": 2, "GIFT-CARD": 1},
        )

    def test_an_order_with_every_optional_value_is_valid(self):
        self.customer.write({"street2": "Suite 100", "parent_id": False})
        company = self.env["res.partner"].create({"name": "Wayne Enterprises", "is_company": True})
        self.customer.parent_id = company
        start = len(self.sim.requests)
        self.released([(self.chair, 1)])
        [request] = self.sent(start)
        address = request.json()["recipient"]["address"]
        self.assertEqual(address["address2"], "Suite 100")
        self.assertEqual(address["company_name"], "Wayne Enterprises")
        self.assertRequestConforms(request)

    def test_an_order_without_optional_values_leaves_them_out_and_is_valid(self):
        bare = self.env["res.partner"].create(
            {
                "name": "Bare Buyer",
                "street": "2 Side St",
                "city": "Springfield",
                "zip": "12345",
                "country_id": self.env.ref("base.us").id,
            }
        )
        start = len(self.sim.requests)
        picking = self.make_delivery([(self.chair, 1)], partner=bare)
        run_jobs(self.env)
        self.assertEqual(picking.logistics_state, "accepted")
        [request] = self.sent(start)
        recipient = request.json()["recipient"]
        self.assertEqual(
            recipient,
            {
                "name": "Bare Buyer",
                "address": {
                    "address1": "2 Side St",
                    "city": "Springfield",
                    "country": "US",
                    "zip_code": "12345",
                },
            },
        )
        self.assertRequestConforms(request)

    def test_the_document_refuses_what_the_adapter_no_longer_sends(self):
        """The check has teeth: the request the adapter sent before (no channel header) is
        refused by ShipBob's document."""
        start = len(self.sim.requests)
        self.released([(self.chair, 1)])
        [request] = self.sent(start)
        headers = {k: v for k, v in request.headers.items() if k != "shipbob_channel_id"}
        stripped = type(request)(request.method, request.path, headers, request.body)
        with self.assertRaises(AssertionError) as caught:
            self.assertRequestConforms(stripped)
        self.assertIn("shipbob_channel_id", str(caught.exception))


class TestShipbobSimulatorConforms(ShipbobDocumentMixin, ShipbobCase, LogisticsTransactionCase):
    """The simulator's ShipBob answers have the shapes ShipBob's document gives them."""

    @classmethod
    def setUpClass(cls):
        _openapi()
        super().setUpClass()
        cls.setup_shipbob("shipbob-sim-conformance")

    def api(self, method, path, **kw):
        return self.shipbob_api(method, f"/{shipbob.API_VERSION}{path}", **kw)

    def test_every_answer_the_simulator_gives_is_documented(self):
        picking = self.released([(self.chair, 2), (self.serum, 1)])
        order_id = picking.logistics_external_id
        self.sim.ship(picking.name, quantities={"CHAIR-1": 2, "SERUM-1": 1}, lots={"SERUM-1": "L7"})
        other = self.released([(self.desk, 1)])
        body = {
            "reference_id": "EXTRA-1",
            "type": "DTC",
            "shipping_method": "Standard",
            "recipient": {
                "name": "Jane Buyer",
                "address": {"address1": "1 Main St", "city": "Springfield", "country": "US"},
            },
            "products": [{"reference_id": "DESK-1", "name": "Desk", "quantity": 1}],
        }
        answers = [
            self.api("POST", "/order", json=body),
            self.api("POST", "/order", json=body),  # duplicate reference: 422
            self.api("POST", "/order", json=dict(body, reference_id="EXTRA-2", products=[])),
            self.api("GET", f"/order/{order_id}"),
            self.api("GET", "/order", params={"ReferenceIds": picking.name, "HasTracking": "true"}),
            self.api("GET", "/order", params={"Limit": "1", "Page": "1"}),
            self.api("POST", f"/order/{other.logistics_external_id}:cancel"),
            self.api("POST", f"/order/{order_id}:cancel"),  # shipped: refused per shipment
            self.api("GET", "/channel"),
        ]
        self.sim.inventory_levels = {"CHAIR-1": 4, "DESK-1": 1}
        subscription = {
            "topics": list(shipbob.WEBHOOK_TOPICS),
            "url": "https://odoo.example.com/logistics/webhook/shipbob-sim-conformance",
            "secret": "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw",
        }
        answers += [
            self.api("POST", "/webhook", json=subscription),
            self.api("GET", "/webhook"),
        ]
        answers.append(self.api("DELETE", f"/webhook/{answers[-2].json()['id']}"))
        answers += [
            self.api("GET", "/inventory-level", params={"PageSize": "1"}),
            self.api("GET", "/inventory-level", params={"PageSize": "1", "cursor": "1"}),
        ]
        self.assertEqual(
            [a.status_code for a in answers],
            [201, 422, 400, 200, 200, 200, 200, 200, 200, 200, 200, 204, 200, 200],
        )
        self.assertEqual(answers[-2].json()["next"], "/2026-01/inventory-level?PageSize=1&cursor=1")
        self.assertIsNone(answers[-1].json()["next"])
        shipped = answers[4].json()[0]["shipments"]
        self.assertTrue(any((s.get("tracking") or {}).get("tracking_number") for s in shipped))
        for answer in answers:
            with self.subTest(call=f"{answer.request.method} {answer.request.path_url}"):
                self.assertResponseConforms(answer)


class _ExampleServer:
    """Answers each ShipBob operation with the example ShipBob's document gives for it."""

    ROUTES = (
        ("POST", re.compile(r"/2026-01/order$"), "/2026-01/order", "post", "201"),
        ("GET", re.compile(r"/2026-01/order$"), "/2026-01/order", "get", "200"),
        ("GET", re.compile(r"/2026-01/order/\d+$"), "/2026-01/order/{orderId}", "get", "200"),
        (
            "POST",
            re.compile(r"/2026-01/order/\d+:cancel$"),
            "/2026-01/order/{orderId}:cancel",
            "post",
            "200",
        ),
        ("GET", re.compile(r"/2026-01/channel$"), "/2026-01/channel", "get", "200"),
        ("GET", re.compile(r"/2026-01/inventory-level$"), "/2026-01/inventory-level", "get", "200"),
    )

    def __init__(self, document):
        self.document = document
        self.status_override = {}  # (method, documented path) -> documented status to answer

    def example(self, path, method, status):
        answer = self.document["paths"][path][method]["responses"][status]
        return answer["content"]["application/json"]["example"]

    def __call__(self, req):
        url_path = req.path.split("?")[0]
        for method, pattern, path, verb, status in self.ROUTES:
            if req.method == method and pattern.match(url_path):
                status = self.status_override.get((method, path), status)
                return int(status), {}, self.example(path, verb, status)
        return 404, {}, {"message": f"no documented example for {req.method} {url_path}"}


class TestShipbobDocumentedAnswers(ShipbobCase, LogisticsTransactionCase):
    """The documented answers (examples and error bodies) read through the job path."""

    @classmethod
    def setUpClass(cls):
        from logistics_simulators.http_server import CuedHTTPServer

        document = _examples()
        super().setUpClass()
        cls.setup_shipbob("shipbob-examples")
        cls.examples = _ExampleServer(document)
        cls.server = CuedHTTPServer(handler=cls.examples)
        cls.server.start()
        cls.addClassCleanup(cls.server.stop)
        cls.backend.base_url = cls.server.url(f"/{shipbob.API_VERSION}")

    def setUp(self):
        super().setUp()
        self.examples.status_override.clear()

    def test_created_order_example_is_the_acknowledgement(self):
        created = self.examples.example("/2026-01/order", "post", "201")
        picking = self.released([(self.chair, 1)])
        msg = picking.logistics_release_message_id
        self.assertEqual(msg.state, "acknowledged", msg.error_message)
        self.assertEqual(picking.logistics_external_id, str(created["id"]))

    def test_cancelled_order_example_cancels(self):
        picking = self.released([(self.chair, 1)])
        picking.action_cancel()
        run_jobs(self.env)
        [cancel] = self.picking_messages(picking, "order.cancel")
        self.assertEqual(cancel.state, "sent", cancel.error_message)
        self.assertEqual(
            self.server.requests[-1].path, f"/2026-01/order/{picking.logistics_external_id}:cancel"
        )

    def test_order_list_example_gives_the_shipment_that_left(self):
        listed = self.examples.example("/2026-01/order", "get", "200")
        shipment = listed[0]["shipments"][0]
        [data] = self.backend._get_adapter().poll_shipped([listed[0]["reference_id"]])
        self.assertEqual(self.server.requests[-1].headers.get("shipbob_channel_id"), "100102")
        self.assertEqual(data["order_ref"], listed[0]["reference_id"])
        self.assertEqual(data["shipment_ref"], str(shipment["id"]))
        self.assertEqual(
            data["carrier"],
            {
                "code": shipment["tracking"]["carrier"],
                "service": shipment["tracking"]["carrier_service"],
            },
        )
        self.assertEqual(data["tracking_ref"], shipment["tracking"]["tracking_number"])
        self.assertEqual(data["shipped_at"], shipment["tracking"]["shipping_date"])
        item = shipment["products"][0]["inventory_items"][0]
        self.assertEqual([line["sku"] for line in data["lines"]], ["TShirtBlueM"])
        self.assertEqual(data["lines"][0]["quantity"], item["quantity"])

    def test_inventory_level_example_is_a_snapshot(self):
        levels = self.examples.example("/2026-01/inventory-level", "get", "200")
        start = len(self.server.requests)
        [message] = self.backend._logistics_pull_inventory()
        # the example's "next" is a placeholder, not a link: nothing more is asked
        self.assertEqual(len(self.server.requests) - start, 1)
        data = message._get_payload()
        self.assertEqual(
            data["lines"],
            [
                {
                    "sku": item["sku"],
                    "quantity": item["total_on_hand_quantity"],
                    "lot": None,
                    "uom": None,
                }
                for item in levels["items"]
            ],
        )

    def test_channel_example_is_listed_by_test_connection(self):
        self.backend.shipbob_channel_id = "128944"  # the example's channel that writes orders
        action = self.backend.action_test_connection()
        self.assertEqual(action["params"]["type"], "success", action["params"]["message"])
        self.assertIn("128944 (Privileged Access Token", action["params"]["message"])
        self.assertIn("128943 (ShipBob Default, read only)", action["params"]["message"])

    def test_documented_errors_fail_the_release_in_business_words(self):
        for status, business_words in (
            # {field: [messages]}: ShipBob's words name the fields
            (
                "400",
                f"ShipBob refused the data (HTTP 400). {CORRECT} ShipBob says: property1: "
                "string; property2: string",
            ),
            # {"errors": [messages]}: no field named, the exception queue says so first
            ("422", "Acme Fulfilment refused delivery {name}: string. It did not say which field"),
        ):
            with self.subTest(status=status):
                self.examples.status_override[("POST", "/2026-01/order")] = status
                picking = self.released_failed([(self.chair, 1)])
                msg = picking.logistics_release_message_id
                self.assertEqual((msg.state, msg.error_category), ("failed", "validation"))
                self.assertIn(business_words.format(name=picking.name), msg.error_message)
                self.assertIn(
                    f"Order {picking.name}: ShipBob refused the data (HTTP {status}). {CORRECT}",
                    msg.error_message,
                )

    def test_documented_cancel_refusal_is_read_in_words(self):
        picking = self.released([(self.chair, 1)])
        self.examples.status_override[("POST", "/2026-01/order/{orderId}:cancel")] = "422"
        picking.action_cancel()
        run_jobs(self.env)
        [cancel] = self.picking_messages(picking, "order.cancel")
        self.assertEqual((cancel.state, cancel.error_category), ("failed", "validation"))
        self.assertIn(
            f"Order {picking.name}: ShipBob refused the data (HTTP 422)", cancel.error_message
        )
        self.assertIn("property1: string", cancel.error_message)
