from odoo import api, fields, models
from odoo.exceptions import ValidationError


class LogisticsBackend(models.Model):
    _inherit = "logistics.backend"

    customs_release_policy = fields.Selection(
        [
            ("wait", "Wait for customs release"),
            ("flag", "Release at once with a customs hold flag"),
        ],
        string="Deliveries under customs",
        default="wait",
        required=True,
        help="A delivery under a customs declaration that customs have not released yet. "
        "Wait: it is released to the 3PL once customs release it (or a customs manager "
        "overrides). Flag: it is released at once, its order marked with a customs hold; the "
        "3PL may prepare it but ships it only after the order update that lifts the hold, "
        "sent when customs release it (or a customs manager overrides). Needs a 3PL whose "
        "orders carry the flag and that accepts order updates.",
    )

    def _logistics_carries_customs_hold(self):
        """Whether the orders reach this 3PL with their customs hold: the generic REST
        adapter sends the canonical order as it is. ShipBob's order has no such field (its
        holds are set on shipments by separate calls), and the CSV and X12 940 order files
        have no column or segment for it. A module adding a provider whose orders carry the
        hold extends this."""
        self.ensure_one()
        return self.provider == "generic" and self.protocol == "rest"

    def _logistics_customs_flags_hold(self):
        """Whether deliveries under a declaration not released yet go to this 3PL at once,
        with a customs hold, instead of waiting."""
        self.ensure_one()
        return (
            self.kind == "3pl"
            and self.customs_release_policy == "flag"
            and self._logistics_carries_customs_hold()
        )

    @api.constrains("customs_release_policy", "accepts_updates", "provider", "protocol", "kind")
    def _check_customs_release_policy(self):
        providers = dict(self._fields["provider"]._description_selection(self.env))
        protocols = dict(self._fields["protocol"]._description_selection(self.env))
        for backend in self.filtered(
            lambda b: b.kind == "3pl" and b.customs_release_policy == "flag"
        ):
            if not backend._logistics_carries_customs_hold():
                raise ValidationError(
                    self.env._(
                        "3PL %(backend)s cannot receive deliveries with a customs hold flag: "
                        "its orders (%(provider)s, %(protocol)s) have no field for it, so it "
                        "would ship goods customs have not released. Choose 'Wait for customs "
                        "release'.",
                        backend=backend.name,
                        provider=providers.get(backend.provider, backend.provider),
                        protocol=protocols.get(backend.protocol, backend.protocol),
                    )
                )
            if not backend.accepts_updates:
                raise ValidationError(
                    self.env._(
                        "3PL %(backend)s cannot receive deliveries with a customs hold flag: "
                        "the hold is lifted by an order update, and it accepts none. Tick "
                        "'Accepts order updates' or choose 'Wait for customs release'.",
                        backend=backend.name,
                    )
                )
