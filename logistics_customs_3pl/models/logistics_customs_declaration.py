from odoo import models


class LogisticsCustomsDeclaration(models.Model):
    _inherit = "logistics.customs.declaration"

    def _logistics_on_released(self):
        """Customs released the goods: a delivery waiting for it is queued for its 3PL, one
        released with a customs hold gets the order update lifting it."""
        res = super()._logistics_on_released()
        for declaration in self:
            declaration.picking_id._logistics_customs_hold_lift(
                self.env._("customs released %s", declaration.name)
            )
        self.picking_id._logistics_release_ready()
        return res

    def _logistics_override(self, reason):
        res = super()._logistics_override(reason)
        self.picking_id._logistics_customs_hold_lift(
            self.env._(
                "customs override of %(name)s by %(user)s", name=self.name, user=self.env.user.name
            )
        )
        self.picking_id._logistics_release_ready()
        return res
