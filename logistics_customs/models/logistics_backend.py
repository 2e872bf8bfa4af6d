from odoo import fields, models

AWAITING = ("submitted", "accepted", "documents_required", "inspection")


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
    customs_release_sla_hours = fields.Integer(
        string="Release expected within (hours)",
        default=24,
        help="A declaration not released this long after it was first sent is late: it "
        "shows on the dashboard.",
    )

    # dashboard tiles (also metrics gauges) ------------------------------------------------
    tile_customs_late = fields.Integer(
        compute="_compute_tile_fields", string="Declarations awaiting release past their SLA"
    )
    tile_customs_holds = fields.Integer(
        compute="_compute_tile_fields", string="Declarations held by customs"
    )
    tile_customs_rejected = fields.Integer(
        compute="_compute_tile_fields", string="Declarations rejected"
    )

    def _logistics_business_tiles(self):
        now = fields.Datetime.to_string(fields.Datetime.now())
        model = "logistics.customs.declaration"
        return super()._logistics_business_tiles() + [
            {
                "key": "customs_late",
                "label": self.env._("Declarations awaiting release past their SLA"),
                "model": model,
                "domain": [("state", "in", AWAITING), ("release_due_at", "<", now)],
                "backend_field": "backend_id",
            },
            {
                "key": "customs_holds",
                "label": self.env._("Declarations held by customs"),
                "model": model,
                "domain": [("state", "in", ("documents_required", "inspection"))],
                "backend_field": "backend_id",
            },
            {
                "key": "customs_rejected",
                "label": self.env._("Declarations rejected"),
                "model": model,
                "domain": [("state", "=", "rejected")],
                "backend_field": "backend_id",
            },
        ]
