"""A backend's cutover to live or rollback to the parallel run: who, when, and the parallel
run's figures at that moment. Written by the act itself, never edited."""

from odoo import fields, models

MODES = [("live", "Live"), ("shadow", "Parallel run (shadow)")]


class LogisticsBackendModeChange(models.Model):
    _name = "logistics.backend.mode.change"
    _description = "Backend cutover or rollback"
    _order = "create_date desc, id desc"

    backend_id = fields.Many2one(
        "logistics.backend", required=True, ondelete="cascade", index=True, readonly=True
    )
    company_id = fields.Many2one(related="backend_id.company_id", store=True, index=True)
    from_mode = fields.Selection(MODES, required=True, readonly=True, string="From")
    to_mode = fields.Selection(MODES, required=True, readonly=True, string="To")
    user_id = fields.Many2one("res.users", required=True, readonly=True, string="By")
    create_date = fields.Datetime(readonly=True, string="On")
    note = fields.Text(readonly=True)
    period_start = fields.Datetime(readonly=True, string="Compared from")
    period_end = fields.Datetime(readonly=True, string="Compared until")
    count_matched = fields.Integer(readonly=True, string="Matched")
    count_different = fields.Integer(readonly=True, string="Different")
    count_suite_only = fields.Integer(readonly=True, string="Missing in the legacy output")
    count_legacy_only = fields.Integer(readonly=True, string="Missing in the suite")
    count_unreadable = fields.Integer(readonly=True, string="Unreadable legacy documents")
    match_rate = fields.Float(readonly=True, digits=(5, 2), string="Match rate (%)")
    threshold = fields.Float(readonly=True, digits=(5, 2), string="Threshold (%)")

    def _compute_display_name(self):
        labels = dict(MODES)
        for change in self:
            change.display_name = self.env._(
                "%(backend)s: %(from)s to %(to)s",
                backend=change.backend_id.name,
                **{"from": labels[change.from_mode], "to": labels[change.to_mode]},
            )

    def _summary(self):
        self.ensure_one()
        if self.to_mode == "live":
            text = self.env._(
                "Cut over to live by %(user)s. Parallel run from %(start)s to %(end)s: "
                "%(matched)s matched, %(different)s different, %(suite_only)s missing in the "
                "legacy output, %(legacy_only)s missing in the suite, %(unreadable)s unreadable "
                "(match rate %(rate)s %%).",
                user=self.user_id.name,
                start=self.period_start,
                end=self.period_end,
                matched=self.count_matched,
                different=self.count_different,
                suite_only=self.count_suite_only,
                legacy_only=self.count_legacy_only,
                unreadable=self.count_unreadable,
                rate=self.match_rate,
            )
        else:
            text = self.env._(
                "Back to the parallel run by %(user)s: from now on messages are recorded and "
                "compared, not sent; what was sent stays sent.",
                user=self.user_id.name,
            )
        return f"{text} {self.note}" if self.note else text
