from odoo import fields, models


class LogisticsCarrierParcel(models.Model):
    """One parcel booked with a carrier: its shipment at the carrier, tracking number,
    price and label. A delivery of several packages has one per package."""

    _name = "logistics.carrier.parcel"
    _description = "Parcel booked with a carrier"
    _inherit = ["mail.thread"]
    _order = "id desc"
    _rec_name = "tracking_number"

    picking_id = fields.Many2one(
        "stock.picking", string="Transfer", required=True, ondelete="cascade", index=True
    )
    package_id = fields.Many2one("stock.quant.package", ondelete="set null")
    package_name = fields.Char(string="Parcel", help="The package, or 'Bulk Content'")
    backend_id = fields.Many2one(
        "logistics.backend", string="Carrier backend", required=True, ondelete="restrict"
    )
    carrier_id = fields.Many2one("delivery.carrier", string="Delivery method")
    company_id = fields.Many2one(
        related="picking_id.company_id", store=True, index=True, string="Company"
    )
    shipment_ref = fields.Char(string="Carrier shipment", index=True, readonly=True)
    tracking_number = fields.Char(index=True, readonly=True)
    service = fields.Char(readonly=True, help="Carrier and service booked")
    price = fields.Float(readonly=True)
    currency = fields.Char(readonly=True)
    label_format = fields.Selection([("PDF", "PDF"), ("ZPL", "ZPL")], readonly=True)
    label_attachment_id = fields.Many2one("ir.attachment", string="Label", readonly=True)
    state = fields.Selection(
        [("booked", "Booked"), ("void_requested", "Void requested"), ("voided", "Voided")],
        string="Status",
        default="booked",
        required=True,
        readonly=True,
        index=True,
        tracking=True,
    )
    booking_message_id = fields.Many2one(
        "logistics.message", string="Booking call", readonly=True, ondelete="set null"
    )
