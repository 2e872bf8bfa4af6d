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
"""

from odoo import api, fields, models
from odoo.exceptions import UserError
from odoo.tools import float_compare, float_is_zero

STATES = [
    ("to_review", "To review"),
    ("disputed", "Disputed"),
    ("billed", "Billed"),
]


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
    invoice_date = fields.Date(readonly=True)
    currency_id = fields.Many2one("res.currency", required=True, readonly=True)
    total = fields.Monetary(string="Invoiced", readonly=True)
    expected_total = fields.Monetary(string="Expected", readonly=True)
    variance = fields.Monetary(readonly=True, help="Invoiced minus expected")
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
    dispute_reason = fields.Char(readonly=True, tracking=True)

    _sql_constraints = [
        ("number_unique", "unique(backend_id, name)", "This partner sent this invoice already."),
    ]

    # audit ------------------------------------------------------------------------------------
    @api.model
    def _logistics_receive(self, backend, data, currency, message=None):
        """The invoice recorded (or, corrected and replayed, updated) and audited. Returns
        it; ``issues`` is empty when it was billed."""
        invoice = self.sudo().search(
            [("backend_id", "=", backend.id), ("name", "=", data["invoice_number"])], limit=1
        )
        if invoice.state == "billed":
            return invoice
        company = backend.company_id or self.env.company
        vals = {
            "backend_id": backend.id,
            "company_id": company.id,
            "name": data["invoice_number"],
            "vendor_id": backend.freight_vendor_id.id,
            "invoice_date": data.get("invoice_date"),
            "currency_id": currency.id,
            "total": data["total"],
            "message_id": message.id if message else False,
            "line_ids": [fields.Command.clear()]
            + [
                fields.Command.create(self._logistics_line_vals(backend, shipment))
                for shipment in data["shipments"]
            ],
        }
        previous = invoice.message_id
        if invoice:
            invoice.write(vals)
        else:
            invoice = self.sudo().create(vals)
        if invoice._logistics_audit() and previous and previous != message:
            # an earlier copy waiting in the exception queue needs nothing more
            invoice.message_id = previous
            invoice._logistics_close_message(
                self.env._("Invoice %s was received again and billed.", invoice.name)
            )
            invoice.message_id = message
        return invoice

    @api.model
    def _logistics_line_vals(self, backend, shipment):
        charges = shipment.get("charges") or []
        picking = self.env["stock.picking"]._logistics_billing_find_shipment(
            shipment.get("shipment_ref"),
            shipment.get("tracking_number") or shipment.get("pro_number"),
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
                f"{c['code']}: {c['amount']:.2f} {c.get('description') or ''}".strip()
                for c in charges
            ),
            "charges_data": [
                {
                    "code": c["code"],
                    "amount": c["amount"],
                    "description": c.get("description") or "",
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
        return draft.duplicated_ref_ids.filtered(lambda m: m != self.move_id)

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
            number=self.name,
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
                                        charge["code"],
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
        for invoice in self:
            if invoice.state == "billed":
                continue
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
        """Tell the partner what does not match (a ``freight.dispute`` message)."""
        for invoice in self:
            if invoice.state == "billed":
                raise UserError(
                    self.env._("%s is billed: it can no longer be disputed.", invoice.name)
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
            message = invoice.backend_id.sudo()._send_message(
                "freight.dispute",
                payload,
                record=invoice,
                subject=self.env._("Dispute of invoice %s", invoice.name),
            )
            invoice.write({"state": "disputed", "dispute_reason": reason})
            invoice.message_post(
                body=self.env._(
                    "Disputed by %(user)s (%(message)s): %(reason)s",
                    user=self.env.user.name,
                    message=message.name,
                    reason=reason,
                )
            )
            invoice._logistics_close_message(
                self.env._(
                    "Disputed with %(partner)s: %(reason)s",
                    partner=invoice.backend_id.name,
                    reason=reason,
                )
            )
        return True

    def action_open_dispute(self):
        return {
            "type": "ir.actions.act_window",
            "name": self.env._("Dispute freight invoices"),
            "res_model": "logistics.freight.invoice.dispute",
            "view_mode": "form",
            "target": "new",
            "context": {"default_invoice_ids": self.ids},
        }

    def _logistics_close_message(self, why):
        message = self.message_id.sudo()
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
    tracking_number = fields.Char()
    picking_id = fields.Many2one("stock.picking", string="Transfer", index="btree_not_null")
    weight_kg = fields.Float(string="Billed weight (kg)", digits="Stock Weight")
    expected_weight_kg = fields.Float(string="Shipped weight (kg)", digits="Stock Weight")
    charges = fields.Text()
    charges_data = fields.Json(string="Charges (as received)")
    invoiced = fields.Monetary()
    expected = fields.Monetary()
    expected_detail = fields.Char(string="Expected from")
    issue = fields.Char()

    def _logistics_expect(self, backends):
        """Expected cost of the shipment: booked rate, contract rates, approved
        accessorials of the partner (``backends``: the invoicing backend and the carrier or
        3PL backend it invoices for)."""
        self.ensure_one()
        picking = self.picking_id
        if not picking:
            self.write({"expected": 0.0, "expected_detail": False, "expected_weight_kg": 0.0})
            return
        parts = []
        amount = 0.0
        parcels = picking.logistics_parcel_ids.filtered(lambda p: p.state in ("booked", "followed"))
        booked = sum(parcels.filtered(lambda p: p.backend_id in backends).mapped("price"))
        if booked:
            amount += booked
            parts.append(self.env._("booked rate %.2f", booked))
        measures = picking._logistics_billing_measures()
        for rate in backends.freight_rate_ids:
            value = rate._logistics_amount(measures)
            if value:
                amount += value
                parts.append(f"{rate.charge_code} {value:.2f}")
        accessorials = (
            self.env["logistics.billing.event"]
            .sudo()
            .search(
                [
                    ("picking_id", "=", picking.id),
                    ("milestone", "=", "accessorial"),
                    ("backend_id", "in", backends.ids),
                    ("state", "in", ("approved", "draft_invoice", "invoiced")),
                ]
            )
        )
        if accessorials:
            amount += sum(accessorials.mapped("amount"))
            parts.append(
                self.env._("approved accessorials %.2f", sum(accessorials.mapped("amount")))
            )
        self.write(
            {
                "expected": round(amount, 2),
                "expected_detail": ", ".join(parts) or False,
                "expected_weight_kg": measures["kg"],
            }
        )

    def _logistics_problem(self, backend):
        """What makes this shipment need a review, in words; None when it is within
        tolerance."""
        self.ensure_one()
        issue = None
        if not self.picking_id:
            issue = self.env._(
                "Shipment %s is not one Odoo knows: check the reference with the partner.",
                self.shipment_ref or "-",
            )
        else:
            variance = self.invoiced - self.expected
            allowed = min(
                backend.freight_tolerance_amount,
                abs(self.expected) * backend.freight_tolerance_percent / 100.0,
            )
            weight_allowed = self.expected_weight_kg * backend.freight_tolerance_percent / 100.0
            if float_compare(abs(variance), allowed, precision_digits=2) > 0:
                issue = self.env._(
                    "%(shipment)s: expected %(expected).2f, invoiced %(invoiced).2f "
                    "(%(variance)+.2f, more than the tolerance of %(amount).2f and "
                    "%(percent)s%%).",
                    shipment=self.picking_id.name,
                    expected=self.expected,
                    invoiced=self.invoiced,
                    variance=variance,
                    amount=backend.freight_tolerance_amount,
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
        self.issue = issue or False
        return issue
