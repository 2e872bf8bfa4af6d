"""What the integration base costs on its two hot paths, against bare Odoo baselines.

One run creates a fresh database with ``logistics_integration_base`` and the test-only addon
``tests/addons/logistics_bench``, starts a real Odoo server (prefork, 2 HTTP workers, no
cron thread, ``queue_job`` server-wide) as a subprocess, measures, stops it and drops the
database (even on failure, unless ``--keep-db``).

1. Webhook intake. ``POST /logistics/webhook/bench`` with small signed ``integration.ping``
   CloudEvents bodies (Standard Webhooks, signed with the ``standardwebhooks`` library, a
   new ``webhook-id`` per request) against ``POST /logistics_bench/insert``, a bare route in
   the same database that reads the body, inserts one row and answers 202 JSON. The route
   verifies the signature (secret decrypted from the database), deduplicates, validates the
   envelope and payload against their JSON Schemas, stores the message and queues its
   processing job: that is what the ratio prices. Both routes get the same bodies and
   headers. The job runner is kept off during this phase (``ODOO_QUEUE_JOB_CHANNELS=root:0``
   for that server start), so the queued processing jobs do not share the CPU with the
   intake; they are deleted before phase 2 (processing is not measured here).
   Load: ``--concurrency`` client threads (one ``requests.Session`` each) pull the next
   pre-built request (signed before the clock starts) from a shared list and post it to
   127.0.0.1; ``--warmup`` requests per route first (not counted), then ``--requests`` per
   route, in ``--rounds`` alternating rounds (webhook, bare, webhook, bare...) so that a
   change in the machine's background load hits both routes alike. Odoo's HTTP workers
   close the connection after each answer, so every request opens a new TCP connection.
   Throughput is requests divided by the summed wall time of that route's rounds; latency
   is per request, measured in the client (p50 and p99, nearest rank).

2. Outbound through queue_job. The server is restarted with the job runner on (``[queue_job]
   channels = root:2``: two jobs at a time, each run by an HTTP worker through
   ``/queue_job/runjob``). One XML-RPC call enqueues ``--messages`` outbound
   ``integration.ping`` messages by calling ``logistics.backend.send_message`` in a loop
   inside one transaction (helper ``logistics.bench.row.bench_send_messages``); the jobs
   POST them to a ``CuedHTTPServer`` on loopback in this process. The rate is messages
   divided by the time from the start of that call until the last message is ``sent``
   (polled in PostgreSQL every 20 ms). The baseline is the same with no-op jobs
   (``logistics.bench.row._noop_job`` queued with ``with_delay``, until all are ``done``),
   measured first. Both come after a warm-up of 20 no-op jobs and 20 messages (queue_job
   starts its runner 5 s after the server). The call's own duration (the enqueue share) is
   printed beside the rates.

If this virtualenv's ``pkg_resources`` cannot resolve gevent's dependencies (dotted names
installed as ``zope_interface-*.dist-info`` under ``setuptools<70``), Odoo's prefork gevent
process crash-loops and eats CPU; the server is then given metadata-only shims on its
PYTHONPATH (see ``gevent_shim``) and a note is printed. That is an environment fix only:
no code under test changes.

Reading the ratios (integration / baseline): for throughput, 0.50 x means the webhook route
accepts half as many requests per second as a bare insert route; for latency, 1.6 x means
a request takes 1.6 times as long. For outbound, 0.33 x means sending a message through its
job costs three times what queue_job's own dispatch of an empty job costs. The client, the
server, PostgreSQL and the simulator all share this machine's cores: figures compare the
paths with each other on the same machine, they are not capacity figures for production.

    tests/benchmarks/bench_base.sh [--requests 2000] [--warmup 100] [--rounds 4]
                                   [--messages 500] [--concurrency 4] [--keep-db]
"""

import argparse
import base64
import configparser
import importlib.metadata
import json
import os
import re
import shutil
import signal
import statistics
import subprocess
import sys
import threading
import time
import uuid
import xmlrpc.client
from datetime import datetime, timezone

