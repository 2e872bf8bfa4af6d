"""Carrier and 3PL invoices audited against what was expected before anything is paid.

Each invoice (``freight.invoice``: webhook, CSV or X12 210 file) is recorded once per partner
and number. Each billed shipment is matched to its delivery (our reference, a tracking
number or a PRO number) and to its expected cost:

* the rate stored when the carrier connector booked its parcels;
* the partner's contract rates (per shipment, unit, order line or kg, per charge code) on
  the backend;
* the accessorials the partner reported (``billing.charge``) that a billing user approved.

Within the backend's tolerance (an amount **and** a percentage: both must hold) a vendor
bill is created, posted or left in draft per the backend's policy. A variance, a re-billed
weight, an unknown shipment or a duplicate (Odoo's own duplicate-reference check on vendor
bills) leaves the invoice *To review* and its message in the exception queue with expected
and invoiced amounts side by side; an operator accepts it, disputes it (a message to the
partner), or corrects the message and replays it, which audits the same invoice again.

Expected amounts are converted into the invoice's currency with Odoo's rates at the invoice
date (a rate booked in dollars, an invoice in euros).

The same number again: with the same amount and currency, a harmless duplicate (nothing
more is done, the message is processed and says so); with another amount, while the first
copy waits for a review, it replaces it (the partner's corrected invoice) and the chatter
keeps the earlier figure; once the first copy is billed, another amount is never dropped:
it is recorded as a copy of its own (``copy_number``, ``duplicate_of_id``), *To review*
with both figures, and accepting it is refused while the first vendor bill stands.

A dispute goes to the carrier or 3PL the invoice is for: its own backend when it takes
disputes (a partner's invoicing webhook), else a backend of the partner whose shipments it
matched (the carrier the parcels were booked with, the 3PL the order was released to) or
of its *Invoices for*; a backend bringing files only never receives one.
"""

import psycopg2

from odoo import api, fields, models
from odoo.exceptions import UserError
from odoo.tools import float_compare, float_is_zero

from odoo.addons.logistics_integration_base.exceptions import RetryLater

STATES = [
    ("to_review", "To review"),
    ("disputed", "Disputed"),
    ("billed", "Billed"),
]


def _unlisted(charge):
    """A charge whose partner code no canonical code stands for (an X12 210's ``ENS``, ``GST``,
    ``490``...): kept as ``other`` with its code, an accessorial a billing user approves."""
    return charge.get("code") == "other" and bool(charge.get("partner_code"))


def _charge_label(charge):
    """``fuel``, or the partner's own code for a charge outside the canonical codes."""
    return charge["partner_code"] if _unlisted(charge) else charge["code"]


