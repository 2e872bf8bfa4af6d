"""The integration base with 1,000,000 messages: retention purge, webhook intake and the
screens an operator opens, each against a baseline measured in the same run.

One run creates a fresh database with ``logistics_integration_base``, starts a real Odoo
server (prefork, 2 HTTP workers, no cron thread, job runner off) as a subprocess, measures,
stops it and drops the database (even on failure, unless ``--keep-db``). Server, client
helpers, request signing and the intake load come from ``bench_base.py``.

Data. Two backends with a 30-day retention: ``bench`` (the one the webhooks go to, 4 in 5
messages) and ``bench-b``. ``--rows`` messages (``SCALE_ROWS``, default 1,000,000) are
inserted by SQL (``INSERT ... SELECT generate_series``), dated from 400 to 31 days ago in
id order: 95 % finished (sent, acknowledged, processed, 1 % ignored) and so past retention,
every 20th one unfinished (pending, failed, dead, received in turn). Each message but the
received ones gets the attempt its job recorded, one in 100 a chatter note (what operators
leave: "Retry requested by ..."; none with ``--no-chatter``; machine state changes are in
the attempt history, not the chatter) and one in 1,000 finished ones an attachment (stored
in the database).
Then ``VACUUM ANALYZE`` (autovacuum is off on this machine).

1. Webhook intake. ``--requests`` signed ``integration.ping`` CloudEvents (Standard
   Webhooks, a new ``webhook-id`` each) posted to ``POST /logistics/webhook/bench`` from
   ``--concurrency`` client threads after ``--warmup`` ones, once on the empty table (before
   seeding) and once with the seeded table; p50 and p99 in the client. The SQL queries per
   request come from the server's own request log (``werkzeug`` at INFO prints each
   request's query count and SQL time).

2. Reads of the screens, through JSON-RPC with a web session as the web client sends them,
   on the seeded table (and on the empty one, for reference): the dashboard kanban
   (``web_search_read`` of the backends with the ``count_*`` fields, i.e.
   ``_compute_counters``), the exception list opened from a dashboard card
   (``web_search_read`` of the card's domain, limit 80, ``count_limit`` 10001), the
   Exceptions menu (the same domain grouped by backend: ``web_read_group``) and the message
   list's first page (no domain, limit 80, ``count_limit`` 10001). ``--reads`` times each;
   the first call and the median are printed; the target is under 1 s. Also one scrape of
   ``GET /logistics/metrics`` with its bearer token, parsed with prometheus_client's own
   parser (target under 200 ms).

3. Purge. The server is stopped first. Each case runs in its own fresh Python process (Odoo
   registry loaded, then measured: seconds, and the RSS growth: the process's resident-memory
   high-water mark during the case above its RSS at the start, Linux ``clear_refs``), after a
   ``VACUUM ANALYZE``:

   - baseline: one plain ``DELETE FROM logistics_message`` of the rows the purge deletes
     (same backends, states and ``write_date`` bound; their attempts go by the foreign
     key's cascade), timed to its end, then rolled back;
   - the same plus their chatter and attachments (``DELETE`` of mail_message and of
     ir_attachment), rolled back too;
   - ``logistics.message._cron_purge()`` with its defaults (5,000 per batch, a commit each,
     a 60 s budget per run), called again as long as a run ends by triggering the cron, as
     the cron worker would: what the product does.

   Ratios: purge time / plain DELETE time (target at most 3 x) and the purge's RSS growth
   (target under 300 MB); the second baseline shows what the chatter adds. Afterwards the
   run checks that no purgeable message, chatter or attachment of a purged one is left and
   that every other message is.

The client, the server and PostgreSQL share this machine's cores: the figures compare paths
with each other on the same machine, they are not capacity figures for production.

    tests/benchmarks/bench_scale.sh [--rows 1000000] [--requests 300] [--warmup 30]
                                    [--concurrency 2] [--reads 5] [--no-chatter] [--keep-db]
"""

import argparse
import configparser
import json
import os
import re
import signal
import statistics
import subprocess
import sys
import time
from datetime import datetime, timedelta

