import functools
import json
import logging
import math
import os
import time
import traceback
import uuid
from datetime import timedelta

import psycopg2

from odoo import SUPERUSER_ID, api, fields, models
from odoo.exceptions import AccessError, UserError, ValidationError
from odoo.modules import module as odoo_module

from odoo.addons.queue_job.exception import RetryableJobError

from ..adapters import SEND
from ..exceptions import (
    BusinessError,
    NeedsAttention,
    NotForUs,
    PayloadInvalid,
    RetryLater,
    TransportError,
)
from ..handlers import get_handler_class
from ..tools import metrics, personal
from ..tools import secrets as secret_box
from ..tools.canonical import SchemaRegistry, to_naive_utc
from ..tools.own_transaction import in_a_test

_logger = logging.getLogger(__name__)

OUT_STATES = ["pending", "sent", "acknowledged", "failed", "dead"]
IN_STATES = ["received", "processed", "failed", "dead"]
EXCEPTION_STATES = ("failed", "dead")
OPEN_STATES = ("pending", "received")
DONE_STATES = ("sent", "acknowledged", "processed", "ignored", "superseded", "shadow")
SUCCESS_STATES = ("sent", "acknowledged", "processed")
CONCURRENT_RETRIES = 3  # new transactions for a message meeting another's rows (see below)

_registries = {}
PERSONAL_GROUP = "logistics_integration_base.group_logistics_personal_data"
BASE_MODULE = "logistics_integration_base"


@functools.lru_cache(maxsize=32)
def _schema_folders(installed):
    """The ``schemas/`` folders of the installed modules depending on the base (and its
    own), in a stable order."""
    depends_on_base = {BASE_MODULE: True}

    def builds_on_base(name):
        if name not in depends_on_base:
            depends_on_base[name] = False  # cycles: not through this path
            manifest = odoo_module.get_manifest(name) or {}
            depends_on_base[name] = any(builds_on_base(dep) for dep in manifest.get("depends", ()))
        return depends_on_base[name]

    folders = []
    for name in sorted(installed):
        if builds_on_base(name):
            path = odoo_module.get_module_path(name, display_warning=False)
            folder = os.path.join(path, "schemas") if path else None
            if folder and os.path.isdir(folder):
                folders.append(folder)
    base_folder = os.path.join(os.path.dirname(os.path.dirname(__file__)), "schemas")
    return tuple([base_folder] + [f for f in folders if f != base_folder])


# The texts of a message that may carry personal data, and the field holding each one's
# clear version (only the personal-data group reads those, see _split_personal).
PERSONAL_TEXTS = {
    "payload": "payload_personal",
    "raw_payload": "raw_payload_personal",
    "response_payload": "response_payload_personal",
}
# free texts in which the personal values of the message are masked where they occur
FREE_TEXTS = ("error_message",)


