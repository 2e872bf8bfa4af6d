"""``return.received``: goods the 3PL received back, against the original delivery (and its
backorders) through Odoo's own return wizard, so the return picking is linked to the
delivery and valued like any return. Dispositions:

- ``restock``: back into the warehouse stock;
- ``damaged`` and ``scrap``: returned, then scrapped (``stock.scrap``, the 3PL's reason in
  the scrap's origin) so they leave the sellable stock with a trace;
- ``quarantine``: returned, then moved to the warehouse's *Quarantine* location (created
  on first use, not sellable), waiting for a decision.

A return is applied once per (backend, return reference). What a done delivery move can
still take back is the quantity the 3PL *shipped*, less earlier returns
(:meth:`_returnable_qty`); a returned lot must be one the order delivered, in at most the
quantity delivered (:meth:`_check_returned_lots`), otherwise nothing is created.
"""

from collections import defaultdict

from odoo.tools import float_compare

from odoo.addons.logistics_integration_base.exceptions import BusinessError
from odoo.addons.logistics_integration_base.handlers import register_handler

from .common import ThreePLHandler


@register_handler("return.received")
class ReturnReceivedHandler(ThreePLHandler):
    def process(self, data, record):
        backend = self.backend
        Picking = self.env["stock.picking"].sudo().with_context(logistics_inbound=True)
        done = Picking.search(
            [
                ("logistics_backend_id", "=", backend.id),
                ("logistics_return_ref", "=", data["return_ref"]),
            ],
            limit=1,
        )
        if done:
            self.link(done)
            return self.env._("return %s was already applied: nothing changed", data["return_ref"])
        deliveries = self._find_order(data["order_ref"]).filtered(lambda p: p.state == "done")
        if not deliveries:
            raise BusinessError(
                self.env._(
                    "Return %(ret)s is for order %(ref)s, which has not been shipped: nothing "
                    "can come back yet.",
                    ret=data["return_ref"],
                    ref=data["order_ref"],
                )
            )
        wanted = defaultdict(float)  # product -> qty to return (product uom)
        by_disposition = []  # (product, qty, disposition, lots, reason)
        for line, product, qty in self._lines_with_products(
            data["lines"], self.env._("Return line")
        ):
            wanted[product] += qty
            by_disposition.append(
                (product, qty, line["disposition"], line.get("lots") or [], line.get("reason"))
            )
        self._check_returned_lots(deliveries, by_disposition, data["return_ref"])
        returns = self.env["stock.picking"]
        for delivery in deliveries.with_context(logistics_inbound=True):
            allocation = self._allocate_return(delivery, wanted)
            if not allocation:
                continue
            wizard = (
                self.env["stock.return.picking"]
                .with_context(
                    active_id=delivery.id, active_model="stock.picking", logistics_inbound=True
                )
                .create({"picking_id": delivery.id})
            )
            for line in wizard.product_return_moves:
                line.quantity = allocation.get(line.move_id, 0.0)
            returns |= wizard._create_return()
        missing = {
            p: q
            for p, q in wanted.items()
            if float_compare(q, 0, precision_rounding=p.uom_id.rounding) > 0
        }
        if missing:
            # not inside the sentence's _() call: Odoo's exporter would not see it
            items = ", ".join(
                self.env._("%(product)s (%(qty)g too many)", product=p.display_name, qty=q)
                for p, q in missing.items()
            )
            raise BusinessError(
                self.env._(
                    "Return %(ret)s reports more than was delivered on %(ref)s: %(items)s.",
                    ret=data["return_ref"],
                    ref=data["order_ref"],
                    items=items,
                )
            )
        lots = defaultdict(list)
        for product, _qty, _disp, line_lots, _reason in by_disposition:
            for lot in line_lots:
                lots[product].append((lot["lot"], backend._to_odoo_qty(product, lot["quantity"])))
        for picking in returns:
            for move in picking.move_ids:
                move_lots = lots.get(move.product_id)
                if move_lots or move.has_tracking != "none":
                    self._set_move_lots(
                        move,
                        move.product_uom_qty,
                        self._take_lots(move_lots or [], move.product_uom_qty),
                    )
                else:
                    move.quantity = move.product_uom_qty
                move.picked = True
            picking.with_context(
                skip_backorder=True, picking_ids_not_to_backorder=picking.ids, skip_sms=True
            ).button_validate()
            picking.write(
                {
                    "logistics_state": "received",
                    "logistics_return_ref": data["return_ref"],
                }
            )
        self.link(returns[:1])
        self._apply_dispositions(returns, by_disposition, data["return_ref"])
        return self.env._(
            "return %(ret)s received on %(names)s",
            ret=data["return_ref"],
            names=", ".join(returns.mapped("name")),
        )

    def _allocate_return(self, delivery, wanted):
        """Quantities to return per done move of one delivery, consuming ``wanted``, in the
        product's unit as the return wizard's lines are. What a move can take back is what
        it shipped less earlier returns (:meth:`_returnable_qty`)."""
        allocation = {}
        for move in delivery.move_ids.filtered(lambda m: m.state == "done"):
            rounding = move.product_id.uom_id.rounding
            need = wanted.get(move.product_id, 0.0)
            if float_compare(need, 0, precision_rounding=rounding) <= 0:
                continue
            take = min(need, self._returnable_qty(move))
            if float_compare(take, 0, precision_rounding=rounding) > 0:
                allocation[move] = take
                wanted[move.product_id] -= take
        return allocation

    @staticmethod
    def _take_lots(lots, qty):
        taken = []
        while lots and qty > 0:
            name, lot_qty = lots[0]
            take = min(lot_qty, qty)
            taken.append((name, take))
            qty -= take
            if take >= lot_qty:
                lots.pop(0)
            else:
                lots[0] = (name, lot_qty - take)
        return taken

    def _quarantine_location(self, warehouse):
        Location = self.env["stock.location"].sudo()
        location = Location.search(
            [("location_id", "=", warehouse.view_location_id.id), ("name", "=", "Quarantine")],
            limit=1,
        )
        return location or Location.create(
            {
                "name": "Quarantine",
                "usage": "internal",
                "location_id": warehouse.view_location_id.id,
                "company_id": warehouse.company_id.id,
            }
        )

    def _apply_dispositions(self, returns, lines, return_ref):
        location = returns[:1].location_dest_id
        warehouse = returns[:1].picking_type_id.warehouse_id
        for product, qty, disposition, line_lots, reason in lines:
            if disposition == "restock":
                continue
            chunks = [
                (name, q)
                for name, q in (
                    (lot["lot"], self.backend._to_odoo_qty(product, lot["quantity"]))
                    for lot in line_lots
                )
            ] or [(None, qty)]
            for lot_name, chunk in chunks:
                lot = (
                    self.env["stock.lot"]
                    .sudo()
                    .search([("product_id", "=", product.id), ("name", "=", lot_name)], limit=1)
                    if lot_name
                    else self.env["stock.lot"]
                )
                if disposition in ("damaged", "scrap"):
                    scrap = (
                        self.env["stock.scrap"]
                        .sudo()
                        .create(
                            {
                                "product_id": product.id,
                                "scrap_qty": chunk,
                                "product_uom_id": product.uom_id.id,
                                "location_id": location.id,
                                "lot_id": lot.id or False,
                                "origin": self.env._(
                                    "3PL return %(ref)s: %(why)s",
                                    ref=return_ref,
                                    why=reason or disposition,
                                ),
                            }
                        )
                    )
                    scrap.action_validate()
                elif disposition == "quarantine":
                    dest = self._quarantine_location(warehouse)
                    move = (
                        self.env["stock.move"]
                        .sudo()
                        .create(
                            {
                                "name": self.env._("Quarantine after 3PL return %s", return_ref),
                                "product_id": product.id,
                                "product_uom": product.uom_id.id,
                                "product_uom_qty": chunk,
                                "location_id": location.id,
                                "location_dest_id": dest.id,
                                "origin": return_ref,
                            }
                        )
                    )
                    move._action_confirm()
                    move._action_assign()
                    if lot:
                        move.move_line_ids.unlink()
                        self.env["stock.move.line"].create(
                            {
                                "move_id": move.id,
                                "product_id": product.id,
                                "lot_id": lot.id,
                                "product_uom_id": product.uom_id.id,
                                "quantity": chunk,
                                "location_id": location.id,
                                "location_dest_id": dest.id,
                            }
                        )
                    else:
                        move.quantity = chunk
                    move.picked = True
                    move._action_done()

    def _returnable_qty(self, move):
        """Quantity (in the product's unit) a done delivery move can still take back."""
        uom = move.product_id.uom_id
        shipped = move.product_uom._compute_quantity(move.quantity, uom, round=False)
        returned = sum(
            back.product_uom._compute_quantity(
                back.quantity if back.state == "done" else back.product_uom_qty, uom, round=False
            )
            for back in move.returned_move_ids.filtered(lambda m: m.state != "cancel")
        )
        return shipped - returned

    def _check_returned_lots(self, deliveries, lines, return_ref):
        """Refuse lots the order did not deliver, or more of a lot than it delivered.

        ``lines``: ``[(product, qty, disposition, lots, reason)]`` as the return processor
        builds them (``qty`` in the product's unit, ``lots`` as the 3PL sent them)."""
        backend = self.backend
        reported = defaultdict(float)  # (product, lot name) -> qty (product uom)
        for index, (product, qty, _disposition, lots, _reason) in enumerate(lines):
            if not lots:
                continue
            rounding = product.uom_id.rounding
            total = 0.0
            for lot in lots:
                lot_qty = backend._to_odoo_qty(product, lot["quantity"])
                reported[product, lot["lot"]] += lot_qty
                total += lot_qty
            if float_compare(total, qty, precision_rounding=rounding):
                raise BusinessError(
                    self.env._(
                        "Return %(ret)s, line %(n)s (%(product)s): its lots add up to %(lots)s "
                        "but the line says %(qty)s. Ask the 3PL to correct the return.",
                        ret=return_ref,
                        n=index + 1,
                        product=product.display_name,
                        lots="%g" % total,
                        qty="%g" % qty,
                    )
                )
        if not reported:
            return
        left = defaultdict(float)  # (product, lot name) -> qty delivered, not yet returned
        moves = deliveries.move_ids.filtered(lambda m: m.state == "done")
        for line in moves.move_line_ids.filtered("lot_id"):
            left[line.product_id, line.lot_id.name] += line.quantity_product_uom
        backs = moves.returned_move_ids.filtered(lambda m: m.state == "done")
        for line in backs.move_line_ids.filtered("lot_id"):
            left[line.product_id, line.lot_id.name] -= line.quantity_product_uom
        for (product, name), qty in reported.items():
            available = left.get((product, name), 0.0)
            if float_compare(qty, available, precision_rounding=product.uom_id.rounding) <= 0:
                continue
            delivered = sorted(
                lot for (p, lot), q in left.items() if p == product and q > 0 and lot
            )
            if (product, name) not in left:
                reason = self.env._("lot %(lot)s was not delivered on this order", lot=name)
            else:
                reason = self.env._(
                    "%(qty)s of lot %(lot)s reported, only %(left)s delivered and not returned",
                    qty="%g" % qty,
                    lot=name,
                    left="%g" % available,
                )
            raise BusinessError(
                self.env._(
                    "Return %(ret)s of %(product)s: %(reason)s (lots delivered: %(lots)s). "
                    "Check the lot with the 3PL; fix the payload and retry, or ignore this "
                    "message.",
                    ret=return_ref,
                    product=product.display_name,
                    reason=reason,
                    lots=", ".join(delivered) or self.env._("none"),
                )
            )
