"""Counters of the ``/logistics/metrics`` endpoint, and its exposition.

Webhook answers, attempts and delivery latencies are counted in each worker's memory and
inserted into ``logistics_metric_counter`` as delta rows, in one statement at most every
``FLUSH_SECONDS`` (and before every scrape of that worker), with the cursor of the request
or job that counted them: counting costs no query on the hot path, no transaction ever
updates a row another one may update, and a scrape (which sums the rows per series) reads
each worker's totals up to a few seconds late. A cron merges the rows every 15 minutes.

Gauges (messages by state, oldest pending age, circuit state, business gauges that modules
register with ``logistics.backend._logistics_business_tiles``, orders released and not
acknowledged or shipped for more than 1h/4h/24h/72h) are read at scrape time with
a bounded number of queries, each answered by an index: open and exception messages from
the partial index on them, messages finished in the last 24 hours from the ``done_at``
index. Counting every finished message ever stored would read the whole table.
"""

import collections
import hashlib
import hmac
import json
import threading
import time
from datetime import timedelta

from prometheus_client import CollectorRegistry, generate_latest
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, HistogramMetricFamily

from odoo import fields
from odoo.tools import config

OPEN_OR_EXCEPTION = ("pending", "received", "failed", "dead")
TOKEN_PARAM = "logistics_integration_base.metrics_token_sha256"

FLUSH_SECONDS = 5.0
# delivery latency (created -> sent), seconds
LATENCY_BUCKETS = (0.5, 1, 2, 5, 10, 30, 60, 300, 900, 3600)

_lock = threading.Lock()
_pending = collections.Counter()  # (db, name, backend id, labels json) -> amount
_last_flush = {}  # db -> monotonic time


def _key(env, name, backend_id, labels):
    return (env.cr.dbname, name, backend_id or 0, json.dumps(labels or {}, sort_keys=True))


def inc(env, name, backend_id=0, labels=None, amount=1.0):
    with _lock:
        _pending[_key(env, name, backend_id, labels)] += amount
    flush(env, force=False)


def _observe(env, prefix, buckets, backend_id, labels, seconds):
    """One observation into the histogram ``prefix`` (its ``_bucket``, ``_count`` and
    ``_sum`` rows) for the backend."""
    with _lock:
        for bound in buckets:
            if seconds <= bound:
                _pending[_key(env, f"{prefix}_bucket", backend_id, {**labels, "le": bound})] += 1
        _pending[_key(env, f"{prefix}_count", backend_id, labels)] += 1
        _pending[_key(env, f"{prefix}_sum", backend_id, labels)] += seconds
    flush(env, force=False)


def observe_latency(env, backend_id, message_type, seconds):
    """One delivery latency into the histogram of ``message_type`` for the backend."""
    _observe(env, "latency", LATENCY_BUCKETS, backend_id, {"message_type": message_type}, seconds)


# the time between two steps of an order (released, acknowledged, shipped...), seconds
STEP_BUCKETS = (300, 900, 3600, 4 * 3600, 8 * 3600, 86400, 2 * 86400, 7 * 86400)


def observe_step_latency(env, backend_id, from_step, to_step, seconds):
    """One order reaching ``to_step`` ``seconds`` after ``from_step``."""
    labels = {"from_step": from_step, "to_step": to_step}
    _observe(env, "step_latency", STEP_BUCKETS, backend_id, labels, seconds)


# orders still open past a step: counted at scrape time, by how long they have been open
OPEN_OVER = (("1h", 3600), ("4h", 4 * 3600), ("24h", 86400), ("72h", 3 * 86400))
OPEN_LOOKBACK_DAYS = 30
# (step, next step, message types reaching the next step); an order is the record its
# release concerns (or, without one, its correlation id), and a later message belongs to it
# when it concerns the same record or carries the same correlation id
OPEN_PAIRS = (
    ("released", "acknowledged", ("order.ack",)),
    ("released", "shipped", ("shipment.confirmed",)),
)


def _later_message(types_param):
    """SQL: a message of the types in ``%(types_param)s`` that reached the partner or was
    processed, about the same order as the release ``o``."""
    return (
        f"SELECT 1 FROM logistics_message m WHERE m.message_type IN %({types_param})s "
        "AND m.state IN ('sent', 'acknowledged', 'processed') "
        "AND (m.correlation_id = o.correlation_id "
        "OR (m.res_id = o.res_id AND m.res_model = o.res_model))"
    )