import requests
from bench_base import (
    BACKEND_CODE,
    LOGIN,
    PASSWORD,
    SECRET,
    BenchError,
    OdooServer,
    drop,
    gevent_shim,
    intake,
    pg_connect,
    rpc,
    wait_for_odoo,
)
from benchlib import Measure, install, rss_kib
from prometheus_client.parser import text_string_to_metric_families

RETENTION_DAYS = 30
DONE_STATES = ("sent", "acknowledged", "processed", "ignored")
OPEN_STATES = ("pending", "failed", "dead", "received")
EXCEPTION_DOMAIN = [("state", "in", ["failed", "dead"])]
LIST_SPEC = {  # the message list view's columns, as the web client asks for them
    "name": {},
    "create_date": {},
    "backend_id": {"fields": {"display_name": {}}},
    "direction": {},
    "message_type": {},
    "subject": {},
    "state": {},
    "error_category": {},
    "error_message": {},
    "attempts": {},
    "next_retry_at": {},
    "correlation_id": {},
    "sla_breached": {},
}
KANBAN_SPEC = {
    "name": {},
    "kind": {},
    "code": {},
    "provider": {},
    "circuit_state": {},
    "count_pending": {},
    "count_exceptions": {},
    "count_late": {},
    "count_done_24h": {},
    "oldest_pending_minutes": {},
    "count_exc_technical": {},
    "count_exc_business": {},
    "count_exc_validation": {},
    "count_exc_auth": {},
    "done_1h": {},
    "failure_rate_1h": {},
    "failure_rate_24h": {},
    "activity_chart": {},
}
TARGET_READ = 1.0  # seconds
TARGET_METRICS = 0.2  # seconds, one scrape of /logistics/metrics
METRICS_TOKEN = "bench-scale-metrics-token"  # logistics_metrics_token in bench_scale.sh
TARGET_RATIO = 3.0
TARGET_RSS = 300 * 1024 * 1024


# the purge cases, each in its own process ---------------------------------------------------
def purge_condition(backend_ids, limit_date):
    return (
        "backend_id IN %(backends)s AND state IN %(states)s AND write_date < %(limit)s",
        {"backends": tuple(backend_ids), "states": DONE_STATES, "limit": limit_date},
    )


def run_case(args):
    """Child process: run one purge case on the committed data; print JSON."""
    import odoo
    from odoo import SUPERUSER_ID, api
    from odoo.tools import config

    config.parse_config(["-c", args.conf])
    registry = odoo.modules.registry.Registry(args.db)
    rss_start = rss_kib()
    where, params = purge_condition(json.loads(args.backends), args.limit_date)
    out = {}
    with registry.cursor() as cr:
        env = api.Environment(cr, SUPERUSER_ID, {})
        if args.case == "purge":
            cron = env.ref("logistics_integration_base.cron_logistics_purge")
            Message = env["logistics.message"]
            count_triggers = "SELECT count(*) FROM ir_cron_trigger WHERE cron_id = %s"
            deleted = runs = 0
            with Measure() as measure:
                while True:  # one call per cron run, until a run does not re-trigger the cron
                    cr.execute(count_triggers, [cron.id])
                    (before,) = cr.fetchone()
                    deleted += Message._cron_purge()
                    runs += 1
                    cr.execute(count_triggers, [cron.id])
                    (after,) = cr.fetchone()
                    cr.commit()
                    if after == before:
                        break
            out.update(deleted=deleted, runs=runs)
        else:
            with Measure() as measure:
                if args.case == "delete_all":
                    ids = f"SELECT id FROM logistics_message WHERE {where}"
                    cr.execute(
                        "DELETE FROM mail_message WHERE model = 'logistics.message' "
                        f"AND res_id IN ({ids})",
                        params,
                    )
                    out["chatter"] = cr.rowcount
                    cr.execute(
                        "DELETE FROM ir_attachment WHERE res_model = 'logistics.message' "
                        f"AND res_id IN ({ids})",
                        params,
                    )
                    out["attachments"] = cr.rowcount
                cr.execute(f"DELETE FROM logistics_message WHERE {where}", params)
                out["deleted"] = cr.rowcount
            cr.rollback()
    print(
        json.dumps(
            dict(
                out,
                seconds=measure.seconds,
                rss_growth=measure.rss_growth,
                exact_rss=measure.exact_rss,
                rss_start=rss_start * 1024,
            )
        )
    )


