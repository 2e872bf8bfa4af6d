from odoo import fields, models


class LogisticsBillingEventReject(models.TransientModel):
    _name = "logistics.billing.event.reject"
    _description = "Reject billing events with a reason"

    event_ids = fields.Many2many("logistics.billing.event", string="Billing events")
    reason = fields.Char(required=True, help="Why these milestones are not billed (chatter).")

    def action_reject(self):
        self.event_ids._logistics_reject(self.reason)
        return {"type": "ir.actions.act_window_close"}
