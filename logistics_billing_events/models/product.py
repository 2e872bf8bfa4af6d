from odoo import fields, models


class ProductProduct(models.Model):
    _inherit = "product.product"

    logistics_units_per_pallet = fields.Integer(
        related="product_tmpl_id.logistics_units_per_pallet", readonly=False
    )


class ProductTemplate(models.Model):
    _inherit = "product.template"

    logistics_units_per_pallet = fields.Integer(
        string="Units per pallet",
        help="Storage billed per pallet counts the pallets a customer's stock of this product "
        "fills (rounded up).",
    )
