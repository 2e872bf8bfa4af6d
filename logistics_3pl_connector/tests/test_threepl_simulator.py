"""The 3PL simulator, exercised over real HTTP on loopback.

A ``CuedHTTPServer`` stands in for Odoo's webhook route; signatures are checked there with an
independent HMAC computation (hmac/hashlib/base64), not with the ``standardwebhooks`` library
the simulator signs with.
"""

import base64
import hashlib
import hmac
import json
import os
import subprocess
import sys
import threading
import time
import uuid
from pathlib import Path

import logistics_simulators
import requests
from jsonschema import Draft202012Validator
from logistics_simulators.http_server import CuedHTTPServer
from logistics_simulators.threepl import (
    SHIPBOB_TOPIC_HEADER,
    ThreePLSimulator,
    UnsupportedByStyle,
)
from logistics_simulators.waiting import DEADLINE, wait_until

from odoo.tests import BaseCase, tagged

from ..mappers import shipbob
from .test_shipbob_mapper import FORMAT_CHECKER, ORDER_RELEASE, assert_valid

ENVELOPE_SCHEMA = json.loads(
    (
        Path(__file__).resolve().parents[2]
        / "logistics_integration_base"
        / "schemas"
        / "cloudevents.v1.json"
    ).read_text()
)
SECRET = "whsec_" + base64.b64encode(b"logistics-3pl-simulator-test-key").decode()
TOKEN = "pat_test_3pl_token"


def lower(headers):
    return {k.lower(): v for k, v in headers.items()}


def signature_ok(request, secret=SECRET):
    """Standard Webhooks check, written from the spec."""
    headers = lower(request.headers)
    key = base64.b64decode(secret.removeprefix("whsec_"))
    signed = f"{headers['webhook-id']}.{headers['webhook-timestamp']}.".encode() + request.body
    expected = base64.b64encode(hmac.new(key, signed, hashlib.sha256).digest()).decode()
    offered = [
        sig.split(",", 1)[1]
        for sig in headers.get("webhook-signature", "").split()
        if sig.startswith("v1,")
    ]
    return any(hmac.compare_digest(expected, sig) for sig in offered)


class FakeOdoo:
    """Receiving side: answers 202 {"message_id", "duplicate"} like Odoo's webhook route."""

    def __init__(self):
        self.seen = {}
        self.server = CuedHTTPServer(handler=self._answer)

    def _answer(self, request):
        msg_id = lower(request.headers).get("webhook-id")
        duplicate = msg_id in self.seen
        self.seen.setdefault(msg_id, len(self.seen) + 1)
        return 202, {}, {"message_id": self.seen[msg_id], "duplicate": duplicate}

    def reset(self):
        self.server.reset()
        self.seen.clear()

    @property
    def requests(self):
        return self.server.requests

    def wait_for(self, count):
        """The requests received, once there are ``count`` of them (fails at the deadline)."""
        return wait_until(
            lambda: len(self.requests) >= count and list(self.requests),
            what=f"{count} webhook deliveries to reach Odoo",
        )


def cloudevent(message_type, data):
    return {
        "specversion": "1.0",
        "id": str(uuid.uuid4()),
        "source": "urn:odoo:test",
        "type": message_type,
        "time": "2025-03-12T09:15:03Z",
        "datacontenttype": "application/json",
        "dataschema": f"urn:logistics:schema:{message_type}:v1",
        "data": data,
    }


class SimulatorCase(BaseCase):
    style = "generic"
    api_token = None

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.odoo = FakeOdoo()
        cls.odoo.server.start()
        cls.addClassCleanup(cls.odoo.server.stop)

    def setUp(self):
        super().setUp()
        self.odoo.reset()
        self.sim = self.make_sim()

    def make_sim(self, **kwargs):
        sim = ThreePLSimulator(
            self.odoo.server.url("/logistics/webhook/threepl"),
            SECRET,
            style=self.style,
            api_token=self.api_token,
            **kwargs,
        ).start()
        self.addCleanup(sim.stop)
        return sim

    def send_event(self, message_type, data, key=None, event=None, **headers):
        headers = {"Idempotency-Key": key or str(uuid.uuid4()), **headers}
        if self.api_token:
            headers["Authorization"] = f"Bearer {self.api_token}"
        return requests.post(
            self.sim.url("/events"),
            json=event or cloudevent(message_type, data),
            headers=headers,
            timeout=5,
        )

    def auth(self, token=TOKEN):
        return {"Authorization": f"Bearer {token}", "shipbob_channel_id": "100102"}