def measure_in_child(args, db, case, backend_ids, limit_date):
    out = subprocess.run(
        [
            sys.executable,
            os.path.abspath(__file__),
            "--conf",
            args.conf,
            "--case",
            case,
            "--db",
            db,
            "--backends",
            json.dumps(backend_ids),
            "--limit-date",
            limit_date,
        ],
        check=False,
        capture_output=True,
        text=True,
    )
    if out.returncode:
        raise BenchError(f"case {case} failed:\n{out.stderr[-3000:]}")
    return json.loads(out.stdout.strip().splitlines()[-1])


def vacuum(conn):
    with conn.cursor() as cr:
        for table in (
            "logistics_message",
            "logistics_message_attempt",
            "mail_message",
            "mail_tracking_value",
            "ir_attachment",
        ):
            cr.execute(f"VACUUM ANALYZE {table}")


# seeding --------------------------------------------------------------------------------------
def seed(conn, n, backends, chatter):
    """Insert ``n`` messages by SQL (see the module docstring); return the number of
    finished ones, the chatter messages and the attachments inserted."""
    b1, b2 = backends
    with conn.cursor() as cr:
        cr.execute("SELECT company_id FROM logistics_backend WHERE id = %s", [b1])
        (company_id,) = cr.fetchone()
        cr.execute("SELECT coalesce(max(id), 0) FROM logistics_message")
        (last_id,) = cr.fetchone()
        t = time.monotonic()
        cr.execute(
            """
            INSERT INTO logistics_message (
                name, backend_id, backend_kind, company_id, direction, message_type,
                schema_version, state, idempotency_key, correlation_id, external_id, subject,
                payload, raw_payload, attempts, last_attempt_at, done_at, sla_breached,
                ack_expected, error_category, error_message, create_uid, write_uid,
                create_date, write_date)
            SELECT
                'MSG/' || lpad(g::text, 8, '0'),
                CASE WHEN (g / 3) %% 5 = 0 THEN %(b2)s ELSE %(b1)s END,
                '3pl', %(company)s,
                CASE WHEN g %% 2 = 0 THEN 'out' ELSE 'in' END,
                (ARRAY['order.release', 'shipment.confirmed', 'inventory.adjustment',
                       'integration.ping'])[1 + g %% 4],
                1, s.state, 'seed-' || g, md5(g::text), 'EXT-' || g,
                'Order S' || lpad((g %% 100000)::text, 5, '0'),
                '{"order": "S' || g || '", "lines": [{"sku": "SKU-' || (g %% 5000)
                    || '", "quantity": ' || (1 + g %% 7) || '}], "warehouse": "WH1"}',
                CASE WHEN g %% 2 = 1 THEN '{"specversion": "1.0", "id": "' || md5(g::text)
                    || '", "type": "shipment.confirmed", "data": {"order": "S' || g || '"}}'
                END,
                1, t.ts, CASE WHEN s.done THEN t.ts + interval '2 minutes' END,
                NOT s.done AND s.state IN ('pending', 'received'),
                g %% 2 = 0,
                CASE WHEN s.state IN ('failed', 'dead') THEN 'technical' END,
                CASE WHEN s.state IN ('failed', 'dead') THEN 'HTTP 503: partner unavailable' END,
                1, 1, t.ts, t.ts + interval '2 minutes'
            FROM generate_series(1, %(n)s) g
            CROSS JOIN LATERAL (
                SELECT now() at time zone 'UTC' - interval '400 days'
                       + (g::float / %(n)s) * interval '369 days' AS ts
            ) t
            CROSS JOIN LATERAL (
                SELECT g %% 20 <> 0 AS done,
                       CASE
                           WHEN g %% 20 = 0 THEN (ARRAY['pending', 'failed', 'dead',
                                                       'received'])[1 + (g / 20) %% 4]
                           WHEN g %% 100 = 1 THEN 'ignored'
                           WHEN g %% 2 = 0 AND g %% 3 = 0 THEN 'acknowledged'
                           WHEN g %% 2 = 0 THEN 'sent'
                           ELSE 'processed'
                       END AS state
            ) s
            """,
            {"n": n, "b1": b1, "b2": b2, "company": company_id},
        )
        print(f"  {n:,} messages in {time.monotonic() - t:.0f} s", flush=True)
        cr.execute(
            "SELECT count(*) FROM logistics_message WHERE id > %s AND state IN %s",
            [last_id, DONE_STATES],
        )
        (done,) = cr.fetchone()
        t = time.monotonic()
        cr.execute(
            """
            INSERT INTO logistics_message_attempt (message_id, number, started_at, duration_ms,
                outcome, http_status, error, job_result, create_uid, write_uid, create_date,
                write_date)
            SELECT id, 1, last_attempt_at, 40 + id %% 200,
                CASE WHEN state IN ('failed', 'dead') THEN state
                     WHEN state IN ('pending', 'received') THEN 'retry' ELSE 'done' END,
                CASE WHEN direction = 'out' THEN
                    CASE WHEN state IN ('failed', 'dead', 'pending') THEN 503 ELSE 200 END
                END,
                error_message, 'seeded', 1, 1, last_attempt_at, last_attempt_at
            FROM logistics_message WHERE id > %s AND state <> 'received' ORDER BY id
            """,
            [last_id],
        )
        print(f"  {cr.rowcount:,} attempts in {time.monotonic() - t:.0f} s", flush=True)
        mails = 0
        if chatter:
            # what people leave: a note (e.g. "Retry requested by ...") on one message in 100
            t = time.monotonic()
            cr.execute(
                "SELECT res_id FROM ir_model_data WHERE module = 'mail' AND name = 'mt_note'"
            )
            (note,) = cr.fetchone()
            cr.execute("SELECT partner_id FROM res_users WHERE id = 1")
            (author,) = cr.fetchone()
            cr.execute(
                """
                INSERT INTO mail_message (model, res_id, record_company_id, message_type,
                    subtype_id, author_id, body, is_internal, date, create_uid, write_uid,
                    create_date, write_date)
                SELECT 'logistics.message', id, company_id, 'comment', %s, %s,
                    '<p>Retry requested by Administrator.</p>', true,
                    write_date, 1, 1, write_date, write_date
                FROM logistics_message WHERE id > %s AND id %% 100 = 7 ORDER BY id
                """,
                [note, author, last_id],
            )
            mails = cr.rowcount
            print(f"  {mails:,} chatter notes in {time.monotonic() - t:.0f} s", flush=True)
        cr.execute(
            """
            INSERT INTO ir_attachment (name, type, res_model, res_id, company_id, db_datas,
                file_size, mimetype, create_uid, write_uid, create_date, write_date)
            SELECT 'label-' || id || '.txt', 'binary', 'logistics.message', id, company_id,
                convert_to('label ' || id, 'UTF8'), 12, 'text/plain', 1, 1, write_date,
                write_date
            FROM logistics_message
            WHERE id > %s AND state IN %s AND id %% 1000 = 0
            """,
            [last_id, DONE_STATES],
        )
        attachments = cr.rowcount
    return done, mails, attachments


