"""Every field the EasyPost adapter reads exists in what EasyPost recorded, and the project's
simulator serves only fields EasyPost has, with EasyPost's types (amounts as strings).

The adapter's readers run over each recorded object wrapped in a dict that notes every key
asked for (``[...]`` or ``.get``): a key asked for that the recording lacks is a field
EasyPost does not send (the adapter would silently read ``None``)."""

import json

import requests
from conformance import read_bytes
from logistics_simulators.easypost import EasyPostSimulator

from odoo.tests import BaseCase, tagged

from odoo.addons.logistics_carrier_connector.adapters import easypost as ep

from .easypost_recordings import responses

API_KEY = "EZTK_fields"


class Reads(dict):
    """A JSON object noting every key read from it, under the object's path."""

    def __init__(self, data, path, log):
        super().__init__(data)
        self.path, self.log = path, log

    def _wrap(self, key, value):
        return wrap(value, f"{self.path}.{key}", self.log)

    def __getitem__(self, key):
        self.log.add((self.path, key, key in self))
        return self._wrap(key, super().__getitem__(key))

    def get(self, key, default=None):
        self.log.add((self.path, key, key in self))
        return self._wrap(key, super().get(key, default))


def wrap(value, path, log):
    if isinstance(value, dict):
        return Reads(value, path, log)
    if isinstance(value, list):
        return [wrap(v, f"{path}[]", log) for v in value]
    return value


def recorded():
    """The recorded objects the adapter reads, by kind."""
    create = responses("test_shipment_create.yaml", "POST", "/v2/shipments")
    _created, bought, converted = responses("test_shipment_convert_label.yaml")
    [listed] = responses("test_shipment_all.yaml")
    [_created, refunded] = responses("test_shipment_refund.yaml")
    [_created, with_forms] = responses("test_shipment_generate_form.yaml")
    [refunds] = responses("TestRefundAll.yaml")
    [error] = responses("test_error.yaml")
    trackers = responses("test_tracker_retrieve.yaml")
    event = json.loads(read_bytes("easypost", "fixtures", "event-body.json"))
    return {
        "created": create,
        "bought": [bought, converted, refunded],
        "listed": listed["shipments"],
        "with_forms": [with_forms],
        "refunds": refunds["refunds"],
        "errors": [error],
        "trackers": trackers + [event["result"]],
        "events": [event],
    }


def read_by_adapter(objects, log):
    """Run the adapter's readers over ``objects`` (recorded or simulated)."""
    for shipment in objects["created"]:
        ep.rates_from_partner(wrap(shipment, "Shipment", log))
    service = {"carrier": "USPS", "code": "GroundAdvantage"}
    for shipment in objects["bought"]:
        bought = wrap(shipment, "Shipment", log)
        ep.booked_from_partner(bought)
        for fmt in ("PDF", "ZPL"):
            ep.label_url(bought["postage_label"], fmt)
        ep.void_from_partner(shipment["id"], bought)
        body = ep.shipment_request(
            {
                "reference": "WH/OUT/1",
                "ship_from": ADDRESS,
                "ship_to": ADDRESS,
            },
            {"ref": "P1", "weight_kg": 1.0},
        )
        ep.same_request(bought, body, service)
    for shipment in objects["listed"]:
        ep.still_bought(wrap(shipment, "Shipment", log), shipment.get("reference"))
    for shipment in objects["with_forms"]:
        ep.forms_from_partner(wrap(shipment, "Shipment", log))
    for refund in objects["refunds"]:
        ep.refund_from_partner(wrap(refund, "Refund", log))
    for error in objects["errors"]:
        ep.error_reasons(wrap(error, "Error", log))
    for tracker in objects["trackers"]:
        ep.tracking_from_partner(wrap(tracker, "Tracker", log))
    for event in objects["events"]:
        event = wrap(event, "Event", log)
        event.get("id"), event.get("description"), event.get("result")


ADDRESS = {
    "name": "Jack Sparrow",
    "street": "388 Townsend St",
    "city": "San Francisco",
    "zip": "94107",
    "country_code": "US",
}


@tagged("post_install", "-at_install")
class TestFieldsReadExistInRecordings(BaseCase):
    def test_every_field_read_exists_in_the_recorded_responses(self):
        log = set()
        read_by_adapter(recorded(), log)
        missing = sorted({(path, key) for path, key, present in log if not present})
        self.assertEqual(missing, [], "fields the adapter reads that EasyPost never sent")
        read = {(path, key) for path, key, _present in log}
        # the walk reached what matters: amounts, labels, refunds, tracking, errors
        for expected in [
            ("Shipment.rates[]", "rate"),
            ("Shipment.selected_rate", "rate"),
            ("Shipment.postage_label", "label_zpl_url"),
            ("Shipment", "refund_status"),
            ("Shipment.forms[]", "form_url"),
            ("Refund", "status"),
            ("Tracker.tracking_details[]", "datetime"),
            ("Error.error.errors[]", "field"),
        ]:
            self.assertIn(expected, read)

    def test_amounts_are_strings_in_the_recordings(self):
        objects = recorded()
        for shipment in objects["created"] + objects["bought"]:
            for rate in shipment["rates"]:
                self.assertIsInstance(rate["rate"], str)
        for shipment in objects["bought"]:
            self.assertIsInstance(shipment["selected_rate"]["rate"], str)
            for fee in shipment["fees"]:
                self.assertIsInstance(fee["amount"], str)


