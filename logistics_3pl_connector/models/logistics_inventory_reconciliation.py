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

import logging
from collections import defaultdict

from odoo import api, fields, models
from odoo.exceptions import UserError
from odoo.tools import float_compare, float_is_zero, float_round

from odoo.addons.logistics_integration_base.exceptions import BusinessError

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

    name = fields.Char(required=True, readonly=True, string="Reference")
    backend_id = fields.Many2one(
        "logistics.backend",
        required=True,
        readonly=True,
        ondelete="restrict",
        index=True,
        string="3PL",
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
    message_id = fields.Many2one(
        "logistics.message", readonly=True, ondelete="set null", string="Snapshot message"
    )
    company_id = fields.Many2one("res.company", required=True, readonly=True, index=True)
    state = fields.Selection(
        [("draft", "Processing"), ("waiting_approval", "Waiting approval"), ("done", "Done")],
        default="draft",
        required=True,
        readonly=True,
        index=True,
        tracking=True,
        string="Status",
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
        bad_units = []  # [(sku, unit code, reason)]: units that are not the product's
        untracked_lots = []  # "SKU lot" counted for products not tracked by lot
        for chunk in self._batches(list(by_sku), batch_size):
            self._count_batch(chunk, by_sku, counted, skus, bad_units, untracked_lots)
        del by_sku
        if bad_units:
            # Nothing compared nor applied: a count in an unknown unit would be a wrong
            # quantity; Retry once the units are set up.
            # not inside the sentence's _() call: Odoo's exporter would not see it
            items = ", ".join(
                self.env._("%(sku)s in %(unit)s", sku=sku, unit=code)
                for sku, code, _reason in bad_units[:10]
            )
            raise BusinessError(
                self.env._(
                    "Snapshot %(ref)s of 3PL %(backend)s counts %(n)s item(s) in units Odoo "
                    "cannot convert (%(items)s%(more)s); nothing was reconciled. %(first)s",
                    ref=self.snapshot_ref,
                    backend=self.backend_id.name,
                    n=len(bad_units),
                    items=items,
                    more=", …" if len(bad_units) > 10 else "",
                    first=bad_units[0][2],
                )
            )
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
        if untracked_lots:
            self.message_post(
                body=self.env._(
                    "The 3PL counted lots of products not tracked by lot; they were compared "
                    "without lots: %(lots)s%(more)s.",
                    lots=", ".join(untracked_lots[:20]),
                    more=", …" if len(untracked_lots) > 20 else "",
                )
            )
        return batches

    def _batches(self, items, size):
        """Slices of ``items``; after each, pending writes are flushed and the ORM cache
        emptied, so that memory does not grow with the number of batches."""
        for start in range(0, len(items), size):
            yield items[start : start + size]
            self.env.flush_all()
            self.env.invalidate_all()

    def _count_batch(self, chunk, by_sku, counted, skus, bad_units, untracked_lots):
        """Resolve a batch of partner SKUs to products and convert their quantities to the
        products' units; keep unknown SKUs as lines without product."""
        backend = self.backend_id.sudo()
        products = backend._products_by_sku(chunk)
        found = self.env["product.product"].browse({p.id for p in products.values()})
        # Units and tracking read from the templates (stored there) for the whole batch.
        found.product_tmpl_id.mapped("uom_id")
        units = {}  # (product id, unit code) -> unit, as the backend resolves it
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
                            "note": self.env._(
                                "No product has this internal reference or mapping."
                            ),
                        }
                    )
                    continue
                template = product.product_tmpl_id
                try:
                    qty = backend._to_odoo_qty(product, qty, uom_code, cache=units)
                except BusinessError as err:
                    bad_units.append((sku, uom_code, str(err)))
                    continue
                tracked = template.tracking != "none"
                if lot and not tracked:
                    untracked_lots.append(f"{sku} {lot}")
                counted[product.id][lot if tracked else None] += qty
            if product and sku not in skus[product.id]:
                skus[product.id].append(sku)
        if unknown:
            self.env["logistics.inventory.reconciliation.line"].sudo().create(unknown)

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
                        note=self.env._("The product is not tracked in stock: nothing to compare."),
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
            note = self.env._(
                "Lot-tracked product counted without lots: check the lots before approving."
            )
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
            {
                "state": "superseded",
                "note": self.env._("Superseded by snapshot %s", self.snapshot_ref),
            }
        )
        older._refresh_counts()
        for recon in older:
            recon.message_post(
                body=self.env._(
                    "The differences still waiting were superseded by the newer snapshot "
                    "%(ref)s, counted at %(date)s.",
                    ref=self.snapshot_ref,
                    date=self.as_of,
                )
            )

    def _summary(self):
        self.ensure_one()
        return self.env._(
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
        self.check_access("read")
        return self._lines_to_decide().action_approve()

    def action_reject_all(self):
        self.check_access("read")
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
            raise UserError(self.env._("No difference is waiting for approval."))
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
        return self._action_lines(
            [("state", "=", "to_approve")], self.env._("Differences to approve")
        )

    def action_view_lines(self):
        return self._action_lines([], self.env._("Reconciliation lines"))

    def action_view_message(self):
        self.ensure_one()
        return {
            "type": "ir.actions.act_window",
            "res_model": "logistics.message",
            "view_mode": "form",
            "res_id": self.message_id.id,
        }


def _within_tolerance(diff, odoo_qty, tolerance, rounding):
    units, percent = tolerance
    if units and float_compare(abs(diff), units, precision_rounding=rounding) <= 0:
        return True
    limit = abs(odoo_qty) * (percent or 0.0) / 100.0
    return bool(percent) and float_compare(abs(diff), limit, precision_rounding=rounding) <= 0


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
