"""``receipt.confirmed``: received quantities and lots applied to the incoming transfer the
3PL reference designates (following backorders), validated with the backorder policy."""

from odoo.addons.logistics_integration_base.handlers import register_handler

from .common import OrderHandler


@register_handler("receipt.confirmed")
class ReceiptConfirmedHandler(OrderHandler):
    ref_key = "receipt_ref"
    codes = ("incoming",)

    def process(self, data, record):
        pickings = record
        picking = pickings.filtered(lambda p: p.state not in ("done", "cancel"))[:1]
        if not picking:
            self.link(pickings[-1:])
            return self.env._(
                "receipt %s is already fully received: nothing changed", data["receipt_ref"]
            )
        picking, backorder = self._apply_and_validate(picking, data)
        backorder.write(
            {
                "logistics_order_ref": picking.logistics_order_ref or picking.name,
                "logistics_state": picking.logistics_state,
            }
        )
        picking.logistics_state = "received"
        if backorder:
            return self.env._(
                "%(name)s received in part; backorder %(bo)s",
                name=picking.name,
                bo=backorder[:1].name,
            )
        return self.env._("%s received", picking.name)
