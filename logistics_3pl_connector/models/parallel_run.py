"""A 3PL's shipment confirmations received during a parallel run, compared with what the
legacy interface applied in Odoo: the order's transfers done, and the quantity done per SKU
(in the 3PL's units) against the quantity the 3PL says it shipped, over every confirmation
of the order received so far."""

from collections import defaultdict

from odoo.addons.logistics_integration_base.tools.parallel_run import register_inbound_check

from ..handlers.shipment import ShipmentConfirmedHandler


def _shipped(message, ref):
    """SKU -> quantity shipped, over the confirmations of order ``ref`` received during the
    parallel run (``message`` among them)."""
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
        data = sibling._get_payload()
        if data.get("order_ref") != ref:
            continue
        for line in data.get("lines") or []:
            shipped[line["sku"]] += float(line["quantity"])
    return shipped


def check_shipment(message, payload):
    backend = message.backend_id
    ref = payload["order_ref"]
    # the transfers the confirmation would have been applied to, as its handler finds them
    pickings = ShipmentConfirmedHandler(message).find_record(payload)
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
    shipped = _shipped(message, ref)
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
