from odoo import api, fields, models


class LogisticsCustomsTerritory(models.Model):
    """A customs territory: countries between which goods move without a customs
    declaration (the EU customs union by default). A country in no territory is a territory
    of its own; a move between two territories crosses a customs border."""

    _name = "logistics.customs.territory"
    _description = "Customs territory"
    _order = "name"

    name = fields.Char(required=True, translate=True)
    code = fields.Char(required=True, help="Short code, e.g. EU")
    active = fields.Boolean(default=True)
    country_ids = fields.Many2many(
        "res.country",
        "logistics_customs_territory_country_rel",
        "territory_id",
        "country_id",
        string="Countries",
    )

    _sql_constraints = [("code_unique", "unique(code)", "A territory code is used once.")]

    @api.model
    def _of_country(self, country):
        """The territory ``country`` belongs to, as a key: the territory's code, or the
        country's own code when it belongs to none."""
        if not country:
            return None
        territory = self.search([("country_ids", "in", country.id)], limit=1)
        return territory.code if territory else country.code

    @api.model
    def _crosses_border(self, country_from, country_to):
        """Whether goods moving from ``country_from`` to ``country_to`` cross a customs
        border (both countries known and in different territories)."""
        if not country_from or not country_to:
            return False
        return self._of_country(country_from) != self._of_country(country_to)
