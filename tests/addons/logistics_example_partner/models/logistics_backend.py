from odoo import fields, models


class LogisticsBackend(models.Model):
    _inherit = "logistics.backend"

    provider = fields.Selection(
        selection_add=[("example", "Example parcel partner")],
        ondelete={"example": "set default"},
    )
    protocol = fields.Selection(
        selection_add=[("jsonl", "JSON lines over TCP (example partner)")],
        ondelete={"jsonl": "set default"},
    )
    webhook_scheme = fields.Selection(
        selection_add=[("example_hmac", "Example partner signature")],
        ondelete={"example_hmac": "set default"},
    )
