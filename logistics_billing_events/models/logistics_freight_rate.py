from odoo import api, fields, models


class LogisticsFreightRate(models.Model):
    _name = "logistics.freight.rate"
    _description = "Contract rate of a carrier or 3PL"
    _order = "backend_id, charge_code"

    backend_id = fields.Many2one(
        "logistics.backend", string="Partner", required=True, ondelete="cascade", index=True
    )
    company_id = fields.Many2one(related="backend_id.company_id", store=True, index=True)
    charge_code = fields.Selection(
        [
            ("freight", "Freight"),
            ("fuel", "Fuel surcharge"),
            ("pick_pack", "Pick and pack"),
            ("receiving", "Receiving"),
            ("storage", "Storage"),
            ("other", "Other"),
        ],
        required=True,
        string="Charge",
    )
    basis = fields.Selection(
        [
            ("fixed", "Per shipment"),
            ("per_unit", "Per unit"),
            ("per_line", "Per order line"),
            ("per_kg", "Per kg"),
        ],
        required=True,
        default="fixed",
    )
    # a unit price (0.125 per kg): the digits of Product Price, shown with the currency
    price = fields.Float(
        digits="Product Price",
        required=True,
        help="In the company's currency, per shipment, unit, order line or kg.",
    )
    currency_id = fields.Many2one(related="backend_id.freight_currency_id", string="Currency")

    @api.depends("backend_id.name", "charge_code", "basis")
    def _compute_display_name(self):
        charges = dict(self._fields["charge_code"]._description_selection(self.env))
        bases = dict(self._fields["basis"]._description_selection(self.env))
        for rate in self:
            rate.display_name = self.env._(
                "%(charge)s %(basis)s, %(partner)s",
                charge=charges.get(rate.charge_code, ""),
                basis=(bases.get(rate.basis) or "").lower(),
                partner=rate.backend_id.name,
            )

    def _logistics_amount(self, measures):
        self.ensure_one()
        factor = {
            "fixed": 1.0,
            "per_unit": measures.get("units") or 0.0,
            "per_line": measures.get("lines") or 0.0,
            "per_kg": measures.get("kg") or 0.0,
        }[self.basis]
        return round(factor * self.price, 2)
