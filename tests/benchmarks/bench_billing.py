"""Milestones turned into billing events and invoiced, and freight invoices audited: time and
memory, against plain ORM creation of the same records.

A fresh database with ``logistics_billing_events`` (chart of accounts loaded if missing), a
3PL backend, 100 customers (``--customers``) and two billing rules for 3PL shipments that
match every milestone (pick & pack per order, 2.00 or a customer's own price for one customer
in ten, and per unit, 0.35; service products with a 10 % sales tax).

1. **Milestones → billing events** (``record``): ``--milestones`` shipments (10,000 by
   default, spread over two months and the customers, 1 to 5 units each) recorded through
   ``_logistics_record_milestone``, as the shipment handler calls it, in committed batches of
   ``--batch`` (1,000) per transaction, each in a fresh cursor as a cron's: rule matching
   (the most specific rule per service), the idempotency look-up, one event per rule, each
   inserted in its own savepoint — ~20,000 events. The shipment itself, its measures and the
   open-exception look-up of ``_logistics_billing_shipped`` are left out: the units are given.
   Baseline (``bare``): the same number of events with the same values created with one
   ``create`` per batch (same batch size in events, same commits): the model's own cost
   (sequence, ``mail.thread``, stored computes), without rule matching or idempotency.
2. **Billing events → invoices** (``invoice``): ``_logistics_invoice()`` on the billable
   events of one customer per committed batch (two draft invoices of about 100 lines each:
   one per customer and month, one line per event), for the first ``--invoice-customers``
   customers (all 100 by default: every event is invoiced). The invoices and lines are
   checked (one invoice per customer and month, a line per event,
   amounts). Baseline (``plain``): the same invoices with the same lines (product,
   description, quantity, price, fiscal position) created directly, one ``account.move``
   ``create`` per invoice with its lines, in the same batches: Odoo's own invoice creation.
3. **Freight audit** (``audit``): ``--freight-invoices`` carrier invoices (500) of
   ``--shipments`` shipments each (10: 5,000 lines) received through ``_logistics_receive``
   in committed batches of ``--audit-batch`` (50): shipment matching by delivery name, the
   expected cost (the parcel's booked rate + the contract fuel rate per kg of the delivery's
   done moves), tolerance and billed-weight checks, Odoo's duplicate-reference check, then a
   draft vendor bill of 2 lines per shipment (freight and fuel) for every invoice within
   tolerance. One invoice in ten has a shipment billed 5.00 over its booked rate: left to
   review, no bill. The 5,000 deliveries are created up front with one move of a 2 kg
   product each and marked done in SQL (no stock is moved: the audit only reads them), with
   one booked parcel each; these records are not part of what is measured. Baseline
   (``bills``): the vendor bills the audit created, created again directly (same vendor,
   date, lines, no taxes) in the same batches, for the first ``--bill-batches`` (2) batches:
   the ratio is per shipment line.

Each case runs in its own fresh Python process against the data the previous cases
committed, in this order: record, invoice, plain, bare, audit, bills, after a small
rolled-back warm-up of its own (10 milestones, events or lines). Printed per case: the time,
the rate, the RSS growth (the process's resident-memory high-water mark over the timed run
above its RSS at the start; Linux ``clear_refs``), and for parts 1 and 2 the Python heap peak
of one more batch run under ``tracemalloc`` and rolled back (record and bare: a batch of
``--batch`` milestones; invoice and plain: one invoice, the next customer's October), as
tracing slows Python down several times and is kept out of the timed run. Then the ratios to
the baselines, and checks of the counts and amounts. The whole run takes about 15 minutes
here. The machine is shared and noisy: read ratios as ranges.

    tests/benchmarks/bench_billing.sh [--milestones 10000] [--customers 100] [--batch 1000]
        [--invoice-customers 100] [--freight-invoices 500] [--shipments 10] [--audit-batch 50]
        [--bill-batches 2] [--keep-db]
"""

import argparse
import copy
import json
import os
import subprocess
import sys
import tempfile
import time
from datetime import datetime, timedelta

from benchlib import Measure, install, rss_kib

import odoo
from odoo import SUPERUSER_ID, Command, api
from odoo.tools import config

