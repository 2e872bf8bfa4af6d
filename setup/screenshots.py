"""Screenshots of the running demo for the README: the dashboard, an exception's form, a
delivery whose release the 3PL refused, the export's customs declaration, the billing events,
an audited freight invoice, an export's transaction timeline and its page in the customer
portal, the parallel run's comparisons and backend, and a backend's interface versions, taken
in headless Chromium.

    setup/run.sh &                       # the demo, with its live traffic
    .venv/bin/python setup/screenshots.py [--odoo http://localhost:8069] [--out docs]

It logs in as admin, waits until the demo has a refused release, and drives Chromium
through the DevTools protocol (``websocket-client``); PNG files are written to ``--out``.
"""

import argparse
import base64
import json
import os
import shutil
import subprocess
import tempfile
import time
from urllib.parse import urlsplit

import requests
import websocket


class Browser:
    def __init__(self, width=1366, height=900):
        self.profile = tempfile.mkdtemp(prefix="logistics-shots-")
        self.process = subprocess.Popen(
            [
                shutil.which("chromium") or shutil.which("google-chrome"),
                "--headless=new",
                "--no-sandbox",
                "--disable-gpu",
                "--no-first-run",
                "--disable-background-networking",
                "--disable-component-update",
                "--disable-sync",
                "--remote-debugging-port=9333",
                f"--user-data-dir={self.profile}",
                f"--window-size={width},{height}",
                "about:blank",
            ],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        target = self._until(lambda: self._page_target(), "Chromium's debugging port")
        self.ws = websocket.create_connection(target, timeout=30)
        self.seq = 0

    @staticmethod
    def _until(probe, what, timeout=60):
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            try:
                value = probe()
            except (requests.RequestException, OSError):
                value = None
            if value:
                return value
            time.sleep(0.3)
        raise SystemExit(f"timed out waiting for {what}")

    @staticmethod
    def _page_target():
        pages = requests.get("http://127.0.0.1:9333/json", timeout=2).json()
        return next((p["webSocketDebuggerUrl"] for p in pages if p["type"] == "page"), None)

    def send(self, method, **params):
        self.seq += 1
        self.ws.send(json.dumps({"id": self.seq, "method": method, "params": params}))
        while True:
            answer = json.loads(self.ws.recv())
            if answer.get("id") == self.seq:
                if "error" in answer:
                    raise SystemExit(f"{method}: {answer['error']}")
                return answer.get("result", {})

    def evaluate(self, expression):
        result = self.send("Runtime.evaluate", expression=expression, returnByValue=True)
        return result.get("result", {}).get("value")

    def shoot(self, url, ready_selector, path, settle=1.5, click=None, then=None, scroll=False):
        self.send("Page.navigate", url=url)
        self._until(
            lambda: self.evaluate(f"!!document.querySelector({json.dumps(ready_selector)})"),
            ready_selector,
        )
        if click:  # e.g. a notebook's tab
            self._until(
                lambda: self.evaluate(
                    f"(e => e && (e.click(), true))(document.querySelector({json.dumps(click)}))"
                ),
                click,
            )
        if then:  # what the click opens
            self._until(
                lambda: self.evaluate(f"!!document.querySelector({json.dumps(then)})"), then
            )
        if scroll:  # what the shot is about, in the middle of the window
            self.evaluate(
                f"(e => e && e.scrollIntoView({{block: 'center'}}))"
                f"(document.querySelector({json.dumps(then or ready_selector)}))"
            )
        time.sleep(settle)  # let the last fonts and transitions land
        data = self.send("Page.captureScreenshot", format="png")["data"]
        with open(path, "wb") as fh:
            fh.write(base64.b64decode(data))
        print("wrote", path)

    def close(self):
        self.ws.close()
        self.process.terminate()
        self.process.wait(10)
        shutil.rmtree(self.profile, ignore_errors=True)


def rpc(session, base, model, method, *args, **kwargs):
    response = session.post(
        f"{base}/web/dataset/call_kw/{model}/{method}",
        json={
            "jsonrpc": "2.0",
            "method": "call",
            "params": {"model": model, "method": method, "args": list(args), "kwargs": kwargs},
        },
        timeout=30,
    )
    return response.json()["result"]


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--odoo", default="http://localhost:8069")
    parser.add_argument("--db", default="logistics_demo")
    parser.add_argument("--out", default=os.path.join(os.path.dirname(__file__), "..", "docs"))
    args = parser.parse_args()
    os.makedirs(args.out, exist_ok=True)
    session = requests.Session()
    session.post(
        f"{args.odoo}/web/session/authenticate",
        json={"jsonrpc": "2.0", "params": {"db": args.db, "login": "admin", "password": "admin"}},
        timeout=30,
    ).raise_for_status()

    def refused_release():
        ids = rpc(
            session,
            args.odoo,
            "logistics.message",
            "search",
            [("message_type", "=", "order.release"), ("state", "=", "failed")],
            limit=1,
        )
        return ids[0] if ids else None

    def first(model, domain):
        def probe():
            ids = rpc(session, args.odoo, model, "search", domain, limit=1, order="id desc")
            return ids[0] if ids else None

        return probe

    message_id = Browser._until(refused_release, "a refused release in the demo", timeout=180)
    [message] = rpc(session, args.odoo, "logistics.message", "read", [message_id], ["res_id"])
    picking_id = message["res_id"]

    browser = Browser()
    try:
        host = urlsplit(args.odoo).hostname
        browser.send("Network.enable")
        browser.send(
            "Network.setCookie",
            name="session_id",
            value=session.cookies["session_id"],
            domain=host,
            path="/",
        )
        base = f"{args.odoo}/odoo"
        browser.shoot(
            f"{base}/action-logistics_integration_base.action_logistics_dashboard",
            ".o_kanban_record .o_logistics_activity",
            os.path.join(args.out, "dashboard.png"),
        )
        browser.shoot(
            f"{base}/action-logistics_integration_base.action_logistics_exceptions/{message_id}",
            ".o_form_view .alert-danger",
            os.path.join(args.out, "exception-form.png"),
        )
        browser.shoot(
            f"{base}/action-stock.action_picking_tree_all/{picking_id}",
            ".o_form_view .alert-danger",
            os.path.join(args.out, "delivery-release-failed.png"),
        )
        declaration = Browser._until(
            first("logistics.customs.declaration", [("state", "=", "released")]),
            "a released customs declaration",
            timeout=240,
        )
        browser.shoot(
            f"{base}/action-logistics_customs.action_customs_declaration/{declaration}",
            ".o_form_view .o_statusbar_status",
            os.path.join(args.out, "customs-declaration.png"),
        )
        Browser._until(
            first("logistics.billing.event", [("state", "in", ("approved", "invoiced"))]),
            "billing events",
            timeout=240,
        )
        browser.shoot(
            f"{base}/action-logistics_billing_events.action_logistics_billing_event",
            ".o_list_view .o_data_row",
            os.path.join(args.out, "billing-events.png"),
        )
        freight = Browser._until(
            first("logistics.freight.invoice", [("state", "=", "billed")]),
            "an audited freight invoice",
            timeout=300,
        )
        browser.shoot(
            f"{base}/action-logistics_billing_events.action_logistics_freight_invoice/{freight}",
            ".o_form_view .o_statusbar_status",
            os.path.join(args.out, "freight-invoice.png"),
        )
        [declared] = rpc(
            session,
            args.odoo,
            "logistics.customs.declaration",
            "read",
            [declaration],
            ["picking_id"],
        )
        browser.shoot(
            f"{base}/action-stock.action_picking_tree_all/{declared['picking_id'][0]}",
            ".o_form_view button[name=action_logistics_transaction]",
            os.path.join(args.out, "transaction.png"),
            click=".o_form_view button[name=action_logistics_transaction]",
            then=".o_field_widget[name=line_ids] .o_data_row",
        )
        [export] = rpc(
            session, args.odoo, "stock.picking", "read", [declared["picking_id"][0]], ["sale_id"]
        )
        if export["sale_id"]:  # the customer's page of that order, with its customs status
            browser.shoot(
                f"{args.odoo}/my/orders/{export['sale_id'][0]}",
                ".o_logistics_customs_status",
                os.path.join(args.out, "portal-order.png"),
                scroll=True,
            )
        Browser._until(
            first("logistics.parallel.pair", [("result", "=", "different")]),
            "a parallel-run difference",
            timeout=240,
        )
        browser.shoot(
            f"{base}/action-logistics_integration_base.action_logistics_parallel_pair",
            ".o_list_view .o_data_row",
            os.path.join(args.out, "parallel-run.png"),
        )
        parallel = first("logistics.backend", [("code", "=", "demo-3pl-parallel")])()
        browser.shoot(
            f"{base}/action-logistics_integration_base.action_logistics_backend/{parallel}",
            ".o_form_view .ribbon",
            os.path.join(args.out, "parallel-run-backend.png"),
        )
        pinned = first("logistics.backend", [("code", "=", "demo-3pl-sftp")])()
        browser.shoot(
            f"{base}/action-logistics_integration_base.action_logistics_backend/{pinned}",
            ".o_form_view .o_notebook",
            os.path.join(args.out, "interface-versions.png"),
            click="a[name='interface_versions']",
        )
    finally:
        browser.close()


if __name__ == "__main__":
    main()
