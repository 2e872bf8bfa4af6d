"""A difference between the 3PL's count and Odoo's stock, applied or waiting for approval
(see ``logistics_inventory_reconciliation.py``)."""

import logging
from collections import defaultdict

import psycopg2

from odoo import api, fields, models
from odoo.exceptions import AccessError, UserError
from odoo.tools import float_compare, float_is_zero

from odoo.addons.logistics_integration_base.tools.feedback import notification

from .logistics_inventory_reconciliation import APPROVER_GROUPS, LINE_STATES

_logger = logging.getLogger(__name__)


class LogisticsInventoryReconciliationLine(models.Model):
    _name = "logistics.inventory.reconciliation.line"
    _description = "3PL inventory reconciliation line"
    _order = "reconciliation_id desc, id"

    reconciliation_id = fields.Many2one(
        "logistics.inventory.reconciliation",
        required=True,
        readonly=True,
        ondelete="cascade",
        index=True,
    )
    warehouse_id = fields.Many2one(related="reconciliation_id.warehouse_id")
    company_id = fields.Many2one("res.company", required=True, readonly=True, index=True)
    product_id = fields.Many2one("product.product", readonly=True, index=True)
    sku = fields.Char(string="Partner SKU", readonly=True)
    lot_id = fields.Many2one("stock.lot", readonly=True)
    lot_name = fields.Char(string="Partner lot", readonly=True)
    per_lot = fields.Boolean(
        readonly=True,
        help="Compared lot by lot (else all of the product's quants together)",
        string="Counted per lot",
    )
    uom_id = fields.Many2one(related="product_id.uom_id", string="Unit")
    odoo_qty = fields.Float(string="Odoo", digits="Product Unit of Measure", readonly=True)
    partner_qty = fields.Float(string="3PL", digits="Product Unit of Measure", readonly=True)
    difference = fields.Float(digits="Product Unit of Measure", readonly=True)
    state = fields.Selection(LINE_STATES, required=True, readonly=True, index=True, string="Status")
    note = fields.Char(readonly=True)
    applied_at = fields.Datetime(readonly=True, string="Applied on")
    applied_by_id = fields.Many2one("res.users", string="Applied by", readonly=True)

    @api.depends("reconciliation_id.name", "product_id.display_name", "sku")
    def _compute_display_name(self):
        for line in self:
            line.display_name = self.env._(
                "%(count)s: %(product)s",
                count=line.reconciliation_id.name,
                product=line.product_id.display_name or line.sku or "",
            )

    @api.model
    def _check_approver(self):
        if not any(self.env.user.has_group(group) for group in APPROVER_GROUPS):
            raise AccessError(
                self.env._(
                    "Only Logistics Integration managers and Inventory administrators can "
                    "approve or reject stock differences."
                )
            )

    def action_approve(self):
        """Apply the selected differences to the stock (inventory adjustments)."""
        self._check_approver()
        self.check_access("read")  # lines of another company are refused here
        lines = self.sudo().filtered(lambda line: line.state == "to_approve")
        if not lines:
            raise UserError(self.env._("Only differences waiting for approval can be approved."))
        try:
            lines._apply_difference()
        except UserError as err:
            raise UserError(
                self.env._(
                    "The differences could not be applied: %s", err.args[0] if err.args else err
                )
            ) from err
        lines.write(
            {
                "state": "approved",
                "applied_at": fields.Datetime.now(),
                "applied_by_id": self.env.uid,
            }
        )
        lines._log_decision(self.env._("approved and applied"))
        return notification(
            self.env._("Stock differences applied"),
            self.env._(
                "%s stock differences applied: Odoo's stock now counts what the 3PL counted.",
                len(lines),
            )
            if len(lines) > 1
            else self.env._(
                "The difference of %s is applied: Odoo's stock now counts what the 3PL counted.",
                lines.product_id.display_name,
            ),
        )

    def action_reject(self):
        """Keep Odoo's quantities: the selected differences are not applied."""
        self._check_approver()
        self.check_access("read")
        lines = self.sudo().filtered(lambda line: line.state == "to_approve")
        if not lines:
            raise UserError(self.env._("Only differences waiting for approval can be rejected."))
        lines.write({"state": "rejected"})
        lines._log_decision(self.env._("rejected (Odoo's quantities kept)"))
        return True

    def _log_decision(self, what):
        for recon in self.reconciliation_id:
            mine = self.filtered(lambda line, r=recon: line.reconciliation_id == r)
            names = ", ".join(mine[:10].mapped(lambda line: line.product_id.display_name))
            if len(mine) > 10:
                names += ", …"
            recon._refresh_counts()
            recon.message_post(
                body=self.env._(
                    "%(n)s differences %(what)s by %(user)s: %(names)s",
                    n=len(mine),
                    what=what,
                    user=self.env.user.name,
                    names=names,
                )
            )

    def _apply_safely(self):
        """Apply differences chosen automatically; one that cannot be applied waits for a
        user instead of failing the whole snapshot."""
        if not self:
            return
        now, uid = fields.Datetime.now(), self.env.uid
        try:
            with self.env.cr.savepoint():
                self._apply_difference()
            self.write({"applied_at": now, "applied_by_id": uid})
            return
        except (UserError, psycopg2.IntegrityError):
            _logger.info("applying %s differences at once failed; one by one", len(self))
        for line in self:
            try:
                with self.env.cr.savepoint():
                    line._apply_difference()
                line.write({"applied_at": now, "applied_by_id": uid})
            except (UserError, psycopg2.IntegrityError) as err:
                line.write(
                    {
                        "state": "to_approve",
                        "note": self.env._(
                            "Could not be applied automatically: %s",
                            err.args[0] if err.args else err,
                        ),
                    }
                )

    def _apply_difference(self):
        """Inventory adjustments bringing the quants by ``difference``: decreases are taken
        from the quants holding stock (the warehouse's stock location first), increases
        first fill negative quants, the rest goes to the stock location itself."""
        Quant = self.env["stock.quant"].sudo().with_context(inventory_mode=False)
        for recon in self.reconciliation_id:
            lines = self.filtered(lambda line, r=recon: line.reconciliation_id == r)
            location = recon.location_id
            by_product = defaultdict(list)
            for quant in Quant.search(
                [
                    ("product_id", "in", lines.product_id.ids),
                    ("location_id", "child_of", location.id),
                ]
            ):
                by_product[quant.product_id.id].append(quant)
            target = {}  # quant -> counted quantity
            for line in lines:
                product = line.product_id
                rounding = product.uom_id.rounding
                quants = by_product[product.id]
                if line.per_lot:
                    quants = [q for q in quants if q.lot_id == line.lot_id]
                remaining = line.difference

                def current(quant, target=target):
                    return target.get(quant, quant.quantity)

                if remaining < 0:
                    order = [q for q in quants if current(q) > 0]
                    order.sort(key=lambda q: (q.location_id != location, -current(q)))
                    for quant in order:
                        take = min(current(quant), -remaining)
                        target[quant] = current(quant) - take
                        remaining += take
                        if float_is_zero(remaining, precision_rounding=rounding):
                            break
                else:
                    for quant in [q for q in quants if current(q) < 0]:
                        give = min(-current(quant), remaining)
                        target[quant] = current(quant) + give
                        remaining -= give
                        if float_is_zero(remaining, precision_rounding=rounding):
                            break
                if float_is_zero(remaining, precision_rounding=rounding):
                    continue
                lot = line.lot_id
                if line.per_lot and not lot and line.lot_name:
                    lot = (
                        self.env["stock.lot"]
                        .sudo()
                        .create(
                            {
                                "name": line.lot_name,
                                "product_id": product.id,
                                "company_id": recon.company_id.id,
                            }
                        )
                    )
                    line.lot_id = lot
                main = next(
                    (
                        q
                        for q in quants
                        if q.location_id == location
                        and q.lot_id == lot
                        and not q.package_id
                        and not q.owner_id
                    ),
                    None,
                )
                if main is None:
                    main = Quant.create(
                        {"product_id": product.id, "location_id": location.id, "lot_id": lot.id}
                    )
                    by_product[product.id].append(main)
                target[main] = current(main) + remaining
            changed = Quant.browse(
                [
                    quant.id
                    for quant, qty in target.items()
                    if float_compare(
                        qty, quant.quantity, precision_rounding=quant.product_uom_id.rounding
                    )
                ]
            )
            for quant in changed:
                quant.inventory_quantity = target[quant]
            changed.with_context(
                inventory_name=self.env._(
                    "3PL count %(ref)s (%(backend)s)",
                    ref=recon.snapshot_ref,
                    backend=recon.backend_id.name,
                )
            )._apply_inventory()
