"""Two Odoo nodes on one database: the suite scales out as Odoo does, and losing a node
mid-way loses nothing and duplicates nothing.

``two_nodes.sh`` creates a fresh database with ``logistics_integration_base`` and one
configuration per node (same database, own HTTP and gevent ports, ``workers = 2``, no cron
thread, ``server_wide_modules = base,web,queue_job``, ``[queue_job] channels = root:2``),
then runs this script, which:

1. starts a loopback **partner** (``CuedHTTPServer`` from ``tests/logistics_simulators``,
   answering 200 after ``--partner-delay`` seconds, 0.2) that records every request it gets,
   with its ``Idempotency-Key`` header and body;
2. creates a backend (generic provider, base URL = the partner, Standard Webhooks secret)
   with ``odoo-bin shell``, before any node runs;
3. starts **node A** (``odoo-bin``, prefork: 2 HTTP worker processes, the gevent process and
   the queue_job runner process), waits until A's runner holds the job-runner lock of the
   database, then starts **node B** the same way on other ports;
4. runs the traffic: ``--threads`` client threads post ``--webhooks`` signed
   ``integration.ping`` CloudEvents (Standard Webhooks, signed with the ``standardwebhooks``
   package), alternating between the nodes; a post that fails with a connection error (or a
   timeout, or a 502/503/504) is sent again to the other node with the same ``webhook-id``
   and body, re-signed with a fresh timestamp, as a partner's retry would be. One webhook
   in ``--twin-every`` (10) is also posted to the other node at the same moment, as an
   at-least-once sender racing itself would: the two nodes see the same ``webhook-id``
   concurrently. At the same
   time one more thread queues ``--messages`` outbound messages over XML-RPC
   (``logistics.backend.send_message(backend_id, "integration.ping", {"message": ...},
   idempotency_key=...)``), paced with the webhooks so that they span the whole run, also
   alternating between the nodes; a call that fails is made again on the other node with
   the same ``idempotency_key``;
5. when 40 % of the webhooks are answered (``--kill-at``) and a send job is at the partner
   (received there, not committed in Odoo: the partner is still answering; at most 15 s
   more), **kills node A hard**: SIGKILL to its whole process group (master, HTTP workers,
   gevent, job runner), in the middle of whatever it was doing; waits ``--down`` seconds
   and starts it again with the same configuration. The clients go on meanwhile;
6. waits (deadline ``--deadline`` seconds, polling PostgreSQL) until every inbound message is
   processed and every outbound message sent. Jobs that were running on A when it died are
   recovered by queue_job's own mechanism: the runner that holds the lock requeues, at every
   turn of its loop, the ``started``/``enqueued`` jobs whose row in ``queue_job_lock`` is no
   longer locked (the killed worker's transaction is gone) and that were enqueued more than
   10 s ago (``Database.requeue_dead_jobs`` in ``queue_job/jobrunner/runner.py``). As that
   loop can sleep up to 60 s when the queue is quiet, this script runs the very same query
   (imported from queue_job, not copied) whenever nothing moved for ``--nudge`` seconds, and
   then also triggers the suite's safety net, the cron ``logistics.message.
   _cron_retry_scheduler`` (``ir.cron.method_direct_trigger``, as an administrator could;
   it re-queues open messages older than 2 minutes whose job is gone, done, failed or
   cancelled). What each of them did is printed;
7. checks, prints a summary and ends with ``N passed, N failed`` (one check per group):

   - webhooks: every delivery answered 202 by one node or the other;
   - inbound stored once: exactly one ``logistics_message`` row (direction ``in``) per
     ``webhook-id`` posted, none other; every answer for one ``webhook-id`` names the same
     message and at most one of them says it is new (``"duplicate": false``);
   - inbound processed: all of them ``processed``;
   - outbound: one row per idempotency key, the id the RPC returned, all ``sent``, exactly
     ``--messages`` of them (none lost, none doubled by an RPC retry);
   - partner: it saw every outbound key and no other; each body is the CloudEvent of that
     message (``id`` = the key, the text queued); a key it saw more than once carried the
     same body every time (a replay of an interrupted send, not a new order);
   - jobs: every queue job ``done``, none failed, none left behind; the jobs that were
     running on A when it died were done afterwards by a live worker.

Choices:

- **Node B runs a job runner too** (``server_wide_modules`` with ``queue_job`` and the same
  ``channels``), as a hot standby. The queue_job 18.0 installed here takes a session-level
  PostgreSQL advisory lock per database before it listens (``Database.
  _acquire_master_lock``, OCA/queue#668 and its forward ports): a second runner loses the
  election, closes its connections and tries again every 5 s (``ERROR_RECOVERY_DELAY``), so
  there is one active runner per database however many nodes load ``queue_job``; when the
  active runner's process dies its connection goes, PostgreSQL releases the lock and a
  standby takes over. Older queue_job versions had no such lock and OCA's advice was to
  load ``queue_job`` server-wide on one node only (OCA/queue#422); with one runner only, on
  A, no job would run between the kill and A's restart. Node A is started first and given
  the lock, so that the kill takes the active runner down with it; which runner holds the
  lock before and after is printed (the PostgreSQL ``application_name`` of each node's
  connections is set with ``ODOO_PGAPPNAME``).
- Each runner calls ``/queue_job/runjob`` on its own node (``http_interface`` and
  ``http_port``): jobs run on the node whose runner is active. In production,
  ``[queue_job] host``/``port`` would name the load balancer so that jobs spread over the
  nodes' workers.
- No cron thread (``max_cron_threads = 0``): the retry-scheduler cron is triggered
  explicitly (step 6) instead of waiting for its 5-minute interval.
- The gevent workaround of ``bench_base.py`` (``gevent_shim``) applies here too.

Every fixed wait is a pause, never a wait for a result: results are polled with deadlines.
The client, both nodes, PostgreSQL and the partner share this machine's cores.

    tests/scale_out/two_nodes.sh [--webhooks 300] [--messages 100] [--threads 3]
                                 [--twin-every 10] [--kill-at 0.4] [--down 3]
                                 [--deadline 180] [--nudge 10] [--partner-delay 0.2]
"""

