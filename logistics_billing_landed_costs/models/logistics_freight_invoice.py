from odoo import fields, models
from odoo.exceptions import UserError, ValidationError


class LogisticsFreightInvoice(models.Model):
    _inherit = "logistics.freight.invoice"

    landed_cost_ids = fields.One2many(
        "stock.landed.cost", "logistics_freight_invoice_id", string="Landed costs"
    )

    def _logistics_bill(self):
        move = super()._logistics_bill()
        self._logistics_replace_landed_costs()
        for line in self.line_ids.filtered(
            lambda li: li.picking_id.picking_type_code == "incoming" and li.invoiced
        ):
            try:
                with self.env.cr.savepoint():
                    self._logistics_landed_cost(line, move)
            except (UserError, ValidationError) as exc:
                # the bill stands; the landed cost is then entered by hand
                self.message_post(
                    body=self.env._(
                        "No landed cost was created for the freight of %(picking)s: "
                        "%(reason)s. Create it from the vendor bill.",
                        picking=line.picking_id.name,
                        reason=exc.args[0],
                    )
                )
        return move

    def _logistics_replace_landed_costs(self):
        """A copy of an invoice billed at another amount replaces it once accepted (its
        first vendor bill was cancelled or reversed): the first copy's draft landed costs
        are cancelled; a validated one is left to correct by hand, and said so."""
        for cost in self.duplicate_of_id.sudo().landed_cost_ids:
            if cost.state == "draft":
                cost.button_cancel()
                self.message_post(
                    body=self.env._(
                        "Draft landed cost %(cost)s of the first copy was cancelled: this copy "
                        "replaces it.",
                        cost=cost.name,
                    )
                )
            elif cost.state == "done":
                self.message_post(
                    body=self.env._(
                        "Landed cost %(cost)s of the first copy was validated already: correct "
                        "the valuation of %(pickings)s by hand (a landed cost for the "
                        "difference), this copy's own landed cost is created in draft.",
                        cost=cost.name,
                        pickings=", ".join(cost.picking_ids.mapped("name")),
                    )
                )

    def _logistics_landed_cost(self, line, move):
        """A draft landed cost on the receipt for the freight invoiced for it (in the
        company currency), split by weight, linked to the vendor bill."""
        company = self.company_id
        product = self.env.ref("logistics_billing_landed_costs.product_inbound_freight")
        amount = self.currency_id._convert(
            line.invoiced, company.currency_id, company, self.invoice_date or fields.Date.today()
        )
        accounts = product.product_tmpl_id.get_product_accounts()
        cost = (
            self.env["stock.landed.cost"]
            .sudo()
            .with_company(company)
            .create(
                {
                    "picking_ids": [fields.Command.set(line.picking_id.ids)],
                    "vendor_bill_id": move.id,
                    "logistics_freight_invoice_id": self.id,
                    "description": self.env._(
                        "Freight of %(picking)s invoiced by %(partner)s (%(number)s).",
                        picking=line.picking_id.name,
                        partner=self.backend_id.name,
                        number=self.name,
                    ),
                    "cost_lines": [
                        fields.Command.create(
                            {
                                "product_id": product.id,
                                "name": self.env._(
                                    "Inbound freight, invoice %(number)s", number=self.name
                                ),
                                "price_unit": amount,
                                "split_method": product.split_method_landed_cost or "equal",
                                "account_id": accounts["stock_input"].id,
                            }
                        )
                    ],
                }
            )
        )
        self.message_post(
            body=self.env._(
                "Draft landed cost %(cost)s created on %(picking)s for its freight.",
                cost=cost.name,
                picking=line.picking_id.name,
            )
        )
        return cost


class StockLandedCost(models.Model):
    _inherit = "stock.landed.cost"

    logistics_freight_invoice_id = fields.Many2one(
        "logistics.freight.invoice", string="Freight invoice", readonly=True, copy=False
    )
