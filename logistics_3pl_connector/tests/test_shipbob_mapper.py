"""ShipBob mapper: realistic ShipBob JSON in, canonical payloads out (schema-validated)."""

import json
import re
from datetime import datetime
from pathlib import Path

from jsonschema import Draft202012Validator, FormatChecker

from odoo.tests import BaseCase, tagged

from ..mappers import shipbob

SCHEMA_DIR = Path(__file__).resolve().parent.parent / "schemas"
_RFC3339 = re.compile(r"^\d{4}-\d{2}-\d{2}[Tt]\d{2}:\d{2}:\d{2}(\.\d+)?([Zz]|[+-]\d{2}:\d{2})$")


def _format_checker():
    """FORMAT_CHECKER, plus a strict RFC 3339 date-time check when the optional
    ``rfc3339-validator`` package (which jsonschema uses for it) is not installed."""
    checker = FormatChecker(Draft202012Validator.FORMAT_CHECKER.checkers)
    if "date-time" not in checker.checkers:

        @checker.checks("date-time", raises=ValueError)
        def _date_time(value):
            if not isinstance(value, str):
                return True
            if not _RFC3339.match(value):
                return False
            datetime.fromisoformat(value.upper())
            return True

    return checker


FORMAT_CHECKER = _format_checker()


def validator(message_type):
    schema = json.loads((SCHEMA_DIR / f"{message_type}.v1.json").read_text())
    Draft202012Validator.check_schema(schema)
    return Draft202012Validator(schema, format_checker=FORMAT_CHECKER)


def assert_valid(test, message_type, data):
    errors = sorted(validator(message_type).iter_errors(data), key=lambda e: list(e.path))
    test.assertFalse(
        errors,
        f"{message_type} payload invalid: "
        + "; ".join(f"{'/'.join(map(str, e.path))}: {e.message}" for e in errors)
        + f"\n{json.dumps(data, indent=1)}",
    )


ORDER_RELEASE = {
    "order_ref": "WH/OUT/00042",
    "origin": "S00042",
    "warehouse_code": "CHI",
    "requested_date": "2025-03-14",
    "carrier": {"code": "UPS", "service": "Ground"},
    "ship_to": {
        "name": "John Doe",
        "company": "Wayne Enterprises",
        "street": "100 N Racine Ave",
        "street2": "Suite 100",
        "city": "Chicago",
        "state_code": "IL",
        "zip": "60607",
        "country_code": "US",
        "email": "johndoe@example.com",
        "phone": "555-555-5555",
    },
    "lines": [
        {
            "line_ref": "311",
            "sku": "LIGHT-ROAST",
            "name": "Light Roast Coffee",
            "quantity": 3,
            "uom": "Units",
            "lot_tracking": "lot",
        },
        {
            "line_ref": "312",
            "sku": "MUG-BLUE",
            "name": "Blue Mug",
            "quantity": 1.0,
            "uom": "Units",
            "lot_tracking": "none",
        },
    ],
    "notes": "Leave at the front desk",
}

# 201 answer of POST /order (abridged from the API reference's order model).
ORDER_RESPONSE = {
    "id": 1000023,
    "created_date": "2025-03-12T09:15:03.3214467+00:00",
    "purchase_date": None,
    "reference_id": "WH/OUT/00042",
    "order_number": "S00042",
    "status": "Processing",
    "type": "DTC",
    "channel": {"id": 100102, "name": "Odoo (API)"},
    "shipping_method": "Standard",
    "recipient": {
        "name": "John Doe",
        "address": {
            "address1": "100 N Racine Ave",
            "city": "Chicago",
            "country": "US",
            "zip_code": "60607",
        },
    },
    "products": [
        {
            "id": 5551,
            "reference_id": "LIGHT-ROAST",
            "quantity": 3,
            "sku": "LIGHT-ROAST",
            "external_line_id": 311,
            "unit_price": None,
        },
        {
            "id": 5552,
            "reference_id": "MUG-BLUE",
            "quantity": 1,
            "sku": "MUG-BLUE",
            "external_line_id": 312,
            "unit_price": None,
        },
    ],
    "tags": [],
    "shipments": [
        {
            "id": 2000311,
            "order_id": 1000023,
            "reference_id": "WH/OUT/00042",
            "status": "Processing",
            "tracking": None,
            "products": [],
        },
    ],
}