# reads through the web client's JSON-RPC --------------------------------------------------------
class WebClient:
    def __init__(self, base, db):
        self.base = base
        self.session = requests.Session()
        result = self._post(
            "/web/session/authenticate", {"db": db, "login": LOGIN, "password": PASSWORD}
        )
        self.context = {
            "lang": "en_US",
            "tz": "UTC",
            "uid": result["uid"],
            "allowed_company_ids": [result["user_companies"]["current_company"]],
            "bin_size": True,
        }

    def _post(self, path, params):
        response = self.session.post(
            self.base + path,
            json={"jsonrpc": "2.0", "method": "call", "id": 1, "params": params},
            timeout=300,
        )
        response.raise_for_status()
        data = response.json()
        if "error" in data:
            raise BenchError(f"{path}: {json.dumps(data['error'])[:600]}")
        return data["result"]

    def call(self, model, method, *args, **kwargs):
        kwargs["context"] = self.context
        t0 = time.perf_counter()
        result = self._post(
            f"/web/dataset/call_kw/{model}/{method}",
            {"model": model, "method": method, "args": list(args), "kwargs": kwargs},
        )
        return time.perf_counter() - t0, result


def screens(web, backend_id):
    """The reads the web client does to open each screen: name -> a call returning
    (seconds, a short description of what came back)."""

    def dashboard():
        sec, res = web.call(
            "logistics.backend", "web_search_read", [], KANBAN_SPEC, limit=40, count_limit=10001
        )
        bench = next(r for r in res["records"] if r["id"] == backend_id)
        return sec, f"bench: {bench['count_pending']} pending, {bench['count_exceptions']} exc."

    def exceptions_card():
        sec, res = web.call(
            "logistics.message",
            "web_search_read",
            [("backend_id", "in", [backend_id])] + EXCEPTION_DOMAIN,
            LIST_SPEC,
            limit=80,
            count_limit=10001,
        )
        return sec, f"{len(res['records'])} rows, count {res['length']}"

    def exceptions_menu():
        sec, res = web.call(
            "logistics.message",
            "web_read_group",
            EXCEPTION_DOMAIN,
            [],
            ["backend_id"],
            limit=80,
            lazy=True,
        )
        return sec, f"{res['length']} groups, " + "+".join(
            str(g["backend_id_count"]) for g in res["groups"]
        )

    def message_list():
        sec, res = web.call(
            "logistics.message", "web_search_read", [], LIST_SPEC, limit=80, count_limit=10001
        )
        return sec, f"{len(res['records'])} rows, count {res['length']}"

    def metrics_scrape():
        t0 = time.perf_counter()
        response = web.session.get(
            web.base + "/logistics/metrics",
            headers={"Authorization": f"Bearer {METRICS_TOKEN}"},
            timeout=300,
        )
        sec = time.perf_counter() - t0
        response.raise_for_status()
        families = list(text_string_to_metric_families(response.text))
        samples = sum(len(family.samples) for family in families)
        return sec, f"{len(families)} families, {samples} samples, parsed"

    return {
        "metrics scrape (target < 200 ms)": metrics_scrape,
        "dashboard (kanban counters)": dashboard,
        "exceptions from a card (80 + count)": exceptions_card,
        "exceptions menu (by backend)": exceptions_menu,
        "message list, first page (80 + count)": message_list,
    }


