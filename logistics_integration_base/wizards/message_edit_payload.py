from odoo import fields, models


class LogisticsMessageEditPayload(models.TransientModel):
    _name = "logistics.message.edit.payload"
    _description = "Edit a logistics message payload and retry"

    message_id = fields.Many2one("logistics.message", required=True, ondelete="cascade")
    message_type = fields.Char(related="message_id.message_type")
    type_label = fields.Selection(related="message_id.type_label")
    error_message = fields.Text(related="message_id.error_message")
    payload = fields.Text(required=True)

    def action_confirm(self):
        sent = self.message_id._edit_payload_and_retry(self.payload)
        if sent == self.message_id:
            return {"type": "ir.actions.act_window_close"}
        # an outbound message edited goes as a new revision: show it
        return {
            "type": "ir.actions.act_window",
            "res_model": sent._name,
            "res_id": sent.id,
            "views": [(False, "form")],
            "target": "main",
        }
