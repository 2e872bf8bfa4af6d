from odoo import fields, models


class SaleOrder(models.Model):
    _inherit = "sale.order"

    logistics_carrier_choice = fields.Char(
        string="Carrier chosen by the rate shop",
        readonly=True,
        copy=False,
        help="The carrier backend, carrier and service a rate-shop delivery method chose when "
        "the order was rated; its delivery is booked with them.",
    )
