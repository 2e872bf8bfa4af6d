import json
import re
from collections import OrderedDict
from datetime import timedelta

from odoo import api, fields, models
from odoo.exceptions import AccessError, UserError
from odoo.tools import float_round, format_datetime

from odoo.addons.logistics_integration_base.tools import transactions
from odoo.addons.logistics_integration_base.tools.canonical import to_naive_utc
from odoo.addons.logistics_integration_base.tools.operations import register_operation

STATES = [
    ("draft", "Draft"),
    ("submitted", "Submitted"),
    ("accepted", "Accepted"),
    ("documents_required", "Documents required"),
    ("inspection", "Inspection"),
    ("released", "Released"),
    ("rejected", "Rejected"),
    ("cancelled", "Cancelled"),
]
HOLDS = ("documents_required", "inspection")
# Statuses after which someone must act: an activity, and the message in the exception queue
NEEDS_SOMEONE = (*HOLDS, "rejected", "cancelled")
# How far along a declaration is: a status ranked below the current one arrived late and
# is kept in the history only. A hold may follow a hold; final states take nothing more.
RANK = {
    "draft": 0,
    "submitted": 1,
    "accepted": 2,
    "documents_required": 3,
    "inspection": 3,
    "rejected": 4,
    "released": 4,
    "cancelled": 5,
}
FINAL = ("released", "rejected", "cancelled")
# Written only by the flows -- the broker's statuses, Send and Amend, the cancellation and
# a customs manager's override, all running as the system -- never by a plain write: the
# state and the override decide whether the goods may move.
FLOW_FIELDS = frozenset(
    {
        "name",
        "picking_id",
        "company_id",
        "direction",
        "state",
        "version",
        "broker_reference",
        "hold_reason",
        "documents_requested",
        "rejection_errors",
        "duty_ids",
        "event_ids",
        "override_reason",
        "override_user_id",
        "cancel_reason",
        "cancel_user_id",
        "submitted_payload",
        "submitted_at",
        "release_due_at",
    }
)
# Given when a declaration is created from its transfer (the rest keeps its default).
CREATE_FIELDS = frozenset({"picking_id", "company_id", "direction"})
# Goods lines are edited while the declaration is being prepared or corrected; afterwards
# they are what the broker received.
GOODS_EDITABLE = ("draft", "rejected")
TRANSPORT_MODES = [
    ("road", "Road"),
    ("air", "Air"),
    ("sea", "Sea"),
    ("rail", "Rail"),
    ("post", "Post"),
]

# A declaration's versions: one accepted supersedes the earlier versions that failed.
register_operation("customs.declaration", "customs.declaration")
# On an order's transaction timeline: a delivery's declarations.
transactions.register("logistics.customs.declaration", up=("picking_id.sale_id", "picking_id"))
transactions.register("stock.picking", down=("logistics_declaration_ids",))


