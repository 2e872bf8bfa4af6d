"""Time and peak memory to reconcile a 10,000-SKU inventory snapshot from a 3PL.

A fresh database is created with ``logistics_3pl_connector``; a warehouse is mapped to a
3PL backend (tolerance 2 units) and N products (default 10,000) are stocked in it. A
snapshot listing every product is built with some differences: 2 % small ones (applied
automatically as inventory adjustments), 0.5 % large ones (left for approval), and a few
products Odoo holds that the snapshot omits (counted as 0 at the 3PL).

What is measured is the processing of the inbound ``inventory.snapshot`` message, as its
queue job runs it: JSON decoding, schema validation, product lookup, quant comparison,
reconciliation lines, and the inventory adjustments. The baseline is reading the same
quants once (search + read of product, lot, quantity), the least any reconciliation does.

Each case runs in its own fresh Python process against the same committed data (so that
one case's freed memory does not hide the next one's growth), after the same warm-up (a
quant read and a 500-line reconciliation), with a cold ORM cache; everything it writes is
rolled back. Each case is run twice: untimed tracing would slow Python down, so

- the first run gives the seconds and the RSS growth (the process's resident-memory
  high-water mark during the run above its RSS at the start; Linux ``clear_refs``);
- the second, under ``tracemalloc``, gives the Python heap peak above the heap at the start.

Cases: reconcile in batches (default 1,000), reconcile in one batch (batch size = N, to
show what batching saves), and the baseline; then the ratios reconcile / baseline.

    tests/benchmarks/bench_3pl_inventory.sh [--skus 10000] [--batch 1000] [--keep-db]
"""

import argparse
import json
import os
import subprocess
import sys
import tempfile

from benchlib import Measure, install, rss_kib

import odoo
from odoo import SUPERUSER_ID, api
from odoo.tools import config

DB = "logistics_bench_inventory"
EXTRA_IN_ODOO = 20  # products in Odoo's location that the snapshot omits
WARMUP_LINES = 500


# data ------------------------------------------------------------------------------------------
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


# the runs --------------------------------------------------------------------------------------
def reconcile_once(registry, backend_id, data, batch, trace):
    """Store the inbound message, then measure its processing; roll everything back."""
    with registry.cursor() as cr:
        env = api.Environment(cr, SUPERUSER_ID, {})
        env["ir.config_parameter"].set_param("logistics_3pl_connector.inventory_batch_size", batch)
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
        with Measure(trace) as measure:
            result = msg._job_process()
            env.flush_all()
        recon = env["logistics.inventory.reconciliation"].search(
            [("snapshot_ref", "=", data["snapshot_ref"])]
        )
        outcome = {
            "state": msg.state,
            "result": result,
            "lines": recon.line_count,
            "matched": recon.matched_count,
            "auto": recon.auto_applied_count,
            "todo": recon.to_approve_count,
            "adjustments": env["stock.move"].search_count(
                [("is_inventory", "=", True), ("state", "=", "done")]
            ),
        }
        cr.rollback()
    return measure, outcome


def read_quants_once(registry, location_id, trace):
    with registry.cursor() as cr:
        env = api.Environment(cr, SUPERUSER_ID, {})
        env.invalidate_all()
        with Measure(trace) as measure:
            quants = env["stock.quant"].search([("location_id", "child_of", location_id)])
            rows = quants.read(["product_id", "lot_id", "quantity"])
        cr.rollback()
    return measure, {"rows": len(rows)}


def run_case(args):
    """Child process: warm up, then measure one case twice (untraced, traced); print JSON."""
    with open(args.data) as fh:
        setup = json.load(fh)
    registry = odoo.modules.registry.Registry(DB)
    data, location_id, backend_id = setup["data"], setup["location_id"], setup["backend_id"]
    rss_start = rss_kib()
    read_quants_once(registry, location_id, False)
    warm = dict(data, lines=data["lines"][:WARMUP_LINES])
    reconcile_once(registry, backend_id, warm, args.batch, False)
    if args.case == "baseline":

        def run(trace):
            return read_quants_once(registry, location_id, trace)
    else:

        def run(trace):
            return reconcile_once(registry, backend_id, data, args.batch, trace)

    plain, outcome = run(False)
    traced, _outcome = run(True)
    print(
        json.dumps(
            dict(
                outcome,
                seconds=plain.seconds,
                rss_growth=plain.rss_growth,
                exact_rss=plain.exact_rss,
                heap_peak=traced.heap_peak,
                rss_start=rss_start * 1024,
                rss_end=rss_kib() * 1024,
            )
        )
    )


