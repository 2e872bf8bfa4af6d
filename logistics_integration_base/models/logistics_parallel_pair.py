"""One document of a parallel run: the suite's message and the legacy interface's output of
the same business key, and how they compare (see ``tools/parallel_run.py``)."""

import json
import logging
from datetime import timedelta

import psycopg2

from odoo import api, fields, models

from ..exceptions import PayloadInvalid
from ..handlers.base import MESSAGE_TYPE_LABELS
from ..tools import parallel_run, versions

_logger = logging.getLogger(__name__)


class LogisticsParallelPair(models.Model):
    _name = "logistics.parallel.pair"
    _description = "Parallel run comparison"
    _order = "first_seen_at desc, id desc"
    _rec_name = "business_key"

    _RESULTS = ("matched", "different", "suite_only", "legacy_only", "unreadable")

    backend_id = fields.Many2one(
        "logistics.backend", required=True, ondelete="cascade", index=True, readonly=True
    )
    company_id = fields.Many2one(related="backend_id.company_id", store=True, index=True)
    message_type = fields.Char(required=True, readonly=True, string="Type code")
    type_label = fields.Selection(
        selection=lambda self: self.env["logistics.message"]._selection_type_label(),
        compute="_compute_type_label",
        store=True,
        string="Type",
        help="What a person calls the message type (e.g. Release to 3PL).",
    )
    business_key = fields.Char(
        required=True,
        readonly=True,
        index=True,
        string="Document",
        help="What identifies the document on both sides, e.g. the order reference.",
    )
    result = fields.Selection(
        [
            ("matched", "Matched"),
            ("different", "Different"),
            ("suite_only", "Missing in the legacy output"),
            ("legacy_only", "Missing in the suite"),
            ("unreadable", "Legacy document unreadable"),
        ],
        required=True,
        readonly=True,
        index=True,
    )
    direction = fields.Selection(
        [("out", "Sent by the suite"), ("in", "Received from the partner")],
        default="out",
        required=True,
        readonly=True,
        help="Sent by the suite: its message compared with the legacy interface's output. "
        "Received from the partner: what the partner sent, compared with what the legacy "
        "interface applied in Odoo.",
    )
    differences = fields.Text(readonly=True, help="Each difference on a line, in words.")
    difference_count = fields.Integer(
        compute="_compute_difference_count", store=True, string="Number of differences"
    )
    message_id = fields.Many2one(
        "logistics.message", readonly=True, ondelete="set null", string="Suite's message"
    )
    suite_state = fields.Selection(related="message_id.state", string="Suite's message state")
    legacy_source = fields.Char(
        readonly=True, string="Legacy document", help="The file, or 'webhook copy'."
    )
    legacy_received_at = fields.Datetime(readonly=True, string="Legacy output received")
    legacy_version = fields.Integer(
        readonly=True,
        string="Legacy document's version",
        help="The schema version the legacy document was read in; the suite's message is "
        "compared in that version. Empty: the suite message's own version.",
    )
    legacy_payload = fields.Text(
        readonly=True,
        string="Legacy output (canonical)",
        groups="logistics_integration_base.group_logistics_personal_data",
        help="The legacy document read into the canonical payload. It holds customers' "
        "personal data: only users allowed to read personal data see it.",
    )
    first_seen_at = fields.Datetime(
        readonly=True,
        required=True,
        index=True,
        default=fields.Datetime.now,
        string="First seen",
    )
    compared_at = fields.Datetime(readonly=True, string="Compared on")

    _sql_constraints = [
        (
            "document_unique",
            "unique(backend_id, message_type, business_key)",
            "A backend compares each document once.",
        )
    ]

    @api.depends("differences")
    def _compute_difference_count(self):
        for pair in self:
            pair.difference_count = len((pair.differences or "").splitlines())

    @api.depends("message_type")
    def _compute_type_label(self):
        for pair in self:
            known = pair.message_type in MESSAGE_TYPE_LABELS
            pair.type_label = pair.message_type if known else False

    # recording -------------------------------------------------------------------------------
    @api.model
    def _upsert(self, backend, message_type, key, vals):
        """The comparison of (backend, type, key) updated with ``vals``, created when new
        (the document arriving from both sides at the same moment keeps one row)."""
        Pair = self.sudo()
        domain = [
            ("backend_id", "=", backend.id),
            ("message_type", "=", message_type),
            ("business_key", "=", key),
        ]
        pair = Pair.search(domain, limit=1)
        if not pair:
            try:
                with self.env.cr.savepoint():
                    return Pair.create(
                        dict(
                            vals,
                            backend_id=backend.id,
                            message_type=message_type,
                            business_key=key,
                            result="unreadable",
                        )
                    )._compare()
            except psycopg2.errors.UniqueViolation:
                pair = Pair.search(domain, limit=1)
        pair.write(vals)
        return pair._compare()

    @api.model
    def _record_suite(self, message):
        """The suite built ``message`` while its backend runs in parallel: keep it as the
        suite's side of its document."""
        if message.direction != "out" or message.is_call:
            return self.browse()
        try:
            payload = message._get_payload()
        except ValueError:
            return self.browse()
        key = parallel_run.business_key(message.message_type, payload)
        if not key:
            return self.browse()
        vals = {"message_id": message.id}
        return self._upsert(message.backend_id, message.message_type, key, vals)

    @api.model
    def _record_legacy(self, backend, message_type, payload, source, version=None):
        key = parallel_run.business_key(message_type, payload)
        if not key:
            return self._record_unreadable(
                backend,
                source,
                self.env._(
                    "The %(type)s document of %(source)s carries no reference to compare by.",
                    type=message_type,
                    source=source,
                ),
            )
        return self._upsert(
            backend,
            message_type,
            key,
            {
                "legacy_source": source,
                "legacy_received_at": fields.Datetime.now(),
                "legacy_payload": json.dumps(payload, indent=2, sort_keys=True, default=str),
                "legacy_version": version or False,
            },
        )

    @api.model
    def _record_unreadable(self, backend, source, reason):
        pair = self._upsert(
            backend,
            "unreadable",
            source,
            {"legacy_source": source, "legacy_received_at": fields.Datetime.now()},
        )
        pair.write({"result": "unreadable", "differences": reason})
        return pair

    @api.model
    def _receive_legacy(self, backend, name, data):
        """A copy of a legacy document (file or posted body): read it with the readers
        registered for the backend's kind and compare each document it holds. Returns
        ``(pairs, failed)``."""
        try:
            documents = parallel_run.read_legacy(name, data, kind=backend.kind)
        except ValueError as exc:
            reason = self.env._(
                "The legacy document %(name)s cannot be read: %(reason)s",
                name=name,
                reason=str(exc),
            )
            return self._record_unreadable(backend, name, reason), True
        pairs = self.browse()
        for message_type, payload, version in documents:
            if not parallel_run.comparison_for(message_type):
                pairs |= self._record_unreadable(
                    backend,
                    name,
                    self.env._(
                        "The legacy document %(name)s holds a %(type)s, which the parallel run "
                        "does not compare.",
                        name=name,
                        type=message_type,
                    ),
                )
                continue
            pairs |= self._record_legacy(backend, message_type, payload, name, version)
        return pairs, False

    # comparing -------------------------------------------------------------------------------
    def _compare(self):
        registry = self.env["logistics.message"]._schema_registry()
        now = fields.Datetime.now()
        for pair in self.sudo():
            if pair.message_type == "unreadable" or pair.direction == "in":
                continue  # an inbound comparison is its check's (_check_inbound)
            message = pair.message_id
            legacy_text = pair.legacy_payload
            if message and legacy_text:
                vals = self._outcome(pair._differences(message, json.loads(legacy_text), registry))
            else:
                vals = {"result": "suite_only" if message else "legacy_only", "differences": False}
            pair.write(dict(vals, compared_at=now))
        return self

    @api.model
    def _outcome(self, found):
        """A comparison's result for the differences ``found`` (sentences)."""
        return {
            "result": "different" if found else "matched",
            "differences": "\n".join(found) or False,
        }

    def _differences(self, message, legacy, registry):
        if message.state in ("failed", "dead"):
            reason = (message.error_message or "").split("\n\n")[0]
            return [
                self.env._(
                    "The suite could not build %(key)s (%(message)s): %(reason)s",
                    key=self.business_key,
                    message=message.name,
                    reason=reason,
                )
            ]
        suite = message._get_payload()
        ours, theirs = message.schema_version, self.legacy_version
        if ours and theirs and ours != theirs:
            # compared in the legacy document's version (what its layout carries)
            try:
                suite = versions.convert(message.message_type, suite, ours, theirs)
            except versions.ConverterMissing:
                return [
                    self.env._(
                        "%(key)s cannot be compared: the suite's message is in version "
                        "%(ours)s of %(type)s, the legacy document in version %(theirs)s, and "
                        "no installed module converts one into the other.",
                        key=self.business_key,
                        ours=ours,
                        theirs=theirs,
                        type=message.message_type,
                    )
                ]
        personal = registry.personal_paths(message.message_type, theirs or ours or None)
        return parallel_run.differences(message.message_type, suite, legacy, personal)

    @api.model
    def _check_inbound(self, messages):
        """Compare each partner message stored during a parallel run with what the legacy
        interface applied (the check its module registered); a message the check cannot
        judge yet is left for the next run. Returns the comparisons touched."""
        touched = self.browse()
        for message in messages.sudo():
            check = parallel_run.inbound_check(message.message_type)
            if not check:
                continue
            try:
                payload = message._inbound_in_latest_version(message._get_payload())
            except (ValueError, PayloadInvalid):
                continue
            outcome = check(message, payload)
            if outcome is None:
                continue
            key, found = outcome
            pair = self._upsert(
                message.backend_id,
                message.message_type,
                key,
                {"message_id": message.id, "direction": "in"},
            )
            pair.write(dict(self._outcome(found), compared_at=fields.Datetime.now()))
            touched |= pair
        return touched

    @api.model
    def _erase_personal_data_due(self, now):
        """The legacy documents read for comparisons older than their backend's retention
        for personal data are dropped; results and differences (no personal value) stay."""
        Backend = self.env["logistics.backend"].sudo()
        for backend in Backend.search([("personal_data_days", ">", 0)]):
            self.sudo().search(
                [
                    ("backend_id", "=", backend.id),
                    ("legacy_payload", "!=", False),
                    ("first_seen_at", "<", now - timedelta(days=backend.personal_data_days)),
                ]
            ).write({"legacy_payload": False})

    def action_open_message(self):
        self.ensure_one()
        return self.message_id.get_formview_action()
