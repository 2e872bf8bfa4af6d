from odoo import fields, models


class LogisticsExampleParcel(models.Model):
    _name = "logistics.example.parcel"
    _description = "Parcel of the example partner"

    name = fields.Char(string="Parcel reference", required=True)
    backend_id = fields.Many2one("logistics.backend", required=True, ondelete="cascade")
    status = fields.Selection(
        [
            ("booked", "Booked"),
            ("in_transit", "In transit"),
            ("delivered", "Delivered"),
            ("exception", "Exception"),
        ],
        default="booked",
    )
    company_id = fields.Many2one(related="backend_id.company_id", store=True)
