"""What the carrier connector adds to a rate request, and how fast tracking events are
applied.

A fresh database with ``logistics_carrier_connector`` and a carrier backend on the
EasyPost-shaped simulator (a real HTTP server on loopback, ``tests/logistics_simulators``).

1. Rate requests, in alternating rounds (``--rounds``, ``--rates`` each): through the
   delivery method (``rate_shipment`` of a sale order: canonical payload and schema check,
   the base's recorded synchronous call with its circuit breaker and rate limit, the
   adapter's mapping, Odoo's margins) against the same ``POST /v2/shipments`` sent directly
   with ``requests`` (the baseline). Printed: milliseconds per rate for both and the median
   ratio with its spread.
2. ``--events`` tracking events (10,000 by default, 10 per parcel on 1,000 booked parcels):
   stored through the base's one inbound path as ``tracking.update`` messages and applied by
   their handler, as the job runner would (each message's job performed in-process), against
   the same number of ``integration.ping`` messages (the base's smallest handler) stored and
   processed the same way. Printed: events per second for both, the ratio, and the process's
   RSS growth. Each part is rolled back.

    tests/benchmarks/bench_carrier.sh [--rates 100] [--rounds 4] [--events 10000]
"""

import argparse
import statistics
import subprocess
import time
import uuid

import requests
from benchlib import install, rss_kib
from logistics_simulators.easypost import EasyPostSimulator

import odoo
from odoo import SUPERUSER_ID, api
from odoo.tools import config

KEY = "EZTK_bench"
DB = "logistics_bench_carrier"


def setup(env, sim):
    us = env.ref("base.us")
    env.company.partner_id.write(
        {"street": "5 Dock Rd", "city": "Newark", "zip": "07105", "country_id": us.id}
    )
    backend = env["logistics.backend"].create(
        {
            "name": "Bench carrier",
            "code": "bench-carrier",
            "kind": "carrier",
            "provider": "easypost",
            "base_url": sim.url("/v2"),
            "api_key": KEY,
            "circuit_threshold": 0,
        }
    )
    method = env["delivery.carrier"].create(
        {
            "name": "Bench USPS",
            "delivery_type": "logistics",
            "product_id": env.ref("delivery.product_product_delivery").id,
            "logistics_backend_id": backend.id,
            "logistics_carrier_code": "USPS",
            "logistics_service_code": "Priority",
        }
    )
    customer = env["res.partner"].create(
        {
            "name": "Bench Receiver",
            "street": "12 Elm St",
            "city": "Springfield",
            "zip": "62701",
            "country_id": us.id,
        }
    )
    product = env["product.product"].create(
        {"name": "Bench kettle", "is_storable": True, "weight": 2.0}
    )
    order = env["sale.order"].create(
        {
            "partner_id": customer.id,
            "order_line": [(0, 0, {"product_id": product.id, "product_uom_qty": 2})],
        }
    )
    return backend, method, order


def time_rates(method, order, sim, n):
    through = time.perf_counter()
    for _i in range(n):
        assert method.rate_shipment(order)["success"]
    through = time.perf_counter() - through
    payload = method._logistics_rate_payload(order)
    from odoo.addons.logistics_carrier_connector.adapters.easypost import shipment_request

    body = shipment_request(payload, payload["parcels"][0])
    direct = time.perf_counter()
    for _i in range(n):
        # a connection per request, as the backend's client makes it (a kept-alive session
        # meets the simulator's small writes with delayed acknowledgements: ~40 ms each)
        response = requests.post(sim.url("/v2/shipments"), json=body, auth=(KEY, ""), timeout=10)
        response.raise_for_status()
    direct = time.perf_counter() - direct
    return through, direct


