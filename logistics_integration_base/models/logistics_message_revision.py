"""Revisions of an outbound operation.

An outbound operation keeps one idempotency key across automatic retries. When its payload
changes — an operator edits it, or Retry rebuilds it from the record as it is now — it is
sent as a new *revision* under a new key (``<first key>-r2``, ``-r3``...), linked to the
message it replaces, which leaves the exception queue. An unchanged payload is resent under
its key, as the automatic retries do.

What a record rebuilds is its own business: ``_logistics_rebuild_payload`` on the record's
model (see ``models/base.py``) answers the payload of a message as it would build it now,
``None`` when it has no builder for it, and refuses in words when the record moved on."""

from markupsafe import Markup

from odoo import fields, models
from odoo.exceptions import UserError

from ..exceptions import PayloadInvalid
from ..tools import revisions

RETRYABLE = ("failed", "dead")


class LogisticsMessage(models.Model):
    _inherit = "logistics.message"

    revision = fields.Integer(
        default=1,
        readonly=True,
        copy=False,
        help="1 for the first message of an operation; each payload change (edited, or "
        "rebuilt from the record by Retry) sends a new revision under a new key.",
    )
    replaces_id = fields.Many2one(
        "logistics.message",
        readonly=True,
        copy=False,
        index="btree_not_null",
        ondelete="set null",
        help="The earlier revision of the same operation this message was sent instead of.",
    )
    replaced_by_id = fields.Many2one(
        "logistics.message",
        string="Replaced by",
        readonly=True,
        copy=False,
        ondelete="set null",
        help="The later revision, with the changed payload and its own key, sent instead of "
        "this message.",
    )

    # rebuilding ---------------------------------------------------------------------------
    def _rebuilt_payload(self):
        """The payload of this outbound message rebuilt from its record as it is now (same
        builder, schema checked), or None when its record has no builder for it. Raises a
        UserError, in words, when the record moved on or the rebuilt payload breaks the
        schema."""
        self.ensure_one()
        if self.direction != "out" or self.is_call or self.state not in RETRYABLE:
            return None
        record = self._related_record()
        if not record:
            return None
        payload = record._logistics_rebuild_payload(self)
        if payload is None:
            return None
        try:
            self._schema_registry().validate(self.message_type, payload)
        except PayloadInvalid as exc:
            raise UserError(
                self.env._(
                    "%(record)s cannot be sent to %(partner)s as it is now: %(error)s. "
                    "Correct it, then press Retry again.",
                    record=record._logistics_exchange_label(),
                    partner=self.backend_id.name,
                    error=exc,
                )
            ) from None
        return payload

    def _refused_for_key_reuse(self):
        """The partner refused this message because its key already came with another body:
        resending it unchanged can only be refused again."""
        self.ensure_one()
        return "idempotency_key_reuse" in (self.sudo().error_message or "")

    def _revise(self, payload, how, version=None):
        """Send ``payload`` as the next revision of this message's operation: a new message
        with the same partner, type, record and correlation id, under the key
        ``<first key>-r<n>``; this one is closed as replaced by it. ``how`` says in words
        what made the payload change (on both chatters). ``version``: the schema version
        ``payload`` is in (default: the latest, as builders make it). Returns the new
        message."""
        self.ensure_one()
        if self.replaced_by_id:
            raise UserError(
                self.env._(
                    "%(message)s was already replaced by %(revision)s: retry that one.",
                    message=self.name,
                    revision=self.replaced_by_id.name,
                )
            )
        first = self
        while first.replaces_id:
            first = first.replaces_id
        number = max(self.revision, 1) + 1
        record = self._related_record()
        before = self._get_payload()
        new = (
            self.with_context(logistics_payload_version=version)
            ._create_outbound(
                self.backend_id,
                self.message_type,
                payload,
                record=record,
                correlation_id=self.correlation_id,
                idempotency_key=revisions.revision_key(first.idempotency_key, number),
                subject=self.subject,
                ack_expected=self.ack_expected,
            )
            .with_env(self.env)
        )
        new.sudo().write({"replaces_id": self.id, "revision": number})
        self.sudo().write(
            {
                "replaced_by_id": new.id,
                "state": "ignored",
                "next_retry_at": False,
                "ignore_reason": self.env._(
                    "Replaced by %(revision)s (revision %(number)s, key %(key)s).",
                    revision=new.name,
                    number=number,
                    key=new.idempotency_key,
                ),
            }
        )
        note = self._revision_note(before, new._get_payload(), how, new)
        self.sudo().message_post(body=note)
        new.sudo().message_post(body=note)
        if record:
            record._logistics_on_message_revised(self, new)
        return new

    def _revision_note(self, before, after, how, new):
        """The chatter note of a revision: who changed what, each field path with its old
        and new value (personal values masked), and the new key."""
        paths, keys = self._payload_masking()
        changed = revisions.changes(before, after, paths=paths, keys=keys)
        empty = self.env._("(empty)")
        items = Markup("").join(
            Markup("<li><code>%s</code>: %s → %s</li>")
            % (path, empty if old is None else old, empty if now is None else now)
            for path, old, now in changed
        )
        head = self.env._(
            "%(how)s: %(new)s, revision %(number)s of %(old)s, is sent with the new key %(key)s.",
            how=how,
            new=new.name,
            number=new.revision,
            old=self.name,
            key=new.idempotency_key,
        )
        if not changed:
            return Markup("<p>%s</p><p>%s</p>") % (
                head,
                self.env._("The payload is unchanged: the partner refused its key."),
            )
        return Markup("<p>%s</p><p>%s</p><ul>%s</ul>") % (
            head,
            self.env._("What changed:"),
            items,
        )

    def _retry_rebuilding(self):
        """Operator Retry of these messages: each failed outbound message whose record
        rebuilds a different payload goes as a new revision; the others are resent as they
        are. ``(to resend, revisions made, [(message, why not retried)])``; a single
        message that cannot be rebuilt raises the reason instead."""
        resend = self.browse()
        revised = self.browse()
        refused = []
        for message in self:
            try:
                payload = message._rebuilt_payload()
            except UserError as exc:
                if len(self) == 1:
                    raise
                refused.append((message, exc.args[0]))
                continue
            version = None  # rebuilt: the latest version, converted to the partner's
            if payload is None and message._refused_for_key_reuse():
                payload, version = message._get_payload(), message.schema_version
            if payload is None or (
                message._in_stored_version(payload, version) == message._get_payload()
                and not message._refused_for_key_reuse()
            ):
                resend |= message
                continue
            record = message._related_record()
            how = self.env._(
                "Rebuilt from %(record)s as it is now, on Retry by %(user)s",
                record=record._logistics_exchange_label() if record else message.subject,
                user=self.env.user.name,
            )
            revised |= message._revise(payload, how, version=version)
        return resend, revised, refused

    def action_retry(self):
        """Operator Retry (one, or *Retry selected*): the failed outbound messages whose
        record now builds another payload go as new revisions (see ``_retry``)."""
        return super(
            LogisticsMessage, self.with_context(logistics_retry_rebuild=True)
        ).action_retry()

    def _retry(self, requested_by):
        """Retry as asked by an operator (``action_retry``) rebuilds first; retries decided
        by code resend the stored payloads under their keys, as automatic retries do."""
        if not self.env.context.get("logistics_retry_rebuild"):
            return super()._retry(requested_by)
        messages = self.with_context(logistics_retry_rebuild=False)
        resend, revised, refused = messages._retry_rebuilding()
        result = True
        if resend or not (revised or refused):
            result = super(LogisticsMessage, resend)._retry(requested_by)
        if not (revised or refused):
            return result
        return messages._retry_feedback(resend, revised, refused)

    def _retry_feedback(self, resent, revised, refused):
        """The notification an operator reads after Retry."""
        parts = []
        if revised:
            parts.append(
                self.env._(
                    "%(count)s rebuilt from their records and sent as new revisions (%(names)s).",
                    count=len(revised),
                    names=", ".join(revised.mapped("name")),
                )
            )
        if resent:
            parts.append(self.env._("%s sent again as they were.", len(resent)))
        if refused:
            parts.append(
                self.env._(
                    "Not retried: %s", " ".join("%s: %s" % (m.name, why) for m, why in refused)
                )
            )
        params = {
            "title": self.env._("Retry"),
            "message": " ".join(parts),
            "type": "warning" if refused else "success",
            "sticky": bool(refused),
        }
        if len(self) == 1 and revised:
            params["next"] = {
                "type": "ir.actions.act_window",
                "res_model": self._name,
                "res_id": revised.id,
                "views": [(False, "form")],
                "target": "current",
            }
        return {"type": "ir.actions.client", "tag": "display_notification", "params": params}

    def _revise_edited(self, data):
        """*Edit payload and retry* of an outbound message: a changed payload is a new
        revision with a new key (the partner would refuse the old key with another body);
        None when nothing changed, the message is not outbound or never reached the
        partner."""
        self.ensure_one()
        if self.direction != "out" or self.is_call or data == self._get_payload():
            return None
        if not self.attempt_ids:
            return None  # never reached the partner (refused by its schema): its key is unused
        if self.state not in RETRYABLE + ("pending",):
            raise UserError(
                self.env._(
                    "%(message)s is %(state)s: only a failed or dead message can be edited "
                    "and sent again.",
                    message=self.name,
                    state=dict(self._fields["state"]._description_selection(self.env))[self.state],
                )
            )
        return self._revise(
            data,
            self.env._("Payload edited by %s on Edit payload and retry", self.env.user.name),
            version=self.schema_version,
        )
