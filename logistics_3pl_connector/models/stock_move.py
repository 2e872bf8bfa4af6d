from odoo import models


class StockMove(models.Model):
    _inherit = "stock.move"

    def _action_confirm(self, merge=True, merge_into=False):
        moves = super()._action_confirm(merge=merge, merge_into=merge_into)
        moves.picking_id._logistics_release_ready()
        return moves

    def _action_assign(self, force_qty=False):
        result = super()._action_assign(force_qty=force_qty)
        self.picking_id._logistics_release_ready()
        return result

    def write(self, vals):
        result = super().write(vals)
        if "product_uom_qty" in vals and not self.env.context.get("logistics_inbound"):
            self.picking_id._logistics_send_update()
        return result
