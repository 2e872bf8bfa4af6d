from odoo import models
from odoo.exceptions import UserError


class ChooseDeliveryCarrier(models.TransientModel):
    """Odoo's delivery wizard (*Add shipping*, *Update shipping cost*): a carrier-backend
    method that got no price (every carrier down, a key that no longer decrypts...) does
    not put a free shipping line on the order when the salesperson presses Add or Update
    anyway: the rate is asked again, and a failure is said in words, the order as it was.
    A method invoiced at the real cost (priced after delivery) adds its line at zero, as
    Odoo does."""

    _inherit = "choose.delivery.carrier"

    def button_confirm(self):
        carrier = self.carrier_id
        if (
            carrier.delivery_type == "logistics"
            and carrier.invoice_policy != "real"
            and self.currency_id.is_zero(self.delivery_price)
        ):
            rated = self._get_delivery_rate()
            if rated.get("error_message"):
                raise UserError(
                    self.env._(
                        "%(method)s has no price for %(order)s, so no shipping line was added "
                        "or changed: %(reason)s",
                        method=carrier.name,
                        order=self.order_id.name,
                        reason=rated["error_message"],
                    )
                )
        return super().button_confirm()
