from odoo import models


class LogisticsCustomsDeclaration(models.Model):
    _inherit = "logistics.customs.declaration"

    def _logistics_on_released(self):
        res = super()._logistics_on_released()
        self.picking_id._logistics_release_ready()
        return res

    def _logistics_override(self, reason):
        res = super()._logistics_override(reason)
        self.picking_id._logistics_release_ready()
        return res
