from odoo import api, fields, models

from ..tools import otel

OUTCOMES = [
    ("done", "Done"),
    ("retry", "Failed, retry planned"),
    ("failed", "Failed"),
    ("dead", "Gave up"),
]


class LogisticsMessageAttempt(models.Model):
    """One run of a message's job that tried to deliver (outbound) or process (inbound) it:
    when, how long, with what answer. A message's job may show Done while the message
    failed (the job records the failure and ends); its attempts show what happened."""

    _name = "logistics.message.attempt"
    _description = "Delivery or processing attempt of a logistics message"
    _order = "message_id, number desc"
    _rec_name = "number"

    message_id = fields.Many2one("logistics.message", required=True, ondelete="cascade", index=True)
    # the message's backend and company, for the dashboard's drill-downs (the backend a facet
    # the user may remove) and the multi-company rule; kept in step with the message's copies
    # by :meth:`_sync_backend_fields`
    backend_id = fields.Many2one(
        related="message_id.backend_id", store=True, index=True, string="Partner backend"
    )
    company_id = fields.Many2one(related="message_id.company_id", store=True, index=True)
    number = fields.Integer(string="Attempt", required=True)
    started_at = fields.Datetime(string="Started", required=True, index=True)
    duration_ms = fields.Integer(string="Duration (ms)")
    outcome = fields.Selection(OUTCOMES, required=True)
    http_status = fields.Integer(string="HTTP status")
    error = fields.Char(help="What went wrong, as the message's error read after the attempt")
    job_id = fields.Many2one("queue.job", ondelete="set null")
    job_result = fields.Char(string="Job report", help="What the job reported")

    @api.model_create_multi
    def create(self, vals_list):
        attempts = super().create(vals_list)
        otel.record_attempts(attempts)  # their spans, at commit (when switched on)
        return attempts

    @api.model
    def _sync_backend_fields(self, backends):
        """Keep the attempts' company in step with their backends' (as the messages' copy
        is, written in SQL: the stored related field would not see it change)."""
        self.flush_model(["company_id"])
        for backend in backends:
            self.env.cr.execute(
                "UPDATE logistics_message_attempt SET company_id = %s WHERE backend_id = %s",
                [backend.company_id.id or None, backend.id],
            )
        self.invalidate_model(["company_id"])

    @api.model
    def _outcome_of(self, message):
        if message.state in ("failed", "dead"):
            return message.state
        if message.state in ("pending", "received"):
            return "retry"
        return "done"
