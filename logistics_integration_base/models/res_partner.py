from odoo import models


class ResPartner(models.Model):
    _inherit = "res.partner"

    def _logistics_address(self):
        """The canonical address of a contact, as every partner payload carries it (the
        ``address`` shape of the suite's schemas; personal fields marked there)."""
        self.ensure_one()
        commercial = self.commercial_partner_id
        return {
            "name": self.name or commercial.name or "",
            "company": commercial.name if commercial != self and commercial.is_company else None,
            "street": self.street or "",
            "street2": self.street2 or None,
            "city": self.city or "",
            "state_code": self.state_id.code or None,
            "zip": self.zip or "",
            "country_code": self.country_id.code or "",
            "email": self.email or None,
            "phone": self.phone or self.mobile or None,
        }
