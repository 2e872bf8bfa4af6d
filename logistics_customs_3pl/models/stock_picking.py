from odoo import models


class StockPicking(models.Model):
    _inherit = "stock.picking"

    def _logistics_releasable(self, from_states=("none",)):
        """Goods under a customs declaration are released to the 3PL once customs released
        them (or a customs manager overrode): until then the 3PL must not ship them. A
        delivery queued before its declaration existed goes back to "Not released" when the
        release job finds it blocked, and is queued again by the release."""
        ready = super()._logistics_releasable(from_states)
        return ready.filtered(lambda p: not p.sudo()._logistics_customs_blocking())
