from odoo import fields, models


class LogisticsProductMapping(models.Model):
    """A partner's own SKU (and unit) for a product, when it does not use the default code."""

    _name = "logistics.product.mapping"
    _description = "3PL product mapping"
    _order = "backend_id, partner_sku"

    backend_id = fields.Many2one("logistics.backend", required=True, ondelete="cascade", index=True)
    product_id = fields.Many2one("product.product", required=True, ondelete="cascade", index=True)
    partner_sku = fields.Char(string="Partner SKU", required=True, index=True)
    partner_uom_id = fields.Many2one(
        "uom.uom",
        string="Partner unit",
        help="Unit the partner counts in; defaults to the product's",
    )
    partner_packaging_id = fields.Many2one(
        "product.packaging",
        string="Partner packaging",
        domain="[('product_id', '=', product_id)]",
        help="The partner counts this product in this packaging (a case of 12...): orders "
        "are sent as a number of packagings when they are a whole number of them, named by "
        "the packaging's X12 code (CA for a packaging named Case), and quantities the partner "
        "reports without a unit are packagings.",
    )
    company_id = fields.Many2one(related="backend_id.company_id", store=True)

    _sql_constraints = [
        ("sku_unique", "unique(backend_id, partner_sku)", "A partner SKU maps to one product."),
        ("product_unique", "unique(backend_id, product_id)", "A product has one partner SKU."),
    ]
