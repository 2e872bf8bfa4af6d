"""Time and peak memory to reconcile a 10,000-SKU inventory snapshot from a 3PL.

A fresh database is created with ``logistics_3pl_connector``; a warehouse is mapped to a
3PL backend (tolerance 2 units) and N products (default 10,000) are stocked in it. A
snapshot listing every product is built with some differences: 2 % small ones (applied
automatically as inventory adjustments), 0.5 % large ones (left for approval), and a few
products Odoo holds that the snapshot omits (counted as 0 at the 3PL).

What is measured is the processing of the inbound ``inventory.snapshot`` message, as its
queue job runs it: JSON decoding, schema validation, product lookup, quant comparison,
reconciliation lines, and the inventory adjustments. Each run starts from the same
committed data with a cold ORM cache and is rolled back afterwards.

Printed:
- seconds, and the Python heap peak (tracemalloc, measured in a separate run because
  tracing slows Python down) above the heap before the run;
- the same with the whole snapshot in one batch (batch size = N), to show what batching
  saves;
- as a baseline, reading the same quants once (search + read of product, lot, quantity),
  and the ratios;
- the process's resident memory (RSS) before, after, and its high-water mark.

    tests/benchmarks/bench_3pl_inventory.sh [--skus 10000] [--batch 1000] [--keep-db]
"""

import argparse
import gc
import json
import os
import subprocess
import sys
import time
import tracemalloc

import odoo
from odoo import SUPERUSER_ID, api
from odoo.tools import config

DB = "logistics_bench_inventory"
EXTRA_IN_ODOO = 20  # products in Odoo's location that the snapshot omits


def install(conf, db):
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
            "logistics_3pl_connector",
            "--without-demo=all",
            "--stop-after-init",
            "--log-level=warn",
        ],
        check=True,
    )


def rss_kib(field="VmRSS"):
    with open("/proc/self/status") as fh:
        for row in fh:
            if row.startswith(field + ":"):
                return int(row.split()[1])
    return 0


def prepare(registry, n):
    """Commit the warehouse, backend, products and quants; return the snapshot."""
    with registry.cursor() as cr:
        env = api.Environment(cr, SUPERUSER_ID, {"tracking_disable": True})
        warehouse = env["stock.warehouse"].create({"name": "Bench 3PL", "code": "B3PL"})
        backend = env["logistics.backend"].create(
            {
                "name": "Bench 3PL",
                "code": "bench-3pl",
                "kind": "3pl",
                "base_url": "http://127.0.0.1:9/none",
                "inventory_tolerance_qty": 2,
            }
        )
        warehouse.logistics_backend_id = backend
        location = warehouse.lot_stock_id
        total = n + EXTRA_IN_ODOO
        for start in range(0, total, 1000):
            products = env["product.product"].create(
                [
                    {
                        "name": f"Bench item {i}",
                        "default_code": f"BENCH-{i:06d}",
                        "is_storable": True,
                    }
                    for i in range(start, min(start + 1000, total))
                ]
            )
            env["stock.quant"].create(
                [
                    {"product_id": p.id, "location_id": location.id, "quantity": 100}
                    for p in products
                ]
            )
            env.flush_all()
            env.invalidate_all()
            print(f"  {min(start + 1000, total)} products stocked", end="\r", flush=True)
        cr.commit()
        print()
        lines = []
        for i in range(n):
            qty = 100
            if i % 50 == 0:
                qty = 99 if i % 100 else 102  # small: applied automatically
            elif i % 200 == 7:
                qty = 60  # large: waits for approval
            lines.append({"sku": f"BENCH-{i:06d}", "quantity": qty})
        data = {
            "snapshot_ref": "BENCH-SNAP",
            "warehouse_code": "B3PL",
            "as_of": "2026-11-22T06:00:00Z",
            "lines": lines,
        }
        return backend.id, location.id, data


def set_batch(env, size):
    env["ir.config_parameter"].set_param("logistics_3pl_connector.inventory_batch_size", size)


