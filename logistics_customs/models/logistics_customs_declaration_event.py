from odoo import api, fields, models

from .logistics_customs_declaration import STATES


class LogisticsCustomsDeclarationEvent(models.Model):
    """One status the broker or customs reported, applied or not: the declaration's
    history, including news that arrived late and did not move it back."""

    _name = "logistics.customs.declaration.event"
    _description = "Customs declaration status history"
    _order = "received_at desc, id desc"

    declaration_id = fields.Many2one(
        "logistics.customs.declaration", required=True, ondelete="cascade", index=True
    )
    company_id = fields.Many2one(related="declaration_id.company_id", store=True, index=True)
    status = fields.Selection(STATES, required=True)
    version = fields.Integer()
    event_time = fields.Datetime(string="Reported for")
    received_at = fields.Datetime(default=fields.Datetime.now, required=True, string="Received")
    applied = fields.Boolean(
        help="Unchecked: the status arrived after a later one and was kept in the history only."
    )
    note = fields.Text()
    message_id = fields.Many2one("logistics.message", ondelete="set null")

    @api.depends("declaration_id.name", "status")
    def _compute_display_name(self):
        states = dict(self._fields["status"]._description_selection(self.env))
        for event in self:
            event.display_name = self.env._(
                "%(declaration)s: %(status)s",
                declaration=event.declaration_id.name,
                status=states.get(event.status, ""),
            )