def time_screens(web, backend_id, repeat):
    results = {}
    for name, read in screens(web, backend_id).items():
        times, what = [], ""
        for _i in range(repeat):
            sec, what = read()
            times.append(sec)
        results[name] = {"first": times[0], "median": statistics.median(times), "what": what}
    return results


# webhook intake ---------------------------------------------------------------------------------
REQUEST_LOG = re.compile(
    r'"POST /logistics/webhook/' + re.escape(BACKEND_CODE) + r' HTTP/[\d.]+" (\d+) - (\d+) ([\d.]+)'
)


def query_counts(log_path, offset):
    """Query counts and SQL seconds of the webhook requests logged after ``offset``."""
    counts, sql = [], []
    with open(log_path, errors="replace") as fh:
        fh.seek(offset)
        for line in fh:
            match = REQUEST_LOG.search(line)
            if match and match.group(1) == "202":
                counts.append(int(match.group(2)))
                sql.append(float(match.group(3)))
    return counts, sql


def measure_intake(args, base, log_path):
    offset = os.path.getsize(log_path)
    url = f"{base}/logistics/webhook/{BACKEND_CODE}"
    res = intake({"webhook": url}, args.requests, args.warmup, args.concurrency, 1)["webhook"]
    time.sleep(1)  # let the workers write their last log lines
    counts, sql = query_counts(log_path, offset)
    res["queries"] = statistics.median(counts) if counts else None
    res["queries_range"] = (min(counts), max(counts)) if counts else None
    res["sql_ms"] = statistics.median(sql) * 1000 if sql else None
    return res