DB = "logistics_bench_billing"
START = datetime(2026, 10, 1)  # two months: October and November
DAYS = 61
EXTRA_START = datetime(2026, 12, 1)  # the traced batch's milestones
PER_ORDER, PER_UNIT, OWN_PRICE = 2.0, 0.35, 1.6
FUEL_PER_KG = 0.5
ITEM_KG = 2.0
OVERBILLED = 5.0  # added to one shipment of one invoice in ten: beyond the tolerance
WARMUP = 10  # milestones, events, lines: each case first runs a small rolled-back batch


# data ------------------------------------------------------------------------------------------
def env_of(cr, **context):
    return api.Environment(cr, SUPERUSER_ID, context)


def prepare(registry, args):
    """Commit the chart of accounts, customers, rules, 3PL and carrier backends, deliveries
    and parcels; return what the cases need (ids and the freight invoices)."""
    with registry.cursor() as cr:
        env = env_of(cr, tracking_disable=True, mail_create_nolog=True)
        company = env.company
        if not env["account.journal"].search(
            [("type", "=", "sale"), ("company_id", "=", company.id)], limit=1
        ):
            env["account.chart.template"].try_loading("generic_coa", company, install_demo=False)
        tax = env["account.tax"].create(
            {
                "name": "Logistics services 10%",
                "amount": 10.0,
                "amount_type": "percent",
                "type_tax_use": "sale",
                "company_id": company.id,
            }
        )
        Product = env["product.product"]

        def service(name, code):
            return Product.create(
                {
                    "name": name,
                    "default_code": code,
                    "type": "service",
                    "taxes_id": [Command.set(tax.ids)],
                }
            )

        pick_order = service("Pick & pack per order", "SRV-PICK-ORDER")
        pick_unit = service("Pick & pack per unit", "SRV-PICK-UNIT")
        customers = env["res.partner"].create(
            [{"name": f"Bench customer {c:03d}", "is_company": True} for c in range(args.customers)]
        )
        Rule = env["logistics.billing.rule"]
        per_order = Rule.create(
            {
                "name": "Pick & pack per order",
                "milestone": "shipped",
                "product_id": pick_order.id,
                "price_basis": "fixed",
                "price": PER_ORDER,
            }
        )
        per_unit = Rule.create(
            {
                "name": "Pick & pack per unit",
                "milestone": "shipped",
                "product_id": pick_unit.id,
                "price_basis": "per_unit",
                "price": PER_UNIT,
            }
        )
        own = {}
        for customer in customers[::10]:  # a customer's own price wins over the general rule
            own[customer.id] = Rule.create(
                {
                    "name": f"Pick & pack per order, {customer.name}",
                    "milestone": "shipped",
                    "partner_id": customer.id,
                    "product_id": pick_order.id,
                    "price_basis": "fixed",
                    "price": OWN_PRICE,
                }
            ).id
        threepl = env["logistics.backend"].create(
            {
                "name": "Bench 3PL",
                "code": "bench-3pl",
                "kind": "3pl",
                "base_url": "http://127.0.0.1:9/none",
            }
        )
        setup = {
            "customers": customers.ids,
            "threepl": threepl.id,
            "per_order": per_order.id,
            "per_unit": per_unit.id,
            "own": {str(k): v for k, v in own.items()},
            "pick_order": pick_order.id,
            "pick_unit": pick_unit.id,
        }
        setup.update(prepare_freight(env, args))
        cr.commit()
    return setup


