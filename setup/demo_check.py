"""Check the demo end to end: start ``setup/run.sh`` on a database and port of its own,
wait (with a deadline) until every feature the demo promises is there, then stop it and drop
the database.

    source setup/env.sh; "$PY" setup/demo_check.py            # database logistics_demo_check

An empty database of that name is created first: the demo must drop it and start clean. It
asserts, through XML-RPC on the running demo: the database was created afresh, the rate-shop
delivery method rating a sale order ("Add shipping"), weights on the demo products, the SFTP
3PL with a file polled from its server, the parallel-run 3PL's orders compared with its legacy
interface's files (one planted difference), an inventory reconciliation with a difference waiting
for approval, and a 3PL freight invoice whose variance holds it for review. Then it starts
the demo again with ``KEEP_DEMO_DB=1`` (no traffic) and checks the database was kept.
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
    subprocess.run(["dropdb", "--if-exists", "--force", args.db], check=False)
    subprocess.run(["createdb", args.db], check=True)  # a leftover the demo must drop
    url = f"http://localhost:{port}"

    def connect():
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

        return uid, call

    proc = start(env)
    try:
        uid, call = connect()

        def count(model, domain):
            return call(model, "search_count", domain)

        created = call("res.users", "read", [uid], ["create_date"])[0]["create_date"]
        stamp = time.strftime("%Y-%m-%d %H:%M:%S", time.gmtime(started - 5))
        assert created >= stamp, f"the database is older than this start ({created})"
        print(f"[check] ok: database created afresh ({created})", flush=True)
        rate_shop(call)
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
            "parallel-run 3PL: its orders recorded, not sent, and compared with the legacy's",
            lambda: (
                call(
                    "logistics.parallel.pair",
                    "read_group",
                    [("backend_id.code", "=", "demo-3pl-parallel")],
                    ["result"],
                    ["result"],
                )
                if count(
                    "logistics.parallel.pair",
                    [("backend_id.code", "=", "demo-3pl-parallel"), ("result", "=", "different")],
                )
                else None
            ),
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
        stop(proc)
        proc = start(dict(env, KEEP_DEMO_DB="1", DEMO_TRAFFIC="0"))
        uid, call = connect()
        kept = call("res.users", "read", [uid], ["create_date"])[0]["create_date"]
        assert kept == created, f"KEEP_DEMO_DB=1 recreated the database ({kept})"
        assert count("logistics.freight.invoice", []), "KEEP_DEMO_DB=1 lost the demo's records"
        print(f"[check] ok: KEEP_DEMO_DB=1 kept the database ({kept})", flush=True)
    finally:
        stop(proc)
        subprocess.run(["dropdb", "--if-exists", "--force", args.db], check=False)


def start(env):
    return subprocess.Popen([os.path.join(HERE, "run.sh")], env=env, start_new_session=True)


def stop(proc):
    if proc.poll() is not None:
        return
    os.killpg(proc.pid, signal.SIGTERM)
    try:
        proc.wait(60)
    except subprocess.TimeoutExpired:
        os.killpg(proc.pid, signal.SIGKILL)
        proc.wait()


def rate_shop(call):
    """ "Add shipping" on a sale order of a kettle with the rate-shop method: priced."""
    [method] = call("delivery.carrier", "search", [("logistics_rate_shop", "=", True)])
    customer = call(
        "ir.model.data", "check_object_reference", "logistics_3pl_connector", "demo_customer"
    )[1]
    kettle = call(
        "ir.model.data",
        "check_object_reference",
        "logistics_carrier_connector",
        "demo_product_kettle",
    )[1]
    order = call(
        "sale.order",
        "create",
        {"partner_id": customer, "order_line": [(0, 0, {"product_id": kettle})]},
    )
    wizard = call("choose.delivery.carrier", "create", {"order_id": order, "carrier_id": method})
    call("choose.delivery.carrier", "update_price", [wizard])
    [rated] = call(
        "choose.delivery.carrier", "read", [wizard], ["delivery_price", "delivery_message"]
    )
    assert rated["delivery_price"] > 0, f"the rate shop did not price the order: {rated}"
    print(f"[check] ok: rate-shop delivery method priced a sale order: {rated}", flush=True)


if __name__ == "__main__":
    sys.exit(main())