import psycopg2
import requests
from benchlib import install
from logistics_simulators.http_server import CuedHTTPServer
from standardwebhooks.webhooks import Webhook

SECRET = "whsec_" + base64.b64encode(b"bench-only-webhook-secret-32byte").decode()
BACKEND_CODE = "bench"
LOGIN = PASSWORD = "admin"
POLL = 0.02  # seconds between two looks at the database while jobs run


class BenchError(Exception):
    pass


# Odoo server --------------------------------------------------------------------------------
_REQUEST_LINE = re.compile(
    r'"POST (?P<path>\S+) HTTP/[\d.]+" (?P<status>\d{3}) - (?P<queries>\d+) '
)


def query_counts(log_path, path_prefix):
    """SQL queries of each POST to ``path_prefix`` answered 2xx, from the request lines
    Odoo logs (``"POST /path HTTP/1.1" 202 - <queries> <query time> <other time>``)."""
    counts = []
    with open(log_path, encoding="utf-8", errors="replace") as fh:
        for line in fh:
            match = _REQUEST_LINE.search(line)
            if match and match["path"].startswith(path_prefix) and match["status"][0] == "2":
                counts.append(int(match["queries"]))
    return counts


class OdooServer:
    def __init__(self, conf, log_path):
        self.conf = conf
        self.log_path = log_path
        self.proc = None

    def start(self, extra_env=None, pythonpath=None):
        env = dict(os.environ, **(extra_env or {}))
        if pythonpath:
            env["PYTHONPATH"] = os.pathsep.join(filter(None, [env.get("PYTHONPATH"), pythonpath]))
        log = open(self.log_path, "ab")  # closed in stop()
        log.write(f"\n===== start {extra_env or ''} =====\n".encode())
        log.flush()
        self._log = log
        self.proc = subprocess.Popen(
            [
                sys.executable,
                os.path.join(os.environ["ODOO_SRC"], "odoo-bin"),
                "-c",
                self.conf,
                # one line per request with its SQL query count (query_counts())
                "--log-handler=werkzeug:INFO",
            ],
            stdout=log,
            stderr=subprocess.STDOUT,
            env=env,
            start_new_session=True,  # its own process group: the workers stop with it
        )
        return self

    def stop(self):
        if not self.proc:
            return
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(30)
            except subprocess.TimeoutExpired:
                pass
        try:
            os.killpg(self.proc.pid, signal.SIGKILL)  # leftovers of this server only
        except ProcessLookupError:
            pass
        self.proc.wait()
        self.proc = None
        self._log.close()

    def check_alive(self):
        if self.proc and self.proc.poll() is not None:
            raise BenchError(f"the Odoo server exited with {self.proc.returncode}")

    def tail(self, lines=40):
        try:
            with open(self.log_path, errors="replace") as fh:
                return "".join(fh.readlines()[-lines:])
        except OSError:
            return ""


def gevent_shim(folder):
    """Work around a broken environment: with ``setuptools<70`` (pinned by bootstrap.sh),
    ``pkg_resources`` does not find distributions installed as ``zope_interface-*.dist-info``
    under their dotted names, so ``gevent.monkey.patch_all()`` raises DistributionNotFound
    and, in prefork mode, Odoo's gevent (websocket) process crashes and is respawned several
    times a second, eating the CPU the benchmark measures. When that is the case, write
    metadata-only ``<dotted name>-<version>.dist-info`` folders into ``folder`` and return
    it, to be put on the server's PYTHONPATH; return None when nothing is needed."""
    import pkg_resources  # deprecated module: imported only here

    try:
        pkg_resources.require("gevent")
        return None
    except pkg_resources.DistributionNotFound:
        pass
    shutil.rmtree(folder, ignore_errors=True)
    os.makedirs(folder)
    for dist in importlib.metadata.distributions():
        name, version = dist.metadata["Name"], dist.version
        if not name or "." not in name:
            continue
        try:
            pkg_resources.get_distribution(name)
        except pkg_resources.DistributionNotFound:
            info = os.path.join(folder, f"{name}-{version}.dist-info")
            os.makedirs(info, exist_ok=True)
            with open(os.path.join(info, "METADATA"), "w") as fh:
                fh.write(f"Metadata-Version: 2.1\nName: {name}\nVersion: {version}\n")
    return folder


