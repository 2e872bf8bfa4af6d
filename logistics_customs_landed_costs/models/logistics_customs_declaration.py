from odoo import fields, models
from odoo.exceptions import UserError, ValidationError

COST_PRODUCTS = {
    "duty": "logistics_customs_landed_costs.product_customs_duty",
    "excise": "logistics_customs_landed_costs.product_customs_excise",
    "fee": "logistics_customs_landed_costs.product_customs_fee",
}


class LogisticsCustomsDeclaration(models.Model):
    _inherit = "logistics.customs.declaration"

    landed_cost_id = fields.Many2one(
        "stock.landed.cost", string="Landed cost", readonly=True, copy=False
    )

    def _logistics_flow_fields(self):
        """The landed cost is created by the release, not given by a user."""
        return super()._logistics_flow_fields() | {"landed_cost_id"}

    def _logistics_on_released(self):
        res = super()._logistics_on_released()
        for declaration in self.filtered(
            lambda d: d.direction == "import" and d.duty_ids and not d.landed_cost_id
        ):
            try:
                with self.env.cr.savepoint():
                    declaration._logistics_landed_cost()
            except (UserError, ValidationError) as exc:
                # the release stands; the cost is then entered by hand
                declaration.message_post(
                    body=self.env._(
                        "No landed cost was created for the duties: %(reason)s. Create it "
                        "from %(picking)s (Inventory › Operations › Landed Costs).",
                        reason=exc.args[0],
                        picking=declaration.picking_id.name,
                    )
                )
        return res

    def _logistics_landed_cost(self):
        """A draft landed cost on the receipt: one line per duty, excise and fee, in the
        company currency at the release date (import VAT is recovered, not a cost)."""
        self.ensure_one()
        company = self.company_id
        today = fields.Date.context_today(self)
        lines = []
        for duty in self.duty_ids.filtered(lambda d: d.duty_type in COST_PRODUCTS):
            product = self.env.ref(COST_PRODUCTS[duty.duty_type])
            amount = duty.currency_id._convert(duty.amount, company.currency_id, company, today)
            accounts = product.product_tmpl_id.get_product_accounts()
            lines.append(
                fields.Command.create(
                    {
                        "product_id": product.id,
                        "name": self.env._(
                            "%(what)s, customs declaration %(name)s (%(mrn)s)",
                            what=product.name,
                            name=self.name,
                            mrn=self.broker_reference or "-",
                        ),
                        "price_unit": amount,
                        "split_method": product.split_method_landed_cost or "equal",
                        "account_id": accounts["stock_input"].id,
                    }
                )
            )
        if not lines:
            return None
        cost = (
            self.env["stock.landed.cost"]
            .sudo()
            .with_company(company)
            .create(
                {
                    "picking_ids": [fields.Command.set(self.picking_id.ids)],
                    "cost_lines": lines,
                    "description": self.env._(
                        "Duties of customs declaration %s, as the broker reported them.",
                        self.name,
                    ),
                }
            )
        )
        self.sudo().landed_cost_id = cost
        self.message_post(
            body=self.env._(
                "Draft landed cost %(cost)s created on %(picking)s for the duties reported.",
                cost=cost.name,
                picking=self.picking_id.name,
            )
        )
        return cost