class LogisticsFreightInvoice(models.Model):
    _name = "logistics.freight.invoice"
    _description = "Freight invoice"
    _inherit = ["mail.thread", "mail.activity.mixin"]
    _order = "invoice_date desc, id desc"

    name = fields.Char(string="Invoice number", required=True, readonly=True, index=True)
    backend_id = fields.Many2one(
        "logistics.backend", string="Partner", required=True, readonly=True, index=True
    )
    company_id = fields.Many2one("res.company", required=True, readonly=True, index=True)
    vendor_id = fields.Many2one("res.partner", readonly=True)
    invoice_date = fields.Date(readonly=True, string="Invoice date")
    currency_id = fields.Many2one("res.currency", required=True, readonly=True)
    total = fields.Monetary(string="Invoiced", readonly=True)
    expected_total = fields.Monetary(string="Expected", readonly=True)
    variance = fields.Monetary(readonly=True, help="Invoiced minus expected")
    company_currency_id = fields.Many2one(
        related="company_id.currency_id", string="Company currency"
    )
    variance_company = fields.Monetary(
        string="Variance in company currency",
        currency_field="company_currency_id",
        compute="_compute_variance_company",
        store=True,
        help="The variance converted into the company's currency at the invoice date: what "
        "the dashboard adds up across invoices in several currencies.",
    )
    state = fields.Selection(
        STATES, required=True, default="to_review", readonly=True, tracking=True
    )
    issues = fields.Text(string="What does not match", readonly=True)
    message_id = fields.Many2one(
        "logistics.message", string="Invoice message", readonly=True, ondelete="set null"
    )
    move_id = fields.Many2one("account.move", string="Vendor bill", readonly=True, copy=False)
    line_ids = fields.One2many(
        "logistics.freight.invoice.line", "invoice_id", string="Shipments", readonly=True
    )
    dispute_reason = fields.Char(string="Dispute reason", readonly=True, tracking=True)
    dispute_backend_id = fields.Many2one(
        "logistics.backend",
        string="Disputed with",
        readonly=True,
        help="The backend of the carrier or 3PL the dispute was sent to.",
    )
    copy_number = fields.Integer(
        string="Copy",
        readonly=True,
        default=0,
        help="0: the invoice as first received; 1, 2...: the same number sent again with "
        "another amount after the first was billed, kept to review beside it.",
    )
    duplicate_of_id = fields.Many2one(
        "logistics.freight.invoice",
        string="Copy of",
        readonly=True,
        index="btree_not_null",
        help="The invoice with this number that was billed already: this copy says another amount.",
    )

    _sql_constraints = [
        (
            "number_unique",
            "unique(backend_id, name, copy_number)",
            "This partner sent this invoice already.",
        ),
    ]

    @api.depends("name", "copy_number")
    def _compute_display_name(self):
        for invoice in self:
            invoice.display_name = (
                self.env._(
                    "%(number)s (copy %(copy)s)", number=invoice.name, copy=invoice.copy_number
                )
                if invoice.copy_number
                else invoice.name
            )

    @api.depends("variance", "currency_id", "company_id", "invoice_date")
    def _compute_variance_company(self):
        for invoice in self:
            company = invoice.company_id
            invoice.variance_company = (
                invoice.currency_id._convert(
                    invoice.variance,
                    company.currency_id,
                    company,
                    invoice.invoice_date or fields.Date.context_today(invoice),
                )
                if invoice.currency_id and company
                else invoice.variance
            )

    # audit ------------------------------------------------------------------------------------
    @api.model
    def _logistics_receive(self, backend, data, currency, message=None):
        """The invoice recorded (or, corrected and replayed, updated) and audited. Returns
        it; ``issues`` is empty when it was billed. A copy that changes nothing of an invoice
        billed already is returned as it is (its ``message_id`` is not ``message``)."""
        Invoice = self.sudo()
        copies = Invoice.search(
            [("backend_id", "=", backend.id), ("name", "=", data["invoice_number"])],
            order="copy_number",
        )
        total = data["total"]
        same = copies.filtered(
            lambda i: (
                i.currency_id == currency
                and not float_compare(i.total, total, precision_rounding=currency.rounding)
            )
        )
        billed = copies.filtered(lambda i: i.state == "billed")
        waiting = copies - billed
        replayed = waiting.filtered(lambda i: message and i.message_id == message)
        if (same & billed) and not replayed:
            invoice = (same & billed)[0]
            invoice.message_post(
                body=self.env._(
                    "Received again%(message)s with the same amount, %(total).2f %(currency)s: "
                    "billed already, nothing more was done.",
                    message=" (%s)" % message.name if message else "",
                    total=total,
                    currency=currency.name,
                )
            )
            return invoice
        # a replayed message, the same figures again, or the partner's corrected copy of an
        # invoice waiting for a review: that invoice, audited again
        invoice = (replayed or (same & waiting) or waiting)[:1]
        company = backend.company_id or self.env.company
        vals = {
            "backend_id": backend.id,
            "company_id": company.id,
            "name": data["invoice_number"],
            "vendor_id": backend.freight_vendor_id.id,
            "invoice_date": data.get("invoice_date"),
            "currency_id": currency.id,
            "total": total,
            "message_id": message.id if message else False,
            "line_ids": [fields.Command.clear()]
            + [
                fields.Command.create(
                    self._logistics_line_vals(backend, shipment, backend.company_id or None)
                )
                for shipment in data["shipments"]
            ],
        }
        previous = invoice.message_id
        earlier = (invoice.total, invoice.currency_id) if invoice else None
        if invoice:
            invoice.write(vals)
        else:
            if billed:
                # the number was billed at another amount: a copy of its own, to review
                vals.update(copy_number=max(copies.mapped("copy_number")) + 1)
                vals.update(duplicate_of_id=billed[0].id)
            try:
                with self.env.cr.savepoint():
                    invoice = Invoice.create(vals)
            except psycopg2.errors.UniqueViolation:
                raise RetryLater(
                    self.env._(
                        "Another copy of invoice %(number)s from %(backend)s is being recorded "
                        "at this moment: this one is audited again once it is stored.",
                        number=data["invoice_number"],
                        backend=backend.name,
                    ),
                    seconds=5,
                ) from None
        if earlier and (
            earlier[1] != currency
            or float_compare(earlier[0], total, precision_rounding=currency.rounding)
        ):
            invoice.message_post(
                body=self.env._(
                    "Received again%(message)s at %(total).2f %(currency)s; the copy received "
                    "before said %(earlier).2f %(earlier_currency)s. Audited again.",
                    message=" (%s)" % message.name if message else "",
                    total=total,
                    currency=currency.name,
                    earlier=earlier[0],
                    earlier_currency=earlier[1].name,
                )
            )
        billed_now = invoice._logistics_audit()
        if previous and previous != message:
            # the earlier copy waiting in the exception queue needs nothing more
            invoice._logistics_close_message(
                self.env._("Invoice %s was received again and billed.", invoice.name)
                if billed_now
                else self.env._(
                    "Invoice %(number)s was received again (%(message)s): that copy is the one "
                    "to review now.",
                    number=invoice.name,
                    message=message.name if message else "-",
                ),
                message=previous,
            )
        return invoice

    @api.model
    def _logistics_line_vals(self, backend, shipment, company=None):
        charges = shipment.get("charges") or []
        picking = self.env["stock.picking"]._logistics_billing_find_shipment(
            shipment.get("shipment_ref"),
            shipment.get("tracking_number") or shipment.get("pro_number"),
            company=company,
        )
        return {
            "shipment_ref": shipment.get("shipment_ref")
            or shipment.get("tracking_number")
            or shipment.get("pro_number"),
            "tracking_number": shipment.get("tracking_number"),
            "picking_id": picking.id,
            "weight_kg": shipment.get("weight_kg") or 0.0,
            "invoiced": round(sum(c["amount"] for c in charges), 2),
            "charges": "\n".join(
                f"{_charge_label(c)}: {c['amount']:.2f} {c.get('description') or ''}".strip()
                for c in charges
            ),
            "charges_data": [
                {
                    "code": c["code"],
                    "amount": c["amount"],
                    "description": c.get("description") or "",
                    "partner_code": c.get("partner_code") or None,
                }
                for c in charges
            ],
        }

    def _logistics_audit(self):
        """Expected cost per shipment, the variances, the duplicate check; bill it when
        everything is within tolerance."""
        self.ensure_one()
        backend = self.backend_id
        partners = backend | backend.freight_partner_backend_id
        problems = []
        for line in self.line_ids:
            line._logistics_expect(partners)
            problem = line._logistics_problem(backend)
            if problem:
                problems.append(problem)
        expected = sum(self.line_ids.mapped("expected"))
        self.write({"expected_total": expected, "variance": self.total - expected})
        original = self.duplicate_of_id
        if original._logistics_bill_stands():
            problems.insert(
                0,
                self.env._(
                    "Invoice %(number)s was billed already at %(earlier).2f %(earlier_currency)s "
                    "(vendor bill %(bill)s), and %(backend)s sent it again at %(total).2f "
                    "%(currency)s: the new amount is not billed. Ask the partner whether it "
                    "replaces the first invoice (then cancel or reverse %(bill)s and accept "
                    "this copy) or dispute this copy.",
                    number=self.name,
                    earlier=original.total,
                    earlier_currency=original.currency_id.name,
                    bill=original.move_id.display_name,
                    backend=self.backend_id.name,
                    total=self.total,
                    currency=self.currency_id.name,
                ),
            )
        duplicates = self._logistics_duplicates()
        if duplicates:
            problems.insert(
                0,
                self.env._(
                    "Vendor bill %(bills)s of %(vendor)s already has the reference %(ref)s: "
                    "this looks like the same invoice again.",
                    bills=", ".join(duplicates.mapped("display_name")),
                    vendor=self.vendor_id.display_name,
                    ref=self.name,
                ),
            )
        if not self.vendor_id:
            problems.insert(
                0,
                self.env._(
                    "No vendor for the freight bills of %s: set it on the backend (Freight "
                    "invoices).",
                    backend.name,
                ),
            )
        self.issues = "\n".join(problems) or False
        if problems:
            self.state = "to_review"
            return False
        self._logistics_bill()
        return True

    def _logistics_duplicates(self):
        """Odoo's duplicate-reference check of vendor bills, on the bill this invoice would
        become."""
        if not self.vendor_id:
            return self.env["account.move"]
        draft = self.env["account.move"].new(
            {
                "move_type": "in_invoice",
                "company_id": self.company_id.id,
                "partner_id": self.vendor_id.id,
                "ref": self.name,
                "invoice_date": self.invoice_date,
            }
        )
        # the bills of this number's other copies are named by the copy's own sentence
        copies = self.search([("backend_id", "=", self.backend_id.id), ("name", "=", self.name)])
        return draft.duplicated_ref_ids - copies.move_id

    def _logistics_bill_stands(self):
        """Billed, and its vendor bill neither cancelled nor reversed (False when empty)."""
        if not self:
            return False
        self.ensure_one()
        move = self.move_id
        return bool(
            self.state == "billed"
            and move
            and move.state != "cancel"
            and move.payment_state != "reversed"
        )

    def _logistics_reason(self):
        """The exception queue's text: what does not match, then expected and invoiced per
        shipment, side by side."""
        self.ensure_one()
        rows = [
            self.env._(
                "%(shipment)s: expected %(expected).2f, invoiced %(invoiced).2f %(currency)s "
                "(%(variance)+.2f)",
                shipment=line.picking_id.name or line.shipment_ref or "-",
                expected=line.expected,
                invoiced=line.invoiced,
                currency=self.currency_id.name,
                variance=line.invoiced - line.expected,
            )
            for line in self.line_ids
        ]
        return self.env._(
            "Invoice %(number)s from %(backend)s needs a review before it is paid:\n%(issues)s\n"
            "Expected %(expected).2f, invoiced %(total).2f %(currency)s.\n%(rows)s\nOpen the "
            "invoice under Logistics › Billing › Freight invoices to accept or dispute it, or "
            "correct this message and retry.",
            number=self.display_name,
            backend=self.backend_id.name,
            issues=self.issues,
            expected=self.expected_total,
            total=self.total,
            currency=self.currency_id.name,
            rows="\n".join(rows),
        )

    # outcomes ---------------------------------------------------------------------------------
    def _logistics_bill(self):
        """The vendor bill: a line per shipment and charge, posted or left in draft per the
        backend's policy."""
        self.ensure_one()
        backend = self.backend_id
        product = backend.freight_product_id
        if not product:
            raise UserError(
                self.env._(
                    "Set the freight cost product on %s (Freight invoices) before its invoices "
                    "are billed.",
                    backend.name,
                )
            )
        lines = []
        for line in self.line_ids:
            for charge in line.charges_data or []:
                lines.append(
                    fields.Command.create(
                        {
                            "product_id": product.id,
                            "name": " ".join(
                                filter(
                                    None,
                                    [
                                        line.picking_id.name or line.shipment_ref,
                                        _charge_label(charge),
                                        charge["description"],
                                    ],
                                )
                            ),
                            "quantity": 1.0,
                            "price_unit": charge["amount"],
                            "tax_ids": [fields.Command.clear()],
                        }
                    )
                )
        move = (
            self.env["account.move"]
            .sudo()
            .with_company(self.company_id)
            .create(
                {
                    "move_type": "in_invoice",
                    "partner_id": self.vendor_id.id,
                    "ref": self.name,
                    "invoice_date": self.invoice_date or fields.Date.context_today(self),
                    "currency_id": self.currency_id.id,
                    "invoice_line_ids": lines,
                }
            )
        )
        if float_compare(move.amount_total, self.total, precision_digits=2):
            raise UserError(
                self.env._(
                    "The vendor bill of %(number)s comes to %(bill).2f, the invoice to "
                    "%(total).2f.",
                    number=self.name,
                    bill=move.amount_total,
                    total=self.total,
                )
            )
        if backend.freight_bill_policy == "post":
            move.action_post()
        self.write({"move_id": move.id, "state": "billed"})
        self.message_post(
            body=self.env._(
                "Vendor bill %(bill)s created (%(state)s).",
                bill=move.display_name,
                state=dict(move._fields["state"].selection)[move.state],
            )
        )
        return move

    def action_accept(self):
        """An operator accepts the invoice as it is: billed, its message closed."""
        self.check_access("write")
        for invoice in self:
            if invoice.state == "billed":
                continue
            original = invoice.duplicate_of_id
            if original._logistics_bill_stands():
                raise UserError(
                    self.env._(
                        "%(invoice)s of %(backend)s was billed already at %(earlier).2f "
                        "%(earlier_currency)s by %(bill)s: accepting this copy at %(total).2f "
                        "%(currency)s would pay the invoice twice. If it replaces the first "
                        "one, cancel or reverse %(bill)s first; otherwise dispute it.",
                        invoice=invoice.display_name,
                        backend=invoice.backend_id.name,
                        earlier=original.total,
                        earlier_currency=original.currency_id.name,
                        bill=original.move_id.display_name,
                        total=invoice.total,
                        currency=invoice.currency_id.name,
                    )
                )
            invoice._logistics_bill()
            invoice.message_post(
                body=self.env._(
                    "Accepted by %(user)s although: %(issues)s",
                    user=self.env.user.name,
                    issues=invoice.issues,
                )
            )
            invoice._logistics_close_message(
                self.env._("Accepted by %s; vendor bill created.", self.env.user.name)
            )
        return True

    def _logistics_dispute(self, reason):
        """Tell the carrier or 3PL what does not match (a ``freight.dispute`` message to
        the backend taking its disputes, see ``_logistics_dispute_backend``)."""
        self.check_access("write")
        if not (reason or "").strip():
            raise UserError(self.env._("Say what does not match: the partner reads it."))
        for invoice in self:
            if invoice.state == "billed":
                raise UserError(
                    self.env._("%s is billed: it can no longer be disputed.", invoice.display_name)
                )
            backend = invoice._logistics_dispute_backend()
            if not backend:
                raise UserError(
                    self.env._(
                        "Invoice %(invoice)s came from %(files)s, which only brings invoice "
                        "files, and no backend of the carrier or 3PL it is for takes disputes "
                        "(none of its shipments was matched to a booking with one, and "
                        "%(files)s names no 'Invoices for' that can). Nothing was sent: "
                        "dispute it with the partner directly, or add a backend of the "
                        "provider Generic whose 'Invoices for' is the carrier or 3PL, then "
                        "dispute it again.",
                        invoice=invoice.display_name,
                        files=invoice.backend_id.name,
                    )
                )
            payload = {
                "invoice_number": invoice.name,
                "reason": reason,
                "currency": invoice.currency_id.name,
                "expected_total": invoice.expected_total,
                "invoiced_total": invoice.total,
                "shipments": [
                    {
                        "shipment_ref": line.shipment_ref or None,
                        "tracking_number": line.tracking_number or None,
                        "expected": line.expected,
                        "invoiced": line.invoiced,
                        "issue": line.issue or None,
                    }
                    for line in invoice.line_ids
                ],
            }
            message = backend._send_message(
                "freight.dispute",
                payload,
                record=invoice,
                subject=self.env._("Dispute of invoice %s", invoice.display_name),
            )
            invoice.write(
                {"state": "disputed", "dispute_reason": reason, "dispute_backend_id": backend.id}
            )
            invoice.message_post(
                body=self.env._(
                    "Disputed by %(user)s with %(partner)s (%(message)s): %(reason)s",
                    user=self.env.user.name,
                    partner=backend.name,
                    message=message.name,
                    reason=reason,
                )
            )
            invoice._logistics_close_message(
                self.env._(
                    "Disputed with %(partner)s: %(reason)s",
                    partner=backend.name,
                    reason=reason,
                )
            )
        return True

    def _logistics_dispute_backend(self):
        """The backend a dispute of this invoice goes to (sudo), or an empty recordset: the
        backend the invoice came from when it takes disputes (a partner's own invoicing
        webhook); else, for each backend of the partner the invoice is for (those its
        shipments were booked with or released to, then its *Invoices for*), that backend
        when it takes disputes, else a backend of the company whose *Invoices for* it is
        and that takes them (the partner's invoicing channel)."""
        self.ensure_one()
        source = self.backend_id.sudo()
        if source._logistics_takes_disputes():
            return source
        Backend = self.env["logistics.backend"].sudo()
        for partner in self._logistics_partner_backends():
            if partner._logistics_takes_disputes():
                return partner
            channels = Backend.search(
                [
                    ("freight_partner_backend_id", "=", partner.id),
                    ("id", "!=", source.id),
                    ("company_id", "in", [self.company_id.id, False]),
                ],
                order="id",
            ).filtered(lambda b: b._logistics_takes_disputes())
            if channels:
                return channels[0]
        return Backend

    def _logistics_partner_backends(self):
        """The backends of the carrier or 3PL this invoice is for, in order (sudo): the
        carrier backends its shipments' parcels were booked with (the parcel of the
        invoiced tracking number first), or for a 3PL's invoice the 3PL backends its
        shipments were released to; then the source's *Invoices for*."""
        self.ensure_one()
        source = self.backend_id.sudo()
        kind = (source.freight_partner_backend_id or source).kind
        found = []
        for line in self.sudo().line_ids.filtered("picking_id"):
            picking = line.picking_id
            if kind == "carrier":
                parcels = picking.logistics_parcel_ids.filtered(
                    lambda p: p.state in ("booked", "followed")
                )
                number = line.tracking_number
                parcels = parcels.sorted(lambda p, n=number: p.tracking_number != n)
                found += list(parcels.backend_id)
            else:
                found += list(picking.logistics_backend_id)
                found += list(
                    self.env["logistics.shipment"]
                    .sudo()
                    .search([("picking_id", "=", picking.id)])
                    .backend_id
                )
        found += list(source.freight_partner_backend_id)
        backends = self.env["logistics.backend"].sudo()
        for backend in found:
            if (
                backend not in backends
                and backend.active
                and backend.company_id in (self.company_id, self.env["res.company"])
            ):
                backends |= backend
        return backends

    def action_open_dispute(self):
        return {
            "type": "ir.actions.act_window",
            "name": self.env._("Dispute freight invoices"),
            "res_model": "logistics.freight.invoice.dispute",
            "view_mode": "form",
            "target": "new",
            "context": {"default_invoice_ids": self.ids},
        }

    def _logistics_close_message(self, why, message=None):
        message = (message or self.message_id).sudo()
        if message and message.state in ("failed", "dead"):
            message.write({"state": "ignored", "ignore_reason": why, "next_retry_at": False})
            message.message_post(body=why)


