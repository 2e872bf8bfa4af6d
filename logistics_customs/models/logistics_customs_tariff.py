from odoo import api, fields, models
from odoo.exceptions import ValidationError

from .product import normalize_hs_code


class LogisticsCustomsTariff(models.Model):
    """A product's national commodity code in the tariff of one country, or of a customs
    territory (the EU's Combined Nomenclature applies in all its member states): the 6
    digits of the HS code and the national extension, 8 or 10 digits in all.

    Which tariff a declaration follows is the country where it is lodged:

    - an **export** declaration is lodged in the country of dispatch and classifies the
      goods in its export nomenclature (from Germany: the EU's CN, 8 digits);
    - an **import** declaration is lodged in the country of destination and classifies them
      in its import tariff (into the United States: the HTS, 10 digits).

    A code for the country itself comes before one for its customs territory; without
    either, the declaration gives the product's HS code. Tariffs are the same for every
    company: they belong to the product, like its HS code."""

    _name = "logistics.customs.tariff"
    _description = "National commodity code of a product"
    _order = "product_tmpl_id, country_id, territory_id, id"
    _rec_name = "code"

    product_tmpl_id = fields.Many2one(
        "product.template", string="Product", required=True, ondelete="cascade", index=True
    )
    country_id = fields.Many2one("res.country", help="The country whose tariff this code is in.")
    territory_id = fields.Many2one(
        "logistics.customs.territory",
        string="Customs territory",
        help="A customs territory sharing one tariff (e.g. the EU's Combined Nomenclature), "
        "instead of a single country.",
    )
    code = fields.Char(
        string="National code",
        required=True,
        help="The product's HS code (its first 6 digits) and the national extension: 8 or 10 "
        "digits, dots and spaces allowed (e.g. 8516.10.80 in the EU's CN).",
    )
    description = fields.Char(
        help="How this tariff describes the goods; when set, declarations under this tariff "
        "use it instead of the product's customs description.",
    )

    _sql_constraints = [
        (
            "country_unique",
            "unique(product_tmpl_id, country_id)",
            "A product has one national code per country.",
        ),
        (
            "territory_unique",
            "unique(product_tmpl_id, territory_id)",
            "A product has one national code per customs territory.",
        ),
    ]

    def _logistics_code(self):
        """The national code, digits only."""
        self.ensure_one()
        return normalize_hs_code(self.code)

    def _where(self):
        """The country or territory of the tariff, as a person names it."""
        self.ensure_one()
        return self.country_id.name or self.territory_id.name or self.env._("no country")

    @api.constrains("code", "country_id", "territory_id", "product_tmpl_id")
    def _check_code(self):
        for tariff in self:
            product = tariff.product_tmpl_id.display_name
            if bool(tariff.country_id) == bool(tariff.territory_id):
                raise ValidationError(
                    self.env._(
                        "The national code %(code)s of %(product)s applies in one country or "
                        "one customs territory: choose either, not both.",
                        code=tariff.code,
                        product=product,
                    )
                )
            code = normalize_hs_code(tariff.code)
            if not (code.isdigit() and len(code) in (8, 10)):
                raise ValidationError(
                    self.env._(
                        "%(code)s is not a national commodity code (%(product)s, "
                        "%(where)s): 8 or 10 digits, the HS code's 6 then the national "
                        "extension (dots and spaces allowed).",
                        code=tariff.code,
                        product=product,
                        where=tariff._where(),
                    )
                )
            hs_code = tariff.product_tmpl_id._logistics_hs_code()
            if not hs_code:
                raise ValidationError(
                    self.env._(
                        "%(product)s has no HS code: set it (or a default on its category) "
                        "before its national code for %(where)s.",
                        product=product,
                        where=tariff._where(),
                    )
                )
            if code[:6] != hs_code[:6]:
                raise ValidationError(
                    self.env._(
                        "The national code %(code)s for %(where)s does not extend the HS code "
                        "of %(product)s: it must start with %(hs)s.",
                        code=tariff.code,
                        where=tariff._where(),
                        product=product,
                        hs=hs_code[:6],
                    )
                )
