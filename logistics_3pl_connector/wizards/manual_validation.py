from odoo import fields, models


class LogisticsManualValidation(models.TransientModel):
    """A transfer the 3PL executes is confirmed by the 3PL: validating it by hand in Odoo
    asks for a reason, kept in the transfer's chatter."""

    _name = "logistics.manual.validation"
    _description = "Validate 3PL transfers by hand, with a reason"

    picking_ids = fields.Many2many("stock.picking", string="Transfers", readonly=True)
    backend_names = fields.Char(string="3PL", readonly=True)
    reason = fields.Text(required=True)

    def action_confirm(self):
        self.ensure_one()
        for picking in self.picking_ids:
            picking.message_post(
                body=self.env._(
                    "Validated by hand in Odoo by %(user)s, not confirmed by 3PL %(backend)s: "
                    "%(reason)s",
                    user=self.env.user.name,
                    backend=picking.logistics_backend_id.name,
                    reason=self.reason,
                )
            )
        return self.picking_ids.with_context(
            logistics_manual_validation=self.reason
        ).button_validate()