@tagged("standard", "at_install")
class TestGenericSimulator(SimulatorCase):
    def test_ack_and_ship_are_signed_cloudevents(self):
        answer = self.send_event(
            "order.release", ORDER_RELEASE, key="k-1", **{"X-Correlation-ID": "corr-42"}
        )
        self.assertEqual(answer.status_code, 202, answer.text)
        self.assertEqual(answer.json()["order_ref"], "WH/OUT/00042")
        self.assertEqual(answer.json()["id"], answer.json()["external_order_id"])
        order = self.sim.orders["WH/OUT/00042"]
        self.assertEqual(order["external_id"], answer.json()["external_order_id"])
        self.assertEqual(order["correlation_id"], "corr-42")

        status, body = self.sim.acknowledge("WH/OUT/00042")
        self.assertEqual((status, body), (202, {"message_id": 1, "duplicate": False}))
        first = self.sim.ship(
            "WH/OUT/00042",
            quantities={"LIGHT-ROAST": 2},
            lots={
                "LIGHT-ROAST": [
                    {"lot": "LR-1", "quantity": 1, "expiration_date": None},
                    {"lot": "LR-2", "quantity": 1, "expiration_date": None},
                ]
            },
            tracking_ref="1ZPART",
        )
        rest = self.sim.ship("WH/OUT/00042")
        self.assertTrue(first.ok and rest.ok)
        self.assertEqual(order["status"], "shipped")

        received = self.odoo.requests
        self.assertEqual(len(received), 3)
        for request in received:
            headers = lower(request.headers)
            self.assertTrue(signature_ok(request), request)
            self.assertFalse(signature_ok(request, "whsec_" + base64.b64encode(b"x" * 24).decode()))
            self.assertLess(abs(int(headers["webhook-timestamp"]) - time.time()), 60)
            event = request.json()
            Draft202012Validator(ENVELOPE_SCHEMA, format_checker=FORMAT_CHECKER).validate(event)
            self.assertEqual(event["specversion"], "1.0")
            self.assertEqual(event["id"], headers["webhook-id"])
            self.assertEqual(event["dataschema"], f"urn:logistics:schema:{event['type']}:v1")
            self.assertEqual(event["correlationid"], "corr-42")
            self.assertEqual(headers["x-correlation-id"], "corr-42")
            assert_valid(self, event["type"], event["data"])
        ack, part, remainder = (r.json() for r in received)
        self.assertEqual(ack["type"], "order.ack")
        self.assertEqual(ack["data"]["status"], "accepted")
        self.assertEqual(ack["data"]["external_order_id"], order["external_id"])
        self.assertEqual(part["type"], "shipment.confirmed")
        self.assertFalse(part["data"]["complete"])
        self.assertEqual(part["data"]["tracking_ref"], "1ZPART")
        self.assertEqual(
            [
                (ln["line_ref"], ln["sku"], ln["quantity"], len(ln.get("lots", [])))
                for ln in part["data"]["lines"]
            ],
            [("311", "LIGHT-ROAST", 2, 2)],
        )
        self.assertTrue(remainder["data"]["complete"])
        self.assertEqual(
            sorted((ln["sku"], ln["quantity"]) for ln in remainder["data"]["lines"]),
            [("LIGHT-ROAST", 1), ("MUG-BLUE", 1)],
        )
        with self.assertRaisesRegex(ValueError, "nothing left to ship"):
            self.sim.ship("WH/OUT/00042")

    def test_status_inventory_return_and_rejection(self):
        self.send_event("order.release", ORDER_RELEASE)
        results = [
            self.sim.acknowledge("WH/OUT/00042", accepted=False, reason="Unknown SKU MUG-BLUE"),
            self.sim.post_status("WH/OUT/00042", "on_hold", reason="Invalid address"),
            self.sim.post_inventory("CHI", {"LIGHT-ROAST": 120, "MUG-BLUE": 0}),
            self.sim.receive_return(
                "WH/OUT/00042",
                [{"sku": "LIGHT-ROAST", "quantity": 1, "disposition": "damaged", "lot": "LR-1"}],
            ),
        ]
        self.assertEqual([r.status for r in results], [202] * 4)
        events = [r.json() for r in self.odoo.requests]
        self.assertEqual(
            [e["type"] for e in events],
            ["order.ack", "shipment.status", "inventory.snapshot", "return.received"],
        )
        for request, event in zip(self.odoo.requests, events, strict=True):
            self.assertTrue(signature_ok(request))
            Draft202012Validator(ENVELOPE_SCHEMA, format_checker=FORMAT_CHECKER).validate(event)
            assert_valid(self, event["type"], event["data"])
        self.assertEqual(events[0]["data"]["status"], "rejected")
        self.assertEqual(events[0]["data"]["reason"], "Unknown SKU MUG-BLUE")
        self.assertEqual(events[1]["data"]["reason"], "Invalid address")
        self.assertEqual(self.sim.orders["WH/OUT/00042"]["status"], "rejected")

    def test_idempotency_key(self):
        first = self.send_event("order.release", ORDER_RELEASE, key="same-key")
        again = self.send_event("order.release", ORDER_RELEASE, key="same-key")
        self.assertEqual(first.status_code, 202)
        self.assertEqual((again.status_code, again.json()), (202, first.json()))
        self.assertEqual(again.headers.get("Idempotent-Replayed"), "true")
        self.assertEqual(list(self.sim.orders), ["WH/OUT/00042"])
        # a new key for the same order is a real second release: refused
        other = self.send_event("order.release", ORDER_RELEASE, key="other-key")
        self.assertEqual(other.status_code, 409)
        self.assertIn("already received", other.json()["detail"])
        # the same key with another payload is a client bug
        changed = {**ORDER_RELEASE, "notes": "changed"}
        reused = self.send_event("order.release", changed, key="same-key")
        self.assertEqual(reused.status_code, 422)
        self.assertEqual(len(self.sim.orders), 1)

    def test_update_cancel_and_bad_events(self):
        self.send_event("order.release", ORDER_RELEASE)
        updated = {**ORDER_RELEASE, "lines": ORDER_RELEASE["lines"][:1]}
        self.assertEqual(self.send_event("order.update", updated).status_code, 202)
        self.assertEqual(len(self.sim.orders["WH/OUT/00042"]["lines"]), 1)
        cancel = {"order_ref": "WH/OUT/00042", "reason": "customer"}
        self.assertEqual(self.send_event("order.cancel", cancel).json()["status"], "cancelled")
        unknown = self.send_event("order.cancel", {"order_ref": "NOPE"})
        self.assertEqual(unknown.status_code, 404)
        event = cloudevent("order.release", ORDER_RELEASE)
        del event["specversion"]
        bad = self.send_event(None, None, event=event)
        self.assertEqual(bad.status_code, 400)
        self.assertIn("specversion", bad.json()["detail"])
        odd = self.send_event("order.invent", {"order_ref": "X"})
        self.assertEqual(odd.status_code, 400)
        empty = self.send_event("order.release", {**ORDER_RELEASE, "order_ref": "E", "lines": []})
        self.assertEqual(empty.status_code, 422)

    def test_fault_injection(self):
        self.sim.fail_next(503, times=2)
        answers = [
            self.send_event("order.release", ORDER_RELEASE, key="k").status_code for _ in range(3)
        ]
        self.assertEqual(answers, [503, 503, 202])
        self.assertEqual(len(self.sim.orders), 1)
        self.sim.fail_next(429, retry_after=1)
        throttled = self.send_event("order.cancel", {"order_ref": "WH/OUT/00042"})
        self.assertEqual(throttled.status_code, 429)
        self.assertEqual(throttled.headers["Retry-After"], "1")
        self.assertEqual(self.sim.orders["WH/OUT/00042"]["status"], "received")
        self.assertEqual(len(self.sim.requests), 4)

    def test_auto_mode(self):
        sim = self.make_sim(auto=True, ack_delay=0.05, ship_delay=0.05)
        answer = requests.post(
            sim.url("/events"), json=cloudevent("order.release", ORDER_RELEASE), timeout=5
        )
        self.assertEqual(answer.status_code, 202)
        received = self.odoo.wait_for(2)
        self.assertEqual([r.json()["type"] for r in received], ["order.ack", "shipment.confirmed"])
        self.assertTrue(all(signature_ok(r) for r in received))
        self.assertTrue(received[1].json()["data"]["complete"])
        wait_until(
            lambda: sim.orders["WH/OUT/00042"]["status"] == "shipped",
            what="the simulator to mark the order shipped",
        )

    def test_auto_mode_redelivers_unanswered_webhooks(self):
        sim = self.make_sim(auto=True, ack_delay=0.01, ship_delay=0.4, retry_base=0.05)
        self.odoo.server.cue(503)  # Odoo fails the first delivery
        requests.post(
            sim.url("/events"), json=cloudevent("order.release", ORDER_RELEASE), timeout=5
        )
        # Odoo records a request before it answers; the simulator records the delivery once
        # the answer is back: wait on the simulator's side, which comes last.
        wait_until(
            lambda: len(sim.deliveries) >= 3,
            what="the acknowledgement, its redelivery and the shipment to be answered",
        )
        received = self.odoo.requests
        self.assertEqual(len(received), 3)
        self.assertTrue(all(signature_ok(r) for r in received))
        # The refused acknowledgement comes first (due before the shipment); how its
        # redelivery and the shipment interleave depends on the machine's load.
        self.assertEqual(received[0].json()["type"], "order.ack")
        acks = [lower(r.headers) for r in received if r.json()["type"] == "order.ack"]
        self.assertEqual(len(acks), 2)
        self.assertEqual(acks[0]["webhook-id"], acks[1]["webhook-id"])
        statuses = {}
        for delivery in sim.deliveries:
            statuses.setdefault(delivery.kind, []).append(delivery.status)
        self.assertEqual(statuses, {"order.ack": [503, 202], "shipment.confirmed": [202]})

    def test_send_raw_and_redeliver(self):
        raw = self.sim.send_raw(b'{"broken": ', {"Content-Type": "application/json"})
        self.assertEqual(raw.status, 202)
        self.assertEqual(self.odoo.requests[-1].body, b'{"broken": ')
        self.assertNotIn("webhook-signature", lower(self.odoo.requests[-1].headers))

        stale = self.sim.post_inventory("CHI", {"A": 1}, timestamp=time.time() - 3600)
        request = self.odoo.requests[-1]
        self.assertTrue(signature_ok(request))  # correctly signed, but an hour old
        self.assertLess(int(lower(request.headers)["webhook-timestamp"]), time.time() - 3500)

        again = self.sim.redeliver(stale)
        self.assertEqual(again.msg_id, stale.msg_id)
        self.assertEqual(again.json["duplicate"], True)
        self.assertTrue(signature_ok(self.odoo.requests[-1]))
        self.assertEqual(len(self.sim.deliveries), 3)