VALIDATION_400 = {
    "Recipient.Address.City": ["The City field is required."],
    "Products[1].Quantity": ["The field Quantity must be between 1 and 2147483647."],
}
DUPLICATE_422 = {
    "reference_id": ["Cannot insert order with existing ReferenceId WH/OUT/00042 for this channel."]
}

# order.shipped: the shipment, two products, the first picked from two lots.
ORDER_SHIPPED = {
    "id": 2000311,
    "order_id": 1000023,
    "reference_id": "WH/OUT/00042",
    "recipient": {"name": "John Doe"},
    "created_date": "2025-03-12T09:15:03.3214467+00:00",
    "last_update_at": "2025-03-13T16:02:11.1000000+00:00",
    "status": "Completed",
    "status_details": [],
    "location": {"id": 10, "name": "Cicero (IL)"},
    "ship_option": "Standard",
    "tracking": {
        "carrier": "UPS",
        "carrier_service": "Ground",
        "tracking_number": "1Z999AA10123456784",
        "tracking_url": "https://www.ups.com/track?tracknum=1Z999AA10123456784",
        "shipping_date": "2025-03-13T15:58:42.6470000",
    },
    "products": [
        {
            "id": 5551,
            "reference_id": "LIGHT-ROAST",
            "name": "Light Roast Coffee",
            "sku": "LIGHT-ROAST",
            "inventory_items": [
                {
                    "id": 9001,
                    "name": "Light Roast Coffee",
                    "quantity": 2,
                    "quantity_committed": 2,
                    "lot": "LR-2025-01",
                    "expiration_date": "2026-01-31T00:00:00",
                    "serial_numbers": [],
                },
                {
                    "id": 9001,
                    "name": "Light Roast Coffee",
                    "quantity": 1,
                    "quantity_committed": 1,
                    "lot": "LR-2025-02",
                    "expiration_date": "2026-02-28T00:00:00",
                    "serial_numbers": [],
                },
            ],
        },
        {
            "id": 5552,
            "reference_id": "MUG-BLUE",
            "name": "Blue Mug",
            "sku": "MUG-BLUE",
            "inventory_items": [
                {
                    "id": 9002,
                    "name": "Blue Mug",
                    "quantity": 1,
                    "quantity_committed": 1,
                    "lot": None,
                    "expiration_date": None,
                    "serial_numbers": [],
                },
            ],
        },
    ],
    "actual_fulfillment_date": "2025-03-13T15:58:42.647+00:00",
    "is_tracking_uploaded": False,
}

DELIVERED = {
    **ORDER_SHIPPED,
    "last_update_at": "2025-03-15T11:20:00+00:00",
    "delivery_date": "2025-03-15T11:19:30+00:00",
}
EXCEPTION = {
    **ORDER_SHIPPED,
    "status": "Exception",
    "tracking": None,
    "status_details": [
        {
            "id": 3,
            "name": "OutOfStock",
            "description": "Out of stock: MUG-BLUE",
            "inventory_id": 9002,
        },
    ],
    "last_update_at": "2025-03-13T08:00:00Z",
}
ON_HOLD = {
    **EXCEPTION,
    "status": "OnHold",
    "status_details": [{"id": 7, "name": "InvalidAddress", "description": "Invalid address"}],
}

RETURN_COMPLETED = {
    "id": 88123,
    "reference_id": "RMA-7781",
    "status": "Completed",
    "return_type": "Regular",
    "store_order_id": "WH/OUT/00042",
    "original_shipment_id": 2000311,
    "customer_name": "John Doe",
    "insert_date": "2025-03-20T10:00:00Z",
    "completed_date": "2025-03-22T14:30:00.12Z",
    "fulfillment_center": {"id": 10, "name": "Cicero (IL)"},
    "inventory": [
        {
            "id": 9001,
            "name": "Light Roast Coffee",
            "quantity": 2,
            "action_requested": {"action": "Restock", "action_type": "Default"},
            "action_taken": [
                {"action": "Restock", "action_reason": None, "quantity_processed": 1},
                {"action": "Dispose", "action_reason": "Bag torn", "quantity_processed": 1},
            ],
        },
    ],
}


