"""Returns (``return.received``) and receipts (``receipt.confirmed``, ``asn.release``).

The processors live in ``stock_returns.py`` (``_process_return_received``,
``_process_receipt_confirmed``, the ``stock.picking.logistics_return_ref`` field and the
disposition handling); ``stock_picking.py`` releases incoming transfers as ``asn.release``.
This module is imported before ``stock_returns``: a method of the same name defined here
would be silently overridden there, so it only holds helpers with names of their own, which
``stock_returns`` calls:

- :meth:`_returnable_qty`: what a done delivery move can still take back. It is the
  quantity the 3PL *shipped* (``quantity``), not the quantity ordered (``product_uom_qty``):
  a delivery closed short keeps its full demand on the done move, and an over-shipped one
  delivered more than its demand. Earlier returns are deducted.
- :meth:`_check_returned_lots`: a returned lot must be one the order delivered, in at most
  the quantity delivered (less earlier returns of that lot), and a line's lots must add up
  to its quantity. Otherwise the message fails in business words, and nothing is created
  (no stray lot, no return transfer).

Tests: ``tests/test_returns.py`` and ``tests/test_returns_receipts.py``.
"""

from collections import defaultdict

from odoo import _, models
from odoo.tools import float_compare

from odoo.addons.logistics_integration_base.models.logistics_message import BusinessError


class LogisticsMessage(models.Model):
    _inherit = "logistics.message"

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
        backend = self.backend_id
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
                    _(
                        "Return %(ret)s, line %(n)s (%(product)s): its lots add up to %(lots)s "
                        "but the line says %(qty)s. Ask the 3PL to correct the return.",
                        ret=return_ref,
                        n=index + 1,
                        product=product.display_name,
                        lots=f"{total:g}",
                        qty=f"{qty:g}",
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
                reason = _("lot %(lot)s was not delivered on this order", lot=name)
            else:
                reason = _(
                    "%(qty)s of lot %(lot)s reported, only %(left)s delivered and not returned",
                    qty=f"{qty:g}",
                    lot=name,
                    left=f"{available:g}",
                )
            raise BusinessError(
                _(
                    "Return %(ret)s of %(product)s: %(reason)s (lots delivered: %(lots)s). "
                    "Check the lot with the 3PL; fix the payload and retry, or ignore this "
                    "message.",
                    ret=return_ref,
                    product=product.display_name,
                    reason=reason,
                    lots=", ".join(delivered) or _("none"),
                )
            )
