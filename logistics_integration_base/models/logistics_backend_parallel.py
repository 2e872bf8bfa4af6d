"""Parallel run, cutover and rollback of a backend (see ``tools/parallel_run.py``).

A backend is *live* (the suite sends and applies) or in *shadow*: outbound messages are built,
validated and recorded exactly as they would be sent, but not sent; inbound messages are
stored, not applied; the legacy interface keeps running and its output, given to the suite,
is compared with what the suite would have sent. *Cutover* (shadow to live) and *rollback*
(live to shadow) are recorded acts with the parallel run's figures at that moment."""

import dataclasses
import logging
import posixpath
from datetime import timedelta

from odoo import api, fields, models
from odoo.exceptions import AccessError, UserError

from ..exceptions import TransportError
from ..transport import sftp

_logger = logging.getLogger(__name__)

LEGACY_COMPARED_DIR = "compared"
LEGACY_UNREADABLE_DIR = "unreadable"


class LogisticsBackend(models.Model):
    _inherit = "logistics.backend"  # pylint: disable=consider-merging-classes-inherited

    operating_mode = fields.Selection(
        [("live", "Live"), ("shadow", "Parallel run (shadow)")],
        default="live",
        required=True,
        tracking=True,
        string="Operating mode",
        help="Live: messages are sent to the partner and its messages applied. Parallel run: "
        "the suite builds and records every message without sending it, stores the partner's "
        "messages without applying them, and compares its messages with the legacy "
        "interface's output. Change it with Cut over / Back to parallel run.",
    )
    legacy_sftp_dir = fields.Char(
        string="Legacy output folder",
        help="A folder on this backend's SFTP server where the legacy interface drops a copy "
        "of each file it sends to the partner. Read every few minutes during the parallel "
        "run; read files are moved to its 'compared' (or 'unreadable') sub-folder. Copies "
        "may also be posted to /logistics/webhook/<code>/legacy, signed like webhooks.",
    )
    legacy_last_poll_at = fields.Datetime(readonly=True, string="Legacy output last read")
    legacy_last_poll_error = fields.Text(readonly=True, string="Legacy output reading problem")
    cutover_min_match_rate = fields.Float(
        string="Match rate needed to cut over (%)",
        digits=(5, 2),
        help="Cut over to live only when at least this share of the compared documents of the "
        "period matched (e.g. 99.5). 0: no threshold.",
    )
    cutover_period_days = fields.Integer(
        string="Period compared (days)",
        default=7,
        help="The parallel run's figures shown at cutover cover this many last days.",
    )
    parallel_pair_ids = fields.One2many(
        "logistics.parallel.pair", "backend_id", string="Parallel run comparisons"
    )
    parallel_different_count = fields.Integer(
        compute="_compute_parallel_counts", string="Differences"
    )
    parallel_pair_count = fields.Integer(compute="_compute_parallel_counts", string="Compared")
    mode_change_ids = fields.One2many(
        "logistics.backend.mode.change", "backend_id", string="Cutovers and rollbacks"
    )

    def write(self, vals):
        if "operating_mode" in vals and not self.env.context.get("logistics_mode_change"):
            changed = self.filtered(lambda b: b.operating_mode != vals["operating_mode"])
            if changed:
                raise UserError(
                    self.env._(
                        "The operating mode of %s changes only by its acts: Cut over to live "
                        "(in the Parallel run report) or Roll back to parallel run, which record "
                        "who did it and the figures at that moment.",
                        ", ".join(changed.mapped("name")),
                    )
                )
        return super().write(vals)

    @api.depends("parallel_pair_ids.result")
    def _compute_parallel_counts(self):
        Pair = self.env["logistics.parallel.pair"]
        groups = Pair._read_group(
            [("backend_id", "in", self.ids)], ["backend_id", "result"], ["__count"]
        )
        counts = {}
        for backend, result, count in groups:
            total, different = counts.get(backend.id, (0, 0))
            counts[backend.id] = (
                total + count,
                different + (count if result != "matched" else 0),
            )
        for backend in self:
            backend.parallel_pair_count, backend.parallel_different_count = counts.get(
                backend.id, (0, 0)
            )

    # figures ---------------------------------------------------------------------------------
    def _parallel_run_figures(self, date_from=None, date_to=None):
        """Counts of the comparisons first seen in the period, per result, and the match rate
        (matched / all compared documents, in %; None when nothing was compared)."""
        self.ensure_one()
        date_to = date_to or fields.Datetime.now()
        date_from = date_from or date_to - timedelta(days=self.cutover_period_days or 7)
        Pair = self.env["logistics.parallel.pair"]
        figures = dict.fromkeys(Pair._RESULTS, 0)
        for result, count in Pair._read_group(
            [
                ("backend_id", "=", self.id),
                ("first_seen_at", ">=", date_from),
                ("first_seen_at", "<=", date_to),
            ],
            ["result"],
            ["__count"],
        ):
            figures[result] = count
        total = sum(figures.values())
        figures.update(
            total=total,
            match_rate=round(100.0 * figures["matched"] / total, 2) if total else None,
            date_from=date_from,
            date_to=date_to,
        )
        return figures

    # mode changes ----------------------------------------------------------------------------
    def _check_mode_manager(self):
        if not self.env.user.has_group("logistics_integration_base.group_logistics_manager"):
            raise AccessError(
                self.env._(
                    "Only a Logistics Integration manager may cut a backend over to live or "
                    "back to the parallel run."
                )
            )

    def action_open_cutover(self):
        """The parallel run's report, with its figures, and the cutover button."""
        self.ensure_one()
        self.check_access("read")
        return {
            "type": "ir.actions.act_window",
            "name": self.env._("Parallel run of %s", self.name),
            "res_model": "logistics.parallel.run.report",
            "view_mode": "form",
            "target": "new",
            "context": {"default_backend_id": self.id},
        }

    def _set_operating_mode(self, mode, note=None, figures=None):
        """Record the act (who, when, the figures at that moment) and switch."""
        self.ensure_one()
        self._check_mode_manager()
        self.check_access("write")
        if self.operating_mode == mode:
            return self.env["logistics.backend.mode.change"]
        figures = figures or self._parallel_run_figures()
        Pair = self.env["logistics.parallel.pair"]
        change = (
            self.env["logistics.backend.mode.change"]
            .sudo()
            .create(
                {
                    "backend_id": self.id,
                    "from_mode": self.operating_mode,
                    "to_mode": mode,
                    "user_id": self.env.user.id,
                    "note": note or False,
                    "period_start": figures["date_from"],
                    "period_end": figures["date_to"],
                    "threshold": self.cutover_min_match_rate,
                    **{f"count_{r}": figures[r] for r in Pair._RESULTS},
                    "match_rate": figures["match_rate"] or 0.0,
                }
            )
        )
        self.sudo().with_context(logistics_mode_change=True).operating_mode = mode
        self.message_post(body=change._summary())
        return change

    def _cutover(self, note=None):
        """Shadow to live, refused below the backend's match-rate threshold."""
        self.ensure_one()
        self._check_mode_manager()
        if self.operating_mode != "shadow":
            raise UserError(self.env._("%s is already live.", self.name))
        figures = self._parallel_run_figures()
        threshold = self.cutover_min_match_rate
        if threshold:
            rate = figures["match_rate"]
            if rate is None:
                raise UserError(
                    self.env._(
                        "%(backend)s cannot cut over: nothing was compared in the last "
                        "%(days)s days, and it needs %(threshold)s %% of documents matched. "
                        "Give the suite the legacy output (Legacy output folder, or copies "
                        "posted to the legacy webhook) and wait for comparisons.",
                        backend=self.name,
                        days=self.cutover_period_days,
                        threshold=threshold,
                    )
                )
            if rate < threshold:
                raise UserError(
                    self.env._(
                        "%(backend)s cannot cut over: %(rate)s %% of the %(total)s documents "
                        "compared in the last %(days)s days matched, below the %(threshold)s %% "
                        "it needs. Open the differences, fix their cause, and wait for new "
                        "comparisons (or lower the threshold).",
                        backend=self.name,
                        rate=rate,
                        total=figures["total"],
                        days=self.cutover_period_days,
                        threshold=threshold,
                    )
                )
        return self._set_operating_mode("live", note=note, figures=figures)

    def action_rollback_to_shadow(self):
        """Live to shadow in one act: what was sent stays sent, every message is kept; from
        now on messages are recorded and not sent, the legacy interface takes over again."""
        for backend in self:
            backend._set_operating_mode("shadow")
        return True

    # calls -------------------------------------------------------------------------------------
    def _call(self, operation, payload, record=None, subject=None, correlation_id=None):
        if self.operating_mode == "shadow":
            raise TransportError(
                self.env._(
                    "%(backend)s runs in parallel (shadow): the suite does not call it yet, "
                    "the legacy interface does (%(operation)s). Cut the backend over to live "
                    "to do this from Odoo.",
                    backend=self.name,
                    operation=operation,
                ),
                "business",
            )
        return super()._call(
            operation, payload, record=record, subject=subject, correlation_id=correlation_id
        )

    # legacy output -----------------------------------------------------------------------------
    def _legacy_sftp_settings(self):
        settings = self._sftp_settings()
        folder = self.legacy_sftp_dir.rstrip("/") or "/"
        return dataclasses.replace(
            settings,
            inbound_dir=folder,
            outbound_dir=None,
            archive_dir=posixpath.join(folder, LEGACY_COMPARED_DIR),
            error_dir=posixpath.join(folder, LEGACY_UNREADABLE_DIR),
        )

    def _legacy_poll(self, commit=False):
        """Read every complete file of the legacy output folder, compare what it holds and
        move it on. Returns the comparisons touched."""
        self.ensure_one()
        Pair = self.env["logistics.parallel.pair"].sudo()
        touched = Pair.browse()
        try:
            with self._get_adapter().transport("sftp", self._legacy_sftp_settings()) as conn:
                conn.ensure_dirs()
                for remote in conn.list_ready():
                    try:
                        data = conn.read(remote.name)
                    except sftp.SFTPFileNotFound:
                        continue
                    pairs, failed = Pair._receive_legacy(self, remote.name, data)
                    touched |= pairs
                    if commit:
                        self.env.cr.commit()  # pylint: disable=invalid-commit
                    try:
                        if failed:
                            conn.move_to_error(remote.name)
                        else:
                            conn.archive(remote.name)
                    except sftp.SFTPFileNotFound:
                        _logger.info("legacy file %s moved meanwhile by another poll", remote.name)
                    if commit:
                        self.env.cr.commit()  # pylint: disable=invalid-commit
        except sftp.SFTPError as exc:
            self.sudo().write(
                {"legacy_last_poll_at": fields.Datetime.now(), "legacy_last_poll_error": str(exc)}
            )
            raise UserError(
                self.env._(
                    "The legacy output folder %(folder)s of %(backend)s cannot be read: %(reason)s",
                    folder=self.legacy_sftp_dir,
                    backend=self.name,
                    reason=str(exc),
                )
            ) from None
        self.sudo().write(
            {"legacy_last_poll_at": fields.Datetime.now(), "legacy_last_poll_error": False}
        )
        return touched

    def action_legacy_poll_now(self):
        self.ensure_one()
        self.check_access("write")
        if not self.legacy_sftp_dir:
            raise UserError(self.env._("Set the legacy output folder of %s first.", self.name))
        pairs = self._legacy_poll()
        return self._notify(
            self.env._("Legacy output of %s read", self.name),
            self.env._("%(count)s documents of the legacy output compared.", count=len(pairs)),
            "success",
        )

    @api.model
    def _cron_poll_legacy(self):
        for backend in self.search([("legacy_sftp_dir", "!=", False)]):
            try:
                backend._legacy_poll(commit=True)
            except UserError as exc:
                _logger.warning("legacy output of %s: %s", backend.code, exc)
                self.env.cr.commit()  # pylint: disable=invalid-commit
        self.search([("operating_mode", "=", "shadow")])._check_shadow_inbound()

    def _check_shadow_inbound(self):
        """The partner's messages of the parallel run's period not matched yet, compared
        with what the legacy interface applied (it may apply them later: checked again)."""
        Message = self.env["logistics.message"].sudo()
        Pair = self.env["logistics.parallel.pair"].sudo()
        touched = Pair.browse()
        for backend in self:
            since = fields.Datetime.now() - timedelta(days=backend.cutover_period_days or 7)
            matched = Pair.search(
                [
                    ("backend_id", "=", backend.id),
                    ("direction", "=", "in"),
                    ("result", "=", "matched"),
                ]
            ).message_id
            messages = Message.search(
                [
                    ("backend_id", "=", backend.id),
                    ("direction", "=", "in"),
                    ("state", "=", "shadow"),
                    ("create_date", ">=", since),
                    ("id", "not in", matched.ids),
                ],
                order="id",
            )
            touched |= Pair._check_inbound(messages)
        return touched

    def action_view_parallel_pairs(self):
        self.ensure_one()
        action = self.env["ir.actions.act_window"]._for_xml_id(
            "logistics_integration_base.action_logistics_parallel_pair"
        )
        action["domain"] = [("backend_id", "=", self.id)]
        action["context"] = {"search_default_not_matched": 1}
        return action
