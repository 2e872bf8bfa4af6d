"""Demo driver: a 3PL partner simulator plus a stream of customer orders.

Started by ``setup/run.sh`` beside Odoo. It runs the 3PL simulator on port 8070 in auto
mode (it acknowledges each order it receives, then ships it, posting signed webhooks to
Odoo), waits for Odoo, then creates and confirms a delivery in the demo 3PL warehouse
every few seconds through XML-RPC. Every fifth order is for a walk-in customer without a
phone, which the 3PL refuses (HTTP 400, ship_to.phone), so an exception shows up in
Logistics › Exceptions within a minute: add a phone to the customer, press 'Release to
3PL' on the delivery and watch it go through.
"""

import argparse
import logging
import time
import xmlrpc.client

from logistics_simulators.easypost import EasyPostSimulator
from logistics_simulators.threepl import ThreePLSimulator

DEMO_SECRET = "whsec_ZGVtby1vbmx5LXdlYmhvb2stc2VjcmV0LWRvLW5vdC11c2U="
DEMO_CARRIER_KEY = "EZTK_demo_only_key"  # the demo carrier backend's API key (demo data)
_logger = logging.getLogger("demo")


def wait_for_odoo(url, db, login, password, timeout=300):
    deadline = time.time() + timeout
    while time.time() < deadline:
        try:
            uid = xmlrpc.client.ServerProxy(f"{url}/xmlrpc/2/common").authenticate(
                db, login, password, {}
            )
            if uid:
                return uid
        except (OSError, xmlrpc.client.Error):
            pass
        time.sleep(2)
    raise SystemExit(f"Odoo did not answer at {url} within {timeout} s")


def main():
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--odoo", default="http://localhost:8069")
    parser.add_argument("--db", default="logistics_demo")
    parser.add_argument("--login", default="admin")
    parser.add_argument("--password", default="admin")
    parser.add_argument("--every", type=float, default=8.0, help="seconds between orders")
    parser.add_argument("--orders", type=int, default=0, help="stop after N orders (0: never)")
    parser.add_argument("--sim-port", type=int, default=8070)
    parser.add_argument("--carrier-port", type=int, default=8071)
    args = parser.parse_args()
    logging.basicConfig(level=logging.INFO, format="[demo] %(message)s")

    sim = ThreePLSimulator(
        webhook_url=f"{args.odoo}/logistics/webhook/demo-3pl",
        webhook_secret=DEMO_SECRET,
        style="generic",
        port=args.sim_port,
        auto=True,
        require_phone=True,
        ack_delay=3.0,
        ship_delay=8.0,
    ).start()
    _logger.info("3PL simulator listening on %s", sim.url("/events"))
    carrier = EasyPostSimulator(api_key=DEMO_CARRIER_KEY, port=args.carrier_port).start()
    _logger.info("carrier simulator (EasyPost shape) listening on %s", carrier.url())
    uid = wait_for_odoo(args.odoo, args.db, args.login, args.password)
    models = xmlrpc.client.ServerProxy(f"{args.odoo}/xmlrpc/2/object", allow_none=True)

    def call(model, method, *params, **kw):
        return models.execute_kw(args.db, uid, args.password, model, method, list(params), kw)

    def ref(xmlid):
        module, name = xmlid.split(".")
        return call("ir.model.data", "check_object_reference", module, name)[1]

    warehouse = call(
        "stock.warehouse",
        "read",
        [ref("logistics_3pl_connector.demo_warehouse_3pl")],
        ["out_type_id", "lot_stock_id"],
    )[0]
    customers_loc = ref("stock.stock_location_customers")
    products = [ref(f"logistics_3pl_connector.demo_product_{n}") for n in ("chair", "desk", "lamp")]
    customer = ref("logistics_3pl_connector.demo_customer")
    walk_in = ref("logistics_3pl_connector.demo_customer_no_phone")
    n = 0
    try:
        while not args.orders or n < args.orders:
            n += 1
            lines = [
                (
                    0,
                    0,
                    {
                        "name": "demo",
                        "product_id": products[(n + i) % 3],
                        "product_uom_qty": 1 + (n + i) % 4,
                        "location_id": warehouse["lot_stock_id"][0],
                        "location_dest_id": customers_loc,
                    },
                )
                for i in range(1 + n % 2)
            ]
            picking_id = call(
                "stock.picking",
                "create",
                {
                    "picking_type_id": warehouse["out_type_id"][0],
                    # one order in five is for a customer without a phone: the 3PL
                    # refuses it until someone adds one and releases the delivery again
                    "partner_id": walk_in if n % 5 == 2 else customer,
                    "location_id": warehouse["lot_stock_id"][0],
                    "location_dest_id": customers_loc,
                    "origin": f"DEMO-SO{n:04d}",
                    "move_ids": lines,
                },
            )
            call("stock.picking", "action_confirm", [picking_id])
            _logger.info(
                "order %s: delivery %s confirmed (its release to the 3PL queued)", n, picking_id
            )
            time.sleep(args.every)
    except KeyboardInterrupt:
        pass
    finally:
        sim.stop()


if __name__ == "__main__":
    main()
