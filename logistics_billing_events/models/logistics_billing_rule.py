from odoo import api, fields, models
from odoo.exceptions import ValidationError
from odoo.tools.misc import formatLang

MILESTONES = [
    ("delivered", "Delivered by the carrier"),
    ("shipped", "Shipped by the 3PL"),
    ("received", "Received by the 3PL"),
    ("accessorial", "Accessorial reported by a partner"),
    ("storage", "Storage in a 3PL warehouse (monthly)"),
]

PRICE_BASES = [
    ("fixed", "Fixed per milestone"),
    ("per_unit", "Per unit"),
    ("per_line", "Per order line"),
    ("per_kg", "Per kg"),
    ("per_pallet", "Per pallet"),
    ("percent_freight", "Percent of freight"),
    ("reported", "Amount reported by the partner"),
    ("per_unit_day", "Per unit per day"),
    ("per_pallet_day", "Per pallet per day"),
    ("per_m3_day", "Per m³ per day"),
]

#: the measure of a milestone each price basis multiplies (see ``_logistics_quantity``)
BASIS_MEASURE = {
    "fixed": None,
    "per_unit": "units",
    "per_line": "lines",
    "per_kg": "kg",
    "per_pallet": "pallets",
    "percent_freight": "freight",
    "reported": "amount",
    "per_unit_day": "unit_days",
    "per_pallet_day": "pallet_days",
    "per_m3_day": "m3_days",
}
STORAGE_BASES = ("per_unit_day", "per_pallet_day", "per_m3_day")