def reconcile_once(registry, backend_id, data, batch, trace):
    """Store the inbound message, then time its processing; roll everything back."""
    with registry.cursor() as cr:
        env = api.Environment(cr, SUPERUSER_ID, {})
        set_batch(env, batch)
        msg = env["logistics.message"].create(
            {
                "backend_id": backend_id,
                "direction": "in",
                "message_type": "inventory.snapshot",
                "idempotency_key": "bench",
                "state": "received",
                "payload": json.dumps(data),
            }
        )
        env.flush_all()
        env.invalidate_all()
        gc.collect()
        if trace:
            tracemalloc.start()
            base = tracemalloc.get_traced_memory()[0]
        start = time.perf_counter()
        result = msg._job_process()
        env.flush_all()
        elapsed = time.perf_counter() - start
        peak = 0
        if trace:
            peak = tracemalloc.get_traced_memory()[1] - base
            tracemalloc.stop()
        recon = env["logistics.inventory.reconciliation"].search(
            [("snapshot_ref", "=", data["snapshot_ref"])]
        )
        counts = (
            recon.line_count,
            recon.matched_count,
            recon.auto_applied_count,
            recon.to_approve_count,
        )
        state = msg.state
        cr.rollback()
    return elapsed, peak, counts, state, result


def read_quants_once(registry, location_id, trace):
    with registry.cursor() as cr:
        env = api.Environment(cr, SUPERUSER_ID, {})
        env.invalidate_all()
        gc.collect()
        if trace:
            tracemalloc.start()
            base = tracemalloc.get_traced_memory()[0]
        start = time.perf_counter()
        quants = env["stock.quant"].search([("location_id", "child_of", location_id)])
        rows = quants.read(["product_id", "lot_id", "quantity"])
        elapsed = time.perf_counter() - start
        peak = 0
        if trace:
            peak = tracemalloc.get_traced_memory()[1] - base
            tracemalloc.stop()
        cr.rollback()
    return elapsed, peak, len(rows)


def mib(value):
    return value / 1024 / 1024


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--skus", type=int, default=10000)
    parser.add_argument("--batch", type=int, default=1000)
    parser.add_argument("--keep-db", action="store_true")
    parser.add_argument("--conf", required=True)
    args = parser.parse_args()
    config.parse_config(["-c", args.conf])
    n = args.skus
    try:
        print("installing a fresh database (about a minute)...", flush=True)
        install(args.conf, DB)
        registry = odoo.modules.registry.Registry(DB)
        print(f"stocking {n + EXTRA_IN_ODOO} products...", flush=True)
        backend_id, location_id, data = prepare(registry, n)
        rss_before = rss_kib()
        # warm-up: registry caches, schema validator, code paths
        read_quants_once(registry, location_id, False)
        small = dict(data, lines=data["lines"][:500])
        reconcile_once(registry, backend_id, small, args.batch, False)
        base_t, _p, quant_rows = read_quants_once(registry, location_id, False)
        _t, base_peak, _n = read_quants_once(registry, location_id, True)
        rec_t, _p, counts, state, result = reconcile_once(
            registry, backend_id, data, args.batch, False
        )
        _t, rec_peak, _c, _s, _r = reconcile_once(registry, backend_id, data, args.batch, True)
        one_t, _p, _c, _s, _r = reconcile_once(registry, backend_id, data, n + EXTRA_IN_ODOO, False)
        _t, one_peak, _c, _s, _r = reconcile_once(
            registry, backend_id, data, n + EXTRA_IN_ODOO, True
        )
        rss_after, rss_peak = rss_kib(), rss_kib("VmHWM")
    finally:
        if not args.keep_db:
            odoo.sql_db.close_all()
            subprocess.run(["dropdb", "--if-exists", DB], check=False)
    lines, matched, auto, todo = counts
    print(f"\nreconciling a {n:,}-SKU snapshot ({len(json.dumps(data)) / 1024:.0f} KiB of JSON)")
    print(
        f"  result: {state}, {lines:,} lines: {matched:,} matched, {auto} applied automatically "
        f"(inventory adjustments), {todo} to approve"
    )
    print(f"  job result: {result}")
    print(f"  {'':34} {'time':>9} {'heap peak':>11}")
    print(
        f"  {'reconcile, batches of ' + str(args.batch):34} {rec_t:8.2f}s {mib(rec_peak):8.1f} MiB"
        f"   ({rec_t / n * 1000:.2f} ms/SKU)"
    )
    print(f"  {'reconcile, one batch':34} {one_t:8.2f}s {mib(one_peak):8.1f} MiB")
    print(
        f"  {'baseline: read ' + format(quant_rows, ',') + ' quants':34} "
        f"{base_t:8.2f}s {mib(base_peak):8.1f} MiB"
    )
    print(
        f"  {'ratio reconcile / baseline':34} {rec_t / base_t:8.1f}x {rec_peak / base_peak:8.1f}x"
    )
    print(
        f"  process RSS: {rss_before / 1024:.0f} MiB before the runs, {rss_after / 1024:.0f} MiB "
        f"after, high-water mark {rss_peak / 1024:.0f} MiB"
    )


if __name__ == "__main__":
    main()
