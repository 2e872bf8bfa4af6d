"""``carrier.refund``: what became of a void requested at the carrier (EasyPost's
``refund.successful`` webhook, or its refunds polled)."""

from odoo.addons.logistics_integration_base.exceptions import NotForUs
from odoo.addons.logistics_integration_base.handlers import MessageHandler, register_handler


@register_handler("carrier.refund")
class CarrierRefundHandler(MessageHandler):
    """A parcel whose void was requested becomes *Voided* when the carrier refunds it, and
    *Booked* again, with a warning to the person who asked, when the carrier refuses.
    Idempotent and tolerant of order: only a parcel still *Void requested* moves (the same
    news twice, or a late "submitted", changes nothing), but for a refund of a parcel Odoo
    holds booked: its label is no longer valid whatever Odoo recorded. A shipment Odoo does not hold
    (postage bought outside Odoo, an orphan refunded by a booking) is kept as ignored."""

    out_of_order = "apply"

    def find_record(self, data):
        return self.env["logistics.carrier.parcel"]._logistics_of_backend(
            self.backend, "shipment_ref", data["shipment_id"]
        )

    def process(self, data, record):
        parcels = record
        if not parcels:
            raise NotForUs(
                self.env._(
                    "shipment %(shipment)s is not a parcel Odoo booked with %(backend)s",
                    shipment=data["shipment_id"],
                    backend=self.backend.name,
                )
            )
        self.link(parcels[0].picking_id)
        pending = parcels.filtered(lambda p: p.state == "void_requested")
        if data["status"] == "voided":
            pending._logistics_void_settled(data)
            # refunded while Odoo holds it booked: its void was asked outside Odoo, or
            # Odoo's record of the request was rolled back after the carrier acted
            parcels.filtered(lambda p: p.state == "booked")._logistics_refunded_while_booked(data)
        elif data["status"] == "refused":
            pending._logistics_void_refused(data)
        return self.env._(
            "%(numbers)s: refund %(status)s",
            numbers=", ".join(parcels.mapped("tracking_number")),
            status=data.get("carrier_status") or data["status"],
        )
