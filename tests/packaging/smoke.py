"""Smoke test of the suite installed from its wheels (run by ``wheels.sh``): the Odoo it
starts is the one of a virtualenv holding only Odoo and the wheels (``--odoo-bin``,
``--python``); this script itself runs with the checkout's tooling, as the partner would.

1. Odoo's own command (``odoo -i``) installs every suite module into a new database. The
   configuration names no addons path: Odoo finds its own addons and, through the
   ``odoo.addons`` namespace, the ones the wheels installed. The checkout must not be where
   any suite module is loaded from.
2. An Odoo server (threaded, queue_job's runner in-process) starts on that database.
3. Over XML-RPC, as an administrator would set it up: a 3PL backend pointing at a 3PL
   stand-in on loopback (``logistics_simulators.threepl``), a warehouse it runs, a stocked
   product, a customer; a delivery confirmed -> the release is **sent** and the 3PL holds
   the order.
4. The 3PL posts a signed ``shipment.confirmed`` webhook: it is **accepted** (202) and
   **processed** -> the delivery is done.

Every wait polls a condition with a deadline. Prints one line per check and ends with
``N passed, N failed``.
"""

import argparse
import configparser
import itertools
import os
import signal
import socket
import subprocess
import sys
import tempfile
import time
import xmlrpc.client

import requests
from logistics_simulators.threepl import ThreePLSimulator
from logistics_simulators.waiting import WaitTimeout, wait_until

SECRET = "whsec_MDEyMzQ1Njc4OWFiY2RlZjAxMjM0NTY3ODlhYmNkZWY="
DEADLINE = 120  # seconds for any one condition


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def while_serving(what, condition, server):
    """``condition`` waited for with the suite's ``wait_until`` (deadline, a last look after
    it), failing at once if the Odoo server exits meanwhile."""

    def check():
        if server.poll() is not None:
            raise RuntimeError(f"the Odoo server exited ({server.returncode}) while {what}")
        return condition()

    return wait_until(check, timeout=DEADLINE, interval=0.25, what=what)