@tagged("standard", "at_install")  # explicit, so the tests also run outside odoo.addons
class TestShipBobOutbound(BaseCase):
    def test_order_release_to_request(self):
        assert_valid(self, "order.release", ORDER_RELEASE)
        body = shipbob.order_release_to_request(
            ORDER_RELEASE,
            shipping_method_map={"UPS/Ground": "Standard", "DHL": "Express"},
            location_map={"CHI": 10},
        )
        self.assertEqual(
            body,
            {
                "reference_id": "WH/OUT/00042",
                "order_number": "S00042",
                "type": "DTC",
                "shipping_method": "Standard",
                "recipient": {
                    "name": "John Doe",
                    "address": {
                        "address1": "100 N Racine Ave",
                        "address2": "Suite 100",
                        "company_name": "Wayne Enterprises",
                        "city": "Chicago",
                        "state": "IL",
                        "country": "US",
                        "zip_code": "60607",
                    },
                    "email": "johndoe@example.com",
                    "phone_number": "555-555-5555",
                },
                "products": [
                    {
                        "reference_id": "LIGHT-ROAST",
                        "name": "Light Roast Coffee",
                        "quantity": 3,
                        "external_line_id": 311,
                    },
                    {
                        "reference_id": "MUG-BLUE",
                        "name": "Blue Mug",
                        "quantity": 1,
                        "external_line_id": 312,
                    },
                ],
                "location_id": 10,
                "tags": [
                    {"name": "warehouse", "value": "CHI"},
                    {"name": "requested_date", "value": "2025-03-14"},
                    {"name": "notes", "value": "Leave at the front desk"},
                ],
            },
        )
        json.dumps(body)  # JSON-serialisable as is

    def test_shipping_method_fallbacks(self):
        data = {**ORDER_RELEASE, "carrier": {"code": "DHL", "service": None}}
        body = shipbob.order_release_to_request(data, {"DHL": "Express"})
        self.assertEqual(body["shipping_method"], "Express")
        body = shipbob.order_release_to_request({**ORDER_RELEASE, "carrier": None})
        self.assertEqual(body["shipping_method"], "Standard")
        self.assertNotIn("location_id", body)
        body = shipbob.order_release_to_request(ORDER_RELEASE)
        self.assertEqual(body["shipping_method"], "Ground")

    def test_fractional_quantity_is_refused_readably(self):
        data = json.loads(json.dumps(ORDER_RELEASE))
        data["lines"][1]["quantity"] = 1.5
        with self.assertRaisesRegex(shipbob.MappingError, r"whole units.*MUG-BLUE.*1\.5"):
            shipbob.order_release_to_request(data)

    def test_parse_order_response(self):
        parsed = shipbob.parse_order_response(ORDER_RESPONSE)
        self.assertEqual(
            parsed,
            {
                "external_order_id": "1000023",
                "status": "accepted",
                "partner_status": "Processing",
                "shipment_ids": ["2000311"],
            },
        )
        ack = shipbob.order_ack_from_response("WH/OUT/00042", ORDER_RESPONSE)
        assert_valid(self, "order.ack", ack)
        self.assertEqual(ack["external_order_id"], "1000023")
        with self.assertRaisesRegex(shipbob.MappingError, "no order id"):
            shipbob.parse_order_response({"status": "Processing"})

    def test_classify_validation_error(self):
        category, reason = shipbob.classify_error(400, VALIDATION_400)
        self.assertEqual(category, "validation")
        self.assertIn("Recipient.Address.City: The City field is required.", reason)
        self.assertIn("Products[1].Quantity: The field Quantity must be between", reason)

    def test_classify_duplicate_reference(self):
        self.assertTrue(shipbob.is_duplicate_reference(422, DUPLICATE_422))
        category, reason = shipbob.classify_error(422, DUPLICATE_422)
        self.assertEqual(category, "business")
        self.assertIn("already has an order with this reference", reason)
        self.assertIn("existing ReferenceId WH/OUT/00042", reason)
        self.assertFalse(shipbob.is_duplicate_reference(400, VALIDATION_400))

    def test_classify_other_errors(self):
        self.assertEqual(shipbob.classify_error(401, None)[0], "auth")
        self.assertIn("Personal Access Token", shipbob.classify_error(401, None)[1])
        self.assertEqual(shipbob.classify_error(403, {"message": "Forbidden"})[0], "auth")
        self.assertEqual(shipbob.classify_error(404, {"message": "Not found"})[0], "business")
        self.assertEqual(shipbob.classify_error(429, None)[0], "technical")
        self.assertEqual(shipbob.classify_error(503, "<html>down</html>")[0], "technical")
        # 2026-style problem body with an errors list
        category, reason = shipbob.classify_error(
            400,
            {
                "message": "Validation failed",
                "errors": [{"field": "products[0].quantity", "message": "must be > 0"}],
            },
        )
        self.assertEqual(category, "validation")
        self.assertIn("Validation failed", reason)
        self.assertIn("products[0].quantity: must be > 0", reason)

    def test_cancel(self):
        method, path, body = shipbob.order_cancel_request({"order_ref": "X"}, "1000023")
        self.assertEqual((method, path, body), ("POST", "/order/1000023:cancel", None))
        with self.assertRaisesRegex(shipbob.MappingError, "never acknowledged"):
            shipbob.order_cancel_request({"order_ref": "X"}, None)
        ok = {
            "canceled_shipment_results": [
                {"action": "Cancel", "is_success": True, "reason": None, "shipment_id": 2000311}
            ]
        }
        self.assertEqual(shipbob.parse_cancel_response(ok), {"cancelled": True, "reason": None})
        refused = {
            "canceled_shipment_results": [
                {
                    "action": "Cancel",
                    "is_success": False,
                    "reason": "Already shipped",
                    "shipment_id": 2000311,
                }
            ]
        }
        result = shipbob.parse_cancel_response(refused)
        self.assertFalse(result["cancelled"])
        self.assertIn("shipment 2000311: Already shipped", result["reason"])