def prepare_freight(env, args):
    """Deliveries (one 2 kg move each, done), a booked parcel each, the carrier backend with
    its contract fuel rate, and the invoices the carrier sends."""
    company = env.company
    vendor = env["res.partner"].create({"name": "Parcel Co Billing", "is_company": True})
    freight_cost = env["product.product"].create(
        {"name": "Freight costs", "type": "service", "purchase_ok": True}
    )
    item = env["product.product"].create(
        {"name": "Boxed item", "default_code": "BENCH-BOX", "type": "consu", "weight": ITEM_KG}
    )
    carrier = env["logistics.backend"].create(
        {
            "name": "Parcel Co",
            "code": "bench-parcel-co",
            "kind": "carrier",
            "base_url": "http://127.0.0.1:9/none",
            "freight_vendor_id": vendor.id,
            "freight_product_id": freight_cost.id,
            "freight_tolerance_amount": 1.0,
            "freight_tolerance_percent": 5.0,
            "freight_bill_policy": "draft",
        }
    )
    env["logistics.freight.rate"].create(
        {"backend_id": carrier.id, "charge_code": "fuel", "basis": "per_kg", "price": FUEL_PER_KG}
    )
    out = env.ref("stock.picking_type_out")
    source = out.default_location_src_id
    dest = env.ref("stock.stock_location_customers")
    receiver = env["res.partner"].create({"name": "Bench receiver", "is_company": True})
    n = args.freight_invoices * args.shipments
    shipments = []
    for start in range(0, n, 500):
        rows = range(start, min(start + 500, n))
        pickings = env["stock.picking"].create(
            [
                {
                    "picking_type_id": out.id,
                    "partner_id": receiver.id,
                    "location_id": source.id,
                    "location_dest_id": dest.id,
                    "move_ids": [
                        Command.create(
                            {
                                "name": item.name,
                                "product_id": item.id,
                                "product_uom_qty": 1 + i % 3,
                                "product_uom": item.uom_id.id,
                                "location_id": source.id,
                                "location_dest_id": dest.id,
                            }
                        )
                    ],
                }
                for i in rows
            ]
        )
        parcels = env["logistics.carrier.parcel"].create(
            [
                {
                    "picking_id": picking.id,
                    "backend_id": carrier.id,
                    "tracking_number": f"9400BENCH{i:08d}",
                    "service": "USPS Priority",
                    "price": round(6.0 + (i % 13) * 0.5, 2),
                    "currency": "USD",
                    "state": "booked",
                }
                for i, picking in zip(rows, pickings, strict=True)
            ]
        )
        env.flush_all()
        for i, picking, parcel in zip(rows, pickings, parcels, strict=True):
            shipments.append(
                {
                    "ref": picking.name,
                    "tracking": parcel.tracking_number,
                    "price": parcel.price,
                    "kg": ITEM_KG * (1 + i % 3),
                }
            )
        # done without moving stock: the audit only reads the delivery's done moves
        env.cr.execute(
            "UPDATE stock_move SET state = 'done', quantity = product_uom_qty, picked = true, "
            "date = now() WHERE picking_id = ANY(%s)",
            [pickings.ids],
        )
        env.cr.execute(
            "UPDATE stock_picking SET state = 'done', date_done = now() WHERE id = ANY(%s)",
            [pickings.ids],
        )
        env.invalidate_all()
        print(f"  {len(shipments):,} deliveries with a booked parcel", end="\r", flush=True)
    print()
    invoices = []
    for k in range(args.freight_invoices):
        lines = []
        for j in range(args.shipments):
            s = shipments[k * args.shipments + j]
            freight = s["price"] + (OVERBILLED if k % 10 == 9 and j == 0 else 0.0)
            lines.append(
                {
                    "shipment_ref": s["ref"],
                    "tracking_number": s["tracking"],
                    "weight_kg": s["kg"],
                    "charges": [
                        {"code": "freight", "amount": round(freight, 2), "description": "base"},
                        {
                            "code": "fuel",
                            "amount": round(s["kg"] * FUEL_PER_KG, 2),
                            "description": f"fuel {s['kg']:g} kg",
                        },
                    ],
                }
            )
        invoices.append(
            {
                "invoice_number": f"PC-{k + 1:06d}",
                "invoice_date": "2026-11-30",
                "currency": "USD",
                "total": round(sum(c["amount"] for s in lines for c in s["charges"]), 2),
                "shipments": lines,
            }
        )
    return {
        "carrier": carrier.id,
        "vendor": vendor.id,
        "currency": company.currency_id.id,
        "freight_invoices": invoices,
    }


# part 1: milestones -> events ------------------------------------------------------------------
def milestone_date(i, n, start=START, days=DAYS):
    return start + timedelta(seconds=int(i * days * 86400 / n))


def units(i):
    return 1 + i % 5


def record_batch(registry, setup, rows, n, extra=False):
    """``_logistics_record_milestone`` for the milestones ``rows``; returns the events."""
    with registry.cursor() as cr:
        env = env_of(cr)
        Event = env["logistics.billing.event"]
        partners = env["res.partner"].browse(setup["customers"])
        backend = env["logistics.backend"].browse(setup["threepl"])
        company = env.company
        created = 0
        for i in rows:
            key = f"shipped:logistics.shipment:{'x' if extra else ''}{i}"
            created += len(
                Event._logistics_record_milestone(
                    "shipped",
                    key,
                    company,
                    partners[i % len(partners)],
                    {"units": units(i), "lines": 1 + i % 3},
                    milestone_date(i, n, *((EXTRA_START, 30) if extra else ())),
                    backend=backend,
                    description=f"shipment SHP-{i:06d}",
                )
            )
        env.flush_all()
        if extra:
            cr.rollback()
    return created


