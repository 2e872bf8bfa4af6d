"""The parallel run's report of a backend over a period (matched, different, missing on
either side), its export, and the cutover to live."""

import base64
import csv
import io
from datetime import timedelta

from odoo import api, fields, models


class LogisticsParallelRunReport(models.TransientModel):
    _name = "logistics.parallel.run.report"
    _description = "Parallel run report"

    backend_id = fields.Many2one("logistics.backend", required=True, ondelete="cascade")
    operating_mode = fields.Selection(related="backend_id.operating_mode")
    threshold = fields.Float(
        related="backend_id.cutover_min_match_rate", string="Match rate needed (%)"
    )
    date_from = fields.Datetime(
        string="From", required=True, default=lambda self: self._default_from()
    )
    date_to = fields.Datetime(string="Until", required=True, default=fields.Datetime.now)
    count_matched = fields.Integer(compute="_compute_figures", string="Matched")
    count_different = fields.Integer(compute="_compute_figures", string="Different")
    count_suite_only = fields.Integer(
        compute="_compute_figures", string="Missing in the legacy output"
    )
    count_legacy_only = fields.Integer(compute="_compute_figures", string="Missing in the suite")
    count_unreadable = fields.Integer(
        compute="_compute_figures", string="Unreadable legacy documents"
    )
    count_total = fields.Integer(compute="_compute_figures", string="Documents compared")
    match_rate = fields.Float(compute="_compute_figures", digits=(5, 2), string="Match rate (%)")
    note = fields.Text(string="Note for the record", help="Written with the cutover.")

    def _default_from(self):
        backend = self.env["logistics.backend"].browse(self.env.context.get("default_backend_id"))
        days = backend.exists().cutover_period_days or 7
        return fields.Datetime.now() - timedelta(days=days)

    @api.depends("backend_id", "date_from", "date_to")
    def _compute_figures(self):
        for report in self:
            figures = (
                report.backend_id._parallel_run_figures(report.date_from, report.date_to)
                if report.backend_id and report.date_from and report.date_to
                else {}
            )
            for result in self.env["logistics.parallel.pair"]._RESULTS:
                report[f"count_{result}"] = figures.get(result, 0)
            report.count_total = figures.get("total", 0)
            report.match_rate = figures.get("match_rate") or 0.0

    def _pairs_domain(self):
        return [
            ("backend_id", "=", self.backend_id.id),
            ("first_seen_at", ">=", self.date_from),
            ("first_seen_at", "<=", self.date_to),
        ]

    def action_open_pairs(self):
        self.ensure_one()
        action = self.env["ir.actions.act_window"]._for_xml_id(
            "logistics_integration_base.action_logistics_parallel_pair"
        )
        action["domain"] = self._pairs_domain()
        action["context"] = {"search_default_not_matched": 1}
        return action

    def _csv(self):
        Pair = self.env["logistics.parallel.pair"]
        labels = dict(Pair._fields["result"]._description_selection(self.env))
        labels_type = dict(Pair._fields["type_label"]._description_selection(self.env))
        out = io.StringIO()
        writer = csv.writer(out, lineterminator="\r\n")
        writer.writerow(
            [
                self.env._("Document"),
                self.env._("Type"),
                self.env._("Result"),
                self.env._("Differences"),
                self.env._("Suite's message"),
                self.env._("Legacy document"),
                self.env._("First seen (UTC)"),
            ]
        )
        for pair in Pair.search(self._pairs_domain(), order="id"):
            writer.writerow(
                [
                    pair.business_key,
                    pair.type_label and labels_type.get(pair.type_label) or pair.message_type,
                    labels.get(pair.result, pair.result),
                    pair.differences or "",
                    pair.message_id.name or "",
                    pair.legacy_source or "",
                    fields.Datetime.to_string(pair.first_seen_at),
                ]
            )
        return out.getvalue()

    def action_download(self):
        """The comparisons of the period as a CSV file (one row per document)."""
        self.ensure_one()
        name = f"parallel-run-{self.backend_id.code}-{fields.Date.to_string(self.date_to)}.csv"
        attachment = self.env["ir.attachment"].create(
            {
                "name": name,
                "datas": base64.b64encode(self._csv().encode("utf-8-sig")),
                "mimetype": "text/csv",
                "res_model": self._name,
                "res_id": self.id,
            }
        )
        return {
            "type": "ir.actions.act_url",
            "url": f"/web/content/{attachment.id}?download=true",
            "target": "self",
        }

    def action_cutover(self):
        self.ensure_one()
        self.backend_id._cutover(note=self.note)
        return {"type": "ir.actions.act_window_close"}
