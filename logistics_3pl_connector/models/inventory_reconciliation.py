"""Inventory snapshots from a 3PL and their reconciliation with Odoo's quants.

A snapshot (``inventory.snapshot``, pushed by webhook or pulled by the polling cron) is the
3PL's on-hand per SKU (and lot) for one warehouse. It is a *full* snapshot: a product Odoo
holds in the warehouse's stock location (or below it) that the snapshot does not list
counts as 0 at the 3PL.

Each difference becomes a line of a ``logistics.inventory.reconciliation``. Differences
within the backend's tolerance are applied at once as inventory adjustments (stock moves
to or from the inventory-loss location, as Odoo's own *Physical Inventory* does); the
others wait for a Logistics manager or an Inventory administrator to approve (apply) or
reject them. What is applied is the *difference* seen at the snapshot (a delta), so stock
moved in Odoo after the snapshot is not overwritten.

Large snapshots are processed in batches: products are looked up, quants read, lines
created and differences applied per batch, and the ORM cache is flushed and emptied
between batches, so memory stays bounded by the batch size, not the snapshot size.
"""

import json
import logging
import uuid
from collections import defaultdict

import psycopg2

from odoo import _, api, fields, models
from odoo.exceptions import AccessError, UserError
from odoo.tools import float_compare, float_is_zero, float_round

from odoo.addons.logistics_integration_base.models.logistics_message import NeedsAttention
from odoo.addons.logistics_integration_base.tools import secrets as secret_box
from odoo.addons.logistics_integration_base.tools.canonical import (
    PayloadInvalid,
    to_naive_utc,
)
from odoo.addons.logistics_integration_base.transport.http import TransportError

_logger = logging.getLogger(__name__)

SNAPSHOT = "inventory.snapshot"
BATCH_SIZE = 1000
LINE_STATES = [
    ("matched", "Matched"),
    ("auto_applied", "Applied automatically"),
    ("to_approve", "To approve"),
    ("approved", "Approved (applied)"),
    ("rejected", "Rejected"),
    ("superseded", "Superseded"),
    ("unknown", "Unknown SKU"),
    ("skipped", "Not stocked"),
]
APPROVER_GROUPS = (
    "logistics_integration_base.group_logistics_manager",
    "stock.group_stock_manager",
)