# checks -----------------------------------------------------------------------------------------
def check_after_purge(conn, backend_ids, limit_date, expected_left):
    where, params = purge_condition(backend_ids, limit_date)
    with conn.cursor() as cr:
        cr.execute(f"SELECT count(*) FROM logistics_message WHERE {where}", params)
        (purgeable,) = cr.fetchone()
        cr.execute("SELECT count(*) FROM logistics_message")
        (left,) = cr.fetchone()
        cr.execute(
            "SELECT count(*) FROM mail_message m WHERE m.model = 'logistics.message' "
            "AND NOT EXISTS (SELECT 1 FROM logistics_message l WHERE l.id = m.res_id)"
        )
        (orphan_mails,) = cr.fetchone()
        cr.execute(
            "SELECT count(*) FROM mail_tracking_value v WHERE NOT EXISTS "
            "(SELECT 1 FROM mail_message m WHERE m.id = v.mail_message_id)"
        )
        (orphan_tracking,) = cr.fetchone()
        cr.execute(
            "SELECT count(*) FROM ir_attachment a WHERE a.res_model = 'logistics.message' "
            "AND NOT EXISTS (SELECT 1 FROM logistics_message l WHERE l.id = a.res_id)"
        )
        (orphan_attachments,) = cr.fetchone()
        cr.execute(
            "SELECT count(*) FROM logistics_message_attempt a WHERE NOT EXISTS "
            "(SELECT 1 FROM logistics_message l WHERE l.id = a.message_id)"
        )
        (orphan_attempts,) = cr.fetchone()
    problems = []
    if purgeable:
        problems.append(f"{purgeable} purgeable messages left")
    if left != expected_left:
        problems.append(f"{left} messages left, expected {expected_left}")
    if orphan_mails or orphan_tracking or orphan_attachments or orphan_attempts:
        problems.append(
            f"left behind: {orphan_mails} chatter messages, {orphan_tracking} tracking values, "
            f"{orphan_attachments} attachments, {orphan_attempts} attempts"
        )
    if problems:
        raise BenchError("after the purge: " + "; ".join(problems))
    return left