def wait_for_odoo(server, url, db, timeout=90):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        server.check_alive()
        try:
            common = xmlrpc.client.ServerProxy(f"{url}/xmlrpc/2/common")
            uid = common.authenticate(db, LOGIN, PASSWORD, {})
            if uid:
                return uid
        except (OSError, xmlrpc.client.Error):
            pass
        time.sleep(0.5)
    raise BenchError(f"Odoo did not answer at {url} within {timeout} s")


def rpc(url, db, uid):
    models = xmlrpc.client.ServerProxy(f"{url}/xmlrpc/2/object", allow_none=True)

    def call(model, method, *params, **kw):
        return models.execute_kw(db, uid, PASSWORD, model, method, list(params), kw)

    return call


# database -----------------------------------------------------------------------------------
def drop(db, data_dir):
    subprocess.run(["dropdb", "--if-exists", "--force", db], check=False)
    if data_dir:
        subprocess.run(["rm", "-rf", os.path.join(data_dir, "filestore", db)], check=False)


def pg_connect(db):
    conn = psycopg2.connect(dbname=db)
    conn.autocommit = True
    return conn


def wait_states(conn, sql, params, expected, done_states, bad_states, timeout, server):
    """Poll ``sql`` (rows of state, count) until ``expected`` rows are in ``done_states``;
    return the time it happened. Fails fast on ``bad_states``."""
    deadline = time.monotonic() + timeout
    counts = {}
    while time.monotonic() < deadline:
        with conn.cursor() as cr:
            cr.execute(sql, params)
            counts = dict(cr.fetchall())
        now = time.perf_counter()
        if sum(counts.get(s, 0) for s in done_states) >= expected:
            return now
        bad = {s: counts[s] for s in bad_states if counts.get(s)}
        if bad:
            raise BenchError(f"jobs went wrong: {bad} (all: {counts})")
        server.check_alive()
        time.sleep(POLL)
    raise BenchError(f"not done within {timeout} s: {counts}")


# load generation ----------------------------------------------------------------------------
def build_requests(n, prefix):
    """``n`` small signed integration.ping CloudEvents, each with a new webhook-id."""
    signer = Webhook(SECRET)
    now = datetime.now(tz=timezone.utc)
    built = []
    for i in range(n):
        event = {
            "specversion": "1.0",
            "id": str(uuid.uuid4()),
            "source": "https://partner.example/events",
            "type": "integration.ping",
            "time": now.isoformat(timespec="seconds").replace("+00:00", "Z"),
            "datacontenttype": "application/json",
            "data": {"message": f"{prefix} {i}"},
        }
        body = json.dumps(event)
        msg_id = "msg_" + uuid.uuid4().hex
        headers = {
            "Content-Type": "application/json",
            "webhook-id": msg_id,
            "webhook-timestamp": str(int(now.timestamp())),
            "webhook-signature": signer.sign(msg_id, now, body),
        }
        built.append((body.encode(), headers))
    return built


