"""Checks of the shipped production configuration (run by ``setup/deploy/check.sh``).

1. ``nginx -t`` on ``setup/deploy/nginx/logistics.conf``, inside a throwaway main
   ``nginx.conf`` in a temporary folder. What belongs to the target host is moved, and each
   is found exactly where expected (or the check fails): file paths into the folder (a
   self-signed certificate made with ``openssl``, the logs, the ACME folder), the listen
   addresses (which nginx -t binds) to free loopback ports, the upstreams to the recorders
   below, the monitoring server's address to 127.0.0.1.
2. The same file run by nginx: its public, internal and plain-HTTP doors on loopback, in
   front of two recording upstreams standing in for Odoo's HTTP and gevent ports (the
   monitoring server is 127.0.0.1, any other caller 127.0.0.2). Requests go through TLS,
   the certificate checked for ``odoo.example.com``, and each check reads what the
   upstream received: the public door forwards webhooks and the metrics scrape (from the
   monitoring server only) and refuses /web, /jsonrpc, /xmlrpc, the database manager,
   /websocket and path tricks, in JSON; the internal door serves the back office and the
   WebSocket, not the database manager.
3. ``setup/deploy/odoo.conf`` rendered by ``render_conf.py`` from a test environment and
   loaded by Odoo's own configuration parser; queue_job's channel configuration read by
   queue_job's own parser.
4. The Dockerfile and docker-compose.yml, read (no Docker daemon is needed): every module
   copied into the image, the image's requirements bounded as the repository's, every value
   the template asks for given to the container, Odoo's ports on the host's loopback only.
5. When ``systemd-analyze`` and ``logrotate`` are on the machine, the unit file and the
   logrotate file are checked by them.

Installs nothing. Ends with ``deploy: N passed, N failed``; exits non-zero on a failure.
"""

import contextlib
import grp
import http.client
import json
import os
import pwd
import re
import shutil
import socket
import ssl
import subprocess
import sys
import tempfile
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import yaml  # PyYAML, one of Odoo's requirements

HERE = Path(__file__).resolve().parent
REPO = HERE.parent.parent
SITE = HERE / "nginx" / "logistics.conf"
NAME = "odoo.example.com"
sys.path.insert(0, str(HERE))

from render_conf import PLACEHOLDER, render  # noqa: E402

# what the shipped site names, and how often: a check that no longer finds them fails
# instead of testing something else
PUBLIC_HTTPS = "203.0.113.10:443"
INTERNAL_HTTPS = "10.0.0.10:443"
PUBLIC_HTTP = "203.0.113.10:80"
INTERNAL_HTTP = "10.0.0.10:80"
ODOO_HTTP = "server 127.0.0.1:8069;"
ODOO_GEVENT = "server 127.0.0.1:8072;"
MONITORING = "allow 192.0.2.50;"
PATHS = {
    "/etc/nginx/tls/odoo.example.com/": 4,
    "/var/log/nginx/": 5,
    "/var/www/letsencrypt": 1,
}


class Results:
    def __init__(self):
        self.passed = 0
        self.failed = 0

    def check(self, what, ok, detail=""):
        if ok:
            self.passed += 1
            print(f"  ok    {what}")
        else:
            self.failed += 1
            print(f"  FAIL  {what}" + (f"\n        {detail}" if detail else ""))
        return ok


# --- the recording upstream ------------------------------------------------------------------
class Recorder(ThreadingHTTPServer):
    """An HTTP server standing in for one of Odoo's ports: records every request it gets
    (method, path as received, headers, body) and answers 200."""

    daemon_threads = True

    def __init__(self, name):
        super().__init__(("127.0.0.1", 0), _RecordingHandler)
        self.name = name
        self.requests = []
        self.down = False
        self.lock = threading.Lock()
        self.thread = threading.Thread(target=self.serve_forever, daemon=True)
        self.thread.start()

    @property
    def port(self):
        return self.server_address[1]

    def stop(self):
        """Stop answering: the listening socket closes and connections kept alive by the
        proxy are dropped without an answer, as when Odoo's process is gone."""
        self.down = True
        self.shutdown()
        self.server_close()


class _RecordingHandler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def _record(self):
        if self.server.down:
            self.close_connection = True
            return
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length) if length else b""
        with self.server.lock:
            self.server.requests.append(
                {
                    "method": self.command,
                    "path": self.path,
                    "headers": {k.lower(): v for k, v in self.headers.items()},
                    "body": body,
                }
            )
        answer = json.dumps({"upstream": self.server.name}).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(answer)))
        self.end_headers()
        self.wfile.write(answer)

    do_GET = do_POST = do_PUT = do_DELETE = do_HEAD = _record

    def log_message(self, *_args):
        pass


# --- the client --------------------------------------------------------------------------------
class _Connection(http.client.HTTPSConnection):
    """HTTPS to 127.0.0.1:port from a chosen loopback address, verifying the certificate
    for NAME (as a partner resolving the name would)."""

    def __init__(self, port, source, context):
        super().__init__(NAME, port, context=context, timeout=15)
        self._port, self._source, self._ctx = port, source, context

    def connect(self):
        raw = socket.create_connection(("127.0.0.1", self._port), 15, (self._source, 0))
        self.sock = self._ctx.wrap_socket(raw, server_hostname=NAME)


