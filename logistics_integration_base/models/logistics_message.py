import json
import logging
import os
import traceback
import uuid
from datetime import timedelta

import psycopg2

from odoo import _, api, fields, models
from odoo.exceptions import AccessError, UserError, ValidationError

from ..tools import secrets as secret_box
from ..tools.canonical import PayloadInvalid, SchemaRegistry
from ..transport.http import TransportError

_logger = logging.getLogger(__name__)

OUT_STATES = ["pending", "sent", "acknowledged", "failed", "dead"]
IN_STATES = ["received", "processed", "failed", "dead"]
EXCEPTION_STATES = ("failed", "dead")
OPEN_STATES = ("pending", "received")
DONE_STATES = ("sent", "acknowledged", "processed", "ignored")

_registries = {}


class BusinessError(Exception):
    """A message cannot be processed for a business reason an operator can act on
    (unknown order, rejected by the partner...). Raised by inbound processors."""


class NeedsAttention(BusinessError):
    """The message was processed and its changes are kept, but the outcome needs an
    operator (e.g. the partner rejected an order): the message lands in the exception
    queue with ``reason``."""


class RetryLater(Exception):
    """The message cannot be processed yet (e.g. an event arrived before the record it
    concerns); processing is retried with the backend's backoff, then fails with
    ``reason`` once attempts are exhausted."""

    def __init__(self, reason, seconds=None):
        super().__init__(reason)
        self.reason = reason
        self.seconds = seconds


