from odoo import fields, models


class LogisticsCustomsOverride(models.TransientModel):
    _name = "logistics.customs.override"
    _description = "Let goods move before customs release"

    declaration_id = fields.Many2one("logistics.customs.declaration", required=True)
    reason = fields.Text(required=True)

    def action_confirm(self):
        self.ensure_one()
        self.declaration_id._logistics_override(self.reason)
        return {"type": "ir.actions.act_window_close"}
