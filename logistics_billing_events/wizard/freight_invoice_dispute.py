from odoo import fields, models


class LogisticsFreightInvoiceDispute(models.TransientModel):
    _name = "logistics.freight.invoice.dispute"
    _description = "Dispute freight invoices with the partner"

    invoice_ids = fields.Many2many("logistics.freight.invoice", string="Freight invoices")
    reason = fields.Char(required=True, help="Sent to the partner with the figures.")

    def action_dispute(self):
        self.invoice_ids._logistics_dispute(self.reason)
        return {"type": "ir.actions.act_window_close"}
