from odoo import fields, models


class LogisticsBackend(models.Model):
    _inherit = "logistics.backend"

    customs_declarant_id = fields.Many2one(
        "res.partner",
        string="Declarant",
        help="The customs broker as declarations name it (name, address, EORI).",
    )
    customs_declaration_ids = fields.One2many(
        "logistics.customs.declaration", "backend_id", string="Customs declarations"
    )
