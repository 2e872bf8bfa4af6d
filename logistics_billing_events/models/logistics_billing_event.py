"""A billable milestone: created by the rules from a confirmed milestone (a carrier's proof
of delivery, a 3PL's shipment or receipt, an accessorial a partner reports), exactly once per
milestone and rule, approved when it needs to be, then invoiced.

Idempotency: ``milestone_key`` names the milestone itself (``delivered:stock.picking:42``,
``shipped:logistics.shipment:7``, ``accessorial:<backend>:<charge id>``), whatever message
brought it; a unique constraint on (key, rule) makes a replayed message, a duplicate webhook
or two workers at once create one event, never two.

A percentage of freight whose freight price is unknown (a parcel without a booked price) is
not billed as 0.00: the event waits *To approve* with ``price_missing`` and its reason until
a billing user enters the price; it cannot be approved or invoiced before.

An accessorial keeps what the partner reported it would charge (``cost_amount`` in
``cost_currency_id``): the freight audit expects that cost, not the customer's price.

States: *To approve* → *Billable* (approved) → *On a draft invoice* → *Invoiced* (posted);
*Rejected* with a reason. Cancelling or reversing the invoice makes its events billable
again; resetting it to draft puts them back *On a draft invoice* (they are billable again
once removed from it: releasing them while the draft still bills them would bill twice).
"""

import psycopg2

from odoo import api, fields, models
from odoo.exceptions import UserError
from odoo.tools import split_every

from odoo.addons.logistics_integration_base.tools import transactions
from odoo.addons.logistics_integration_base.tools.feedback import notification

from .logistics_billing_rule import MILESTONES

# On an order's transaction timeline: a delivery's billing events and their invoices, the
# invoices of billing events, and the freight invoices naming a delivery (the freight audit).
transactions.register("logistics.billing.event", up=("picking_id.sale_id", "picking_id"))
transactions.register(
    "stock.picking",
    down=("logistics_billing_event_ids", "logistics_billing_event_ids.invoice_id"),
    referring=(("logistics.freight.invoice.line", "picking_id", "invoice_id"),),
)
transactions.register(
    "account.move",
    up=("logistics_billing_event_ids.picking_id.sale_id", "logistics_billing_event_ids.picking_id"),
)

STATES = [
    ("to_approve", "To approve"),
    ("approved", "Billable"),
    ("draft_invoice", "On a draft invoice"),
    ("invoiced", "Invoiced"),
    ("rejected", "Rejected"),
]


