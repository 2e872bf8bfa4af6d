from odoo import fields, models


class LogisticsMessage(models.Model):
    _inherit = "logistics.message"

    x12_control_number = fields.Integer(
        string="X12 control number",
        readonly=True,
        copy=False,
        index="btree_not_null",
        help="Outbound X12: interchange/group control number of the last file written, "
        "matched against the 997 the 3PL sends back.",
    )

    def _on_sent(self, result):
        res = super()._on_sent(result)
        response = result.response if isinstance(result.response, dict) else {}
        if response.get("control_number") and self.backend_id.file_format == "x12":
            self.sudo().x12_control_number = response["control_number"]
        if self.res_model == "stock.picking" and self.res_id:
            picking = self.env["stock.picking"].browse(self.res_id).exists()
            if picking:
                picking._logistics_on_sent(self, result)
        return res

    def _logistics_last_order_payload(self):
        """The order as last sent for the record this message is about (a 940 cancellation
        repeats it); None when it was never sent."""
        self.ensure_one()
        Message = self.env["logistics.message"].sudo()
        domain = [
            ("backend_id", "=", self.backend_id.id),
            ("direction", "=", "out"),
            ("message_type", "in", ("order.release", "order.update")),
            ("state", "in", ("sent", "acknowledged")),
        ]
        previous = Message.browse()
        if self.res_model and self.res_id:
            previous = Message.search(
                domain + [("res_model", "=", self.res_model), ("res_id", "=", self.res_id)],
                order="id desc",
                limit=1,
            )
        if not previous and self.res_model == "stock.picking" and self.res_id:
            # a backorder keeps the order reference of the transfer that was released
            picking = self.env["stock.picking"].sudo().browse(self.res_id).exists()
            ref = picking.logistics_order_ref if picking else None
            if ref:
                same_order = (
                    self.env["stock.picking"]
                    .sudo()
                    .with_context(active_test=False)
                    .search([("logistics_order_ref", "=", ref)])
                )
                previous = Message.search(
                    domain
                    + [("res_model", "=", "stock.picking"), ("res_id", "in", same_order.ids)],
                    order="id desc",
                    limit=1,
                )
        return previous._get_payload() if previous else None
