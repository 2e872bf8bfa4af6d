import re

from odoo import api, fields, models
from odoo.exceptions import ValidationError

HS_CODE = re.compile(r"^\d{6}(\d{2}){0,2}$")


def normalize_hs_code(code):
    """'8516.60.90' or '8516 60 90' -> '85166090'."""
    return re.sub(r"[\s.]", "", code or "")


def check_hs_code(env, code, what):
    if code and not HS_CODE.match(normalize_hs_code(code)):
        raise ValidationError(
            env._(
                "%(code)s is not an HS code (%(what)s): 6 digits, or 8 or 10 with the national "
                "extension (dots and spaces allowed).",
                code=code,
                what=what,
            )
        )


class ProductCategory(models.Model):
    _inherit = "product.category"

    logistics_hs_code = fields.Char(
        string="Default HS code",
        help="Used in customs declarations for products of this category that have no HS "
        "code of their own.",
    )

    @api.constrains("logistics_hs_code")
    def _check_logistics_hs_code(self):
        for categ in self:
            check_hs_code(self.env, categ.logistics_hs_code, categ.display_name)
        # national codes of products taking their HS code from these categories
        self.env["product.template"].search(
            [
                ("categ_id", "child_of", self.ids),
                ("hs_code", "in", (False, "")),
                ("logistics_tariff_ids", "!=", False),
            ]
        ).logistics_tariff_ids._check_code()


class ProductTemplate(models.Model):
    _inherit = "product.template"

    logistics_customs_description = fields.Char(
        string="Customs description",
        help="How customs know the goods (e.g. 'Electric kettles, stainless steel'); the "
        "product name when empty.",
    )
    logistics_net_weight = fields.Float(
        string="Net weight",
        digits="Stock Weight",
        help="Weight of the goods without packaging, when it differs from the weight.",
    )
    logistics_tariff_ids = fields.One2many(
        "logistics.customs.tariff",
        "product_tmpl_id",
        string="National codes",
        help="The product's commodity code in the tariff of a country or customs territory, "
        "where it extends the HS code. An export declaration uses the code of the country "
        "of dispatch, an import declaration the code of the country of destination.",
    )

    @api.constrains("hs_code")
    def _check_logistics_hs_code(self):
        for template in self:
            check_hs_code(self.env, template.hs_code, template.display_name)
        # national codes extend the HS code: they must still do so
        self.logistics_tariff_ids._check_code()

    def _logistics_hs_code(self):
        """The product's HS code, or its category's default (digits only)."""
        self.ensure_one()
        categ = self.categ_id
        while categ and not categ.logistics_hs_code:
            categ = categ.parent_id
        return normalize_hs_code(self.hs_code or categ.logistics_hs_code) or False

    def _logistics_tariff(self, country):
        """The product's national code for a declaration lodged in ``country``: the
        country's own, else its customs territory's (an empty record when neither)."""
        self.ensure_one()
        tariffs = self.logistics_tariff_ids
        if not country or not tariffs:
            return tariffs.browse()
        return (
            tariffs.filtered(lambda t: t.country_id == country)
            or tariffs.filtered(
                lambda t: t.territory_id.active and country in t.territory_id.country_ids
            )
        )[:1]
