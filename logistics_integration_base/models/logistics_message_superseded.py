"""Superseded failures: a failed message needs nothing more once a later message of the same
operation for the same record succeeded (``tools/operations.py``).

Outbound, "later" is the order Odoo created the messages in. Inbound, it is the order of the
partner's events (event time, then sequence, then arrival): an event that states the
record's whole state (a declaration's customs status) and was processed makes a failed
event from before it moot, while a failed event from *after* it still brings news and
stays in the exception queue. Inbound types join an operation only when each event states
the whole state; events that each add something (a shipment, a charge, a return) are
registered nowhere and supersede nothing.

``_supersede_earlier`` runs when a message succeeds; ``_supersede_solved_failures`` finds
the failures a later success solved before that existed (an upgraded database).
"""

from markupsafe import Markup

from odoo import api, fields, models
from odoo.tools import split_every
from odoo.tools.mail import generate_tracking_message_id

from ..tools import operations
from .logistics_message import EXCEPTION_STATES, SUCCESS_STATES


class LogisticsMessage(models.Model):
    _inherit = "logistics.message"  # pylint: disable=consider-merging-classes-inherited

    def _event_order(self):
        """Where this message stands among the messages of its record: inbound by the
        partner's event (time, sequence), then by arrival; outbound by creation."""
        self.ensure_one()
        if self.direction == "in":
            return (self.event_time or self.create_date, self.sequence or 0, self.id)
        return (self.id,)

    def _supersede_earlier(self):
        """This message succeeded: the failed or dead messages of the same operation for the
        same record from before it need nothing more. They become *superseded*, their reason
        kept, and leave the exception queue; the record they concern is told
        (``_logistics_on_message_superseded``), e.g. to stop holding billing or to close
        the activities the failure opened. Returns them."""
        self.ensure_one()
        types = operations.same_operation(self.message_type)
        succeeded = self.state in SUCCESS_STATES or self.state == "shadow"  # shadow: would have
        if not succeeded or not types or not self.res_model or not self.res_id:
            return self.browse()
        domain = [
            ("res_model", "=", self.res_model),
            ("res_id", "=", self.res_id),
            ("direction", "=", self.direction),
            ("message_type", "in", types),
            ("state", "in", EXCEPTION_STATES),
            ("is_call", "=", False),
            ("id", "!=", self.id),
        ]
        if self.direction == "out":
            domain.append(("id", "<", self.id))
        order = self._event_order()
        earlier = (
            self.sudo().search(domain, order="id").filtered(lambda m: m._event_order() < order)
        )
        if not earlier:
            return earlier
        now = fields.Datetime.now()
        earlier.write(
            {
                "state": "superseded",
                "superseded_by_id": self.id,
                "superseded_at": now,
                "next_retry_at": False,
            }
        )
        record = self._related_record()
        for msg in earlier:
            msg.message_post(body=self._superseded_note(now))
            if record:
                record._logistics_on_message_superseded(msg, self)
        return earlier

    def _superseded_note(self, when):
        """What the chatter of a failure this message superseded says."""
        return self.env._(
            "Superseded by %(message)s, which succeeded on %(date)s: this failure needs "
            "nothing more. Its reason is kept below.",
            message=self.name,
            date=fields.Datetime.to_string(when),
        )

    # failures solved before superseding existed -------------------------------------------
    @api.model
    def _solved_failures(self):
        """``[(failure id, id of the success that solved it, company id)]``: every failed or
        dead message (not a synchronous call) of a registered operation about a record, for
        which a later message of the same operation, direction and record succeeded. The
        success named is the first one after it. One pass over the operations' messages."""
        registered = operations.registered()
        if not registered:
            return []
        self.flush_model()
        self.env.cr.execute(
            """
            SELECT id, solved_by, company_id FROM (
                SELECT m.id, m.state, m.company_id,
                       MIN(m.id) FILTER (WHERE m.state IN %(success)s) OVER (
                           PARTITION BY m.res_model, m.res_id, m.direction, ops.operation
                           ORDER BY
                               CASE WHEN m.direction = 'in'
                                    THEN COALESCE(m.event_time, m.create_date) END
                                    DESC NULLS LAST,
                               CASE WHEN m.direction = 'in' THEN COALESCE(m.sequence, 0) END
                                    DESC NULLS LAST,
                               m.id DESC
                           ROWS BETWEEN UNBOUNDED PRECEDING AND CURRENT ROW
                       ) AS solved_by
                  FROM logistics_message m
                  JOIN unnest(%(types)s::varchar[], %(operations)s::varchar[])
                       AS ops(message_type, operation)
                    ON ops.message_type = m.message_type
                 WHERE m.res_model IS NOT NULL AND COALESCE(m.res_id, 0) != 0
                   AND NOT COALESCE(m.is_call, FALSE)
                   AND m.state IN %(relevant)s
            ) AS ordered
             WHERE state IN %(exception)s AND solved_by IS NOT NULL
             ORDER BY id
            """,
            {
                "types": list(registered),
                "operations": list(registered.values()),
                "success": SUCCESS_STATES,
                "exception": EXCEPTION_STATES,
                "relevant": SUCCESS_STATES + EXCEPTION_STATES,
            },
        )
        return self.env.cr.fetchall()

    @api.model
    def _supersede_solved_failures(self, batch_size=1000):
        """Failures a later success already solved but that are still in the exception
        queue (stored before superseding existed): each becomes superseded by the first
        success after it, dated when that success finished, its reason kept, with a note in
        its chatter (logged, nobody notified); the record it concerns is told as
        ``_supersede_earlier`` tells it (billing held by it is released). Each company's
        messages are handled in their own company. Works in batches of ``batch_size``,
        flushed and dropped from memory as it goes; a second run finds nothing. Returns the
        number of messages superseded."""
        Message = self.sudo().with_context(tracking_disable=True)
        done = 0
        for batch in split_every(batch_size, self._solved_failures()):
            by_company = {}
            for failure_id, solved_by, company_id in batch:
                by_company.setdefault(company_id, []).append((failure_id, solved_by))
            for company_id, pairs in by_company.items():
                env_messages = Message.with_company(company_id) if company_id else Message
                done += env_messages._supersede_pairs(pairs)
            self.env.flush_all()
            self.env.invalidate_all()
        return done

    def _supersede_pairs(self, pairs):
        """Supersede each failure of ``pairs`` (``(failure id, success id)``) by its success
        (see ``_supersede_solved_failures``); returns how many were."""
        now = fields.Datetime.now()
        self.flush_model()
        self.env.cr.execute(
            """
            UPDATE logistics_message m
               SET state = 'superseded',
                   superseded_by_id = s.id,
                   superseded_at = COALESCE(s.done_at, s.write_date, %(now)s),
                   done_at = COALESCE(s.done_at, s.write_date, %(now)s),
                   next_retry_at = NULL,
                   write_uid = %(uid)s,
                   write_date = %(now)s
              FROM unnest(%(failures)s::int[], %(successes)s::int[]) AS p(failure, success)
              JOIN logistics_message s ON s.id = p.success
             WHERE m.id = p.failure AND m.state IN %(exception)s
            RETURNING m.id
            """,
            {
                "now": now,
                "uid": self.env.uid,
                "failures": [failure for failure, _success in pairs],
                "successes": [success for _failure, success in pairs],
                "exception": EXCEPTION_STATES,
            },
        )
        superseded = self.browse(row[0] for row in self.env.cr.fetchall())
        self.invalidate_model()
        if not superseded:
            return 0
        superseded._log_notes(
            {msg.id: msg.superseded_by_id._superseded_note(msg.superseded_at) for msg in superseded}
        )
        existing = set()  # the records still there, one query per model
        for model, ids in superseded.grouped("res_model").items():
            if model in self.env:
                found = self.env[model].sudo().browse(ids.mapped("res_id")).exists()
                existing.update((model, record.id) for record in found)
        for msg in superseded:
            if (msg.res_model, msg.res_id) in existing:
                record = self.env[msg.res_model].sudo().browse(msg.res_id)
                record.with_company(self.env.company)._logistics_on_message_superseded(
                    msg, msg.superseded_by_id
                )
        return len(superseded)

    def _log_notes(self, bodies):
        """A note (``bodies``: {message id: text}) in the chatter of each of these
        messages, as ``_message_log_batch`` logs it (by the current user, nobody notified)
        but in one statement: the ORM creates a chatter message in milliseconds, which an
        upgrade of a large database pays for each message it supersedes."""
        author_id, email_from = self._message_compute_author(raise_on_email=False)
        reply_to = self.env["mail.thread"]._notify_get_reply_to(default=email_from)[False]
        note = self.env["ir.model.data"]._xmlid_to_res_id("mail.mt_note")
        now = fields.Datetime.now()
        rows = [
            (
                msg_id,
                str(Markup("<p>%s</p>") % text),
                generate_tracking_message_id("message-notify"),
            )
            for msg_id, text in bodies.items()
        ]
        self.env["mail.message"].flush_model()
        self.env.cr.execute(
            """
            INSERT INTO mail_message (
                model, res_id, body, message_id, message_type, subtype_id, is_internal,
                author_id, email_from, reply_to, email_add_signature, date,
                create_uid, create_date, write_uid, write_date)
            SELECT %(model)s, row.res_id, row.body, row.message_id, 'notification', %(note)s,
                   TRUE, %(author)s, %(email_from)s, %(reply_to)s, FALSE, %(now)s,
                   %(uid)s, %(now)s, %(uid)s, %(now)s
              FROM unnest(%(res_ids)s::int[], %(bodies)s::text[], %(message_ids)s::varchar[])
                   AS row(res_id, body, message_id)
            """,
            {
                "model": self._name,
                "note": note,
                "author": author_id or None,
                "email_from": email_from or None,
                "reply_to": reply_to or None,
                "now": now,
                "uid": self.env.uid,
                "res_ids": [row[0] for row in rows],
                "bodies": [row[1] for row in rows],
                "message_ids": [row[2] for row in rows],
            },
        )
        self.env["mail.message"].invalidate_model()
        self.invalidate_recordset(["message_ids"])