class LogisticsInventoryReconciliation(models.Model):
    _name = "logistics.inventory.reconciliation"
    _description = "3PL inventory reconciliation"
    _inherit = ["mail.thread"]
    _order = "as_of desc, id desc"

    name = fields.Char(required=True, readonly=True)
    backend_id = fields.Many2one(
        "logistics.backend", required=True, readonly=True, ondelete="restrict", index=True
    )
    warehouse_id = fields.Many2one("stock.warehouse", required=True, readonly=True, index=True)
    location_id = fields.Many2one(
        "stock.location",
        required=True,
        readonly=True,
        help="Compared with the quants of this location and its sub-locations",
    )
    snapshot_ref = fields.Char(string="Snapshot", required=True, readonly=True, index=True)
    as_of = fields.Datetime(string="Counted at", required=True, readonly=True, index=True)
    message_id = fields.Many2one("logistics.message", readonly=True, ondelete="set null")
    company_id = fields.Many2one("res.company", required=True, readonly=True, index=True)
    state = fields.Selection(
        [("draft", "Processing"), ("waiting_approval", "Waiting approval"), ("done", "Done")],
        default="draft",
        required=True,
        readonly=True,
        index=True,
        tracking=True,
    )
    note = fields.Text(readonly=True)
    line_ids = fields.One2many(
        "logistics.inventory.reconciliation.line",
        "reconciliation_id",
        string="Reconciliation lines",
        domain=[("state", "!=", "unknown")],
        readonly=True,
    )
    unknown_line_ids = fields.One2many(
        "logistics.inventory.reconciliation.line",
        "reconciliation_id",
        string="Unknown SKU lines",
        domain=[("state", "=", "unknown")],
        readonly=True,
    )
    # Kept up to date by _refresh_counts (not computed: a snapshot may have 10,000 lines).
    line_count = fields.Integer(string="Lines", readonly=True)
    matched_count = fields.Integer(string="Matched", readonly=True)
    auto_applied_count = fields.Integer(string="Applied automatically", readonly=True)
    to_approve_count = fields.Integer(string="To approve", readonly=True)
    approved_count = fields.Integer(string="Approved", readonly=True)
    rejected_count = fields.Integer(string="Rejected", readonly=True)
    unknown_count = fields.Integer(string="Unknown SKUs", readonly=True)

    _sql_constraints = [
        (
            "snapshot_unique",
            "unique(backend_id, snapshot_ref)",
            "This inventory snapshot was already reconciled.",
        ),
    ]

    # processing ---------------------------------------------------------------------------
    def _reconcile(self, snapshot_lines, batch_size=BATCH_SIZE):
        """Compare the snapshot with the quants, create the lines and apply the differences
        within tolerance, batch by batch. Return the number of batches."""
        self.ensure_one()
        # The snapshot's lines, summed per (SKU, lot, unit): a 3PL may report one SKU in
        # several bins. Only plain values are kept across batches.
        by_sku = defaultdict(lambda: defaultdict(float))
        for line in snapshot_lines:
            lot = (line.get("lot") or "").strip() or None
            by_sku[line["sku"]][(lot, line.get("uom") or None)] += line["quantity"]
        counted = defaultdict(lambda: defaultdict(float))  # product id -> lot -> product qty
        skus = defaultdict(list)  # product id -> partner SKUs
        batches = 0
        for chunk in self._batches(list(by_sku), batch_size):
            self._count_batch(chunk, by_sku, counted, skus)
        del by_sku
        product_ids = sorted(counted)
        for chunk in self._batches(product_ids, batch_size):
            self._compare_batch(chunk, counted, skus)
            batches += 1
        # One pass for the products Odoo holds there that the snapshot does not list.
        absent = [
            product.id
            for [product] in self.env["stock.quant"]
            .sudo()
            ._read_group(
                [
                    ("location_id", "child_of", self.location_id.id),
                    ("product_id", "not in", product_ids),
                    ("quantity", "!=", 0),
                ],
                ["product_id"],
            )
        ]
        for chunk in self._batches(absent, batch_size):
            self._compare_batch(chunk, {}, {})
            batches += 1
        self._refresh_counts()
        self._supersede_older()
        return batches

    def _batches(self, items, size):
        """Slices of ``items``; after each, pending writes are flushed and the ORM cache
        emptied, so that memory does not grow with the number of batches."""
        for start in range(0, len(items), size):
            yield items[start : start + size]
            self.env.flush_all()
            self.env.invalidate_all()

    def _count_batch(self, chunk, by_sku, counted, skus):
        """Resolve a batch of partner SKUs to products and convert their quantities to the
        products' units; keep unknown SKUs as lines without product."""
        backend = self.backend_id.sudo()
        products = backend._products_by_sku(chunk)
        found = self.env["product.product"].browse({p.id for p in products.values()})
        # Units and tracking read from the templates (stored there) for the whole batch.
        found.product_tmpl_id.mapped("uom_id")
        # The unit each product is counted in at the partner: the mapping's unit, as
        # backend._to_odoo_qty does, read for the whole batch at once.
        partner_uoms = {
            mapping.product_id.id: mapping.partner_uom_id
            for mapping in self.env["logistics.product.mapping"]
            .sudo()
            .search(
                [
                    ("backend_id", "=", backend.id),
                    ("product_id", "in", found.ids),
                    ("partner_uom_id", "!=", False),
                ]
            )
        }
        codes = {}

        def uoms_by_code():
            if not codes:  # the unit codes, read once per batch and only when used
                for uom in self.env["uom.uom"].sudo().search([]):
                    codes.setdefault(backend._uom_code(uom).upper(), []).append(uom)
            return codes

        unknown = []
        for sku in chunk:
            product = products.get(sku)
            for (lot, uom_code), qty in by_sku[sku].items():
                if not product:
                    unknown.append(
                        {
                            "reconciliation_id": self.id,
                            "company_id": self.company_id.id,
                            "sku": sku,
                            "lot_name": lot,
                            "partner_qty": qty,
                            "state": "unknown",
                            "note": _("No product has this internal reference or mapping."),
                        }
                    )
                    continue
                template = product.product_tmpl_id
                from_uom = self._partner_uom(
                    product.id, template.uom_id, uom_code, partner_uoms, uoms_by_code
                )
                if from_uom != template.uom_id:
                    qty = from_uom._compute_quantity(qty, template.uom_id, round=False)
                tracked = template.tracking != "none"
                counted[product.id][lot if tracked else None] += qty
            if product and sku not in skus[product.id]:
                skus[product.id].append(sku)
        if unknown:
            self.env["logistics.inventory.reconciliation.line"].sudo().create(unknown)

    @api.model
    def _partner_uom(self, product_id, product_uom, uom_code, partner_uoms, uoms_by_code):
        """The unit of a snapshot quantity: the line's own unit code when it names a unit of
        the product's category, else the partner's mapped unit, else the product's."""
        if uom_code:
            for uom in uoms_by_code().get(uom_code.upper(), ()):
                if uom.category_id == product_uom.category_id:
                    return uom
        return partner_uoms.get(product_id) or product_uom

    def _compare_batch(self, product_ids, counted, skus):
        """Compare a batch of products with the quants, create their lines and apply the
        differences within tolerance. ``counted``: product id -> lot name -> quantity."""
        backend = self.backend_id
        products = (
            self.env["product.product"].sudo().with_context(active_test=False).browse(product_ids)
        )
        odoo = defaultdict(lambda: defaultdict(float))  # product id -> lot name -> qty
        lot_ids = {}  # (product id, lot name) -> lot id
        for product, lot, qty in (
            self.env["stock.quant"]
            .sudo()
            ._read_group(
                [
                    ("product_id", "in", product_ids),
                    ("location_id", "child_of", self.location_id.id),
                ],
                ["product_id", "lot_id"],
                ["quantity:sum"],
            )
        ):
            name = lot.name if lot else None
            odoo[product.id][name] += qty
            if lot:
                lot_ids[product.id, name] = lot.id
        wanted = {(pid, lot) for pid in product_ids for lot in counted.get(pid, ()) if lot}
        missing = {lot for pid, lot in wanted if (pid, lot) not in lot_ids}
        if missing:
            company = self.company_id.id
            for lot in (
                self.env["stock.lot"]
                .sudo()
                .search(
                    [
                        ("product_id", "in", product_ids),
                        ("name", "in", list(missing)),
                        "|",
                        ("company_id", "=", False),
                        ("company_id", "=", company),
                    ]
                )
            ):
                lot_ids.setdefault((lot.product_id.id, lot.name), lot.id)
        tolerance = (backend.inventory_tolerance_qty, backend.inventory_tolerance_percent)
        vals_list = []
        products.product_tmpl_id.mapped("uom_id")  # one read for the batch
        for product in products:
            pid = product.id
            template = product.product_tmpl_id
            rounding = template.uom_id.rounding
            snap = counted.get(pid) or {}
            mine = odoo.get(pid) or {}
            base = {
                "reconciliation_id": self.id,
                "company_id": self.company_id.id,
                "product_id": pid,
                "sku": ", ".join(skus.get(pid) or []) or product.default_code,
            }
            if not template.is_storable:
                vals_list.append(
                    dict(
                        base,
                        partner_qty=sum(snap.values()),
                        state="skipped",
                        note=_("The product is not tracked in stock: nothing to compare."),
                    )
                )
                continue
            tracked = template.tracking != "none"
            if tracked and (pid not in counted or any(snap)):
                # Lot by lot: the snapshot's lots and Odoo's.
                for lot in sorted(set(snap) | set(mine), key=lambda name: name or ""):
                    vals_list.append(
                        self._line_vals(
                            base,
                            rounding,
                            mine.get(lot, 0.0),
                            snap.get(lot, 0.0),
                            tolerance,
                            per_lot=True,
                            lot_name=lot,
                            lot_id=lot_ids.get((pid, lot)) if lot else False,
                            # part of the count came without a lot: a user decides
                            blocked=lot is None and bool(snap.get(None)),
                        )
                    )
            else:
                blocked = tracked and pid in counted  # tracked, but counted without lots
                vals_list.append(
                    self._line_vals(
                        base,
                        rounding,
                        sum(mine.values()),
                        sum(snap.values()),
                        tolerance,
                        blocked=blocked,
                    )
                )
        Line = self.env["logistics.inventory.reconciliation.line"].sudo()
        lines = Line.create(vals_list)
        lines.filtered(lambda line: line.state == "auto_applied")._apply_safely()

    @api.model
    def _line_vals(
        self,
        base,
        rounding,
        odoo_qty,
        partner_qty,
        tolerance,
        per_lot=False,
        lot_name=None,
        lot_id=False,
        blocked=False,
    ):
        diff = float_round(partner_qty - odoo_qty, precision_rounding=rounding)
        note = False
        if float_is_zero(diff, precision_rounding=rounding):
            state, diff = "matched", 0.0
        elif blocked:
            state = "to_approve"
            note = _("Lot-tracked product counted without lots: check the lots before approving.")
        elif _within_tolerance(diff, odoo_qty, tolerance, rounding):
            state = "auto_applied"
        else:
            state = "to_approve"
        return dict(
            base,
            odoo_qty=odoo_qty,
            partner_qty=partner_qty,
            difference=diff,
            per_lot=per_lot,
            lot_name=lot_name,
            lot_id=lot_id,
            state=state,
            note=note,
        )

    def _refresh_counts(self):
        Line = self.env["logistics.inventory.reconciliation.line"].sudo()
        for recon in self:
            counts = dict(
                Line._read_group([("reconciliation_id", "=", recon.id)], ["state"], ["__count"])
            )
            to_approve = counts.get("to_approve", 0)
            recon.write(
                {
                    "line_count": sum(n for state, n in counts.items() if state != "unknown"),
                    "matched_count": counts.get("matched", 0),
                    "auto_applied_count": counts.get("auto_applied", 0),
                    "to_approve_count": to_approve,
                    "approved_count": counts.get("approved", 0),
                    "rejected_count": counts.get("rejected", 0),
                    "unknown_count": counts.get("unknown", 0),
                    "state": "waiting_approval" if to_approve else "done",
                }
            )

    def _supersede_older(self):
        """Differences still waiting on older snapshots of the same warehouse are replaced
        by this newer count: approving both would apply the same difference twice."""
        self.ensure_one()
        older = self.search(
            [
                ("backend_id", "=", self.backend_id.id),
                ("warehouse_id", "=", self.warehouse_id.id),
                ("id", "!=", self.id),
                ("as_of", "<=", self.as_of),
                ("state", "=", "waiting_approval"),
            ]
        )
        if not older:
            return
        waiting = self.env["logistics.inventory.reconciliation.line"].search(
            [("reconciliation_id", "in", older.ids), ("state", "=", "to_approve")]
        )
        waiting.write(
            {"state": "superseded", "note": _("Superseded by snapshot %s", self.snapshot_ref)}
        )
        older._refresh_counts()
        for recon in older:
            recon.message_post(
                body=_(
                    "The differences still waiting were superseded by the newer snapshot "
                    "%(ref)s, counted at %(date)s.",
                    ref=self.snapshot_ref,
                    date=self.as_of,
                )
            )

    def _summary(self):
        self.ensure_one()
        return _(
            "%(lines)s lines: %(matched)s matched, %(auto)s applied automatically, "
            "%(todo)s to approve, %(unknown)s unknown SKUs",
            lines=self.line_count,
            matched=self.matched_count,
            auto=self.auto_applied_count,
            todo=self.to_approve_count,
            unknown=self.unknown_count,
        )

    # user actions ---------------------------------------------------------------------------
    def action_approve_all(self):
        self._lines_to_decide().action_approve()
        return True

    def action_reject_all(self):
        self._lines_to_decide().action_reject()
        return True

    def _lines_to_decide(self):
        self.env["logistics.inventory.reconciliation.line"]._check_approver()
        lines = (
            self.env["logistics.inventory.reconciliation.line"]
            .sudo()
            .search([("reconciliation_id", "in", self.ids), ("state", "=", "to_approve")])
        )
        if not lines:
            raise UserError(_("No difference is waiting for approval."))
        return lines.with_env(self.env)

    def _action_lines(self, domain, name):
        self.ensure_one()
        return {
            "type": "ir.actions.act_window",
            "name": name,
            "res_model": "logistics.inventory.reconciliation.line",
            "view_mode": "list,form",
            "domain": [("reconciliation_id", "=", self.id)] + domain,
            "context": {"create": False},
        }

    def action_view_to_approve(self):
        return self._action_lines([("state", "=", "to_approve")], _("Differences to approve"))

    def action_view_lines(self):
        return self._action_lines([], _("Reconciliation lines"))

    def action_view_message(self):
        self.ensure_one()
        return {
            "type": "ir.actions.act_window",
            "res_model": "logistics.message",
            "view_mode": "form",
            "res_id": self.message_id.id,
        }


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
    lot_id = fields.Many2one("stock.lot", string="Lot", readonly=True)
    lot_name = fields.Char(string="Partner lot", readonly=True)
    per_lot = fields.Boolean(
        readonly=True, help="Compared lot by lot (else all of the product's quants together)"
    )
    uom_id = fields.Many2one(related="product_id.uom_id", string="Unit")
    odoo_qty = fields.Float(string="Odoo", digits="Product Unit of Measure", readonly=True)
    partner_qty = fields.Float(string="3PL", digits="Product Unit of Measure", readonly=True)
    difference = fields.Float(digits="Product Unit of Measure", readonly=True)
    state = fields.Selection(LINE_STATES, required=True, readonly=True, index=True)
    note = fields.Char(readonly=True)
    applied_at = fields.Datetime(readonly=True)
    applied_by_id = fields.Many2one("res.users", string="Applied by", readonly=True)

    @api.model
    def _check_approver(self):
        if not any(self.env.user.has_group(group) for group in APPROVER_GROUPS):
            raise AccessError(
                _(
                    "Only Logistics Integration managers and Inventory administrators can "
                    "approve or reject stock differences."
                )
            )

    def action_approve(self):
        """Apply the selected differences to the stock (inventory adjustments)."""
        self._check_approver()
        lines = self.sudo().filtered(lambda line: line.state == "to_approve")
        if not lines:
            raise UserError(_("Only differences waiting for approval can be approved."))
        try:
            lines._apply_difference()
        except UserError as err:
            raise UserError(
                _("The differences could not be applied: %s", err.args[0] if err.args else err)
            ) from err
        lines.write(
            {
                "state": "approved",
                "applied_at": fields.Datetime.now(),
                "applied_by_id": self.env.uid,
            }
        )
        lines._log_decision(_("approved and applied"))
        return True

    def action_reject(self):
        """Keep Odoo's quantities: the selected differences are not applied."""
        self._check_approver()
        lines = self.sudo().filtered(lambda line: line.state == "to_approve")
        if not lines:
            raise UserError(_("Only differences waiting for approval can be rejected."))
        lines.write({"state": "rejected"})
        lines._log_decision(_("rejected (Odoo's quantities kept)"))
        return True

    def _log_decision(self, what):
        for recon in self.reconciliation_id:
            mine = self.filtered(lambda line, r=recon: line.reconciliation_id == r)
            names = ", ".join(mine[:10].mapped(lambda line: line.product_id.display_name))
            if len(mine) > 10:
                names += ", …"
            recon._refresh_counts()
            recon.message_post(
                body=_(
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
                        "note": _(
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
                inventory_name=_(
                    "3PL count %(ref)s (%(backend)s)",
                    ref=recon.snapshot_ref,
                    backend=recon.backend_id.name,
                )
            )._apply_inventory()


def _within_tolerance(diff, odoo_qty, tolerance, rounding):
    units, percent = tolerance
    if units and float_compare(abs(diff), units, precision_rounding=rounding) <= 0:
        return True
    limit = abs(odoo_qty) * (percent or 0.0) / 100.0
    return bool(percent) and float_compare(abs(diff), limit, precision_rounding=rounding) <= 0


class LogisticsMessage(models.Model):
    _inherit = "logistics.message"

    def _process_inventory_snapshot(self, data):
        backend = self.backend_id.sudo()
        warehouse = backend._warehouse_for_code(data["warehouse_code"])
        Recon = self.env["logistics.inventory.reconciliation"].sudo()
        ref = data["snapshot_ref"]
        done = Recon.search([("backend_id", "=", backend.id), ("snapshot_ref", "=", ref)], limit=1)
        if done:
            self._link_record(done)
            return _("snapshot %s was already reconciled: nothing changed", ref)
        as_of = to_naive_utc(data.get("as_of")) or self.event_time or fields.Datetime.now()
        vals = {
            "name": f"{backend.code}/{warehouse.code}/{ref}",
            "backend_id": backend.id,
            "warehouse_id": warehouse.id,
            "location_id": warehouse.lot_stock_id.id,
            "snapshot_ref": ref,
            "as_of": as_of,
            "message_id": self.id,
            "company_id": warehouse.company_id.id,
        }
        newer = Recon.search(
            [
                ("backend_id", "=", backend.id),
                ("warehouse_id", "=", warehouse.id),
                ("as_of", ">", as_of),
            ],
            order="as_of desc",
            limit=1,
        )
        if newer:
            # Out of order: a later count was already reconciled; comparing this older one
            # with today's stock would undo what happened since.
            vals.update(
                state="done",
                note=_(
                    "Not compared: snapshot %(newer)s, counted later (%(date)s), was already "
                    "reconciled.",
                    newer=newer.snapshot_ref,
                    date=newer.as_of,
                ),
            )
            recon = Recon.create(vals)
            self._link_record(recon)
            return _("snapshot %s is older than the last one reconciled: nothing applied", ref)
        recon = Recon.create(vals)
        self._link_record(recon)
        if not self.external_id:
            self.external_id = ref
        batch_size = int(
            self.env["ir.config_parameter"]
            .sudo()
            .get_param("logistics_3pl_connector.inventory_batch_size", BATCH_SIZE)
        )
        batches = recon._reconcile(data["lines"], batch_size=max(batch_size, 1))
        summary = _(
            "%(summary)s, compared in %(batches)s batches",
            summary=recon._summary(),
            batches=batches,
        )
        recon.message_post(
            body=_("Snapshot %(ref)s reconciled: %(summary)s", ref=ref, summary=summary)
        )
        if recon.unknown_count:
            unknown = (
                self.env["logistics.inventory.reconciliation.line"]
                .sudo()
                .search([("reconciliation_id", "=", recon.id), ("state", "=", "unknown")], limit=10)
                .mapped("sku")
            )
            raise NeedsAttention(
                _(
                    "Snapshot %(ref)s of 3PL %(backend)s lists %(n)s SKUs that match no product "
                    "(%(skus)s%(more)s). The rest is reconciled (%(recon)s); the unknown SKUs are "
                    "kept on it. Add product mappings or internal references, then ignore this "
                    "message: the next snapshot will include them.",
                    ref=ref,
                    backend=backend.name,
                    n=recon.unknown_count,
                    skus=", ".join(unknown),
                    more=", …" if recon.unknown_count > 10 else "",
                    recon=recon.name,
                )
            )
        return summary

    # polling -------------------------------------------------------------------------------
    def _is_inventory_pull(self):
        """A pull that failed is kept as a message whose payload names only the warehouse:
        Retry pulls again."""
        if self.message_type != SNAPSHOT:
            return False
        try:
            data = self._get_payload()
        except ValueError:
            return False
        return isinstance(data, dict) and set(data) == {"warehouse_code"}

    def _job_process(self):
        if self.direction == "in" and self.state == "received" and self._is_inventory_pull():
            code = self._get_payload()["warehouse_code"]
            backend = self.backend_id.sudo()
            try:
                data, _raw = backend._logistics_fetch_inventory(code)
            except _PullFailed as err:
                reason = backend._logistics_pull_reason(code, err)
                self.sudo().write(
                    {
                        "attempts": self.attempts + 1,
                        "last_attempt_at": fields.Datetime.now(),
                        "http_status": err.status,
                        "raw_payload": err.raw,
                    }
                )
                self._fail(err.category, reason)
                return f"failed: {reason}"
            self.sudo().write(
                {
                    "payload": json.dumps(data),
                    "external_id": data["snapshot_ref"],
                    "subject": _snapshot_subject(self.env, data),
                    "event_time": to_naive_utc(data.get("as_of")),
                }
            )
            backend._logistics_close_failed_pulls(code, data["snapshot_ref"], keep=self)
        return super()._job_process()


class _PullFailed(Exception):
    def __init__(self, reason, category, status=None, raw=None):
        super().__init__(reason)
        self.reason = reason
        self.category = category
        self.status = status
        self.raw = raw


def _like_escape(text):
    return text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


def _snapshot_subject(env, data):
    return env._(
        "Inventory snapshot %(ref)s of %(warehouse)s",
        ref=data.get("snapshot_ref"),
        warehouse=data.get("warehouse_code"),
    )


class LogisticsBackend(models.Model):
    _inherit = "logistics.backend"

    inventory_reconciliation_count = fields.Integer(compute="_compute_inventory_reconciliation")

    def _compute_inventory_reconciliation(self):
        counts = dict(
            self.env["logistics.inventory.reconciliation"]
            .sudo()
            ._read_group([("backend_id", "in", self.ids)], ["backend_id"], ["__count"])
        )
        for backend in self:
            backend.inventory_reconciliation_count = counts.get(backend, 0)

    def action_view_inventory_reconciliations(self):
        self.ensure_one()
        action = self.env["ir.actions.act_window"]._for_xml_id(
            "logistics_3pl_connector.action_logistics_inventory_reconciliation"
        )
        action["domain"] = [("backend_id", "=", self.id)]
        return action

    def action_pull_inventory(self):
        """Button: pull a snapshot of each mapped warehouse now."""
        if not self.env.user.has_group("logistics_integration_base.group_logistics_manager"):
            raise AccessError(_("Only Logistics Integration managers can pull inventories."))
        messages = self.sudo()._logistics_pull_inventory()
        failed = messages.filtered(lambda m: m.state == "failed")
        return self._notify(
            _("Inventory pull"),
            _(
                "%(ok)s snapshots queued, %(failed)s failed (see Exceptions).",
                ok=len(messages) - len(failed),
                failed=len(failed),
            ),
            "warning" if failed else "success",
        )

    @api.model
    def _cron_logistics_pull_inventory(self):
        backends = self.sudo().search([("kind", "=", "3pl"), ("inventory_poll", "=", True)])
        return len(backends._logistics_pull_inventory())

    def _logistics_pull_inventory(self, warehouses=None):
        """Ask each 3PL for a snapshot of its warehouses and store each as an inbound
        ``inventory.snapshot`` message (processed by its queue job like a pushed one). A
        pull that fails is stored as a failed message: it shows in the exception queue
        with the reason, and Retry pulls again."""
        Message = self.env["logistics.message"].sudo()
        messages = Message
        for backend in self:
            for warehouse in warehouses or backend.warehouse_ids:
                if warehouse.logistics_backend_id != backend:
                    continue
                try:
                    with self.env.cr.savepoint():
                        data, _raw = backend._logistics_fetch_inventory(warehouse.code)
                        messages |= backend._logistics_store_snapshot(data)
                except _PullFailed as err:
                    messages |= backend._logistics_pull_failed(warehouse, err)
                else:
                    backend._logistics_close_failed_pulls(warehouse.code, data["snapshot_ref"])
        return messages

    def _logistics_fetch_inventory(self, warehouse_code):
        """The canonical snapshot of a warehouse, validated; raise :class:`_PullFailed`.

        An adapter may offer ``fetch_inventory(warehouse_code)`` (returning canonical data);
        otherwise REST backends answer ``GET <base_url>/inventory?warehouse_code=<code>``
        with canonical ``inventory.snapshot`` data (or a CloudEvent carrying it)."""
        self.ensure_one()
        raw = None
        try:
            adapter = self._get_adapter()
            if hasattr(adapter, "fetch_inventory"):
                data = adapter.fetch_inventory(warehouse_code)
            elif self.protocol == "rest":
                response = adapter.http().request(
                    "GET", "inventory", params={"warehouse_code": warehouse_code}
                )
                raw = response.text
                try:
                    data = response.json()
                except ValueError:
                    raise _PullFailed(
                        _(
                            "%(url)s answered with a body that is not JSON.",
                            url=response.url,
                        ),
                        "validation",
                        response.status_code,
                        raw,
                    ) from None
            else:
                raise _PullFailed(
                    _(
                        "3PL %(backend)s is reached over %(protocol)s, which offers no inventory "
                        "pull: turn 'Poll inventory' off (it pushes snapshots) or change the "
                        "protocol.",
                        backend=self.name,
                        protocol=self.protocol,
                    ),
                    "business",
                )
            if isinstance(data, dict) and "specversion" in data and "data" in data:
                data = data["data"]
            self.env["logistics.message"]._schema_registry().validate(SNAPSHOT, data)
        except TransportError as err:
            raise _PullFailed(str(err), err.category, err.status, err.body) from err
        except PayloadInvalid as err:
            raise _PullFailed(
                _("The snapshot breaks the inventory.snapshot schema at %s", err),
                "validation",
                raw=raw,
            ) from err
        except (secret_box.SecretKeyMissing, secret_box.SecretUndecryptable) as err:
            raise _PullFailed(str(err), "auth") from err
        return data, raw

    def _logistics_store_snapshot(self, data):
        """Store a pulled snapshot as an inbound message and queue its processing; the
        same snapshot pulled twice is stored once."""
        self.ensure_one()
        message, _created = self._store_polled_message(
            SNAPSHOT,
            data["snapshot_ref"],
            schema_version=1,
            correlation_id=str(uuid.uuid4()),
            external_id=data["snapshot_ref"],
            subject=_snapshot_subject(self.env, data),
            event_time=to_naive_utc(data.get("as_of")),
            payload=json.dumps(data),
        )
        return message

    def _logistics_pull_reason(self, warehouse_code, err):
        """What an operator reads in the exception queue when a pull failed."""
        self.ensure_one()
        return _(
            "Pulling the inventory of warehouse %(warehouse)s from 3PL %(backend)s failed: "
            "%(reason)s. Press Retry to pull again.",
            warehouse=warehouse_code,
            backend=self.name,
            reason=str(err.reason).rstrip("."),
        )

    def _logistics_close_failed_pulls(self, warehouse_code, snapshot_ref, keep=None):
        """A pull of a warehouse succeeded: earlier failed pulls of it need no Retry any
        more, they leave the exception queue (ignored, with the reason)."""
        self.ensure_one()
        stale = (
            self.env["logistics.message"]
            .sudo()
            .search(
                [
                    ("backend_id", "=", self.id),
                    ("direction", "=", "in"),
                    ("message_type", "=", SNAPSHOT),
                    ("state", "in", ("failed", "dead")),
                    ("idempotency_key", "=like", f"poll-failed:{_like_escape(warehouse_code)}:%"),
                ]
            )
        )
        stale -= keep or stale.browse()
        if not stale:
            return stale
        reason = _(
            "A later pull of warehouse %(warehouse)s succeeded (snapshot %(ref)s).",
            warehouse=warehouse_code,
            ref=snapshot_ref,
        )
        stale.write({"state": "ignored", "ignore_reason": reason, "next_retry_at": False})
        for msg in stale:
            msg.message_post(body=reason)
        return stale

    def _logistics_pull_failed(self, warehouse, err):
        self.ensure_one()
        reason = self._logistics_pull_reason(warehouse.code, err)
        _logger.warning("%s", reason)
        return (
            self.env["logistics.message"]
            .sudo()
            .create(
                {
                    "backend_id": self.id,
                    "direction": "in",
                    "message_type": SNAPSHOT,
                    "schema_version": 1,
                    "state": "failed",
                    "idempotency_key": f"poll-failed:{warehouse.code}:{uuid.uuid4().hex}",
                    "correlation_id": str(uuid.uuid4()),
                    "subject": _("Inventory pull for %s", warehouse.code),
                    "payload": json.dumps({"warehouse_code": warehouse.code}),
                    "raw_payload": err.raw,
                    "http_status": err.status,
                    "error_category": err.category,
                    "error_message": reason,
                    "attempts": 1,
                    "last_attempt_at": fields.Datetime.now(),
                }
            )
        )
