"""Invoices that carry billing events tell the billing system what happened to them.

``_post`` is overridden, not ``action_post``: the auto-post cron and the validate wizard
call ``_post`` directly. Posting sends ``invoice.posted``; resetting to draft sends
``invoice.reset`` (the events stay on the draft); reversing sends ``invoice.reversed``.

Cancelling is recognised where it happens, in ``write`` of ``state = 'cancel'``, whatever
path leads there: *Cancel* on a posted invoice, *Reset to draft* then *Cancel* (the ordinary
way in Odoo 18), or code writing the state. The events still on the invoice become billable
again, once (releasing unlinks them), and ``invoice.cancelled`` is sent when the billing
system was told of the invoice (it was posted, or reset after a post) and not yet of its
end: a draft that was never posted tells it nothing. ``logistics_billing_told`` keeps the
last news sent. Messages go to the company's billing-system backend (kind *Billing system*)
when there is one, queued like any outbound message (retries, exception queue).
"""

from odoo import api, fields, models
from odoo.exceptions import UserError

#: news of an invoice the billing system was sent -> ``logistics_billing_told``
TOLD = {
    "invoice.posted": "posted",
    "invoice.reset": "reset",
    "invoice.cancelled": "cancelled",
    "invoice.reversed": "reversed",
}


class AccountMoveLine(models.Model):
    _inherit = "account.move.line"

    logistics_billing_event_ids = fields.One2many(
        "logistics.billing.event", "invoice_line_id", string="Billing events"
    )

    def unlink(self):
        self.check_access("unlink")
        events = self.sudo().logistics_billing_event_ids
        if events:
            events._logistics_release(self.env._("Its invoice line was removed: billable again."))
        return super().unlink()


