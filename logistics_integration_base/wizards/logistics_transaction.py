"""The timeline of one business transaction (see ``models/logistics_transaction.py``): one
line per message, as the caller may read them, written when the timeline is opened."""

from odoo import api, fields, models


class LogisticsTransaction(models.TransientModel):
    _name = "logistics.transaction"
    _description = "Business transaction across partners"

    name = fields.Char(string="Transaction of", readonly=True)
    res_model = fields.Char(string="Record model", readonly=True)
    res_id = fields.Many2oneReference(string="Record id", model_field="res_model", readonly=True)
    line_ids = fields.One2many("logistics.transaction.line", "transaction_id", string="Timeline")
    message_count = fields.Integer(string="Messages", readonly=True)
    exception_count = fields.Integer(string="Waiting in the exception queue", readonly=True)

    @api.model
    def _build(self, record):
        messages = record._logistics_transaction_messages()
        Line = self.env["logistics.transaction.line"]
        lines = []
        previous = None
        for index, message in enumerate(messages):
            lines.append((0, 0, dict(Line._vals(message, previous), sequence=index)))
            previous = message
        return self.create(
            {
                "name": record.display_name,
                "res_model": record._name,
                "res_id": record.id,
                "message_count": len(messages),
                "exception_count": len(messages.filtered(lambda m: m.state in ("failed", "dead"))),
                "line_ids": lines,
            }
        )

    def action_open_record(self):
        self.ensure_one()
        return {
            "type": "ir.actions.act_window",
            "res_model": self.res_model,
            "res_id": self.res_id,
            "view_mode": "form",
            "views": [(False, "form")],
        }


class LogisticsTransactionLine(models.TransientModel):
    _name = "logistics.transaction.line"
    _description = "Message on a transaction's timeline"
    _order = "sequence, id"

    transaction_id = fields.Many2one("logistics.transaction", required=True, ondelete="cascade")
    sequence = fields.Integer()
    message_id = fields.Many2one("logistics.message", readonly=True)
    when = fields.Datetime(string="Recorded on", readonly=True)
    backend_name = fields.Char(string="Partner", readonly=True)
    record_name = fields.Char(string="About", readonly=True)
    step = fields.Char(readonly=True)
    direction = fields.Selection([("out", "Sent"), ("in", "Received")], readonly=True)
    state = fields.Char(string="Status", readonly=True)
    latency = fields.Char(
        string="After the previous step",
        readonly=True,
        help="Time between the previous message of the transaction and this one.",
    )
    latency_seconds = fields.Integer(string="Seconds after the previous step", readonly=True)
    exception = fields.Char(string="What failed", readonly=True)
    resolution = fields.Char(readonly=True)
    sla = fields.Char(
        string="SLA",
        readonly=True,
        help="The partner backend's SLA: the time within which a message is sent, applied "
        "or acknowledged before it is flagged late.",
    )
    sla_late = fields.Boolean(string="Late", readonly=True)

    @api.model
    def _vals(self, message, previous):
        states = dict(message._fields["state"]._description_selection(self.env))
        seconds = (
            int((message.create_date - previous.create_date).total_seconds()) if previous else 0
        )
        sla_minutes = message.backend_id.sla_minutes
        late = bool(message.sla_breached) or bool(
            sla_minutes
            and message.done_at
            and (message.done_at - message.create_date).total_seconds() > sla_minutes * 60
        )
        return {
            "message_id": message.id,
            "when": message.create_date,
            "backend_name": message.backend_id.name,
            "record_name": message.record_name or message.subject,
            "step": message.type_label
            and dict(message._fields["type_label"]._description_selection(self.env)).get(
                message.type_label
            )
            or message.message_type,
            "direction": message.direction,
            "state": states.get(message.state, message.state),
            "latency": _duration(self.env, seconds) if previous else False,
            "latency_seconds": seconds,
            "exception": message.error_summary or False,
            "resolution": self._resolution(message),
            "sla": (
                (
                    self.env._("late (over %s min)", sla_minutes)
                    if late
                    else self.env._("within %s min", sla_minutes)
                )
                if sla_minutes
                else False
            ),
            "sla_late": late,
        }

    @api.model
    def _resolution(self, message):
        if message.state == "superseded":
            return self.env._("Superseded by %s, which succeeded", message.superseded_by_id.name)
        if message.state == "ignored":
            return self.env._("Ignored: %s", message.ignore_reason or self.env._("no reason given"))
        if message.state in ("failed", "dead"):
            return self.env._("Waiting in the exception queue: Retry or Ignore it")
        if message.attempt_count > 1 and message.state in ("sent", "acknowledged", "processed"):
            return self.env._("Succeeded after %s attempts", message.attempt_count)
        return False


def _duration(env, seconds):
    minutes = seconds // 60
    if minutes < 1:
        return env._("%s s", seconds)
    if minutes < 60:
        return env._("%s min", minutes)
    hours, minutes = divmod(minutes, 60)
    if hours < 48:
        return env._("%(hours)s h %(minutes)02d min", hours=hours, minutes=minutes)
    return env._("%(days)s days %(hours)s h", days=hours // 24, hours=hours % 24)