def case_record(registry, setup, args):
    n, batch = args.milestones, args.batch
    record_batch(registry, setup, range(WARMUP), WARMUP, extra=True)
    with Measure() as timed:
        events = sum(
            record_batch(registry, setup, range(start, min(start + batch, n)), n)
            for start in range(0, n, batch)
        )
    with Measure(trace=True) as traced:
        record_batch(registry, setup, range(min(batch, n)), min(batch, n), extra=True)
    with registry.cursor() as cr:
        env = env_of(cr)
        states = dict(
            env["logistics.billing.event"]._read_group(
                [("milestone_key", "=like", "shipped:%")], ["state"], ["__count"]
            )
        )
        own = env["logistics.billing.event"].search_count(
            [("rule_id", "in", list(setup["own"].values()))]
        )
    return {"events": events, "states": states, "own_price": own, **figures(timed, traced)}


def bare_vals(setup, env, rows, n, prefix="bare"):
    """The values ``_logistics_record_milestone`` gives the events of milestones ``rows``."""
    company = env.company
    vals = []
    for i in rows:
        customer = setup["customers"][i % len(setup["customers"])]
        own = setup["own"].get(str(customer))
        for rule, product, qty, price in (
            (own or setup["per_order"], setup["pick_order"], 1.0, OWN_PRICE if own else PER_ORDER),
            (setup["per_unit"], setup["pick_unit"], float(units(i)), PER_UNIT),
        ):
            vals.append(
                {
                    "company_id": company.id,
                    "partner_id": customer,
                    "rule_id": rule,
                    "product_id": product,
                    "milestone": "shipped",
                    "milestone_key": f"{prefix}:logistics.shipment:{i}",
                    "backend_id": setup["threepl"],
                    "date": milestone_date(i, n),
                    "description": f"Pick & pack: shipment SHP-{i:06d}",
                    "quantity": qty,
                    "price_unit": price,
                    "currency_id": company.currency_id.id,
                    "state": "approved",
                }
            )
    return vals


def bare_batch(registry, setup, rows, n, rollback=False):
    with registry.cursor() as cr:
        env = env_of(cr)
        prefix = "bare-traced" if rollback else "bare"
        events = env["logistics.billing.event"].create(bare_vals(setup, env, rows, n, prefix))
        env.flush_all()
        if rollback:
            cr.rollback()
    return len(events)


def case_bare(registry, setup, args):
    n, batch = args.milestones, args.batch
    bare_batch(registry, setup, range(WARMUP), n, rollback=True)
    with Measure() as timed:
        events = sum(
            bare_batch(registry, setup, range(start, min(start + batch, n)), n)
            for start in range(0, n, batch)
        )
    with Measure(trace=True) as traced:
        bare_batch(registry, setup, range(min(batch, n)), n, rollback=True)
    return {"events": events, **figures(timed, traced)}


# part 2: events -> invoices --------------------------------------------------------------------
def invoice_batch(registry, customer, before=None, rollback=False, limit=None):
    """Invoice the billable events of a customer (before a date: one month only)."""
    with registry.cursor() as cr:
        env = env_of(cr)
        domain = [("partner_id", "=", customer), ("state", "=", "approved")]
        if before:
            domain.append(("date", "<", before))
        events = env["logistics.billing.event"].search(domain, limit=limit)
        moves = events._logistics_invoice()
        env.flush_all()
        result = (len(events), len(moves), len(moves.invoice_line_ids))
        if rollback:
            cr.rollback()
    return result


