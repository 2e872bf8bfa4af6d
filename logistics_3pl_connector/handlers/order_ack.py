"""``order.ack``: the 3PL accepted or rejected a released order."""

from odoo.addons.logistics_integration_base.exceptions import NeedsAttention
from odoo.addons.logistics_integration_base.handlers import register_handler

from .common import OrderHandler


@register_handler("order.ack")
class OrderAckHandler(OrderHandler):
    """An unknown order is a business error (Retry once it exists); an acknowledgement that
    arrives after the shipment does not move the order back."""

    def process(self, data, record):
        pickings = record
        picking = pickings.filtered(lambda p: p.state not in ("cancel",))[:1] or pickings[:1]
        self.link(picking)
        release = picking.logistics_release_message_id
        if data["status"] == "accepted":
            if release and release.state == "sent":
                release.state = "acknowledged"
            vals = {
                "logistics_external_id": data.get("external_order_id")
                or picking.logistics_external_id
            }
            # An ack that arrives after the shipment must not move the order back.
            if picking.logistics_state in ("released", "rejected"):
                vals["logistics_state"] = "accepted"
            picking.with_context(logistics_inbound=True).write(vals)
            return self.env._("%s accepted", picking.name)
        reason = "; ".join(
            f"{r['line_ref']}: {r['text']}" if r.get("line_ref") else r["text"]
            for r in data.get("reasons") or ()
        ) or self.env._("no reason given")
        picking.with_context(logistics_inbound=True).write(
            {"logistics_state": "rejected", "logistics_reject_reason": reason}
        )
        if release and release.state == "sent":
            release.state = "acknowledged"
        picking.message_post(
            body=self.env._(
                "3PL %(backend)s rejected this order: %(reason)s",
                backend=self.backend.name,
                reason=reason,
            )
        )
        raise NeedsAttention(
            self.env._(
                "3PL %(backend)s rejected order %(ref)s: %(reason)s. Fix the delivery, press "
                "'Release to 3PL' on it, then ignore this message.",
                backend=self.backend.name,
                ref=data["order_ref"],
                reason=reason,
            )
        )