class LogisticsBillingEvent(models.Model):
    _name = "logistics.billing.event"
    _description = "Billing event"
    _inherit = ["mail.thread", "mail.activity.mixin"]
    _order = "date desc, id desc"

    name = fields.Char(string="Reference", required=True, readonly=True, default="/", copy=False)
    company_id = fields.Many2one("res.company", required=True, readonly=True, index=True)
    partner_id = fields.Many2one(
        "res.partner", string="Customer", required=True, readonly=True, index=True
    )
    rule_id = fields.Many2one("logistics.billing.rule", readonly=True, ondelete="restrict")
    product_id = fields.Many2one("product.product", string="Service", required=True, readonly=True)
    milestone = fields.Selection(MILESTONES, required=True, readonly=True, index=True)
    milestone_key = fields.Char(
        string="Milestone identity",
        required=True,
        readonly=True,
        index=True,
        help="Identity of the milestone: one event per milestone and rule.",
    )
    backend_id = fields.Many2one(
        "logistics.backend", string="Partner", readonly=True, ondelete="set null"
    )
    res_model = fields.Char(string="Source model", readonly=True)
    res_id = fields.Many2oneReference(string="Source record", model_field="res_model")
    source_ref = fields.Char(string="Source", readonly=True, help="What the milestone was about")
    picking_id = fields.Many2one(
        "stock.picking", string="Transfer", readonly=True, index="btree_not_null"
    )
    message_id = fields.Many2one(
        "logistics.message", string="Milestone message", readonly=True, ondelete="set null"
    )
    date = fields.Datetime(string="Milestone time", required=True, readonly=True)
    description = fields.Char(required=True)
    quantity = fields.Float(digits="Product Unit of Measure", default=1.0)
    price_unit = fields.Float(string="Unit price", digits="Product Price")
    currency_id = fields.Many2one("res.currency", required=True, readonly=True)
    amount = fields.Monetary(compute="_compute_amount", store=True)
    state = fields.Selection(
        STATES, required=True, default="approved", readonly=True, index=True, tracking=True
    )
    approval_reason = fields.Char(
        string="Why approval is needed", readonly=True, help="Set when the event waits"
    )
    held_by_message_id = fields.Many2one(
        "logistics.message",
        string="Held by exception",
        readonly=True,
        ondelete="set null",
        index="btree_not_null",
        help="The failed message about the shipment that made this event wait. Superseded "
        "by a later message that succeeded, it holds nothing any more.",
    )
    price_missing = fields.Boolean(
        string="Price to enter",
        readonly=True,
        help="The price could not be computed (a percentage of a freight price that is "
        "unknown): enter it before the event is approved.",
    )
    charge_code = fields.Char(
        string="Charge code", readonly=True, help="Accessorials: the charge code reported"
    )
    cost_amount = fields.Monetary(
        string="Partner's charge",
        currency_field="cost_currency_id",
        readonly=True,
        help="Accessorials: what the carrier or 3PL reported it charges us (the freight audit "
        "expects this amount on its invoice).",
    )
    cost_currency_id = fields.Many2one(
        "res.currency", string="Currency of the partner's charge", readonly=True
    )
    decision_note = fields.Char(string="Decision", readonly=True, tracking=True)
    decided_by_id = fields.Many2one("res.users", string="Decided by", readonly=True)
    decided_at = fields.Datetime(string="Decided on", readonly=True)
    invoice_line_id = fields.Many2one(
        "account.move.line", string="Invoice line", readonly=True, ondelete="set null", copy=False
    )
    invoice_id = fields.Many2one(
        related="invoice_line_id.move_id", store=True, string="Invoice", index="btree_not_null"
    )
    invoiced_at = fields.Datetime(
        string="Invoiced on", readonly=True, help="When the invoice billing it was posted"
    )
    cycle_days = fields.Float(
        string="Days to invoice",
        compute="_compute_cycle_days",
        store=True,
        aggregator="avg",
        help="From the milestone to the posting of its invoice",
    )

    _sql_constraints = [
        (
            "milestone_rule_unique",
            "unique(milestone_key, rule_id)",
            "This milestone was already billed by this rule.",
        ),
    ]

    @api.depends("date", "invoiced_at")
    def _compute_cycle_days(self):
        for event in self:
            if event.date and event.invoiced_at:
                event.cycle_days = round(
                    (event.invoiced_at - event.date).total_seconds() / 86400.0, 2
                )
            else:
                event.cycle_days = 0.0

    @api.depends("quantity", "price_unit", "currency_id")
    def _compute_amount(self):
        for event in self:
            event.amount = event.currency_id.round(event.quantity * event.price_unit)

    @api.model_create_multi
    def create(self, vals_list):
        for vals in vals_list:
            if vals.get("name", "/") == "/":
                vals["name"] = self.env["ir.sequence"].next_by_code("logistics.billing.event")
        return super().create(vals_list)

    def write(self, vals):
        priced = {"quantity", "price_unit", "description"} & vals.keys()
        if priced and self.filtered(lambda e: e.state in ("draft_invoice", "invoiced")):
            raise UserError(
                self.env._(
                    "An event on an invoice keeps its quantity, price and description: change "
                    "the invoice, or remove its line first."
                )
            )
        if vals.get("price_unit") and "price_missing" not in vals:
            vals = dict(vals, price_missing=False)  # the billing user entered the price
        return super().write(vals)

    # creation from milestones -----------------------------------------------------------------
    @api.model
    def _logistics_record_milestone(
        self,
        milestone,
        key,
        company,
        partner,
        measures,
        date,
        source=None,
        picking=None,
        backend=None,
        message=None,
        description=None,
        charge_code=None,
        currency=None,
        waits_because=None,
        held_by=None,
    ):
        """One event per matching rule for a confirmed milestone, unless it exists (same key
        and rule). ``measures``: units, lines, kg, freight, amount. ``waits_because``: why
        the milestone itself needs a review (None: the rule decides); ``held_by``: the
        failed message that reason is about, if any (see ``_logistics_release_hold``).
        Returns the events created."""
        if not partner:
            return self.browse()
        partner = partner.commercial_partner_id
        rules = self.env["logistics.billing.rule"]._logistics_matching(
            milestone, company, partner, backend=backend, charge_code=charge_code
        )
        if not rules:
            return self.browse()
        Event = self.sudo()
        existing = set(
            Event.search([("milestone_key", "=", key), ("rule_id", "in", rules.ids)])
            .mapped("rule_id")
            .ids
        )
        created = Event.browse()
        for rule in rules.filtered(lambda r: r.id not in existing):
            price_missing = rule.price_basis == "percent_freight" and not measures.get("freight")
            quantity, price_unit, note = rule._logistics_quantity(measures)
            if not quantity and rule.price_basis != "fixed":
                continue  # nothing of what this rule bills (no kg, units...)
            reason = None
            if price_missing:
                price_unit = 0.0
                reason = self.env._(
                    "the freight price of %(shipment)s is unknown (no price was booked for its "
                    "parcels), so %(percent)s%% of it cannot be computed: enter the price "
                    "(%(percent)s%% of what the carrier charges) on this event and approve "
                    "it, or reject it",
                    shipment=source.display_name if source else key,
                    percent="%g" % rule.price,
                )
            reason = reason or waits_because
            if rule.requires_approval and not reason:
                reason = self.env._("the rule %s asks for approval", rule.name)
            if milestone == "delivered" and rule.requires_pod and not measures.get("pod"):
                reason = reason or self.env._("no proof of delivery from the carrier")
            # a rule's price is in its company's currency; a reported amount in the
            # partner's
            event_currency = (
                (currency or company.currency_id)
                if rule.price_basis == "reported"
                else rule.currency_id
            )
            vals = {
                "company_id": company.id,
                "partner_id": partner.id,
                "rule_id": rule.id,
                "product_id": rule.product_id.id,
                "milestone": milestone,
                "milestone_key": key,
                "backend_id": backend.id if backend else False,
                "res_model": source._name if source else False,
                "res_id": source.id if source else False,
                "source_ref": source.display_name if source else False,
                "picking_id": picking.id if picking else False,
                "message_id": message.id if message else False,
                "date": date or fields.Datetime.now(),
                "description": self._logistics_description(rule, description, source)
                + (f", {note}" if note else ""),
                "quantity": quantity,
                "price_unit": price_unit,
                "currency_id": event_currency.id,
                "state": "to_approve" if reason else "approved",
                "approval_reason": reason or False,
                "price_missing": price_missing,
                # held by the exception only when it is the reason given
                "held_by_message_id": held_by.id
                if held_by and waits_because and reason == waits_because
                else False,
            }
            if milestone == "accessorial":
                vals.update(
                    charge_code=charge_code or False,
                    cost_amount=measures.get("amount") or 0.0,
                    cost_currency_id=(currency or company.currency_id).id,
                )
            try:
                with self.env.cr.savepoint():
                    event = Event.create(vals)
                    event.flush_recordset()
            except psycopg2.errors.UniqueViolation:
                continue  # a concurrent worker billed this milestone meanwhile
            created |= event
        for event in created.filtered(lambda e: e.state == "to_approve"):
            event._logistics_ask_approval()
        return created

    def _logistics_release_hold(self, message, by, open_exception=None):
        """``message``, the exception that held these events, was superseded by ``by``
        (which succeeded). Each event waits again for what else its rule asks (an
        approval), or for ``open_exception`` (``(reason, message)``: another
        exception of the shipment still open); otherwise it is billable, its approval
        activity closed with a note saying why."""
        note = self.env._(
            "No longer held: %(message)s was superseded by %(by)s, which succeeded.",
            message=message.name,
            by=by.name or self.env._("a later message"),
        )
        for event in self.filtered(lambda e: e.state == "to_approve"):
            reason, holder = open_exception or (None, None)
            if not reason and event.rule_id.requires_approval:
                reason = self.env._("the rule %s asks for approval", event.rule_id.name)
            if reason:
                event.write(
                    {
                        "approval_reason": reason,
                        "held_by_message_id": holder.id if holder else False,
                    }
                )
                event.message_post(
                    body=self.env._(
                        "%(note)s It still waits because %(reason)s.", note=note, reason=reason
                    )
                )
                continue
            event.write(
                {"state": "approved", "approval_reason": False, "held_by_message_id": False}
            )
            event.activity_feedback(["mail.mail_activity_data_todo"], feedback=note)
            event.message_post(body=note)

    # holds of databases from before superseding --------------------------------------------
    @api.model
    def _logistics_relink_holds(self):
        """Events that wait for an exception of their shipment from before an event
        remembered which: their reason names it ("the shipment has an open exception
        (LGX/2026/000123: ...)"), so it becomes the one holding them. Returns how many."""
        self.flush_model()
        self.env["logistics.message"].flush_model()
        self.env.cr.execute(
            """
            UPDATE logistics_billing_event e
               SET held_by_message_id = m.id
              FROM logistics_message m
             WHERE e.state = 'to_approve' AND e.held_by_message_id IS NULL
               AND e.picking_id IS NOT NULL AND e.approval_reason IS NOT NULL
               AND m.res_model = 'stock.picking' AND m.res_id = e.picking_id
               AND m.state IN ('failed', 'dead', 'superseded')
               AND strpos(e.approval_reason, m.name) > 0
               -- the whole name (LGX/2026/000012 is not LGX/2026/0000123)
               AND substr(e.approval_reason, strpos(e.approval_reason, m.name) + length(m.name), 1)
                   !~ '[0-9]'
            """
        )
        count = self.env.cr.rowcount
        self.invalidate_model(["held_by_message_id"])
        return count

    @api.model
    def _logistics_release_superseded_holds(self, batch_size=500):
        """Events still waiting for an exception that was superseded (before the hold was
        released on superseding, or linked to it by ``_logistics_relink_holds``) are
        released as superseding releases them (``stock.picking._logistics_billing_release``),
        each shipment in its own company, ``batch_size`` exceptions at a time. A second run
        finds nothing. Returns the events released from their hold."""
        self.flush_model()
        self.env.cr.execute(
            """
            SELECT DISTINCT e.held_by_message_id
              FROM logistics_billing_event e
              JOIN logistics_message m ON m.id = e.held_by_message_id
             WHERE e.state = 'to_approve' AND m.state = 'superseded'
             ORDER BY 1
            """
        )
        message_ids = [row[0] for row in self.env.cr.fetchall()]
        Message = self.env["logistics.message"].sudo()
        released = 0
        for batch in split_every(batch_size, message_ids):
            for message in Message.browse(batch):
                held = self.sudo().search(
                    [("held_by_message_id", "=", message.id), ("state", "=", "to_approve")]
                )
                for picking in held.picking_id:
                    released += len(
                        picking.with_company(picking.company_id)._logistics_billing_release(
                            message, message.superseded_by_id
                        )
                    )
            self.env.flush_all()
            self.env.invalidate_all()
        return released

    @api.model
    def _logistics_currency(self, code, company):
        """The currency a partner names by its ISO code (active or not); the company's
        when the code is empty or unknown to Odoo."""
        if code:
            currency = (
                self.env["res.currency"]
                .with_context(active_test=False)
                .search([("name", "=", code.upper())], limit=1)
            )
            if currency:
                return currency
        return company.currency_id

    @api.model
    def _logistics_description(self, rule, description, source):
        label = description or (source.display_name if source else "")
        product = rule.product_id.name
        return f"{product}: {label}" if label else product

    def _logistics_ask_approval(self):
        """An activity for the billing users: what to check and why."""
        group = self.env.ref("logistics_billing_events.group_billing_user")
        user = group.users.filtered(lambda u: u.company_id == self.company_id)[:1] or (
            self.env.ref("base.user_admin")
        )
        self.activity_schedule(
            "mail.mail_activity_data_todo",
            summary=self.env._("Billing event to approve: %s", self.approval_reason),
            note=self.env._(
                "%(event)s for %(customer)s (%(amount)s %(currency)s) waits because "
                "%(reason)s. Approve it to invoice it, or reject it with a reason.",
                event=self.description,
                customer=self.partner_id.display_name,
                amount=self.amount,
                currency=self.currency_id.name,
                reason=self.approval_reason,
            ),
            user_id=user.id,
        )

    # approval ---------------------------------------------------------------------------------
    def action_approve(self):
        self._logistics_check_billing_user()
        for event in self:
            if event.state not in ("to_approve", "rejected"):
                raise UserError(
                    self.env._("%(name)s is %(state)s: nothing to approve.", **event._words())
                )
            if event.price_missing:
                raise UserError(
                    self.env._(
                        "%(name)s for %(customer)s has no price yet: %(reason)s.",
                        name=event.name,
                        customer=event.partner_id.display_name,
                        reason=event.approval_reason,
                    )
                )
        self.write(
            {
                "state": "approved",
                "decision_note": self.env._("Approved"),
                "decided_by_id": self.env.user.id,
                "decided_at": fields.Datetime.now(),
            }
        )
        self.activity_unlink(["mail.mail_activity_data_todo"])
        for event in self:
            event.message_post(body=self.env._("Approved by %s.", self.env.user.name))
        return notification(
            self.env._("Approved"),
            self.env._(
                "%(name)s for %(customer)s is approved: it goes on the customer's next invoice.",
                name=self.name,
                customer=self.partner_id.display_name,
            )
            if len(self) == 1
            else self.env._(
                "%s billing events are approved: each goes on its customer's next invoice.",
                len(self),
            ),
        )

    def _logistics_reject(self, reason):
        self._logistics_check_billing_user()
        if not (reason or "").strip():
            raise UserError(self.env._("Say why the event is not billed."))
        for event in self:
            if event.state not in ("to_approve", "approved"):
                raise UserError(
                    self.env._("%(name)s is %(state)s: it cannot be rejected.", **event._words())
                )
        self.write(
            {
                "state": "rejected",
                "decision_note": reason,
                "decided_by_id": self.env.user.id,
                "decided_at": fields.Datetime.now(),
            }
        )
        self.activity_unlink(["mail.mail_activity_data_todo"])
        for event in self:
            event.message_post(
                body=self.env._(
                    "Rejected by %(user)s: %(reason)s", user=self.env.user.name, reason=reason
                )
            )
        return True

    def action_open_reject(self):
        return {
            "type": "ir.actions.act_window",
            "name": self.env._("Reject billing events"),
            "res_model": "logistics.billing.event.reject",
            "view_mode": "form",
            "target": "new",
            "context": {"default_event_ids": self.ids},
        }

    def _logistics_check_billing_user(self):
        if not self.env.su and not self.env.user.has_group(
            "logistics_billing_events.group_billing_user"
        ):
            raise UserError(
                self.env._("Only a billing user approves, rejects or invoices billing events.")
            )

    def _words(self):
        return {"name": self.name, "state": dict(STATES)[self.state].lower()}

    # invoicing ----------------------------------------------------------------------------
    def action_invoice(self):
        """Button: invoice the selected billable events now (a billing user: the invoices
        are created with elevated rights)."""
        self.check_access("write")
        self._logistics_check_billing_user()
        moves = self._logistics_invoice()
        if not moves:
            raise UserError(self.env._("None of the selected events is billable."))
        action = self.env["ir.actions.act_window"]._for_xml_id(
            "account.action_move_out_invoice_type"
        )
        action["domain"] = [("id", "in", moves.ids)]
        action["context"] = {}
        return action

    @api.model
    def _cron_invoice(self):
        """Cron: invoice the billable events of past months, per customer and month."""
        today = fields.Date.context_today(self)
        start_of_month = fields.Datetime.to_datetime(today.replace(day=1))
        events = self.sudo().search(
            [("state", "=", "approved"), ("date", "<", start_of_month)], order="date, id"
        )
        return len(events._logistics_invoice())

    def _logistics_invoice(self):
        """Draft customer invoices for the billable events, one per company, customer,
        currency and month; one line per event, or per service and price when the
        customer asks for grouped invoices. Returns the invoices."""
        events = self.filtered(
            lambda e: e.state == "approved" and not e.invoice_line_id and not e.price_missing
        )
        groups = {}
        for event in events.sorted(lambda e: (e.date, e.id)):
            period = event.date.strftime("%Y-%m")
            key = (event.company_id, event.partner_id, event.currency_id, period)
            groups.setdefault(key, self.browse())
            groups[key] |= event
        Move = self.env["account.move"].sudo()
        moves = Move.browse()
        for (company, partner, currency, period), group in groups.items():
            Move_c = Move.with_company(company)
            fiscal_position = (
                self.env["account.fiscal.position"]
                .with_company(company)
                ._get_fiscal_position(partner)
            )
            lines = self._logistics_invoice_lines(partner, group)
            # all lines in one create: the invoice's taxes and totals are computed once,
            # not again for every line
            move = Move_c.create(
                {
                    "move_type": "out_invoice",
                    "partner_id": partner.id,
                    "currency_id": currency.id,
                    "fiscal_position_id": fiscal_position.id,
                    "invoice_origin": self.env._("Logistics services %s", period),
                    "narration": self.env._(
                        "Logistics services of %(period)s: %(count)s billing event(s).",
                        period=period,
                        count=len(group),
                    ),
                    "invoice_line_ids": [fields.Command.create(vals) for _events, vals in lines],
                }
            )
            created = move.invoice_line_ids.sorted("id")  # in the order of the commands
            if len(created) != len(lines):  # pragma: no cover - Odoo creates what it is given
                raise UserError(self.env._("The invoice of %s lost lines.", partner.display_name))
            for (events_of_line, _vals), line in zip(lines, created, strict=True):
                events_of_line.write({"invoice_line_id": line.id})
            group.write({"state": "draft_invoice"})
            body = self.env._(
                "On draft invoice of %(partner)s (%(period)s).",
                partner=partner.display_name,
                period=period,
            )
            group._message_log_batch(bodies=dict.fromkeys(group.ids, body))
            moves |= move
        return moves

    @api.model
    def _logistics_invoice_lines(self, partner, events):
        """[(events, invoice line values)]: one per event, or per (service, unit price)."""
        if partner.logistics_billing_grouping == "product":
            lines = {}
            for event in events:
                lines.setdefault((event.product_id, event.price_unit), self.browse())
                lines[(event.product_id, event.price_unit)] |= event
            return [
                (
                    group,
                    {
                        "product_id": product.id,
                        "name": self.env._(
                            "%(service)s (%(count)s milestones)",
                            service=product.display_name,
                            count=len(group),
                        ),
                        "quantity": sum(group.mapped("quantity")),
                        "price_unit": price_unit,
                    },
                )
                for (product, price_unit), group in lines.items()
            ]
        return [
            (
                event,
                {
                    "product_id": event.product_id.id,
                    "name": f"{event.name} {event.description}",
                    "quantity": event.quantity,
                    "price_unit": event.price_unit,
                },
            )
            for event in events
        ]

    def _logistics_release(self, why):
        """Billable again (the invoice was cancelled or reversed)."""
        for event in self:
            event.message_post(body=why)
        self.write({"state": "approved", "invoice_line_id": False, "invoiced_at": False})
