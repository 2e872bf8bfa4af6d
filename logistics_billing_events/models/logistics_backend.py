from datetime import datetime, time

from odoo import fields, models

from odoo.addons.logistics_integration_base.adapters import SEND, get_adapter_class
from odoo.addons.logistics_integration_base.adapters.generic import GenericAdapter
from odoo.addons.logistics_integration_base.exceptions import TransportError


class LogisticsBackend(models.Model):
    _inherit = "logistics.backend"

    provider = fields.Selection(
        selection_add=[("freight_files", "Freight invoice files (X12 210, CSV)")],
        ondelete={"freight_files": "set default"},
    )

    # freight invoices (carriers and 3PLs) ------------------------------------------------
    freight_vendor_id = fields.Many2one(
        "res.partner",
        string="Vendor for freight bills",
        help="The partner's invoices become vendor bills of this vendor.",
    )
    freight_product_id = fields.Many2one(
        "product.product",
        string="Freight cost product",
        domain=[("type", "=", "service")],
        help="Every line of the vendor bills uses it (expense account, no taxes unless you "
        "add them on the bill).",
    )
    freight_currency_id = fields.Many2one(
        "res.currency",
        compute="_compute_freight_currency_id",
        string="Company currency",
        help="The currency of the tolerance and of the freight variance: the company's.",
    )
    freight_tolerance_amount = fields.Monetary(
        string="Tolerance (amount)",
        currency_field="freight_currency_id",
        default=1.0,
        help="An invoiced shipment may differ from the expected cost by at most this amount "
        "(in the company's currency, converted into the invoice's at its date) and at most "
        "the percentage below.",
    )
    freight_tolerance_percent = fields.Float(
        string="Tolerance (%)",
        default=2.0,
        help="...and at most this percentage of the expected cost (also the tolerance on the "
        "billed weight).",
    )
    freight_bill_policy = fields.Selection(
        [("draft", "Leave the vendor bill in draft"), ("post", "Post the vendor bill")],
        string="Invoices within tolerance",
        default="draft",
    )
    freight_rate_ids = fields.One2many(
        "logistics.freight.rate", "backend_id", string="Contract rates"
    )
    freight_partner_backend_id = fields.Many2one(
        "logistics.backend",
        string="Invoices for",
        help="A backend that only brings invoice files: the carrier or 3PL backend whose "
        "shipments, rates and accessorials they are audited against.",
    )
    freight_invoice_ids = fields.One2many(
        "logistics.freight.invoice", "backend_id", string="Freight invoices"
    )
    tile_freight_to_review = fields.Integer(
        compute="_compute_tile_fields", string="Freight invoices to review"
    )
    tile_freight_variance = fields.Monetary(
        compute="_compute_tile_fields",
        currency_field="freight_currency_id",
        string="Freight variance this month",
    )
    tile_billing_cycle_days = fields.Float(
        compute="_compute_tile_fields", string="Invoice cycle time this month (days)"
    )

    def _compute_freight_currency_id(self):
        for backend in self:
            backend.freight_currency_id = (backend.company_id or self.env.company).currency_id

    def _logistics_takes_disputes(self):
        """Can a ``freight.dispute`` reach the partner through this backend? Active, and its
        adapter sends canonical messages of any type (the generic CloudEvents adapter and
        those built on it). A module whose adapter carries disputes another way (a
        carrier's claims API) overrides this; carrier booking APIs, 3PL order APIs and
        file-only backends do not take them."""
        self.ensure_one()
        if not self.active:
            return False
        try:
            adapter_class = get_adapter_class(self.provider, self.protocol, self.env)
        except TransportError:
            return False
        return adapter_class.supports(SEND) and issubclass(adapter_class, GenericAdapter)

    # dashboard tiles (also metrics gauges) ------------------------------------------------
    tile_billing_to_approve = fields.Integer(
        compute="_compute_tile_fields", string="Billing events awaiting approval"
    )
    tile_billing_unbilled = fields.Integer(
        compute="_compute_tile_fields", string="Delivered but not invoiced"
    )

    def _logistics_dashboard_capabilities(self):
        """A backend that only brings invoices for another one has no parcels, orders nor
        milestones of its own: its tiles are the invoices'."""
        caps = super()._logistics_dashboard_capabilities()
        if self.kind in ("3pl", "carrier"):
            caps.add("milestones")
        if self.freight_partner_backend_id:
            caps -= {"parcels", "fulfilment", "milestones"}
        if self.freight_vendor_id or self.freight_partner_backend_id:
            caps.add("freight_invoices")
        return caps

    def _logistics_business_tiles(self):
        model = "logistics.billing.event"
        today = fields.Date.context_today(self)
        month_start = datetime.combine(today.replace(day=1), time.min)
        return super()._logistics_business_tiles() + [
            {
                "key": "billing_to_approve",
                "label": self.env._("Billing events awaiting approval"),
                "model": model,
                "domain": [("state", "=", "to_approve")],
                "filters": ["to_approve"],
                "backend_field": "backend_id",
            },
            {
                "key": "billing_unbilled",
                "label": self.env._("Delivered but not invoiced"),
                "model": model,
                "domain": [
                    ("milestone", "in", ("delivered", "shipped")),
                    ("state", "in", ("to_approve", "approved")),
                ],
                # (to approve or billable) and (deliveries or 3PL shipments)
                "filters": ["to_approve", "billable", "delivered", "shipped"],
                "backend_field": "backend_id",
            },
            {
                "key": "freight_variance",
                "label": self.env._("Freight variance this month"),
                "model": "logistics.freight.invoice",
                "domain": [("invoice_date", ">=", month_start.date())],
                "filters": ["this_month"],
                "backend_field": "backend_id",
                "aggregate": "variance_company:sum",
            },
            {
                "key": "billing_cycle_days",
                "label": self.env._("Invoice cycle time this month (days)"),
                "model": model,
                "domain": [("invoiced_at", ">=", month_start)],
                "filters": ["invoiced_this_month"],
                "backend_field": "backend_id",
                "aggregate": "cycle_days:avg",
            },
            {
                "key": "freight_to_review",
                "label": self.env._("Freight invoices to review"),
                "model": "logistics.freight.invoice",
                "domain": [("state", "=", "to_review")],
                "filters": ["to_review"],
                "backend_field": "backend_id",
            },
        ]