class LogisticsCustomsDeclaration(models.Model):
    """The customs declaration of a delivery (export) or receipt (import) that crosses a
    customs border: built from the transfer and its order, sent to a customs broker backend,
    and followed until customs release the goods. Until then the transfer cannot be
    validated, unless a customs manager overrides with a reason."""

    _name = "logistics.customs.declaration"
    _description = "Customs declaration"
    _inherit = ["mail.thread", "mail.activity.mixin"]
    _order = "id desc"

    name = fields.Char(string="Reference", readonly=True, copy=False, default="/", index=True)
    picking_id = fields.Many2one(
        "stock.picking",
        string="Transfer",
        required=True,
        ondelete="cascade",
        index=True,
        readonly=True,
    )
    company_id = fields.Many2one(
        "res.company",
        required=True,
        readonly=True,
        index=True,
        default=lambda self: self.env.company,
    )
    direction = fields.Selection(
        [("export", "Export"), ("import", "Import")], required=True, readonly=True
    )
    state = fields.Selection(
        STATES,
        default="draft",
        required=True,
        readonly=True,
        tracking=True,
        index=True,
        string="Status",
    )
    version = fields.Integer(default=1, readonly=True, help="1, then one more per amendment")
    backend_id = fields.Many2one(
        "logistics.backend",
        string="Customs broker",
        domain=[("kind", "=", "customs")],
        tracking=True,
    )
    broker_reference = fields.Char(
        string="MRN / entry number", readonly=True, tracking=True, copy=False, index=True
    )
    user_id = fields.Many2one("res.users", string="Responsible", tracking=True)
    exporter_id = fields.Many2one("res.partner", string="Exporter of record")
    importer_id = fields.Many2one("res.partner", string="Importer of record")
    partner_id = fields.Many2one(related="picking_id.partner_id", string="Customer / vendor")
    country_dispatch_id = fields.Many2one("res.country", string="Country of dispatch")
    country_destination_id = fields.Many2one("res.country", string="Country of destination")
    incoterm_id = fields.Many2one("account.incoterms")
    incoterm_place = fields.Char(string="Incoterm place")
    currency_id = fields.Many2one("res.currency", required=True)
    exchange_rate = fields.Float(
        string="Exchange rate",
        digits=(12, 6),
        help="Company currency units for one unit of the declared currency",
    )
    exchange_rate_date = fields.Date(
        string="Exchange rate of",
        help="The day whose rate converts the declared currency to the company currency: the "
        "day the goods were declared (this version was prepared)",
    )
    transport_mode = fields.Selection(TRANSPORT_MODES, default="road", string="Mode of transport")
    package_count = fields.Integer(string="Packages", default=1)
    gross_weight = fields.Float(string="Gross weight (kg)", digits="Stock Weight")
    net_weight = fields.Float(string="Net weight (kg)", digits="Stock Weight")
    total_value = fields.Monetary(
        compute="_compute_total_value", store=True, string="Declared value"
    )
    line_ids = fields.One2many(
        "logistics.customs.declaration.line", "declaration_id", string="Goods"
    )
    event_ids = fields.One2many(
        "logistics.customs.declaration.event", "declaration_id", string="Status history"
    )
    message_ids_logistics = fields.One2many(
        "logistics.message", compute="_compute_logistics_messages", string="Integration messages"
    )
    missing_data = fields.Text(
        compute="_compute_missing_data",
        string="Missing before sending",
        help="What must be completed before the declaration can be sent",
    )
    hold_reason = fields.Text(readonly=True, string="Reason")
    documents_requested = fields.Text(readonly=True, string="Documents requested")
    rejection_errors = fields.Text(readonly=True, string="Errors")
    duty_ids = fields.One2many(
        "logistics.customs.duty", "declaration_id", string="Duties and taxes", readonly=True
    )
    override_reason = fields.Text(
        readonly=True, tracking=True, copy=False, string="Released by override"
    )
    override_user_id = fields.Many2one("res.users", readonly=True, string="Overridden by")
    cancel_reason = fields.Text(readonly=True, copy=False, string="Reason for cancelling")
    cancel_user_id = fields.Many2one("res.users", readonly=True, copy=False, string="Cancelled by")
    submitted_payload = fields.Text(readonly=True, string="Last version sent")
    submitted_at = fields.Datetime(readonly=True, string="First sent on", copy=False)
    release_due_at = fields.Datetime(
        readonly=True,
        copy=False,
        index=True,
        string="Release expected by",
        help="First sent, plus the broker backend's release SLA",
    )

    @api.model_create_multi
    def create(self, vals_list):
        if not self.env.su:
            for vals in vals_list:
                self._logistics_check_create(vals)
        for vals in vals_list:
            if vals.get("name", "/") == "/":
                vals["name"] = (
                    self.env["ir.sequence"].next_by_code("logistics.customs.declaration") or "/"
                )
        return super().create(vals_list)

    def write(self, vals):
        if not self.env.su:
            self._logistics_check_write(vals)
        return super().write(vals)

    @api.ondelete(at_uninstall=False)
    def _unlink_except_kept(self):
        """A released declaration is the record of a clearance: nobody deletes it. Any
        other decides whether its transfer may move: it is cancelled, not deleted (the
        system alone deletes one)."""
        for declaration in self:
            if declaration.state == "released":
                raise UserError(
                    self.env._(
                        "%(name)s cannot be deleted: customs released it, and it is kept as "
                        "the record of that clearance of %(picking)s.",
                        name=declaration.name,
                        picking=declaration.picking_id.name,
                    )
                )
            if not self.env.su:
                raise UserError(
                    self.env._(
                        "%(name)s cannot be deleted: it decides whether %(picking)s may move. "
                        "Cancel it instead (a declaration sent to the broker is cancelled by "
                        "a customs manager, with a reason).",
                        name=declaration.name,
                        picking=declaration.picking_id.name,
                    )
                )

    # what changes only through the flows --------------------------------------------------
    @api.model
    def _logistics_flow_fields(self):
        """Fields written only by the flows (running as the system), never by a user's
        write: modules adding such fields extend this."""
        return set(FLOW_FIELDS)

    @api.model
    def _logistics_free_fields(self):
        """Fields that may still change once a declaration is released or cancelled."""
        return {"user_id"} | {
            name for name in self._fields if name.startswith(("message_", "activity_"))
        }

    def _logistics_labels(self, names):
        return ", ".join(sorted(self._fields[name].string for name in names))

    @api.model
    def _logistics_check_create(self, vals):
        """A user creates a declaration as a draft of a transfer, nothing more: its status,
        reference, MRN and override come from the flows."""
        given = {
            name
            for name in set(vals) & (self._logistics_flow_fields() - CREATE_FIELDS)
            if vals[name]
            and not (name == "state" and vals[name] == "draft")
            and not (name == "version" and vals[name] == 1)
            and not (name == "name" and vals[name] == "/")
        }
        if given:
            raise AccessError(
                self.env._(
                    "A customs declaration is created as a draft of its transfer: %(fields)s "
                    "are set by the broker's answers and a customs manager's acts, not given "
                    "when it is created.",
                    fields=self._logistics_labels(given),
                )
            )

    def _logistics_check_write(self, vals):
        """What a user's write may change: never what the flows set (status, MRN,
        override...), not the broker once the declaration was sent, nothing of a released
        or cancelled declaration but its responsible and its chatter."""
        flow = set(vals) & self._logistics_flow_fields()
        if flow:
            raise AccessError(
                self.env._(
                    "%(names)s cannot be edited: %(fields)s change only through the customs "
                    "flow (the broker's answers, Send, Amend, and Override or Cancel by a "
                    "customs manager, with a reason). Ask a customs manager.",
                    names=", ".join(self.mapped("name")),
                    fields=self._logistics_labels(flow),
                )
            )
        sent = self.filtered(lambda d: d.state != "draft")
        if "backend_id" in vals and sent:
            raise AccessError(
                self.env._(
                    "%(names)s was sent to its customs broker: its broker no longer changes. "
                    "A customs manager cancels it, with a reason, and the transfer is "
                    "declared again.",
                    names=", ".join(sent.mapped("name")),
                )
            )
        closed = self.filtered(lambda d: d.state in ("released", "cancelled"))
        content = set(vals) - self._logistics_free_fields()
        if closed and content:
            raise AccessError(
                self.env._(
                    "%(names)s is %(state)s: it is kept as it was when customs released or "
                    "cancelled it, and %(fields)s no longer change.",
                    names=", ".join(closed.mapped("name")),
                    state=", ".join(
                        sorted({dict(STATES)[s].lower() for s in closed.mapped("state")})
                    ),
                    fields=self._logistics_labels(content),
                )
            )

    def _logistics_check_goods_editable(self):
        """Goods are edited while a declaration is prepared or corrected after a
        rejection; afterwards they are what the broker received, changed by Amend."""
        frozen = self.filtered(lambda d: d.state not in GOODS_EDITABLE)
        if frozen:
            raise AccessError(
                self.env._(
                    "The goods of %(names)s are as they were sent to the customs broker: "
                    "they change only by Amend (rebuilt from the transfer) after a rejection "
                    "or a hold.",
                    names=", ".join(frozen.mapped("name")),
                )
            )

    @api.depends("line_ids.value")
    def _compute_total_value(self):
        for declaration in self:
            declaration.total_value = sum(declaration.line_ids.mapped("value"))

    def _compute_logistics_messages(self):
        Message = self.env["logistics.message"]
        for declaration in self:
            declaration.message_ids_logistics = Message.search(
                [("res_model", "=", self._name), ("res_id", "=", declaration.id)]
            )

    # building ------------------------------------------------------------------------------
    @api.model
    def _logistics_border(self, picking):
        """``(direction, country from, country to)`` when ``picking`` crosses a customs
        border, else None."""
        warehouse_country = (
            picking.picking_type_id.warehouse_id.partner_id.country_id
            or picking.company_id.country_id
        )
        partner_country = picking.partner_id.country_id
        Territory = self.env["logistics.customs.territory"]
        if picking.picking_type_code == "outgoing":
            if Territory._crosses_border(warehouse_country, partner_country):
                return "export", warehouse_country, partner_country
        elif picking.picking_type_code == "incoming":
            if Territory._crosses_border(partner_country, warehouse_country):
                return "import", partner_country, warehouse_country
        return None

    @api.model
    def _logistics_for_picking(self, picking):
        """The open declaration of ``picking``, created if it crosses a border."""
        existing = picking.logistics_declaration_ids.filtered(lambda d: d.state != "cancelled")
        if existing:
            return existing[:1]
        broker = self._logistics_default_broker(picking.company_id)
        if not broker:
            # Customs are managed for a company once it has a customs broker backend:
            # installing the module alone does not hold every cross-border shipment.
            return self.browse()
        border = self._logistics_border(picking)
        if not border:
            return self.browse()
        direction, country_from, country_to = border
        company_partner = picking.company_id.partner_id
        order_currency = (
            picking.sale_id.currency_id
            if direction == "export"
            else picking.purchase_id.currency_id
        ) or picking.company_id.currency_id
        if direction == "export":
            incoterm = picking.sale_id.incoterm
            place = picking.sale_id.incoterm_location
        else:
            incoterm = picking.purchase_id.incoterm_id
            place = picking.purchase_id.incoterm_location
        declaration = self.sudo().create(
            {
                "picking_id": picking.id,
                "company_id": picking.company_id.id,
                "direction": direction,
                "exporter_id": (
                    company_partner if direction == "export" else picking.partner_id
                ).id,
                "importer_id": (
                    picking.partner_id if direction == "export" else company_partner
                ).id,
                "country_dispatch_id": country_from.id,
                "country_destination_id": country_to.id,
                "incoterm_id": incoterm.id,
                "incoterm_place": place,
                "currency_id": order_currency.id,
                "backend_id": broker.id,
                "user_id": picking.user_id.id or self.env.user.id,
            }
        )
        declaration._logistics_build_lines()
        declaration.message_post(
            body=self.env._(
                "Created for %(picking)s: %(direction)s from %(origin)s to %(destination)s.",
                picking=picking.name,
                direction=dict(self._fields["direction"].selection)[direction].lower(),
                origin=country_from.name,
                destination=country_to.name,
            )
        )
        return declaration

    @api.model
    def _logistics_default_broker(self, company):
        return (
            self.env["logistics.backend"]
            .sudo()
            .search([("kind", "=", "customs"), ("company_id", "in", (company.id, False))], limit=1)
        )

    def _logistics_kg(self, weight):
        uom = self.env["product.template"]._get_weight_uom_id_from_ir_config_parameter()
        return uom._compute_quantity(weight, self.env.ref("uom.product_uom_kgm"))

    def _logistics_unit_price(self, move):
        """The price paid for one unit of the move's product, in the declared currency
        (the order's): the order line's subtotal before tax (after its discount) divided by
        its quantity; else the product's sales price or cost."""
        line = move.sale_line_id if self.direction == "export" else move.purchase_line_id
        if line:
            line_qty = line.product_uom_qty if self.direction == "export" else line.product_qty
            if line_qty:
                price = line.price_subtotal / line_qty
            else:  # nothing ordered (yet): the discounted price of one unit
                price = line.price_unit * (1 - (line.discount or 0.0) / 100)
            units = line.product_uom._compute_quantity(1.0, move.product_id.uom_id)
            return price / (units or 1.0)
        price = (
            move.product_id.lst_price
            if self.direction == "export"
            else (move.product_id.standard_price)
        )
        return self.company_id.currency_id._convert(
            price, self.currency_id, self.company_id, fields.Date.context_today(self)
        )

    def _logistics_build_lines(self):
        """Goods aggregated by commodity code and origin: quantities, net and gross weights,
        values at the prices paid (the order lines' subtotals, for the quantities of this
        transfer); packages and weights of the transfer. The code is the
        product's national code in the tariff of the country where the declaration is lodged
        (export: the country of dispatch; import: the country of destination), else its HS
        code."""
        self.ensure_one()
        picking = self.picking_id
        today = fields.Date.context_today(self)
        tariff_country = (
            self.country_dispatch_id if self.direction == "export" else self.country_destination_id
        )
        groups = OrderedDict()
        for move in picking.move_ids.filtered(lambda m: m.state != "cancel"):
            product = move.product_id
            template = product.product_tmpl_id
            tariff = template._logistics_tariff(tariff_country)
            hs_code = tariff._logistics_code() if tariff else template._logistics_hs_code()
            origin = product.country_of_origin
            key = (hs_code, origin.id)
            qty = move.product_uom._compute_quantity(move.product_uom_qty, product.uom_id)
            gross = self._logistics_kg(product.weight * qty)
            net = self._logistics_kg((template.logistics_net_weight or product.weight) * qty)
            group = groups.setdefault(
                key,
                {
                    "hs_code": hs_code,
                    "origin_country_id": origin.id,
                    "descriptions": [],
                    "products": self.env["product.product"],
                    "quantity": 0.0,
                    "net_weight": 0.0,
                    "gross_weight": 0.0,
                    "value": 0.0,
                },
            )
            description = (
                tariff.description or template.logistics_customs_description or product.name
            )
            if description not in group["descriptions"]:
                group["descriptions"].append(description)
            group["products"] |= product
            group["quantity"] += qty
            group["net_weight"] += net
            group["gross_weight"] += gross
            group["value"] += qty * self._logistics_unit_price(move)
        self.line_ids.unlink()
        self.write(
            {
                "line_ids": [
                    fields.Command.create(
                        {
                            "sequence": index,
                            "hs_code": group["hs_code"],
                            "origin_country_id": group["origin_country_id"],
                            "description": "; ".join(group["descriptions"])[:250],
                            "product_ids": [fields.Command.set(group["products"].ids)],
                            "quantity": group["quantity"],
                            "net_weight": float_round(group["net_weight"], 3),
                            "gross_weight": float_round(group["gross_weight"], 3),
                            "value": self.currency_id.round(group["value"]),
                        }
                    )
                    for index, group in enumerate(groups.values(), start=1)
                ],
                "package_count": len(picking.move_line_ids.result_package_id) or 1,
                "net_weight": float_round(sum(g["net_weight"] for g in groups.values()), 3),
                "gross_weight": float_round(
                    max(
                        self._logistics_kg(picking.shipping_weight or 0.0),
                        sum(g["gross_weight"] for g in groups.values()),
                    ),
                    3,
                ),
                "exchange_rate": self._logistics_rate(today),
                "exchange_rate_date": today,
            }
        )

    def _logistics_rate(self, date):
        """Company currency units for one unit of the declared currency, on ``date``."""
        company_currency = self.company_id.currency_id
        if self.currency_id == company_currency:
            return 1.0
        return self.currency_id._get_conversion_rate(
            self.currency_id, company_currency, self.company_id, date
        )

    def _logistics_invoice_exchange(self):
        """The exchange rate the commercial invoice prints, with its day: the one kept when
        the goods were declared, else (declarations prepared before the day was kept) the
        rate of the day the declaration was sent or prepared."""
        self.ensure_one()
        if self.exchange_rate and self.exchange_rate_date:
            return self.exchange_rate, self.exchange_rate_date
        moment = self.submitted_at or self.create_date
        date = (
            fields.Date.context_today(self, moment) if moment else fields.Date.context_today(self)
        )
        return self._logistics_rate(date), date

    @api.depends(
        "line_ids.hs_code",
        "line_ids.origin_country_id",
        "exporter_id.logistics_eori",
        "importer_id.logistics_eori",
        "backend_id",
        "line_ids",
    )
    def _compute_missing_data(self):
        for declaration in self:
            problems = declaration._logistics_problems()
            declaration.missing_data = "\n".join(problems) if problems else False

    def _logistics_problems(self):
        """What stops the declaration from being sent, in plain words, each naming the
        product or partner to fix."""
        self.ensure_one()
        problems = []
        if not self.line_ids:
            problems.append(self.env._("The transfer has no goods to declare."))
        for line in self.line_ids:
            names = ", ".join(line.product_ids.mapped("display_name"))
            if not line.hs_code:
                problems.append(
                    self.env._(
                        "No HS code for %s: set it on the product (or a default on its category).",
                        names,
                    )
                )
            if not line.origin_country_id:
                problems.append(
                    self.env._("No country of origin for %s: set it on the product.", names)
                )
        trader = self.exporter_id if self.direction == "export" else self.importer_id
        if trader and not trader.commercial_partner_id.logistics_eori:
            problems.append(
                self.env._(
                    "No EORI number for %(partner)s, the %(role)s: set it on the contact.",
                    partner=trader.commercial_partner_id.display_name,
                    role=self.env._("exporter")
                    if self.direction == "export"
                    else self.env._("importer"),
                )
            )
        if not self.backend_id:
            problems.append(
                self.env._("No customs broker: choose the broker backend to send it to.")
            )
        return problems

    # submission ----------------------------------------------------------------------------
    def _logistics_payload(self):
        self.ensure_one()
        picking = self.picking_id
        order = picking.sale_id if self.direction == "export" else picking.purchase_id
        declarant = self.backend_id.sudo().customs_declarant_id
        return {
            "reference": self.name,
            "version": self.version,
            "direction": self.direction,
            "transfer": picking.name,
            "order": order.name if order else None,
            "exporter": self.exporter_id._logistics_customs_party(),
            "importer": self.importer_id._logistics_customs_party(),
            "declarant": declarant._logistics_customs_party() if declarant else None,
            "incoterm": {"code": self.incoterm_id.code, "place": self.incoterm_place or None}
            if self.incoterm_id
            else None,
            "currency": self.currency_id.name,
            "exchange_rate": self.exchange_rate or None,
            "transport_mode": self.transport_mode or None,
            "country_of_dispatch": self.country_dispatch_id.code,
            "country_of_destination": self.country_destination_id.code,
            "packages": max(self.package_count, 1),
            "gross_weight_kg": self.gross_weight,
            "net_weight_kg": self.net_weight,
            "total_value": self.total_value,
            "lines": [
                {
                    "line": index,
                    "hs_code": line.hs_code,
                    "origin": line.origin_country_id.code,
                    "description": line.description,
                    "quantity": line.quantity,
                    "uom": line.product_ids[:1].uom_id.name or None,
                    "net_weight_kg": line.net_weight,
                    "gross_weight_kg": line.gross_weight,
                    "value": line.value,
                }
                for index, line in enumerate(self.line_ids, start=1)
            ],
        }

    def action_submit(self):
        """Send the declaration (its first version) to the broker, as a queued message."""
        self.check_access("write")
        return self._logistics_send(("draft",))

    def _logistics_send(self, from_states):
        """Send this version of each declaration, in one of ``from_states``."""
        for declaration in self:
            if declaration.state not in from_states:
                raise UserError(
                    self.env._(
                        "%(name)s is %(state)s: a draft is sent, a rejected or held "
                        "declaration is amended.",
                        name=declaration.name,
                        state=dict(STATES)[declaration.state].lower(),
                    )
                )
            problems = declaration._logistics_problems()
            if problems:
                raise UserError(
                    self.env._(
                        "%(name)s cannot be sent yet:\n%(problems)s",
                        name=declaration.name,
                        problems="\n".join("- %s" % p for p in problems),
                    )
                )
            payload = declaration._logistics_payload()
            backend = declaration.backend_id.sudo()
            message = backend._send_message(
                "customs.declaration",
                payload,
                record=declaration,
                idempotency_key=declaration._logistics_send_key(),
                subject=self.env._(
                    "Customs declaration %(name)s (version %(version)s)",
                    name=declaration.name,
                    version=declaration.version,
                ),
            )
            if not declaration.submitted_at:
                now = fields.Datetime.now()
                declaration.sudo().write(
                    {
                        "submitted_at": now,
                        "release_due_at": now
                        + timedelta(hours=backend.customs_release_sla_hours or 24),
                    }
                )
            declaration.sudo().write(
                {
                    "state": "submitted",
                    "submitted_payload": json.dumps(payload, indent=2, sort_keys=True),
                    "hold_reason": False,
                    "rejection_errors": False,
                }
            )
            invoice = declaration._logistics_attach_commercial_invoice()
            declaration.message_post(
                body=self.env._(
                    "Version %(version)s sent to %(broker)s (%(message)s).",
                    version=declaration.version,
                    broker=backend.name,
                    message=message.name,
                ),
                attachment_ids=invoice.ids,
            )
            declaration._logistics_replay_waiting_statuses()
        return True

    def _logistics_attach_commercial_invoice(self):
        """The commercial invoice of the version being sent, attached to the declaration:
        each version keeps its own. An invoice that cannot be printed (no PDF engine on the
        server) does not stop the sending; the chatter says so."""
        self.ensure_one()
        try:
            content, content_type = self.env["ir.actions.report"]._render_qweb_pdf(
                "logistics_customs.action_report_commercial_invoice", self.ids
            )
        except UserError as error:
            self.message_post(
                body=self.env._(
                    "The commercial invoice of version %(version)s could not be printed: "
                    "%(error)s Print it from the declaration once PDF printing works.",
                    version=self.version,
                    error=error.args[0],
                )
            )
            return self.env["ir.attachment"]
        return (
            self.env["ir.attachment"]
            .sudo()
            .create(
                {
                    "name": self.env._(
                        "Commercial invoice %(reference)s v%(version)s.pdf",
                        reference=self.name.replace("/", "-"),
                        version=self.version,
                    ),
                    "raw": content,
                    # Odoo's test mode prints reports as HTML
                    "mimetype": "application/pdf" if content_type == "pdf" else "text/html",
                    "res_model": self._name,
                    "res_id": self.id,
                }
            )
        )

    def _logistics_rebuild_payload(self, message):
        """A declaration the broker did not take (refused, or never reached) is rebuilt
        from the declaration and its parties as they are now; refused when the declaration
        moved on (answered by customs, amended since, or cancelled)."""
        self.ensure_one()
        if message.message_type != "customs.declaration":
            return super()._logistics_rebuild_payload(message)
        if self.state != "submitted":
            raise UserError(
                self.env._(
                    "%(name)s is %(state)s: its version %(version)s is not sent again.",
                    name=self.name,
                    state=dict(STATES)[self.state].lower(),
                    version=self.version,
                )
            )
        key = self._logistics_version_key()
        if message.idempotency_key != key and not message.idempotency_key.startswith(f"{key}-"):
            raise UserError(
                self.env._(
                    "%(name)s was amended since (version %(version)s was sent): this earlier "
                    "version needs nothing more.",
                    name=self.name,
                    version=self.version,
                )
            )
        problems = self._logistics_problems()
        if problems:
            raise UserError(
                self.env._(
                    "%(name)s cannot be sent yet:\n%(problems)s",
                    name=self.name,
                    problems="\n".join("- %s" % p for p in problems),
                )
            )
        return self._logistics_payload()

    def _logistics_on_message_revised(self, message, revision):
        """The version sent again as a revision is the declaration's *Last version sent*."""
        res = super()._logistics_on_message_revised(message, revision)
        if message.message_type == "customs.declaration":
            self.sudo().submitted_payload = json.dumps(
                revision._get_payload(), indent=2, sort_keys=True
            )
        return res

    def action_amend(self):
        """A rejected (or held) declaration corrected: a new version, rebuilt from the
        transfer as it is now, then sent."""
        self.check_access("write")
        for declaration in self:
            if declaration.state not in ("rejected",) + HOLDS:
                raise UserError(self.env._("Only a rejected or held declaration is amended."))
            declaration.sudo().write({"version": declaration.version + 1})
            declaration.sudo()._logistics_build_lines()
            declaration.message_post(
                body=self.env._(
                    "Amended: version %s, rebuilt from the transfer.", declaration.version
                )
            )
        return self._logistics_send(("rejected",) + HOLDS)

    def action_rebuild(self):
        self.check_access("write")
        for declaration in self.filtered(lambda d: d.state in GOODS_EDITABLE):
            declaration.sudo()._logistics_build_lines()
        return True

    def action_cancel(self):
        """Cancel a draft, never sent: anyone preparing it may. The goods stay held until
        the transfer is declared again and customs release it, or a customs manager
        overrides. A declaration sent to the broker is cancelled by a customs manager with
        a reason (:meth:`action_open_cancel`), and the broker is told."""
        self.check_access("write")
        for declaration in self:
            if declaration.state == "cancelled":
                continue
            if declaration.state != "draft":
                raise UserError(
                    self.env._(
                        "%(name)s was sent to %(broker)s: only a customs manager cancels it, "
                        "with a reason, and the broker is told (Cancel at the broker).",
                        name=declaration.name,
                        broker=declaration.backend_id.sudo().name,
                    )
                )
            declaration.sudo().write({"state": "cancelled", "cancel_user_id": self.env.user.id})
            body = self.env._(
                "Draft %(name)s cancelled by %(user)s, never sent. %(picking)s stays held "
                "for customs until it is declared again and released, or a customs manager "
                "overrides.",
                name=declaration.name,
                user=self.env.user.name,
                picking=declaration.picking_id.name,
            )
            declaration.message_post(body=body)
            declaration.picking_id.message_post(body=body)
        return True

    def action_open_cancel(self):
        """Button (customs managers): the wizard cancelling a sent declaration."""
        self.ensure_one()
        self.check_access("write")
        return {
            "type": "ir.actions.act_window",
            "name": self.env._("Cancel %s at the broker", self.name),
            "res_model": "logistics.customs.cancel",
            "view_mode": "form",
            "target": "new",
            "context": {"default_declaration_id": self.id},
        }

    def _logistics_cancel_at_broker(self, reason):
        """A customs manager withdraws a declaration, with a reason: the broker is sent a
        ``customs.cancel`` (a draft, never sent, is only cancelled here). The goods stay
        held until the transfer is declared again and released, or a customs manager
        overrides."""
        self.ensure_one()
        if not self.env.user.has_group("logistics_customs.group_customs_manager"):
            raise AccessError(
                self.env._(
                    "Only a customs manager cancels %s: ask one, with the reason.", self.name
                )
            )
        reason = (reason or "").strip()
        if not reason:
            raise UserError(
                self.env._(
                    "Give the reason for cancelling %s: the broker and the chatter get it.",
                    self.name,
                )
            )
        if self.state in ("released", "cancelled"):
            raise UserError(
                self.env._(
                    "%(name)s is %(state)s: it can no longer be cancelled.",
                    name=self.name,
                    state=dict(STATES)[self.state].lower(),
                )
            )
        sent = self.state != "draft"
        message = self.env["logistics.message"]
        if sent:
            message = self.backend_id.sudo()._send_message(
                "customs.cancel",
                self._logistics_cancel_payload(reason),
                record=self,
                idempotency_key=f"customs:{self.id}:cancel",
                subject=self.env._("Cancellation of customs declaration %s", self.name),
            )
        self.sudo().write(
            {
                "state": "cancelled",
                "cancel_reason": reason,
                "cancel_user_id": self.env.user.id,
            }
        )
        self.activity_feedback(
            ["mail.mail_activity_data_todo"], feedback=self.env._("Cancelled: %s", reason)
        )
        values = {
            "name": self.name,
            "user": self.env.user.name,
            "reason": reason,
            "picking": self.picking_id.name,
            "broker": self.backend_id.name,
            "message": message.name,
        }
        if sent:
            body = self.env._(
                "%(name)s cancelled by %(user)s: %(reason)s. %(broker)s is told "
                "(%(message)s). %(picking)s stays held for customs until it is declared "
                "again and released, or a customs manager overrides.",
                **values,
            )
        else:
            body = self.env._(
                "Draft %(name)s cancelled by %(user)s, never sent: %(reason)s. %(picking)s "
                "stays held for customs until it is declared again and released, or a "
                "customs manager overrides.",
                **values,
            )
        self.message_post(body=body)
        self.picking_id.message_post(body=body)
        return message

    def _logistics_cancel_payload(self, reason):
        self.ensure_one()
        return {
            "reference": self.name,
            "version": self.version,
            "direction": self.direction,
            "broker_reference": self.broker_reference or None,
            "reason": reason,
        }

    def action_declare_again(self):
        """Button on a cancelled declaration: the transfer's new declaration (a draft built
        from the transfer as it is now), opened."""
        self.ensure_one()
        self.check_access("read")
        if self.state != "cancelled":
            raise UserError(
                self.env._("%s is not cancelled: it is the transfer's declaration.", self.name)
            )
        declaration = self._logistics_for_picking(self.picking_id)
        if not declaration:
            raise UserError(
                self.env._(
                    "%(picking)s crosses no customs border any more (or the company has no "
                    "customs broker): it needs no new declaration. A customs manager "
                    "overrides %(name)s to let the goods move.",
                    picking=self.picking_id.name,
                    name=self.name,
                )
            )
        return {
            "type": "ir.actions.act_window",
            "res_model": self._name,
            "res_id": declaration.id,
            "view_mode": "form",
        }

    def action_open_override(self):
        self.ensure_one()
        return {
            "type": "ir.actions.act_window",
            "name": self.env._("Release %s without customs", self.name),
            "res_model": "logistics.customs.override",
            "view_mode": "form",
            "target": "new",
            "context": {"default_declaration_id": self.id},
        }

    def _logistics_override(self, reason):
        """A customs manager lets the goods move before release, with a reason logged on
        the declaration and on the transfer."""
        self.ensure_one()
        if not self.env.user.has_group("logistics_customs.group_customs_manager"):
            raise AccessError(self.env._("Only a customs manager can override a declaration."))
        if not (reason or "").strip():
            raise UserError(self.env._("Give the reason for letting the goods move."))
        if self.state == "released":
            raise UserError(
                self.env._("%s is released: the goods may move, nothing to override.", self.name)
            )
        if not self._logistics_was_sent():
            raise UserError(
                self.env._(
                    "%s was never sent to the customs broker: send it (or cancel it and "
                    "declare the transfer again); an override lets goods move that customs "
                    "were asked about.",
                    self.name,
                )
            )
        self.sudo().write({"override_reason": reason, "override_user_id": self.env.user.id})
        body = self.env._(
            "Customs override by %(user)s: the goods may move before release. Reason: %(reason)s",
            user=self.env.user.name,
            reason=reason,
        )
        self.message_post(body=body)
        self.picking_id.message_post(body=body)
        return True

    def _logistics_state_words(self):
        """Where the declaration stands, as the end of a sentence naming it ("its customs
        declaration CD/0001 ...")."""
        self.ensure_one()
        if self.state == "draft":
            return self.env._("is not sent to the customs broker yet")
        if self.state == "documents_required":
            return self.env._("is waiting for customs release: customs ask for documents")
        if self.state == "inspection":
            return self.env._("is waiting for customs release: customs inspect the goods")
        if self.state == "rejected":
            return self.env._("was rejected by customs")
        if self.state == "cancelled":
            return self.env._("was cancelled")
        return self.env._("is waiting for customs release")

    def _logistics_hold_sentences(self, outcome=None):
        """``(why, what happens next)``: the banner of a transfer this declaration holds.
        ``outcome`` is what customs' release lets happen to the transfer, as the end of a
        sentence ("the transfer can be validated" unless a module moves it otherwise, e.g.
        a 3PL's)."""
        self.ensure_one()
        broker = self.backend_id.name or self.env._("the customs broker")
        why = self.env._(
            "Its customs declaration %(name)s %(state)s.",
            name=self.name,
            state=self._logistics_state_words(),
        )
        said = outcome or self.env._("the transfer can be validated")
        if self.state == "draft":
            next_step = self.env._(
                "Complete the declaration and press Send to broker: %(outcome)s once customs "
                "release it.",
                outcome=said,
            )
        elif self.state == "submitted" and self.send_failed:
            next_step = self.env._(
                "%(broker)s did not take it: %(error)s Correct it and press Send again on the "
                "declaration: %(outcome)s once customs release it.",
                broker=broker,
                error=self.send_error,
                outcome=said,
            )
        elif self.state in ("submitted", "accepted"):
            next_step = self.env._(
                "%(broker)s has it; %(outcome)s once customs release it%(due)s. Nothing to do "
                "until then.",
                broker=broker,
                outcome=said,
                due=self.env._(" (expected by %s)", format_datetime(self.env, self.release_due_at))
                if self.release_due_at
                else "",
            )
        else:
            if self.state == "cancelled":
                next_step = self.env._(
                    "Declare it again (Declare again on the declaration) and wait for customs "
                    "to release it, or a customs manager can override it with a reason."
                )
            else:
                next_step = self._logistics_todo()
            if outcome:
                next_step = self.env._(
                    "%(todo)s Then %(outcome)s.", todo=next_step, outcome=outcome
                )
        return why, next_step

    def _logistics_was_sent(self):
        """Whether the broker received this declaration (an override is for those)."""
        self.ensure_one()
        return bool(self.submitted_at) or self.state not in ("draft", "cancelled")

    def _logistics_allows_moving(self):
        """Customs released it, or a customs manager overrode it. A cancelled declaration
        does not: its goods wait for the transfer's next declaration (or an override)."""
        self.ensure_one()
        return self.state == "released" or bool(self.override_reason)

    @api.model
    def _demo_setup(self, product_ids):
        """Demo data: the company's EORI and stock of the demo export product in the main
        warehouse."""
        company = self.env.ref("base.main_company")
        if not company.partner_id.logistics_eori:
            country = company.partner_id.country_id.code or "US"
            company.partner_id.logistics_eori = f"{country}000000123456"
        warehouse = self.env["stock.warehouse"].search([("company_id", "=", company.id)], limit=1)
        for product in self.env["product.product"].browse(product_ids):
            self.env["stock.quant"]._update_available_quantity(product, warehouse.lot_stock_id, 50)

    # status ----------------------------------------------------------------------------------
    def _logistics_apply_status(self, data, message):
        """A status from the broker: recorded in the history; applied unless it arrived
        after a later one (or about an older version). Holds, rejections and cancellations
        need someone: an activity for the responsible user; the caller raises them into the
        exception queue (see the ``customs.status`` handler). Returns whether it was applied."""
        self.ensure_one()
        status = data["status"]
        version = data.get("version") or self.version
        current = self.state
        applied = (
            version == self.version
            and current not in FINAL
            and RANK[status] >= RANK.get(current, 0)
            # the same news again changes nothing; a hold may follow a hold
            and (current != status or status in HOLDS)
        )
        self.env["logistics.customs.declaration.event"].sudo().create(
            {
                "declaration_id": self.id,
                "status": status,
                "version": version,
                "event_time": to_naive_utc(data.get("event_time")),
                "applied": applied,
                "note": data.get("reason") or False,
                "message_id": message.id if message else False,
            }
        )
        if not applied:
            self.message_post(
                body=self.env._(
                    "%(broker)s reported %(status)s for version %(version)s, after the "
                    "declaration was already %(current)s: kept in the history, not applied.",
                    broker=self.backend_id.name,
                    status=dict(STATES)[status].lower(),
                    version=version,
                    current=dict(STATES)[current].lower(),
                )
            )
            return False
        vals = {"state": status}
        if data.get("broker_reference"):
            vals["broker_reference"] = data["broker_reference"]
        if status in HOLDS:
            vals["hold_reason"] = data.get("reason") or False
            vals["documents_requested"] = (
                "\n".join(
                    (f"{d['code']}: " if d.get("code") else "") + d["name"]
                    for d in data.get("documents_requested") or []
                )
                or False
            )
        if status == "rejected":
            vals["rejection_errors"] = (
                "\n".join(
                    " ".join(
                        filter(
                            None,
                            [
                                e.get("code"),
                                e.get("pointer") and f"({self._logistics_pointer_label(e)})",
                                e["text"],
                            ],
                        )
                    )
                    for e in data.get("errors") or []
                )
                or data.get("reason")
                or False
            )
        if status == "released":
            vals["hold_reason"] = False
            vals["documents_requested"] = False
        if status == "cancelled":
            vals["cancel_reason"] = data.get("reason") or False
        self.sudo().write(vals)
        if data.get("duties"):
            self._logistics_record_duties(data["duties"])
        body = self._logistics_status_sentence(data)
        self.message_post(body=body)
        self.picking_id.message_post(body=body)
        if status in NEEDS_SOMEONE:
            self.activity_schedule(
                "mail.mail_activity_data_todo",
                summary=self.env._("Customs: %s", dict(STATES)[status]),
                note=self._logistics_todo(),
                user_id=(self.user_id or self.env.user).id,
            )
        elif status == "released":
            self.activity_feedback(
                ["mail.mail_activity_data_todo"], feedback=self.env._("Released by customs.")
            )
            self._logistics_close_holds()
            self._logistics_on_released()
        return True

    def _logistics_record_duties(self, duties):
        """The duties and taxes customs assessed (canonical ``duties``), replacing those
        recorded before."""
        self.sudo().duty_ids.unlink()
        self.env["logistics.customs.duty"].sudo().create(
            [
                {
                    "declaration_id": self.id,
                    "duty_type": duty["type"],
                    "amount": duty["amount"],
                    "currency_id": self._logistics_currency(duty["currency"]).id,
                }
                for duty in duties
            ]
        )

    def _logistics_close_holds(self):
        """Holds of this declaration still in the exception queue need nothing more once
        customs released it: they are closed, saying so."""
        holds = (
            self.env["logistics.message"]
            .sudo()
            .search(
                [
                    ("res_model", "=", self._name),
                    ("res_id", "=", self.id),
                    ("message_type", "=", "customs.status"),
                    ("state", "in", ("failed", "dead")),
                ]
            )
        )
        reason = self.env._("Customs released %s afterwards.", self.name)
        holds.write({"state": "ignored", "ignore_reason": reason, "next_retry_at": False})
        for hold in holds:
            hold.message_post(body=reason)

    def _logistics_on_released(self):
        """Hook: customs released the declaration (duties, if any, are recorded)."""

    def _logistics_currency(self, code):
        currency = (
            self.env["res.currency"]
            .with_context(active_test=False)
            .search([("name", "=", code)], limit=1)
        )
        if not currency:
            raise UserError(self.env._("Unknown currency %s in the broker's duties.", code))
        return currency

    def _logistics_pointer_label(self, error):
        """Where a partner's error points, as the operator reads it: ``/lines/1`` is the
        second goods item of the declaration ("goods item 2: 8516.10.80 Electric kettles");
        any other pointer as sent."""
        pointer = error.get("pointer") or ""
        match = re.match(r"^/lines/(\d+)", pointer)
        lines = self.line_ids
        if not match or int(match.group(1)) >= len(lines):
            return pointer
        line = lines[int(match.group(1))]
        return self.env._(
            "goods item %(number)s: %(goods)s",
            number=int(match.group(1)) + 1,
            goods=" ".join(filter(None, [line.hs_code, line.description])) or pointer,
        )

    def _logistics_status_sentence(self, data):
        status = data["status"]
        label = dict(STATES)[status]
        parts = [
            self.env._(
                "Customs status from %(broker)s: %(status)s.",
                broker=self.backend_id.name,
                status=label,
            )
        ]
        if data.get("broker_reference"):
            parts.append(self.env._("MRN / entry number: %s.", data["broker_reference"]))
        if data.get("reason"):
            parts.append(data["reason"])
        return " ".join(parts)

    def _logistics_todo(self):
        """What the responsible user must do about a hold or a rejection."""
        self.ensure_one()
        if self.state == "documents_required":
            # a _() call among another's arguments is not seen by Odoo's exporter
            docs = self.documents_requested or self.env._("the documents named by the broker")
            return self.env._(
                "Customs hold %(name)s (%(picking)s) until they receive: %(docs)s. Send them "
                "to %(broker)s; the goods move once customs release them.",
                name=self.name,
                picking=self.picking_id.name,
                docs=docs.replace("\n", "; "),
                broker=self.backend_id.name,
            )
        if self.state == "inspection":
            return self.env._(
                "Customs inspect the goods of %(name)s (%(picking)s)%(why)s. Keep them "
                "available; they move once customs release them.",
                name=self.name,
                picking=self.picking_id.name,
                why=": %s" % self.hold_reason if self.hold_reason else "",
            )
        if self.state == "cancelled":
            return self.env._(
                "%(broker)s reported %(name)s (%(picking)s) cancelled%(why)s. The goods stay "
                "held: press Declare again on it and send the new declaration, or a customs "
                "manager overrides with a reason.",
                broker=self.backend_id.name,
                name=self.name,
                picking=self.picking_id.name,
                why=": %s" % self.cancel_reason if self.cancel_reason else "",
            )
        errors = self.rejection_errors or self.env._("no reason given")
        return self.env._(
            "Customs rejected %(name)s (%(picking)s): %(errors)s. Correct the products or "
            "partners named, then press Amend to send a corrected version.",
            name=self.name,
            picking=self.picking_id.name,
            errors=errors.replace("\n", "; "),
        )

    def _logistics_replay_waiting_statuses(self):
        """Statuses that arrived before the declaration was known (failed: unknown
        reference, so linked to no record) are processed again now that it is; holds and
        rejections in the exception queue (linked to it) stay for the operator."""
        for declaration in self:
            waiting = (
                self.env["logistics.message"]
                .sudo()
                .search(
                    [
                        ("direction", "=", "in"),
                        ("message_type", "=", "customs.status"),
                        ("state", "in", ("failed", "dead")),
                        ("res_model", "=", False),
                        ("payload", "ilike", f'"reference": "{declaration.name}"'),
                    ]
                )
            )
            if waiting:
                waiting._retry(self.env._("declaration %s, now known", declaration.name))


class LogisticsCustomsDuty(models.Model):
    _name = "logistics.customs.duty"
    _description = "Duty or tax assessed on a customs declaration"

    declaration_id = fields.Many2one(
        "logistics.customs.declaration", required=True, ondelete="cascade", index=True
    )
    company_id = fields.Many2one(related="declaration_id.company_id", store=True, index=True)
    duty_type = fields.Selection(
        [("duty", "Customs duty"), ("vat", "Import VAT"), ("excise", "Excise"), ("fee", "Fee")],
        string="Type",
        required=True,
    )
    amount = fields.Monetary(required=True)
    currency_id = fields.Many2one("res.currency", required=True)

    @api.depends("declaration_id.name", "duty_type")
    def _compute_display_name(self):
        types = dict(self._fields["duty_type"]._description_selection(self.env))
        for duty in self:
            duty.display_name = self.env._(
                "%(type)s on %(declaration)s",
                type=types.get(duty.duty_type, ""),
                declaration=duty.declaration_id.name,
            )
