from odoo import api, fields, models


class LogisticsWebhookSecretShown(models.TransientModel):
    """The dialog showing a newly generated webhook secret, once. The secret travels in the
    dialog's context only: it is never written to this record's table."""

    _name = "logistics.webhook.secret.shown"
    _description = "New webhook secret, shown once"

    backend_id = fields.Many2one("logistics.backend", required=True, readonly=True)
    secret = fields.Char(string="New secret", compute="_compute_secret")
    previous_valid_until = fields.Datetime(
        string="Previous secret accepted until",
        related="backend_id.webhook_previous_valid_until",
    )

    @api.depends_context("logistics_new_webhook_secret")
    def _compute_secret(self):
        for wizard in self:
            wizard.secret = self.env.context.get("logistics_new_webhook_secret") or False
