from odoo import fields, models


class StockWarehouse(models.Model):
    _inherit = "stock.warehouse"

    logistics_backend_id = fields.Many2one(
        "logistics.backend",
        string="3PL backend",
        domain=[("kind", "=", "3pl")],
        help="The 3PL that runs this warehouse: its deliveries are released to it, and its "
        "shipment confirmations, receipts, returns and stock counts update this warehouse.",
    )
