from odoo import fields, models


class StockPickingType(models.Model):
    _inherit = "stock.picking.type"

    logistics_backend_id = fields.Many2one(
        "logistics.backend",
        string="3PL backend",
        domain=[("kind", "=", "3pl")],
        help="Overrides the warehouse's 3PL for this operation type (leave empty to use it).",
    )
