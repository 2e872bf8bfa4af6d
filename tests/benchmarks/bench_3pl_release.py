"""What releasing to a 3PL adds to confirming deliveries.

Two fresh databases are created: one with ``stock`` and the integration base only (the
connector is not installed), one with ``logistics_3pl_connector`` and the warehouse mapped
to a 3PL backend. In each, N deliveries (default 1,000, two lines each) are created, then
confirmed one by one — as users and the sale flow do, each confirmation also reserves
stock — and the confirmations are timed. With the connector, each confirmation also builds
the canonical order, validates it against its JSON Schema, writes the outbox message and
queues its job (the job itself runs later, in the job runner, and is not timed).

Printed: seconds and per-delivery milliseconds for both, and the ratio
(connector / baseline): 1.30 x means confirming takes 30 % longer with releases.

    tests/benchmarks/bench_3pl_release.sh [--pickings 1000] [--keep-db]
"""

import argparse
import os
import subprocess
import sys
import time

import odoo
from odoo import SUPERUSER_ID, api
from odoo.tools import config


def install(conf, db, modules):
    subprocess.run(["dropdb", "--if-exists", db], check=True)
    subprocess.run(
        [
            sys.executable,
            os.path.join(os.environ["ODOO_SRC"], "odoo-bin"),
            "-c",
            conf,
            "-d",
            db,
            "-i",
            modules,
            "--without-demo=all",
            "--stop-after-init",
            "--log-level=warn",
        ],
        check=True,
    )


def measure(db, n, with_connector):
    registry = odoo.modules.registry.Registry(db)
    with registry.cursor() as cr:
        env = api.Environment(cr, SUPERUSER_ID, {"tracking_disable": True})
        warehouse = env["stock.warehouse"].create({"name": "Bench 3PL", "code": "B3PL"})
        if with_connector:
            backend = env["logistics.backend"].create(
                {
                    "name": "Bench 3PL",
                    "code": "bench-3pl",
                    "kind": "3pl",
                    "base_url": "http://127.0.0.1:9/none",
                    "release_trigger": "assigned",
                }
            )
            warehouse.logistics_backend_id = backend
        customer = env["res.partner"].create(
            {
                "name": "Bench customer",
                "street": "1 Main St",
                "city": "Springfield",
                "zip": "12345",
                "country_id": env.ref("base.us").id,
            }
        )
        products = env["product.product"].create(
            [
                {"name": f"Bench item {i}", "default_code": f"BENCH-{i}", "is_storable": True}
                for i in range(20)
            ]
        )
        for product in products:
            env["stock.quant"]._update_available_quantity(product, warehouse.lot_stock_id, 10**6)
        ptype = warehouse.out_type_id
        dest = env.ref("stock.stock_location_customers")
        pickings = env["stock.picking"].create(
            [
                {
                    "picking_type_id": ptype.id,
                    "partner_id": customer.id,
                    "location_id": warehouse.lot_stock_id.id,
                    "location_dest_id": dest.id,
                    "move_ids": [
                        (
                            0,
                            0,
                            {
                                "name": "bench",
                                "product_id": products[(i + k) % 20].id,
                                "product_uom_qty": 1 + k,
                                "product_uom": products[0].uom_id.id,
                                "location_id": warehouse.lot_stock_id.id,
                                "location_dest_id": dest.id,
                            },
                        )
                        for k in range(2)
                    ],
                }
                for i in range(n)
            ]
        )
        env.flush_all()
        start = time.perf_counter()
        for picking in pickings:
            picking.action_confirm()
        env.flush_all()
        elapsed = time.perf_counter() - start
        assert all(p.state == "assigned" for p in pickings)
        released = 0
        if with_connector:
            released = env["logistics.message"].search_count(
                [("message_type", "=", "order.release")]
            )
            assert released == n, released
        cr.rollback()
    return elapsed, released


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--pickings", type=int, default=1000)
    parser.add_argument("--keep-db", action="store_true")
    parser.add_argument("--conf", required=True)
    args = parser.parse_args()
    config.parse_config(["-c", args.conf])
    base_db, conn_db = "logistics_bench_release_base", "logistics_bench_release_3pl"
    try:
        print("installing two databases (about a minute each)...", flush=True)
        install(args.conf, base_db, "stock,logistics_integration_base")
        install(args.conf, conn_db, "logistics_3pl_connector")
        measure(base_db, 50, False)  # warm-up: caches, registry
        measure(conn_db, 50, True)
        base, _ = measure(base_db, args.pickings, False)
        conn, released = measure(conn_db, args.pickings, True)
    finally:
        if not args.keep_db:
            odoo.sql_db.close_all()
            for db in (base_db, conn_db):
                subprocess.run(["dropdb", "--if-exists", db], check=False)
    n = args.pickings
    print(f"\nconfirming {n} deliveries (2 lines each, reserved at once)")
    print(f"  without the connector  {base:7.2f} s  {base / n * 1000:6.1f} ms/delivery")
    print(
        f"  with release to a 3PL  {conn:7.2f} s  {conn / n * 1000:6.1f} ms/delivery"
        f"  ({released} order.release messages queued)"
    )
    extra = (conn - base) / n * 1000
    print(f"  ratio                  {conn / base:7.2f} x  (+{extra:.1f} ms per delivery)")


if __name__ == "__main__":
    main()
