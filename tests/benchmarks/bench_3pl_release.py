"""What releasing to a 3PL adds to confirming deliveries.

Two fresh databases are created: one with ``stock`` and the integration base only (the
connector is not installed), one with ``logistics_3pl_connector`` and the warehouse mapped
to a 3PL backend. In a round, N deliveries (``--pickings``, default 200, two lines each) are
created in one database, then confirmed one by one — as users and the sale flow do, each
confirmation also reserves stock — and the confirmations are timed; then the same in the
other database. With the connector, each confirmation also marks the delivery "Release
queued" and makes sure one release job waits for the backend (a look-up by its identity
key). That job — building each canonical order, validating it against its JSON Schema,
writing the outbox message and queueing its send job — runs after the confirmations
committed, in the job runner: it is timed separately, after the round, and printed per
delivery. Each round is rolled back.

Both databases are measured in alternating rounds (``--rounds``, default 6: with the
connector, without, with, without...) after one warm-up round each, so that a change in the
machine's background load during the run hits both alike; a single pass of each, minutes
apart, measures the load as much as the connector. Each round gives one ratio (connector /
baseline): 1.30 x means confirming takes 30 % longer with releases.

Printed: every round (seconds for both, ratio), then the median ratio, the spread of the
ratios (min–max) and the median per-delivery milliseconds for both and for the release
job. A wide spread means the
machine was busy: compare the median only with runs of a similar spread. The defaults take
4 to 5 minutes on a shared 2-core machine, half of it or more installing the two databases.

    tests/benchmarks/bench_3pl_release.sh [--pickings 200] [--rounds 6] [--keep-db]
"""

import argparse
import gc
import statistics
import subprocess
import time

from benchlib import install

import odoo
from odoo import SUPERUSER_ID, api
from odoo.tools import config


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
        gc.collect()  # not a collection of the setup's garbage inside the timed loop
        start = time.perf_counter()
        for picking in pickings:
            picking.action_confirm()
        env.flush_all()
        elapsed = time.perf_counter() - start
        assert all(p.state == "assigned" for p in pickings)
        released, job_elapsed = 0, 0.0
        if with_connector:
            assert set(pickings.mapped("logistics_state")) == {"queued"}
            jobs = env["queue.job"].search_count(
                [("identity_key", "=", f"logistics.release:{backend.id}")]
            )
            assert jobs == 1, jobs
            # the release job, as the job runner runs it after the confirmations committed
            start = time.perf_counter()
            while env["stock.picking"].search_count([("logistics_state", "=", "queued")]):
                env["stock.picking"]._logistics_job_release(backend)
            env.flush_all()
            job_elapsed = time.perf_counter() - start
            released = env["logistics.message"].search_count(
                [("message_type", "=", "order.release")]
            )
            assert released == n, released
        cr.rollback()
    return elapsed, released, job_elapsed


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--pickings", type=int, default=200, help="deliveries per round (default 200)"
    )
    parser.add_argument(
        "--rounds", type=int, default=6, help="alternating rounds per database (default 6)"
    )
    parser.add_argument("--warmup", type=int, default=50, help="deliveries, not counted")
    parser.add_argument("--keep-db", action="store_true")
    parser.add_argument("--conf", required=True)
    args = parser.parse_args()
    args.rounds = max(1, args.rounds)
    config.parse_config(["-c", args.conf, "--log-level=warn"])  # only the rounds' lines
    base_db, conn_db = "logistics_bench_release_base", "logistics_bench_release_3pl"
    n = args.pickings
    started = time.monotonic()
    rounds = []  # (with the connector, without) seconds
    jobs = []  # seconds of the release job, after each round with the connector
    try:
        print("installing two databases (about a minute each)...", flush=True)
        install(args.conf, base_db, "stock,logistics_integration_base")
        install(args.conf, conn_db, "logistics_3pl_connector")
        print(f"  installed in {time.monotonic() - started:.0f} s", flush=True)
        measure(conn_db, args.warmup, True)  # warm-up: caches, registry
        measure(base_db, args.warmup, False)
        print(
            f"confirming {n} deliveries (2 lines each, reserved at once) per round, "
            f"{args.rounds} alternating rounds:",
            flush=True,
        )
        for i in range(args.rounds):
            conn, released, job = measure(conn_db, n, True)
            base, _released, _job = measure(base_db, n, False)
            rounds.append((conn, base))
            jobs.append(job)
            print(
                f"  round {i + 1}: with release {conn:6.2f} s  without {base:6.2f} s"
                f"  ratio {conn / base:5.2f} x  (then the release job: {released} "
                f"order.release messages in {job:.2f} s)",
                flush=True,
            )
    finally:
        if not args.keep_db:
            odoo.sql_db.close_all()
            for db in (base_db, conn_db):
                subprocess.run(["dropdb", "--if-exists", db], check=False)
    ratios = [conn / base for conn, base in rounds]
    conn_ms = statistics.median(conn for conn, _base in rounds) / n * 1000
    base_ms = statistics.median(base for _conn, base in rounds) / n * 1000
    print(f"\nconfirming {n} deliveries, {len(rounds)} alternating rounds")
    print(f"  without the connector  {base_ms:6.1f} ms/delivery (median of the rounds)")
    print(f"  with release to a 3PL  {conn_ms:6.1f} ms/delivery (median of the rounds)")
    print(
        f"  ratio                  {statistics.median(ratios):6.2f} x median"
        f"  (spread {min(ratios):.2f}–{max(ratios):.2f} x; {conn_ms - base_ms:+.1f} ms"
        " per delivery)"
    )
    print(
        f"  the release job          {statistics.median(jobs) / n * 1000:6.1f} ms/delivery"
        " (median; after the confirmations committed, in the job runner)"
    )
    print(f"\nwhole run {time.monotonic() - started:.0f} s")


if __name__ == "__main__":
    main()
