from collections import defaultdict

from odoo import _, fields, models
from odoo.tools import float_compare, float_is_zero

from odoo.addons.logistics_integration_base.models.logistics_message import (
    BusinessError,
    NeedsAttention,
)
from odoo.addons.logistics_integration_base.tools.canonical import to_naive_utc


class LogisticsShipment(models.Model):
    """A shipment confirmation applied to a delivery: makes confirmations idempotent (the
    same shipment reported twice, by webhook and by file, changes nothing the second time)."""

    _name = "logistics.shipment"
    _description = "3PL shipment applied to a transfer"
    _order = "id desc"

    backend_id = fields.Many2one("logistics.backend", required=True, ondelete="cascade", index=True)
    picking_id = fields.Many2one("stock.picking", required=True, ondelete="cascade", index=True)
    backorder_id = fields.Many2one("stock.picking", string="Backorder created")
    shipment_ref = fields.Char(required=True, index=True)
    tracking_ref = fields.Char()
    carrier_code = fields.Char()
    shipped_at = fields.Datetime()
    message_id = fields.Many2one("logistics.message", ondelete="set null")
    company_id = fields.Many2one(related="picking_id.company_id", store=True)

    _sql_constraints = [
        (
            "shipment_unique",
            "unique(backend_id, shipment_ref)",
            "This shipment was already applied.",
        ),
    ]