class LogisticsMessage(models.Model):
    _name = "logistics.message"
    _description = "Logistics exchange message"
    _inherit = ["mail.thread"]
    _order = "id desc"
    _rec_name = "name"

    name = fields.Char(readonly=True, copy=False, default="/", index="trigram", string="Reference")
    backend_id = fields.Many2one(
        "logistics.backend",
        required=True,
        ondelete="restrict",
        index=True,
        readonly=True,
        string="Partner backend",
    )
    # Copies of the backend's kind and company, written at creation (and kept in step by the
    # backend): a stored related field would cost a query per webhook at intake.
    backend_kind = fields.Selection(
        lambda self: self.env["logistics.backend"]._fields["kind"].selection,
        string="Kind",
        readonly=True,
    )
    company_id = fields.Many2one("res.company", readonly=True, index=True)
    direction = fields.Selection(
        [("out", "Outbound"), ("in", "Inbound")],
        required=True,
        readonly=True,
        index=True,
    )
    message_type = fields.Char(string="Type", required=True, readonly=True, index=True)
    schema_version = fields.Integer(default=1, readonly=True, string="Schema version")
    state = fields.Selection(
        [
            ("pending", "Pending"),
            ("sent", "Sent"),
            ("acknowledged", "Acknowledged"),
            ("received", "Received"),
            ("processed", "Processed"),
            ("failed", "Failed"),
            ("dead", "Dead"),
            ("ignored", "Ignored"),
            ("superseded", "Superseded"),
            ("shadow", "Recorded (parallel run)"),
        ],
        required=True,
        readonly=True,
        index=True,
        string="Status",
    )
    idempotency_key = fields.Char(
        required=True, readonly=True, copy=False, string="Idempotency key"
    )
    correlation_id = fields.Char(readonly=True, index=True, copy=False, string="Correlation id")
    external_id = fields.Char(string="Partner reference", readonly=True, index=True, copy=False)
    subject = fields.Char(readonly=True, help="What the message is about, in business words")
    payload = fields.Text(
        help="Canonical payload (JSON). Values its schema marks personal read •••: they are "
        "kept apart, for the Logistics Integration / Personal data group."
    )
    payload_personal = fields.Text(
        string="Payload with personal data",
        groups=PERSONAL_GROUP,
        readonly=True,
        copy=False,
        help="The canonical payload as it is sent or applied, personal values included.",
    )
    raw_payload = fields.Text(
        readonly=True,
        help="Inbound: the body as received. Outbound: the last request body sent.",
        string="Body as sent or received",
    )
    raw_payload_personal = fields.Text(
        string="Body with personal data",
        groups=PERSONAL_GROUP,
        readonly=True,
        copy=False,
    )
    raw_headers = fields.Text(readonly=True, string="Headers received")
    res_model = fields.Char(string="Related model", readonly=True, index=True)
    res_id = fields.Many2oneReference(string="Related id", model_field="res_model", readonly=True)
    record_ref = fields.Reference(
        selection="_selection_record_ref", compute="_compute_record_ref", string="Related record"
    )
    attempts = fields.Integer(
        readonly=True,
        copy=False,
        help="Attempts since the message was queued or last retried by hand: the retry budget",
        string="Attempts since last retry",
    )
    attempt_ids = fields.One2many("logistics.message.attempt", "message_id", string="Attempts")
    next_retry_at = fields.Datetime(readonly=True, copy=False, string="Next try")
    last_attempt_at = fields.Datetime(readonly=True, copy=False, string="Last attempt")
    done_at = fields.Datetime(readonly=True, copy=False, index=True, string="Finished")
    event_time = fields.Datetime(readonly=True, string="Event time (partner)")
    sequence = fields.Integer(
        readonly=True, help="Partner sequence, for ordering events", string="Partner sequence"
    )
    error_category = fields.Selection(
        [
            ("technical", "Technical"),
            ("business", "Business"),
            ("validation", "Validation"),
            ("auth", "Authentication"),
        ],
        readonly=True,
        index=True,
        string="Error category",
    )
    error_message = fields.Text(readonly=True, string="Reason")
    http_status = fields.Integer(readonly=True, string="HTTP status")
    ignore_reason = fields.Text(readonly=True, string="Reason ignored")
    superseded_by_id = fields.Many2one(
        "logistics.message",
        string="Superseded by",
        readonly=True,
        copy=False,
        ondelete="set null",
        index="btree_not_null",
        help="The later message of the same operation for the same record that succeeded: "
        "this failure needs nothing more.",
    )
    superseded_at = fields.Datetime(string="Superseded on", readonly=True, copy=False)
    ack_expected = fields.Boolean(
        readonly=True,
        help="The partner is expected to acknowledge",
        string="Acknowledgement expected",
    )
    sla_breached = fields.Boolean(string="Late", readonly=True, index=True)
    is_call = fields.Boolean(
        string="Synchronous call",
        readonly=True,
        help="A request the caller waited for (a rate, a booking): recorded, never retried.",
    )
    response_payload = fields.Text(string="Answer", readonly=True)
    response_payload_personal = fields.Text(
        string="Answer with personal data", groups=PERSONAL_GROUP, readonly=True, copy=False
    )
    personal_data_erased = fields.Boolean(
        string="Personal data erased",
        readonly=True,
        copy=False,
        help="Raw bodies and personal fields erased after the backend's retention for "
        "personal data; the message and its attempts are kept.",
    )
    duration_ms = fields.Integer(string="Duration (ms)", readonly=True)
    sftp_file_id = fields.Many2one(
        "logistics.sftp.file",
        string="SFTP file",
        readonly=True,
        ondelete="set null",
        index="btree_not_null",
        help="Inbound over SFTP: the file this message was read from",
    )
    sftp_remote_path = fields.Char(
        string="File written", readonly=True, help="Outbound over SFTP: the file written"
    )
    job_id = fields.Many2one(
        "queue.job", readonly=True, copy=False, ondelete="set null", string="Queue job"
    )
    job_state = fields.Selection(related="job_id.state", string="Job state")
    age_hours = fields.Float(compute="_compute_age", string="Age (h)")

    _sql_constraints = [
        (
            "idempotency_unique",
            "unique(backend_id, direction, idempotency_key)",
            "A message with this idempotency key already exists for this backend and direction.",
        ),
    ]

    def init(self):
        # The exception queue and the crons filter on these.
        self.env.cr.execute(
            "CREATE INDEX IF NOT EXISTS logistics_message_open_idx ON logistics_message "
            "(backend_id, state, create_date) WHERE state IN "
            "('pending', 'received', 'failed', 'dead', 'sent')"
        )
        # Waiting and failed messages only (not the 'sent' ones awaiting an acknowledgement,
        # which may be many), with everything the metrics endpoint groups them by: its
        # count by backend, type, direction and state is an index-only scan.
        self.env.cr.execute(
            "CREATE INDEX IF NOT EXISTS logistics_message_waiting_idx ON logistics_message "
            "(backend_id, message_type, direction, state, create_date) WHERE state IN "
            "('pending', 'received', 'failed', 'dead')"
        )
        # The messages about one record: the metrics' orders still open past a step look
        # for the later messages of each release's delivery at every scrape.
        self.env.cr.execute(
            "CREATE INDEX IF NOT EXISTS logistics_message_record_idx ON logistics_message "
            "(res_id, res_model) WHERE res_id IS NOT NULL"
        )

    # computed ------------------------------------------------------------------------------
    @api.model
    def _selection_record_ref(self):
        return [(m.model, m.name) for m in self.env["ir.model"].sudo().search([])]

    @api.depends("res_model", "res_id")
    def _compute_record_ref(self):
        for msg in self:
            if msg.res_model and msg.res_id and msg.res_model in self.env:
                msg.record_ref = f"{msg.res_model},{msg.res_id}"
            else:
                msg.record_ref = False

    def _compute_age(self):
        now = fields.Datetime.now()
        for msg in self:
            start = msg.create_date or now
            msg.age_hours = round((now - start).total_seconds() / 3600, 2)

    @api.model_create_multi
    def create(self, vals_list):
        Backend = self.env["logistics.backend"].sudo()
        now = fields.Datetime.now()
        for vals in vals_list:
            if vals.get("state") in DONE_STATES:
                # e.g. an event stored as ignored at intake: finished when stored
                vals.setdefault("done_at", now)
            if "backend_kind" not in vals or "company_id" not in vals:
                backend = Backend.browse(vals["backend_id"])
                vals.setdefault("backend_kind", backend.kind)
                vals.setdefault("company_id", backend.company_id.id)
        vals_list = [self.browse()._split_personal(vals) for vals in vals_list]
        messages = super(
            LogisticsMessage,
            self.with_context(mail_create_nolog=True, mail_create_nosubscribe=True),
        ).create(vals_list)
        # Named after the id: no shared sequence row to wait on, and the name is written
        # with the message's other pending values in one update.
        for message in messages:
            if message.name == "/":
                message.name = f"LGX/{message.create_date.year}/{message.id:06d}"
        return messages

    @api.model
    def _sync_backend_fields(self, backends):
        """Keep the copies of the backends' kind and company on their messages."""
        self.flush_model(["backend_kind", "company_id"])
        for backend in backends:
            self.env.cr.execute(
                "UPDATE logistics_message SET backend_kind = %s, company_id = %s "
                "WHERE backend_id = %s",
                [backend.kind, backend.company_id.id or None, backend.id],
            )
        self.invalidate_model(["backend_kind", "company_id"])

    def write(self, vals):
        if not self.env.su:
            if "payload" in vals and not self.env.user.has_group(
                "logistics_integration_base.group_logistics_manager"
            ):
                raise AccessError(
                    self.env._("Only Logistics Integration managers can edit payloads.")
                )
            written_by_the_integration = set(vals) & (
                {*PERSONAL_TEXTS, *PERSONAL_TEXTS.values(), *FREE_TEXTS} - {"payload"}
            )
            if written_by_the_integration:
                # what a partner sent or answered, and the reasons of failures, are the
                # integration's record: nobody rewrites them (nor probes the masking with
                # guesses written there)
                raise AccessError(
                    self.env._(
                        "%s are written by the integration only.",
                        ", ".join(
                            self._fields[f].string for f in sorted(written_by_the_integration)
                        ),
                    )
                )
        if vals.get("state") in DONE_STATES and "done_at" not in vals:
            # Every way a message finishes (sent, processed, ignored by hand or by a
            # handler) dates it: the 24-hour counters, the purge and the erasure of
            # personal data go by that date.
            vals = dict(vals, done_at=fields.Datetime.now())
        if any(vals.get(name) for name in (*PERSONAL_TEXTS, *FREE_TEXTS)):
            # each message by its own schema and its own personal values
            for message in self:
                split = message._split_personal(vals)
                clear = {k: split.pop(k) for k in PERSONAL_TEXTS.values() if k in split}
                super(LogisticsMessage, message).write(split)
                if clear:  # written by whoever could write the text it comes with
                    super(LogisticsMessage, message.sudo()).write(clear)
            return True
        emptied = {PERSONAL_TEXTS[name]: False for name in PERSONAL_TEXTS if name in vals}
        result = super().write(vals)
        if emptied:
            super(LogisticsMessage, self.sudo()).write(emptied)
        return result

    # personal data -----------------------------------------------------------------------------
    def _payload_masking(self, vals=None):
        """How the payload is masked: ``(paths, keys)``, one of them ``None``. By its
        schema's ``x-personal`` paths; by the names of every personal field of every schema,
        wherever they occur, when it has no schema or does not follow it (refused at
        intake, or by a validation)."""
        vals = vals or {}
        registry = self._schema_registry()
        message_type = vals.get("message_type") or self.message_type
        version = vals.get("schema_version") or self.schema_version or None
        category = vals.get("error_category", self.error_category)
        if message_type and registry.schema(message_type, version) and category != "validation":
            return registry.personal_paths(message_type, version), None
        return None, registry.personal_keys()

    def _split_personal(self, vals):
        """``vals`` (for this message, or a new one when empty) as stored: each personal
        text readable with its personal values masked, the clear text in its
        ``*_personal`` field when they differ, and the payload's personal values masked
        wherever else they occur: in a partner's body under the partner's own field names,
        and in the free texts (an error quoting the phone number a partner refused).

        The payload is masked as ``_payload_masking`` says, a partner's body by the names
        of every personal field of every schema and by the payload's values; a text that is
        not JSON is hidden whole. A payload written by someone outside the personal-data
        group keeps the values they saw masked (see ``personal.restore_masked``)."""
        names = [n for n in PERSONAL_TEXTS if n in vals]
        free = [n for n in FREE_TEXTS if vals.get(n)]
        if not names and not free:
            return vals
        vals = dict(vals)
        registry = self._schema_registry()
        keys = registry.personal_keys()
        values = set()
        if vals.get("payload"):
            paths, payload_keys = self._payload_masking(vals)
            if self and not self.env.su and not self.env.user.has_group(PERSONAL_GROUP):
                vals["payload"] = self._restore_masked(vals["payload"])
            readable, clear, values = personal.split_text(
                vals["payload"], paths=paths, keys=payload_keys
            )
            vals["payload"] = readable
            vals["payload_personal"] = clear or False
        elif "payload" in vals:
            vals["payload_personal"] = False
        elif self:
            values = self._personal_values()
        for name in names:
            if name == "payload":
                continue
            if not vals[name]:
                vals[PERSONAL_TEXTS[name]] = False
                continue
            readable, clear, _found = personal.split_text(vals[name], keys=keys, values=values)
            vals[name] = readable
            vals[PERSONAL_TEXTS[name]] = clear or False
        for name in free:
            # by the payload's values only: a partner's body, masked by field names, would
            # also hide a document's "name"
            vals[name] = personal.redact_values(vals[name], values)
        return vals

    def _restore_masked(self, payload_text):
        """``payload_text`` edited by someone who saw this message's payload masked, with
        the values left masked put back from the clear payload."""
        self.ensure_one()
        clear = self.sudo().payload_personal
        if not clear:
            return payload_text
        try:
            edited, clear_data = json.loads(payload_text), json.loads(clear)
        except ValueError:
            return payload_text
        paths, keys = self._payload_masking()
        try:
            restored = personal.restore_masked(edited, clear_data, paths=paths, keys=keys)
        except personal.MaskedEditRefused as exc:
            raise UserError(
                self.env._(
                    "%(message)s: items of %(where)s hold personal data you cannot see; adding "
                    "or removing some would move it to other items. Ask someone of the Logistics "
                    "Integration / Personal data group to make this change.",
                    message=self.name,
                    where=str(exc),
                )
            ) from None
        return json.dumps(restored, indent=2, sort_keys=True)

    def _personal_values(self, skip=()):
        """The personal values of this message's payload (see ``_split_personal``)."""
        self.ensure_one()
        clear = self.sudo().payload_personal
        if "payload" in skip or not clear:
            return set()
        paths, keys = self._payload_masking()
        return personal.split_text(clear, paths=paths, keys=keys)[2]

    def _redact(self, text):
        """``text`` (a job's summary, a partner's words) with this message's personal values
        masked."""
        if not text or not isinstance(text, str):
            return text
        values = self._personal_values()
        return personal.redact_values(text, values) if values else text

    def _clear_text(self, name):
        """The clear text of the personal text ``name``, for the integration's own use."""
        self.ensure_one()
        return self.sudo()[PERSONAL_TEXTS[name]] or self[name]

    # schemas ------------------------------------------------------------------------------
    @api.model
    def _logistics_schema_folders(self):
        """Folders holding canonical JSON Schemas: the ``schemas/`` folder of this module and
        of every installed module built on it (a module only drops its schemas there); a
        module may add others by overriding."""
        return list(_schema_folders(frozenset(self.env.registry._init_modules)))

    @api.model
    def _schema_registry(self):
        folders = tuple(f for f in self._logistics_schema_folders() if f and os.path.isdir(f))
        if folders not in _registries:
            _registries[folders] = SchemaRegistry(folders)
        return _registries[folders]

    def _get_payload(self):
        self.ensure_one()
        text = self._clear_text("payload")
        return json.loads(text) if text else {}

    # outbound --------------------------------------------------------------------------------
    @api.model
    def _create_outbound(
        self,
        backend,
        message_type,
        payload,
        record=None,
        correlation_id=None,
        idempotency_key=None,
        subject=None,
        ack_expected=False,
        former_keys=(),
    ):
        """Create an outbound message in the current transaction and queue its job.

        A message already stored under ``idempotency_key`` (or one of ``former_keys``, the
        keys the same message had under an earlier key format) is returned instead.
        A payload breaking its schema is kept as ``failed`` (validation): it lands in the
        exception queue where a manager can fix it, instead of being lost."""
        if idempotency_key:
            existing = self.sudo().search(
                [
                    ("backend_id", "=", backend.id),
                    ("direction", "=", "out"),
                    ("idempotency_key", "in", [idempotency_key, *former_keys]),
                ],
                order="id",
                limit=1,
            )
            if existing:
                return existing
        registry = self._schema_registry()
        # the version the partner speaks (see logistics_message_versions.py)
        version, payload, refusal = self._outbound_in_version(backend, message_type, payload)
        vals = {
            "backend_id": backend.id,
            "direction": "out",
            "message_type": message_type,
            "schema_version": version,
            "state": "pending",
            "idempotency_key": idempotency_key or str(uuid.uuid4()),
            "correlation_id": correlation_id or str(uuid.uuid4()),
            "payload": json.dumps(payload, indent=2, sort_keys=True, default=str),
            "subject": subject or (record.display_name if record else False),
            "res_model": record._name if record else False,
            "res_id": record.id if record else False,
            "ack_expected": ack_expected,
        }
        try:
            if refusal:
                raise PayloadInvalid(refusal)
            registry.validate(message_type, payload, version=version)
        except PayloadInvalid as exc:
            vals.update(state="failed", error_category="validation", error_message=str(exc))
        try:
            message = self.sudo().create(vals)
        except psycopg2.errors.UniqueViolation:
            # Two requests sent the same key at the same moment; the other one stored it,
            # outside this transaction's view: the caller asks again and gets its id.
            raise UserError(
                self.env._(
                    "A message with the key %(key)s for %(backend)s is being stored by another "
                    "request at this very moment: send it again to get its id.",
                    key=vals["idempotency_key"],
                    backend=backend.name,
                )
            ) from None
        if message.state == "pending":
            message._enqueue(new=True)
        elif backend.operating_mode == "shadow":
            # what the suite could not build is part of the parallel run's comparison too
            self.env["logistics.parallel.pair"]._record_suite(message)
        return message

    def _enqueue(self, eta=None, new=False):
        """Queue the job that sends (outbound) or processes (inbound) each message.

        ``identity_key`` keeps one waiting job per message, whatever calls this; a message
        created in this transaction (``new``) has no job yet, so the check is skipped."""
        for msg in self:
            method = "_job_send" if msg.direction == "out" else "_job_process"
            delayable = msg.with_delay(
                channel=f"root.logistics.{msg.backend_kind}",  # a channel per backend kind
                eta=eta,
                identity_key=None if new else f"logistics.message:{msg.id}:{method}",
                description=f"{msg.message_type} {msg.name}",
            )
            job = getattr(delayable, method)()
            # queue_job returns the existing queue.job record when the identity key matches
            # a waiting job, and a new Job otherwise.
            msg.job_id = job if isinstance(job, models.BaseModel) else job.db_record()

    def _job_send(self):
        """Queue job: one delivery attempt. It never raises for expected failures: the
        message's own state records the outcome and, when a retry is due, a new job is
        queued with an ETA in this same transaction."""
        self.ensure_one()
        if self.direction != "out" or self.state != "pending":
            return f"nothing to do: {self.name} is {self.state}"
        backend = self.backend_id
        now = fields.Datetime.now()
        if not backend.active:
            self._fail("business", self._archived_reason())
            return "backend archived"
        if backend.operating_mode == "shadow":
            return self._record_in_shadow(backend)
        if backend._circuit_is_open(now):
            # Held back, not lost, and no attempt is spent while the partner is down.
            self.next_retry_at = backend.circuit_open_until
            self._enqueue(eta=backend.circuit_open_until)
            return f"held: circuit open until {backend.circuit_open_until}"
        wait = backend._rate_limit_slot()
        if wait:
            # The partner's rate limit is used up for longer than a short pause: the job
            # comes back for the next slot, and no attempt is spent.
            eta = now + timedelta(seconds=math.ceil(wait))
            self.next_retry_at = eta
            self._enqueue(eta=eta)
            return f"held: rate limit of {backend.name}, next slot in {wait:.2f} s"
        return self._attempt(lambda: self._send_once(backend, now))

    def _attempt(self, run):
        """Run one delivery or processing attempt and record it in the message's attempt
        history (time, duration, HTTP status or error, job, what the job reports)."""
        started_at = fields.Datetime.now()
        self.write({"attempts": self.attempts + 1, "last_attempt_at": started_at})
        clock = time.monotonic()
        summary = self._redact(run())
        duration_ms = round((time.monotonic() - clock) * 1000)
        Attempt = self.env["logistics.message.attempt"].sudo()
        job_uuid = self.env.context.get("job_uuid")
        job = (
            self.env["queue.job"].sudo().search([("uuid", "=", job_uuid)], limit=1)
            if job_uuid
            else self.env["queue.job"]
        )
        outcome = Attempt._outcome_of(self)
        self._count_attempt(outcome)
        Attempt.create(
            {
                "message_id": self.id,
                "number": Attempt.search_count([("message_id", "=", self.id)]) + 1,
                "started_at": started_at,
                "duration_ms": duration_ms,
                "outcome": outcome,
                "http_status": self.http_status,
                "error": (self.error_message or "").split("\n\n")[0][:500] or False,
                "job_id": job.id,
                "job_result": str(summary)[:500],
            }
        )
        return summary

    def _count_attempt(self, outcome):
        """The attempt in the metrics endpoint's counters (see tools/metrics.py)."""
        backend_id = self.backend_id.id
        metrics.inc(
            self.env,
            "attempts",
            backend_id,
            {
                "message_type": self.message_type,
                "direction": self.direction,
                "outcome": outcome,
                "category": (self.error_category or "") if outcome != "done" else "",
            },
        )
        if outcome == "retry":
            metrics.inc(self.env, "retries", backend_id, {"message_type": self.message_type})
        if self.direction == "out" and self.state in ("sent", "acknowledged"):
            latency = (fields.Datetime.now() - self.create_date).total_seconds()
            metrics.observe_latency(self.env, backend_id, self.message_type, max(latency, 0))

    def _send_once(self, backend, now):
        try:
            adapter = backend._get_adapter()
            adapter.require(SEND)
            result = adapter.send(self)
        except TransportError as err:
            self.http_status = err.status
            if err.transient:
                backend._circuit_record_failure(now)
                return self._retry_or_die(err.category, str(err), err.retry_after)
            self._fail(err.category, self._refusal_reason(err, adapter))
            return f"failed: {err}"
        except PayloadInvalid as err:
            self._fail("validation", str(err))
            return f"failed: {err}"
        except (secret_box.SecretKeyMissing, secret_box.SecretUndecryptable) as err:
            self._fail("auth", str(err))
            return f"failed: {err}"
        except psycopg2.OperationalError:
            raise  # concurrency errors: queue_job retries the whole job
        except Exception as err:
            _logger.exception("sending %s", self.name)
            self._fail("technical", f"{type(err).__name__}: {err}", traceback.format_exc())
            return f"failed: {err}"
        backend._circuit_record_success()
        self.write(
            {
                "state": "acknowledged" if result.acknowledged else "sent",
                "http_status": result.status,
                "external_id": result.external_id or self.external_id,
                "raw_payload": result.request_body,
                "done_at": fields.Datetime.now(),
                "next_retry_at": False,
                "error_category": False,
                "error_message": False,
            }
        )
        self._on_sent(result)
        self._supersede_earlier()
        return f"sent: HTTP {result.status}" if result.status else "sent"

    def _record_in_shadow(self, backend):
        """Parallel run: build what would be sent (the adapter's wire form), keep it, do not
        send it; compare it with the legacy output of the same document."""
        try:
            body = backend._get_adapter().preview(self)
        except TransportError as err:
            self._fail(err.category, str(err))
            return f"failed: {err}"
        except PayloadInvalid as err:
            self._fail("validation", str(err))
            return f"failed: {err}"
        self.write(
            {
                "state": "shadow",
                "raw_payload": body,
                "done_at": fields.Datetime.now(),
                "next_retry_at": False,
                "error_category": False,
                "error_message": False,
            }
        )
        self._supersede_earlier()
        self.env["logistics.parallel.pair"]._record_suite(self)
        return "recorded in the parallel run, not sent"

    def _archived_reason(self):
        return self.env._(
            "The backend %s is archived: its messages are neither sent nor processed. "
            "Unarchive it, then press Retry.",
            self.backend_id.name,
        )

    def _on_sent(self, result):
        """Hook for modules: the partner accepted the message."""
        response = result.response if isinstance(result.response, dict) else {}
        if response.get("sftp_path"):
            self.sudo().sftp_remote_path = response["sftp_path"]

    def _retry_refusal(self):
        """Why this message must not be retried (or its payload edited), in words: it was
        superseded, or the record it concerns moved on (done, cancelled...: asked to the
        record, see ``_logistics_moved_on``). None when it may be retried. Called at the
        top of every retry action."""
        self.ensure_one()
        if self.state == "superseded":
            return self.env._(
                "%(message)s was superseded by %(later)s, which succeeded on %(date)s; "
                "nothing to retry.",
                message=self.name,
                later=self.superseded_by_id.name or self.env._("a later message"),
                date=fields.Datetime.to_string(self.superseded_at) if self.superseded_at else "",
            )
        if self.state not in EXCEPTION_STATES:
            return None
        record = self._related_record()
        moved_on = record and record._logistics_moved_on(self)
        if moved_on:
            return self.env._(
                "%(message)s was not retried: %(why)s.", message=self.name, why=moved_on
            )
        return None

    def _split_retryable(self):
        """``(retryable, refusals)``: the messages that may be retried, and the sentences
        saying why the others may not (see ``_retry_refusal``)."""
        refusals = {}
        for msg in self:
            refusal = msg.sudo()._retry_refusal()
            if refusal:
                refusals[msg.id] = refusal
        return self.filtered(lambda m: m.id not in refusals), list(refusals.values())

    def _retry_or_die(self, category, reason, retry_after=None):
        backend = self.backend_id
        if self.attempts >= backend.retry_max_attempts:
            self._set_exception(
                "dead",
                category,
                self.env._(
                    "Gave up after %(n)s attempts. Last error: %(reason)s",
                    n=self.attempts,
                    reason=reason,
                ),
            )
            return "dead"
        delay = backend._retry_delay(self.attempts, retry_after)
        eta = fields.Datetime.now() + timedelta(seconds=delay)
        self.write(
            {
                "next_retry_at": eta,
                "error_category": category,
                "error_message": self.env._(
                    "Attempt %(n)s of %(max)s failed, next try at %(eta)s (UTC): %(reason)s",
                    n=self.attempts,
                    max=backend.retry_max_attempts,
                    eta=eta,
                    reason=reason,
                ),
            }
        )
        self._enqueue(eta=eta)
        return f"retry in {delay}s"

    def _fail(self, category, reason, details=None):
        self._set_exception("failed", category, reason, details)

    def _set_exception(self, state, category, reason, details=None):
        self.write(
            {
                "state": state,
                "error_category": category,
                "error_message": reason if not details else f"{reason}\n\n{details}",
                "next_retry_at": False,
            }
        )
        if self.direction == "out" and self.backend_id.operating_mode == "shadow":
            self.env["logistics.parallel.pair"]._record_suite(self)
        record = self._related_record()
        if record:
            record._logistics_on_message_failed(self)

    def _related_record(self):
        """The business record the message concerns (sudo), if it still exists."""
        self.ensure_one()
        if not self.res_model or not self.res_id or self.res_model not in self.env:
            return None
        return self.env[self.res_model].sudo().browse(self.res_id).exists() or None

    def _refusal_reason(self, err, adapter):
        """What an operator reads when the partner refused this message: the partner, the
        record, the partner's reasons with the fields they name and what to do, in one
        paragraph; the HTTP status, URL and raw answer below it."""
        reasons = adapter.parse_error(err.status, err.body) if err.body else []
        if err.status is None or not reasons:
            return str(err)
        record = self._related_record()
        what = record._logistics_exchange_label() if record else (self.subject or self.name)
        partner = self.backend_id.name
        detail = "; ".join(f"{text} ({path})" if path else text for path, text in reasons)
        paths = [path for path, _text in reasons if path]
        hint = record._logistics_refusal_hint(self, paths) if record else None
        if not hint and "idempotency_key_reuse" in str(err.body or ""):
            # the partner holds another body under this key: sending it again unchanged, or
            # editing it under the same key, is refused again
            hint = self.env._(
                "%s already received another version of this message under the same key. "
                "Press Retry: it is sent as a new revision, with a new key.",
                partner,
            )
        if not hint and err.category == "validation" and not paths:
            # the partner refused the data without naming a field
            hint = self.env._(
                "It did not say which field: compare the record with what %s expects, "
                "correct it, then send it again from the record.",
                partner,
            )
        if not hint:
            hint = {
                "validation": self.env._(
                    "Correct the data it names, then press Edit payload and retry (or send "
                    "it again from the record)."
                ),
                "auth": self.env._(
                    "Check the credentials of backend %s, then press Retry.", partner
                ),
            }.get(
                err.category,
                self.env._(
                    "Check with %s what it expects, then press Retry, or Ignore it.", partner
                ),
            )
        sentence = self.env._(
            "%(partner)s refused %(what)s: %(detail)s. %(hint)s",
            partner=partner,
            what=what,
            detail=detail.rstrip("."),
            hint=hint,
        )
        return f"{sentence}\n\n{self.env._('Technical details')}: {err}"

    # erasure ------------------------------------------------------------------------------------
    def _erase_personal_data(self):
        """Erase the raw bodies and the personal values of the payload (by the rule that
        masks them); keep the rest."""
        for msg in self:
            vals = {
                "raw_payload": False,
                "response_payload": False,
                "raw_headers": False,
                "personal_data_erased": True,
            }
            clear = msg._clear_text("payload")
            if clear:
                paths, keys = msg._payload_masking()
                try:
                    data = json.loads(clear)
                except ValueError:
                    vals["payload"] = personal.ERASED
                else:
                    erased = (
                        personal.mask_paths(data, paths, personal.ERASED)
                        if paths is not None
                        else personal.mask_keys(data, keys, personal.ERASED)
                    )
                    vals["payload"] = json.dumps(erased, indent=2, sort_keys=True)
            msg.sudo().write(vals)

    @api.model
    def _cron_erase_personal_data(self, limit=5000):
        """Erase the personal data of finished messages past their backend's retention for
        personal data (a batch per run; the cron is triggered again while some are left)."""
        now = fields.Datetime.now()
        done = 0
        Backend = self.env["logistics.backend"].sudo()
        self.env["logistics.parallel.pair"]._erase_personal_data_due(now)
        for backend in Backend.search([("personal_data_days", ">", 0)]):
            due = self.sudo().search(
                [
                    ("backend_id", "=", backend.id),
                    ("state", "in", DONE_STATES),
                    ("personal_data_erased", "=", False),
                    ("done_at", "<", now - timedelta(days=backend.personal_data_days)),
                ],
                limit=limit - done,
                order="id",
            )
            due._erase_personal_data()
            done += len(due)
            if done >= limit:
                self.env.ref(
                    "logistics_integration_base.cron_logistics_erase_personal_data"
                )._trigger()
                break
        return done

    # inbound ---------------------------------------------------------------------------------
    @api.model
    def _store_inbound(self, backend, vals_list, validate=True):
        """The one path storing inbound events, whatever brought them (webhook, file, poll).

        ``vals_list``: message values, each with at least ``idempotency_key`` and
        ``message_type``; ``payload`` may be a dict (serialised here). Events already stored
        for this backend under the same key are not stored again (also when two arrive at
        the same moment). A payload breaking its schema is stored as failed (validation) for
        the exception queue, never dropped. New ``received`` messages are queued for
        processing. Returns ``(messages, new)``: every event's message, and the new ones."""
        Message = self.with_user(SUPERUSER_ID).sudo().with_context(tracking_disable=True)
        company_id = vals_list[0].get("company_id") if vals_list else None
        if company_id:
            # the jobs run in the backend's company, and the environment need not read the
            # user's companies to know it
            Message = Message.with_context(allowed_company_ids=[company_id])
        keys = [vals["idempotency_key"] for vals in vals_list]
        existing = self._find_inbound(Message, backend, keys)
        to_create = []
        for vals in vals_list:
            if vals["idempotency_key"] in existing:
                continue
            vals = dict(vals, backend_id=backend.id, direction="in")
            vals.setdefault("state", "received")
            vals.setdefault("correlation_id", str(uuid.uuid4()))
            payload = vals.get("payload")
            if payload is not None and not isinstance(payload, str):
                vals["payload"] = json.dumps(payload, indent=2, sort_keys=True, default=str)
            if validate and vals["state"] == "received" and payload is not None:
                try:
                    data = json.loads(vals["payload"]) if isinstance(payload, str) else payload
                    self._schema_registry().validate(
                        vals["message_type"], data, version=vals.get("schema_version") or None
                    )
                except (ValueError, PayloadInvalid) as exc:
                    vals.update(state="failed", error_category="validation", error_message=str(exc))
            if vals["state"] == "received" and backend.operating_mode == "shadow":
                vals["state"] = "shadow"  # parallel run: stored, not applied
            to_create.append(vals)
        new = Message.browse()
        if to_create:
            try:
                with self.env.cr.savepoint():
                    new = self._create_and_enqueue(Message, to_create)
            except psycopg2.errors.UniqueViolation:
                # The same event arrived twice at the same moment: the other request
                # stored it; store the others one by one.
                for vals in to_create:
                    try:
                        with self.env.cr.savepoint():
                            new |= self._create_and_enqueue(Message, [vals])
                    except psycopg2.errors.UniqueViolation:
                        continue
        by_key = dict(existing, **{m.idempotency_key: m for m in new})
        missing = [key for key in keys if key not in by_key]
        if missing:
            by_key.update(self._find_inbound(Message, backend, missing))
        messages = Message.browse([by_key[k].id for k in keys if k in by_key])
        return messages.with_env(self.env), new.with_env(self.env)

    @api.model
    def _create_and_enqueue(self, Message, vals_list):
        messages = Message.create(vals_list)
        messages.filtered(lambda m: m.state == "received")._enqueue(new=True)
        return messages

    @api.model
    def _find_inbound(self, Message, backend, keys):
        return {
            m.idempotency_key: m
            for m in Message.search(
                [
                    ("backend_id", "=", backend.id),
                    ("direction", "=", "in"),
                    ("idempotency_key", "in", list(keys)),
                ]
            )
        }

    @api.model
    def _event_vals(self, event, key=None):
        """Message values of an adapter's ``InboundEvent``."""
        vals = {
            "idempotency_key": key or event.event_id,
            "message_type": event.message_type,
            "schema_version": event.schema_version,
            "payload": event.data,
            "state": "received",
            "external_id": event.external_id,
            "subject": event.subject,
            "event_time": to_naive_utc(event.event_time),
        }
        if event.sequence is not None:
            vals["sequence"] = event.sequence
        if event.correlation_id:
            vals["correlation_id"] = event.correlation_id
        if event.ignored_reason:
            # Authenticated, understood, and needing no processing: kept, closed at once.
            vals.update(state="ignored", ignore_reason=event.ignored_reason)
        return vals

    def _job_process(self):
        """Queue job: process one inbound message with the handler of its type,
        idempotently."""
        self.ensure_one()
        if self.direction != "in" or self.state != "received":
            return f"nothing to do: {self.name} is {self.state}"
        return self._attempt(self._process_once)

    def _process_once(self):
        if not self.backend_id.active:
            # e.g. a neutralized copy of the database: nothing may reach the partner, and a
            # handler may have to (a pull retried)
            self._fail("business", self._archived_reason())
            return "backend archived"
        if not self.payload and self.raw_payload:
            # refused at intake before a payload could be read from it
            try:
                json.loads(self._clear_text("raw_payload"))
            except ValueError as exc:
                self._fail(
                    "validation",
                    self.env._(
                        "What %(backend)s sent is not valid JSON (%(error)s). Ask the partner "
                        "to send it again, or correct it with Edit payload and retry.",
                        backend=self.backend_id.name,
                        error=exc,
                    ),
                )
                return "failed: not JSON"
        handler_class = get_handler_class(self.message_type, self.env)
        if handler_class is None:
            self._fail(
                "validation",
                self.env._(
                    "%(backend)s sent a message of type '%(type)s', which no installed module "
                    "handles. Install the module that handles it and press Retry, or ignore "
                    "this message.",
                    backend=self.backend_id.name,
                    type=self.message_type,
                ),
            )
            return "no handler"
        handler = handler_class(self.sudo())
        try:
            try:
                handler.prepare()
            except TransportError as err:
                vals = {"http_status": err.status}
                if err.body:
                    vals["raw_payload"] = err.body
                self.sudo().write(vals)
                self._fail(err.category, str(err))
                return f"failed: {err}"
            data = self._get_payload()
            self._schema_registry().validate(
                self.message_type, data, version=self.schema_version or None
            )
            data = self._inbound_in_latest_version(data)  # handlers see the latest shape
            attention = None
            try:
                with self.env.cr.savepoint():
                    try:
                        record = handler.resolve(data)
                        if record:
                            handler.link(record)
                        outcome = handler.process(data, record)
                    except NeedsAttention as err:
                        attention = err  # keep what the handler did
            except psycopg2.errors.UniqueViolation as err:
                return self._applied_concurrently(err)
            if attention is not None:
                raise attention
        except PayloadInvalid as err:
            self._fail("validation", str(err))
            return f"failed: {err}"
        except RetryLater as err:
            return self._retry_or_die("business", err.reason, err.seconds)
        except NotForUs as err:
            self.write(
                {
                    "state": "ignored",
                    "ignore_reason": err.reason,
                    "done_at": fields.Datetime.now(),
                    "next_retry_at": False,
                    "error_category": False,
                    "error_message": False,
                }
            )
            return f"ignored: {err.reason}"
        except (BusinessError, UserError, ValidationError) as err:
            self._fail("business", str(err.args[0] if err.args else err))
            return f"failed: {err}"
        except (psycopg2.OperationalError, RetryableJobError):
            raise  # concurrency: the job runs again in a new transaction
        except Exception as err:
            _logger.exception("processing %s", self.name)
            self._fail("technical", f"{type(err).__name__}: {err}", traceback.format_exc())
            return f"failed: {err}"
        self.write(
            {
                "state": "processed",
                "done_at": fields.Datetime.now(),
                "next_retry_at": False,
                "error_category": False,
                "error_message": False,
            }
        )
        self._on_processed()
        self._supersede_earlier()
        return outcome or "processed"

    def _applied_concurrently(self, err):
        """The handler met a unique violation: another transaction applied news about the
        same record at the same moment (six identical confirmations posted at once, two
        tracking updates sharing an event) and committed first. This transaction's view
        predates it, so the message is applied again in a new transaction, where the
        handler (idempotent) sees what is already there and applies only what is new: a
        duplicate ends processed, never an exception. Should the violation come back every
        time, the message lands in the exception queue."""
        constraint = getattr(getattr(err, "diag", None), "constraint_name", None) or "unique"
        job_uuid = self.env.context.get("job_uuid")
        job = job_uuid and self.env["queue.job"].sudo().search([("uuid", "=", job_uuid)], limit=1)
        if not job or job.retry < CONCURRENT_RETRIES:
            raise RetryableJobError(
                f"{self.name}: applied at the same moment by another transaction "
                f"({constraint}); applied again in a new one",
                seconds=1,
            )
        self._fail(
            "technical",
            self.env._(
                "%(message)s could not be applied: %(tries)s times another transaction was "
                "applying the same data at the same moment (%(constraint)s). Press Retry; if it "
                "fails again, check %(record)s for a duplicate.",
                message=self.name,
                tries=job.retry + 1,
                constraint=constraint,
                record=self.subject or self.res_model or self.name,
            ),
        )
        return f"failed: {constraint} kept being violated"

    def _on_processed(self):
        """Hook for modules: an inbound message was applied by its handler (``res_model`` /
        ``res_id`` name the record it was about). Runs in the same transaction: what a
        module does here is rolled back with the message if it fails. Used by modules that
        act on confirmed milestones (billing events on a delivery, a shipment, a receipt)."""

    # synchronous calls -------------------------------------------------------------------------
    @api.model
    def _create_call(
        self,
        backend,
        operation,
        payload,
        record=None,
        subject=None,
        correlation_id=None,
        result=None,
        error=None,
        seconds=0.0,
        started_at=None,
    ):
        """The record of a synchronous call once it was made (see backend ``_call``): its
        request, and the partner's answer (``result``) or the failure (``error``), with one
        attempt in its history."""
        vals = {
            "backend_id": backend.id,
            "direction": "out",
            "is_call": True,
            "message_type": operation,
            "state": "acknowledged",
            "idempotency_key": str(uuid.uuid4()),
            "correlation_id": correlation_id or str(uuid.uuid4()),
            "payload": json.dumps(payload, indent=2, sort_keys=True, default=str),
            "subject": subject or (record.display_name if record else False),
            "res_model": record._name if record else False,
            "res_id": record.id if record else False,
            "attempts": 1,
            "last_attempt_at": started_at or fields.Datetime.now(),
            "duration_ms": round(seconds * 1000),
        }
        if result is not None:
            vals.update(
                http_status=result.status,
                external_id=result.external_id,
                raw_payload=result.request_body,
                response_payload=result.response_body,
            )
        if error is not None:
            vals.update(
                state="failed",
                error_category=getattr(error, "category", None) or "technical",
                error_message=str(error) or type(error).__name__,
                http_status=getattr(error, "status", None),
                response_payload=getattr(error, "body", None),
            )
        message = self.sudo().create(vals)
        self.env["logistics.message.attempt"].sudo().create(
            {
                "message_id": message.id,
                "number": 1,
                "started_at": vals["last_attempt_at"],
                "duration_ms": vals["duration_ms"],
                "outcome": "failed" if error is not None else "done",
                "http_status": message.http_status,
                "error": (message.error_message or "").split("\n\n")[0][:500] or False,
            }
        )
        return message

    def _link_record(self, record):
        """Show ``record`` (the first, for several: a handler links the one it applies the
        message to once it knows it) as what the message is about."""
        record = record[:1]
        self.write(
            {
                "res_model": record._name,
                "res_id": record.id,
                "subject": self.subject or record.display_name,
            }
        )

    # exception queue ---------------------------------------------------------------------------
    def _check_user(self):
        if not self.env.user.has_group("logistics_integration_base.group_logistics_user"):
            raise AccessError(self.env._("Only Logistics Integration users can do this."))

    def action_retry(self):
        """Retry failed or dead messages (and give pending ones a fresh start). Messages
        that moved on (superseded, or about a record that is done or cancelled) are
        skipped, and the notification says which; when nothing is left, the reasons are
        the error."""
        self._check_user()
        self.check_access("read")  # as the caller: another company's messages are refused
        retryable, refusals = self._split_retryable()
        if not retryable and refusals:
            raise UserError("\n".join(refusals))
        result = retryable._retry(self.env.user.name)
        if not refusals:
            return result
        return retryable._retry_skipped_notification(refusals, result)

    def _retry_skipped_notification(self, refusals, result=None):
        """The notification after a bulk retry that skipped messages: how many were retried,
        why each skipped one was not, and what the retry itself said (``result``, when it is
        a notification)."""
        said = []
        if isinstance(result, dict) and result.get("tag") == "display_notification":
            said = [result["params"].get("message") or ""]
        return {
            "type": "ir.actions.client",
            "tag": "display_notification",
            "params": {
                "title": self.env._(
                    "%(retried)s retried, %(skipped)s skipped",
                    retried=len(self),
                    skipped=len(refusals),
                ),
                "message": "\n".join(refusals + [line for line in said if line]),
                "type": "warning",
                "sticky": True,
                "next": {"type": "ir.actions.client", "tag": "soft_reload"},
            },
        }

    def _retry(self, requested_by):
        """Retry, for code that decided it (e.g. a record that now exists): ``requested_by``
        names who or what asked, on each message's chatter."""
        retryable = self.filtered(
            lambda m: m.state in EXCEPTION_STATES + OPEN_STATES and not m.is_call
        )
        if not retryable:
            raise UserError(
                self.env._(
                    "Only failed, dead or pending messages can be retried (a synchronous call "
                    "is made again from the record it concerns)."
                )
            )
        for direction, start in (("out", "pending"), ("in", "received")):
            batch = retryable.filtered(lambda m, d=direction: m.direction == d).sudo()
            if not batch:
                continue
            batch.write(
                {
                    "state": start,
                    "attempts": 0,
                    "next_retry_at": False,
                    "error_category": False,
                    "error_message": False,
                }
            )
            # A job already waiting for its ETA (backoff, open circuit) is reused by
            # identity key: make it due now, as the operator asked.
            batch.job_id.filtered(lambda j: j.state == "pending" and j.eta).write({"eta": False})
            batch._enqueue()
        for msg in retryable.sudo():
            msg.message_post(body=self.env._("Retry requested by %s.", requested_by))
        return True

    def action_ignore(self, reason=None):
        """Close messages that need no further action, with a reason."""
        self._check_user()
        self.check_access("read")
        if not reason:
            raise UserError(self.env._("Give a reason to ignore a message."))
        target = self.filtered(lambda m: m.state not in DONE_STATES).sudo()
        target.write({"state": "ignored", "ignore_reason": reason, "next_retry_at": False})
        for msg in target:
            msg.message_post(
                body=self.env._(
                    "Ignored by %(user)s: %(reason)s", user=self.env.user.name, reason=reason
                )
            )
            record = msg._related_record()
            if record:
                record._logistics_on_message_ignored(msg)
        return True

    def action_open_ignore_wizard(self):
        return {
            "type": "ir.actions.act_window",
            "name": self.env._("Ignore %s", self.name)
            if len(self) == 1
            else self.env._("Ignore %s messages", len(self)),
            "res_model": "logistics.message.ignore",
            "view_mode": "form",
            "target": "new",
            "context": {"active_ids": self.ids, "active_model": self._name},
        }

    def action_open_edit_payload(self):
        self.ensure_one()
        self.check_access("read")
        refusal = self.sudo()._retry_refusal()
        if refusal:
            raise UserError(refusal)
        # what the caller may read: personal values masked outside the personal-data group
        # (they are put back when the edited payload is saved)
        if self.env.su or self.env.user.has_group(PERSONAL_GROUP):
            payload, raw = self._clear_text("payload"), self._clear_text("raw_payload")
        else:
            payload, raw = self.payload, self.raw_payload
        return {
            "type": "ir.actions.act_window",
            "name": self.env._("Edit the payload of %s and retry", self.name),
            "res_model": "logistics.message.edit.payload",
            "view_mode": "form",
            "target": "new",
            "context": {
                "default_message_id": self.id,
                # refused at intake: start from what was received
                "default_payload": payload or raw,
            },
        }

    def _edit_payload_and_retry(self, payload_text):
        """Managers: replace the canonical payload (validated) and retry."""
        self.ensure_one()
        if not self.env.user.has_group("logistics_integration_base.group_logistics_manager"):
            raise AccessError(self.env._("Only Logistics Integration managers can edit payloads."))
        refusal = self.sudo()._retry_refusal()
        if refusal:
            raise UserError(refusal)
        try:
            data = json.loads(payload_text)
        except ValueError as exc:
            raise UserError(self.env._("The payload is not valid JSON: %s", exc)) from None
        registry = self._schema_registry()
        if not self.env.su and not self.env.user.has_group(PERSONAL_GROUP):
            # edited as seen, masked: the personal values left masked stay what they were
            data = json.loads(self._restore_masked(json.dumps(data)))
        try:
            registry.validate(self.message_type, data, version=self.schema_version or None)
        except PayloadInvalid as exc:
            raise UserError(
                self.env._(
                    "The payload breaks the %(type)s schema at %(err)s",
                    type=self.message_type,
                    err=exc,
                )
            ) from None
        revision = self._revise_edited(data)  # outbound: a new revision, under a new key
        if revision:
            return revision
        self.sudo().write(
            {"payload": json.dumps(data, indent=2, sort_keys=True), "error_category": False}
        )
        self.message_post(body=self.env._("Payload edited by %s.", self.env.user.name))
        self._retry(self.env.user.name)
        return self

    # crons ------------------------------------------------------------------------------------
    @api.model
    def _cron_retry_scheduler(self, grace_minutes=2, limit=1000):
        """Safety net: re-queue open messages whose job is gone, finished or failed
        (job runner was down, job deleted or killed...) once their retry time is due."""
        now = fields.Datetime.now()
        candidates = self.sudo().search(
            [
                ("state", "in", OPEN_STATES),
                ("create_date", "<", now - timedelta(minutes=grace_minutes)),
                "|",
                ("next_retry_at", "=", False),
                ("next_retry_at", "<=", now),
            ],
            limit=limit,
            order="id",
        )
        stale = candidates.filtered(
            lambda m: not m.job_id or m.job_id.state in ("done", "failed", "cancelled")
        )
        stale._enqueue()
        return len(stale)

    @api.model
    def _cron_purge(self, batch_size=None, time_budget=None):
        """Delete finished messages older than their backend's retention (0 days: keep them),
        with their chatter (messages, tracking values, followers) and attachments.

        Oldest first, in batches of ``batch_size`` messages (parameter
        ``logistics_integration_base.purge_batch_size``, default 5,000). Run as the cron, each
        batch is committed on its own: a run cut short (worker time limit, restart) loses one
        batch at most and the next run carries on. After ``time_budget`` seconds (parameter
        ``logistics_integration_base.purge_time_budget``, default 60; 0: no limit) the run
        stops and triggers the cron again, to stay within the cron worker's time limit. Works
        on ids and SQL, not records, so that memory stays flat whatever the volume.
        Returns the number of messages deleted."""
        get_param = self.env["ir.config_parameter"].sudo().get_param
        if batch_size is None:
            batch_size = int(get_param("logistics_integration_base.purge_batch_size", 5000))
        if time_budget is None:
            time_budget = float(get_param("logistics_integration_base.purge_time_budget", 60))
        batch_size = max(1, batch_size)
        commit = not in_a_test(self.env.cr)  # tests run in one transaction
        started = time.monotonic()
        cr = self.env.cr
        self.env.flush_all()
        # A default value pointing at a message would dangle: the ORM's unlink drops it.
        cr.execute(
            "SELECT 1 FROM ir_default d JOIN ir_model_fields f ON f.id = d.field_id "
            "WHERE f.ttype = 'many2one' AND f.relation = %s LIMIT 1",
            [self._name],
        )
        has_defaults = bool(cr.fetchone())
        cr.execute(
            "SELECT id, retention_days FROM logistics_backend WHERE retention_days > 0 ORDER BY id"
        )
        now = fields.Datetime.now()
        total = 0
        for backend_id, retention_days in cr.fetchall():
            limit_date = now - timedelta(days=retention_days)
            last_id = 0
            while True:
                # One statement: the batch's rows are found through the primary key, in id
                # order, and deleted by their physical address (no second index lookup).
                cr.execute(
                    "DELETE FROM logistics_message WHERE ctid = ANY(ARRAY("
                    "SELECT ctid FROM logistics_message WHERE backend_id = %(backend)s "
                    "AND state IN %(states)s AND write_date < %(limit)s AND id > %(after)s "
                    "ORDER BY id LIMIT %(size)s)) "
                    "AND state IN %(states)s AND write_date < %(limit)s RETURNING id",
                    {
                        "backend": backend_id,
                        "states": DONE_STATES,
                        "limit": limit_date,
                        "after": last_id,
                        "size": batch_size,
                    },
                )
                ids = [row[0] for row in cr.fetchall()]
                if not ids:
                    break
                self._purge_leftovers(ids, has_defaults)
                total += len(ids)
                if commit:
                    # each batch its own transaction: a cron time-out loses nothing done
                    cr.commit()  # pylint: disable=invalid-commit
                if len(ids) < batch_size:
                    break
                last_id = max(ids)
                if time_budget > 0 and time.monotonic() - started > time_budget:
                    cron = self.env.ref(
                        "logistics_integration_base.cron_logistics_purge",
                        raise_if_not_found=False,
                    )
                    if cron:
                        cron.sudo()._trigger()  # carry on in a new run
                        if commit:
                            cr.commit()  # pylint: disable=invalid-commit
                    _logger.info(
                        "Purge: %d messages deleted in %.0f s, more left: run again",
                        total,
                        time.monotonic() - started,
                    )
                    return total
        _logger.info("Purge: %d messages deleted in %.0f s", total, time.monotonic() - started)
        return total

    def _purge_leftovers(self, ids, has_defaults):
        """After the messages ``ids`` were deleted by SQL, delete what hangs on them by
        (model, res_id) and no foreign key removes: chatter messages (their tracking values,
        notifications and reactions cascade), followers, external ids, scheduled messages
        and attachments (through the ORM, so that their files are collected from the
        filestore). Each table is read once per batch, over the batch's id range, keeping
        the rows whose message is gone (any message in the range that is kept keeps its
        own). Leaves the ORM cache empty."""
        cr = self.env.cr
        params = {"model": self._name, "first": min(ids), "last": max(ids)}

        def gone(table):
            return (
                f"res_id BETWEEN %(first)s AND %(last)s AND NOT EXISTS "
                f"(SELECT 1 FROM logistics_message m WHERE m.id = {table}.res_id)"
            )

        cr.execute(
            f"DELETE FROM mail_message WHERE model = %(model)s AND {gone('mail_message')} "
            "RETURNING id",
            params,
        )
        mail_ids = [row[0] for row in cr.fetchall()]
        cr.execute(
            f"DELETE FROM mail_followers WHERE res_model = %(model)s AND {gone('mail_followers')}",
            params,
        )
        cr.execute(
            f"DELETE FROM ir_model_data WHERE model = %(model)s AND {gone('ir_model_data')}",
            params,
        )
        cr.execute(
            f"SELECT id FROM ir_attachment WHERE res_model = %(model)s AND {gone('ir_attachment')}",
            params,
        )
        attachment_ids = [row[0] for row in cr.fetchall()]
        if mail_ids:
            cr.execute(
                "SELECT id FROM ir_attachment WHERE res_model = 'mail.message' "
                "AND res_id = ANY(%s)",
                [mail_ids],
            )
            attachment_ids += [row[0] for row in cr.fetchall()]
        if attachment_ids:
            self.env["ir.attachment"].sudo().browse(attachment_ids).unlink()
        cr.execute(
            "SELECT id FROM mail_scheduled_message WHERE model = %(model)s "
            f"AND {gone('mail_scheduled_message')}",
            params,
        )
        scheduled_ids = [row[0] for row in cr.fetchall()]
        if scheduled_ids:
            self.env["mail.scheduled.message"].sudo().browse(scheduled_ids).unlink()
        if has_defaults:
            self.env["ir.default"].sudo().discard_records(self.browse(ids))
        self.env.invalidate_all()

    @api.model
    def _cron_sla_check(self):
        """Flag messages waiting longer than their backend's SLA (pending, received, or sent
        and awaiting an acknowledgement)."""
        now = fields.Datetime.now()
        flagged = self.browse()
        for backend in self.env["logistics.backend"].sudo().search([("sla_minutes", ">", 0)]):
            limit_date = now - timedelta(minutes=backend.sla_minutes)
            flagged |= self.sudo().search(
                [
                    ("backend_id", "=", backend.id),
                    ("sla_breached", "=", False),
                    ("create_date", "<", limit_date),
                    "|",
                    ("state", "in", OPEN_STATES),
                    "&",
                    ("state", "=", "sent"),
                    ("ack_expected", "=", True),
                ]
            )
        flagged.write({"sla_breached": True})
        return len(flagged)

    # keys scoped to the database -----------------------------------------------------------
    @api.model
    def _scoped_key(self, *parts):
        """An idempotency key for the partner, unique across databases:
        ``<database part>:<parts joined by '-'>``, e.g. ``3f2a9c10:42-order.release-0``.

        The database part is the first 8 letters and digits of the ``database.uuid``
        parameter, which Odoo regenerates when it duplicates a database or restores one as
        a copy: a copy, or a second database on the same partner account, never sends the
        key of another database's message. Without the prefix, the rest is the key such
        messages had before keys were scoped; callers looking up a sent message search both.
        """
        params = self.env["ir.config_parameter"].sudo()
        db_uuid = params.get_param("database.uuid")
        if not db_uuid:
            db_uuid = str(uuid.uuid1())
            params.set_param("database.uuid", db_uuid)
        prefix = "".join(char for char in db_uuid if char.isalnum())[:8].lower()
        return f"{prefix}:{'-'.join(str(part) for part in parts)}"
