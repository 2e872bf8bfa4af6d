"""Converters between the 3PL's schema versions (plain Python): each way, each result
valid against the schema of the version it claims."""

import os

from odoo.tests import BaseCase, tagged

from odoo.addons.logistics_integration_base.exceptions import PayloadInvalid
from odoo.addons.logistics_integration_base.tools.canonical import SchemaRegistry
from odoo.addons.logistics_integration_base.tools.versions import convert

from .. import converters  # noqa: F401  (registers the converters)

SCHEMAS = os.path.join(os.path.dirname(__file__), "..", "schemas")

RELEASE_V2 = {
    "order_ref": "WH/OUT/00042",
    "origin": "S00042",
    "warehouse_code": "CHI",
    "requested_date": "2026-12-14",
    "priority": "urgent",
    "carrier": {"code": "UPS", "service": "Ground"},
    "ship_to": {
        "name": "Jane Buyer",
        "street": "1 Main St",
        "city": "Springfield",
        "zip": "12345",
        "country_code": "US",
    },
    "lines": [{"line_ref": "1", "sku": "CHAIR-1", "quantity": 2, "uom": "Units"}],
    "notes": None,
}


@tagged("post_install", "-at_install")
class TestReleaseAndAckConverters(BaseCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.schemas = SchemaRegistry([SCHEMAS])

    def test_release_down_to_v1_and_back(self):
        self.schemas.validate("order.release", RELEASE_V2, version=2)
        v1 = convert("order.release", RELEASE_V2, 2, 1)
        self.assertNotIn("priority", v1)
        self.schemas.validate("order.release", v1, version=1)
        self.assertEqual(
            {k: v for k, v in RELEASE_V2.items() if k != "priority"}, v1, "nothing else changes"
        )
        self.assertEqual(RELEASE_V2["priority"], "urgent", "the caller's payload is untouched")
        up = convert("order.release", v1, 1, 2)
        self.schemas.validate("order.release", up, version=2)
        self.assertEqual(up, dict(RELEASE_V2, priority="normal"), "a v1 order is a normal one")

    def test_v1_release_is_not_v2(self):
        v1 = convert("order.release", RELEASE_V2, 2, 1)
        with self.assertRaises(PayloadInvalid) as caught:
            self.schemas.validate("order.release", v1, version=2)
        self.assertIn("priority", str(caught.exception))

    def test_ack_up_to_v2_and_back(self):
        rejected_v1 = {
            "order_ref": "WH/OUT/00042",
            "status": "rejected",
            "reason": "SKU CHAIR-1 is unknown",
            "external_order_id": None,
        }
        self.schemas.validate("order.ack", rejected_v1, version=1)
        v2 = convert("order.ack", rejected_v1, 1, 2)
        self.schemas.validate("order.ack", v2, version=2)
        self.assertEqual(
            v2["reasons"], [{"code": None, "line_ref": None, "text": "SKU CHAIR-1 is unknown"}]
        )
        self.assertNotIn("reason", v2)
        self.assertEqual(convert("order.ack", v2, 2, 1), rejected_v1)

        accepted_v1 = {"order_ref": "A", "status": "accepted", "reason": None}
        v2 = convert("order.ack", accepted_v1, 1, 2)
        self.assertEqual(v2, {"order_ref": "A", "status": "accepted"})
        self.schemas.validate("order.ack", v2, version=2)
        self.assertEqual(convert("order.ack", v2, 2, 1), accepted_v1)

    def test_ack_down_joins_the_reasons(self):
        v2 = {
            "order_ref": "WH/OUT/00042",
            "status": "rejected",
            "reasons": [
                {"code": "SKU", "line_ref": "2", "text": "unknown SKU"},
                {"text": "the address has no street number"},
            ],
        }
        self.schemas.validate("order.ack", v2, version=2)
        v1 = convert("order.ack", v2, 2, 1)
        self.schemas.validate("order.ack", v1, version=1)
        self.assertEqual(v1["reason"], "2: unknown SKU; the address has no street number")
