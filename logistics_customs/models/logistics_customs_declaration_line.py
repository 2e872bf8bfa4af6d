from odoo import api, fields, models


class LogisticsCustomsDeclarationLine(models.Model):
    """Goods of one commodity code and origin on a declaration. A user edits them while the
    declaration is a draft or rejected; afterwards they are what the broker received, and
    change only when Amend rebuilds them."""

    _name = "logistics.customs.declaration.line"
    _description = "Customs declaration line"
    _order = "declaration_id, sequence, id"

    declaration_id = fields.Many2one(
        "logistics.customs.declaration", required=True, ondelete="cascade", index=True
    )
    sequence = fields.Integer(string="Item", default=1)
    hs_code = fields.Char(
        string="HS code",
        help="The product's national code in the tariff of the country where the declaration "
        "is lodged (export: dispatch, import: destination) when it has one, else its HS code.",
    )
    origin_country_id = fields.Many2one("res.country", string="Origin")
    description = fields.Char()
    product_ids = fields.Many2many("product.product", string="Products")
    quantity = fields.Float(digits="Product Unit of Measure")
    net_weight = fields.Float(string="Net weight (kg)", digits="Stock Weight")
    gross_weight = fields.Float(string="Gross weight (kg)", digits="Stock Weight")
    value = fields.Monetary(currency_field="currency_id")
    currency_id = fields.Many2one(related="declaration_id.currency_id")
    company_id = fields.Many2one(related="declaration_id.company_id", store=True, index=True)

    @api.depends("declaration_id.name", "sequence", "description", "hs_code")
    def _compute_display_name(self):
        for line in self:
            line.display_name = self.env._(
                "%(declaration)s item %(item)s: %(goods)s",
                declaration=line.declaration_id.name,
                item=line.sequence,
                goods=line.description or line.hs_code or "",
            )

    @api.model_create_multi
    def create(self, vals_list):
        lines = super().create(vals_list)
        if not self.env.su:
            lines.declaration_id._logistics_check_goods_editable()
        return lines

    def write(self, vals):
        if not self.env.su:
            self.declaration_id._logistics_check_goods_editable()
        result = super().write(vals)
        if not self.env.su and "declaration_id" in vals:
            self.declaration_id._logistics_check_goods_editable()
        return result

    def unlink(self):
        if not self.env.su:
            self.declaration_id._logistics_check_goods_editable()
        return super().unlink()
