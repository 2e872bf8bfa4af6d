# ruff: noqa: F821  (odoo-bin shell gives `env`)
# Run by tests/upgrade/upgrade.sh in `odoo-bin shell` on the PREVIOUS release's code: the data
# an administrator's database holds before the upgrade. Only APIs that release had.
import json

Backend = env["logistics.backend"]
Message = env["logistics.message"]
backend = Backend.create(
    {
        "name": "Upgrade 3PL",
        "code": "upgrade3pl",
        "kind": "3pl",
        "provider": "generic",
        "base_url": "http://127.0.0.1:9/none",
        "webhook_secret": "whsec_dXBncmFkZS10ZXN0LXNlY3JldC0wMTIzNDU2Nzg5",
        "api_key": "upgrade-api-key-0123",
    }
)
warehouse = env["stock.warehouse"].create({"name": "Upgrade 3PL", "code": "UPG"})
customer = env["res.partner"].create({"name": "Upgrade Customer", "phone": "+1 555 0100"})
picking_type = warehouse.out_type_id
picking = env["stock.picking"].create(
    {
        "picking_type_id": picking_type.id,
        "partner_id": customer.id,
        "location_id": picking_type.default_location_src_id.id,
        "location_dest_id": env.ref("stock.stock_location_customers").id,
    }
)
other = picking.copy()


def message(key, state, record, **vals):
    values = {
        "backend_id": backend.id,
        "direction": "out",
        "message_type": "order.release",
        "idempotency_key": key,
        "state": state,
        "payload": json.dumps({"order_ref": record.name}),
        "res_model": record._name,
        "res_id": record.id,
    }
    values.update(vals)
    return Message.create(values)


# A release refused, then released again and sent: a failure a later success solved, which
# the previous release left in the exception queue (stored before superseding existed).
message(
    "upg-stale-r1",
    "failed",
    picking,
    error_category="validation",
    error_message="Refused by Upgrade 3PL: the customer has no phone.",
)
message("upg-stale-r2", "sent", picking)
# A failure nothing solved: stays in the queue with its reason.
message(
    "upg-open",
    "failed",
    other,
    error_category="validation",
    error_message="Refused by Upgrade 3PL: the address has no city.",
)
# An inbound event processed.
Message.create(
    {
        "backend_id": backend.id,
        "direction": "in",
        "message_type": "shipment.confirmed",
        "idempotency_key": "upg-in-1",
        "state": "processed",
        "payload": json.dumps({"order_ref": picking.name}),
    }
)
env.cr.commit()
print("SEEDED", backend.id, Message.search_count([("backend_id", "=", backend.id)]))