def run_load(url, prepared, concurrency, timeout=240):
    """Post every prepared request from ``concurrency`` threads; return wall seconds, the
    sorted latencies (seconds) and the CPU seconds this client process used. Any answer
    other than 202 fails the run. ``timeout`` stays below the 300 s signature tolerance:
    the requests are signed before the clock starts."""
    latencies = [None] * len(prepared)
    errors = []
    lock = threading.Lock()
    next_index = [0]
    start = threading.Barrier(concurrency + 1)
    deadline = time.monotonic() + timeout

    def worker():
        session = requests.Session()
        start.wait()
        while not errors and time.monotonic() < deadline:
            with lock:
                i = next_index[0]
                next_index[0] += 1
            if i >= len(prepared):
                break
            body, headers = prepared[i]
            t0 = time.perf_counter()
            try:
                response = session.post(url, data=body, headers=headers, timeout=30)
            except requests.RequestException as exc:
                errors.append(f"{type(exc).__name__}: {exc}")
                break
            latencies[i] = time.perf_counter() - t0
            if response.status_code != 202:
                errors.append(f"HTTP {response.status_code}: {response.text[:300]}")
                break
        session.close()

    threads = [threading.Thread(target=worker, daemon=True) for _ in range(concurrency)]
    for thread in threads:
        thread.start()
    start.wait()
    t0, cpu0 = time.perf_counter(), time.process_time()
    for thread in threads:
        thread.join(timeout + 30)
    wall, cpu = time.perf_counter() - t0, time.process_time() - cpu0
    if errors:
        raise BenchError(f"POST {url}: {errors[0]}")
    done = sorted(x for x in latencies if x is not None)
    if len(done) != len(prepared):
        raise BenchError(f"POST {url}: only {len(done)} of {len(prepared)} within {timeout} s")
    return wall, done, cpu


def percentile(sorted_values, q):
    """Nearest-rank percentile."""
    rank = max(1, round(q / 100 * len(sorted_values)))
    return sorted_values[rank - 1]


