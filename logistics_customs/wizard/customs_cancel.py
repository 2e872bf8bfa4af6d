from odoo import fields, models


class LogisticsCustomsCancel(models.TransientModel):
    _name = "logistics.customs.cancel"
    _description = "Cancel a customs declaration at the broker"

    declaration_id = fields.Many2one(
        "logistics.customs.declaration", string="Customs declaration", required=True
    )
    reason = fields.Text(string="Reason for cancelling", required=True)

    def action_confirm(self):
        self.ensure_one()
        self.declaration_id._logistics_cancel_at_broker(self.reason)
        return {"type": "ir.actions.act_window_close"}
