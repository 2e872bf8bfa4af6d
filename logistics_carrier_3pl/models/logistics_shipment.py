from odoo import api, models


class LogisticsShipment(models.Model):
    _inherit = "logistics.shipment"

    @api.model_create_multi
    def create(self, vals_list):
        """A 3PL shipment confirmation naming a carrier and a tracking number: the parcel is
        followed with the carrier backend that tracks that carrier, and its timeline fills
        as for the parcels Odoo books."""
        shipments = super().create(vals_list)
        Parcel = self.env["logistics.carrier.parcel"]
        for shipment in shipments.filtered(lambda s: s.tracking_ref and s.carrier_code):
            Parcel._logistics_follow(
                shipment.picking_id,
                shipment.tracking_ref,
                shipment.carrier_code,
                reference=shipment.shipment_ref,
            )
        return shipments