OPEN_QUERY = f"""
WITH releases AS (
    SELECT DISTINCT ON (COALESCE(r.res_model || ',' || r.res_id, r.correlation_id))
           r.backend_id, r.correlation_id, r.res_model, r.res_id, r.done_at,
           COALESCE(r.last_attempt_at, r.done_at) AS released_at,
           r.state = 'acknowledged' AS acknowledged
      FROM logistics_message r
     WHERE r.done_at >= %(since)s AND r.message_type = 'order.release'
       AND r.direction = 'out' AND r.state IN ('sent', 'acknowledged')
     ORDER BY COALESCE(r.res_model || ',' || r.res_id, r.correlation_id), r.done_at DESC
), orders AS (
    SELECT o.backend_id, o.released_at,
           o.acknowledged OR EXISTS ({_later_message("acknowledged")}) AS acknowledged,
           EXISTS ({_later_message("shipped")}) AS shipped
      FROM releases o
     WHERE NOT EXISTS ({_later_message("cancelled")} AND m.done_at >= o.done_at)
)
SELECT o.backend_id, p.step, p.next_step, min(o.released_at),
       {", ".join(f"count(*) FILTER (WHERE o.released_at <= %(over_{n})s)" for n, _s in OPEN_OVER)}
  FROM orders o
 CROSS JOIN LATERAL (VALUES ('released', 'acknowledged', NOT o.acknowledged),
                            ('released', 'shipped', NOT o.shipped)) AS p(step, next_step, open)
 WHERE p.open
 GROUP BY o.backend_id, p.step, p.next_step
"""


def _open_past_step(cr, now, labels, backends):
    """``logistics_orders_open_past_step`` (orders that reached a step and not the next
    one for more than 1h, 4h, 24h, 72h) and ``logistics_step_open_oldest_seconds``, from
    one grouped query over the releases of the last 30 days (``done_at`` index)."""
    params = {
        "since": now - timedelta(days=OPEN_LOOKBACK_DAYS),
        **{f"over_{name}": now - timedelta(seconds=s) for name, s in OPEN_OVER},
        **{next_step: types for _step, next_step, types in OPEN_PAIRS},
        "cancelled": ("order.cancel",),
    }
    cr.execute(OPEN_QUERY, params)
    rows = cr.fetchall()
    base = ["backend", "kind", "step", "next_step"]
    open_past = GaugeMetricFamily(
        "logistics_orders_open_past_step",
        "Orders that reached a step (released to the 3PL) and not the next one "
        "(acknowledged, shipped) for more than the time in 'over' (1h, 4h, 24h, 72h; each "
        "counts the orders of the longer ones too); orders released in the last 30 days",
        labels=[*base, "over"],
    )
    oldest = GaugeMetricFamily(
        "logistics_step_open_oldest_seconds",
        "Time since the step of the oldest order still waiting for the next one",
        labels=base,
    )
    found = {}
    for backend_id, step, next_step, first, *counts in rows:
        found[(backend_id, step, next_step)] = (first, counts)
    # every 3PL backend has its series (zero when nothing is open): "== 0" reads as such
    for backend in backends.filtered(lambda b: b.kind == "3pl"):
        for step, next_step, _types in OPEN_PAIRS:
            found.setdefault((backend.id, step, next_step), (None, [0] * len(OPEN_OVER)))
    for (backend_id, step, next_step), (first, counts) in sorted(
        found.items(), key=lambda item: (item[0][0] or 0, item[0][1], item[0][2])
    ):
        for (over, _seconds), count in zip(OPEN_OVER, counts, strict=True):
            open_past.add_metric(labels(backend_id, step, next_step, over), count)
        age = (now - first).total_seconds() if first else 0
        oldest.add_metric(labels(backend_id, step, next_step), max(age, 0))
    return [open_past, oldest]


# the histograms: name prefix of their rows -> (family, help, labels, bucket bounds)
HISTOGRAMS = {
    "latency": (
        "logistics_delivery_latency_seconds",
        "Time from a message's creation to its delivery to the partner",
        ("message_type",),
        LATENCY_BUCKETS,
    ),
    "step_latency": (
        "logistics_step_latency_seconds",
        "Time an order took from one step to the next (released, acknowledged, shipped, "
        "delivered, invoiced), and from its release to each later step; the backend is the "
        "partner of the later step",
        ("from_step", "to_step"),
        STEP_BUCKETS,
    ),
}


