"""Storage: a daily snapshot of what each customer owns in a 3PL warehouse; the month billed
per unit, pallet or m³ per day, with a monthly minimum, once."""

from datetime import date

from odoo.exceptions import ValidationError
from odoo.tests import TransactionCase

from odoo.addons.logistics_3pl_connector.tests.common import ThreePLFixture

from .common import BillingMixin


class TestStorageBilling(BillingMixin, ThreePLFixture, TransactionCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.setup_3pl()
        cls.setup_billing()
        Partner = cls.env["res.partner"]
        cls.acme = Partner.create({"name": "Acme Retail", "is_company": True})
        cls.bolt = Partner.create({"name": "Bolt Stores", "is_company": True})
        cls.storage_fee = cls.env["product.product"].create(
            {"name": "Storage", "default_code": "SRV-STORAGE", "type": "service"}
        )
        cls.chair.write({"logistics_units_per_pallet": 20, "volume": 0.25})
        cls.desk.write({"logistics_units_per_pallet": 4, "volume": 1.2})
        cls.rule(
            "Storage per unit-day (Acme)",
            "storage",
            cls.storage_fee,
            "per_unit_day",
            0.02,
            partner_id=cls.acme.id,
            monthly_minimum=25.0,
        )
        cls.rule(
            "Storage per pallet-day",
            "storage",
            cls.storage_fee,
            "per_pallet_day",
            0.5,
        )
        cls.Snapshot = cls.env["logistics.storage.snapshot"]

    def own(self, product, qty, owner):
        self.env["stock.quant"]._update_available_quantity(
            product, self.stock_location, qty, owner_id=owner
        )

    def test_a_month_of_snapshots_is_billed_once_with_the_minimum(self):
        self.own(self.chair, 30, self.acme)  # 2 pallets, 7.5 m3
        self.own(self.desk, 5, self.bolt)  # 2 pallets, 6 m3
        for day in (1, 2, 3):
            self.Snapshot._cron_snapshot(day=date(2026, 10, day))
        self.own(self.desk, 4, self.bolt)  # 9 desks: 3 pallets
        for day in (4, 5):
            self.Snapshot._cron_snapshot(day=date(2026, 10, day))
        self.assertEqual(self.Snapshot._cron_snapshot(day=date(2026, 10, 5)), 0, "once a day")
        acme_days = self.Snapshot.search([("owner_id", "=", self.acme.id)])
        self.assertEqual(len(acme_days), 5)
        self.assertEqual(set(acme_days.mapped("units")), {30.0})
        self.assertEqual(set(acme_days.mapped("pallets")), {2})
        self.assertAlmostEqual(acme_days[0].volume_m3, 7.5)
        bolt_days = self.Snapshot.search([("owner_id", "=", self.bolt.id)], order="date")
        self.assertEqual(bolt_days.mapped("pallets"), [2, 2, 2, 3, 3])
        self.assertFalse(self.events(milestone="storage"), "October is not over")

        self.Snapshot._cron_snapshot(day=date(2026, 11, 1))
        [acme] = self.events(milestone="storage", partner_id=self.acme.id)
        # 5 days x 30 units = 150 unit-days x 0.02 = 3.00, below the 25.00 minimum
        self.assertEqual((acme.quantity, acme.price_unit, acme.amount), (1.0, 25.0, 25.0))
        self.assertIn(
            f"monthly minimum (150.0 at 0.02 {acme.currency_id.name} come to less)",
            acme.description,
        )
        self.assertIn("storage in 3PL East, 2026-10 (5 days recorded)", acme.description)
        [bolt] = self.events(milestone="storage", partner_id=self.bolt.id)
        self.assertEqual((bolt.quantity, bolt.price_unit), (12.0, 0.5), "12 pallet-days")
        self.assertEqual(bolt.amount, 6.0)
        self.assertEqual(bolt.backend_id, self.backend)

        # the cron runs again the next days: October is billed once
        self.Snapshot._cron_snapshot(day=date(2026, 11, 2))
        self.assertEqual(len(self.events(milestone="storage")), 2)

        move = (acme | bolt)._logistics_invoice().filtered(lambda m: m.partner_id == self.bolt)
        self.assertEqual(move.invoice_line_ids.product_id, self.storage_fee)
        self.assertAlmostEqual(move.amount_untaxed, 6.0)
        # the billing system is told of storage like of any milestone
        move.action_post()
        [posted] = self.sent_to_billing("invoice.posted")
        self.assertEqual(posted["data"]["events"][0]["milestone"], "storage")

    def test_own_stock_is_not_billed_and_storage_rules_price_per_day(self):
        self.own(self.chair, 10, None)
        self.Snapshot._cron_snapshot(day=date(2026, 10, 1))
        self.assertFalse(self.Snapshot.search([]))
        with self.assertRaisesRegex(ValidationError, "per unit, pallet or m³ per day"):
            self.rule("Storage flat", "storage", self.storage_fee, "fixed", 100.0)
        with self.assertRaisesRegex(ValidationError, "per unit, pallet or m³ per day"):
            self.rule("Per unit-day delivery", "delivered", self.storage_fee, "per_unit_day", 1.0)