@tagged("standard", "at_install")
class TestShipBobWebhooks(BaseCase):
    def test_topic_header(self):
        self.assertEqual(shipbob.TOPIC_HEADER, "x-webhook-topic")
        self.assertEqual(
            shipbob.topic_from_headers({"X-Webhook-Topic": "order.shipped"}), "order.shipped"
        )
        self.assertEqual(
            shipbob.topic_from_headers({"shipbob-topic": "shipment_onhold"}),
            "order.shipment.on_hold",
        )
        self.assertIsNone(shipbob.topic_from_headers({}))

    def test_order_shipped(self):
        result = shipbob.webhook_to_canonical("order.shipped", json.dumps(ORDER_SHIPPED).encode())
        self.assertEqual(len(result), 1)
        message_type, data = result[0]
        self.assertEqual(message_type, "shipment.confirmed")
        assert_valid(self, "shipment.confirmed", data)
        self.assertEqual(
            data,
            {
                "order_ref": "WH/OUT/00042",
                "shipment_ref": "2000311",
                "shipped_at": "2025-03-13T15:58:42.647Z",
                "carrier": {"code": "UPS", "service": "Ground"},
                "tracking_ref": "1Z999AA10123456784",
                "complete": None,
                "lines": [
                    {
                        "line_ref": None,
                        "sku": "LIGHT-ROAST",
                        "quantity": 3,
                        "uom": None,
                        "lots": [
                            {"lot": "LR-2025-01", "quantity": 2, "expiration_date": "2026-01-31"},
                            {"lot": "LR-2025-02", "quantity": 1, "expiration_date": "2026-02-28"},
                        ],
                    },
                    {"line_ref": None, "sku": "MUG-BLUE", "quantity": 1, "uom": None},
                ],
            },
        )

    def test_legacy_order_with_shipments(self):
        shipment = {k: v for k, v in ORDER_SHIPPED.items() if k != "reference_id"}
        order = {**ORDER_RESPONSE, "status": "Fulfilled", "shipments": [shipment]}
        result = shipbob.webhook_to_canonical("order_shipped", order)
        self.assertEqual([t for t, _ in result], ["shipment.confirmed"])
        self.assertEqual(result[0][1]["order_ref"], "WH/OUT/00042")  # from the order
        assert_valid(self, "shipment.confirmed", result[0][1])

    def test_shipment_status_topics(self):
        cases = [
            ("order.shipment.delivered", DELIVERED, "delivered", None, "2025-03-15T11:19:30Z"),
            (
                "order.shipment.exception",
                EXCEPTION,
                "exception",
                "Out of stock: MUG-BLUE",
                "2025-03-13T08:00:00Z",
            ),
            ("order.shipment.on_hold", ON_HOLD, "on_hold", "Invalid address", None),
            (
                "order.shipment.cancelled",
                {**EXCEPTION, "status": "Cancelled", "status_details": []},
                "cancelled",
                None,
                None,
            ),
        ]
        for topic, body, status, reason, occurred_at in cases:
            with self.subTest(topic=topic):
                [(message_type, data)] = shipbob.webhook_to_canonical(topic, body)
                self.assertEqual(message_type, "shipment.status")
                assert_valid(self, "shipment.status", data)
                self.assertEqual(data["status"], status)
                self.assertEqual(data["order_ref"], "WH/OUT/00042")
                self.assertEqual(data["shipment_ref"], "2000311")
                if reason:
                    self.assertEqual(data["reason"], reason)
                if occurred_at:
                    self.assertEqual(data["occurred_at"], occurred_at)
        [(_, delivered)] = shipbob.webhook_to_canonical("order.shipment.delivered", DELIVERED)
        self.assertEqual(delivered["tracking_ref"], "1Z999AA10123456784")

    def test_tracking_updated(self):
        body = {
            "event_time": "2025-10-23T15:55:09.3614767Z",
            "order_id": 1000023,
            "reference_id": "WH/OUT/00042",
            "status": "InTransit",
            "tracking": {"carrier": "USPS", "tracking_id": "9261290306529427911297"},
        }
        [(message_type, data)] = shipbob.webhook_to_canonical(
            "order.shipment.tracking.updated", body
        )
        self.assertEqual(message_type, "shipment.status")
        assert_valid(self, "shipment.status", data)
        self.assertEqual(data["status"], "in_transit")
        self.assertEqual(data["occurred_at"], "2025-10-23T15:55:09.361476Z")
        self.assertEqual(data["tracking_ref"], "9261290306529427911297")
        with self.assertRaises(shipbob.IgnoredEvent):
            shipbob.webhook_to_canonical(
                "order.shipment.tracking.updated", {**body, "status": "LabelCreated"}
            )

    def test_return_completed(self):
        inventory = {9001: "LIGHT-ROAST"}
        [(message_type, data)] = shipbob.webhook_to_canonical(
            "return.completed", RETURN_COMPLETED, inventory_sku_map=inventory
        )
        self.assertEqual(message_type, "return.received")
        assert_valid(self, "return.received", data)
        self.assertEqual(data["order_ref"], "WH/OUT/00042")
        self.assertEqual(data["return_ref"], "RMA-7781")
        self.assertEqual(data["received_at"], "2025-03-22T14:30:00.12Z")
        self.assertEqual(
            [(ln["sku"], ln["quantity"], ln["disposition"], ln["reason"]) for ln in data["lines"]],
            [("LIGHT-ROAST", 1, "restock", None), ("LIGHT-ROAST", 1, "scrap", "Bag torn")],
        )
        with self.assertRaisesRegex(shipbob.MappingError, "inventory item 9001.*no known SKU"):
            shipbob.webhook_to_canonical("return.completed", RETURN_COMPLETED)
        orphan = {**RETURN_COMPLETED, "store_order_id": None}
        with self.assertRaisesRegex(shipbob.MappingError, "no original order reference"):
            shipbob.webhook_to_canonical("return.completed", orphan, inventory)

    def test_ignored_topics(self):
        for topic in (
            "return.created",
            "return.updated",
            "wro.completed",
            "order.shipment.address.updated",
            "billing.charge.created",
        ):
            with self.subTest(topic=topic), self.assertRaises(shipbob.IgnoredEvent) as caught:
                shipbob.webhook_to_canonical(topic, {"id": 1})
            self.assertTrue(caught.exception.reason)
            self.assertIn(topic, str(caught.exception))

    def test_bad_input(self):
        with self.assertRaisesRegex(shipbob.MappingError, "Unknown ShipBob webhook topic 'x.y'"):
            shipbob.webhook_to_canonical("x.y", ORDER_SHIPPED)
        with self.assertRaisesRegex(shipbob.MappingError, "no topic"):
            shipbob.webhook_to_canonical("", ORDER_SHIPPED)
        with self.assertRaisesRegex(shipbob.MappingError, "not JSON"):
            shipbob.webhook_to_canonical("order.shipped", b"<xml/>")
        no_ref = {k: v for k, v in ORDER_SHIPPED.items() if k != "reference_id"}
        with self.assertRaisesRegex(shipbob.MappingError, "no order reference_id"):
            shipbob.webhook_to_canonical("order.shipped", no_ref)
        with self.assertRaisesRegex(shipbob.MappingError, "lists no products"):
            shipbob.webhook_to_canonical("order.shipped", {**ORDER_SHIPPED, "products": []})
        bad_date = {
            **ORDER_SHIPPED,
            "tracking": {**ORDER_SHIPPED["tracking"], "shipping_date": "yesterday"},
        }
        with self.assertRaisesRegex(shipbob.MappingError, "unreadable shipping date"):
            shipbob.webhook_to_canonical("order.shipped", bad_date)

    def test_event_id(self):
        body = json.dumps(ORDER_SHIPPED).encode()
        self.assertEqual(shipbob.event_id({"Webhook-Id": "msg_2abc"}, body), "msg_2abc")
        first = shipbob.event_id({"x-webhook-topic": "order.shipped"}, body)
        self.assertEqual(first, shipbob.event_id({"x-webhook-topic": "order.shipped"}, body))
        self.assertTrue(first.startswith("shipbob-"))
        self.assertNotEqual(first, shipbob.event_id({"x-webhook-topic": "order.shipped"}, b"{}"))

    def test_polling(self):
        self.assertEqual(
            shipbob.poll_shipped_orders_params(["A", "B"]),
            {"HasTracking": "true", "Limit": "250", "Page": "1", "ReferenceIds": "A,B"},
        )
        processing = {
            "id": 2000400,
            "reference_id": "WH/OUT/00050",
            "status": "Processing",
            "tracking": None,
            "products": [],
        }
        cancelled = {**ORDER_SHIPPED, "id": 2000401, "status": "Cancelled"}
        listing = [
            {**ORDER_RESPONSE, "status": "Fulfilled", "shipments": [ORDER_SHIPPED, cancelled]},
            {
                **ORDER_RESPONSE,
                "id": 1000050,
                "reference_id": "WH/OUT/00050",
                "shipments": [processing],
            },
        ]
        results = shipbob.poll_shipped_orders_to_canonical(listing)
        self.assertEqual([r["shipment_ref"] for r in results], ["2000311"])
        for data in results:
            assert_valid(self, "shipment.confirmed", data)

    def test_schema_checks_are_not_vacuous(self):
        """The helper really rejects bad payloads (format checks included)."""
        bad = {"order_ref": "X", "status": "delivered", "occurred_at": "yesterday"}
        self.assertTrue(list(validator("shipment.status").iter_errors(bad)))
        bad = {"order_ref": "X", "status": "lost"}
        self.assertTrue(list(validator("shipment.status").iter_errors(bad)))
        good = {"order_ref": "X", "status": "on_hold", "occurred_at": "2025-01-01T00:00:00Z"}
        assert_valid(self, "shipment.status", good)
