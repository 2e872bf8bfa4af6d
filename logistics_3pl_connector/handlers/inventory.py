"""``inventory.snapshot``: the 3PL's on-hand for one warehouse, reconciled with Odoo's
quants (``models/logistics_inventory_reconciliation.py``).

A snapshot older than one already reconciled is recorded, not applied (``out_of_order =
"apply"``: this handler compares the counting dates itself). A pull that failed is kept as
a message whose payload names only the warehouse: :meth:`prepare` pulls again on Retry.
"""

import json

from odoo import fields

from odoo.addons.logistics_integration_base.exceptions import NeedsAttention, TransportError
from odoo.addons.logistics_integration_base.handlers import MessageHandler, register_handler
from odoo.addons.logistics_integration_base.tools.canonical import to_naive_utc

from ..models.logistics_inventory_reconciliation import (
    BATCH_SIZE,
    SNAPSHOT,
    _PullFailed,
    _snapshot_subject,
)


@register_handler(SNAPSHOT)
class InventorySnapshotHandler(MessageHandler):
    out_of_order = "apply"

    def _is_pull(self):
        try:
            data = self.message._get_payload()
        except ValueError:
            return False
        return isinstance(data, dict) and set(data) == {"warehouse_code"}

    def prepare(self):
        if not self._is_pull():
            return
        message = self.message
        code = message._get_payload()["warehouse_code"]
        backend = self.backend.sudo()
        try:
            data, _raw = backend._logistics_fetch_inventory(code)
        except _PullFailed as err:
            raise TransportError(
                backend._logistics_pull_reason(code, err),
                err.category,
                status=err.status,
                body=err.raw,
            ) from None
        message.write(
            {
                "payload": json.dumps(data),
                "external_id": data["snapshot_ref"],
                "subject": _snapshot_subject(self.env, data),
                "event_time": to_naive_utc(data.get("as_of")),
            }
        )
        backend._logistics_close_failed_pulls(code, data["snapshot_ref"], keep=message)

    def process(self, data, record):
        backend = self.backend
        warehouse = backend._warehouse_for_code(data["warehouse_code"])
        Recon = self.env["logistics.inventory.reconciliation"].sudo()
        ref = data["snapshot_ref"]
        done = Recon.search([("backend_id", "=", backend.id), ("snapshot_ref", "=", ref)], limit=1)
        if done:
            self.link(done)
            return self.env._("snapshot %s was already reconciled: nothing changed", ref)
        as_of = to_naive_utc(data.get("as_of")) or self.message.event_time or fields.Datetime.now()
        vals = {
            "name": f"{backend.code}/{warehouse.code}/{ref}",
            "backend_id": backend.id,
            "warehouse_id": warehouse.id,
            "location_id": warehouse.lot_stock_id.id,
            "snapshot_ref": ref,
            "as_of": as_of,
            "message_id": self.message.id,
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
                note=self.env._(
                    "Not compared: snapshot %(newer)s, counted later (%(date)s), was already "
                    "reconciled.",
                    newer=newer.snapshot_ref,
                    date=newer.as_of,
                ),
            )
            recon = Recon.create(vals)
            self.link(recon)
            return self.env._(
                "snapshot %s is older than the last one reconciled: nothing applied", ref
            )
        recon = Recon.create(vals)
        self.link(recon)
        if not self.message.external_id:
            self.message.external_id = ref
        batch_size = int(
            self.env["ir.config_parameter"]
            .sudo()
            .get_param("logistics_3pl_connector.inventory_batch_size", BATCH_SIZE)
        )
        batches = recon._reconcile(data["lines"], batch_size=max(batch_size, 1))
        summary = self.env._(
            "%(summary)s, compared in %(batches)s batches",
            summary=recon._summary(),
            batches=batches,
        )
        recon.message_post(
            body=self.env._("Snapshot %(ref)s reconciled: %(summary)s", ref=ref, summary=summary)
        )
        if recon.unknown_count:
            unknown = (
                self.env["logistics.inventory.reconciliation.line"]
                .sudo()
                .search([("reconciliation_id", "=", recon.id), ("state", "=", "unknown")], limit=10)
                .mapped("sku")
            )
            raise NeedsAttention(
                self.env._(
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
