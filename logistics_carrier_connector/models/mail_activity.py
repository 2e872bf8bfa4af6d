from odoo import fields, models


class MailActivity(models.Model):
    _inherit = "mail.activity"

    logistics_tracking_event_id = fields.Many2one(
        "logistics.carrier.tracking.event",
        string="Delivery exception",
        readonly=True,
        ondelete="set null",
        index="btree_not_null",
        help="The carrier's exception this activity was scheduled for by the parcel's "
        "tracking: later news that resolves it (in transit again, out for delivery, "
        "delivered) marks the activity done. Activities people schedule have none.",
    )
