import re

from odoo import api, fields, models
from odoo.exceptions import ValidationError

EORI = re.compile(r"^[A-Z]{2}[A-Za-z0-9]{1,15}$")


class ResPartner(models.Model):
    _inherit = "res.partner"

    logistics_eori = fields.Char(
        string="EORI number",
        help="Economic Operators Registration and Identification number: the country code "
        "then up to 15 letters or digits, e.g. DE123456789012345.",
    )

    @api.constrains("logistics_eori")
    def _check_logistics_eori(self):
        for partner in self.filtered("logistics_eori"):
            if not EORI.match(partner.logistics_eori):
                raise ValidationError(
                    self.env._(
                        "%(eori)s is not an EORI number (%(partner)s): it starts with a country "
                        "code in capitals (DE, FR...) followed by up to 15 letters or digits, "
                        "without spaces.",
                        eori=partner.logistics_eori,
                        partner=partner.display_name,
                    )
                )

    def _logistics_customs_party(self):
        """The party as a customs declaration names it."""
        self.ensure_one()
        partner = self.commercial_partner_id
        return {
            "name": partner.name,
            "eori": partner.logistics_eori or None,
            "street": self.street or partner.street or None,
            "city": self.city or partner.city or None,
            "zip": self.zip or partner.zip or None,
            "country_code": (self.country_id or partner.country_id).code,
        }


class ResCompany(models.Model):
    _inherit = "res.company"

    logistics_eori = fields.Char(
        related="partner_id.logistics_eori", readonly=False, string="EORI number"
    )