def measure_in_child(args, setup_file, case, batch):
    out = subprocess.run(
        [
            sys.executable,
            os.path.abspath(__file__),
            "--conf",
            args.conf,
            "--case",
            case,
            "--batch",
            str(batch),
            "--data",
            setup_file,
        ],
        check=True,
        capture_output=True,
        text=True,
    )
    return json.loads(out.stdout.strip().splitlines()[-1])


def mib(value):
    return value / 1024 / 1024


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--skus", type=int, default=10000)
    parser.add_argument("--batch", type=int, default=1000)
    parser.add_argument("--keep-db", action="store_true")
    parser.add_argument("--conf", required=True)
    parser.add_argument("--case", help=argparse.SUPPRESS)  # child process
    parser.add_argument("--data", help=argparse.SUPPRESS)
    args = parser.parse_args()
    config.parse_config(["-c", args.conf])
    if args.case:
        run_case(args)
        return
    n = args.skus
    with tempfile.NamedTemporaryFile("w", suffix=".json", delete=False) as fh:
        setup_file = fh.name
    try:
        print("installing a fresh database (about a minute)...", flush=True)
        install(args.conf, DB, "logistics_3pl_connector")
        registry = odoo.modules.registry.Registry(DB)
        print(f"stocking {n + EXTRA_IN_ODOO:,} products...", flush=True)
        backend_id, location_id, data = prepare(registry, n)
        odoo.sql_db.close_all()
        with open(setup_file, "w") as fh:
            json.dump({"backend_id": backend_id, "location_id": location_id, "data": data}, fh)
        results = {}
        for case, batch in (
            ("baseline", args.batch),
            ("batches", args.batch),
            ("one batch", n + EXTRA_IN_ODOO),
        ):
            print(f"measuring: {case}...", flush=True)
            results[case] = measure_in_child(args, setup_file, case, batch)
    finally:
        os.unlink(setup_file)
        if not args.keep_db:
            odoo.sql_db.close_all()
            subprocess.run(["dropdb", "--if-exists", DB], check=False)
            print(f"database {DB} dropped")
    rec, one, base = results["batches"], results["one batch"], results["baseline"]
    print(f"\nreconciling a {n:,}-SKU snapshot ({len(json.dumps(data)) / 1024:.0f} KiB of JSON)")
    print(
        f"  result: {rec['state']}, {rec['lines']:,} lines: {rec['matched']:,} matched, "
        f"{rec['auto']} applied automatically ({rec['adjustments']} inventory adjustment "
        f"moves), {rec['todo']} to approve"
    )
    print(f"  job result: {rec['result']}")
    print(f"  {'':36} {'time':>9} {'heap peak':>12} {'RSS growth':>12}")

    def row(label, res, extra=""):
        print(
            f"  {label:36} {res['seconds']:8.2f}s {mib(res['heap_peak']):8.1f} MiB "
            f"{mib(res['rss_growth']):8.1f} MiB{extra}"
        )

    row(
        f"reconcile, batches of {args.batch:,}", rec, f"   ({rec['seconds'] / n * 1000:.2f} ms/SKU)"
    )
    row("reconcile, one batch", one)
    row(f"baseline: read {base['rows']:,} quants", base)

    def ratio(a, b):
        return f"{a / b:8.2f}x" if b else "     n/a "

    print(
        f"  {'ratio reconcile (batches) / baseline':36} {ratio(rec['seconds'], base['seconds'])} "
        f"{ratio(rec['heap_peak'], base['heap_peak'])}    "
        f"{ratio(rec['rss_growth'], base['rss_growth'])}"
    )
    print(
        f"  {'ratio one batch / batches':36} {ratio(one['seconds'], rec['seconds'])} "
        f"{ratio(one['heap_peak'], rec['heap_peak'])}    "
        f"{ratio(one['rss_growth'], rec['rss_growth'])}"
    )
    how = "high-water mark" if rec["exact_rss"] else "RSS at the end (clear_refs unavailable)"
    print(
        f"  RSS growth: {how} above the RSS at the start of the run; each case in a fresh "
        "process after the same warm-up"
    )
    for label, res in (("batches", rec), ("one batch", one), ("baseline", base)):
        print(
            f"  process RSS ({label}): {mib(res['rss_start']):.0f} MiB after loading, "
            f"{mib(res['rss_end']):.0f} MiB at the end"
        )


if __name__ == "__main__":
    main()