@tagged("standard", "at_install")
class TestShipBobSimulator(SimulatorCase):
    style = "shipbob"
    api_token = TOKEN

    def create_order(self, data=ORDER_RELEASE, token=TOKEN):
        body = shipbob.order_release_to_request(data, {"UPS/Ground": "Standard"})
        return requests.post(self.sim.url("/order"), json=body, headers=self.auth(token), timeout=5)

    def test_auth_duplicate_and_validation(self):
        body = shipbob.order_release_to_request(ORDER_RELEASE)
        anonymous = requests.post(self.sim.url("/order"), json=body, timeout=5)
        self.assertEqual(anonymous.status_code, 401)
        self.assertEqual(shipbob.classify_error(401, anonymous.json())[0], "auth")
        self.assertEqual(self.create_order(token="wrong").status_code, 401)
        self.assertEqual(self.sim.orders, {})

        created = self.create_order()
        self.assertEqual(created.status_code, 201, created.text)
        parsed = shipbob.parse_order_response(created.json())
        self.assertEqual(parsed["status"], "accepted")
        self.assertEqual(
            parsed["external_order_id"], self.sim.orders["WH/OUT/00042"]["external_id"]
        )
        assert_valid(
            self, "order.ack", shipbob.order_ack_from_response("WH/OUT/00042", created.json())
        )

        duplicate = self.create_order()
        self.assertEqual(duplicate.status_code, 422)
        self.assertTrue(shipbob.is_duplicate_reference(422, duplicate.json()))
        category, reason = shipbob.classify_error(422, duplicate.json())
        self.assertEqual(category, "business")
        self.assertIn("WH/OUT/00042", reason)
        self.assertEqual(len(self.sim.orders), 1)

        broken = shipbob.order_release_to_request({**ORDER_RELEASE, "order_ref": "WH/OUT/00043"})
        broken["recipient"]["address"]["city"] = None
        broken["products"][0]["quantity"] = 0
        refused = requests.post(self.sim.url("/order"), json=broken, headers=self.auth(), timeout=5)
        self.assertEqual(refused.status_code, 400)
        category, reason = shipbob.classify_error(400, refused.json())
        self.assertEqual(category, "validation")
        self.assertIn("recipient.address.city", reason)
        self.assertIn("products[0].quantity", reason)

    def test_webhooks_map_to_canonical(self):
        self.create_order()
        with self.assertRaises(UnsupportedByStyle):
            self.sim.acknowledge("WH/OUT/00042")
        deliveries = [
            self.sim.ship(
                "WH/OUT/00042",
                quantities={"LIGHT-ROAST": 3},
                lots={
                    "LIGHT-ROAST": [
                        {"lot": "LR-1", "quantity": 2, "expiration_date": "2026-01-31"},
                        {"lot": "LR-2", "quantity": 1, "expiration_date": None},
                    ]
                },
            ),
            self.sim.ship("WH/OUT/00042"),
            self.sim.post_status("WH/OUT/00042", "in_transit"),
            self.sim.post_status("WH/OUT/00042", "delivered"),
            self.sim.post_status("WH/OUT/00042", "exception", reason="Damaged in transit"),
            self.sim.receive_return("WH/OUT/00042", {"MUG-BLUE": 1}),
        ]
        self.assertEqual([d.status for d in deliveries], [202] * 6)
        mapped = []
        for request in self.odoo.requests:
            self.assertTrue(signature_ok(request))
            topic = lower(request.headers)[shipbob.TOPIC_HEADER]
            self.assertEqual(
                shipbob.event_id(request.headers, request.body),
                lower(request.headers)["webhook-id"],
            )
            for message_type, data in shipbob.webhook_to_canonical(topic, request.body):
                assert_valid(self, message_type, data)
                mapped.append((topic, message_type, data))
        self.assertEqual(SHIPBOB_TOPIC_HEADER, shipbob.TOPIC_HEADER)
        self.assertEqual(
            [(t, m, d.get("status")) for t, m, d in mapped],
            [
                ("order.shipped", "shipment.confirmed", None),
                ("order.shipped", "shipment.confirmed", None),
                ("order.shipment.tracking.updated", "shipment.status", "in_transit"),
                ("order.shipment.delivered", "shipment.status", "delivered"),
                ("order.shipment.exception", "shipment.status", "exception"),
                ("return.completed", "return.received", None),
            ],
        )
        first = mapped[0][2]
        self.assertEqual(first["order_ref"], "WH/OUT/00042")
        self.assertEqual(
            first["lines"],
            [
                {
                    "line_ref": None,
                    "sku": "LIGHT-ROAST",
                    "quantity": 3,
                    "uom": None,
                    "lots": [
                        {"lot": "LR-1", "quantity": 2, "expiration_date": "2026-01-31"},
                        {"lot": "LR-2", "quantity": 1, "expiration_date": None},
                    ],
                }
            ],
        )
        self.assertTrue(first["tracking_ref"])
        self.assertEqual(first["carrier"]["code"], "UPS")
        self.assertEqual([ln["sku"] for ln in mapped[1][2]["lines"]], ["MUG-BLUE"])
        self.assertEqual(mapped[3][2]["tracking_ref"], mapped[1][2]["tracking_ref"])
        self.assertEqual(mapped[4][2]["reason"], "Damaged in transit")
        self.assertEqual(mapped[5][2]["lines"][0]["sku"], "MUG-BLUE")

    def test_polling_get_and_cancel(self):
        created = self.create_order().json()
        second = self.create_order({**ORDER_RELEASE, "order_ref": "WH/OUT/00043"}).json()
        params = shipbob.poll_shipped_orders_params(["WH/OUT/00042", "WH/OUT/00043"])
        listing = requests.get(
            self.sim.url("/2026-01/order"), params=params, headers=self.auth(), timeout=5
        )
        self.assertEqual((listing.status_code, listing.json()), (200, []))
        self.sim.ship("WH/OUT/00042")
        listing = requests.get(
            self.sim.url("/order"), params=params, headers=self.auth(), timeout=5
        )
        shipped = shipbob.poll_shipped_orders_to_canonical(listing.json())
        self.assertEqual([d["order_ref"] for d in shipped], ["WH/OUT/00042"])
        for data in shipped:
            assert_valid(self, "shipment.confirmed", data)

        fetched = requests.get(
            self.sim.url(f"/order/{created['id']}"), headers=self.auth(), timeout=5
        )
        self.assertEqual(fetched.json()["status"], "Fulfilled")
        missing = requests.get(self.sim.url("/order/999"), headers=self.auth(), timeout=5)
        self.assertEqual(missing.status_code, 404)

        method, path, _body = shipbob.order_cancel_request({"order_ref": "X"}, created["id"])
        late = requests.request(method, self.sim.url(path), headers=self.auth(), timeout=5)
        self.assertFalse(shipbob.parse_cancel_response(late.json())["cancelled"])
        method, path, _body = shipbob.order_cancel_request({"order_ref": "X"}, second["id"])
        ok = requests.request(method, self.sim.url(path), headers=self.auth(), timeout=5)
        self.assertTrue(shipbob.parse_cancel_response(ok.json())["cancelled"])
        self.assertEqual(self.sim.orders["WH/OUT/00043"]["status"], "cancelled")

    def test_fault_injection(self):
        self.sim.fail_next(503, times=2)
        self.assertEqual([self.create_order().status_code for _ in range(3)], [503, 503, 201])
        self.assertEqual(len(self.sim.orders), 1)
        self.sim.fail_next(429, retry_after=1)
        throttled = requests.get(self.sim.url("/order"), headers=self.auth(), timeout=5)
        self.assertEqual((throttled.status_code, throttled.headers["Retry-After"]), (429, "1"))
        self.assertEqual(shipbob.classify_error(429, throttled.json())[0], "technical")


