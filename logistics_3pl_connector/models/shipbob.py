"""Backend behaviour specific to the ``shipbob`` provider (adapter in ``adapters/shipbob.py``)."""

from odoo import api, models


class LogisticsBackend(models.Model):
    _inherit = "logistics.backend"

    @api.model_create_multi
    def create(self, vals_list):
        # ShipBob has no order update: unless told otherwise, changing a released delivery
        # is refused in Odoo with a clear message instead of failing later at ShipBob.
        for vals in vals_list:
            if vals.get("provider") == "shipbob":
                vals.setdefault("accepts_updates", False)
        return super().create(vals_list)

    @api.onchange("provider")
    def _onchange_provider_shipbob(self):
        if self.provider == "shipbob":
            self.accepts_updates = False

    def _store_polled(self, message_type, items, ref_field):
        """Polled shipments already applied (by webhook, file or an earlier poll) are not
        stored again: the poll then leaves no trace for them. The shipment processor is
        idempotent on ``shipment_ref`` anyway, for a webhook that is stored but not yet
        processed when the poll runs."""
        if message_type == "shipment.confirmed" and items:
            applied = set(
                self.env["logistics.shipment"]
                .sudo()
                .search(
                    [
                        ("backend_id", "=", self.id),
                        ("shipment_ref", "in", [item[ref_field] for item in items]),
                    ]
                )
                .mapped("shipment_ref")
            )
            items = [item for item in items if item[ref_field] not in applied]
        return super()._store_polled(message_type, items, ref_field)