def case_invoice(registry, setup, args):
    customers = setup["customers"][: args.invoice_customers]
    following = setup["customers"][args.invoice_customers % len(setup["customers"])]
    invoice_batch(registry, following, rollback=True, limit=WARMUP)
    with Measure() as timed:
        done = [invoice_batch(registry, c) for c in customers]
    events, moves, lines = (sum(col) for col in zip(*done, strict=True))
    traced, traced_events = None, 0
    if args.invoice_customers < len(setup["customers"]):  # the next customer's October
        with Measure(trace=True) as traced:
            traced_events = invoice_batch(
                registry, following, before=datetime(2026, 11, 1), rollback=True
            )[0]
    with registry.cursor() as cr:
        env = env_of(cr)
        Event = env["logistics.billing.event"]
        invoiced = Event.search([("partner_id", "in", customers), ("state", "!=", "rejected")])
        moves_ = invoiced.invoice_id
        per_key = {(m.partner_id.id, m.invoice_origin) for m in moves_}
        check = {
            "events_on_invoices": len(invoiced.filtered(lambda e: e.state == "draft_invoice")),
            "events_total": len(invoiced),
            "invoices": len(moves_),
            "customer_months": len(per_key),
            "lines": len(moves_.invoice_line_ids),
            "lines_with_one_event": len(
                moves_.invoice_line_ids.filtered(
                    lambda li: len(li.logistics_billing_event_ids) == 1
                )
            ),
            "untaxed": round(sum(moves_.mapped("amount_untaxed")), 2),
            "events_amount": round(sum(invoiced.mapped("amount")), 2),
            "total": round(sum(moves_.mapped("amount_total")), 2),
            "draft": all(m.state == "draft" for m in moves_),
        }
    return {
        "events": events,
        "moves": moves,
        "lines": lines,
        "traced_events": traced_events,
        "check": check,
        **figures(timed, traced),
    }


def plain_vals(env, customers):
    """Per customer, the values of the invoices the billing created for them, as data."""
    result = []
    for customer in customers:
        moves = env["account.move"].search(
            [("move_type", "=", "out_invoice"), ("partner_id", "=", customer)], order="id"
        )
        result.append(
            [
                {
                    "move_type": "out_invoice",
                    "partner_id": move.partner_id.id,
                    "currency_id": move.currency_id.id,
                    "fiscal_position_id": move.fiscal_position_id.id,
                    "invoice_origin": move.invoice_origin,
                    "narration": str(move.narration or ""),
                    "invoice_line_ids": [
                        Command.create(
                            {
                                "product_id": line.product_id.id,
                                "name": line.name,
                                "quantity": line.quantity,
                                "price_unit": line.price_unit,
                            }
                        )
                        for line in move.invoice_line_ids.sorted("id")
                    ],
                }
                for move in moves
            ]
        )
    return result


def plain_batch(registry, vals_list, rollback=False):
    with registry.cursor() as cr:
        env = env_of(cr)
        Move = env["account.move"]
        moves = Move.browse()
        for vals in vals_list:  # one create per invoice, with its lines
            moves |= Move.create(vals)
        env.flush_all()
        result = (len(moves), len(moves.invoice_line_ids))
        if rollback:
            cr.rollback()
    return result


def case_plain(registry, setup, args):
    with registry.cursor() as cr:
        batches = plain_vals(env_of(cr), setup["customers"][: args.invoice_customers])
    first = batches[0][0]
    warmup = dict(first, invoice_line_ids=first["invoice_line_ids"][:WARMUP])
    plain_batch(registry, copy.deepcopy([warmup]), rollback=True)
    traced_vals = copy.deepcopy(batches[0][:1])  # create may change the values it is given
    with Measure() as timed:
        done = [plain_batch(registry, batch) for batch in batches]
    moves, lines = (sum(col) for col in zip(*done, strict=True))
    with Measure(trace=True) as traced:
        plain_batch(registry, traced_vals, rollback=True)
    return {"moves": moves, "lines": lines, **figures(timed, traced)}


# part 3: freight audit -------------------------------------------------------------------------
def audit_batch(registry, setup, rows, rollback=False):
    with registry.cursor() as cr:
        env = env_of(cr)
        backend = env["logistics.backend"].browse(setup["carrier"])
        currency = env["res.currency"].browse(setup["currency"])
        Invoice = env["logistics.freight.invoice"]
        for data in rows:
            Invoice._logistics_receive(backend, data, currency)
        env.flush_all()
        if rollback:
            cr.rollback()


