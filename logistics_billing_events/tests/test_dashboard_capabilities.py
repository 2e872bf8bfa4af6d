"""The dashboard's tiles follow what a backend does: a backend that only brings a carrier's
invoices shows the invoice tiles, not the parcel, order or milestone tiles of a carrier."""

from lxml import etree

from odoo.addons.logistics_integration_base.tests.common import LogisticsTransactionCase


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
