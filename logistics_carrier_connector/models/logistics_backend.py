from odoo import fields, models


class LogisticsBackend(models.Model):
    _inherit = "logistics.backend"

    provider = fields.Selection(
        selection_add=[("easypost", "EasyPost (REST)")],
        ondelete={"easypost": "set default"},
    )
    carrier_label_format = fields.Selection(
        [("PDF", "PDF"), ("ZPL", "ZPL (thermal printers)")],
        string="Label format",
        default="PDF",
        help="Format of the shipping labels the carrier returns, one per package.",
    )
    carrier_parcel_ids = fields.One2many(
        "logistics.carrier.parcel", "backend_id", string="Booked parcels"
    )
    carrier_parcel_count = fields.Integer(
        compute="_compute_carrier_parcel_count", string="Number of booked parcels"
    )

    def _compute_carrier_parcel_count(self):
        counts = {
            backend.id: count
            for backend, count in self.env["logistics.carrier.parcel"]._read_group(
                [("backend_id", "in", self.ids)], ["backend_id"], ["__count"]
            )
        }
        for backend in self:
            backend.carrier_parcel_count = counts.get(backend.id, 0)

    def action_view_carrier_parcels(self):
        self.ensure_one()
        action = self.env["ir.actions.act_window"]._for_xml_id(
            "logistics_carrier_connector.action_logistics_carrier_parcel"
        )
        action["domain"] = [("backend_id", "=", self.id)]
        return action
