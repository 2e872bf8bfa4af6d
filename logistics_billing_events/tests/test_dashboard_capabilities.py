"""The dashboard's tiles follow what a backend does: a backend that only brings a carrier's
invoices shows the invoice tiles, not the parcel, order or milestone tiles of a carrier."""

from lxml import etree

from odoo import fields
from odoo.tests import TransactionCase

from odoo.addons.logistics_integration_base.tests.common import (
    LogisticsCaseMixin,
    LogisticsTransactionCase,
)
from odoo.addons.logistics_integration_base.tests.test_dashboard import action_records

from .common import BillingMixin


class TestDashboardCapabilities(LogisticsTransactionCase):
    def tiles_shown_for(self, capability):
        """The tile keys the dashboard card shows under ``capability``."""
        arch = etree.fromstring(self.env["logistics.backend"].get_view(view_type="kanban")["arch"])
        keys = set()
        for block in arch.xpath("//div[@name='business_tiles']/t"):
            if f"includes('{capability}')" in block.get("t-if", ""):
                for link in block.xpath(".//a[@name='action_open_business_tile']"):
                    keys.add(link.get("context").split("'")[3])
        return keys

    def test_tiles_appear_on_the_backends_whose_capability_they_describe(self):
        carrier = self._make_backend(name="Parcel carrier", kind="carrier")
        vendor = self.env["res.partner"].create({"name": "Parcel carrier Inc."})
        feed = self._make_backend(
            name="Parcel carrier invoices",
            kind="carrier",
            freight_partner_backend_id=carrier.id,
            freight_vendor_id=vendor.id,
        )
        threepl = self._make_backend(name="Warehouse partner", kind="3pl")
        broker = self._make_backend(name="Broker", kind="customs")
        billing = self._make_backend(name="Billing system", kind="billing")
        caps = {
            backend: set((backend.dashboard_capabilities or "").split())
            for backend in (carrier, feed, threepl, broker, billing)
        }
        self.assertEqual(caps[carrier], {"parcels", "milestones"})
        self.assertEqual(caps[feed], {"freight_invoices"}, "an invoice feed: no parcel tiles")
        self.assertEqual(caps[threepl], {"fulfilment", "milestones"})
        self.assertEqual(caps[broker], {"customs"})
        self.assertEqual(caps[billing], set())

        self.assertEqual(
            self.tiles_shown_for("parcels"), {"never_scanned", "tracking_exceptions", "silent"}
        )
        self.assertEqual(
            self.tiles_shown_for("milestones"),
            {"billing_to_approve", "billing_unbilled", "billing_cycle_days"},
        )
        self.assertEqual(
            self.tiles_shown_for("freight_invoices"), {"freight_to_review", "freight_variance"}
        )
        tiles = etree.fromstring(
            self.env["logistics.backend"].get_view(view_type="kanban")["arch"]
        ).xpath("//div[@name='business_tiles']")[0]
        self.assertNotIn("kind.raw_value", etree.tostring(tiles).decode(), "by capability")


class TestBillingTiles(BillingMixin, LogisticsCaseMixin, TransactionCase):
    """The billing tiles open, through the search view's filters, the events they count."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.setup_billing()
        cls.rule("Pick & pack per order", "shipped", cls.pick_order, "fixed", 2.0)
        cls.rule("Receiving per line", "received", cls.receiving, "fixed", 1.0)
        cls.rule(
            "Pick & pack per unit",
            "shipped",
            cls.pick_unit,
            "per_unit",
            0.35,
            requires_approval=True,
        )
        cls.threepl = cls._make_backend(name="Warehouse partner", kind="3pl")
        cls.acme = cls.env["res.partner"].create({"name": "Acme Retail", "is_company": True})

    def milestone(self, milestone, key):
        return self.env["logistics.billing.event"]._logistics_record_milestone(
            milestone,
            f"{milestone}:test:{key}",
            self.env.company,
            self.acme,
            {"units": 3, "lines": 1},
            fields.Datetime.now(),
            backend=self.threepl,
            description=f"{milestone} {key}",
        )

    def test_billing_tiles_open_the_events_they_count(self):
        shipped = self.milestone("shipped", "S1")
        received = self.milestone("received", "R1")
        self.assertEqual(len(shipped), 2, "one event per rule")
        self.assertEqual(set(shipped.mapped("state")), {"approved", "to_approve"})
        self.assertEqual(received.state, "approved")
        backend = self.threepl
        backend.invalidate_recordset()
        self.assertEqual((backend.tile_billing_to_approve, backend.tile_billing_unbilled), (1, 2))
        for key, expected in (
            ("billing_to_approve", shipped.filtered(lambda e: e.state == "to_approve")),
            ("billing_unbilled", shipped),  # not the receipt: received, not delivered
        ):
            action = backend.with_context(logistics_tile=key).action_open_business_tile()
            self.assertFalse(action["domain"], "its conditions are filters the user sees")
            self.assertIn("search_default_backend_id", action["context"])
            self.assertEqual(action_records(self.env, action), expected, key)
