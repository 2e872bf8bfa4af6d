"""One business transaction across partners: a sale order, its deliveries, their customs
declarations, parcels and billing events, and the invoices, with every message exchanged
about any of them (or sharing a correlation id with one of those) on one timeline.

Which records make a transaction is declared by each module as field paths
(``tools/transactions.py``), looked up only where the field exists (a module not installed
adds nothing): the record climbs to its order (*up*), and the order brings down everything
that belongs to it (*down*), or refers to it. Records and messages are read as the caller:
someone who may not read a delivery or a message does not see it on the timeline.

The steps of an order (released, acknowledged, shipped, delivered, invoiced) are reached
when a step's message succeeds; the time since the previous step (and since the release)
is observed into the ``logistics_step_latency_seconds`` histogram of the metrics, and, when
the OpenTelemetry export is on, is an event of the span of the attempt (``tools/otel.py``).
"""

import json

from odoo import models
from odoo.exceptions import AccessError
from odoo.osv import expression

from ..tools import metrics, otel, transactions

MAX_RECORDS = 500

# the steps of an order, in their order, and the message types reaching each one
STEPS = ("released", "acknowledged", "shipped", "delivered", "invoiced")


def _follow(records, path):
    """The records at ``path`` from ``records``, or none when a field of it does not
    exist or the caller may not read a record on the way."""
    for name in path.split("."):
        if name not in records._fields or not records:
            return None
        try:
            records = records._filtered_access("read")[name]
        except AccessError:
            return None
    return records


class Base(models.AbstractModel):
    _inherit = "base"  # pylint: disable=consider-merging-classes-inherited

    def _logistics_transaction_records(self):
        """The records of the transaction of ``self`` (its order and what belongs to it),
        as a list of recordsets the caller may read, ``self`` included."""
        roots = self
        for _depth in range(3):
            up = None
            for path in transactions.up_paths(roots._name):
                up = _follow(roots, path)
                if up:
                    break
            if not up:
                break
            roots = up
        found = {}
        todo = [roots, self]
        while todo and sum(len(ids) for ids in found.values()) < MAX_RECORDS:
            records = todo.pop()._filtered_access("read")
            new = records.browse(set(records.ids) - found.get(records._name, set()))
            if not new:
                continue
            found.setdefault(records._name, set()).update(new.ids)
            for path in transactions.down_paths(new._name):
                down = _follow(new, path)
                if down:
                    todo.append(down)
            for model, field, path in transactions.referring(new._name):
                if model in self.env and self.env[model].has_access("read"):
                    referring = self.env[model].search([(field, "in", new.ids)])
                    down = _follow(referring, path)
                    if down:
                        todo.append(down)
        return [self.env[model].browse(sorted(ids)) for model, ids in found.items()]

    def _logistics_transaction_messages(self):
        """Every message of the transaction of ``self`` the caller may read, in the order
        they were recorded: those about one of its records, and those sharing a
        correlation id with one of these."""
        Message = self.env["logistics.message"]
        clauses = [
            [("id", "in", records.ids)]
            if records._name == "logistics.message"
            else [("res_model", "=", records._name), ("res_id", "in", records.ids)]
            for records in self._logistics_transaction_records()
        ]
        messages = Message.search(expression.OR(clauses)) if clauses else Message
        correlations = [c for c in set(messages.mapped("correlation_id")) if c]
        if correlations:
            messages |= Message.search([("correlation_id", "in", correlations)])
        return messages.sorted(lambda m: (m.create_date, m.id))

    def action_logistics_transaction(self):
        """The timeline of the transaction of this record (read as the caller)."""
        self.ensure_one()
        self.check_access("read")
        transaction = self.env["logistics.transaction"]._build(self)
        return {
            "type": "ir.actions.act_window",
            "name": self.env._("Transaction of %s", self.display_name),
            "res_model": "logistics.transaction",
            "res_id": transaction.id,
            "view_mode": "form",
            "views": [(False, "form")],
            "target": "current",
        }


class LogisticsMessage(models.Model):
    _inherit = "logistics.message"  # pylint: disable=consider-merging-classes-inherited

    def action_logistics_transaction(self):
        """From a message: the transaction of the record it concerns (or its own)."""
        self.ensure_one()
        self.check_access("read")
        record = self._transaction_record()
        return (record or self).action_logistics_transaction()

    def _transaction_record(self):
        """The record this message concerns, if it exists and the caller may read it."""
        self.ensure_one()
        if not self.res_model or not self.res_id or self.res_model not in self.env:
            return None
        return self.env[self.res_model].browse(self.res_id).exists()._filtered_access("read")

    def _logistics_transaction_records(self):
        record = self._transaction_record() if len(self) == 1 else None
        if record:
            return [self, *record._logistics_transaction_records()]
        return [self]

    # the steps of an order, for the metrics ---------------------------------------------
    def _logistics_steps(self):
        """The steps of an order this message brought it to, with when: ``{step: time}``
        (a release the 3PL acknowledged in its answer brings both released and
        acknowledged)."""
        self.ensure_one()
        if self.state not in ("sent", "acknowledged", "processed"):
            return {}
        done = self.done_at or self.write_date
        kind = self.message_type
        if kind == "order.release":
            steps = {"released": self.last_attempt_at or done}
            if self.state == "acknowledged":
                steps["acknowledged"] = done
            return steps
        if kind == "tracking.update":
            try:
                status = json.loads(self.payload or "{}").get("status")
            except ValueError:
                return {}
            return {"delivered": done} if status == "delivered" else {}
        step = {
            "order.ack": "acknowledged",
            "shipment.confirmed": "shipped",
            "invoice.posted": "invoiced",
        }.get(kind)
        return {step: done} if step else {}

    def write(self, vals):
        result = super().write(vals)
        if vals.get("state") in ("sent", "acknowledged", "processed"):
            for message in self:
                message.sudo()._observe_step_latency()
        return result

    def _observe_step_latency(self):
        """The steps this message brings its order to for the first time: the time since
        the previous step reached, and since the release, into the histogram."""
        steps = self._logistics_steps()
        if not steps:
            return
        reached = {}
        for message in self._logistics_transaction_messages() - self:
            for step, when in message._logistics_steps().items():
                reached[step] = min(when, reached.get(step, when))
        for step in STEPS:
            if step not in steps or step in reached:
                continue  # not this message's, or reached before (observed then)
            when = steps[step]
            earlier = [s for s in STEPS[: STEPS.index(step)] if s in reached]
            reached[step] = when
            pairs = {earlier[-1]} if earlier else set()
            if "released" in earlier:
                pairs.add("released")
            otel.note_step(
                self,
                step,
                earlier[-1] if earlier else None,
                max((when - reached[earlier[-1]]).total_seconds(), 0.0) if earlier else 0.0,
            )
            for from_step in sorted(pairs):
                seconds = max((when - reached[from_step]).total_seconds(), 0.0)
                metrics.observe_step_latency(self.env, self.backend_id.id, from_step, step, seconds)