class LogisticsFreightInvoiceLine(models.Model):
    _name = "logistics.freight.invoice.line"
    _description = "Shipment on a freight invoice"
    _order = "id"

    invoice_id = fields.Many2one(
        "logistics.freight.invoice", required=True, ondelete="cascade", index=True
    )
    company_id = fields.Many2one(related="invoice_id.company_id", store=True, index=True)
    currency_id = fields.Many2one(related="invoice_id.currency_id")
    shipment_ref = fields.Char(string="Shipment")
    tracking_number = fields.Char(string="Tracking number")
    picking_id = fields.Many2one("stock.picking", string="Transfer", index="btree_not_null")
    weight_kg = fields.Float(string="Billed weight (kg)", digits="Stock Weight")
    expected_weight_kg = fields.Float(string="Shipped weight (kg)", digits="Stock Weight")
    charges = fields.Text()
    charges_data = fields.Json(string="Charges (as received)")
    invoiced = fields.Monetary()
    expected = fields.Monetary()
    expected_detail = fields.Char(string="Expected from")
    issue = fields.Char()

    @api.depends("invoice_id.name", "shipment_ref", "tracking_number")
    def _compute_display_name(self):
        for line in self:
            line.display_name = self.env._(
                "%(invoice)s: shipment %(shipment)s",
                invoice=line.invoice_id.name,
                shipment=line.shipment_ref or line.tracking_number or "",
            )

    def _logistics_expect(self, backends):
        """Expected cost of the shipment, in the invoice's currency (Odoo's rates at the
        invoice date): the rate booked with the partner, its contract rates (in the
        company's currency) and, once per charge, what the partner reported it would charge
        for the accessorials a billing user approved (``backends``: the invoicing backend
        and the carrier or 3PL backend it invoices for). The price the customer is billed
        for an accessorial is not the partner's cost."""
        self.ensure_one()
        picking = self.picking_id
        if not picking:
            self.write({"expected": 0.0, "expected_detail": False, "expected_weight_kg": 0.0})
            return
        invoice = self.invoice_id
        currency = invoice.currency_id
        company = invoice.company_id
        day = invoice.invoice_date or fields.Date.context_today(self)
        Event = self.env["logistics.billing.event"].sudo()

        def convert(value, from_currency):
            if not from_currency or from_currency == currency:
                return value
            return from_currency._convert(value, currency, company, day, round=False)

        def shown(value, from_currency):
            if not from_currency or from_currency == currency:
                return f"{value:.2f}"
            converted = currency.round(convert(value, from_currency))
            return f"{converted:.2f} ({value:.2f} {from_currency.name})"

        parts = []
        amount = 0.0
        parcels = picking.logistics_parcel_ids.filtered(
            lambda p: p.state in ("booked", "followed") and p.backend_id in backends
        )
        by_currency = {}
        for parcel in parcels:
            parcel_currency = Event._logistics_currency(parcel.currency, company)
            by_currency[parcel_currency] = by_currency.get(parcel_currency, 0.0) + parcel.price
        for parcel_currency, booked in by_currency.items():
            if booked:
                amount += convert(booked, parcel_currency)
                parts.append(self.env._("booked rate %s", shown(booked, parcel_currency)))
        measures = picking._logistics_billing_measures()
        for rate in backends.freight_rate_ids:
            value = rate._logistics_amount(measures)
            if value:
                rate_currency = (rate.company_id or company).currency_id
                amount += convert(value, rate_currency)
                parts.append(f"{rate.charge_code} {shown(value, rate_currency)}")
        accessorials = Event.search(
            [
                ("picking_id", "=", picking.id),
                ("milestone", "=", "accessorial"),
                ("backend_id", "in", backends.ids),
                ("state", "in", ("approved", "draft_invoice", "invoiced")),
            ],
            order="id",
        )
        charges = {}  # one charge may be billed to the customer by several rules
        for event in accessorials.filtered("cost_currency_id"):
            charges.setdefault(event.milestone_key, event)
        for event in charges.values():
            amount += convert(event.cost_amount, event.cost_currency_id)
            parts.append(
                self.env._(
                    "approved accessorial %(charge)s %(amount)s",
                    charge=event.charge_code or event.description,
                    amount=shown(event.cost_amount, event.cost_currency_id),
                )
            )
        self.write(
            {
                "expected": currency.round(amount),
                "expected_detail": ", ".join(parts) or False,
                "expected_weight_kg": measures["kg"],
            }
        )

    def _logistics_unapproved_charges(self, backends):
        """The charges under a partner code no canonical code stands for (``_unlisted``) that
        no approved accessorial of the shipment covers: one the partner reported
        (``billing.charge``) with that code or as ``other``, and a billing user approved; its
        cost is then expected like any approved accessorial's."""
        self.ensure_one()
        unlisted = [c for c in self.charges_data or [] if _unlisted(c)]
        if not unlisted or not self.picking_id:
            return unlisted
        approved = (
            self.env["logistics.billing.event"]
            .sudo()
            .search(
                [
                    ("picking_id", "=", self.picking_id.id),
                    ("milestone", "=", "accessorial"),
                    ("backend_id", "in", backends.ids),
                    ("state", "in", ("approved", "draft_invoice", "invoiced")),
                ]
            )
        )
        codes = {(code or "").strip().upper() for code in approved.mapped("charge_code")}
        if "OTHER" in codes:
            return []
        return [c for c in unlisted if c["partner_code"].strip().upper() not in codes]

    def _logistics_problem(self, backend):
        """What makes this shipment need a review, in words; None when it is within
        tolerance."""
        self.ensure_one()
        unapproved = self._logistics_unapproved_charges(
            backend | backend.freight_partner_backend_id
        )
        approval = None
        if unapproved:
            approval = self.env._(
                "%(shipment)s: charges outside the codes agreed with %(partner)s, kept as "
                "accessorials that need approval: %(charges)s. Accept the invoice to pay them, "
                "or dispute it.",
                shipment=self.picking_id.name or self.shipment_ref or "-",
                charges=", ".join(
                    " ".join(
                        filter(
                            None,
                            [
                                c["partner_code"],
                                c.get("description"),
                                "%.2f" % (c["amount"],),
                                self.currency_id.name,
                            ],
                        )
                    )
                    for c in unapproved
                ),
                partner=(backend.freight_partner_backend_id or backend).name,
            )
        issue = None
        if not self.picking_id:
            issue = self.env._(
                "Shipment %s is not one Odoo knows: check the reference with the partner.",
                self.shipment_ref or "-",
            )
        else:
            variance = self.invoiced - self.expected
            # the tolerance is in the company's currency, the invoice in its own
            invoice = self.invoice_id
            tolerance = backend.freight_currency_id._convert(
                backend.freight_tolerance_amount,
                self.currency_id,
                invoice.company_id,
                invoice.invoice_date or fields.Date.context_today(self),
            )
            allowed = min(tolerance, abs(self.expected) * backend.freight_tolerance_percent / 100.0)
            weight_allowed = self.expected_weight_kg * backend.freight_tolerance_percent / 100.0
            if float_compare(abs(variance), allowed, precision_digits=2) > 0:
                issue = self.env._(
                    "%(shipment)s: expected %(expected).2f, invoiced %(invoiced).2f %(currency)s "
                    "(%(variance)+.2f, more than the tolerance of %(amount).2f %(currency)s and "
                    "%(percent)s%%).",
                    shipment=self.picking_id.name,
                    expected=self.expected,
                    invoiced=self.invoiced,
                    currency=self.currency_id.name,
                    variance=variance,
                    amount=tolerance,
                    percent=backend.freight_tolerance_percent,
                )
            elif (
                self.weight_kg
                and not float_is_zero(self.expected_weight_kg, precision_digits=3)
                and self.weight_kg - self.expected_weight_kg > weight_allowed
            ):
                issue = self.env._(
                    "%(shipment)s: re-billed weight, %(billed).2f kg billed for %(shipped).2f "
                    "kg shipped.",
                    shipment=self.picking_id.name,
                    billed=self.weight_kg,
                    shipped=self.expected_weight_kg,
                )
        issue = " ".join(filter(None, [approval, issue])) or None
        self.issue = issue or False
        return issue
