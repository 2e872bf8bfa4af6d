from odoo import fields, models


class LogisticsMessageIgnore(models.TransientModel):
    _name = "logistics.message.ignore"
    _description = "Ignore logistics messages with a reason"

    reason = fields.Text(required=True)
    message_count = fields.Integer(
        string="Messages", default=lambda self: len(self.env.context.get("active_ids") or [])
    )

    def action_confirm(self):
        messages = self.env["logistics.message"].browse(self.env.context.get("active_ids") or [])
        messages.action_ignore(self.reason)
        return {"type": "ir.actions.act_window_close"}