def send(port, method, path, body=b"", headers=None, source="127.0.0.1", tls=None):
    """(status, headers, body) of one request; the path is sent exactly as given."""
    if tls:
        conn = _Connection(port, source, tls)
    else:
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=15, source_address=(source, 0))
    try:
        conn.putrequest(method, path, skip_host=True, skip_accept_encoding=True)
        conn.putheader("Host", NAME)
        for key, value in (headers or {}).items():
            conn.putheader(key, value)
        if body or method in ("POST", "PUT"):
            conn.putheader("Content-Length", str(len(body)))
        conn.endheaders()
        if body:
            try:
                conn.send(body)
            except (BrokenPipeError, ConnectionResetError):
                pass  # nginx answered (413) before reading the whole body
        response = conn.getresponse()
        return response.status, dict(response.getheaders()), response.read()
    finally:
        conn.close()


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_for_port(port, deadline, proc):
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            return False
        try:
            with socket.create_connection(("127.0.0.1", port), 0.5):
                return True
        except OSError:
            time.sleep(0.1)
    return False


# --- nginx -------------------------------------------------------------------------------------
def find_nginx():
    return shutil.which("nginx") or next(
        (p for p in ("/usr/sbin/nginx", "/usr/local/sbin/nginx") if os.access(p, os.X_OK)), None
    )


def substitute(text, table, results, what):
    """Replace each key of table by its value; each key must occur exactly the given
    number of times (value: (replacement, count))."""
    ok = True
    for old, (new, count) in table.items():
        found = text.count(old)
        if found != count:
            results.check(
                f"{what}: the site names '{old}' {count} time(s)",
                False,
                f"found {found}: the site file changed shape, update setup/deploy/check.py",
            )
            ok = False
        text = text.replace(old, new)
    return text, ok


def main_conf(tmp, site):
    user = ""
    if os.geteuid() == 0:  # workers leave root: give them the folders they write
        nobody = pwd.getpwnam("nobody")
        user = f"user nobody {grp.getgrgid(nobody.pw_gid).gr_name};"  # nogroup, or nobody
        for d in ("tmp", "tmp/body", "tmp/proxy"):
            os.chown(tmp / d, nobody.pw_uid, nobody.pw_gid)
    return f"""
{user}
worker_processes 1;
pid {tmp}/nginx.pid;
error_log {tmp}/log/error.log warn;
events {{ worker_connections 256; }}
http {{
    client_body_temp_path {tmp}/tmp/body;
    proxy_temp_path {tmp}/tmp/proxy;
    fastcgi_temp_path {tmp}/tmp/fastcgi;
    uwsgi_temp_path {tmp}/tmp/uwsgi;
    scgi_temp_path {tmp}/tmp/scgi;
    access_log {tmp}/log/access.log;
    include {site};
}}
"""


def prepare(tmp):
    for d in ("tls", "log", "www", "tmp", "tmp/body", "tmp/proxy"):
        (tmp / d).mkdir(parents=True, exist_ok=True)
    os.chmod(tmp, 0o755)
    os.chmod(tmp / "tmp", 0o755)
    subprocess.run(
        [
            "openssl",
            "req",
            "-x509",
            "-newkey",
            "rsa:2048",
            "-nodes",
            "-days",
            "2",
            "-subj",
            f"/CN={NAME}",
            "-addext",
            f"subjectAltName=DNS:{NAME}",
            "-keyout",
            str(tmp / "tls" / "privkey.pem"),
            "-out",
            str(tmp / "tls" / "fullchain.pem"),
        ],
        check=True,
        capture_output=True,
    )


def path_table(tmp):
    targets = {
        "/etc/nginx/tls/odoo.example.com/": f"{tmp}/tls/",
        "/var/log/nginx/": f"{tmp}/log/",
        "/var/www/letsencrypt": f"{tmp}/www",
    }
    return {old: (targets[old], count) for old, count in PATHS.items()}


def check_syntax(nginx, tmp, site, results):
    print("nginx -t on the shipped site file (its host addresses, paths and upstreams moved here):")
    conf = tmp / "nginx-t.conf"
    conf.write_text(main_conf(tmp, site))
    run = subprocess.run(
        [nginx, "-t", "-p", f"{tmp}/", "-c", str(conf)], capture_output=True, text=True
    )
    out = (run.stdout + run.stderr).strip()
    results.check(
        f"nginx -t: {SITE.relative_to(REPO)} is valid",
        run.returncode == 0 and "test is successful" in out,
        out,
    )