@tagged("standard", "at_install")
class TestSimulatorCommandLine(BaseCase):
    def test_cli_runs_auto_mode_until_terminated(self):
        odoo = FakeOdoo()
        odoo.server.start()
        self.addCleanup(odoo.server.stop)
        tests_dir = os.path.dirname(os.path.dirname(logistics_simulators.__file__))
        path = os.pathsep.join(filter(None, [tests_dir, os.environ.get("PYTHONPATH")]))
        env = {**os.environ, "PYTHONPATH": path, "PYTHONUNBUFFERED": "1"}
        command = [
            sys.executable,
            "-m",
            "logistics_simulators.threepl",
            "--port",
            "0",
            "--webhook-url",
            odoo.server.url("/logistics/webhook/demo"),
            "--secret",
            SECRET,
            "--style",
            "generic",
            "--auto",
            "--ack-delay",
            "0",
            "--ship-delay",
            "0",
        ]
        process = subprocess.Popen(
            command,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
            env=env,
            cwd=tests_dir,
        )
        self.addCleanup(process.stdout.close)
        self.addCleanup(lambda: process.poll() is None and process.kill())
        output = []  # the simulator's log lines, as it prints them
        reader = threading.Thread(
            target=lambda: [output.append(line) for line in process.stdout], daemon=True
        )
        reader.start()

        first = wait_until(lambda: output and output[0], what="the simulator CLI to start")
        self.assertIn("listening on http://127.0.0.1:", first)
        base = first.split("listening on ")[1].split()[0]
        answer = requests.post(
            base + "/events", json=cloudevent("order.release", ORDER_RELEASE), timeout=5
        )
        self.assertEqual(answer.status_code, 202)
        received = odoo.wait_for(2)
        self.assertEqual([r.json()["type"] for r in received], ["order.ack", "shipment.confirmed"])
        self.assertTrue(all(signature_ok(r) for r in received))
        # the simulator logs a delivery once Odoo's answer is back, after Odoo received it
        wait_until(
            lambda: any("webhook shipment.confirmed -> 202" in line for line in output),
            what="the simulator to log Odoo's answer to the shipment",
        )
        process.terminate()
        self.assertEqual(process.wait(timeout=DEADLINE), 0)
        reader.join(timeout=DEADLINE)
        self.assertFalse(reader.is_alive(), "the simulator's output did not end")
        text = "".join(output)
        self.assertIn("order.release WH/OUT/00042 received", text)
        self.assertIn("webhook shipment.confirmed -> 202", text)
        self.assertIn("stopped", text)
