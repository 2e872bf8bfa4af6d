from odoo import api, models

from .logistics_backend import SCHEMAS


class LogisticsMessage(models.Model):
    _inherit = "logistics.message"

    @api.model
    def _logistics_schema_folders(self):
        return super()._logistics_schema_folders() + [SCHEMAS]

    def _on_sent(self, result):
        res = super()._on_sent(result)
        if self.res_model == "stock.picking" and self.res_id:
            picking = self.env["stock.picking"].browse(self.res_id).exists()
            if picking:
                picking._logistics_on_sent(self, result)
        return res
