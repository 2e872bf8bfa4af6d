from odoo import api, fields, models


class LogisticsShipment(models.Model):
    """A shipment confirmation applied to a delivery: makes confirmations idempotent (the
    same shipment reported twice, by webhook and by file, changes nothing the second time)."""

    _name = "logistics.shipment"
    _description = "3PL shipment applied to a transfer"
    _order = "id desc"

    backend_id = fields.Many2one(
        "logistics.backend", required=True, ondelete="cascade", index=True, string="3PL"
    )
    picking_id = fields.Many2one(
        "stock.picking", required=True, ondelete="cascade", index=True, string="Transfer"
    )
    backorder_id = fields.Many2one("stock.picking", string="Backorder created")
    shipment_ref = fields.Char(required=True, index=True, string="Shipment reference")
    tracking_ref = fields.Char(string="Tracking number")
    carrier_code = fields.Char(string="Carrier")
    shipped_at = fields.Datetime(string="Shipped on")
    message_id = fields.Many2one(
        "logistics.message", ondelete="set null", string="Shipment message"
    )
    company_id = fields.Many2one(related="picking_id.company_id", store=True)

    @api.depends("shipment_ref", "picking_id.name")
    def _compute_display_name(self):
        for shipment in self:
            shipment.display_name = self.env._(
                "Shipment %(ref)s of %(delivery)s",
                ref=shipment.shipment_ref,
                delivery=shipment.picking_id.name,
            )

    _sql_constraints = [
        (
            "shipment_unique",
            "unique(backend_id, shipment_ref)",
            "This shipment was already applied.",
        ),
    ]
