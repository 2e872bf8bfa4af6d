"""What the 3PL handlers share: finding the transfer an order reference designates, reading
partner lines, applying shipped or received quantities and validating with the backend's
backorder policy."""

from collections import defaultdict

from odoo.tools import float_compare, float_is_zero

from odoo.addons.logistics_integration_base.exceptions import BusinessError
from odoo.addons.logistics_integration_base.handlers import MessageHandler


class ThreePLHandler(MessageHandler):
    """Base of the 3PL connector's handlers."""

    out_of_order = "fail"

    def _search_order(self, order_ref, codes=("outgoing",)):
        """The transfers a 3PL order reference designates, following backorders: the 3PL
        keeps one reference for an order whose remainder moved to a backorder."""
        return (
            self.env["stock.picking"]
            .sudo()
            .search(
                [
                    ("logistics_backend_id", "=", self.backend.id),
                    ("picking_type_code", "in", list(codes)),
                    "|",
                    ("logistics_order_ref", "=", order_ref),
                    ("name", "=", order_ref),
                ],
                order="id",
            )
        )

    def _unknown_order(self, order_ref):
        return self.env._(
            "Unknown order %(ref)s for 3PL %(backend)s: no transfer of its warehouses has "
            "this reference. Once the order exists in Odoo, press Retry.",
            ref=order_ref,
            backend=self.backend.name,
        )

    def _find_order(self, order_ref, codes=("outgoing",), open_only=False):
        """:meth:`_search_order`, raising a business error for an unknown reference."""
        pickings = self._search_order(order_ref, codes)
        if not pickings:
            raise BusinessError(self._unknown_order(order_ref))
        if open_only:
            open_ = pickings.filtered(lambda p: p.state not in ("done", "cancel"))
            return open_[:1]
        return pickings

    def _validate_with_policy(self, picking, complete=None):
        """Validate a transfer whose done quantities are set; what was not done becomes a
        backorder or is cancelled per the backend's policy (always cancelled when the 3PL
        says the order is complete). Returns the backorder created, if any."""
        policy = "cancel" if complete is True else self.backend.backorder_policy
        before = picking.backorder_ids
        picking.with_context(
            skip_backorder=True,
            picking_ids_not_to_backorder=picking.ids if policy == "cancel" else [],
            skip_sms=True,
        ).button_validate()
        if picking.state != "done":
            raise BusinessError(self.env._("%s could not be validated.", picking.name))
        return picking.backorder_ids - before

    def _apply_and_validate(self, picking, data):
        """Apply a confirmation's lines (``data``: shipment or receipt) to the open transfer
        ``picking``, linked to the message, and validate it with the backorder policy. Returns
        the transfer (in the inbound context) and the backorder created, if any."""
        self.link(picking)
        picking = picking.with_context(logistics_inbound=True)
        if picking.state == "draft":
            picking.action_confirm()
        self._apply_shipped_quantities(picking, data["lines"])
        return picking, self._validate_with_policy(picking, data.get("complete"))

    def _lines_with_products(self, lines, what):
        """``[(line, product, quantity in the product's unit)]`` for partner lines; an
        unknown SKU is a business error naming the line (``what``: "Line", "Return line")."""
        backend = self.backend
        products = backend._products_by_sku([line["sku"] for line in lines])
        result = []
        for index, line in enumerate(lines):
            product = products.get(line["sku"])
            if not product:
                raise BusinessError(
                    self.env._(
                        "%(what)s %(n)s: SKU '%(sku)s' matches no product of 3PL %(backend)s.",
                        what=what,
                        n=index + 1,
                        sku=line["sku"],
                        backend=backend.name,
                    )
                )
            result.append((line, product, self._line_qty(product, line, line["quantity"], index)))
        return result

    def _line_qty(self, product, line, quantity, index):
        """A quantity of partner line ``index`` in the product's unit, in the unit the line
        names (:meth:`logistics.backend._to_odoo_qty`); an unknown unit names the line."""
        try:
            return self.backend._to_odoo_qty(
                product, quantity, line.get("uom"), cache=self._unit_cache
            )
        except BusinessError as err:
            raise BusinessError(
                self.env._("Line %(n)s: %(reason)s", n=index + 1, reason=err)
            ) from None

    @property
    def _unit_cache(self):
        return self.__dict__.setdefault("_units", {})

    def _apply_shipped_quantities(self, picking, lines):
        """Set each move's done quantity (and lots) from the shipment lines. Lines match a
        move by line_ref when given, else by SKU (quantities spread over its moves)."""
        moves = picking.move_ids.filtered(lambda m: m.state not in ("done", "cancel"))
        shipped = defaultdict(float)  # move -> qty in move uom
        lots = defaultdict(list)  # move -> [(lot name, qty in product uom)]
        untracked = []  # [(product, lot name, qty)]: lots of products without lot tracking
        for index, (line, product, qty) in enumerate(
            self._lines_with_products(lines, self.env._("Line"))
        ):
            candidates = moves.filtered(lambda m, p=product: m.product_id == p)
            if line.get("line_ref"):
                by_ref = candidates.filtered(lambda m, r=line["line_ref"]: str(m.id) == r)
                candidates = by_ref or candidates
            if not candidates:
                raise BusinessError(
                    self.env._(
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
            line_lots = []
            for lot in line.get("lots") or []:
                lot_qty = self._line_qty(product, line, lot["quantity"], index)
                if product.tracking == "none":
                    untracked.append((product, lot["lot"], lot_qty))
                    continue
                line_lots.append((lot["lot"], lot_qty))
            if line_lots:
                self._check_lots_count_the_line(product, qty, line_lots, index)
                lots[candidates[0]] += line_lots
        for move in moves:
            qty = shipped.get(move, 0.0)
            move_lots = lots.get(move)
            if move_lots or move.has_tracking != "none":
                self._set_move_lots(move, qty, move_lots or [])
            else:
                move.quantity = move.product_id.uom_id._compute_quantity(qty, move.product_uom)
            move.picked = True
        if untracked:
            # Lots of products Odoo does not track by lot: booked without them (no lot is
            # created on such a product), and reported; the partner's message keeps them.
            picking.message_post(
                body=self.env._(
                    "The 3PL reported lots for products not tracked by lot; the quantities "
                    "were booked without lots: %(lots)s. Turn on lot tracking for these "
                    "products if their lots must be followed.",
                    lots=", ".join(
                        "%s %s (%g %s)" % (product.display_name, name, qty, product.uom_id.name)
                        for product, name, qty in untracked
                    ),
                )
            )
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
                body=self.env._(
                    "3PL shipped more %(product)s than ordered.",
                    product=move.product_id.display_name,
                )
            )

    def _check_lots_count_the_line(self, product, qty, line_lots, index):
        """The lots of a line are the goods it ships: lots counting more or less than the
        line would book other quantities than the 3PL shipped."""
        counted = sum(lot_qty for _name, lot_qty in line_lots)
        if float_compare(counted, qty, precision_rounding=product.uom_id.rounding):
            raise BusinessError(
                self.env._(
                    "Line %(n)s: 3PL %(backend)s ships %(qty)g %(uom)s of %(product)s but its "
                    "lots count %(counted)g (%(lots)s). Ask the 3PL to send the confirmation "
                    "corrected, or correct its payload (Edit payload and retry).",
                    n=index + 1,
                    backend=self.backend.name,
                    qty=qty,
                    uom=product.uom_id.name,
                    product=product.display_name,
                    counted=counted,
                    lots=", ".join("%s %g" % (name, lot_qty) for name, lot_qty in line_lots),
                )
            )

    def _set_move_lots(self, move, qty, move_lots):
        if move.has_tracking != "none" and qty and not move_lots:
            raise BusinessError(
                self.env._(
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


class OrderHandler(ThreePLHandler):
    """A handler of messages about one order, named by ``data[ref_key]``: its transfers
    are the message's record, found before :meth:`process` runs; an unknown reference
    fails (``out_of_order = "fail"``) in business words, for Retry once the order exists."""

    ref_key = "order_ref"
    codes = ("outgoing",)

    def find_record(self, data):
        return self._search_order(data[self.ref_key], self.codes)

    def missing_reason(self, data):
        return self._unknown_order(data[self.ref_key])
