"""Confirmed milestones become billing events once the partner's message is applied: a
carrier's tracking that completes a delivery, a 3PL's shipment or receipt confirmation.
Whatever brought the message (webhook, poll, SFTP file) and however often it is replayed,
the milestone's identity makes one event per rule."""

import logging

from odoo import models

_logger = logging.getLogger(__name__)


class LogisticsMessage(models.Model):
    _inherit = "logistics.message"

    def _on_processed(self):
        res = super()._on_processed()
        if self.res_model != "stock.picking" or not self.res_id:
            return res
        picking = self.env["stock.picking"].sudo().browse(self.res_id).exists()
        if not picking:
            return res
        if self.message_type == "tracking.update":
            picking._logistics_billing_delivered(self)
        elif self.message_type == "shipment.confirmed":
            shipments = self.env["logistics.shipment"].sudo().search([("message_id", "=", self.id)])
            for shipment in shipments:
                shipment.picking_id._logistics_billing_shipped(shipment, self)
        elif self.message_type == "receipt.confirmed":
            picking._logistics_billing_received(self)
        return res