def loopback_site(tmp, results, http_port, gevent_port, name):
    """The site file with what belongs to the target host moved to this machine: its doors
    on free loopback ports, Odoo's ports as given. (site path, ports), or None when the
    site file no longer names what is moved."""
    ports = {k: free_port() for k in ("public", "internal", "public_http", "internal_http")}
    table = path_table(tmp)
    table.update(
        {
            PUBLIC_HTTPS: (f"127.0.0.1:{ports['public']}", 1),
            INTERNAL_HTTPS: (f"127.0.0.1:{ports['internal']}", 1),
            PUBLIC_HTTP: (f"127.0.0.1:{ports['public_http']}", 1),
            INTERNAL_HTTP: (f"127.0.0.1:{ports['internal_http']}", 1),
            ODOO_HTTP: (f"server 127.0.0.1:{http_port};", 1),
            ODOO_GEVENT: (f"server 127.0.0.1:{gevent_port};", 1),
            MONITORING: ("allow 127.0.0.1;", 1),
        }
    )
    text, ok = substitute(SITE.read_text(), table, results, "the site on loopback")
    if not ok:
        return None
    site = tmp / f"site-{name}.conf"
    site.write_text(text)
    return site, ports


@contextlib.contextmanager
def running_nginx(nginx, tmp, site, ports, results):
    """nginx in the foreground with the site; yields the TLS context trusting its
    certificate, or None when it did not start (a failed check says why)."""
    conf = tmp / f"nginx-{site.stem}.conf"
    conf.write_text(main_conf(tmp, site))
    proc = subprocess.Popen(
        [nginx, "-p", f"{tmp}/", "-c", str(conf), "-g", "daemon off;"],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    try:
        deadline = time.monotonic() + 15
        if all(wait_for_port(p, deadline, proc) for p in ports.values()):
            yield ssl.create_default_context(cafile=str(tmp / "tls" / "fullchain.pem"))
        else:
            if proc.poll() is None:
                proc.terminate()
            err = proc.communicate(timeout=10)[1].decode(errors="replace")
            log = tmp / "log" / "error.log"
            if log.exists():
                err += log.read_text(errors="replace")
            results.check("nginx starts on loopback", False, err[-2000:])
            yield None
    finally:
        if proc.poll() is None:
            proc.terminate()
        try:
            proc.wait(10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


def check_doors(nginx, tmp, results):
    odoo, gevent = Recorder("odoo"), Recorder("gevent")
    try:
        found = loopback_site(tmp, results, odoo.port, gevent.port, "recorded")
        if not found:
            return
        site, ports = found
        check_syntax(nginx, tmp, site, results)
        if results.failed:
            return
        print("the site on loopback in front of recording upstreams:")
        with running_nginx(nginx, tmp, site, ports, results) as tls:
            if not tls:
                return
            _public_door(ports, odoo, gevent, tls, results)
            _internal_door(ports, odoo, gevent, tls, results)
            _plain_http(ports, odoo, results)
            # last: Odoo down behind the public door
            odoo.stop()
            status, headers, body = send(
                ports["public"], "POST", "/logistics/webhook/acme", b"{}", JSON, tls=tls
            )
            results.check(
                "public: Odoo down -> 503 in JSON with Retry-After (partners retry)",
                status == 503 and headers.get("Retry-After") == "30" and b"retry later" in body,
                f"{status} {headers} {body[:200]!r}",
            )
    finally:
        gevent.stop()
        if not odoo.down:
            odoo.stop()


JSON = {"Content-Type": "application/json"}


def _json_error(body):
    try:
        return bool(json.loads(body).get("error"))
    except ValueError:
        return False


def _forwarded(recorder, before):
    with recorder.lock:
        return recorder.requests[before:]


def _public_door(ports, odoo, gevent, tls, results):
    port = ports["public"]

    def post(path, body, headers=JSON, source="127.0.0.1"):
        before = len(odoo.requests)
        answer = send(port, "POST", path, body, headers, source=source, tls=tls)
        return answer, _forwarded(odoo, before)

    signed = {
        **JSON,
        "webhook-id": "msg_2Lq1",
        "webhook-timestamp": "1765100000",
        "webhook-signature": "v1,K5oZfzN95Z9UVu1EsfQmfVNQhnkZ2pj9o9NDN/H/pI4=",
        "X-Forwarded-For": "198.51.100.66",  # a caller's claim: replaced, not trusted
    }
    body = b'{"type": "integration.ping", "data": {"message": "hello"}}'
    (status, _h, answer), got = post("/logistics/webhook/acme-3pl", body, signed)
    hit = got[0] if len(got) == 1 else {}
    h = hit.get("headers", {})
    results.check(
        "public: POST /logistics/webhook/acme-3pl reaches Odoo once, body and signature intact",
        status == 200
        and json.loads(answer) == {"upstream": "odoo"}
        and hit.get("method") == "POST"
        and hit.get("path") == "/logistics/webhook/acme-3pl"
        and hit.get("body") == body
        and h.get("webhook-signature") == signed["webhook-signature"]
        and h.get("webhook-id") == "msg_2Lq1",
        f"{status} {got}",
    )
    results.check(
        "public: Odoo is told the caller's address, https and the public name",
        h.get("x-forwarded-for") == "127.0.0.1"
        and h.get("x-forwarded-proto") == "https"
        and h.get("x-forwarded-host") == NAME
        and h.get("host") == NAME,
        str(h),
    )

    big = b"x" * (1024 * 1024)  # the suite's default limit per backend
    (status, _h, _b), got = post("/logistics/webhook/acme-3pl", big)
    results.check(
        "public: a 1 MiB webhook (a backend's default limit) reaches Odoo whole",
        status == 200 and len(got) == 1 and len(got[0]["body"]) == len(big),
        f"{status}, forwarded {[len(r['body']) for r in got]}",
    )
    (status, _h, answer), got = post("/logistics/webhook/acme-3pl", b"x" * (3 * 1024 * 1024))
    results.check(
        "public: a 3 MiB webhook is refused by nginx with 413 in JSON, Odoo never sees it",
        status == 413 and b"2 MiB" in answer and not got,
        f"{status} {answer[:200]!r}, forwarded {len(got)}",
    )

    before = len(odoo.requests)
    status, _h, answer = send(port, "GET", "/logistics/webhook/acme-3pl", tls=tls)
    results.check(
        "public: GET on the webhook path is refused in JSON (POST only)",
        status == 403 and _json_error(answer) and not _forwarded(odoo, before),
        f"{status} {answer[:200]!r}",
    )

    token = {"Authorization": "Bearer s3cret-scrape-token"}
    before = len(odoo.requests)
    status, _h, _b = send(port, "GET", "/logistics/metrics", headers=token, tls=tls)
    got = _forwarded(odoo, before)
    results.check(
        "public: GET /logistics/metrics from the monitoring address reaches Odoo with its token",
        status == 200
        and len(got) == 1
        and got[0]["path"] == "/logistics/metrics"
        and got[0]["headers"].get("authorization") == token["Authorization"],
        f"{status} {got}",
    )
    before = len(odoo.requests)
    status, _h, _b = send(
        port, "GET", "/logistics/metrics", headers=token, source="127.0.0.2", tls=tls
    )
    results.check(
        "public: /logistics/metrics from any other address is refused (403)",
        status == 403 and not _forwarded(odoo, before),
        str(status),
    )

    refused = [
        ("GET", "/"),
        ("GET", "/web"),
        ("GET", "/web/login"),
        ("POST", "/web/session/authenticate"),
        ("POST", "/xmlrpc/2/common"),
        ("POST", "/xmlrpc/2/object"),
        ("POST", "/xmlrpc/2/db"),
        ("POST", "/jsonrpc"),
        ("GET", "/web/database/manager"),
        ("POST", "/web/database/list"),
        ("GET", "/web/health"),
        ("GET", "/odoo"),
        ("GET", "/logistics/oauth/callback"),
        ("POST", "/logistics/oauth/callback"),
        ("GET", "/logistics/carrier/labels/1"),
        ("POST", "/logistics/carrier/labels/1"),
        ("POST", "/logistics/webhook"),
        ("POST", "/logistics/webhookx/acme-3pl"),
        ("GET", "/logistics/metricsx"),
        ("GET", "/logistics/metrics/../../web"),
        ("GET", "/logistics/webhook/../../web/database/manager"),
        ("POST", "/logistics/webhook/%2e%2e/%2e%2e/jsonrpc"),
        ("POST", "/logistics/webhook/..%2F..%2Fjsonrpc"),
        ("POST", "//jsonrpc"),
        ("GET", "/LOGISTICS/METRICS/../../web"),
    ]
    for method, path in refused:
        before_odoo, before_gevent = len(odoo.requests), len(gevent.requests)
        status, _h, answer = send(
            port, method, path, b"{}" if method == "POST" else b"", JSON, tls=tls
        )
        leaked = _forwarded(odoo, before_odoo) + _forwarded(gevent, before_gevent)
        leaked = [r for r in leaked if not r["path"].startswith("/logistics/webhook/")]
        results.check(
            f"public: {method} {path} is refused ({status}), Odoo never sees it",
            # 301: /logistics/webhook -> /logistics/webhook/; 400: a path above the root
            (status in (301, 400) or (status == 404 and _json_error(answer))) and not leaked,
            f"{status} {answer[:120]!r}, forwarded {[(r['method'], r['path']) for r in leaked]}",
        )
    before = len(gevent.requests)
    status, _h, _b = send(port, "GET", "/websocket", headers=UPGRADE, tls=tls)
    results.check(
        "public: the WebSocket (/websocket) is refused",
        status == 404 and not _forwarded(gevent, before),
        str(status),
    )
    # a path with dot segments that stays on the webhook prefix may pass, as itself only
    before = len(odoo.requests)
    status, _h, _b = send(port, "POST", "/logistics/webhook/x/../acme-3pl", b"{}", JSON, tls=tls)
    got = _forwarded(odoo, before)
    results.check(
        "public: dot segments never take a request out of /logistics/webhook/",
        all(r["path"].startswith("/logistics/webhook/") for r in got),
        f"{status} {[r['path'] for r in got]}",
    )


UPGRADE = {"Upgrade": "websocket", "Connection": "Upgrade", "Sec-WebSocket-Version": "13"}


def _internal_door(ports, odoo, gevent, tls, results):
    port = ports["internal"]
    before = len(odoo.requests)
    status, _h, _b = send(port, "GET", "/web", source="127.0.0.2", tls=tls)
    got = _forwarded(odoo, before)
    h = got[0]["headers"] if len(got) == 1 else {}
    results.check(
        "internal: GET /web reaches Odoo with the caller's address, https and the name",
        status == 200
        and len(got) == 1
        and got[0]["path"] == "/web"
        and h.get("x-forwarded-for") == "127.0.0.2"
        and h.get("x-forwarded-proto") == "https"
        and h.get("x-forwarded-host") == NAME,
        f"{status} {got}",
    )
    before = len(gevent.requests)
    status, _h, _b = send(port, "GET", "/websocket", headers=UPGRADE, tls=tls)
    got = _forwarded(gevent, before)
    h = got[0]["headers"] if len(got) == 1 else {}
    results.check(
        "internal: /websocket goes to Odoo's gevent port as a WebSocket upgrade",
        len(got) == 1
        and got[0]["path"] == "/websocket"
        and h.get("upgrade") == "websocket"
        and h.get("connection", "").lower() == "upgrade",
        f"{status} {got}",
    )
    for method, path in (("GET", "/web/database/manager"), ("POST", "/xmlrpc/2/db")):
        before = len(odoo.requests)
        status, _h, _b = send(port, method, path, b"{}" if method == "POST" else b"", tls=tls)
        results.check(
            f"internal: {method} {path} (the database manager) is closed ({status})",
            status == 404 and not _forwarded(odoo, before),
            str(status),
        )
    before = len(odoo.requests)
    status, _h, _b = send(port, "GET", "/web/health", tls=tls)
    results.check(
        "internal: /web/health (Odoo's health check) is reachable",
        status == 200 and len(_forwarded(odoo, before)) == 1,
        str(status),
    )
    upload = b"y" * (5 * 1024 * 1024)
    before = len(odoo.requests)
    status, _h, _b = send(port, "POST", "/web/binary/upload_attachment", upload, tls=tls)
    got = _forwarded(odoo, before)
    results.check(
        "internal: a 5 MiB attachment upload reaches Odoo whole",
        status == 200 and len(got) == 1 and len(got[0]["body"]) == len(upload),
        f"{status} {[len(r['body']) for r in got]}",
    )


def _plain_http(ports, odoo, results):
    for door in ("public_http", "internal_http"):
        before = len(odoo.requests)
        status, headers, _b = send(ports[door], "POST", "/logistics/webhook/acme-3pl", b"{}")
        results.check(
            f"{door.replace('_', ' ')}: redirected to https://{NAME}/..., nothing forwarded",
            status == 301
            and headers.get("Location") == f"https://{NAME}/logistics/webhook/acme-3pl"
            and not _forwarded(odoo, before),
            f"{status} {headers.get('Location')}",
        )


# --- odoo.conf -----------------------------------------------------------------------------------
TEST_ENV = {
    "ODOO_ADMIN_PASSWD": "master-password-of-the-check",
    "LOGISTICS_SECRET_KEY": "key-of-the-check",
    "LOGISTICS_METRICS_TOKEN": "token-of-the-check",
}

PARSE = r"""
import json, sys
from odoo.tools import config
config.parse_config(["-c", sys.argv[1]], setup_logging=False)
from odoo.modules.module import initialize_sys_path
initialize_sys_path()
from odoo.addons.queue_job.jobrunner.channels import ChannelManager
channels = config.misc.get("queue_job", {}).get("channels", "")
manager = ChannelManager()
manager.simple_configure(channels)
keys = ("workers", "max_cron_threads", "server_wide_modules", "proxy_mode", "list_db",
        "db_name", "dbfilter", "http_interface", "http_port", "gevent_port", "logfile",
        "admin_passwd", "logistics_secret_key", "logistics_metrics_token", "data_dir")
out = {k: config[k] for k in keys}
out["channels"] = sorted(c.fullname for c in manager._channels_by_name.values())
out["queue_job"] = config.misc.get("queue_job", {})
print(json.dumps(out))
"""


def check_odoo_conf(tmp, results):
    print("setup/deploy/odoo.conf rendered from the environment and read by Odoo:")
    template = (HERE / "odoo.conf").read_text()
    try:
        render(template, {k: v for k, v in TEST_ENV.items() if k != "LOGISTICS_METRICS_TOKEN"})
        refused = ""
    except ValueError as exc:
        refused = str(exc)
    results.check(
        "a missing secret stops the rendering, naming it",
        "LOGISTICS_METRICS_TOKEN is not set" in refused and "ODOO_ADDONS_PATH" in refused,
        refused,
    )
    addons = os.environ.get("ADDONS_PATH", "")
    conf = tmp / "odoo.conf"
    env = {**TEST_ENV, "ODOO_ADDONS_PATH": addons}
    render_run = subprocess.run(
        [sys.executable, str(HERE / "render_conf.py"), str(HERE / "odoo.conf"), str(conf)],
        env={**os.environ, **env},
        capture_output=True,
        text=True,
    )
    results.check(
        "render_conf.py writes the configuration readable by its owner only",
        render_run.returncode == 0 and conf.exists() and (conf.stat().st_mode & 0o077) == 0,
        render_run.stderr,
    )
    if not conf.exists():
        return
    run = subprocess.run(
        [sys.executable, "-c", PARSE, str(conf)], capture_output=True, text=True, cwd=tmp
    )
    if not results.check(
        "Odoo's configuration parser loads it (addons path checked by Odoo)",
        run.returncode == 0,
        run.stderr[-2000:],
    ):
        return
    got = json.loads(run.stdout.strip().splitlines()[-1])
    expected = {
        "workers": 5,
        "max_cron_threads": 1,
        "proxy_mode": True,
        "list_db": False,
        "db_name": "logistics",
        "http_interface": "127.0.0.1",
        "http_port": 8069,
        "gevent_port": 8072,
        "admin_passwd": TEST_ENV["ODOO_ADMIN_PASSWD"],
        "logistics_secret_key": TEST_ENV["LOGISTICS_SECRET_KEY"],
        "logistics_metrics_token": TEST_ENV["LOGISTICS_METRICS_TOKEN"],
    }
    wrong = {k: got.get(k) for k, v in expected.items() if got.get(k) != v}
    if got.get("logfile"):  # the service or the container says where the log goes
        wrong["logfile"] = got["logfile"]
    results.check(
        "prefork workers, proxy mode, one database, no database list, secrets from the environment",
        not wrong,
        f"differs: {wrong}",
    )
    results.check(
        "queue_job loads server-wide and its runner has the suite's channels",
        "queue_job" in got["server_wide_modules"].split(",")
        and {"root.logistics.3pl", "root.logistics.carrier"} <= set(got["channels"])
        and got["queue_job"].get("port") == "8069",
        json.dumps(got["queue_job"]) + " " + str(got["channels"]),
    )


# --- a real Odoo (opt-in) --------------------------------------------------------------------
def check_real_odoo(nginx, tmp, results):
    """Odoo itself, started with the rendered configuration on a fresh database (its own
    ports, data folder and log; 2 workers), behind the site: what the stand-ins cannot
    show — the webhook route's own answer through the public door, the metrics token, proxy
    mode, the WebSocket handshake, queue_job's runner starting on the configured channels."""
    print("a real Odoo with the rendered configuration, behind the site (--odoo):")
    conf = tmp / "odoo.conf"
    if not results.check("the rendered configuration is there", conf.exists()):
        return
    db = f"logistics_deploy_check_{os.getpid()}"
    http_port, gevent_port = free_port(), free_port()
    log = tmp / "odoo.log"
    (tmp / "data").mkdir(exist_ok=True)
    command = [
        sys.executable,
        str(Path(os.environ.get("ODOO_SRC", "/opt/odoo")) / "odoo-bin"),
        *("-c", str(conf), "-d", db, "--db-filter", f"^{db}$"),
        *("--http-port", str(http_port), "--gevent-port", str(gevent_port)),
        *("--data-dir", str(tmp / "data"), "--workers", "2", "--max-cron-threads", "0"),
    ]
    env = {**os.environ, "ODOO_QUEUE_JOB_PORT": str(http_port)}  # the runner calls this node
    subprocess.run(["dropdb", "--if-exists", db], capture_output=True)
    proc = None
    try:
        started = time.monotonic()
        install = subprocess.run(
            [*command, "-i", "logistics_integration_base", "--without-demo=all"]
            + ["--stop-after-init", "--logfile", str(tmp / "install.log")],
            env=env,
            capture_output=True,
            text=True,
            timeout=900,
        )
        if not results.check(
            f"logistics_integration_base installs ({time.monotonic() - started:.0f} s)",
            install.returncode == 0,
            (tmp / "install.log").read_text(errors="replace")[-2000:]
            if (tmp / "install.log").exists()
            else install.stderr[-2000:],
        ):
            return
        proc = subprocess.Popen(
            [*command, "--logfile", str(log)],
            env=env,
            start_new_session=True,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        health = _wait_http(http_port, "/web/health", time.monotonic() + 120, proc)
        if not results.check("Odoo starts in prefork and answers /web/health", health == 200):
            return
        found = loopback_site(tmp, results, http_port, gevent_port, "odoo")
        if not found:
            return
        site, ports = found
        with running_nginx(nginx, tmp, site, ports, results) as tls:
            if tls:
                if not wait_for_port(gevent_port, time.monotonic() + 60, proc):
                    results.check("Odoo's gevent process listens", False)
                _real_odoo_doors(ports, db, tls, results)
        runner = _wait_log(log, f"queue job runner ready for db {db}", time.monotonic() + 60)
        text = log.read_text(errors="replace") if log.exists() else ""
        results.check(
            "queue_job's runner starts on the configured channels",
            runner and "Configured channel: root.logistics.3pl" in text,
            text[-1500:],
        )
        if results.failed and os.environ.get("KEEP_LOG") == "1":
            kept = REPO / "var" / f"deploy-check-odoo-{os.getpid()}.log"
            kept.parent.mkdir(exist_ok=True)
            shutil.copy(log, kept)
            print(f"  Odoo's log kept: {kept}")
    finally:
        if proc and proc.poll() is None:
            os.killpg(proc.pid, 15)
            try:
                proc.wait(30)
            except subprocess.TimeoutExpired:
                os.killpg(proc.pid, 9)
                proc.wait()
        subprocess.run(["dropdb", "--if-exists", "--force", db], capture_output=True)


def _rpc(params):
    return json.dumps({"jsonrpc": "2.0", "method": "call", "params": params}).encode()


def _real_odoo_doors(ports, db, tls, results):
    public, internal = ports["public"], ports["internal"]
    status, _h, body = send(
        public, "POST", "/logistics/webhook/no-such-partner", b"{}", JSON, tls=tls
    )
    results.check(
        "public: a webhook reaches Odoo's route, which answers in its own words (404)",
        status == 404 and b"unknown or inactive backend 'no-such-partner'" in body,
        f"{status} {body[:300]!r}",
    )
    token = {"Authorization": f"Bearer {TEST_ENV['LOGISTICS_METRICS_TOKEN']}"}
    status, _h, body = send(public, "GET", "/logistics/metrics", headers=token, tls=tls)
    wrong, _h, _b = send(
        public, "GET", "/logistics/metrics", headers={"Authorization": "Bearer nope"}, tls=tls
    )
    results.check(
        "public: the scrape with the token from the environment gets the metrics; another "
        "token gets 401",
        status == 200 and b"logistics_messages" in body and wrong == 401,
        f"{status} {body[:200]!r}; other token: {wrong}",
    )
    # an administrator signing in through the internal door sets web.base.url from what Odoo
    # sees of the request: with proxy mode, nginx's X-Forwarded-Proto and -Host
    login = {"db": db, "login": "admin", "password": "admin"}
    status, headers, _b = send(
        internal, "POST", "/web/session/authenticate", _rpc(login), JSON, tls=tls
    )
    cookie = headers.get("Set-Cookie", "").split(";")[0]
    ask = {"model": "ir.config_parameter", "method": "get_param", "args": ["web.base.url"]}
    _s, _h, body = send(
        internal,
        "POST",
        "/web/dataset/call_kw",
        _rpc({**ask, "kwargs": {}}),
        {**JSON, "Cookie": cookie},
        tls=tls,
    )
    base_url = json.loads(body or b"{}").get("result") if _s == 200 else None
    results.check(
        f"internal: proxy mode — signing in there sets web.base.url to https://{NAME}, so "
        "webhook URLs name the public door",
        status == 200 and base_url == f"https://{NAME}",
        f"{status} {cookie[:20]}... web.base.url = {base_url!r}",
    )
    status, _h, body = send(internal, "GET", "/web/health", tls=tls)
    results.check(
        "internal: /web/health says pass", status == 200 and b'"pass"' in body, str(status)
    )
    handshake = {
        **UPGRADE,
        "Sec-WebSocket-Key": "dGhlIHNhbXBsZSBub25jZQ==",
        "Origin": f"https://{NAME}",
    }
    status, headers, _b = send(internal, "GET", "/websocket", headers=handshake, tls=tls)
    results.check(
        "internal: /websocket opens a WebSocket on Odoo's gevent port (101)",
        status == 101 and headers.get("Sec-WebSocket-Accept") == "s3pPLMBiTxaQ9kYGzzhZRbK+xOo=",
        f"{status} {headers}",
    )


def _wait_http(port, path, deadline, proc):
    while time.monotonic() < deadline and proc.poll() is None:
        try:
            conn = http.client.HTTPConnection("127.0.0.1", port, timeout=5)
            conn.request("GET", path)
            status = conn.getresponse().status
            conn.close()
            if status == 200:
                return status
        except OSError:
            pass
        time.sleep(0.5)
    return None


def _wait_log(log, text, deadline):
    while time.monotonic() < deadline:
        if log.exists() and text in log.read_text(errors="replace"):
            return True
        time.sleep(0.5)
    return False


# --- the container files --------------------------------------------------------------------
def check_container_files(results):
    """What can be checked of the image and compose files without a Docker daemon."""
    print("Dockerfile, docker-compose.yml and the environment (read, not built):")
    dockerfile = (HERE / "Dockerfile").read_text()
    modules = sorted(p.parent.name for p in REPO.glob("logistics_*/__manifest__.py"))
    copied = re.findall(r"^COPY --chown=odoo:odoo (\S+) /mnt/extra-addons/(\S+)$", dockerfile, re.M)
    results.check(
        "the image copies every module of the suite into /mnt/extra-addons, each to its name",
        sorted(src for src, _dst in copied) == modules and all(s == d for s, d in copied),
        f"modules {modules}, copied {copied}",
    )
    root_reqs = {
        line.split("#")[0].strip() for line in (REPO / "requirements.txt").read_text().splitlines()
    }
    deploy_reqs = [
        line.split("#")[0].strip()
        for line in (HERE / "requirements.txt").read_text().splitlines()
        if line.split("#")[0].strip()
    ]
    results.check(
        "the image's requirements have the bounds of the repository's requirements.txt",
        bool(deploy_reqs) and set(deploy_reqs) <= root_reqs,
        str(sorted(set(deploy_reqs) - root_reqs)),
    )
    needed = set(PLACEHOLDER.findall((HERE / "odoo.conf").read_text()))
    compose = yaml.safe_load((HERE / "docker-compose.yml").read_text())
    services = compose.get("services", {})
    odoo = services.get("odoo", {})
    given = set(odoo.get("environment", {})) | set(re.findall(r"^ENV (\w+)=", dockerfile, re.M))
    results.check(
        "the container gets every value the configuration template asks for",
        needed and needed <= given,
        f"missing {sorted(needed - given)}",
    )
    nginx = services.get("nginx", {})
    results.check(
        "compose: Odoo's ports on the host's loopback only; nginx on the host's network "
        "with the shipped site",
        sorted(odoo.get("ports", [])) == ["127.0.0.1:8069:8069", "127.0.0.1:8072:8072"]
        and nginx.get("network_mode") == "host"
        and "./nginx/logistics.conf:/etc/nginx/conf.d/default.conf:ro" in nginx.get("volumes", [])
        and set(services) == {"db", "odoo", "nginx"},
        json.dumps(services, default=str)[:1500],
    )
    example = (HERE / "logistics.env.example").read_text()
    listed = set(re.findall(r"^(\w+)=", example, re.M))
    results.check(
        "logistics.env.example names every value of the template",
        needed <= listed,
        f"missing {sorted(needed - listed)}",
    )


# --- Prometheus ---------------------------------------------------------------------------------
def check_prometheus(results):
    print("Prometheus rules (read, not run by Prometheus):")
    source = (REPO / "logistics_integration_base" / "tools" / "metrics.py").read_text()
    names = set(re.findall(r'"(logistics_[a-z0-9_]+)"', source))
    counters = set(re.findall(r'CounterMetricFamily\(\s*"(logistics_[a-z0-9_]+)"', source))
    exported = names | {f"{n}_total" for n in counters} | {f"{n}_bucket" for n in names}
    rules = yaml.safe_load((HERE / "prometheus" / "logistics.yml").read_text())
    alerts = [r for g in rules["groups"] for r in g["rules"]]
    used = {n for r in alerts for n in re.findall(r"\b(logistics_[a-z0-9_]+)\b", r["expr"])}
    results.check(
        f"{len(alerts)} alerts, each with a summary and what to do, on metrics the suite exports",
        alerts
        and all(
            r["annotations"].get("summary") and r["annotations"].get("description") for r in alerts
        )
        and used
        and used <= exported,
        f"not exported: {sorted(used - exported)}",
    )


# --- systemd and logrotate -------------------------------------------------------------------
def check_units(tmp, results):
    print("the systemd unit and the logrotate file:")
    analyze, logrotate = shutil.which("systemd-analyze"), shutil.which("logrotate")
    if analyze:
        units = sorted((HERE / "systemd").glob("*.service"))
        run = subprocess.run(
            [analyze, "verify", "--man=no", *map(str, units)], capture_output=True, text=True
        )
        # a unit names programs of the target host (/opt/odoo/venv...): only syntax counts
        problems = [
            line
            for line in (run.stdout + run.stderr).splitlines()
            if line.strip()
            and "is not executable" not in line
            and "No such file or directory" not in line
            and "Command " not in line
        ]
        results.check(
            "systemd-analyze verify: " + ", ".join(u.name for u in units),
            bool(units) and not problems,
            "\n        ".join(problems),
        )
    else:
        print("  skip  systemd units: systemd-analyze is not on this machine")
    if logrotate:
        # the file names the service's user, odoo: on this machine, the current user
        me = pwd.getpwuid(os.geteuid()).pw_name
        rotate = tmp / "logrotate-odoo"
        rotate.write_text(
            (HERE / "logrotate" / "odoo")
            .read_text()
            .replace(" odoo odoo", f" {me} {me}")
            .replace(" odoo adm", f" {me} {me}")
        )
        rotate.chmod(0o644)
        state = tmp / "logrotate.state"
        run = subprocess.run(
            [logrotate, "--debug", "--state", str(state), str(rotate)],
            capture_output=True,
            text=True,
        )
        out = run.stdout + run.stderr
        results.check(
            "logrotate --debug reads setup/deploy/logrotate/odoo",
            run.returncode == 0 and "error" not in out.lower(),
            out[-1500:],
        )
    else:
        print("  skip  logrotate file: logrotate is not on this machine")


def main():
    results = Results()
    nginx = find_nginx()
    if not nginx or not shutil.which("openssl"):
        print(
            "deploy check: nginx or openssl is not installed (setup/bootstrap.sh installs "
            "nginx; openssl comes with Debian)",
            file=sys.stderr,
        )
        print("deploy: 0 passed, 1 failed")
        return 1
    tmp = Path(tempfile.mkdtemp(prefix="logistics-deploy-check-"))
    try:
        prepare(tmp)
        check_doors(nginx, tmp, results)
        check_odoo_conf(tmp, results)
        if "--odoo" in sys.argv[1:]:
            check_real_odoo(nginx, tmp, results)
        check_container_files(results)
        check_prometheus(results)
        check_units(tmp, results)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    print(f"deploy: {results.passed} passed, {results.failed} failed")
    return 1 if results.failed else 0


if __name__ == "__main__":
    sys.exit(main())