def case_audit(registry, setup, args):
    datas = setup["freight_invoices"]
    size = args.audit_batch
    audit_batch(registry, setup, [dict(datas[0], invoice_number="WARM-UP")], rollback=True)
    with Measure() as timed:
        for start in range(0, len(datas), size):
            audit_batch(registry, setup, datas[start : start + size])
    with registry.cursor() as cr:
        env = env_of(cr)
        invoices = env["logistics.freight.invoice"].search([("backend_id", "=", setup["carrier"])])
        billed = invoices.filtered(lambda i: i.state == "billed")
        review = invoices - billed
        check = {
            "invoices": len(invoices),
            "lines": len(invoices.line_ids),
            "matched": len(invoices.line_ids.filtered("picking_id")),
            "billed": len(billed),
            "to_review": len(review),
            "review_with_variance": len(
                review.filtered(lambda i: f"+{OVERBILLED:.2f}, more than" in (i.issues or ""))
            ),
            "bills": len(billed.move_id),
            "bill_lines": len(billed.move_id.invoice_line_ids),
            "bills_match": all(
                round(i.move_id.amount_total, 2) == round(i.total, 2) for i in billed
            ),
            "draft": all(i.move_id.state == "draft" for i in billed),
        }
    return {"check": check, **figures(timed)}


def case_bills(registry, setup, args):
    size = args.audit_batch
    numbers = [d["invoice_number"] for d in setup["freight_invoices"]]
    batches = []
    with registry.cursor() as cr:
        env = env_of(cr)
        for start in range(0, min(args.bill_batches * size, len(numbers)), size):
            invoices = env["logistics.freight.invoice"].search(
                [
                    ("backend_id", "=", setup["carrier"]),
                    ("name", "in", numbers[start : start + size]),
                    ("state", "=", "billed"),
                ],
                order="id",
            )
            batches.append(
                [
                    {
                        "move_type": "in_invoice",
                        "partner_id": bill.partner_id.id,
                        "ref": f"PLAIN-{bill.ref}",
                        "invoice_date": bill.invoice_date,
                        "currency_id": bill.currency_id.id,
                        "invoice_line_ids": [
                            Command.create(
                                {
                                    "product_id": line.product_id.id,
                                    "name": line.name,
                                    "quantity": line.quantity,
                                    "price_unit": line.price_unit,
                                    "tax_ids": [Command.clear()],
                                }
                            )
                            for line in bill.invoice_line_ids.sorted("id")
                        ],
                    }
                    for bill in invoices.move_id.sorted("id")
                ]
            )
    shipments = sum(len(vals["invoice_line_ids"]) for b in batches for vals in b) // 2
    warmup = copy.deepcopy(dict(batches[0][0], ref="PLAIN-WARM-UP"))
    plain_batch(registry, [warmup], rollback=True)
    with Measure() as timed:
        done = [plain_batch(registry, batch) for batch in batches]
    moves, lines = (sum(col) for col in zip(*done, strict=True))
    return {"moves": moves, "lines": lines, "shipments": shipments, **figures(timed)}


# running the cases -----------------------------------------------------------------------------
def figures(timed, traced=None):
    return {
        "seconds": timed.seconds,
        "rss_growth": timed.rss_growth,
        "exact_rss": timed.exact_rss,
        "heap_peak": traced.heap_peak if traced else None,
        "traced_seconds": traced.seconds if traced else None,
        "rss_end": rss_kib() * 1024,
    }


CASES = {
    "record": case_record,
    "invoice": case_invoice,
    "plain": case_plain,
    "bare": case_bare,
    "audit": case_audit,
    "bills": case_bills,
}


def run_case(args):
    """Child process: run one case, print its figures as JSON (last line)."""
    with open(args.data) as fh:
        setup = json.load(fh)
    registry = odoo.modules.registry.Registry(DB)
    rss_start = rss_kib() * 1024
    result = CASES[args.case](registry, setup, args)
    result["rss_start"] = rss_start
    print(json.dumps(result, default=str))


def measure_in_child(args, setup_file, case):
    command = [sys.executable, os.path.abspath(__file__), "--case", case, "--data", setup_file]
    for name, value in vars(args).items():
        if name not in ("case", "data", "keep_db") and value is not None:
            command += [f"--{name.replace('_', '-')}", str(value)]
    out = subprocess.run(command, check=False, capture_output=True, text=True)
    if out.returncode:
        sys.stderr.write(out.stderr[-5000:])
        raise SystemExit(f"case {case} failed")
    return json.loads(out.stdout.strip().splitlines()[-1])


def mib(value):
    return value / 1024 / 1024


def ratio(a, b):
    return f"{a / b:5.2f} x" if a is not None and b else "  n/a "


def verdict(expected):
    """'ok', or what differs: ``expected`` maps a label to (found, expected)."""
    wrong = [
        f"{label} {found} (expected {want})"
        for label, (found, want) in expected.items()
        if found != want
    ]
    return "ok" if not wrong else "FAILED: " + "; ".join(wrong)


