import base64
import contextlib
import logging
import re
import secrets as pysecrets
import time
import uuid
from datetime import timedelta

from odoo import api, fields, models, tools
from odoo.exceptions import UserError, ValidationError

from ..adapters import CALL, POLL, get_adapter_class
from ..exceptions import TransportError
from ..tools import own_transaction
from ..tools import secrets as secret_box
from ..transport import signatures
from ..transport.network import NetworkError

_logger = logging.getLogger(__name__)

CODE_RE = re.compile(r"^[a-z0-9][a-z0-9_\-]{0,62}$")

# Write-only secret fields: name -> label. The clear value is never stored nor readable.
SECRET_FIELDS = {
    "webhook_secret": "Webhook secret",
    "auth_password": "Password",
    "auth_token": "Bearer token",
    "api_key": "API key",
    "oauth_client_secret": "OAuth2 client secret",
}
PREVIOUS_WEBHOOK_SECRET = "webhook_secret_previous"
# Fields the webhook route reads from its per-worker cache: writing one invalidates it.
ROUTE_FIELDS = {
    "code",
    "active",
    "name",
    "kind",
    "company_id",
    "provider",
    "protocol",
    "webhook_scheme",
    "webhook_signature_header",
    "webhook_event_id_header",
    "webhook_tolerance",
    "webhook_max_body_kb",
    "webhook_rotation_hours",
}


def _valid_secrets(entries):
    """The clear secrets of ``(secret, valid until)`` entries still valid now."""
    now = fields.Datetime.now()
    return [secret for secret, until in entries if not until or until > now]


