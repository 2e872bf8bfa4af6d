from odoo import fields, models


class StockPicking(models.Model):
    _inherit = "stock.picking"

    logistics_parcel_ids = fields.One2many(
        "logistics.carrier.parcel", "picking_id", string="Booked parcels"
    )