import argparse
import base64
import configparser
import http.client
import json
import os
import re
import signal
import subprocess
import sys
import threading
import time
import uuid
import warnings
import xmlrpc.client
from collections import Counter, defaultdict
from datetime import datetime, timezone

import requests
from bench_base import LOGIN, PASSWORD, BenchError, OdooServer, gevent_shim, pg_connect, rpc
from logistics_simulators.http_server import CuedHTTPServer
from standardwebhooks.webhooks import Webhook

SECRET = "whsec_" + base64.b64encode(b"two-nodes-only-webhook-secret-32").decode()
BACKEND_CODE = "twonodes"
POLL = 0.25  # seconds between two looks at the database while waiting
RETRYABLE_STATUSES = {502, 503, 504}  # what a partner retries on another node, as a refusal


# queue_job's own runner code ------------------------------------------------------------------
def queue_job_runner(conf):
    """queue_job's ``jobrunner.runner`` module (for its lock id and its dead-job requeue
    query), imported with the node configuration's addons path; and queue_job's version."""
    import odoo

    odoo.tools.config.parse_config(["-c", conf])
    odoo.modules.module.initialize_sys_path()
    from odoo.addons.queue_job.jobrunner import runner

    manifest = os.path.join(os.path.dirname(os.path.dirname(runner.__file__)), "__manifest__.py")
    with open(manifest) as fh:
        version = re.search(r"""["']version["']\s*:\s*["']([^"']+)""", fh.read()).group(1)
    return runner, version


# nodes ----------------------------------------------------------------------------------------
class Node(OdooServer):
    """An ``odoo-bin`` (prefork) started as its own process group; its connections to
    PostgreSQL carry the application name ``twonode-<name>-<pid>``."""

    def __init__(self, name, conf, shim):
        cfg = configparser.RawConfigParser()
        cfg.read(conf)
        super().__init__(conf, os.path.splitext(conf)[0] + ".log")
        self.name = name
        self.url = f"http://127.0.0.1:{cfg['options']['http_port']}"
        self.shim = shim
        self.incarnation = 0
        self.groups = []  # process group id of each start

    def start(self):
        self.incarnation += 1
        super().start({"ODOO_PGAPPNAME": f"twonode-{self.name}-{{pid}}"}, self.shim)
        self.groups.append(self.proc.pid)
        return self

    def label(self):
        return f"{self.name}{self.incarnation}"

    def kill(self):
        """SIGKILL to the whole process group: master, HTTP workers, gevent, job runner."""
        os.killpg(self.proc.pid, signal.SIGKILL)
        self.proc.wait()
        self._log.close()
        self.proc = None

    def alive(self):
        return self.proc is not None and self.proc.poll() is None

    def pids(self):
        """Process ids in this node's current process group."""
        if not self.alive():
            return set()
        out = subprocess.run(
            ["pgrep", "-g", str(self.proc.pid)], capture_output=True, text=True, check=False
        ).stdout
        return {int(pid) for pid in out.split()}


_pidfile_lock = threading.Lock()


def write_pidfile(path, nodes):
    """The process groups of the running nodes, one a line, for two_nodes.sh's trap."""
    if not path:
        return
    with _pidfile_lock, open(path, "w") as fh:
        fh.writelines(f"{node.proc.pid}\n" for node in nodes if node.alive())


def wait_for_node(node, db, timeout=120):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        node.check_alive()
        try:
            common = xmlrpc.client.ServerProxy(
                f"{node.url}/xmlrpc/2/common", transport=TimeoutTransport(10)
            )
            uid = common.authenticate(db, LOGIN, PASSWORD, {})
            if uid:
                return uid
        except (OSError, http.client.HTTPException, xmlrpc.client.Error):
            pass
        time.sleep(0.5)
    raise BenchError(f"node {node.name} did not answer at {node.url} within {timeout} s")


class TimeoutTransport(xmlrpc.client.Transport):
    def __init__(self, timeout):
        super().__init__()
        self.timeout = timeout

    def make_connection(self, host):
        conn = super().make_connection(host)
        conn.timeout = self.timeout
        return conn


