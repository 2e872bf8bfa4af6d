import json
import os

from odoo import _, api, fields, models
from odoo.exceptions import UserError

from odoo.addons.logistics_integration_base.models.logistics_message import BusinessError

SCHEMAS = os.path.join(os.path.dirname(os.path.dirname(__file__)), "schemas")


class LogisticsBackend(models.Model):
    _inherit = "logistics.backend"

    provider = fields.Selection(
        selection_add=[("shipbob", "ShipBob-style REST API")],
        ondelete={"shipbob": "set default"},
    )
    warehouse_ids = fields.One2many("stock.warehouse", "logistics_backend_id", string="Warehouses")
    release_trigger = fields.Selection(
        [
            ("confirmed", "When the delivery is confirmed"),
            ("assigned", "When the delivery is reserved (ready)"),
        ],
        default="assigned",
        help="When an outgoing transfer of a 3PL warehouse is released to the 3PL.",
    )
    accepts_updates = fields.Boolean(
        string="Accepts order updates",
        default=True,
        help="If not, changing a released delivery is refused with a clear message.",
    )
    backorder_policy = fields.Selection(
        [("backorder", "Create a backorder"), ("cancel", "Cancel the remainder")],
        default="backorder",
        required=True,
        help="What a partial shipment confirmation does with the quantities not shipped.",
    )
    send_asn = fields.Boolean(
        string="Send ASNs", help="Send incoming transfers of 3PL warehouses as asn.release"
    )
    inventory_tolerance_qty = fields.Float(
        string="Auto-apply tolerance (units)",
        default=0.0,
        help="Stock differences up to this many units are applied automatically; larger ones "
        "wait for approval.",
    )
    inventory_tolerance_percent = fields.Float(
        string="Auto-apply tolerance (%)",
        default=0.0,
        help="...or up to this percentage of Odoo's quantity.",
    )
    inventory_poll = fields.Boolean(
        string="Poll inventory", help="Pull an inventory snapshot on schedule (3PLs without push)"
    )
    product_mapping_ids = fields.One2many("logistics.product.mapping", "backend_id")

    # product codes --------------------------------------------------------------------------
    def _partner_sku(self, product):
        """The code sent to the partner: its own SKU when mapped, else the default code."""
        self.ensure_one()
        mapping = self.product_mapping_ids.filtered(lambda m: m.product_id == product)[:1]
        if mapping:
            return mapping.partner_sku
        if not product.default_code:
            raise UserError(
                _(
                    "Product %(product)s has no internal reference, so it cannot be sent to "
                    "3PL %(backend)s: set its internal reference or a product mapping.",
                    product=product.display_name,
                    backend=self.name,
                )
            )
        return product.default_code

    def _partner_uom(self, product):
        self.ensure_one()
        mapping = self.product_mapping_ids.filtered(lambda m: m.product_id == product)[:1]
        return mapping.partner_uom_id or product.uom_id

    def _products_by_sku(self, skus):
        """Map partner SKUs to products (mapping first, then default code), in one query each."""
        self.ensure_one()
        skus = set(skus)
        result = {}
        mappings = self.env["logistics.product.mapping"].search(
            [("backend_id", "=", self.id), ("partner_sku", "in", list(skus))]
        )
        for mapping in mappings:
            result[mapping.partner_sku] = mapping.product_id
        rest = skus - set(result)
        if rest:
            domain = [("default_code", "in", list(rest))]
            if self.company_id:
                domain += ["|", ("company_id", "=", False), ("company_id", "=", self.company_id.id)]
            for product in (
                self.env["product.product"].with_context(active_test=False).search(domain)
            ):
                result.setdefault(product.default_code, product)
        return result

    def _product_by_sku(self, sku):
        product = self._products_by_sku([sku]).get(sku)
        if not product:
            raise BusinessError(
                _(
                    "3PL %(backend)s reported SKU '%(sku)s', which matches no product: set it as "
                    "a product's internal reference or add a product mapping, then retry.",
                    backend=self.name,
                    sku=sku,
                )
            )
        return product

    def _to_odoo_qty(self, product, quantity, uom_code=None):
        """A partner quantity in the product's unit (the partner counts in its mapped unit)."""
        partner_uom = self._partner_uom(product)
        if partner_uom == product.uom_id:
            return quantity
        return partner_uom._compute_quantity(quantity, product.uom_id, round=False)

    def _uom_code(self, uom):
        return {"Units": "EA", "Dozens": "DZ", "kg": "KG", "g": "GR", "L": "LT", "m": "MR"}.get(
            uom.name, uom.name
        )

    # warehouses -------------------------------------------------------------------------------
    @api.model
    def _for_picking_type(self, picking_type):
        return picking_type.logistics_backend_id or picking_type.warehouse_id.logistics_backend_id

    def _warehouse_for_code(self, code):
        self.ensure_one()
        warehouse = self.warehouse_ids.filtered(lambda w: w.code == code)[:1]
        if not warehouse:
            raise BusinessError(
                _(
                    "3PL %(backend)s reported warehouse '%(code)s', which is not one of the "
                    "warehouses mapped to it (%(mapped)s).",
                    backend=self.name,
                    code=code,
                    mapped=", ".join(self.warehouse_ids.mapped("code")) or _("none"),
                )
            )
        return warehouse

    def action_view_awaiting_ack(self):
        return self._action_messages(
            [
                ("message_type", "=", "order.release"),
                ("state", "=", "sent"),
                ("ack_expected", "=", True),
            ],
            _("Awaiting acknowledgement"),
        )

    @api.model
    def _demo_stock_3pl_warehouse(self, warehouse_ids):
        """Demo data: stock the demo 3PL warehouse with the demo products."""
        warehouse = self.env["stock.warehouse"].browse(warehouse_ids)
        for xmlid, qty in (
            ("demo_product_chair", 500),
            ("demo_product_desk", 200),
            ("demo_product_lamp", 1000),
        ):
            product = self.env.ref(f"logistics_3pl_connector.{xmlid}")
            self.env["stock.quant"]._update_available_quantity(product, warehouse.lot_stock_id, qty)

    @api.model
    def _cron_poll_shipped(self):
        """For backends whose adapter can list shipped orders: store each shipment of a
        released, not yet shipped delivery as an inbound shipment.confirmed message (its
        processing is idempotent per shipment, so a shipment also received by webhook is
        applied once)."""
        total = 0
        for backend in self.search([("kind", "=", "3pl")]):
            adapter = backend._get_adapter()
            if not hasattr(adapter, "poll_shipped"):
                continue
            pickings = self.env["stock.picking"].search(
                [
                    ("logistics_backend_id", "=", backend.id),
                    ("picking_type_code", "=", "outgoing"),
                    ("logistics_state", "in", ("released", "accepted")),
                    ("state", "not in", ("done", "cancel")),
                ]
            )
            refs = sorted(set(pickings.mapped(lambda p: p.logistics_order_ref or p.name)))
            if not refs:
                continue
            try:
                shipments = adapter.poll_shipped(refs)
            except Exception as exc:
                backend.message_post(body=_("Polling for shipped orders failed: %s", exc))
                continue
            total += backend._store_polled("shipment.confirmed", shipments, "shipment_ref")
        return total

    def _store_polled(self, message_type, items, ref_field):
        """Store polled canonical items as inbound messages (once per reference), queued;
        returns how many were new."""
        self.ensure_one()
        created = 0
        for data in items:
            _message, new = self._store_polled_message(
                message_type,
                data[ref_field],
                payload=json.dumps(data, indent=2, sort_keys=True),
                subject=data.get("order_ref"),
            )
            created += new
        return created

    def _store_polled_message(self, message_type, ref, **vals):
        """The inbound message of a polled item, stored once under the key ``poll:<ref>``
        and queued for processing; returns ``(message, created)``."""
        self.ensure_one()
        Message = self.env["logistics.message"].sudo()
        key = f"poll:{ref}"
        existing = Message.search(
            [("backend_id", "=", self.id), ("direction", "=", "in"), ("idempotency_key", "=", key)],
            limit=1,
        )
        if existing:
            return existing, False
        message = Message.create(
            {
                "backend_id": self.id,
                "direction": "in",
                "message_type": message_type,
                "idempotency_key": key,
                "state": "received",
                **vals,
            }
        )
        message._enqueue()
        return message, True