JSON_TYPES = {str: "string", int: "number", float: "number", bool: "boolean"}
#: fields the connector sends that EasyPost echoes (documented shipment options), absent
#: from the recordings only because the clients' tests did not send them
ECHOED = {"options.label_format"}


def shape(value, path="", out=None):
    """``{path: JSON type}`` of every field of a JSON value (lists merged)."""
    out = {} if out is None else out
    if path and isinstance(value, dict | list):
        out.setdefault(path, set()).add("object" if isinstance(value, dict) else "array")
    if isinstance(value, dict):
        for key, item in value.items():
            shape(item, f"{path}.{key}" if path else key, out)
    elif isinstance(value, list):
        for item in value:
            shape(item, f"{path}[]", out)
    elif value is not None:
        out.setdefault(path, set()).add(JSON_TYPES.get(type(value), type(value).__name__))
    else:
        out.setdefault(path, set())
    return out


@tagged("post_install", "-at_install")
class TestSimulatorMatchesRecordings(BaseCase):
    """The simulator's shipment, rate, purchase, refund and tracker answers have the fields
    and types of EasyPost's recorded ones: no field EasyPost does not send, no number where
    EasyPost sends a string."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.sim = EasyPostSimulator(api_key=API_KEY).start()
        cls.addClassCleanup(cls.sim.stop)

    def api(self, method, path, **kw):
        answer = requests.request(
            method, self.sim.url(f"/v2/{path}"), auth=(API_KEY, ""), timeout=10, **kw
        )
        self.assertLess(answer.status_code, 300, answer.text)
        return answer.json()

    def simulated(self):
        address = {
            "name": "Jack Sparrow",
            "street1": "388 Townsend St",
            "city": "San Francisco",
            "zip": "94107",
            "country": "US",
        }
        body = {
            "shipment": {
                "reference": "WH/OUT/1/P1/key",
                "to_address": address,
                "from_address": dict(address, name="Elizabeth Swan"),
                "parcel": {"weight": 15.4},
            }
        }
        created = self.api("POST", "shipments", json=body)
        rate = next(r for r in created["rates"] if r["service"] == "GroundAdvantage")
        bought = self.api(
            "POST", f"shipments/{created['id']}/buy", json={"rate": {"id": rate["id"]}}
        )
        converted = self.api(
            "GET", f"shipments/{created['id']}/label", params={"file_format": "ZPL"}
        )
        refunded = self.api("POST", f"shipments/{created['id']}/refund", json={})
        listed = self.api("GET", "shipments", params={"page_size": 5})
        refunds = self.api("GET", "refunds", params={"page_size": 5})
        news = self.sim.advance(
            bought["tracking_code"], "in_transit", "2026-11-30T08:00:00Z", city="Newark"
        )
        tracker = self.api("GET", f"trackers/{bought['tracker']['id']}")
        refund_event = self.sim.settle_refund(created["id"], "refunded")
        return {
            "created": [created],
            "bought": [bought, converted, refunded],
            "listed": listed["shipments"],
            "with_forms": [],
            "refunds": refunds["refunds"],
            "errors": [],
            "trackers": [tracker],
            "events": [news, refund_event],
        }

    def test_the_simulator_answers_with_recorded_fields_and_types(self):
        sim, real = self.simulated(), recorded()
        real["events"].append(
            {"id": "evt", "description": "refund.successful", "result": real["refunds"][0]}
        )
        for kind in ("created", "bought", "listed", "refunds", "trackers", "events"):
            simulated_shape, recorded_shape = {}, {}
            for item in sim[kind]:
                shape(item, out=simulated_shape)
            for item in real[kind]:
                shape(item, out=recorded_shape)
            self.assertTrue(simulated_shape and recorded_shape, kind)
            for path, types in simulated_shape.items():
                if path in ECHOED:
                    continue
                with self.subTest(kind=kind, field=path):
                    self.assertIn(path, recorded_shape, "a field EasyPost does not send")
                    if types and recorded_shape[path]:
                        self.assertLessEqual(
                            types,
                            recorded_shape[path],
                            f"{path}: {types} where EasyPost sends {recorded_shape[path]}",
                        )

    def test_what_the_adapter_reads_is_served_by_the_simulator(self):
        log = set()
        read_by_adapter(self.simulated(), log)
        missing = sorted({(path, key) for path, key, present in log if not present})
        # the simulator's trackers and shipments may leave out what the recordings have,
        # never what the adapter reads
        self.assertEqual(missing, [])