def create_backend(conf, db, partner_url):
    """The partner's backend, created with ``odoo-bin shell`` before any node runs."""
    vals = {
        "name": "Scale-out partner",
        "code": BACKEND_CODE,
        "kind": "3pl",
        "provider": "generic",
        "base_url": partner_url,
        "webhook_secret": SECRET,
        "retry_max_attempts": 5,
        "retry_interval": 2,
        "circuit_threshold": 0,
        "timeout": 20.0,
    }
    script = (
        f"backend = env['logistics.backend'].create({vals!r})\n"
        "env.cr.commit()\n"
        "print('BACKEND_ID=%d' % backend.id)\n"
    )
    done = subprocess.run(
        [sys.executable, os.path.join(os.environ["ODOO_SRC"], "odoo-bin"), "shell"]
        + ["-c", conf, "-d", db, "--no-http", "--log-level=warn"],
        input=script,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    found = re.search(r"BACKEND_ID=(\d+)", done.stdout)
    if not found:
        raise BenchError(f"odoo-bin shell did not create the backend:\n{done.stderr[-2000:]}")
    return int(found.group(1))


def runner_holder(conn, lock_id):
    """application_name of the connection holding queue_job's runner lock on this database."""
    with conn.cursor() as cr:
        cr.execute(
            "SELECT a.application_name FROM pg_locks l JOIN pg_stat_activity a ON a.pid = l.pid "
            "WHERE l.locktype = 'advisory' AND l.granted "
            "AND l.database = (SELECT oid FROM pg_database WHERE datname = current_database()) "
            "AND ((l.classid::bigint << 32) | l.objid::bigint) = %s",
            (lock_id,),
        )
        row = cr.fetchone()
    return row[0] if row else None


def holder_node(app_name):
    found = re.match(r"twonode-(\w+)-(\d+)$", app_name or "")
    return found.group(1) if found else None


# the partner ----------------------------------------------------------------------------------
class Partner:
    """Loopback HTTP server standing in for the partner: records every request (method,
    path, headers, body) and answers 200 after ``delay`` seconds; ``inflight`` holds the
    Idempotency-Key of the requests it is answering at this moment."""

    def __init__(self, delay):
        self.delay = delay
        self.server = CuedHTTPServer(handler=self._answer)
        # A killed node's connections reset under the server's feet: expected here, so
        # not printed as tracebacks (socketserver's default handle_error).
        self.server._httpd.handle_error = lambda *_args: None
        self.inflight = set()
        self._lock = threading.Lock()

    def _answer(self, req):
        key = {k.lower(): v for k, v in req.headers.items()}.get("idempotency-key")
        with self._lock:
            self.inflight.add(key)
        try:
            if self.delay:
                time.sleep(self.delay)
        finally:
            with self._lock:
                self.inflight.discard(key)
        return (200, {}, {"status": "accepted"})

    def inflight_keys(self):
        with self._lock:
            return set(self.inflight)

    def start(self):
        self.server.start()
        return self

    def stop(self):
        self.server.stop()

    def url(self, path):
        return self.server.url(path)

    def deliveries(self):
        """(Idempotency-Key, body) of every POST received so far."""
        out = []
        for req in list(self.server.requests):
            if req.method != "POST":
                continue
            headers = {k.lower(): v for k, v in req.headers.items()}
            out.append((headers.get("idempotency-key"), req.body))
        return out


# the clients ----------------------------------------------------------------------------------
def connection_error(exc):
    """What went wrong with a connection, in a word: refused (the node is down), dropped
    (it died while the request was in flight), timeout, or the exception's name."""
    text = f"{type(exc).__name__} {exc}"
    if "Timeout" in text or "timed out" in text:
        return "timeout"
    if "refused" in text.lower():
        return "refused"
    if any(word in text for word in ("reset", "aborted", "RemoteDisconnected", "closed")):
        return "dropped"
    return type(exc).__name__


class Traffic:
    """Webhook posts and outbound RPC calls against both nodes, with a partner's retries."""

    def __init__(
        self, nodes, db, uid, backend_id, n_webhooks, n_messages, threads, budget, twin_every
    ):
        self.nodes = nodes
        self.db = db
        self.uid = uid
        self.backend_id = backend_id
        self.budget = budget  # seconds a single post or call may keep retrying
        self.signer = Webhook(SECRET)
        self.run_tag = uuid.uuid4().hex[:8]
        self.webhooks = [self._event(i) for i in range(n_webhooks)]
        self.messages = [
            (f"two-nodes-{self.run_tag}-out-{j:04d}", f"outbound {j} of run {self.run_tag}")
            for j in range(n_messages)
        ]
        self.threads = threads
        self.lock = threading.Lock()
        self.next_index = 0
        self.answered = 0  # webhooks with a final answer
        self.webhook_results = {}  # webhook-id -> dict(status, node, duplicate, tries)
        self.twin_every = twin_every
        self.twin_results = {}  # the same, for the racing second deliveries
        self.rpc_results = {}  # idempotency key -> dict(id, node, tries)
        self.errors = []  # (when, what, node, error) of every failed try
        self.stop_flag = threading.Event()
        self._workers = []

    def _event(self, i):
        msg_id = f"msg_{uuid.uuid4().hex}"
        event = {
            "specversion": "1.0",
            "id": str(uuid.uuid4()),
            "source": "https://partner.example/events",
            "type": "integration.ping",
            "time": datetime.now(tz=timezone.utc)
            .isoformat(timespec="seconds")
            .replace("+00:00", "Z"),
            "datacontenttype": "application/json",
            "data": {"message": f"webhook {i}"},
        }
        return msg_id, json.dumps(event).encode()

    def _note(self, what, node, error):
        with self.lock:
            self.errors.append((time.monotonic(), what, node.name, error))

    # webhooks ---------------------------------------------------------------------------
    def _post(self, session, i, first=None):
        msg_id, body = self.webhooks[i]
        which = i % 2 if first is None else first
        deadline = time.monotonic() + self.budget
        tries = 0
        failed_in_a_row = 0
        while True:
            node = self.nodes[which]
            tries += 1
            now = datetime.now(tz=timezone.utc)
            headers = {
                "Content-Type": "application/json",
                "webhook-id": msg_id,
                "webhook-timestamp": str(int(now.timestamp())),
                "webhook-signature": self.signer.sign(msg_id, now, body.decode()),
            }
            error = None
            try:
                response = session.post(
                    f"{node.url}/logistics/webhook/{BACKEND_CODE}",
                    data=body,
                    headers=headers,
                    timeout=60,
                )
            except (requests.ConnectionError, requests.Timeout) as exc:
                error = connection_error(exc)
            else:
                if response.status_code in RETRYABLE_STATUSES:
                    error = f"HTTP {response.status_code}"
                else:
                    try:
                        answer = response.json()
                    except ValueError:
                        answer = {}
                    return {
                        "status": response.status_code,
                        "node": node.name,
                        "duplicate": bool(answer.get("duplicate")),
                        "message_id": answer.get("message_id"),
                        "tries": tries,
                        "text": response.text[:300] if response.status_code != 202 else "",
                    }
            self._note("webhook", node, error)
            if time.monotonic() > deadline or self.stop_flag.is_set():
                return {"status": None, "node": node.name, "tries": tries, "text": error}
            failed_in_a_row += 1
            which = 1 - which  # the other node, as a partner with two addresses would
            if failed_in_a_row >= 2:
                time.sleep(0.5)  # both refused in a row: back off a little

    def _webhook_worker(self):
        session = requests.Session()
        try:
            while not self.stop_flag.is_set():
                with self.lock:
                    i = self.next_index
                    self.next_index += 1
                if i >= len(self.webhooks):
                    return
                twin = None
                if self.twin_every and i % self.twin_every == self.twin_every // 2:
                    # the same delivery at the same moment to the other node as well
                    twin = threading.Thread(target=self._post_twin, args=(i,), daemon=True)
                    twin.start()
                result = self._post(session, i)
                if twin is not None:
                    twin.join()
                with self.lock:
                    self.webhook_results[self.webhooks[i][0]] = result
                    self.answered += 1
        finally:
            session.close()

    def _post_twin(self, i):
        with requests.Session() as session:
            result = self._post(session, i, first=1 - i % 2)
        with self.lock:
            self.twin_results[self.webhooks[i][0]] = result

    # outbound over XML-RPC ----------------------------------------------------------------
    def _send(self, j):
        key, text = self.messages[j]
        which = j % 2
        deadline = time.monotonic() + self.budget
        tries = 0
        faults = 0
        while True:
            node = self.nodes[which]
            tries += 1
            proxy = xmlrpc.client.ServerProxy(
                f"{node.url}/xmlrpc/2/object", allow_none=True, transport=TimeoutTransport(60)
            )
            try:
                message_id = proxy.execute_kw(
                    self.db,
                    self.uid,
                    PASSWORD,
                    "logistics.backend",
                    "send_message",
                    [[self.backend_id], "integration.ping", {"message": text}],
                    {"idempotency_key": key},
                )
                return {"id": message_id, "node": node.name, "tries": tries, "faults": faults}
            except xmlrpc.client.Fault as exc:
                # the server answered with an error: its transaction was rolled back
                faults += 1
                error = f"Fault: {exc.faultString.strip().splitlines()[-1][:200]}"
            except (OSError, http.client.HTTPException, xmlrpc.client.ProtocolError) as exc:
                error = connection_error(exc)
            self._note("rpc", node, error)
            if time.monotonic() > deadline or self.stop_flag.is_set() or faults > 5:
                return {"id": None, "node": node.name, "tries": tries, "error": error}
            which = 1 - which
            time.sleep(0.2)

    def _rpc_worker(self):
        n, m = len(self.webhooks), len(self.messages)
        for j in range(m):
            # spread the calls over the webhook traffic, so that some straddle the kill
            while self.answered < j * n / m and not self.stop_flag.is_set():
                time.sleep(0.01)
            if self.stop_flag.is_set():
                return
            result = self._send(j)
            with self.lock:
                self.rpc_results[self.messages[j][0]] = result

    # lifecycle ------------------------------------------------------------------------------
    def start(self):
        targets = [self._webhook_worker] * self.threads + [self._rpc_worker]
        self._workers = [threading.Thread(target=t, daemon=True) for t in targets]
        for worker in self._workers:
            worker.start()

    def join(self, timeout):
        deadline = time.monotonic() + timeout
        for worker in self._workers:
            worker.join(max(0.1, deadline - time.monotonic()))
        if any(worker.is_alive() for worker in self._workers):
            self.stop_flag.set()
            for worker in self._workers:
                worker.join(70)
            return False
        return True


# database views -------------------------------------------------------------------------------
def message_counts(conn, backend_id):
    with conn.cursor() as cr:
        cr.execute(
            "SELECT direction, state, count(*) FROM logistics_message WHERE backend_id = %s "
            "GROUP BY direction, state",
            (backend_id,),
        )
        counts = defaultdict(dict)
        for direction, state, count in cr.fetchall():
            counts[direction][state] = count
    return counts


def job_counts(conn):
    with conn.cursor() as cr:
        cr.execute("SELECT state, count(*) FROM queue_job GROUP BY state")
        return dict(cr.fetchall())


def stale_for_scheduler(conn, backend_id):
    """Messages the retry scheduler would re-queue now (its own criteria, in SQL)."""
    with conn.cursor() as cr:
        cr.execute(
            "SELECT count(*) FROM logistics_message m LEFT JOIN queue_job j ON j.id = m.job_id "
            "WHERE m.backend_id = %s AND m.state IN ('pending', 'received') "
            "AND m.create_date < (now() AT TIME ZONE 'utc') - interval '2 minutes' "
            "AND (m.next_retry_at IS NULL OR m.next_retry_at <= now() AT TIME ZONE 'utc') "
            "AND (j.id IS NULL OR j.state IN ('done', 'failed', 'cancelled'))",
            (backend_id,),
        )
        return cr.fetchone()[0]


def fmt(counts):
    return ", ".join(f"{k} {v}" for k, v in sorted(counts.items())) or "none"


# main -----------------------------------------------------------------------------------------
def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--conf-a", required=True, help="node A's configuration")
    parser.add_argument("--conf-b", required=True, help="node B's configuration")
    parser.add_argument("--pidfile", help="where the nodes' process groups are listed")
    parser.add_argument("--webhooks", type=int, default=300, help="webhooks posted (300)")
    parser.add_argument("--messages", type=int, default=100, help="outbound messages (100)")
    parser.add_argument("--threads", type=int, default=3, help="webhook client threads (3)")
    parser.add_argument(
        "--twin-every",
        type=int,
        default=10,
        help="one webhook in this many is also posted to the other node at the same moment "
        "(10; 0: none)",
    )
    parser.add_argument(
        "--kill-at", type=float, default=0.4, help="share of webhooks answered (0.4)"
    )
    parser.add_argument("--down", type=float, default=3.0, help="seconds A stays down (3)")
    parser.add_argument(
        "--deadline", type=float, default=180.0, help="seconds to drain after the traffic"
    )
    parser.add_argument(
        "--nudge",
        type=float,
        default=10.0,
        help="seconds without progress before the "
        "explicit dead-job requeue and retry scheduler (10)",
    )
    parser.add_argument(
        "--partner-delay", type=float, default=0.2, help="partner's answer time (0.2 s)"
    )
    args = parser.parse_args()
    # a plain kill (two_nodes.sh's trap) still stops the nodes, at once: finally clauses run
    aborted = []

    def on_term(*_args):
        aborted.append(True)
        sys.exit(143)

    signal.signal(signal.SIGTERM, on_term)

    cfg = configparser.RawConfigParser()
    cfg.read(args.conf_a)
    db = cfg["options"]["db_name"]
    channels = cfg.get("queue_job", "channels", fallback="(not set)")
    runner, qj_version = queue_job_runner(args.conf_a)
    lock_id = runner.PG_ADVISORY_LOCK_ID
    requeue_sql = runner.Database._query_requeue_dead_jobs(None)

    started = time.monotonic()
    var = os.path.dirname(os.path.abspath(args.conf_a))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # pkg_resources' deprecation, odoo logs it loudly
        shim = gevent_shim(os.path.join(var, "two-nodes-pkg-shim"))
    if shim:
        print(
            "note: pkg_resources cannot resolve gevent's dependencies in this virtualenv; "
            f"the nodes run with dist-info shims from {shim} (see bench_base.gevent_shim)",
            flush=True,
        )
    node_a = Node("A", args.conf_a, shim)
    node_b = Node("B", args.conf_b, shim)
    nodes = [node_a, node_b]
    partner = Partner(args.partner_delay).start()
    conn = None
    checks = []  # (name, ok, detail)
    summary = {}
    worker_of = {}  # pid -> node label, for queue_job.worker_pid

    def note_pids():
        for node in nodes:
            for pid in node.pids():
                worker_of.setdefault(pid, node.label())

    def start_node(node):
        node.start()
        write_pidfile(args.pidfile, nodes)

    try:
        conn = pg_connect(db)
        print(
            f"queue_job {qj_version}, channels {channels}; database {db}; "
            f"partner on {partner.url('/events')}",
            flush=True,
        )
        t = time.monotonic()
        backend_id = create_backend(args.conf_a, db, partner.url("/events"))
        print(f"backend {backend_id} created with odoo-bin shell ({time.monotonic() - t:.0f} s)")

        # node A first, and its runner gets the lock; then node B (its runner stands by)
        t = time.monotonic()
        start_node(node_a)
        uid = wait_for_node(node_a, db)
        deadline = time.monotonic() + 60
        while holder_node(runner_holder(conn, lock_id)) != "A":
            node_a.check_alive()
            if time.monotonic() > deadline:
                raise BenchError("node A's job runner did not take the runner lock within 60 s")
            time.sleep(POLL)
        start_node(node_b)
        wait_for_node(node_b, db)
        note_pids()
        print(
            f"nodes up in {time.monotonic() - t:.0f} s: A {node_a.url} (runner lock: "
            f"{runner_holder(conn, lock_id)}), B {node_b.url}",
            flush=True,
        )

        # traffic, and the kill mid-way -----------------------------------------------------
        traffic = Traffic(
            nodes,
            db,
            uid,
            backend_id,
            args.webhooks,
            args.messages,
            args.threads,
            budget=150,
            twin_every=args.twin_every,
        )
        print(
            f"traffic: {args.webhooks} webhooks from {args.threads} threads and "
            f"{args.messages} outbound messages over XML-RPC, alternating A and B...",
            flush=True,
        )
        t_traffic = time.monotonic()
        traffic.start()
        kill_after = int(args.webhooks * args.kill_at)
        while traffic.answered < kill_after:
            node_a.check_alive()
            node_b.check_alive()
            time.sleep(0.02)
        # kill while a send is at the partner: received there, not yet committed in Odoo
        # (jobs run on the node of the active runner, A); at most 15 s more
        note_pids()
        holder_before = runner_holder(conn, lock_id)
        wait_send = time.monotonic() + 15
        while time.monotonic() < wait_send and not partner.inflight_keys():
            time.sleep(0.005)
        inflight_at_kill = partner.inflight_keys()
        answered_at_kill = traffic.answered
        rpc_at_kill = len(traffic.rpc_results)
        t_kill = time.monotonic()
        node_a.kill()
        write_pidfile(args.pidfile, nodes)
        # what A was running: the kill changes nothing in the database, and B's runner
        # waits for the lock (5 s) and requeues dead jobs only 10 s after their dispatch
        with conn.cursor() as cr:
            cr.execute("SELECT uuid, worker_pid FROM queue_job WHERE state = 'started'")
            running_at_kill = dict(cr.fetchall())
        jobs_at_kill = job_counts(conn)
        print(
            f"killed node A (SIGKILL to process group {node_a.groups[-1]}) "
            f"{t_kill - t_traffic:.1f} s into the traffic, after {answered_at_kill} webhooks "
            f"and {rpc_at_kill} outbound calls; jobs then: {fmt(jobs_at_kill)} "
            f"({len(running_at_kill)} running on "
            f"{', '.join(sorted({worker_of.get(p, '?') for p in running_at_kill.values()})) or '-'}"
            f"); sends at the partner: {len(inflight_at_kill)}; runner lock held by "
            f"{holder_before}",
            flush=True,
        )
        time.sleep(args.down)  # a pause while A is down, not a wait for a result
        start_node(node_a)
        wait_for_node(node_a, db)
        note_pids()
        t_back = time.monotonic()
        print(
            f"node A restarted, answering {t_back - t_kill:.1f} s after the kill; runner lock "
            f"held by {runner_holder(conn, lock_id)}",
            flush=True,
        )
        if not traffic.join(240):
            print("the clients did not finish in time: stopped", flush=True)
        t_traffic_end = time.monotonic()
        print(f"traffic done in {t_traffic_end - t_traffic:.1f} s", flush=True)

        # drain --------------------------------------------------------------------------------
        cron_ids = rpc(node_b.url, db, uid)(
            "ir.model.data",
            "search_read",
            [
                ("module", "=", "logistics_integration_base"),
                ("name", "=", "cron_logistics_retry_scheduler"),
            ],
            fields=["res_id"],
        )
        cron_id = cron_ids[0]["res_id"] if cron_ids else None
        explicit_requeued, scheduler_stale, nudges = [], 0, 0
        n_in, n_out = len(traffic.webhook_results), len(traffic.rpc_results)
        deadline = t_traffic_end + args.deadline
        last_progress, last_seen, last_pids = time.monotonic(), None, time.monotonic()
        while True:
            counts = message_counts(conn, backend_id)
            processed = counts["in"].get("processed", 0)
            sent = counts["out"].get("sent", 0)
            seen = (tuple(sorted(counts["in"].items())), tuple(sorted(counts["out"].items())))
            if seen != last_seen:
                last_seen, last_progress = seen, time.monotonic()
            if processed >= n_in and sent >= n_out:
                break
            open_left = counts["in"].get("received", 0) + counts["out"].get("pending", 0)
            if not open_left and sum(counts["in"].values()) >= n_in:
                break  # nothing open any more: waiting longer changes nothing
            if time.monotonic() > deadline:
                print(f"drain deadline reached: {dict(counts)}", flush=True)
                break
            if time.monotonic() - last_pids > 2:
                note_pids()  # a respawned worker still counts for its node
                last_pids = time.monotonic()
            if time.monotonic() - last_progress > args.nudge:
                nudges += 1
                with conn.cursor() as cr:
                    cr.execute(requeue_sql)  # queue_job's own dead-job requeue
                    requeued = [row[0] for row in cr.fetchall()]
                explicit_requeued += requeued
                stale = stale_for_scheduler(conn, backend_id)
                scheduler_stale += stale
                if cron_id:
                    try:
                        rpc(node_b.url, db, uid)("ir.cron", "method_direct_trigger", [cron_id])
                    except (OSError, xmlrpc.client.Error) as exc:
                        print(f"  retry scheduler trigger failed: {exc}", flush=True)
                print(
                    f"  no progress for {args.nudge:g} s ({dict(counts)}): requeued "
                    f"{len(requeued)} dead jobs (queue_job's query), retry scheduler "
                    f"triggered ({stale} messages for it)",
                    flush=True,
                )
                last_progress = time.monotonic()
            time.sleep(POLL)
        t_drained = time.monotonic()
        # the last jobs' own rows (done) follow their messages in the same transaction;
        # give queue_job a moment to settle anything a late requeue may have added
        settle = time.monotonic() + 30
        while time.monotonic() < settle:
            jobs = job_counts(conn)
            if not any(jobs.get(s) for s in ("pending", "enqueued", "started")):
                break
            time.sleep(POLL)
        note_pids()
        print(f"drained {t_drained - t_traffic_end:.1f} s after the traffic", flush=True)

        # checks ---------------------------------------------------------------------------------
        posted_ids = [msg_id for msg_id, _body in traffic.webhooks]
        results = traffic.webhook_results
        twins = traffic.twin_results
        answers = [(k, v) for k, v in results.items()] + [(k, v) for k, v in twins.items()]
        not_accepted = [(k, v) for k, v in answers if v.get("status") != 202]
        missing_answers = len(posted_ids) - len(results)
        checks.append(
            (
                "webhooks: every delivery answered 202 by a node",
                not not_accepted and not missing_answers,
                f"{len(answers) - len(not_accepted)} of {len(answers)} deliveries accepted "
                f"({len(posted_ids)} webhooks, {len(twins)} of them also posted to the other "
                "node at the same moment)"
                + (f"; not: {not_accepted[:3]}" if not_accepted else "")
                + (f"; {missing_answers} without an answer" if missing_answers else ""),
            )
        )

        with conn.cursor() as cr:
            cr.execute(
                "SELECT idempotency_key, count(*), array_agg(state) FROM logistics_message "
                "WHERE backend_id = %s AND direction = 'in' GROUP BY idempotency_key",
                (backend_id,),
            )
            inbound = {key: (count, states) for key, count, states in cr.fetchall()}
        doubled = {k: c for k, (c, _s) in inbound.items() if c > 1}
        lost_in = [k for k in posted_ids if k not in inbound]
        foreign = [k for k in inbound if k not in set(posted_ids)]
        # every answer for one webhook-id names the same message, and at most one says "new"
        answered_ids = defaultdict(set)
        answered_new = Counter()
        without_id = []  # (key, answer) of 202 answers naming no message
        for key, answer in answers:
            if answer.get("status") == 202:
                if answer.get("message_id"):
                    answered_ids[key].add(answer["message_id"])
                else:
                    without_id.append((key, answer))
                answered_new[key] += not answer.get("duplicate")
        several_ids = {k: ids for k, ids in answered_ids.items() if len(ids) > 1}
        new_twice = [k for k, n in answered_new.items() if n > 1]
        checks.append(
            (
                "inbound: each webhook-id stored exactly once",
                not (doubled or lost_in or foreign or several_ids or new_twice),
                f"{len(inbound)} keys for {len(posted_ids)} webhooks, "
                f"{sum(c for c, _s in inbound.values())} rows; doubled {len(doubled)}, "
                f"missing {len(lost_in)}, unexpected {len(foreign)}; answers naming two "
                f"messages {len(several_ids)}, answered as new twice {len(new_twice)}"
                + (f" (e.g. {list(several_ids.items())[:2]})" if several_ids else ""),
            )
        )
        # a duplicate answer names the message stored first, also when the twin was
        # stored by the other node at the same moment
        checks.append(
            (
                "inbound: every 202 names its message",
                not without_id,
                f"{len(without_id)} answers without a message id"
                + (f" (e.g. {without_id[:2]})" if without_id else ""),
            )
        )
        in_states = Counter(s for _c, states in inbound.values() for s in states)
        checks.append(
            (
                "inbound: all processed",
                in_states.get("processed", 0) == len(posted_ids) and len(in_states) == 1,
                fmt(in_states),
            )
        )

        keys = [key for key, _text in traffic.messages]
        texts = dict(traffic.messages)
        with conn.cursor() as cr:
            cr.execute(
                "SELECT idempotency_key, array_agg(id), array_agg(state), max(attempts) "
                "FROM logistics_message WHERE backend_id = %s AND direction = 'out' "
                "GROUP BY idempotency_key",
                (backend_id,),
            )
            outbound = {k: (ids, states, att) for k, ids, states, att in cr.fetchall()}
        out_states = Counter(s for _i, states, _a in outbound.values() for s in states)
        out_doubled = [k for k, (ids, _s, _a) in outbound.items() if len(ids) > 1]
        out_lost = [k for k in keys if k not in outbound]
        out_foreign = [k for k in outbound if k not in texts]
        rpc_failed = [k for k in keys if not (traffic.rpc_results.get(k) or {}).get("id")]
        rpc_mismatch = [
            k
            for k in keys
            if k in outbound
            and (traffic.rpc_results.get(k) or {}).get("id")
            and traffic.rpc_results[k]["id"] != outbound[k][0][0]
        ]
        checks.append(
            (
                "outbound: one message per idempotency key, the RPC's, all sent",
                len(outbound) == len(keys)
                and not (out_doubled or out_lost or out_foreign or rpc_failed or rpc_mismatch)
                and out_states.get("sent", 0) == len(keys),
                f"{sum(len(i) for i, _s, _a in outbound.values())} rows for {len(keys)} keys "
                f"({fmt(out_states)}); doubled {len(out_doubled)}, missing {len(out_lost)}, "
                f"unexpected {len(out_foreign)}, RPC without id {len(rpc_failed)}, "
                f"RPC id not the row's {len(rpc_mismatch)}",
            )
        )

        deliveries = partner.deliveries()
        bodies = defaultdict(list)
        for key, body in deliveries:
            bodies[key].append(body)
        unseen = [k for k in keys if k not in bodies]
        unknown = [k for k in bodies if k not in texts]
        changed = [k for k, b in bodies.items() if len(set(b)) > 1]
        wrong = []
        for key, seen_bodies in bodies.items():
            try:
                event = json.loads(seen_bodies[0])
                if event.get("id") != key or event.get("data", {}).get("message") != texts.get(key):
                    wrong.append(key)
            except (ValueError, AttributeError):
                wrong.append(key)
        replays = {k: len(b) for k, b in bodies.items() if len(b) > 1}
        checks.append(
            (
                "partner: saw every key, only ours, replays identical",
                not (unseen or unknown or changed or wrong),
                f"{len(deliveries)} POSTs for {len(bodies)} keys; keys replayed {len(replays)}, "
                f"of which with another body {len(changed)}; unseen {len(unseen)}, unknown "
                f"{len(unknown)}, body not the message's {len(wrong)}",
            )
        )

        with conn.cursor() as cr:
            cr.execute("SELECT uuid, state, retry, worker_pid, exc_info FROM queue_job")
            job_rows = cr.fetchall()
        job_states = Counter(row[1] for row in job_rows)
        by_uuid = {row[0]: row for row in job_rows}
        redone = [by_uuid.get(u) for u in running_at_kill]
        redone_ok = [
            r
            for r in redone
            if r and r[1] == "done" and worker_of.get(r[3], "?") not in ("A1", "?")
        ]
        checks.append(
            (
                "jobs: all done, none failed; those running on A at the kill redone",
                set(job_states) <= {"done"} and len(redone_ok) == len(running_at_kill),
                f"{fmt(job_states)}; {len(redone_ok)} of {len(running_at_kill)} running at the "
                "kill done by a live worker"
                + (
                    f"; first failure: {next(r[4] for r in job_rows if r[1] == 'failed')[-300:]}"
                    if job_states.get("failed")
                    else ""
                ),
            )
        )

        # summary --------------------------------------------------------------------------------
        served = Counter(v["node"] for _k, v in answers if v.get("status") == 202)
        duplicates = sum(1 for k, v in results.items() if k not in twins and v.get("duplicate"))
        retried = sum(1 for _k, v in answers if v.get("tries", 1) > 1)
        pairs = Counter(
            "one new, one duplicate" if answered_new[k] == 1 else f"{answered_new[k]} new"
            for k in twins
        )
        rpc_served = Counter(v["node"] for v in traffic.rpc_results.values() if v.get("id"))
        rpc_retried = sum(1 for v in traffic.rpc_results.values() if v.get("tries", 1) > 1)
        rpc_faults = sum(v.get("faults", 0) for v in traffic.rpc_results.values())
        errors = Counter((what, node, err) for _t, what, node, err in traffic.errors)
        jobs_by_worker = Counter(
            worker_of.get(r[3], "?") for r in job_rows if r[1] == "done" and r[3]
        )
        # queue_job counts a job's runs in ``retry`` (1 after the first)
        retried_jobs = sum(1 for r in job_rows if (r[2] or 0) > 1)
        runner_requeued = 0
        for node in nodes:
            try:
                with open(node.log_path, errors="replace") as fh:
                    runner_requeued += sum("Re-queued dead job" in line for line in fh)
            except OSError:
                pass
        redone_text = ", ".join(
            f"{r[1]} by {worker_of.get(r[3], '?')} (run {r[2]}x)" for r in redone if r
        )
        inflight_text = ", ".join(
            f"{k} delivered {len(bodies.get(k, []))}x, message "
            f"{outbound.get(k, (None, ['?'], None))[1][0]}"
            for k in sorted(inflight_at_kill)
        )
        summary.update(
            webhooks=f"{len(answers)} deliveries answered ({fmt(served)} accepted), "
            f"{retried} retried on the other node; of the single ones {duplicates} answered "
            "duplicate (stored by a node that died before answering)",
            racing_twins=f"{len(twins)} webhooks posted to both nodes at once: {fmt(pairs)}",
            answers=f"{len(without_id)} answered 202 without a message id"
            + (
                f" ({sum(k in twins for k, _a in without_id)} of them racing twins, "
                f"{sum(bool(a.get('duplicate')) for _k, a in without_id)} marked duplicate; "
                f"e.g. message_id={without_id[0][1].get('message_id')!r} "
                f"duplicate={without_id[0][1].get('duplicate')!r} from {without_id[0][1]['node']})"
                if without_id
                else ""
            ),
            outbound_rpc=f"{len(traffic.rpc_results)} calls (served {fmt(rpc_served)}), "
            f"{rpc_retried} retried on the other node, {rpc_faults} faults",
            failed_tries=", ".join(f"{w} to {n}: {e} x{c}" for (w, n, e), c in errors.items())
            or "none",
            jobs=f"{len(job_rows)} ({fmt(job_states)}), run by {fmt(jobs_by_worker)}; "
            f"{retried_jobs} ran more than once",
            recovery=f"{len(running_at_kill)} jobs running on A when it died, then "
            f"{redone_text or '-'}; sends at the partner when A died: "
            f"{inflight_text or 'none'}; dead jobs requeued by the active runner itself "
            f"{runner_requeued}, by the explicit call {len(explicit_requeued)} ({nudges} "
            f"nudges); messages for the retry scheduler {scheduler_stale}",
            runner_lock=f"before the kill {holder_before}, at the end "
            f"{runner_holder(conn, lock_id)}",
            partner=f"{len(deliveries)} deliveries of {len(keys)} messages, "
            f"{sum(replays.values()) - len(replays)} replays of {len(replays)} keys",
            timing=f"traffic {t_traffic_end - t_traffic:.1f} s, drain "
            f"{t_drained - t_traffic_end:.1f} s, A back in {t_back - t_kill:.1f} s, "
            f"whole run {time.monotonic() - started:.0f} s",
        )
    except BenchError as exc:
        checks.append(("scenario ran to its end", False, str(exc)))
        for node in nodes:
            print(f"--- node {node.name} log tail ({node.log_path}) ---\n{node.tail(25)}")
    finally:
        for node in nodes:
            if aborted and node.alive():
                node.kill()
            else:
                node.stop()
        write_pidfile(args.pidfile, nodes)
        partner.stop()
        if conn is not None:
            conn.close()

    print()
    for key, value in summary.items():
        print(f"{key.replace('_', ' '):13} {value}")
    print()
    for name, ok, detail in checks:
        print(f"{'PASS' if ok else 'FAIL'}  {name}: {detail}")
    passed = sum(1 for _n, ok, _d in checks if ok)
    failed = len(checks) - passed
    if not failed:
        for node in nodes:
            if os.path.exists(node.log_path):
                os.unlink(node.log_path)
    else:
        print(f"node logs: {nodes[0].log_path} {nodes[1].log_path}")
    print(f"{passed} passed, {failed} failed")
    sys.exit(1 if failed else 0)


if __name__ == "__main__":
    main()
