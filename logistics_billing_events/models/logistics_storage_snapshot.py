"""What customers store in 3PL warehouses, day by day, billed by the month.

A daily cron records, per 3PL warehouse and owner of the goods (the customer whose stock it
is: ``owner_id`` on the quants, Odoo's consignment), the units, pallets and cubic metres on
hand. Once a month is over, its snapshots become one *storage* milestone per warehouse and
owner, measured in unit-days, pallet-days and m³-days; the rules price them per day, with a
monthly minimum. Stock the company owns itself is not billed to anyone.
"""

import math
from collections import defaultdict
from datetime import date, timedelta

from odoo import api, fields, models


class LogisticsStorageSnapshot(models.Model):
    _name = "logistics.storage.snapshot"
    _description = "Stock stored for a customer in a 3PL warehouse on a day"
    _order = "date desc, id desc"

    date = fields.Date(required=True, readonly=True, index=True)
    warehouse_id = fields.Many2one("stock.warehouse", required=True, readonly=True, index=True)
    backend_id = fields.Many2one("logistics.backend", string="3PL", readonly=True)
    owner_id = fields.Many2one("res.partner", string="Customer", required=True, readonly=True)
    company_id = fields.Many2one("res.company", required=True, readonly=True, index=True)
    units = fields.Float(readonly=True, digits="Product Unit of Measure")
    pallets = fields.Integer(readonly=True)
    volume_m3 = fields.Float(string="Volume (m³)", readonly=True, digits=(16, 3))

    _sql_constraints = [
        (
            "day_unique",
            "unique(date, warehouse_id, owner_id)",
            "One snapshot per warehouse, customer and day.",
        ),
    ]

    @api.depends("owner_id.name", "warehouse_id.name", "date")
    def _compute_display_name(self):
        for snapshot in self:
            snapshot.display_name = self.env._(
                "Stock of %(customer)s at %(warehouse)s on %(date)s",
                customer=snapshot.owner_id.name,
                warehouse=snapshot.warehouse_id.name,
                date=snapshot.date,
            )

    @api.model
    def _cron_snapshot(self, day=None):
        """Cron (daily): today's stock of every customer in every 3PL warehouse; then the
        months that ended become storage milestones."""
        day = day or fields.Date.context_today(self)
        created = self._logistics_take(day)
        self._logistics_bill_months(day)
        return len(created)

    @api.model
    def _logistics_take(self, day):
        warehouses = (
            self.env["stock.warehouse"].sudo().search([("logistics_backend_id", "!=", False)])
        )
        Quant = self.env["stock.quant"].sudo()
        created = self.browse()
        for warehouse in warehouses:
            quants = Quant.search(
                [
                    ("location_id", "child_of", warehouse.view_location_id.id),
                    ("location_id.usage", "=", "internal"),
                    ("owner_id", "!=", False),
                    ("quantity", ">", 0),
                ]
            )
            per_owner = defaultdict(lambda: defaultdict(float))
            for quant in quants:
                per_owner[quant.owner_id.commercial_partner_id][quant.product_id] += quant.quantity
            for owner, products in per_owner.items():
                if self.search_count(
                    [
                        ("date", "=", day),
                        ("warehouse_id", "=", warehouse.id),
                        ("owner_id", "=", owner.id),
                    ]
                ):
                    continue
                created |= self.sudo().create(
                    {
                        "date": day,
                        "warehouse_id": warehouse.id,
                        "backend_id": warehouse.logistics_backend_id.id,
                        "owner_id": owner.id,
                        "company_id": warehouse.company_id.id,
                        "units": sum(products.values()),
                        "pallets": sum(
                            math.ceil(qty / product.logistics_units_per_pallet)
                            for product, qty in products.items()
                            if product.logistics_units_per_pallet
                        ),
                        "volume_m3": sum(
                            qty * (product.volume or 0.0) for product, qty in products.items()
                        ),
                    }
                )
        return created

    @api.model
    def _logistics_bill_months(self, day):
        """Every month before ``day``'s whose snapshots were not billed yet becomes one
        storage milestone per warehouse and customer (the milestone's identity makes a
        second run change nothing)."""
        first_of_month = date(day.year, day.month, 1)
        Event = self.env["logistics.billing.event"]
        groups = defaultdict(lambda: self.browse())
        for snapshot in self.sudo().search([("date", "<", first_of_month)]):
            month = snapshot.date.strftime("%Y-%m")
            groups[(snapshot.warehouse_id, snapshot.owner_id, month)] |= snapshot
        events = Event
        for (warehouse, owner, month), snapshots in groups.items():
            key = f"storage:stock.warehouse:{warehouse.id}:{owner.id}:{month}"
            last_day = max(snapshots.mapped("date"))
            events |= Event._logistics_record_milestone(
                "storage",
                key,
                warehouse.company_id,
                owner,
                {
                    "unit_days": sum(snapshots.mapped("units")),
                    "pallet_days": sum(snapshots.mapped("pallets")),
                    "m3_days": sum(snapshots.mapped("volume_m3")),
                },
                fields.Datetime.to_datetime(last_day + timedelta(hours=23)),
                backend=warehouse.logistics_backend_id,
                description=self.env._(
                    "storage in %(warehouse)s, %(month)s (%(days)s days recorded)",
                    warehouse=warehouse.name,
                    month=month,
                    days=len(snapshots),
                ),
            )
        return events
