from odoo import api, fields, models
from odoo.exceptions import AccessError, UserError, ValidationError

from odoo.addons.logistics_integration_base.exceptions import TransportError
from odoo.addons.logistics_integration_base.tools import secrets as secret_box


class LogisticsBackend(models.Model):
    """What a ShipBob backend needs beyond the base's connection: the channel its orders
    belong to (ShipBob requires it in the ``shipbob_channel_id`` header of every order it
    creates), and the subscription of its webhook address (ShipBob subscribes webhooks only
    through its API)."""

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

    def action_shipbob_subscribe_webhooks(self):
        """Button: ask ShipBob to send the events the connector reads to this backend's
        webhook address, signed with its current webhook secret."""
        self.ensure_one()
        if not self.env.user.has_group("logistics_integration_base.group_logistics_manager"):
            raise AccessError(
                self.env._("Only Logistics Integration managers can subscribe webhooks.")
            )
        self.check_access("write")  # a backend of another company is refused here
        backend = self.sudo()  # the webhook secret is readable by the system only
        try:
            secret = backend._get_secret("webhook_secret")
        except (secret_box.SecretKeyMissing, secret_box.SecretUndecryptable) as exc:
            raise UserError(str(exc)) from None
        if not secret:
            raise UserError(
                self.env._(
                    "Backend %s has no webhook secret to give ShipBob: press Generate webhook "
                    "secret first, then subscribe.",
                    self.name,
                )
            )
        try:
            summary = backend._get_adapter().subscribe_webhooks(self.webhook_url, secret)
        except TransportError as exc:
            return self._notify(
                self.env._("ShipBob webhooks of %s not subscribed", self.name), str(exc), "danger"
            )
        return self._notify(self.env._("ShipBob webhooks of %s", self.name), summary, "success")
