from odoo import api, fields, models
from odoo.exceptions import ValidationError


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

    @api.depends("partner_sku", "product_id.display_name", "backend_id.name")
    def _compute_display_name(self):
        for mapping in self:
            mapping.display_name = self.env._(
                "%(product)s as %(sku)s at %(partner)s",
                product=mapping.product_id.display_name,
                sku=mapping.partner_sku,
                partner=mapping.backend_id.name,
            )

    _sql_constraints = [
        ("sku_unique", "unique(backend_id, partner_sku)", "A partner SKU maps to one product."),
        ("product_unique", "unique(backend_id, product_id)", "A product has one partner SKU."),
    ]

    def write(self, vals):
        result = super().write(vals)
        if "backend_id" in vals:
            # Odoo checks record rules before a write only: a mapping moved to a backend of a
            # company the user does not work for is refused as its creation would be
            self.check_access("write")
        return result

    @api.constrains("product_id", "partner_uom_id", "partner_packaging_id", "backend_id")
    def _check_partner_unit(self):
        """The partner's unit and packaging are the product's: quantities are converted with
        them, so another product's case or a unit of another category would count wrong."""
        for mapping in self:
            product, uom = mapping.product_id, mapping.partner_uom_id
            packaging = mapping.sudo().partner_packaging_id
            words = {
                "sku": mapping.partner_sku,
                "backend": mapping.backend_id.name,
                "product": product.display_name,
            }
            if uom and uom.category_id != product.uom_id.category_id:
                raise ValidationError(
                    self.env._(
                        "Product mapping %(sku)s of %(backend)s: %(product)s is counted in "
                        "%(category)s, so the partner's unit cannot be %(uom)s. Choose a unit "
                        "of that category, or a packaging for a case or pallet.",
                        category=product.uom_id.category_id.name,
                        uom=uom.name,
                        **words,
                    )
                )
            if packaging and packaging.product_id != product:
                raise ValidationError(
                    self.env._(
                        "Product mapping %(sku)s of %(backend)s: packaging %(packaging)s is one "
                        "of %(other)s, not of %(product)s. Choose a packaging of %(product)s.",
                        packaging=packaging.name,
                        other=packaging.product_id.display_name,
                        **words,
                    )
                )
            if packaging.company_id and packaging.company_id != mapping.backend_id.company_id:
                raise ValidationError(
                    self.env._(
                        "Product mapping %(sku)s of %(backend)s: packaging %(packaging)s of "
                        "%(product)s belongs to another company. Choose one of the backend's "
                        "company or one shared by every company.",
                        packaging=packaging.name,
                        **words,
                    )
                )