def report(args, r):
    rec, bare, inv, plain, audit, bills = (
        r[c] for c in ("record", "bare", "invoice", "plain", "audit", "bills")
    )
    n = args.milestones
    own_customers = len(range(0, args.customers, 10))
    own_milestones = sum(1 for i in range(n) if i % args.customers % 10 == 0)
    print(
        f"\n1. {n:,} milestones -> billing events ({args.customers} customers, 2 rules each, "
        f"committed batches of {args.batch:,})"
    )
    print(
        f"  {rec['events']:,} events ({rec['own_price']:,} at the own price of "
        f"{own_customers} customers), by state: {rec['states']}; checks: "
        + verdict(
            {
                "events": (rec["events"], 2 * n),
                "bare events": (bare["events"], 2 * n),
                "own-price events": (rec["own_price"], own_milestones),
                "billable": (rec["states"].get("approved"), 2 * n),
            }
        )
    )
    head = f"  {'':40} {'time':>8} {'per s':>9} {'heap peak*':>11} {'RSS growth':>11}"
    print(head)

    def row(label, res, count, unit):
        heap = "" if res["heap_peak"] is None else f"{mib(res['heap_peak']):7.1f} MiB"
        print(
            f"  {label:40} {res['seconds']:7.1f}s {count / res['seconds']:7.0f}/s "
            f"{heap:>11} {mib(res['rss_growth']):7.1f} MiB   ({res['seconds'] / count * 1000:.2f} "
            f"ms per {unit})"
        )

    row("_logistics_record_milestone", rec, rec["events"], "event")
    row("baseline: bare events, create per batch", bare, bare["events"], "event")
    print(
        f"  {'ratio record / bare (per event)':40} "
        f"{ratio(rec['seconds'] / rec['events'], bare['seconds'] / bare['events']):>8} "
        f"{'':9} {ratio(rec['heap_peak'], bare['heap_peak']):>11} "
        f"{ratio(rec['rss_growth'], bare['rss_growth']):>11}"
    )
    check = inv["check"]
    print(
        f"\n2. billing events -> draft invoices, one customer per committed batch "
        f"({args.invoice_customers} of {args.customers} customers)"
    )
    print(
        f"  {inv['events']:,} events on {inv['moves']} invoices "
        f"({check['customer_months']} customer-months), {inv['lines']:,} lines "
        f"({check['lines_with_one_event']:,} with one event each); untaxed "
        f"{check['untaxed']:,.2f} = events {check['events_amount']:,.2f}, total with tax "
        f"{check['total']:,.2f}; checks: "
        + verdict(
            {
                "invoices": (inv["moves"], 2 * args.invoice_customers),
                "customer-months": (check["customer_months"], inv["moves"]),
                "lines": (inv["lines"], inv["events"]),
                "lines of one event": (check["lines_with_one_event"], inv["events"]),
                "events on a draft invoice": (check["events_on_invoices"], inv["events"]),
                "events of these customers": (check["events_total"], inv["events"]),
                "untaxed": (check["untaxed"], check["events_amount"]),
                "all draft": (check["draft"], True),
                "plain invoices": (plain["moves"], inv["moves"]),
                "plain lines": (plain["lines"], inv["lines"]),
            }
        )
    )
    print(head)
    row("_logistics_invoice", inv, inv["events"], "event")
    row("baseline: same invoices, account.move", plain, plain["lines"], "line")
    print(
        f"  {'ratio invoice / plain (per line)':40} "
        f"{ratio(inv['seconds'] / inv['lines'], plain['seconds'] / plain['lines']):>8} "
        f"{'':9} {ratio(inv['heap_peak'], plain['heap_peak']):>11} "
        f"{ratio(inv['rss_growth'], plain['rss_growth']):>11}"
    )
    per_event = rec["seconds"] / rec["events"] + inv["seconds"] / inv["events"]
    per_line = plain["seconds"] / plain["lines"]
    print(
        f"  milestone to invoice line: {per_event * 1000:.1f} ms per event (record + invoice) vs "
        f"{per_line * 1000:.1f} ms per line created directly: {per_event / per_line:.1f} x"
    )
    if inv["events"] < rec["events"]:
        print(
            f"  all {rec['events']:,} events at this rate: about "
            f"{inv['seconds'] / inv['events'] * rec['events'] / 60:.1f} min to invoice "
            f"(plain invoices: {per_line * rec['events'] / 60:.1f} min)"
        )
    print(
        f"  * heap peak: one more batch under tracemalloc, rolled back (record and bare: "
        f"{min(args.batch, n):,} milestones; invoice and plain: one invoice, "
        f"{inv['traced_events']} events)"
    )
    check = audit["check"]
    shipments = check["lines"]
    review = sum(1 for k in range(args.freight_invoices) if k % 10 == 9)
    print(
        f"\n3. freight audit: {check['invoices']} carrier invoices, {shipments:,} shipment lines "
        f"({check['matched']:,} matched to their delivery), committed batches of "
        f"{args.audit_batch}"
    )
    print(
        f"  {check['billed']} billed: {check['bills']} draft vendor bills, "
        f"{check['bill_lines']:,} lines, totals match: {check['bills_match']}; "
        f"{check['to_review']} to review ({check['review_with_variance']} with the "
        f"{OVERBILLED:.2f} variance named); checks: "
        + verdict(
            {
                "invoices": (check["invoices"], args.freight_invoices),
                "lines": (shipments, args.freight_invoices * args.shipments),
                "matched": (check["matched"], shipments),
                "to review": (check["to_review"], review),
                "named variances": (check["review_with_variance"], review),
                "billed": (check["billed"], args.freight_invoices - review),
                "bills": (check["bills"], check["billed"]),
                "bill lines": (check["bill_lines"], check["billed"] * args.shipments * 2),
                "bill totals": (check["bills_match"], True),
                "all draft": (check["draft"], True),
            }
        )
    )
    print(f"  {'':40} {'time':>8} {'per s':>9} {'':11} {'RSS growth':>11}")
    row("_logistics_receive (audit + bill)", audit, shipments, "shipment")
    row(f"baseline: {bills['moves']} same vendor bills", bills, bills["shipments"], "shipment")
    print(
        f"  {'ratio audit / bills (per shipment)':40} "
        f"{ratio(audit['seconds'] / shipments, bills['seconds'] / bills['shipments']):>8}"
    )
    how = "high-water mark" if rec["exact_rss"] else "RSS at the end (clear_refs unavailable)"
    print(
        f"\nRSS growth: {how} above the RSS at the start of the timed run; each case in a fresh "
        "process"
    )
    for case, res in r.items():
        print(
            f"  process RSS ({case}): {mib(res['rss_start']):.0f} MiB after loading, "
            f"{mib(res['rss_end']):.0f} MiB at the end"
        )


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--milestones", type=int, default=10000)
    parser.add_argument("--customers", type=int, default=100)
    parser.add_argument("--batch", type=int, default=1000)
    parser.add_argument("--invoice-customers", type=int, default=100)
    parser.add_argument("--freight-invoices", type=int, default=500)
    parser.add_argument("--shipments", type=int, default=10)
    parser.add_argument("--audit-batch", type=int, default=50)
    parser.add_argument("--bill-batches", type=int, default=2)
    parser.add_argument("--keep-db", action="store_true")
    parser.add_argument("--conf", required=True)
    parser.add_argument("--case", help=argparse.SUPPRESS)  # child process
    parser.add_argument("--data", help=argparse.SUPPRESS)
    args = parser.parse_args()
    config.parse_config(["-c", args.conf, "--log-level=warn"])
    if args.case:
        run_case(args)
        return
    started = time.monotonic()
    with tempfile.NamedTemporaryFile("w", suffix=".json", delete=False) as fh:
        setup_file = fh.name
    results = {}
    try:
        print("installing a fresh database (about two minutes)...", flush=True)
        install(args.conf, DB, "logistics_billing_events")
        registry = odoo.modules.registry.Registry(DB)
        print("customers, rules, deliveries and parcels...", flush=True)
        setup = prepare(registry, args)
        odoo.sql_db.close_all()
        with open(setup_file, "w") as fh:
            json.dump(setup, fh)
        for case in CASES:
            print(f"measuring: {case}... ({time.monotonic() - started:.0f} s)", flush=True)
            results[case] = measure_in_child(args, setup_file, case)
    finally:
        os.unlink(setup_file)
        if not args.keep_db:
            odoo.sql_db.close_all()
            subprocess.run(["dropdb", "--if-exists", DB], check=False)
            print(f"database {DB} dropped")
    report(args, results)
    print(f"\nwhole run {time.monotonic() - started:.0f} s")


if __name__ == "__main__":
    main()