class LogisticsMessage(models.Model):
    _name = "logistics.message"
    _description = "Logistics exchange message"
    _inherit = ["mail.thread"]
    _order = "id desc"
    _rec_name = "name"

    name = fields.Char(readonly=True, copy=False, default="/", index="trigram")
    backend_id = fields.Many2one(
        "logistics.backend", required=True, ondelete="restrict", index=True, readonly=True
    )
    backend_kind = fields.Selection(related="backend_id.kind", store=True, string="Kind")
    company_id = fields.Many2one(related="backend_id.company_id", store=True, index=True)
    direction = fields.Selection(
        [("out", "Outbound"), ("in", "Inbound")], required=True, readonly=True, index=True
    )
    message_type = fields.Char(string="Type", required=True, readonly=True, index=True)
    schema_version = fields.Integer(default=1, readonly=True)
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
        ],
        required=True,
        readonly=True,
        index=True,
        tracking=True,
    )
    idempotency_key = fields.Char(required=True, readonly=True, copy=False)
    correlation_id = fields.Char(readonly=True, index=True, copy=False)
    external_id = fields.Char(string="Partner reference", readonly=True, index=True, copy=False)
    subject = fields.Char(readonly=True, help="What the message is about, in business words")
    payload = fields.Text(help="Canonical payload (JSON)")
    raw_payload = fields.Text(
        readonly=True, help="Inbound: the body as received. Outbound: the last request body sent."
    )
    raw_headers = fields.Text(readonly=True)
    res_model = fields.Char(string="Related model", readonly=True, index=True)
    res_id = fields.Many2oneReference(string="Related id", model_field="res_model", readonly=True)
    record_ref = fields.Reference(
        selection="_selection_record_ref", compute="_compute_record_ref", string="Related record"
    )
    attempts = fields.Integer(readonly=True, copy=False)
    next_retry_at = fields.Datetime(readonly=True, copy=False)
    last_attempt_at = fields.Datetime(readonly=True, copy=False)
    done_at = fields.Datetime(readonly=True, copy=False, index=True)
    event_time = fields.Datetime(readonly=True)
    sequence = fields.Integer(readonly=True, help="Partner sequence, for ordering events")
    error_category = fields.Selection(
        [
            ("technical", "Technical"),
            ("business", "Business"),
            ("validation", "Validation"),
            ("auth", "Authentication"),
        ],
        readonly=True,
        index=True,
        tracking=True,
    )
    error_message = fields.Text(readonly=True)
    http_status = fields.Integer(readonly=True)
    ignore_reason = fields.Text(readonly=True)
    ack_expected = fields.Boolean(readonly=True, help="The partner is expected to acknowledge")
    sla_breached = fields.Boolean(string="Late", readonly=True, index=True)
    job_id = fields.Many2one("queue.job", readonly=True, copy=False, ondelete="set null")
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
        seq = self.env["ir.sequence"].sudo()
        for vals in vals_list:
            if vals.get("name", "/") == "/":
                vals["name"] = seq.next_by_code("logistics.message") or "/"
        return super(
            LogisticsMessage,
            self.with_context(mail_create_nolog=True, mail_create_nosubscribe=True),
        ).create(vals_list)

    def write(self, vals):
        if (
            "payload" in vals
            and not self.env.su
            and not self.env.user.has_group("logistics_integration_base.group_logistics_manager")
        ):
            raise AccessError(_("Only Logistics Integration managers can edit payloads."))
        return super().write(vals)

    # schemas ------------------------------------------------------------------------------
    @api.model
    def _logistics_schema_folders(self):
        """Folders holding canonical JSON Schemas. Modules add theirs by overriding."""
        return [os.path.join(os.path.dirname(os.path.dirname(__file__)), "schemas")]

    @api.model
    def _schema_registry(self):
        folders = tuple(f for f in self._logistics_schema_folders() if f and os.path.isdir(f))
        if folders not in _registries:
            _registries[folders] = SchemaRegistry(folders)
        return _registries[folders]

    def _get_payload(self):
        self.ensure_one()
        return json.loads(self.payload) if self.payload else {}

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
    ):
        """Create an outbound message in the current transaction and queue its job.

        A payload breaking its schema is kept as ``failed`` (validation): it lands in the
        exception queue where a manager can fix it, instead of being lost."""
        if idempotency_key:
            existing = self.sudo().search(
                [
                    ("backend_id", "=", backend.id),
                    ("direction", "=", "out"),
                    ("idempotency_key", "=", idempotency_key),
                ],
                limit=1,
            )
            if existing:
                return existing
        registry = self._schema_registry()
        vals = {
            "backend_id": backend.id,
            "direction": "out",
            "message_type": message_type,
            "schema_version": registry.latest_version(message_type) or 1,
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
            registry.validate(message_type, payload)
        except PayloadInvalid as exc:
            vals.update(state="failed", error_category="validation", error_message=str(exc))
        message = self.sudo().create(vals)
        if message.state == "pending":
            message._enqueue()
        return message

    def _enqueue(self, eta=None):
        """Queue the job that sends (outbound) or processes (inbound) each message.

        ``identity_key`` keeps one waiting job per message, whatever calls this."""
        for msg in self:
            method = "_job_send" if msg.direction == "out" else "_job_process"
            delayable = msg.with_delay(
                channel=msg.backend_id._job_channel(),
                eta=eta,
                identity_key=f"logistics.message:{msg.id}:{method}",
                description=f"{msg.backend_id.code}: {msg.message_type} {msg.name}",
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
            self._fail("business", _("The backend %s is archived.", backend.name))
            return "backend archived"
        if backend._circuit_is_open(now):
            # Held back, not lost, and no attempt is spent while the partner is down.
            self.next_retry_at = backend.circuit_open_until
            self._enqueue(eta=backend.circuit_open_until)
            return f"held: circuit open until {backend.circuit_open_until}"
        self.write({"attempts": self.attempts + 1, "last_attempt_at": now})
        try:
            result = backend._get_adapter().send(self)
        except TransportError as err:
            self.http_status = err.status
            if err.transient:
                backend._circuit_record_failure(now)
                return self._retry_or_die(err.category, str(err), err.retry_after)
            self._fail(err.category, str(err))
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
        return f"sent: HTTP {result.status}" if result.status else "sent"

    def _on_sent(self, result):
        """Hook for modules: the partner accepted the message."""

    def _retry_or_die(self, category, reason, retry_after=None):
        backend = self.backend_id
        if self.attempts >= backend.retry_max_attempts:
            self._set_exception(
                "dead",
                category,
                _(
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
                "error_message": _(
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

    # inbound ---------------------------------------------------------------------------------
    @api.model
    def _processor(self, message_type):
        """The method processing an inbound type: ``_process_<type with . as _>``."""
        return getattr(self, "_process_" + message_type.replace(".", "_").replace("-", "_"), None)

    def _job_process(self):
        """Queue job: process one inbound message, idempotently."""
        self.ensure_one()
        if self.direction != "in" or self.state != "received":
            return f"nothing to do: {self.name} is {self.state}"
        processor = self._processor(self.message_type)
        self.write({"attempts": self.attempts + 1, "last_attempt_at": fields.Datetime.now()})
        if processor is None:
            self._fail(
                "business", _("No processor is installed for message type '%s'.", self.message_type)
            )
            return "no processor"
        try:
            registry = self._schema_registry()
            data = self._get_payload()
            registry.validate(self.message_type, data, version=self.schema_version or None)
            attention = None
            with self.env.cr.savepoint():
                try:
                    outcome = processor(data)
                except NeedsAttention as err:
                    attention = err  # keep what the processor did
            if attention is not None:
                raise attention
        except PayloadInvalid as err:
            self._fail("validation", str(err))
            return f"failed: {err}"
        except RetryLater as err:
            return self._retry_or_die("business", err.reason, err.seconds)
        except (BusinessError, UserError, ValidationError) as err:
            self._fail("business", str(err.args[0] if err.args else err))
            return f"failed: {err}"
        except psycopg2.OperationalError:
            raise
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
        return outcome or "processed"

    def _process_integration_ping(self, data):
        return f"pong: {data.get('message')}"

    def _link_record(self, record):
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
            raise AccessError(_("Only Logistics Integration users can do this."))

    def action_retry(self):
        """Retry failed or dead messages (and give pending ones a fresh start)."""
        self._check_user()
        retryable = self.filtered(lambda m: m.state in EXCEPTION_STATES + OPEN_STATES)
        if not retryable:
            raise UserError(_("Only failed, dead or pending messages can be retried."))
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
            msg.message_post(body=_("Retry requested by %s.", self.env.user.name))
        return True

    def action_ignore(self, reason=None):
        """Close messages that need no further action, with a reason."""
        self._check_user()
        if not reason:
            raise UserError(_("Give a reason to ignore a message."))
        target = self.filtered(lambda m: m.state not in ("ignored",) + DONE_STATES[:3]).sudo()
        target.write({"state": "ignored", "ignore_reason": reason, "next_retry_at": False})
        for msg in target:
            msg.message_post(
                body=_("Ignored by %(user)s: %(reason)s", user=self.env.user.name, reason=reason)
            )
        return True

    def action_open_ignore_wizard(self):
        return {
            "type": "ir.actions.act_window",
            "res_model": "logistics.message.ignore",
            "view_mode": "form",
            "target": "new",
            "context": {"active_ids": self.ids, "active_model": self._name},
        }

    def action_open_edit_payload(self):
        self.ensure_one()
        return {
            "type": "ir.actions.act_window",
            "res_model": "logistics.message.edit.payload",
            "view_mode": "form",
            "target": "new",
            "context": {"default_message_id": self.id, "default_payload": self.payload},
        }

    def _edit_payload_and_retry(self, payload_text):
        """Managers: replace the canonical payload (validated) and retry."""
        self.ensure_one()
        if not self.env.user.has_group("logistics_integration_base.group_logistics_manager"):
            raise AccessError(_("Only Logistics Integration managers can edit payloads."))
        try:
            data = json.loads(payload_text)
        except ValueError as exc:
            raise UserError(_("The payload is not valid JSON: %s", exc)) from None
        try:
            self._schema_registry().validate(self.message_type, data)
        except PayloadInvalid as exc:
            raise UserError(
                _(
                    "The payload breaks the %(type)s schema at %(err)s",
                    type=self.message_type,
                    err=exc,
                )
            ) from None
        self.sudo().write({"payload": json.dumps(data, indent=2, sort_keys=True)})
        self.message_post(body=_("Payload edited by %s.", self.env.user.name))
        return self.action_retry()

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
    def _cron_purge(self):
        """Delete finished messages older than their backend's retention."""
        total = 0
        for backend in (
            self.env["logistics.backend"]
            .sudo()
            .with_context(active_test=False)
            .search([("retention_days", ">", 0)])
        ):
            limit_date = fields.Datetime.now() - timedelta(days=backend.retention_days)
            old = self.sudo().search(
                [
                    ("backend_id", "=", backend.id),
                    ("state", "in", DONE_STATES),
                    ("write_date", "<", limit_date),
                ]
            )
            total += len(old)
            old.unlink()
        return total

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