def flush(env, force=True):
    """Write this worker's increments for the database of ``env`` (when due, or now)."""
    db = env.cr.dbname
    now = time.monotonic()
    with _lock:
        if not force and now - _last_flush.get(db, 0.0) < FLUSH_SECONDS:
            return
        _last_flush[db] = now
        items = [(key, amount) for key, amount in _pending.items() if key[0] == db]
        for key, _amount in items:
            del _pending[key]
    if not items:
        return
    values = [
        (name, backend_id, labels, amount) for (_db, name, backend_id, labels), amount in items
    ]
    rows = ", ".join(["(%s, %s, %s, %s)"] * len(values))
    # Rows are only ever inserted (deltas): no two transactions update the same row, so no
    # worker waits for another nor fails on a concurrent update. compact() merges them.
    env.cr.execute(
        f"INSERT INTO logistics_metric_counter (name, backend_id, labels, value) VALUES {rows}",
        [v for row in values for v in row],
    )


def compact(env):
    """Merge the counters' delta rows into one row per series (cron). Rows other
    transactions are inserting meanwhile are not seen, so they are kept as they are."""
    env.cr.execute(
        "WITH moved AS (DELETE FROM logistics_metric_counter "
        "RETURNING name, backend_id, labels, value) "
        "INSERT INTO logistics_metric_counter (name, backend_id, labels, value) "
        "SELECT name, backend_id, labels, sum(value) FROM moved GROUP BY name, backend_id, labels"
    )
    return env.cr.rowcount


def discard(env):
    """Forget this worker's unwritten increments for the database (tests)."""
    db = env.cr.dbname
    with _lock:
        for key in [key for key in _pending if key[0] == db]:
            del _pending[key]


# exposition ---------------------------------------------------------------------------------
class _Families:
    """The metric families of one scrape, handed to prometheus_client's exposition."""

    def __init__(self, families):
        self.families = families

    def collect(self):
        return iter(self.families)


def token_ok(env, presented):
    """The bearer token of the metrics endpoint: ``logistics_metrics_token`` in the Odoo
    configuration file, or the SHA-256 of one stored by
    :func:`set_token` (the token itself is never stored)."""
    if not presented:
        return False
    configured = config.get("logistics_metrics_token")
    if configured:
        return hmac.compare_digest(presented.encode(), str(configured).encode())
    stored = env["ir.config_parameter"].sudo().get_param(TOKEN_PARAM)
    if not stored:
        return False
    digest = hashlib.sha256(presented.encode()).hexdigest()
    return hmac.compare_digest(digest, stored)


def set_token(env, token):
    env["ir.config_parameter"].sudo().set_param(
        TOKEN_PARAM, hashlib.sha256(token.encode()).hexdigest()
    )


# exposition -----------------------------------------------------------------------------