def apply_events(env, backend, message_type, datas):
    from odoo.addons.queue_job.job import Job

    Message = env["logistics.message"]
    start = time.perf_counter()
    _all, new = Message._store_inbound(
        backend,
        [
            {"idempotency_key": str(uuid.uuid4()), "message_type": message_type, "payload": d}
            for d in datas
        ],
    )
    for message in new:
        job = Job.load(env, message.job_id.uuid)
        job.perform()
    env.flush_all()
    elapsed = time.perf_counter() - start
    assert set(new.mapped("state")) == {"processed"}, set(new.mapped("state"))
    return elapsed


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rates", type=int, default=100)
    parser.add_argument("--rounds", type=int, default=4)
    parser.add_argument("--events", type=int, default=10000)
    parser.add_argument("--conf", required=True)
    args = parser.parse_args()
    config.parse_config(["-c", args.conf, "--log-level=warn"])
    started = time.monotonic()
    sim = EasyPostSimulator(api_key=KEY).start()
    print("installing the carrier connector (about a minute)...", flush=True)
    install(args.conf, DB, "logistics_carrier_connector")
    registry = odoo.modules.registry.Registry(DB)
    try:
        with registry.cursor() as cr:
            env = api.Environment(cr, SUPERUSER_ID, {"tracking_disable": True})
            backend, method, order = setup(env, sim)
            time_rates(method, order, sim, 10)  # warm-up
            print(f"\nrate requests, {args.rounds} alternating rounds of {args.rates}:")
            ratios, through_ms, direct_ms = [], [], []
            for i in range(args.rounds):
                through, direct = time_rates(method, order, sim, args.rates)
                ratios.append(through / direct)
                through_ms.append(through / args.rates * 1000)
                direct_ms.append(direct / args.rates * 1000)
                print(
                    f"  round {i + 1}: through the delivery method {through_ms[-1]:5.1f} ms, "
                    f"direct HTTP {direct_ms[-1]:5.1f} ms, ratio {ratios[-1]:.2f} x",
                    flush=True,
                )
            print(
                f"  median: {statistics.median(through_ms):.1f} vs "
                f"{statistics.median(direct_ms):.1f} ms per rate, "
                f"{statistics.median(ratios):.2f} x (spread {min(ratios):.2f}-{max(ratios):.2f})"
            )
            cr.rollback()

        if not args.events:
            return
        with registry.cursor() as cr:
            env = api.Environment(cr, SUPERUSER_ID, {"tracking_disable": True})
            backend, method, order = setup(env, sim)
            parcels_n = max(1, args.events // 10)
            picking = env["stock.picking"].create(
                {
                    "picking_type_id": env.ref("stock.picking_type_out").id,
                    "partner_id": order.partner_id.id,
                }
            )
            env["logistics.carrier.parcel"].create(
                [
                    {
                        "picking_id": picking.id,
                        "backend_id": backend.id,
                        "tracking_number": f"BENCH{i:08d}",
                        "tracker_ref": f"trk_{i}",
                    }
                    for i in range(parcels_n)
                ]
            )
            codes = [
                "pre_transit",
                "in_transit",
                "in_transit",
                "in_transit",
                "in_transit",
                "in_transit",
                "in_transit",
                "in_transit",
                "out_for_delivery",
                "delivered",
            ]
            milestones = {"pre_transit": "label_created"}
            tracking = []
            for step, code in enumerate(codes):
                for i in range(parcels_n):
                    tracking.append(
                        {
                            "tracking_number": f"BENCH{i:08d}",
                            "carrier": "USPS",
                            "status": milestones.get(code, code),
                            "carrier_status": code,
                            "events": [
                                {
                                    "time": f"2026-11-30T{8 + step:02d}:00:00Z",
                                    "milestone": milestones.get(code, code),
                                    "carrier_status": code,
                                    "description": code,
                                    "location": "Newark, US",
                                }
                            ],
                        }
                    )
            tracking = tracking[: args.events]
            pings = [{"message": f"ping {i}"} for i in range(len(tracking))]
            env.flush_all()
            rss0 = rss_kib()
            ping_s = apply_events(env, backend, "integration.ping", pings)
            track_s = apply_events(env, backend, "tracking.update", tracking)
            rss1 = rss_kib()
            events = env["logistics.carrier.tracking.event"].search_count([])
            assert events == len(tracking), events
            n = len(tracking)
            print(f"\n{n:,} inbound messages stored and applied, in-process jobs:")
            print(f"  integration.ping (baseline)  {n / ping_s:7.0f} per s ({ping_s:.1f} s)")
            print(
                f"  tracking.update              {n / track_s:7.0f} per s ({track_s:.1f} s), "
                f"{events:,} timeline lines on {parcels_n:,} parcels"
            )
            print(
                f"  ratio {track_s / ping_s:.2f} x the baseline's time; RSS growth over both "
                f"{(rss1 - rss0) / 1024:.0f} MiB"
            )
            cr.rollback()
    finally:
        sim.stop()
        odoo.sql_db.close_all()
        subprocess.run(["dropdb", "--if-exists", DB], check=False)
    print(f"\nwhole run {time.monotonic() - started:.0f} s")


if __name__ == "__main__":
    main()
