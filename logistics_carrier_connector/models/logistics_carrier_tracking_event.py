from odoo import fields, models

MILESTONES = [
    ("label_created", "Label created"),
    ("picked_up", "Picked up"),
    ("in_transit", "In transit"),
    ("out_for_delivery", "Out for delivery"),
    ("available_for_pickup", "Available for pickup"),
    ("delivered", "Delivered"),
    ("exception", "Exception"),
    ("returned", "Returned"),
    ("cancelled", "Cancelled"),
]
TERMINAL = ("delivered", "returned", "cancelled")
#: milestones that say a delivery exception reported before them is over: the parcel moves
#: again, is on the van, waits at a pickup point, or is delivered (a return is no resolution)
RESOLVING = ("in_transit", "out_for_delivery", "available_for_pickup", "delivered")


class LogisticsCarrierTrackingEvent(models.Model):
    """One line of a parcel's tracking timeline, as the carrier reported it."""

    _name = "logistics.carrier.tracking.event"
    _description = "Carrier tracking event"
    _order = "event_time desc, id desc"
    _rec_name = "milestone"

    parcel_id = fields.Many2one(
        "logistics.carrier.parcel", required=True, ondelete="cascade", index=True
    )
    picking_id = fields.Many2one(
        related="parcel_id.picking_id", store=True, index=True, string="Transfer"
    )
    company_id = fields.Many2one(
        related="parcel_id.company_id", store=True, index=True, string="Company"
    )
    event_time = fields.Datetime(string="When", required=True)
    milestone = fields.Selection(MILESTONES, required=True)
    carrier_status = fields.Char(string="Carrier code", required=True)
    mapped = fields.Boolean(
        string="Code mapped",
        default=True,
        help="Unchecked: the carrier's code is not mapped to a milestone yet; it is shown as "
        "an exception until an administrator maps it.",
    )
    description = fields.Char(string="What the carrier says")
    location = fields.Char()
    message_id = fields.Many2one(
        "logistics.message", string="Tracking message", ondelete="set null", readonly=True
    )

    _sql_constraints = [
        (
            "event_unique",
            "unique(parcel_id, event_time, carrier_status)",
            "A carrier event is recorded once.",
        ),
    ]