def intake(routes, n, warmup, concurrency, rounds):
    """Warm each route up, then load them in alternating rounds (n / rounds requests per
    route and round) so that a drift of the machine's background load hits both alike."""
    for url in routes.values():
        run_load(url, build_requests(warmup, "warm-up"), concurrency)
    sizes = [n // rounds + (1 if i < n % rounds else 0) for i in range(rounds)]
    totals = {key: {"wall": 0.0, "lat": [], "client_cpu": 0.0} for key in routes}
    for size in sizes:
        for key, url in routes.items():
            wall, lat, cpu = run_load(url, build_requests(size, "bench"), concurrency)
            totals[key]["wall"] += wall
            totals[key]["lat"] += lat
            totals[key]["client_cpu"] += cpu
    results = {}
    for key, total in totals.items():
        lat = sorted(total["lat"])
        results[key] = {
            "rate": n / total["wall"],
            "p50": percentile(lat, 50) * 1000,
            "p99": percentile(lat, 99) * 1000,
            "wall": total["wall"],
            "client_cpu": total["client_cpu"],
        }
    return results


# outbound -----------------------------------------------------------------------------------
def outbound(call, conn, server, backend_id, n, timeout):
    t0 = time.perf_counter()
    ids = call("logistics.bench.row", "bench_send_messages", backend_id, n, "bench")
    enqueued = time.perf_counter() - t0
    t1 = wait_states(
        conn,
        "SELECT state, count(*) FROM logistics_message WHERE id = ANY(%s) GROUP BY state",
        (ids,),
        n,
        ("sent", "acknowledged"),
        ("failed", "dead"),
        timeout,
        server,
    )
    return {"rate": n / (t1 - t0), "wall": t1 - t0, "enqueue": enqueued}


def noop_jobs(call, conn, server, n, timeout):
    with conn.cursor() as cr:
        cr.execute("SELECT coalesce(max(id), 0) FROM queue_job")
        (last_id,) = cr.fetchone()
    t0 = time.perf_counter()
    call("logistics.bench.row", "bench_enqueue_noop", n)
    enqueued = time.perf_counter() - t0
    t1 = wait_states(
        conn,
        "SELECT state, count(*) FROM queue_job WHERE id > %s AND method_name = '_noop_job' "
        "GROUP BY state",
        (last_id,),
        n,
        ("done",),
        ("failed", "cancelled"),
        timeout,
        server,
    )
    return {"rate": n / (t1 - t0), "wall": t1 - t0, "enqueue": enqueued}


# main ---------------------------------------------------------------------------------------
def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--conf", required=True, help="Odoo configuration (bench_base.sh)")
    parser.add_argument("--requests", type=int, default=2000, help="per route (default 2000)")
    parser.add_argument("--warmup", type=int, default=100, help="per route, not counted")
    parser.add_argument(
        "--messages", type=int, default=500, help="outbound messages and no-op jobs"
    )
    parser.add_argument("--concurrency", type=int, default=4, help="client threads (default 4)")
    parser.add_argument(
        "--rounds", type=int, default=4, help="alternating load rounds per route (default 4)"
    )
    parser.add_argument("--keep-db", action="store_true", help="keep the database afterwards")
    args = parser.parse_args()
    args.rounds = max(1, min(args.rounds, args.requests))
    # a plain kill still stops the server and drops the database (finally clauses run)
    signal.signal(signal.SIGTERM, lambda *_a: sys.exit(143))

    cfg = configparser.RawConfigParser()
    cfg.read(args.conf)
    options = cfg["options"]
    db = options["db_name"]
    channels = cfg.get("queue_job", "channels", fallback="(not set)")
    if not db.startswith("logistics_bench_"):
        raise SystemExit(f"refusing to use database {db}: its name must start logistics_bench_")
    base = f"http://127.0.0.1:{options['http_port']}"
    log_path = os.path.join(os.path.dirname(os.path.abspath(args.conf)), "bench-base-odoo.log")
    if os.path.exists(log_path):
        os.unlink(log_path)
    server = OdooServer(args.conf, log_path)
    shim = gevent_shim(os.path.join(os.path.dirname(log_path), "bench-base-pkg-shim"))
    if shim:
        print(
            "note: pkg_resources cannot resolve gevent's dependencies in this virtualenv "
            "(prefork's gevent process would crash-loop); the server runs with dist-info "
            f"shims from {shim} on its PYTHONPATH",
            flush=True,
        )
    sim = CuedHTTPServer().start()
    conn = None
    results = {}
    started = time.monotonic()
    try:
        print(f"installing logistics_integration_base,logistics_bench into {db}...", flush=True)
        t = time.monotonic()
        install(args.conf, db, "logistics_integration_base,logistics_bench")
        print(f"  installed in {time.monotonic() - t:.0f} s", flush=True)

        # phase 1: intake, job runner off
        print("phase 1: webhook intake and bare insert (job runner off)...", flush=True)
        server.start({"ODOO_QUEUE_JOB_CHANNELS": "root:0"}, shim)
        uid = wait_for_odoo(server, base, db)
        call = rpc(base, db, uid)
        backend_id = call(
            "logistics.backend",
            "create",
            {
                "name": "Bench partner",
                "code": BACKEND_CODE,
                "kind": "3pl",
                "provider": "generic",
                "base_url": sim.url("/events"),
                "webhook_secret": SECRET,
                "retry_max_attempts": 3,
                "retry_interval": 5,
                "circuit_threshold": 0,
                "timeout": 10.0,
            },
        )
        routes = {
            "webhook": f"{base}/logistics/webhook/{BACKEND_CODE}",
            "bare": f"{base}/logistics_bench/insert",
        }
        results.update(intake(routes, args.requests, args.warmup, args.concurrency, args.rounds))
        for key in routes:
            print(
                f"  {key}: {args.requests} requests in {results[key]['wall']:.1f} s "
                f"(load client used {results[key]['client_cpu']:.1f} s of CPU)",
                flush=True,
            )
        for key, prefix in (("webhook", "/logistics/webhook/"), ("bare", "/logistics_bench/")):
            counts = query_counts(log_path, prefix)
            results[key]["queries"] = statistics.median(counts) if counts else float("nan")
        conn = pg_connect(db)
        with conn.cursor() as cr:
            cr.execute(
                "SELECT count(*) FROM logistics_message WHERE direction = 'in' "
                "AND state = 'received'"
            )
            (stored,) = cr.fetchone()
            cr.execute("SELECT count(*) FROM logistics_bench_row")
            (rows,) = cr.fetchone()
        expected = args.requests + args.warmup
        if stored != expected or rows != expected:
            raise BenchError(f"stored {stored} messages and {rows} rows, expected {expected}")
        server.stop()
        with conn.cursor() as cr:  # the inbound processing jobs are not part of phase 2
            cr.execute("DELETE FROM queue_job WHERE method_name = '_job_process'")

        # phase 2: outbound, job runner on (channels = root:2 from the configuration)
        print(
            f"phase 2: outbound messages and no-op jobs (job runner on, {channels})...", flush=True
        )
        server.start(pythonpath=shim)
        uid = wait_for_odoo(server, base, db)
        call = rpc(base, db, uid)
        timeout = max(60, args.messages / 5)
        # warm-up: the runner starts 5 s after the server; workers load their caches
        noop_jobs(call, conn, server, 20, 90)
        outbound(call, conn, server, backend_id, 20, 60)
        sim.reset()
        results["noop"] = noop_jobs(call, conn, server, args.messages, timeout)
        print(f"  no-op jobs: {args.messages} in {results['noop']['wall']:.1f} s", flush=True)
        results["out"] = outbound(call, conn, server, backend_id, args.messages, timeout)
        print(f"  outbound: {args.messages} in {results['out']['wall']:.1f} s", flush=True)
        received = sum(1 for r in sim.requests if r.method == "POST")
        if received != args.messages:
            raise BenchError(f"the simulator received {received} of {args.messages} messages")
    except BenchError as exc:
        print(f"\nFAILED: {exc}\n--- Odoo log tail ({log_path}) ---\n{server.tail()}")
        sys.exit(1)
    except Exception:
        print(f"\nFAILED\n--- Odoo log tail ({log_path}) ---\n{server.tail()}")
        raise
    finally:
        server.stop()
        sim.stop()
        if conn is not None:
            conn.close()
        if not args.keep_db:
            drop(db, options.get("data_dir"))
        else:
            print(f"kept database {db}")

    web, bare, out, noop = results["webhook"], results["bare"], results["out"], results["noop"]
    n, c = args.requests, args.concurrency
    print(
        f"\nwebhook intake vs bare insert route: {n} requests each (after {args.warmup} "
        f"warm-up, {args.rounds} alternating rounds), {c} client threads, "
        f"{options.get('workers')} Odoo workers"
    )
    for label, r in (("webhook intake", web), ("bare insert", bare)):
        print(f"{label:15} {r['rate']:6.0f} req/s  p50 {r['p50']:5.1f} ms  p99 {r['p99']:5.1f} ms")
    rate, p50, p99 = (web[k] / bare[k] for k in ("rate", "p50", "p99"))
    print(f"{'ratio':15} {rate:6.2f} x      p50 {p50:5.2f} x   p99 {p99:5.2f} x")
    print(
        f"SQL queries per request (median): webhook intake {web['queries']:.0f}, "
        f"bare insert {bare['queries']:.0f}"
    )
    print(
        f"\noutbound vs no-op jobs: {args.messages} each, queue_job channels {channels} "
        f"(enqueued in one transaction: {out['enqueue']:.1f} s and {noop['enqueue']:.1f} s)"
    )
    print(f"outbound sent   {out['rate']:6.0f} msg/s  ({out['wall']:.1f} s)")
    print(f"no-op jobs      {noop['rate']:6.0f} job/s  ({noop['wall']:.1f} s)")
    print(f"{'ratio':15} {out['rate'] / noop['rate']:6.2f} x")
    print(f"\nwhole run {time.monotonic() - started:.0f} s")


if __name__ == "__main__":
    main()