def exposition(env):
    """The Prometheus text exposition of the suite (bytes), from a bounded number of
    queries whatever the size of the message table (see ``tools/metrics.py``)."""
    flush(env)
    cr = env.cr
    backends = env["logistics.backend"].sudo().with_context(active_test=False).search([])
    by_id = {b.id: b for b in backends}

    def labels(backend_id, *extra):
        backend = by_id.get(backend_id)
        return [backend.code if backend else "", backend.kind if backend else "", *extra]

    base = ["backend", "kind"]
    families = []

    # open and exception messages, with the oldest open one (partial index)
    cr.execute(
        "SELECT backend_id, message_type, direction, state, count(*), min(create_date) "
        "FROM logistics_message WHERE state IN %s "
        "GROUP BY backend_id, message_type, direction, state",
        [OPEN_OR_EXCEPTION],
    )
    by_state = GaugeMetricFamily(
        "logistics_messages",
        "Messages waiting or in the exception queue, by state",
        labels=[*base, "message_type", "direction", "state"],
    )
    oldest = GaugeMetricFamily(
        "logistics_oldest_pending_age_seconds",
        "Age of the oldest message waiting to be sent or processed",
        labels=[*base, "message_type"],
    )
    now = fields.Datetime.now()
    oldest_by = {}
    for backend_id, mtype, direction, state, count, first in cr.fetchall():
        by_state.add_metric(labels(backend_id, mtype, direction, state), count)
        if state in ("pending", "received"):
            key = (backend_id, mtype)
            oldest_by[key] = min(first, oldest_by.get(key, first))
    for (backend_id, mtype), first in sorted(oldest_by.items()):
        oldest.add_metric(labels(backend_id, mtype), (now - first).total_seconds())
    families += [by_state, oldest]

    # finished in the last 24 hours (done_at index)
    cr.execute(
        "SELECT backend_id, message_type, direction, state, count(*) FROM logistics_message "
        "WHERE done_at >= %s GROUP BY backend_id, message_type, direction, state",
        [now - timedelta(hours=24)],
    )
    finished = GaugeMetricFamily(
        "logistics_messages_finished_24h",
        "Messages finished (sent, acknowledged, processed, ignored) in the last 24 hours",
        labels=[*base, "message_type", "direction", "state"],
    )
    for backend_id, mtype, direction, state, count in cr.fetchall():
        finished.add_metric(labels(backend_id, mtype, direction, state), count)
    families.append(finished)

    # circuit
    circuit = GaugeMetricFamily(
        "logistics_circuit_open",
        "1 while the backend's circuit breaker holds messages back",
        labels=base,
    )
    states = backends._circuit_read()
    for backend in backends:
        until = states.get(backend.id, (0, False))[1]
        circuit.add_metric(labels(backend.id), 1 if until and until > now else 0)
    families.append(circuit)

    # counters and the latency histogram
    cr.execute(
        "SELECT name, backend_id, labels, sum(value) FROM logistics_metric_counter "
        "GROUP BY name, backend_id, labels"
    )
    counters = {
        "webhook_requests": CounterMetricFamily(
            "logistics_webhook_requests",
            "Webhook requests answered, by HTTP status",
            labels=[*base, "status"],
        ),
        "attempts": CounterMetricFamily(
            "logistics_attempts",
            "Delivery (outbound) and processing (inbound) attempts, by outcome and error category",
            labels=[*base, "message_type", "direction", "outcome", "category"],
        ),
        "retries": CounterMetricFamily(
            "logistics_retries",
            "Retries planned after a failed attempt",
            labels=[*base, "message_type"],
        ),
    }
    order = {
        "webhook_requests": ("status",),
        "attempts": ("message_type", "direction", "outcome", "category"),
        "retries": ("message_type",),
    }
    slots = {prefix: {} for prefix in HISTOGRAMS}  # prefix -> series -> bucket, count, sum
    for name, backend_id, label_json, value in cr.fetchall():
        extra = json.loads(label_json)
        prefix, _sep, part = name.rpartition("_")
        if name in counters:
            counters[name].add_metric(
                labels(backend_id, *(str(extra.get(k, "")) for k in order[name])), value
            )
        elif prefix in HISTOGRAMS:
            series = (backend_id, *(extra[k] for k in HISTOGRAMS[prefix][2]))
            slot = slots[prefix].setdefault(series, {"bucket": {}})
            if part == "bucket":
                slot["bucket"][float(extra["le"])] = value
            else:
                slot[part] = value
    families += counters.values()
    for prefix, (family, text, label_names, bounds) in HISTOGRAMS.items():
        histogram = HistogramMetricFamily(family, text, labels=[*base, *label_names])
        for (backend_id, *values), slot in sorted(slots[prefix].items()):
            buckets = [(str(bound), slot["bucket"].get(float(bound), 0)) for bound in bounds]
            histogram.add_metric(
                labels(backend_id, *values),
                buckets=[*buckets, ("+Inf", slot.get("count", 0))],
                sum_value=slot.get("sum", 0),
            )
        families.append(histogram)
    families += _open_past_step(cr, now, labels, backends)

    # business gauges registered by modules
    business = GaugeMetricFamily(
        "logistics_business",
        "Business counts of the dashboard's tiles (e.g. releases awaiting "
        "acknowledgement past SLA)",
        labels=[*base, "tile"],
    )
    for key, counts in backends._logistics_tile_counts().items():
        for backend in backends:
            business.add_metric(labels(backend.id, key), counts.get(backend.id, 0))
    families.append(business)

    registry = CollectorRegistry(auto_describe=False)
    registry.register(_Families(families))
    return generate_latest(registry)