# main -------------------------------------------------------------------------------------------
def mib(value):
    return value / 1024 / 1024


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--conf", required=True, help="Odoo configuration (bench_scale.sh)")
    parser.add_argument(
        "--rows",
        type=int,
        default=int(os.environ.get("SCALE_ROWS", 1_000_000)),
        help="messages seeded (default $SCALE_ROWS or 1,000,000)",
    )
    parser.add_argument("--requests", type=int, default=300, help="webhooks per table state")
    parser.add_argument("--warmup", type=int, default=30, help="webhooks first, not counted")
    parser.add_argument("--concurrency", type=int, default=2, help="client threads (default 2)")
    parser.add_argument("--reads", type=int, default=5, help="times each screen is read")
    parser.add_argument("--no-chatter", action="store_true", help="seed no chatter")
    parser.add_argument("--keep-db", action="store_true", help="keep the database afterwards")
    parser.add_argument("--case", help=argparse.SUPPRESS)  # child process
    parser.add_argument("--db", help=argparse.SUPPRESS)
    parser.add_argument("--backends", help=argparse.SUPPRESS)
    parser.add_argument("--limit-date", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.case:
        run_case(args)
        return
    # a plain kill still stops the server and drops the database (finally clauses run)
    signal.signal(signal.SIGTERM, lambda *_a: sys.exit(143))

    cfg = configparser.RawConfigParser()
    cfg.read(args.conf)
    options = cfg["options"]
    db = options["db_name"]
    if not db.startswith("logistics_bench_"):
        raise SystemExit(f"refusing to use database {db}: its name must start logistics_bench_")
    base = f"http://127.0.0.1:{options['http_port']}"
    log_path = os.path.join(os.path.dirname(os.path.abspath(args.conf)), "bench-scale-odoo.log")
    if os.path.exists(log_path):
        os.unlink(log_path)
    server = OdooServer(args.conf, log_path)
    shim = gevent_shim(os.path.join(os.path.dirname(log_path), "bench-base-pkg-shim"))
    if shim:
        print(
            "note: pkg_resources cannot resolve gevent's dependencies in this virtualenv; "
            f"the server runs with dist-info shims from {shim} on its PYTHONPATH",
            flush=True,
        )
    conn = None
    started = time.monotonic()
    res = {}
    try:
        print(f"installing logistics_integration_base into {db}...", flush=True)
        t = time.monotonic()
        install(args.conf, db, "logistics_integration_base")
        print(f"  installed in {time.monotonic() - t:.0f} s", flush=True)
        server.start({"ODOO_QUEUE_JOB_CHANNELS": "root:0"}, shim)
        uid = wait_for_odoo(server, base, db)
        call = rpc(base, db, uid)
        common = {
            "kind": "3pl",
            "provider": "generic",
            "base_url": "http://127.0.0.1:9/none",
            "retention_days": RETENTION_DAYS,
            "circuit_threshold": 0,
        }
        backend_ids = [
            call(
                "logistics.backend",
                "create",
                dict(common, name="Bench partner", code=BACKEND_CODE, webhook_secret=SECRET),
            ),
            call(
                "logistics.backend", "create", dict(common, name="Second partner", code="bench-b")
            ),
        ]
        conn = pg_connect(db)
        web = WebClient(base, db)

        print("empty table: webhook intake and screens...", flush=True)
        res["intake_empty"] = measure_intake(args, base, log_path)
        res["screens_empty"] = time_screens(web, backend_ids[0], args.reads)

        print(f"seeding {args.rows:,} messages by SQL...", flush=True)
        t = time.monotonic()
        done, mails, attachments = seed(conn, args.rows, backend_ids, not args.no_chatter)
        vacuum(conn)
        res["seed_seconds"] = time.monotonic() - t
        print(f"  seeded and vacuumed in {res['seed_seconds']:.0f} s", flush=True)

        print(f"{args.rows:,} messages: webhook intake and screens...", flush=True)
        res["intake_full"] = measure_intake(args, base, log_path)
        res["screens_full"] = time_screens(web, backend_ids[0], args.reads)
        server.stop()  # the purge cases run alone

        limit_date = (datetime.utcnow() - timedelta(days=RETENTION_DAYS)).strftime(
            "%Y-%m-%d %H:%M:%S"
        )
        with conn.cursor() as cr:
            cr.execute("SELECT count(*) FROM logistics_message")
            (total_before,) = cr.fetchone()
        for case, label in (
            ("delete", "plain SQL DELETE of the messages (rolled back)"),
            ("delete_all", "the same with chatter and attachments (rolled back)"),
            ("purge", "_cron_purge()"),
        ):
            print(f"purge: {label}...", flush=True)
            vacuum(conn)
            res[case] = measure_in_child(args, db, case, backend_ids, limit_date)
            print(
                f"  {res[case]['deleted']:,} messages in {res[case]['seconds']:.1f} s", flush=True
            )
        for case in ("delete", "delete_all", "purge"):
            if res[case]["deleted"] != done:
                raise BenchError(f"{case} deleted {res[case]['deleted']} messages, not {done}")
        left = check_after_purge(conn, backend_ids, limit_date, total_before - done)
        with conn.cursor() as cr:  # each is a trigger run for every row deleted
            cr.execute(
                "SELECT confrelid::regclass::text, count(*) FROM pg_constraint "
                "WHERE contype = 'f' AND confrelid IN "
                "('logistics_message'::regclass, 'mail_message'::regclass) GROUP BY 1"
            )
            res["foreign_keys"] = dict(cr.fetchall())
    except BenchError as exc:
        print(f"\nFAILED: {exc}\n--- Odoo log tail ({log_path}) ---\n{server.tail()}")
        sys.exit(1)
    except Exception:
        print(f"\nFAILED\n--- Odoo log tail ({log_path}) ---\n{server.tail()}")
        raise
    finally:
        server.stop()
        if conn is not None:
            conn.close()
        if not args.keep_db:
            drop(db, options.get("data_dir"))
        else:
            print(f"kept database {db}")

    n = args.rows
    print(
        f"\n{n:,} messages seeded ({done:,} finished past the {RETENTION_DAYS}-day retention, "
        f"{mails:,} chatter notes, {attachments:,} attachments; one attempt each) "
        f"in {res['seed_seconds']:.0f} s"
    )

    delete, delete_all, purge = res["delete"], res["delete_all"], res["purge"]
    print(f"\npurge of {done:,} messages (each case in a fresh process, after VACUUM ANALYZE)")
    print(f"  {'':52} {'time':>8} {'RSS growth':>11}")
    for label, r in (
        ("plain SQL DELETE, messages only (baseline)", delete),
        ("plain SQL DELETE, messages + chatter + attachments", delete_all),
        (f"_cron_purge() ({purge['runs']} cron run(s))", purge),
    ):
        print(f"  {label:52} {r['seconds']:7.1f}s {mib(r['rss_growth']):8.1f} MiB")
    ratio = purge["seconds"] / delete["seconds"]
    print(
        f"  ratio purge / plain DELETE: time {ratio:.2f} x (target <= {TARGET_RATIO:.0f} x: "
        f"{'met' if ratio <= TARGET_RATIO else 'MISSED'}); vs the DELETE with chatter "
        f"{purge['seconds'] / delete_all['seconds']:.2f} x"
    )
    rss_ratio = (
        f"{purge['rss_growth'] / delete['rss_growth']:.1f} x"
        if delete["rss_growth"] >= 1024 * 1024
        else "no ratio: the DELETE grows the process by less than 1 MiB"
    )
    print(
        f"  RSS growth: purge {mib(purge['rss_growth']):.1f} MiB vs plain DELETE "
        f"{mib(delete['rss_growth']):.1f} MiB ({rss_ratio}; target "
        f"< {mib(TARGET_RSS):.0f} MiB: "
        f"{'met' if purge['rss_growth'] < TARGET_RSS else 'MISSED'}); process RSS "
        f"{mib(purge['rss_start']):.0f} MiB after loading the registry"
        + ("" if purge["exact_rss"] else " (RSS at the end: clear_refs unavailable)")
    )
    print(
        f"  {left:,} messages left, no purgeable one, no attempt, chatter or attachment left behind"
    )
    fks = res["foreign_keys"]
    print(
        f"  foreign keys checked for every row deleted: {fks.get('logistics_message', 0)} on "
        f"logistics_message, {fks.get('mail_message', 0)} on mail_message (the chatter)"
    )

    empty, full = res["intake_empty"], res["intake_full"]
    print(
        f"\nwebhook intake, {args.requests} signed requests (after {args.warmup} warm-up), "
        f"{args.concurrency} client threads, {options.get('workers')} Odoo workers"
    )
    for label, r in (("empty table", empty), (f"{n:,} messages", full)):
        queries = (
            f"{r['queries']:.0f} queries ({r['queries_range'][0]}-{r['queries_range'][1]}), "
            f"SQL {r['sql_ms']:.1f} ms"
            if r["queries"] is not None
            else "query count not logged"
        )
        print(
            f"  {label:18} p50 {r['p50']:6.1f} ms  p99 {r['p99']:6.1f} ms  "
            f"{r['rate']:5.0f} req/s  {queries}"
        )
    print(
        f"  ratio {n:,} / empty: p50 {full['p50'] / empty['p50']:.2f} x, "
        f"p99 {full['p99'] / empty['p99']:.2f} x"
    )

    print(
        f"\nscreens (JSON-RPC as the web client; first call and median of {args.reads}; "
        f"target < {TARGET_READ:.0f} s)"
    )
    print(f"  {'':40} {'empty':>8}  {n:>9,} messages: first / median")
    for name, r in res["screens_full"].items():
        e = res["screens_empty"][name]
        target = TARGET_METRICS if name.startswith("metrics") else TARGET_READ
        verdict = "ok" if max(r["first"], r["median"]) < target else "SLOW"
        print(
            f"  {name:40} {e['median'] * 1000:6.0f}ms  {r['first'] * 1000:7.0f} ms / "
            f"{r['median'] * 1000:5.0f} ms  {verdict}  ({r['what']})"
        )
    print(f"\nwhole run {time.monotonic() - started:.0f} s")


if __name__ == "__main__":
    main()