class Checks:
    def __init__(self):
        self.passed = self.failed = 0

    def check(self, label, ok, detail=""):
        if ok:
            self.passed += 1
            print(f"PASS {label}", flush=True)
        else:
            self.failed += 1
            print(f"FAIL {label}{': ' + detail if detail else ''}", flush=True)
        return ok


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--odoo-bin", required=True)
    parser.add_argument("--python", required=True, help="the wheels' virtualenv's Python")
    parser.add_argument("--modules", required=True)
    parser.add_argument("--checkout", required=True)
    parser.add_argument("--workdir", required=True)
    args = parser.parse_args()

    db = f"logistics_wheels_{os.getpid()}"
    port, gevent_port = free_port(), free_port()
    conf = os.path.join(args.workdir, f"wheels-{os.getpid()}.conf")
    log = os.path.join(args.workdir, f"wheels-{os.getpid()}-odoo.log")
    # the administrator's data directory, outside the checkout
    data_dir = tempfile.mkdtemp(prefix="logistics-wheels-data-")
    config = configparser.ConfigParser()
    config["options"] = {
        "db_name": db,
        "data_dir": data_dir,
        "http_interface": "127.0.0.1",
        "http_port": str(port),
        "gevent_port": str(gevent_port),
        "workers": "0",
        "max_cron_threads": "0",
        "server_wide_modules": "base,web,queue_job",
        "logistics_secret_key": "wheels-smoke-only-key",
        "without_demo": "all",
        "logfile": log,
    }
    config["queue_job"] = {"channels": "root:2"}
    with open(conf, "w") as fh:
        config.write(fh)

    checks = Checks()
    server = None
    sim = None
    try:
        # 1. install with Odoo's own command, no addons path given
        subprocess.run(["dropdb", "--if-exists", "--force", db], check=False)
        started = time.monotonic()
        install = subprocess.run(
            [args.odoo_bin, "-c", conf, "-d", db, "-i", args.modules, "--stop-after-init"],
            check=False,
        )
        print(f"[smoke] odoo -i took {time.monotonic() - started:.0f} s", flush=True)
        with open(log, errors="replace") as fh:
            text = fh.read()
        paths_line = next((ln for ln in text.splitlines() if "addons paths:" in ln), "")
        checks.check(
            "odoo -i installed the suite's modules from the wheels (exit 0)",
            install.returncode == 0,
            f"exit {install.returncode}; see {log}",
        )
        checks.check(
            "the checkout is on no addons path",
            paths_line and args.checkout not in paths_line,
            paths_line,
        )
        where = subprocess.run(
            [
                args.python,
                "-c",
                "from importlib.util import find_spec as f; "
                "print(f('odoo.addons.logistics_integration_base').origin); "
                "print(f('odoo.addons.queue_job').origin)",
            ],
            capture_output=True,
            text=True,
            check=False,
        ).stdout.split()
        checks.check(
            "the suite and queue_job are loaded from the virtualenv's site-packages",
            len(where) == 2 and all("site-packages" in w and args.checkout not in w for w in where),
            " ".join(where),
        )
        out = subprocess.run(
            [
                "psql",
                "-d",
                db,
                "-tAc",
                "select count(*) from ir_module_module where state = 'installed' "
                "and name = any(string_to_array(%s, ','))" % ("'" + args.modules + "'"),
            ],
            capture_output=True,
            text=True,
            check=False,
        ).stdout.strip()
        wanted = len(args.modules.split(","))
        checks.check(
            f"all {wanted} suite modules are installed", out == str(wanted), f"{out} installed"
        )
        if checks.failed:
            return checks

        # 2. the server
        server = subprocess.Popen(
            [args.odoo_bin, "-c", conf, "-d", db],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            start_new_session=True,
        )
        url = f"http://127.0.0.1:{port}"
        common = xmlrpc.client.ServerProxy(f"{url}/xmlrpc/2/common")

        def login():
            try:
                return common.authenticate(db, "admin", "admin", {})
            except OSError:
                return False

        uid = while_serving("Odoo answers XML-RPC", login, server)
        # JSON-RPC, as Odoo's external API documents it (XML-RPC cannot carry a None result)
        ids = itertools.count(1)

        def call(model, method, *params, **kw):
            body = {
                "jsonrpc": "2.0",
                "method": "call",
                "id": next(ids),
                "params": {
                    "service": "object",
                    "method": "execute_kw",
                    "args": [db, uid, "admin", model, method, list(params), kw],
                },
            }
            answer = requests.post(f"{url}/jsonrpc", json=body, timeout=120).json()
            if "error" in answer:
                raise RuntimeError(f"{model}.{method}: {answer['error']['data']['message']}")
            return answer.get("result")  # a method returning nothing: no "result"

        # 3. a 3PL backend and a delivery released to it
        sim = ThreePLSimulator(
            webhook_url=f"{url}/logistics/webhook/smoke3pl", webhook_secret=SECRET
        ).start()
        backend_id = call(
            "logistics.backend",
            "create",
            {
                "name": "Smoke 3PL",
                "code": "smoke3pl",
                "kind": "3pl",
                "provider": "generic",
                "base_url": sim.url("/events"),
                "release_trigger": "assigned",
                "webhook_secret": SECRET,
            },
        )
        warehouse_id = call("stock.warehouse", "create", {"name": "Smoke 3PL", "code": "SM3"})
        call("stock.warehouse", "write", [warehouse_id], {"logistics_backend_id": backend_id})
        [warehouse] = call(
            "stock.warehouse", "read", [warehouse_id], ["lot_stock_id", "out_type_id"]
        )
        product_id = call(
            "product.product",
            "create",
            {"name": "Smoke mug", "default_code": "SMOKE-MUG", "is_storable": True},
        )
        quant_id = call(
            "stock.quant",
            "create",
            {
                "product_id": product_id,
                "location_id": warehouse["lot_stock_id"][0],
                "inventory_quantity": 10,
            },
        )
        call("stock.quant", "action_apply_inventory", [quant_id])
        customer_id = call(
            "res.partner",
            "create",
            {
                "name": "Smoke Customer",
                "street": "1 Main St",
                "city": "Springfield",
                "zip": "12345",
                "country_id": call("res.country", "search", [("code", "=", "US")])[0],
                "email": "smoke@example.com",
                "phone": "+1 555 0100",
            },
        )
        [picking_type] = call(
            "stock.picking.type",
            "read",
            [warehouse["out_type_id"][0]],
            ["default_location_src_id", "default_location_dest_id"],
        )
        customers = call("stock.location", "search", [("usage", "=", "customer")], limit=1)[0]
        picking_id = call(
            "stock.picking",
            "create",
            {
                "picking_type_id": picking_type["id"],
                "partner_id": customer_id,
                "location_id": picking_type["default_location_src_id"][0],
                "location_dest_id": customers,
                "move_ids": [
                    (
                        0,
                        0,
                        {
                            "name": "Smoke mug",
                            "product_id": product_id,
                            "product_uom_qty": 2,
                            "location_id": picking_type["default_location_src_id"][0],
                            "location_dest_id": customers,
                        },
                    )
                ],
            },
        )
        call("stock.picking", "action_confirm", [picking_id])
        [picking] = call("stock.picking", "read", [picking_id], ["name"])
        name = picking["name"]

        def released():
            sent = call(
                "logistics.message",
                "search_read",
                [
                    ("backend_id", "=", backend_id),
                    ("message_type", "=", "order.release"),
                    ("state", "=", "sent"),
                ],
                ["id"],
            )
            return sent and name in sim.orders

        try:
            while_serving(f"{name} released to the 3PL and sent", released, server)
            checks.check(f"the release of {name} was sent and the 3PL holds the order", True)
        except (RuntimeError, WaitTimeout) as exc:
            checks.check("the release was sent", False, str(exc))
            return checks

        # 4. the 3PL's signed webhook: accepted, stored, processed
        answer = sim.ship(name)
        checks.check(
            "the 3PL's signed shipment.confirmed webhook was accepted (202)",
            answer.status == 202,
            f"{answer.status} {answer.text[:200]}",
        )

        def shipped():
            [row] = call("stock.picking", "read", [picking_id], ["state"])
            inbound = call(
                "logistics.message",
                "search_read",
                [
                    ("backend_id", "=", backend_id),
                    ("direction", "=", "in"),
                    ("message_type", "=", "shipment.confirmed"),
                ],
                ["state"],
            )
            return row["state"] == "done" and [m["state"] for m in inbound] == ["processed"]

        try:
            while_serving(f"the webhook processed and {name} done", shipped, server)
            checks.check(f"the webhook was processed and {name} is done", True)
        except (RuntimeError, WaitTimeout) as exc:
            checks.check("the webhook was processed", False, str(exc))
        return checks
    finally:
        if sim is not None:
            sim.stop()
        if server is not None:
            if server.poll() is None:
                os.killpg(server.pid, signal.SIGTERM)
                try:
                    server.wait(30)
                except subprocess.TimeoutExpired:
                    os.killpg(server.pid, signal.SIGKILL)
        if os.environ.get("KEEP_DB") != "1":
            subprocess.run(["dropdb", "--if-exists", "--force", db], check=False)
            subprocess.run(["rm", "-rf", data_dir], check=False)
            os.remove(conf)
        if checks.failed:
            print(f"[smoke] Odoo's log: {log}", flush=True)
        elif os.path.exists(log) and os.environ.get("KEEP_DB") != "1":
            os.remove(log)


if __name__ == "__main__":
    result = main()
    print(f"{result.passed} passed, {result.failed} failed", flush=True)
    sys.exit(1 if result.failed or not result.passed else 0)
