"""A 3PL's shipment confirmations received during a parallel run, compared with what the
legacy interface applied in Odoo: the order's transfers done, and the quantity done per SKU
(in the 3PL's units) against the quantity the 3PL says it shipped, over every confirmation
of the order received so far."""

import json
from collections import defaultdict

from odoo.addons.logistics_integration_base.tools.parallel_run import register_inbound_check


def _shipped(message):
    """SKU -> quantity shipped, over the order's confirmations of the parallel run."""
    payload = message._get_payload()
    ref = payload["order_ref"]
    siblings = message.search(
        [
            ("backend_id", "=", message.backend_id.id),
            ("direction", "=", "in"),
            ("state", "=", "shadow"),
            ("message_type", "=", message.message_type),
            ("payload", "ilike", ref),
        ]
    )
    shipped = defaultdict(float)
    for sibling in siblings | message:
        data = json.loads(sibling._clear_text("payload") or "{}")
        if data.get("order_ref") != ref:
            continue
        for line in data.get("lines") or []:
            shipped[line["sku"]] += float(line["quantity"])
    return shipped


def check_shipment(message, payload):
    backend = message.backend_id
    ref = payload["order_ref"]
    pickings = (
        message.env["stock.picking"]
        .sudo()
        .search(
            [
                ("logistics_backend_id", "=", backend.id),
                ("picking_type_code", "=", "outgoing"),
                "|",
                ("logistics_order_ref", "=", ref),
                ("name", "=", ref),
            ]
        )
    )
    env = message.env
    if not pickings:
        return ref, [env._("order %s is unknown in Odoo, and the 3PL shipped it", ref)]
    done = pickings.filtered(lambda p: p.state == "done")
    if not done:
        return None  # the legacy has not applied it yet: checked again at the next run
    applied = defaultdict(float)
    for move in done.move_ids.filtered(lambda m: m.state == "done"):
        product = move.product_id
        units = move.product_uom._compute_quantity(move.quantity, product.uom_id, round=False)
        quantity, _uom, _factor = backend._partner_order_quantity(product, units)
        applied[backend._partner_sku(product)] += quantity
    shipped = _shipped(message)
    differences = []
    for sku in sorted(set(shipped) | set(applied)):
        ours, theirs = shipped.get(sku, 0.0), applied.get(sku, 0.0)
        if abs(ours - theirs) > 1e-6:
            ours, theirs = format(ours, "g"), format(theirs, "g")
            differences.append(
                env._(
                    "quantity shipped %(shipped)s vs %(done)s done in Odoo for SKU %(sku)s on "
                    "%(ref)s",
                    shipped=ours,
                    done=theirs,
                    sku=sku,
                    ref=ref,
                )
            )
    return ref, differences


register_inbound_check("shipment.confirmed", check_shipment)
