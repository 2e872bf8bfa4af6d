import os

from odoo import api, models

SCHEMAS = os.path.join(os.path.dirname(os.path.dirname(__file__)), "schemas")


class LogisticsMessage(models.Model):
    _inherit = "logistics.message"

    @api.model
    def _logistics_schema_folders(self):
        return super()._logistics_schema_folders() + [SCHEMAS]