class LogisticsBackend(models.Model):
    _name = "logistics.backend"
    _description = "Logistics partner backend"
    _inherit = ["mail.thread", "logistics.backend.dashboard"]
    _order = "kind, name"

    name = fields.Char(required=True, tracking=True)
    code = fields.Char(
        required=True,
        tracking=True,
        help="Unique, URL-safe: lower-case letters, digits, '-' and '_'. Partners post their "
        "webhooks to /logistics/webhook/<code>.",
    )
    active = fields.Boolean(default=True, tracking=True)
    company_id = fields.Many2one(
        "res.company",
        default=lambda self: self.env.company,
        index=True,
        tracking=True,
    )
    kind = fields.Selection(
        [
            ("3pl", "3PL warehouse"),
            ("carrier", "Carrier"),
            ("customs", "Customs broker"),
            ("billing", "Billing system"),
        ],
        required=True,
        default="3pl",
        tracking=True,
        string="Kind of partner",
    )
    provider = fields.Selection(
        [("generic", "Generic (canonical CloudEvents)")],
        required=True,
        default="generic",
        tracking=True,
        help="Which adapter speaks to this partner.",
    )
    protocol = fields.Selection(
        [("rest", "REST / JSON"), ("sftp", "SFTP file exchange"), ("soap", "SOAP")],
        required=True,
        default="rest",
        tracking=True,
    )
    base_url = fields.Char(string="Base URL", tracking=True)
    test_url = fields.Char(
        string="Health-check URL",
        help="Called by Test connection; defaults to the base URL.",
        tracking=True,
    )
    timeout = fields.Float(
        default=30.0,
        help="Seconds to wait for the partner's answer",
        string="Timeout (s)",
        tracking=True,
    )
    verify_tls = fields.Boolean(string="Verify TLS certificates", default=True, tracking=True)

    # authentication (outbound) -------------------------------------------------------------
    auth_type = fields.Selection(
        [
            ("none", "None"),
            ("basic", "Basic"),
            ("bearer", "Bearer token"),
            ("api_key", "API key header"),
            ("oauth2", "OAuth2 client credentials"),
        ],
        default="none",
        required=True,
        tracking=True,
        string="Authentication",
    )
    auth_username = fields.Char(string="Username", tracking=True)
    api_key_header = fields.Char(default="X-API-Key", string="API key header", tracking=True)
    oauth_token_url = fields.Char(string="OAuth2 token URL", tracking=True)
    oauth_client_id = fields.Char(string="OAuth2 client id", tracking=True)
    oauth_scope = fields.Char(string="OAuth2 scope", tracking=True)

    # webhooks (inbound) ----------------------------------------------------------------------
    webhook_scheme = fields.Selection(
        [("standard", "Standard Webhooks"), ("body_hmac", "HMAC of the body in a header")],
        default="standard",
        required=True,
        tracking=True,
        string="Webhook signature scheme",
    )
    webhook_signature_header = fields.Char(
        default="X-Webhook-Signature",
        help="Body-HMAC scheme: header holding base64 HMAC-SHA256",
        string="Signature header",
        tracking=True,
    )
    webhook_event_id_header = fields.Char(
        default="X-Webhook-Id",
        help="Body-HMAC scheme: header with the event id (deduplication)",
        string="Event id header",
        tracking=True,
    )
    webhook_tolerance = fields.Integer(
        default=signatures.DEFAULT_TOLERANCE,
        help="Standard Webhooks: accepted clock skew (s)",
        string="Signature time tolerance (s)",
        tracking=True,
    )
    webhook_max_body_kb = fields.Integer(
        string="Max webhook body (KiB)", default=1024, tracking=True
    )
    webhook_rotation_hours = fields.Integer(
        default=24,
        help="How long the previous webhook secret stays valid after a new one is set",
        string="Previous secret valid for (hours)",
        tracking=True,
    )
    webhook_url = fields.Char(compute="_compute_webhook_url", string="Webhook URL")
    webhook_previous_valid_until = fields.Datetime(
        compute="_compute_secret_flags", string="Previous secret valid until"
    )

    # retry policy and circuit breaker ------------------------------------------------------
    retry_max_attempts = fields.Integer(
        default=5,
        help="Delivery attempts (the first included) before a message goes dead",
        string="Attempts before giving up",
        tracking=True,
    )
    retry_interval = fields.Integer(
        default=60,
        help="Seconds before the first retry; doubles at every attempt",
        string="First retry after (s)",
        tracking=True,
    )
    retry_max_interval = fields.Integer(
        default=3600,
        help="Upper bound of the backoff (s)",
        string="Longest wait between retries (s)",
        tracking=True,
    )
    circuit_threshold = fields.Integer(
        default=5,
        help="Consecutive transient failures that open the circuit (0: never)",
        string="Failures that open the circuit",
        tracking=True,
    )
    circuit_cooldown = fields.Integer(
        default=300,
        help="Seconds an open circuit holds messages back",
        string="Circuit stays open for (s)",
        tracking=True,
    )
    # Kept in a table of their own (logistics_backend_circuit), written by atomic updates in
    # transactions of their own: a count survives the rollback of the request that failed,
    # and the backend's row is never written by the breaker (see _circuit_cursor).
    circuit_failures = fields.Integer(
        compute="_compute_circuit",
        inverse="_inverse_circuit",
        string="Consecutive failures",
    )
    circuit_open_until = fields.Datetime(
        compute="_compute_circuit", inverse="_inverse_circuit", string="Circuit open until"
    )
    circuit_state = fields.Selection(
        [
            ("closed", "Closed (healthy)"),
            ("open", "Open: calls paused"),
            ("half_open", "Half-open: trying again"),
        ],
        compute="_compute_circuit_state",
        string="Circuit",
    )
    circuit_summary = fields.Char(
        compute="_compute_circuit_state",
        string="Circuit breaker",
        help="Closed: calls go to the partner. Open: after repeated failures, calls are "
        "paused until the time shown, then tried again.",
    )

    # rate limit ------------------------------------------------------------------------------
    rate_limit = fields.Integer(
        string="Rate limit",
        default=0,
        help="Requests the partner accepts per period (0: no limit), as it publishes them. "
        "Honoured by every Odoo worker and node: messages wait their turn instead of failing.",
        tracking=True,
    )
    rate_limit_period = fields.Selection(
        [("second", "per second"), ("minute", "per minute")],
        string="Rate limit period",
        default="second",
        required=True,
        tracking=True,
    )

    # housekeeping -----------------------------------------------------------------------------
    retention_days = fields.Integer(
        default=30,
        help="Processed, acknowledged, sent and ignored messages older than this "
        "are purged (0: keep)",
        string="Keep finished messages (days)",
        tracking=True,
    )
    personal_data_days = fields.Integer(
        string="Erase personal data after (days)",
        default=0,
        help="Finished messages older than this lose their raw bodies and the personal fields "
        "of their payload (names, phones, e-mails, addresses); the message, its status and its "
        "attempts are kept. 0 keeps them until the message itself is purged.",
        tracking=True,
    )
    sla_minutes = fields.Integer(
        string="SLA (minutes)",
        default=60,
        help="Messages pending (or awaiting acknowledgement) longer than this are flagged late",
        tracking=True,
    )

    logistics_message_ids = fields.One2many(
        "logistics.message", "backend_id", string="Exchanged messages"
    )
    count_pending = fields.Integer(compute="_compute_counters", string="Pending")
    count_exceptions = fields.Integer(compute="_compute_counters", string="Exceptions")
    count_late = fields.Integer(compute="_compute_counters", string="Late")
    count_done_24h = fields.Integer(compute="_compute_counters", string="Done in 24 h")
    oldest_pending_minutes = fields.Integer(
        compute="_compute_counters", string="Oldest pending (minutes)"
    )

    _sql_constraints = [
        ("code_unique", "unique(code)", "The backend code must be unique."),
    ]

    # secrets -----------------------------------------------------------------------------------
    webhook_secret = fields.Char(
        compute="_compute_secret_fields",
        inverse="_inverse_webhook_secret",
        copy=False,
        help="Standard Webhooks: whsec_<base64>. Write-only; the previous one stays valid "
        "during rotation.",
        string="Webhook secret",
    )
    auth_password = fields.Char(
        compute="_compute_secret_fields",
        inverse="_inverse_auth_password",
        copy=False,
        string="Password",
    )
    auth_token = fields.Char(
        compute="_compute_secret_fields",
        inverse="_inverse_auth_token",
        copy=False,
        string="Bearer token",
    )
    api_key = fields.Char(
        compute="_compute_secret_fields", inverse="_inverse_api_key", copy=False, string="API key"
    )
    oauth_client_secret = fields.Char(
        compute="_compute_secret_fields",
        inverse="_inverse_oauth_client_secret",
        copy=False,
        string="OAuth client secret",
    )
    webhook_secret_set = fields.Boolean(
        compute="_compute_secret_flags", string="Webhook secret set"
    )
    auth_password_set = fields.Boolean(compute="_compute_secret_flags", string="Password set")
    auth_token_set = fields.Boolean(compute="_compute_secret_flags", string="Bearer token set")
    api_key_set = fields.Boolean(compute="_compute_secret_flags", string="API key set")
    oauth_client_secret_set = fields.Boolean(
        compute="_compute_secret_flags", string="OAuth client secret set"
    )

    @api.model_create_multi
    def create(self, vals_list):
        backends = super().create(vals_list)
        backends.invalidate_recordset(list(SECRET_FIELDS))  # written values never linger
        self.env.registry.clear_cache()  # a code no backend had is now known
        return backends

    def write(self, vals):
        result = super().write(vals)
        if SECRET_FIELDS.keys() & vals.keys():
            self.invalidate_recordset(list(SECRET_FIELDS))
        if ROUTE_FIELDS & vals.keys():
            self.env.registry.clear_cache()  # _webhook_route_info, in every worker
        if {"kind", "company_id"} & vals.keys():
            self.env["logistics.message"]._sync_backend_fields(self)
            self.env["logistics.message.attempt"]._sync_backend_fields(self)
        return result

    def unlink(self):
        ids = self.ids
        result = super().unlink()
        self.env.cr.execute(
            "DELETE FROM logistics_backend_rate WHERE backend_id IN %s", [tuple(ids)]
        )
        self.env.registry.clear_cache()
        return result

    @api.constrains("code")
    def _check_code(self):
        for backend in self:
            if not CODE_RE.match(backend.code or ""):
                raise ValidationError(
                    self.env._(
                        "Backend code '%(code)s' is not URL-safe: use lower-case letters, "
                        "digits, '-' and '_' (at most 63 characters).",
                        code=backend.code,
                    )
                )

    @api.constrains("retry_max_attempts", "retry_interval", "webhook_max_body_kb")
    def _check_policy(self):
        for backend in self:
            if backend.retry_max_attempts < 1:
                raise ValidationError(self.env._("Max attempts must be at least 1."))
            if backend.retry_interval < 0:
                raise ValidationError(self.env._("The retry interval cannot be negative."))
            if backend.webhook_max_body_kb < 1:
                raise ValidationError(self.env._("The webhook body limit must be at least 1 KiB."))

    def _compute_secret_fields(self):
        # The clear value is never read back: these fields only accept writes.
        for backend in self:
            for name in SECRET_FIELDS:
                backend[name] = False

    def _secret_records(self):
        return self.env["logistics.backend.secret"].sudo().search([("backend_id", "in", self.ids)])

    def _compute_secret_flags(self):
        stored = {}
        for rec in self._secret_records():
            stored[(rec.backend_id.id, rec.key)] = rec
        now = fields.Datetime.now()
        for backend in self:
            for name in SECRET_FIELDS:
                backend[f"{name}_set"] = (backend.id, name) in stored
            previous = stored.get((backend.id, PREVIOUS_WEBHOOK_SECRET))
            backend.webhook_previous_valid_until = (
                previous.valid_until if previous and previous.valid_until > now else False
            )

    def _set_secret(self, name, clear, valid_until=None):
        """Encrypt and store (or, with an empty value, delete) one secret."""
        Secret = self.env["logistics.backend.secret"].sudo()
        for backend in self:
            existing = Secret.search([("backend_id", "=", backend.id), ("key", "=", name)])
            if not clear:
                existing.unlink()
                continue
            try:
                value = secret_box.encrypt(clear)
            except secret_box.SecretKeyMissing as exc:
                raise UserError(str(exc)) from None
            vals = {"value": value, "valid_until": valid_until}
            if existing:
                existing.write(vals)
            else:
                Secret.create(dict(vals, backend_id=backend.id, key=name))

    def _get_secret(self, name):
        """The clear secret, for the adapters. Raises a readable error when it cannot be had."""
        self.ensure_one()
        rec = (
            self.env["logistics.backend.secret"]
            .sudo()
            .search([("backend_id", "=", self.id), ("key", "=", name)], limit=1)
        )
        if not rec:
            return None
        return secret_box.decrypt(rec.value)

    def _inverse_secret(self, name):
        for backend in self:
            value = backend[name]
            if value:  # an empty write leaves the stored secret as it is
                replaced = backend._has_secret(name)
                backend._set_secret(name, value)
                backend._note_secret(name, "replaced" if replaced else "set")

    def _has_secret(self, name):
        self.ensure_one()
        return bool(
            self.env["logistics.backend.secret"]
            .sudo()
            .search_count([("backend_id", "=", self.id), ("key", "=", name)], limit=1)
        )

    def _note_secret(self, name, change, until=None):
        """The audit trail of a secret in the backend's chatter: which secret, what happened
        to it and who did it (the note's author and date say it too), never its value."""
        self.ensure_one()
        label = self._fields[name]._description_string(self.env)
        user = self.env.user.name
        body = {
            "set": self.env._("%(secret)s set by %(user)s.", secret=label, user=user),
            "replaced": self.env._("%(secret)s replaced by %(user)s.", secret=label, user=user),
            "rotated": self.env._(
                "%(secret)s rotated by %(user)s; the previous one stays valid until %(until)s "
                "(UTC).",
                secret=label,
                user=user,
                until=until,
            ),
            "cleared": self.env._("%(secret)s cleared by %(user)s.", secret=label, user=user),
        }[change]
        self.message_post(body=body, subtype_xmlid="mail.mt_note")

    def _inverse_webhook_secret(self):
        for backend in self:
            new = backend.webhook_secret
            if not new:
                continue
            if backend.webhook_scheme == "standard":
                try:
                    signatures.standard_key(new)
                except ValueError as exc:
                    raise ValidationError(self.env._("Webhook secret: %s", exc)) from None
            current = backend._get_secret_safe("webhook_secret")
            if current and current != new:
                hours = backend.webhook_rotation_hours or 0
                until = fields.Datetime.now() + timedelta(hours=hours)
                backend._set_secret(PREVIOUS_WEBHOOK_SECRET, current, valid_until=until)
                backend._note_secret("webhook_secret", "rotated", until=until)
            elif current != new:
                replaced = backend._has_secret("webhook_secret")  # undecryptable: replaced
                backend._note_secret("webhook_secret", "replaced" if replaced else "set")
            backend._set_secret("webhook_secret", new)

    def _inverse_auth_password(self):
        self._inverse_secret("auth_password")

    def _inverse_auth_token(self):
        self._inverse_secret("auth_token")

    def _inverse_api_key(self):
        self._inverse_secret("api_key")

    def _inverse_oauth_client_secret(self):
        self._inverse_secret("oauth_client_secret")

    def _get_secret_safe(self, name):
        try:
            return self._get_secret(name)
        except secret_box.SecretUndecryptable:
            return None
        except secret_box.SecretKeyMissing as exc:
            raise UserError(str(exc)) from None

    def _webhook_secret_entries(self):
        """``(clear secret, valid until or None)``: the current webhook secret, then the
        previous one kept for its rotation window."""
        self.ensure_one()
        entries = []
        current = self._get_secret("webhook_secret")
        if current:
            entries.append((current, None))
        prev = (
            self.env["logistics.backend.secret"]
            .sudo()
            .search([("backend_id", "=", self.id), ("key", "=", PREVIOUS_WEBHOOK_SECRET)], limit=1)
        )
        if prev and prev.valid_until:
            entries.append((secret_box.decrypt(prev.value), prev.valid_until))
        return entries

    def _webhook_secrets(self):
        """The secrets currently accepted on the webhook route: current, then previous
        while its rotation window lasts."""
        return _valid_secrets(self._webhook_secret_entries())

    def action_generate_webhook_secret(self):
        """Generate a new Standard Webhooks secret, show it once, keep the old one valid
        during the rotation window."""
        self.ensure_one()
        new = "whsec_" + base64.b64encode(pysecrets.token_bytes(32)).decode()
        self.webhook_secret = new
        shown = self.env["logistics.webhook.secret.shown"].create({"backend_id": self.id})
        return {
            "type": "ir.actions.act_window",
            "name": self.env._("New webhook secret for %s", self.name),
            "res_model": shown._name,
            "res_id": shown.id,
            "view_mode": "form",
            "target": "new",
            "context": {"logistics_new_webhook_secret": new},
        }

    # computed ------------------------------------------------------------------------------
    @api.depends("code")
    def _compute_webhook_url(self):
        base = self.env["ir.config_parameter"].sudo().get_param("web.base.url", "")
        for backend in self:
            backend.webhook_url = f"{base}/logistics/webhook/{backend.code}" if backend.code else ""

    def _compute_circuit(self):
        states = self._circuit_read()
        for backend in self:
            backend.circuit_failures, backend.circuit_open_until = states.get(
                backend.id, (0, False)
            )

    def _inverse_circuit(self):
        for backend in self:
            backend._circuit_set(backend.circuit_failures, backend.circuit_open_until)

    @api.depends("circuit_open_until", "circuit_failures", "circuit_threshold")
    def _compute_circuit_state(self):
        now = fields.Datetime.now()
        for backend in self:
            if backend.circuit_open_until and backend.circuit_open_until > now:
                backend.circuit_state = "open"
            elif (
                backend.circuit_threshold and backend.circuit_failures >= backend.circuit_threshold
            ):
                backend.circuit_state = "half_open"
            else:
                backend.circuit_state = "closed"
            if backend.circuit_state == "open":
                backend.circuit_summary = self.env._(
                    "Open — calls paused until %s",
                    tools.format_datetime(self.env, backend.circuit_open_until, dt_format="short"),
                )
            else:
                labels = dict(self._fields["circuit_state"]._description_selection(self.env))
                backend.circuit_summary = labels[backend.circuit_state]

    def _compute_counters(self):
        Message = self.env["logistics.message"]
        now = fields.Datetime.now()
        day_ago = now - timedelta(hours=24)
        data = {b.id: dict.fromkeys(("pending", "exc", "late", "done"), 0) for b in self}
        # only the open and exception states: the partial index on them answers without
        # reading the (mostly finished) rest of the table
        for backend, state, count in Message._read_group(
            [
                ("backend_id", "in", self.ids),
                ("state", "in", ("pending", "received", "failed", "dead")),
            ],
            ["backend_id", "state"],
            ["__count"],
        ):
            slot = data[backend.id]
            if state in ("pending", "received"):
                slot["pending"] += count
            elif state in ("failed", "dead"):
                slot["exc"] += count
        for backend, count in Message._read_group(
            [
                ("backend_id", "in", self.ids),
                ("sla_breached", "=", True),
                ("state", "in", ("pending", "received", "sent")),
            ],
            ["backend_id"],
            ["__count"],
        ):
            data[backend.id]["late"] = count
        for backend, count in Message._read_group(
            [("backend_id", "in", self.ids), ("done_at", ">=", day_ago)],
            ["backend_id"],
            ["__count"],
        ):
            data[backend.id]["done"] = count
        oldest = {
            backend.id: create_date
            for backend, create_date in Message._read_group(
                [("backend_id", "in", self.ids), ("state", "in", ("pending", "received"))],
                ["backend_id"],
                ["create_date:min"],
            )
        }
        for backend in self:
            slot = data[backend.id]
            backend.count_pending = slot["pending"]
            backend.count_exceptions = slot["exc"]
            backend.count_late = slot["late"]
            backend.count_done_24h = slot["done"]
            first = oldest.get(backend.id)
            backend.oldest_pending_minutes = (
                int((now - first).total_seconds() // 60) if first else 0
            )

    # behaviour ------------------------------------------------------------------------------
    def _get_adapter(self):
        """The adapter registered for this backend's provider and protocol."""
        self.ensure_one()
        adapter_class = get_adapter_class(self.provider, self.protocol, self.env)
        return adapter_class(self, schemas=self.env["logistics.message"]._schema_registry())

    def _event_source(self):
        base = self.env["ir.config_parameter"].sudo().get_param("web.base.url", "odoo://localhost")
        return f"{base}/logistics"

    def send_message(
        self,
        message_type,
        payload,
        res_model=None,
        res_id=None,
        correlation_id=None,
        idempotency_key=None,
    ):
        """Queue an outbound message to this partner; return the message id.

        Callable over RPC by Logistics users. The message is written in the caller's
        transaction (outbox): rolled back with it, or committed with it and then sent by
        a queue job even if the job runner is down at that moment.
        """
        self.ensure_one()
        if not self.env.user.has_group("logistics_integration_base.group_logistics_user"):
            raise UserError(self.env._("Only Logistics Integration users can send messages."))
        # Read as the caller first: a backend or a record of a company the caller does not
        # work in is refused here, before anything is written as the system.
        self.check_access("read")
        record = None
        if res_model and res_id:
            if res_model not in self.env:
                raise UserError(self.env._("There is no model %s.", res_model))
            record = self.env[res_model].browse(res_id).exists()
            if not record:
                raise UserError(
                    self.env._(
                        "The record %(model)s %(id)s does not exist.", model=res_model, id=res_id
                    )
                )
            record.check_access("read")
        message = self.sudo()._send_message(
            message_type,
            payload,
            record=record,
            correlation_id=correlation_id,
            idempotency_key=idempotency_key,
        )
        return message.id

    def _send_message(
        self,
        message_type,
        payload,
        record=None,
        correlation_id=None,
        idempotency_key=None,
        subject=None,
        ack_expected=False,
        former_keys=(),
    ):
        self.ensure_one()
        return self.env["logistics.message"]._create_outbound(
            self,
            message_type,
            payload,
            record=record,
            correlation_id=correlation_id,
            idempotency_key=idempotency_key,
            subject=subject,
            ack_expected=ack_expected,
            former_keys=former_keys,
        )

    def action_test_connection(self):
        self.ensure_one()
        failed = self.env._("Connection to %s failed", self.name)
        try:
            summary = self._get_adapter().test_connection()
        except NetworkError as err:
            # what happened and what to check, in words; the request and the system's
            # error below it
            technical = self.env._("Technical details: %s", err.detail)
            return self._notify(failed, f"{err.sentence(self.env.lang)}\n\n{technical}", "danger")
        except (TransportError, secret_box.SecretKeyMissing, secret_box.SecretUndecryptable) as exc:
            return self._notify(failed, str(exc), "danger")
        except Exception as exc:
            _logger.exception("test connection of backend %s", self.code)
            return self._notify(
                failed,
                self.env._(
                    "The test stopped on an unexpected error: the server log has the detail "
                    "(backend %(code)s).\n\nTechnical details: %(error)s",
                    code=self.code,
                    error="%s: %s" % (type(exc).__name__, exc),
                ),
                "danger",
            )
        return self._notify(self.env._("Connection to %s works", self.name), summary, "success")

    def _notify(self, title, message, kind):
        return {
            "type": "ir.actions.client",
            "tag": "display_notification",
            "params": {
                "title": title,
                "message": message,
                "type": kind,
                "sticky": kind != "success",
                # the technical details stay on lines of their own
                "className": "o_logistics_notification",
            },
        }

    def action_reset_circuit(self):
        self.check_access("write")
        for backend in self:
            backend._circuit_set(0, False)

    # circuit breaker: a table of its own --------------------------------------------------------
    @contextlib.contextmanager
    def _circuit_cursor(self):
        """The cursor of the breaker's table: a transaction of its own (read committed,
        committed at once), so that a count outlives the caller's rollback and never waits on
        or conflicts with the caller's transaction. Tests run in one transaction: there the
        caller's cursor is used, unless the context asks for ``logistics_commit_apart``."""
        if own_transaction.in_one_transaction(self.env):
            yield self.env.cr
            return
        with self.env.registry.cursor() as cr:
            cr.execute("SET TRANSACTION ISOLATION LEVEL READ COMMITTED")
            yield cr

    def _circuit_read(self):
        """``{backend id: (consecutive failures, open until)}`` as this transaction sees
        them (as committed when it started: for a job, its start; what it counts itself is
        kept in its cache by ``_circuit_keep``). Read in the caller's cursor: a send that
        finds the circuit closed opens no other connection."""
        if not self.ids:
            return {}
        self.env.cr.execute(
            "SELECT backend_id, failures, open_until FROM logistics_backend_circuit "
            "WHERE backend_id = ANY(%s)",
            [list(self.ids)],
        )
        return {row[0]: (row[1], row[2] or False) for row in self.env.cr.fetchall()}

    def _circuit_keep(self, failures, open_until):
        """What this transaction wrote apart, in its cache (it cannot read it back)."""
        self.env.cache.update(self, self._fields["circuit_failures"], [failures or 0])
        self.env.cache.update(self, self._fields["circuit_open_until"], [open_until or False])
        self.invalidate_recordset(["circuit_state"])

    def _circuit_set(self, failures, open_until):
        self.ensure_one()
        with self._circuit_cursor() as cr:
            cr.execute(
                """INSERT INTO logistics_backend_circuit AS c (backend_id, failures, open_until)
                   VALUES (%(id)s, %(failures)s, %(until)s)
                   ON CONFLICT (backend_id) DO UPDATE
                       SET failures = EXCLUDED.failures, open_until = EXCLUDED.open_until""",
                {"id": self.id, "failures": failures or 0, "until": open_until or None},
            )
        self._circuit_keep(failures, open_until)

    def _circuit_is_open(self, now=None):
        self.ensure_one()
        now = now or fields.Datetime.now()
        return bool(self.circuit_open_until and self.circuit_open_until > now)

    def _circuit_record_failure(self, now=None):
        """Count a transient failure (one atomic update, whatever other workers count at
        the same moment); open the circuit at the threshold."""
        self.ensure_one()
        if not self.circuit_threshold:
            return
        now = now or fields.Datetime.now()
        with self._circuit_cursor() as cr:
            cr.execute(
                """INSERT INTO logistics_backend_circuit AS c (backend_id, failures, open_until)
                   VALUES (%(id)s, 1, CASE WHEN %(threshold)s <= 1 THEN %(until)s END)
                   ON CONFLICT (backend_id) DO UPDATE
                       SET failures = c.failures + 1,
                           open_until = CASE WHEN c.failures + 1 >= %(threshold)s
                                             THEN %(until)s ELSE c.open_until END
                   RETURNING failures, open_until""",
                {
                    "id": self.id,
                    "threshold": self.circuit_threshold,
                    "until": now + timedelta(seconds=self.circuit_cooldown),
                },
            )
            failures, until = cr.fetchone()
        self._circuit_keep(failures, until)
        if failures == self.circuit_threshold:
            self.message_post(
                body=self.env._(
                    "Circuit opened after %(n)s consecutive failures: messages are held "
                    "until %(until)s (UTC).",
                    n=failures,
                    until=until,
                )
            )

    def _circuit_record_success(self):
        self.ensure_one()
        if not (self.circuit_failures or self.circuit_open_until):
            return  # nothing to reset: no write, no extra connection
        with self._circuit_cursor() as cr:
            cr.execute(
                "UPDATE logistics_backend_circuit SET failures = 0, open_until = NULL "
                "WHERE backend_id = %s AND (failures > 0 OR open_until IS NOT NULL)",
                [self.id],
            )
        self._circuit_keep(0, False)

    # rate limit ------------------------------------------------------------------------------
    def init(self):
        # One row per rate-limited backend, written only by _rate_limit_wait in its own
        # short transaction: the slot bookkeeping never waits on a business transaction
        # (so no foreign key either: the backend may not be committed yet).
        self.env.cr.execute(
            """CREATE TABLE IF NOT EXISTS logistics_backend_rate (
                   backend_id integer PRIMARY KEY,
                   tat timestamp NOT NULL
               )"""
        )
        # The circuit breaker's state, likewise (see _circuit_cursor).
        self.env.cr.execute(
            """CREATE TABLE IF NOT EXISTS logistics_backend_circuit (
                   backend_id integer PRIMARY KEY,
                   failures integer NOT NULL DEFAULT 0,
                   open_until timestamp
               )"""
        )

    def _rate_limit_wait(self):
        """Take a request slot of this backend's rate limit; return 0 when one was taken
        (send now) or the seconds to wait before asking again.

        Requests are spaced ``period / limit`` apart on the database clock, so every worker
        and node shares one budget and no window of one period ever holds more than
        ``limit`` requests."""
        self.ensure_one()
        if self.rate_limit <= 0:
            return 0.0
        period = 60.0 if self.rate_limit_period == "minute" else 1.0
        interval = period / self.rate_limit
        with self.env.registry.cursor() as cr:
            cr.execute(
                """INSERT INTO logistics_backend_rate AS r (backend_id, tat)
                   VALUES (%(id)s, clock_timestamp() + make_interval(secs => %(t)s))
                   ON CONFLICT (backend_id) DO UPDATE
                       SET tat = clock_timestamp() + make_interval(secs => %(t)s)
                       WHERE r.tat <= clock_timestamp()
                   RETURNING tat""",
                {"id": self.id, "t": interval},
            )
            if cr.fetchone():
                return 0.0
            cr.execute(
                "SELECT EXTRACT(EPOCH FROM tat - clock_timestamp()) FROM logistics_backend_rate "
                "WHERE backend_id = %s",
                [self.id],
            )
            ahead = cr.fetchone()[0]
        return max(float(ahead), 0.001)

    def _rate_limit_slot(self, patience=2.0):
        """Wait (at most ``patience`` seconds) for a request slot; return 0 once one is
        taken, or the seconds still to wait when that would take longer."""
        self.ensure_one()
        deadline = time.monotonic() + patience
        wait = self._rate_limit_wait()
        while wait and time.monotonic() + wait <= deadline:
            time.sleep(wait)
            wait = self._rate_limit_wait()
        return wait

    # synchronous calls and pulls ---------------------------------------------------------------
    def _call(self, operation, payload, record=None, subject=None, correlation_id=None):
        """A synchronous request the caller waits for (a rate, a booking): the backend's
        auth, timeout, rate limit, circuit breaker and error mapping apply, and the exchange
        is recorded as an outbound message (request, answer, duration, one attempt).
        Returns the adapter's ``CallResult`` (its ``message_id`` names the record, written in
        the caller's transaction); raises ``TransportError`` with a readable reason (the
        message, failed, keeps the details, and is written in a transaction of its own
        with the breaker's count, so that both outlive the caller's rollback)."""
        self.ensure_one()
        adapter = self._get_adapter()
        adapter.require(CALL)
        now = fields.Datetime.now()
        if self._circuit_is_open(now):
            raise TransportError(
                self.env._(
                    "%(backend)s is not called until %(until)s (UTC): its last calls failed "
                    "(circuit open). Try again later, or reset the circuit on the backend.",
                    backend=self.name,
                    until=self.circuit_open_until,
                ),
                "technical",
                transient=True,
            )
        wait = self._rate_limit_slot(patience=self.timeout or 30.0)
        if wait:
            raise TransportError(
                self.env._("%s is at its rate limit; try again in a moment.", self.name),
                "technical",
                transient=True,
                retry_after=wait,
            )
        Message = self.env["logistics.message"]
        correlation_id = correlation_id or str(uuid.uuid4())
        started_at = fields.Datetime.now()
        start = time.monotonic()
        try:
            result = adapter.call(operation, payload, correlation_id=correlation_id)
        except Exception as err:
            # The caller usually raises next, and its transaction is rolled back: the record
            # of the call and the breaker's count are written in a transaction of their own.
            self._record_failed_call(
                operation,
                payload,
                err,
                time.monotonic() - start,
                record=record,
                subject=subject,
                correlation_id=correlation_id,
                started_at=started_at,
            )
            raise
        self._circuit_record_success()
        message = Message._create_call(
            self,
            operation,
            payload,
            record=record,
            subject=subject,
            correlation_id=correlation_id,
            result=result,
            seconds=time.monotonic() - start,
            started_at=started_at,
        )
        result.message_id = message.id
        return result

    def _record_failed_call(self, operation, payload, err, seconds, **call):
        """Record a call that failed (and, for an outage, count it in the circuit breaker)
        so that it outlives the caller's transaction (see ``tools/own_transaction.py``)."""
        self.ensure_one()
        outage = isinstance(err, TransportError) and err.transient
        now = fields.Datetime.now()

        def write(env):
            backend = self.with_env(env)
            message = env["logistics.message"]._create_call(
                backend, operation, payload, error=err, seconds=seconds, **call
            )
            return message.id

        message_id, _apart = own_transaction.write_apart(self.env, self, write)
        if outage:
            self._circuit_record_failure(now)  # in the breaker's own table and transaction
        if isinstance(err, TransportError):
            err.message_id = message_id
        return message_id

    def _poll_inbound(self, keep=None, **params):
        """Ask the partner for inbound items it does not push (the adapter's ``poll``, given
        ``params``) and store each through the one inbound path, under the key
        ``poll:<event id>`` (an item polled twice is stored once). ``keep``: an optional
        function filtering the events before they are stored. Returns the new messages."""
        self.ensure_one()
        adapter = self._get_adapter()
        adapter.require(POLL)
        events = adapter.poll(**params)
        if keep is not None:
            events = keep(events)
        Message = self.env["logistics.message"]
        _messages, new = Message._store_inbound(
            self, [Message._event_vals(event, key=f"poll:{event.event_id}") for event in events]
        )
        return new

    def _retry_delay(self, attempts, retry_after=None):
        """Seconds before the next attempt after ``attempts`` failed ones: exponential
        backoff from ``retry_interval``, capped, and never sooner than Retry-After."""
        self.ensure_one()
        delay = (self.retry_interval or 0) * (2 ** max(attempts - 1, 0))
        if self.retry_max_interval:
            delay = min(delay, self.retry_max_interval)
        if retry_after:
            delay = max(delay, retry_after)
        return int(delay)

    # views --------------------------------------------------------------------------------
    def _action_messages(self, name, filters=(), domain=None):
        """The messages behind a dashboard figure, titled "<figure> of <backend>": the
        backend and ``filters`` (names of the message search view's filters) are facets the
        user sees and may remove, not a hidden domain."""
        action = self.env["ir.actions.act_window"]._for_xml_id(
            "logistics_integration_base.action_logistics_message"
        )
        context = {f"search_default_{name_}": 1 for name_ in filters}
        if len(self) == 1:
            context["search_default_backend_id"] = self.id
            action["name"] = self._logistics_figure_title(name)
            action["domain"] = domain or []
        else:
            action["name"] = name
            action["domain"] = [("backend_id", "in", self.ids)] + (domain or [])
        action["context"] = context
        return action

    def action_view_pending(self):
        return self._action_messages(self.env._("Pending messages"), ["open"])

    def action_view_exceptions(self):
        return self._action_messages(self.env._("Exceptions"), ["exceptions"])

    def action_view_late(self):
        return self._action_messages(self.env._("Late messages"), ["late"])

    def action_view_messages(self):
        return self._action_messages(self.env._("Messages"))

    # webhooks ---------------------------------------------------------------------------------
    def _webhook_authenticate(self, headers, body):
        """Verify a webhook with this backend's scheme; return the event id used for
        deduplication. Raises ``SignatureError``."""
        self.ensure_one()
        info = self._webhook_route_info(self.code)
        if not info:
            raise signatures.SignatureError("the backend is archived")
        return self._webhook_verify(info, headers, body)

    @api.model
    def _webhook_verify(self, info, headers, body):
        """Verify a webhook against the route info of its backend (current secret, and the
        previous one while its rotation window lasts)."""
        verifier = signatures.get_scheme(info["scheme"], self.env)
        secrets_ = _valid_secrets(info["secrets"])
        if not secrets_:
            raise signatures.SignatureError("no webhook secret is configured for this backend")
        return verifier(secrets_, headers, body, info["options"])

    @api.model
    @tools.ormcache("code")
    def _webhook_route_info(self, code):
        """What the webhook route needs of an active backend, cached per worker so that a
        webhook costs no backend or secret query: ids, limits, scheme and its options, and
        the decrypted secrets with the end of their validity. Invalidated (in every worker)
        when a backend's route fields or any secret change; None for an unknown or archived
        code. Raises the secret box's errors when secrets cannot be decrypted."""
        backend = self.sudo().search([("code", "=", code)], limit=1)
        if not backend:
            return None
        return {
            "id": backend.id,
            "kind": backend.kind,
            "company_id": backend.company_id.id,
            "provider": backend.provider,
            "protocol": backend.protocol,
            "max_body": backend.webhook_max_body_kb * 1024,
            "scheme": backend.webhook_scheme,
            "options": backend._webhook_options(),
            "secrets": tuple(backend._webhook_secret_entries()),
        }

    def _webhook_options(self):
        """The backend's webhook settings, as the signature verifiers read them."""
        self.ensure_one()
        return {
            "tolerance": self.webhook_tolerance or signatures.DEFAULT_TOLERANCE,
            "signature_header": self.webhook_signature_header,
            "event_id_header": self.webhook_event_id_header,
        }
