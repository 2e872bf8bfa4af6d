from odoo import api, fields, models
from odoo.exceptions import ValidationError


class LogisticsBackend(models.Model):
    """What a ShipBob backend needs beyond the base's connection: the channel its orders
    belong to (ShipBob requires it in the ``shipbob_channel_id`` header of every order it
    creates)."""

    _inherit = "logistics.backend"  # pylint: disable=consider-merging-classes-inherited

    shipbob_channel_id = fields.Char(
        string="ShipBob channel",
        help="Id of the ShipBob channel the orders are created in (a number). Press Test "
        "connection: it lists the channels the token can see and which of them may create "
        "orders.",
    )

    @api.constrains("shipbob_channel_id")
    def _check_shipbob_channel_id(self):
        for backend in self:
            channel = (backend.shipbob_channel_id or "").strip()
            if channel and not channel.isdigit():
                raise ValidationError(
                    self.env._(
                        "The ShipBob channel of backend %(backend)s must be a number, such as "
                        "the ids Test connection lists, not '%(channel)s'.",
                        backend=backend.name,
                        channel=channel,
                    )
                )