class LogisticsBillingRule(models.Model):
    """Which confirmed milestone is billed to whom, with which service product and price.

    Several rules may bill the same milestone (a pick & pack fee per order and one per
    unit). Among the rules of one service product that match a milestone, the most specific
    one wins: a rule for the customer before a rule for every customer, a rule for the
    partner backend before one for any, then the sequence."""

    _name = "logistics.billing.rule"
    _description = "Billing rule"
    _inherit = ["mail.thread"]
    _order = "sequence, id"

    name = fields.Char(required=True, tracking=True)
    active = fields.Boolean(default=True, tracking=True)
    sequence = fields.Integer(default=10)
    company_id = fields.Many2one(
        "res.company", required=True, default=lambda self: self.env.company, index=True
    )
    currency_id = fields.Many2one(related="company_id.currency_id")
    partner_id = fields.Many2one(
        "res.partner",
        string="Customer",
        tracking=True,
        help="The customer billed; empty: every customer without a rule of their own for "
        "this service.",
    )
    milestone = fields.Selection(MILESTONES, required=True, tracking=True)
    backend_id = fields.Many2one(
        "logistics.backend",
        string="Partner",
        tracking=True,
        help="Only milestones confirmed by this carrier or 3PL; empty: any.",
    )
    charge_code = fields.Char(
        string="Charge code",
        tracking=True,
        help="Accessorials: the charge code reported (waiting_time, redelivery, "
        "special_handling...); empty: any.",
    )
    product_id = fields.Many2one(
        "product.product",
        string="Service product",
        required=True,
        tracking=True,
        domain=[("type", "=", "service")],
        help="Invoiced for the milestone: its name, taxes and income account are used.",
    )
    price_basis = fields.Selection(
        PRICE_BASES, required=True, default="fixed", tracking=True, string="Priced per"
    )
    # A unit price keeps the digits of Product Price (0.035 per unit), as Odoo's own unit
    # prices do: a monetary field would round it to the currency's cents. Views show it with
    # the rule's currency.
    price = fields.Float(
        digits="Product Price",
        tracking=True,
        help="Per milestone, unit, line or kg, in the company's currency; a percentage for "
        "'Percent of freight'; ignored for 'Amount reported by the partner'.",
    )
    freight_percent = fields.Float(
        related="price",
        readonly=False,
        string="Percentage of freight",
        help="The share of the freight booked with the carrier that is billed, in %.",
    )
    price_label = fields.Char(compute="_compute_price_label", string="Priced at")
    monthly_minimum = fields.Monetary(
        string="Monthly minimum",
        help="Storage: the least billed for a month in a warehouse, whatever was stored.",
    )
    requires_approval = fields.Boolean(
        string="Approval required",
        tracking=True,
        help="Every event of this rule waits for a billing user's approval.",
    )
    requires_pod = fields.Boolean(
        string="Requires proof of delivery",
        default=True,
        tracking=True,
        help="Deliveries: an event without proof of delivery (signature or document) waits "
        "for approval.",
    )
    event_count = fields.Integer(compute="_compute_event_count", string="Billing events")

    @api.constrains("milestone", "price_basis")
    def _check_basis(self):
        for rule in self:
            if rule.price_basis == "reported" and rule.milestone != "accessorial":
                raise ValidationError(
                    self.env._(
                        "%s: only accessorials are billed at the amount the partner reports.",
                        rule.name,
                    )
                )
            if (rule.price_basis in STORAGE_BASES) != (rule.milestone == "storage"):
                raise ValidationError(
                    self.env._(
                        "%s: storage is billed per unit, pallet or m³ per day, and only "
                        "storage is.",
                        rule.name,
                    )
                )
            if rule.price_basis == "percent_freight" and rule.milestone != "delivered":
                raise ValidationError(
                    self.env._(
                        "%s: a percentage of freight applies to carrier deliveries only.",
                        rule.name,
                    )
                )

    @api.depends("price", "price_basis", "currency_id")
    def _compute_price_label(self):
        bases = dict(self._fields["price_basis"]._description_selection(self.env))
        for rule in self:
            if rule.price_basis == "reported":
                rule.price_label = bases["reported"]
            elif rule.price_basis == "percent_freight":
                rule.price_label = self.env._("%s%% of freight", "%g" % rule.price)
            else:
                rule.price_label = "%s %s" % (
                    formatLang(
                        self.env, rule.price, dp="Product Price", currency_obj=rule.currency_id
                    ),
                    bases.get(rule.price_basis, "").lower(),
                )

    def _compute_event_count(self):
        counts = dict(
            self.env["logistics.billing.event"]._read_group(
                [("rule_id", "in", self.ids)], ["rule_id"], ["__count"]
            )
        )
        for rule in self:
            rule.event_count = counts.get(rule, 0)

    def action_view_events(self):
        self.ensure_one()
        action = self.env["ir.actions.act_window"]._for_xml_id(
            "logistics_billing_events.action_logistics_billing_event"
        )
        action["domain"] = [("rule_id", "=", self.id)]
        action["context"] = {}
        return action

    @api.model
    def _logistics_matching(self, milestone, company, partner, backend=None, charge_code=None):
        """The rules billing a milestone: per service product, the most specific one."""
        commercial = partner.commercial_partner_id if partner else partner
        domain = [
            ("milestone", "=", milestone),
            ("company_id", "=", company.id),
            ("partner_id", "in", [False, commercial.id] if commercial else [False]),
            ("backend_id", "in", [False, backend.id] if backend else [False]),
        ]
        rules = self.sudo().search(domain)
        if milestone == "accessorial":
            rules = rules.filtered(lambda r: not r.charge_code or r.charge_code == charge_code)
        best = {}
        for rule in rules:
            rank = (
                0 if rule.partner_id else 1,
                0 if rule.backend_id else 1,
                0 if rule.charge_code else 1,
                rule.sequence,
                rule.id,
            )
            if rule.product_id not in best or rank < best[rule.product_id][0]:
                best[rule.product_id] = (rank, rule)
        return self.browse([rule.id for _rank, rule in sorted(best.values(), key=lambda v: v[0])])

    def _logistics_quantity(self, measures):
        """(quantity, unit price, note) of an event of this rule for a milestone's
        measures; the note says when a monthly minimum replaced the price."""
        self.ensure_one()
        measure = BASIS_MEASURE[self.price_basis]
        if measure is None:
            return 1.0, self.price, None
        value = float(measures.get(measure) or 0.0)
        if self.price_basis == "percent_freight":
            return 1.0, self.currency_id.round(value * self.price / 100.0), None
        if self.price_basis == "reported":
            return 1.0, value, None
        if self.price_basis in STORAGE_BASES and self.monthly_minimum:
            if value * self.price < self.monthly_minimum:
                return (
                    1.0,
                    self.monthly_minimum,
                    self.env._(
                        "monthly minimum (%(value)s at %(price)s %(currency)s come to less)",
                        value=round(value, 2),
                        price=formatLang(self.env, self.price, dp="Product Price"),
                        currency=self.currency_id.name,
                    ),
                )
        return value, self.price, None