class LogisticsMessage(models.Model):
    _inherit = "logistics.message"

    # lookups ----------------------------------------------------------------------------------
    def _find_order(self, order_ref, codes=("outgoing",), open_only=False):
        """The transfer a 3PL order reference designates, following backorders: the 3PL
        keeps one reference for an order whose remainder moved to a backorder."""
        Picking = self.env["stock.picking"].sudo()
        domain = [
            ("logistics_backend_id", "=", self.backend_id.id),
            ("picking_type_code", "in", list(codes)),
            "|",
            ("logistics_order_ref", "=", order_ref),
            ("name", "=", order_ref),
        ]
        pickings = Picking.search(domain, order="id")
        if not pickings:
            raise BusinessError(
                _(
                    "Unknown order %(ref)s for 3PL %(backend)s: no transfer of its warehouses has "
                    "this reference. Once the order exists in Odoo, press Retry.",
                    ref=order_ref,
                    backend=self.backend_id.name,
                )
            )
        if open_only:
            open_ = pickings.filtered(lambda p: p.state not in ("done", "cancel"))
            return open_[:1]
        return pickings

    # order.ack --------------------------------------------------------------------------------
    def _process_order_ack(self, data):
        pickings = self._find_order(data["order_ref"])
        picking = pickings.filtered(lambda p: p.state not in ("cancel",))[:1] or pickings[:1]
        self._link_record(picking)
        release = picking.logistics_release_message_id
        if data["status"] == "accepted":
            if release and release.state == "sent":
                release.state = "acknowledged"
            vals = {
                "logistics_external_id": data.get("external_order_id")
                or picking.logistics_external_id
            }
            # An ack that arrives after the shipment must not move the order back.
            if picking.logistics_state in ("released", "rejected"):
                vals["logistics_state"] = "accepted"
            picking.with_context(logistics_inbound=True).write(vals)
            return _("%s accepted", picking.name)
        reason = data.get("reason") or _("no reason given")
        picking.with_context(logistics_inbound=True).write(
            {"logistics_state": "rejected", "logistics_reject_reason": reason}
        )
        if release and release.state == "sent":
            release.state = "acknowledged"
        picking.message_post(
            body=_(
                "3PL %(backend)s rejected this order: %(reason)s",
                backend=self.backend_id.name,
                reason=reason,
            )
        )
        raise NeedsAttention(
            _(
                "3PL %(backend)s rejected order %(ref)s: %(reason)s. Fix the delivery, press "
                "'Release to 3PL' on it, then ignore this message.",
                backend=self.backend_id.name,
                ref=data["order_ref"],
                reason=reason,
            )
        )

    # shipment.confirmed -----------------------------------------------------------------------
    def _process_shipment_confirmed(self, data):
        backend = self.backend_id
        Shipment = self.env["logistics.shipment"].sudo()
        done = Shipment.search(
            [("backend_id", "=", backend.id), ("shipment_ref", "=", data["shipment_ref"])], limit=1
        )
        if done:
            self._link_record(done.picking_id)
            return _("shipment %s was already applied: nothing changed", data["shipment_ref"])
        pickings = self._find_order(data["order_ref"])
        picking = pickings.filtered(lambda p: p.state not in ("done", "cancel"))[:1]
        if not picking:
            raise BusinessError(
                _(
                    "Shipment %(ship)s for order %(ref)s cannot be applied: the order has no open "
                    "transfer left (all done or cancelled).",
                    ship=data["shipment_ref"],
                    ref=data["order_ref"],
                )
            )
        self._link_record(picking)
        picking = picking.with_context(logistics_inbound=True)
        if picking.state == "draft":
            picking.action_confirm()
        self._apply_shipped_quantities(picking, data["lines"])
        backorder = self._validate_with_policy(picking, data.get("complete"))
        backorder.with_context(logistics_inbound=True).write(
            {
                "logistics_state": "accepted"
                if picking.logistics_state in ("released", "accepted")
                else picking.logistics_state,
                "logistics_order_ref": picking.logistics_order_ref or picking.name,
                "logistics_external_id": picking.logistics_external_id,
                "logistics_release_message_id": picking.logistics_release_message_id.id,
            }
        )
        picking.write(
            {
                "logistics_state": "shipped",
                "logistics_tracking_ref": data.get("tracking_ref")
                or picking.logistics_tracking_ref,
                "logistics_carrier_code": (data.get("carrier") or {}).get("code")
                or picking.logistics_carrier_code,
            }
        )
        if "carrier_tracking_ref" in picking._fields and data.get("tracking_ref"):
            picking.carrier_tracking_ref = data["tracking_ref"]
        release = picking.logistics_release_message_id
        if release and release.state == "sent":
            release.state = "acknowledged"
        Shipment.create(
            {
                "backend_id": backend.id,
                "picking_id": picking.id,
                "backorder_id": backorder[:1].id,
                "shipment_ref": data["shipment_ref"],
                "tracking_ref": data.get("tracking_ref"),
                "carrier_code": (data.get("carrier") or {}).get("code"),
                "shipped_at": to_naive_utc(data.get("shipped_at")),
                "message_id": self.id,
            }
        )
        if backorder:
            return _(
                "%(name)s shipped in part; backorder %(bo)s",
                name=picking.name,
                bo=backorder[:1].name,
            )
        return _("%s shipped", picking.name)

    def _validate_with_policy(self, picking, complete=None):
        """Validate a transfer whose done quantities are set; what was not done becomes a
        backorder or is cancelled per the backend's policy (always cancelled when the 3PL
        says the order is complete). Returns the backorder created, if any."""
        policy = "cancel" if complete is True else self.backend_id.backorder_policy
        before = picking.backorder_ids
        picking.with_context(
            skip_backorder=True,
            picking_ids_not_to_backorder=picking.ids if policy == "cancel" else [],
            skip_sms=True,
        ).button_validate()
        if picking.state != "done":
            raise BusinessError(_("%s could not be validated.", picking.name))
        return picking.backorder_ids - before

    def _lines_with_products(self, lines, what):
        """``[(line, product, quantity in the product's unit)]`` for partner lines; an
        unknown SKU is a business error naming the line (``what``: "Line", "Return line")."""
        backend = self.backend_id
        products = backend._products_by_sku([line["sku"] for line in lines])
        result = []
        for index, line in enumerate(lines):
            product = products.get(line["sku"])
            if not product:
                raise BusinessError(
                    _(
                        "%(what)s %(n)s: SKU '%(sku)s' matches no product of 3PL %(backend)s.",
                        what=what,
                        n=index + 1,
                        sku=line["sku"],
                        backend=backend.name,
                    )
                )
            result.append((line, product, backend._to_odoo_qty(product, line["quantity"])))
        return result

    def _apply_shipped_quantities(self, picking, lines):
        """Set each move's done quantity (and lots) from the shipment lines. Lines match a
        move by line_ref when given, else by SKU (quantities spread over its moves)."""
        backend = self.backend_id
        moves = picking.move_ids.filtered(lambda m: m.state not in ("done", "cancel"))
        shipped = defaultdict(float)  # move -> qty in move uom
        lots = defaultdict(list)  # move -> [(lot name, qty in product uom)]
        for index, (line, product, qty) in enumerate(self._lines_with_products(lines, _("Line"))):
            candidates = moves.filtered(lambda m, p=product: m.product_id == p)
            if line.get("line_ref"):
                by_ref = candidates.filtered(lambda m, r=line["line_ref"]: str(m.id) == r)
                candidates = by_ref or candidates
            if not candidates:
                raise BusinessError(
                    _(
                        "Line %(n)s: %(product)s is not on %(picking)s.",
                        n=index + 1,
                        product=product.display_name,
                        picking=picking.name,
                    )
                )
            remaining = qty
            for move in candidates:
                room = (
                    move.product_uom._compute_quantity(
                        move.product_uom_qty, product.uom_id, round=False
                    )
                    - shipped[move]
                )
                take = remaining if move == candidates[-1] else min(remaining, max(room, 0))
                if float_is_zero(take, precision_rounding=product.uom_id.rounding):
                    continue
                shipped[move] += take
                remaining -= take
            for lot in line.get("lots") or []:
                lot_qty = backend._to_odoo_qty(product, lot["quantity"])
                lots[candidates[0]].append((lot["lot"], lot_qty))
        for move in moves:
            qty = shipped.get(move, 0.0)
            move_lots = lots.get(move)
            if move_lots or move.has_tracking != "none":
                self._set_move_lots(move, qty, move_lots or [])
            else:
                move.quantity = move.product_id.uom_id._compute_quantity(qty, move.product_uom)
            move.picked = True
        over = [
            m
            for m in moves
            if float_compare(
                shipped.get(m, 0.0),
                m.product_uom._compute_quantity(
                    m.product_uom_qty, m.product_id.uom_id, round=False
                ),
                precision_rounding=m.product_id.uom_id.rounding,
            )
            > 0
        ]
        for move in over:
            picking.message_post(
                body=_(
                    "3PL shipped more %(product)s than ordered.",
                    product=move.product_id.display_name,
                )
            )

    def _set_move_lots(self, move, qty, move_lots):
        if move.has_tracking != "none" and qty and not move_lots:
            raise BusinessError(
                _(
                    "%(product)s is tracked by lot/serial, but the 3PL reported no lot for it.",
                    product=move.product_id.display_name,
                )
            )
        Lot = self.env["stock.lot"].sudo()
        move.move_line_ids.unlink()
        vals = []
        for name, lot_qty in move_lots:
            lot = Lot.search(
                [
                    ("product_id", "=", move.product_id.id),
                    ("name", "=", name),
                    "|",
                    ("company_id", "=", False),
                    ("company_id", "=", move.company_id.id),
                ],
                limit=1,
            )
            if not lot:
                lot = Lot.create(
                    {
                        "product_id": move.product_id.id,
                        "name": name,
                        "company_id": move.company_id.id,
                    }
                )
            vals.append(
                {
                    "move_id": move.id,
                    "picking_id": move.picking_id.id,
                    "product_id": move.product_id.id,
                    "product_uom_id": move.product_id.uom_id.id,
                    "location_id": move.location_id.id,
                    "location_dest_id": move.location_dest_id.id,
                    "lot_id": lot.id,
                    "quantity": lot_qty,
                    "picked": True,
                }
            )
        self.env["stock.move.line"].create(vals)

    # shipment.status -----------------------------------------------------------------------
    def _process_shipment_status(self, data):
        pickings = self._find_order(data["order_ref"])
        picking = pickings.filtered(lambda p: p.state == "done")[-1:] or pickings[-1:]
        self._link_record(picking)
        picking.with_context(logistics_inbound=True).logistics_shipment_status = data["status"]
        text = _("3PL shipment status: %(status)s", status=data["status"])
        if data.get("reason"):
            text += f" ({data['reason']})"
        picking.message_post(body=text)
        if data["status"] in ("exception", "on_hold"):
            picking.activity_schedule(
                "mail.mail_activity_data_todo",
                summary=_(
                    "3PL reports %(status)s for %(ref)s",
                    status=data["status"],
                    ref=data["order_ref"],
                ),
                note=data.get("reason") or "",
                user_id=picking.user_id.id or self.env.ref("base.user_admin").id,
            )
        return text
