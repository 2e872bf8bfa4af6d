"""``shipment.confirmed`` and ``shipment.status``: what the 3PL shipped, and what happens to
it afterwards."""

from odoo.addons.logistics_integration_base.exceptions import BusinessError
from odoo.addons.logistics_integration_base.handlers import register_handler
from odoo.addons.logistics_integration_base.tools.canonical import to_naive_utc

from .common import OrderHandler


@register_handler("shipment.confirmed")
class ShipmentConfirmedHandler(OrderHandler):
    """Applied once per shipment reference (a shipment reported twice, by webhook and by
    file, changes nothing the second time); fine before the acknowledgement; an unknown
    order is a business error, applied on Retry once the order exists."""

    def process(self, data, record):
        backend = self.backend
        Shipment = self.env["logistics.shipment"].sudo()
        done = Shipment.search(
            [("backend_id", "=", backend.id), ("shipment_ref", "=", data["shipment_ref"])], limit=1
        )
        if done:
            self.link(done.picking_id)
            return self.env._(
                "shipment %s was already applied: nothing changed", data["shipment_ref"]
            )
        pickings = record
        picking = pickings.filtered(lambda p: p.state not in ("done", "cancel"))[:1]
        if not picking:
            raise BusinessError(
                self.env._(
                    "Shipment %(ship)s for order %(ref)s cannot be applied: the order has no open "
                    "transfer left (all done or cancelled).",
                    ship=data["shipment_ref"],
                    ref=data["order_ref"],
                )
            )
        picking, backorder = self._apply_and_validate(picking, data)
        backorder.with_context(logistics_inbound=True).write(
            {
                "logistics_state": "accepted"
                if picking.logistics_state in ("released", "accepted")
                else picking.logistics_state,
                "logistics_order_ref": picking.logistics_order_ref or picking.name,
                "logistics_external_id": picking.logistics_external_id,
                "logistics_release_message_id": picking.logistics_release_message_id.id,
            }
        )
        picking.write(
            {
                "logistics_state": "shipped",
                "logistics_tracking_ref": data.get("tracking_ref")
                or picking.logistics_tracking_ref,
                "logistics_carrier_code": (data.get("carrier") or {}).get("code")
                or picking.logistics_carrier_code,
            }
        )
        if "carrier_tracking_ref" in picking._fields and data.get("tracking_ref"):
            picking.carrier_tracking_ref = data["tracking_ref"]
        release = picking.logistics_release_message_id
        if release and release.state == "sent":
            release.state = "acknowledged"
        Shipment.create(
            {
                "backend_id": backend.id,
                "picking_id": picking.id,
                "backorder_id": backorder[:1].id,
                "shipment_ref": data["shipment_ref"],
                "tracking_ref": data.get("tracking_ref"),
                "carrier_code": (data.get("carrier") or {}).get("code"),
                "shipped_at": to_naive_utc(data.get("shipped_at")),
                "message_id": self.message.id,
            }
        )
        if backorder:
            return self.env._(
                "%(name)s shipped in part; backorder %(bo)s",
                name=picking.name,
                bo=backorder[:1].name,
            )
        return self.env._("%s shipped", picking.name)


@register_handler("shipment.status")
class ShipmentStatusHandler(OrderHandler):
    def process(self, data, record):
        pickings = record
        picking = pickings.filtered(lambda p: p.state == "done")[-1:] or pickings[-1:]
        self.link(picking)
        picking.with_context(logistics_inbound=True).logistics_shipment_status = data["status"]
        text = self.env._("3PL shipment status: %(status)s", status=data["status"])
        if data.get("reason"):
            text += f" ({data['reason']})"
        picking.message_post(body=text)
        if data["status"] in ("exception", "on_hold"):
            picking.activity_schedule(
                "mail.mail_activity_data_todo",
                summary=self.env._(
                    "3PL reports %(status)s for %(ref)s",
                    status=data["status"],
                    ref=data["order_ref"],
                ),
                note=data.get("reason") or "",
                user_id=picking.user_id.id or self.env.ref("base.user_admin").id,
            )
        return text
