from odoo import models


class StockReturnPicking(models.TransientModel):
    _inherit = "stock.return.picking"

    def _reset_carrier_id(self, picking):
        """A return of a delivery booked through a carrier backend keeps its delivery method,
        so that *Print Return Label* books the customer's return label with the same carrier;
        only the outbound price is not carried over."""
        if picking.carrier_id.delivery_type == "logistics":
            picking.carrier_price = 0.0
            return None
        return super()._reset_carrier_id(picking)