class AccountMove(models.Model):
    _inherit = "account.move"

    logistics_billing_event_ids = fields.One2many(
        "logistics.billing.event", "invoice_id", string="Billing events"
    )
    logistics_billing_event_count = fields.Integer(
        compute="_compute_logistics_billing_event_count", string="Billing event count"
    )
    logistics_billing_told = fields.Selection(
        [
            ("posted", "Posted"),
            ("reset", "Reset to draft"),
            ("cancelled", "Cancelled"),
            ("reversed", "Reversed"),
        ],
        string="Billing system told",
        readonly=True,
        copy=False,
        help="The last news of this invoice sent to the billing system: a cancellation is "
        "sent only for an invoice it was told of.",
    )

    logistics_billing_released = fields.Boolean(
        string="Billing events released",
        readonly=True,
        copy=False,
        help="Its billing events became billable again when it was cancelled: it cannot be "
        "reset to draft (posted again, it would bill them a second time).",
    )

    @api.depends("logistics_billing_event_ids")
    def _compute_logistics_billing_event_count(self):
        # an accountant without logistics rights opens the invoice too: a count, no events
        counts = dict(
            self.env["logistics.billing.event"]
            .sudo()
            ._read_group([("invoice_id", "in", self.ids)], ["invoice_id"], ["__count"])
        )
        for move in self:
            move.logistics_billing_event_count = counts.get(move._origin, 0)

    def action_view_logistics_billing_events(self):
        self.ensure_one()
        action = self.env["ir.actions.act_window"]._for_xml_id(
            "logistics_billing_events.action_logistics_billing_event"
        )
        action["domain"] = [("invoice_id", "=", self.id)]
        action["context"] = {}
        return action

    # hooks ------------------------------------------------------------------------------------
    def _post(self, soft=True):
        posted = super()._post(soft=soft)
        for move in posted.filtered(lambda m: m.state == "posted"):
            events = move.sudo().logistics_billing_event_ids
            if not events:
                continue
            events.write({"state": "invoiced", "invoiced_at": fields.Datetime.now()})
            for event in events:
                event.message_post(body=self.env._("Invoiced on %s.", move.name))
            move._logistics_billing_notify("invoice.posted")
        return posted

    def button_draft(self):
        self.check_access("write")
        released = self.filtered(lambda m: m.state == "cancel" and m.logistics_billing_released)
        if released:
            raise UserError(
                self.env._(
                    "Invoice %s was cancelled and its billing events became billable again "
                    "(they may be on another invoice by now): posted again, it would bill them "
                    "twice. Invoice the events again from Logistics › Billing events instead "
                    "of resetting this invoice.",
                    released[0].name or released[0].id,
                )
            )
        billed = self.filtered(
            lambda m: m.state == "posted" and m.sudo().logistics_billing_event_ids
        )
        res = super().button_draft()
        for move in billed:
            move.sudo().logistics_billing_event_ids.write({"state": "draft_invoice"})
            if not self.env.context.get("logistics_billing_cancelling"):
                move._logistics_billing_notify("invoice.reset")
        return res

    def button_cancel(self):
        # Odoo resets a posted invoice to draft first: that reset is part of the
        # cancellation, not news of its own (``write`` below tells the cancellation).
        self.check_access("write")
        return super(
            AccountMove, self.with_context(logistics_billing_cancelling=True)
        ).button_cancel()

    def write(self, vals):
        if vals.get("state") != "cancel":
            return super().write(vals)
        cancelling = self.filtered(lambda m: m.state != "cancel")
        res = super().write(vals)
        cancelling._logistics_billing_cancelled()
        return res

    def _logistics_billing_cancelled(self):
        """These invoices were just cancelled: their events billable again (once: releasing
        unlinks them) and the billing system told, if it knew of the invoice."""
        for move in self:
            events = move.sudo().logistics_billing_event_ids
            told = move.logistics_billing_told in ("posted", "reset")
            if not events and not told:
                continue
            payload = move._logistics_billing_payload("invoice.cancelled", events)
            if events:
                events._logistics_release(
                    self.env._("Invoice %s was cancelled: billable again.", move.name or move.id)
                )
                move.sudo().logistics_billing_released = True
            if told:
                move._logistics_billing_send("invoice.cancelled", payload)

    def _reverse_moves(self, default_values_list=None, cancel=False):
        reverses = super()._reverse_moves(default_values_list=default_values_list, cancel=cancel)
        for move, reverse in zip(self, reverses, strict=False):
            events = move.sudo().logistics_billing_event_ids
            if move.move_type != "out_invoice" or not events:
                continue
            payload = move._logistics_billing_payload("invoice.reversed", events)
            payload["credit_note"] = reverse.name if reverse.name not in (False, "/") else None
            events._logistics_release(
                self.env._(
                    "Invoice %(invoice)s was reversed (%(credit)s): billable again.",
                    invoice=move.name,
                    credit=payload["credit_note"] or self.env._("draft credit note"),
                )
            )
            move._logistics_billing_send("invoice.reversed", payload)
        return reverses

    def unlink(self):
        self.check_access("unlink")
        events = self.sudo().logistics_billing_event_ids
        if events:
            events._logistics_release(self.env._("Its draft invoice was deleted: billable again."))
        return super().unlink()

    # messages -----------------------------------------------------------------------------
    def _logistics_billing_backend(self):
        self.ensure_one()
        return (
            self.env["logistics.backend"]
            .sudo()
            .search(
                [("kind", "=", "billing"), ("company_id", "in", [self.company_id.id, False])],
                order="company_id, id",
                limit=1,
            )
        )

    def _logistics_billing_notify(self, message_type):
        self.ensure_one()
        events = self.sudo().logistics_billing_event_ids
        self._logistics_billing_send(
            message_type, self._logistics_billing_payload(message_type, events)
        )

    def _logistics_billing_send(self, message_type, payload):
        self.ensure_one()
        backend = self._logistics_billing_backend()
        if not backend:
            return None
        message = backend._send_message(
            message_type,
            payload,
            record=self,
            subject=self.env._(
                "Invoice %(invoice)s of %(customer)s: %(what)s",
                invoice=payload["invoice_number"],
                customer=self.partner_id.display_name,
                what=message_type,
            ),
        )
        # a field of this module, not a change of the entry the accountant made
        self.sudo().with_context(skip_is_manually_modified=True).write(
            {"logistics_billing_told": TOLD[message_type]}
        )
        self.message_post(
            body=self.env._(
                "%(what)s sent to %(backend)s (%(message)s).",
                what=message_type,
                backend=backend.name,
                message=message.name,
            )
        )
        return message

    def _logistics_billing_payload(self, message_type, events):
        self.ensure_one()
        partner = self.commercial_partner_id
        payload = {
            "invoice_number": self.name if self.name and self.name != "/" else f"draft-{self.id}",
            "company": self.company_id.name,
            "customer": {
                "name": partner.name,
                "ref": partner.ref or None,
                "vat": partner.vat or None,
                "country": partner.country_id.code or None,
            },
            "currency": self.currency_id.name,
            "events": [
                {
                    "reference": event.name,
                    "milestone": event.milestone,
                    "source": event.source_ref or None,
                    "amount": event.amount,
                }
                for event in events.sorted("id")
            ],
        }
        if message_type == "invoice.posted":
            payload.update(
                {
                    "invoice_date": fields.Date.to_string(self.invoice_date),
                    "due_date": fields.Date.to_string(self.invoice_date_due)
                    if self.invoice_date_due
                    else None,
                    "amount_untaxed": self.amount_untaxed,
                    "amount_tax": self.amount_tax,
                    "amount_total": self.amount_total,
                    "lines": [
                        {
                            "description": line.name,
                            "product": line.product_id.default_code or line.product_id.name or None,
                            "quantity": line.quantity,
                            "price_unit": line.price_unit,
                            "subtotal": line.price_subtotal,
                            "taxes": line.tax_ids.mapped("name"),
                            "events": line.logistics_billing_event_ids.sorted("id").mapped("name"),
                        }
                        for line in self.invoice_line_ids.filtered(
                            lambda li: li.display_type == "product"
                        )
                    ],
                }
            )
        return payload
