"""Check the demo end to end: start ``setup/run.sh`` on a database and port of its own,
wait (with a deadline) until every feature the demo promises is there, then stop it and drop
the database.

    source setup/env.sh; "$PY" setup/demo_check.py            # database logistics_demo_check

It asserts, through XML-RPC on the running demo: the database was created afresh (no message
older than this start), the rate-shop delivery method, weights on the demo products, the SFTP
3PL with a file polled from its server, an inventory reconciliation with a difference waiting
for approval, and a 3PL freight invoice whose variance holds it for review.
"""

import argparse
import os
import signal
import socket
import subprocess
import sys
import time
import xmlrpc.client

HERE = os.path.dirname(os.path.abspath(__file__))


def free_port():
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def wait(what, test, deadline):
    while time.time() < deadline:
        try:
            result = test()
        except (OSError, xmlrpc.client.Error):
            result = None
        if result:
            print(f"[check] ok: {what}: {result}", flush=True)
            return result
        time.sleep(3)
    raise SystemExit(f"[check] FAILED: {what} (not there before the deadline)")


def main():
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--db", default="logistics_demo_check")
    parser.add_argument("--timeout", type=int, default=1200, help="seconds for the whole check")
    args = parser.parse_args()
    port = free_port()
    env = dict(os.environ, DEMO_DB=args.db, HTTP_PORT=str(port))
    started = time.time()
    deadline = started + args.timeout
    proc = subprocess.Popen([os.path.join(HERE, "run.sh")], env=env, start_new_session=True)
    url = f"http://localhost:{port}"
    try:
        uid = wait(
            "Odoo answers",
            lambda: xmlrpc.client.ServerProxy(f"{url}/xmlrpc/2/common").authenticate(
                args.db, "admin", "admin", {}
            ),
            deadline,
        )
        models = xmlrpc.client.ServerProxy(f"{url}/xmlrpc/2/object", allow_none=True)

        def call(model, method, *params, **kw):
            return models.execute_kw(args.db, uid, "admin", model, method, list(params), kw)

        def count(model, domain):
            return call(model, "search_count", domain)

        created = call("res.users", "read", [uid], ["create_date"])[0]["create_date"]
        stamp = time.strftime("%Y-%m-%d %H:%M:%S", time.gmtime(started - 5))
        assert created >= stamp, f"the database is older than this start ({created})"
        print(f"[check] ok: database created afresh ({created})", flush=True)
        wait(
            "rate-shop delivery method",
            lambda: count("delivery.carrier", [("logistics_rate_shop", "=", True)]),
            deadline,
        )
        wait(
            "demo products with weights",
            lambda: (
                count(
                    "product.product",
                    [
                        ("default_code", "in", ["DEMO-CHAIR", "DEMO-DESK", "DEMO-LAMP"]),
                        ("weight", ">", 0),
                    ],
                )
                == 3
            ),
            deadline,
        )
        wait(
            "SFTP 3PL with a file polled from its server",
            lambda: count("logistics.sftp.file", [("backend_id.code", "=", "demo-3pl-sftp")]),
            deadline,
        )
        wait(
            "inventory difference waiting for approval",
            lambda: count(
                "logistics.inventory.reconciliation", [("state", "=", "waiting_approval")]
            ),
            deadline,
        )
        wait(
            "freight invoice with a variance to review",
            lambda: call(
                "logistics.freight.invoice",
                "search_read",
                [("variance", "!=", 0)],
                ["name", "variance", "state"],
            ),
            deadline,
        )
        print(f"[check] demo complete in {time.time() - started:.0f} s", flush=True)
    finally:
        os.killpg(proc.pid, signal.SIGTERM)
        try:
            proc.wait(60)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
        subprocess.run(["dropdb", "--if-exists", "--force", args.db], check=False)


if __name__ == "__main__":
    sys.exit(main())
