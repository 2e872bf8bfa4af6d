from odoo import fields, models


class ResPartner(models.Model):
    _inherit = "res.partner"

    logistics_billing_grouping = fields.Selection(
        [("event", "One line per milestone"), ("product", "One line per service and price")],
        string="Logistics invoice lines",
        default="event",
        help="How billing events are laid out on this customer's invoices.",
    )
