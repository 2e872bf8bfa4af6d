"""Demo driver: a 3PL partner simulator plus a stream of customer orders.

Started by ``setup/run.sh`` beside Odoo. It runs the 3PL simulator on port 8070 in auto
mode (it acknowledges each order it receives, then ships it, posting signed webhooks to
Odoo), waits for Odoo, then creates and confirms a delivery in the demo 3PL warehouse
every few seconds through XML-RPC. Every fifth order is for a walk-in customer without a
phone, which the 3PL refuses (HTTP 400, ship_to.phone), so an exception shows up in
Logistics › Exceptions within a minute: add a phone to the customer, press 'Release to
3PL' on the delivery and watch it go through.

Beside it, a parcel carrier (EasyPost shape, port 8071) books and tracks every third
delivery of the main warehouse, and tracks to delivered the parcels the 3PL ships with UPS
(Odoo follows them: it registers a tracker, the simulator sends its news by webhook), and
a customs broker (port 8072) clears one export to Toronto: accepted, held once for a
certificate of origin, then released. HMRC's Customs Declaration Service is stood in for
on port 8074 (the demo backend "HMRC CDS": OAuth2, HMRC's headers, declarations validated
against HMRC's published XSDs).

Every tenth order, the billable events (3PL pick & pack, deliveries with proof of delivery)
are invoiced and the invoices posted, which the billing system (a recording server on port
8073) is told about; the 3PL and the carrier send their invoices for what they shipped,
audited by Odoo into vendor bills; the 3PL's first invoice charges one shipment more than
its contract rates (a freight variance to look at).

A second 3PL exchanges X12 files over SFTP (the demo backend "Demo 3PL over SFTP (X12
files)"): the driver runs its SFTP server on port 8075, registers the server's host key on
the backend and drops an 846 inventory advice that counts fewer desks than Odoo has, so
Logistics › Inventory reconciliations has a difference waiting for approval.
"""

import argparse
import logging
import os
import signal
import sys
import threading
import time
import xmlrpc.client

from logistics_simulators.customs_broker import CustomsBrokerSimulator
from logistics_simulators.easypost import EasyPostSimulator
from logistics_simulators.hmrc_cds import HmrcCdsSimulator
from logistics_simulators.http_server import CuedHTTPServer
from logistics_simulators.sftp_server import SFTPTestServer
from logistics_simulators.threepl import ThreePLSimulator
from logistics_simulators.waiting import WaitTimeout, wait_until
from logistics_simulators.webhooks import WebhookPartner

DEMO_SECRET = "whsec_ZGVtby1vbmx5LXdlYmhvb2stc2VjcmV0LWRvLW5vdC11c2U="
DEMO_CARRIER_KEY = "EZTK_demo_only_key"
DEMO_SFTP_PASSWORD = "demo-only-sftp-password"  # the SFTP backend's password (demo data)
DEMO_SFTP_PARTNER_PASSWORD = "demo-only-3pl-sftp-password"
DEMO_CARRIER_HOOK_SECRET = (
    "demo-only-easypost-webhook-secret"  # the demo carrier backend's API key (demo data)
)
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


class CarrierDemo:
    """Deliveries of the main warehouse booked with the demo carrier (rated, booked,
    labelled by Odoo), then tracked to delivered by signed webhooks; one in four meets a
    delivery exception first."""

    def __init__(self, call, ref, carrier, odoo):
        self.call, self.carrier, self.odoo = call, carrier, odoo
        self.method = ref("logistics_carrier_connector.demo_delivery_usps_priority")
        self.product = ref("logistics_carrier_connector.demo_product_kettle")
        warehouse = call(
            "stock.warehouse",
            "search_read",
            [("company_id", "!=", False)],
            ["out_type_id", "lot_stock_id"],
            limit=1,
        )[0]
        self.out_type, self.stock = warehouse["out_type_id"][0], warehouse["lot_stock_id"][0]

    def ship(self, n, customer, exception=False):
        call = self.call
        picking = call(
            "stock.picking",
            "create",
            {
                "picking_type_id": self.out_type,
                "partner_id": customer,
                "carrier_id": self.method,
                "origin": f"DEMO-PARCEL{n:04d}",
                "location_id": self.stock,
                "location_dest_id": call(
                    "stock.picking.type", "read", [self.out_type], ["default_location_dest_id"]
                )[0]["default_location_dest_id"][0],
                "move_ids": [
                    (
                        0,
                        0,
                        {
                            "name": "kettle",
                            "product_id": self.product,
                            "product_uom_qty": 1 + n % 2,
                            "location_id": self.stock,
                        },
                    )
                ],
            },
        )
        try:
            call("stock.picking", "action_confirm", [picking])
            call("stock.picking", "action_assign", [picking])
            moves = call("stock.picking", "read", [picking], ["move_ids"])[0]["move_ids"]
            for move in call("stock.move", "read", moves, ["product_uom_qty"]):
                call("stock.move", "write", [move["id"]], {"quantity": move["product_uom_qty"]})
            # skip_sms: no "send an SMS to the customer?" question on validation
            call("stock.picking", "button_validate", [picking], context={"skip_sms": True})
        except Exception as exc:
            _logger.warning("parcel %s: not booked (%s)", n, exc)
            return
        parcel_ids = call("stock.picking", "read", [picking], ["logistics_parcel_ids"])[0][
            "logistics_parcel_ids"
        ]
        numbers = [
            p["tracking_number"]
            for p in call("logistics.carrier.parcel", "read", parcel_ids, ["tracking_number"])
        ]
        _logger.info(
            "parcel %s: delivery %s booked with the demo carrier, tracking %s", n, picking, numbers
        )
        steps = [("in_transit", "Newark, NJ"), ("out_for_delivery", "Springfield")]
        if exception:
            steps.append(("failure", "Springfield"))
        steps.append(("delivered", "Springfield"))
        threading.Thread(target=self._track, args=(numbers, steps), daemon=True).start()

    def _track(self, numbers, steps):
        for status, city in steps:
            time.sleep(6)
            for number in numbers:
                when = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())
                message = "Delivery attempted: nobody home" if status == "failure" else None
                event = self.carrier.advance(
                    number,
                    status,
                    when,
                    message=message,
                    city=city,
                    signed_by="J. DOE" if status == "delivered" else None,
                )
                answer = self.carrier.send_webhook(event)
                if not isinstance(answer, int):
                    _logger.warning("tracking webhook for %s not delivered: %s", number, answer)


class CustomsDemo:
    """One export to a customer outside the customs territory: its declaration is sent to
    the broker simulator (auto mode), accepted, held once for a certificate of origin,
    then released; the delivery is validated once released."""

    def __init__(self, call, ref):
        self.call, self.ref = call, ref

    def export(self):
        customer = self.ref("logistics_customs.demo_customer_export")
        product = self.ref("logistics_customs.demo_product_espresso")
        order = self.call(
            "sale.order",
            "create",
            {
                "partner_id": customer,
                "warehouse_id": self.ref("stock.warehouse0"),
                "incoterm": self.ref("account.incoterm_DAP"),
                "incoterm_location": "Toronto",
                "order_line": [(0, 0, {"product_id": product, "product_uom_qty": 2})],
            },
        )
        self.call("sale.order", "action_confirm", [order])
        [picking] = self.call("sale.order", "read", [order], ["picking_ids"])[0]["picking_ids"]
        declaration = self.call("stock.picking", "read", [picking], ["logistics_declaration_id"])[
            0
        ]["logistics_declaration_id"]
        if not declaration:
            _logger.info("export %s: no customs declaration (no broker?)", order)
            return
        self.call("logistics.customs.declaration", "action_submit", [declaration[0]])
        _logger.info("export: declaration %s sent to the customs broker", declaration[1])
        self.waiting = (picking, declaration[0])

    waiting = None

    def poll(self):
        """Called between orders: once customs released the export, validate it."""
        if not self.waiting:
            return
        picking, declaration = self.waiting
        [state] = self.call("logistics.customs.declaration", "read", [declaration], ["state"])
        if state["state"] != "released":
            return
        self.waiting = None
        moves = self.call("stock.picking", "read", [picking], ["move_ids"])[0]["move_ids"]
        for move in self.call("stock.move", "read", moves, ["product_uom_qty"]):
            self.call("stock.move", "write", [move["id"]], {"quantity": move["product_uom_qty"]})
        self.call("stock.picking", "button_validate", [picking], context={"skip_sms": True})
        _logger.info("export: released by customs, delivery %s validated", picking)


class InvoicingPartner(WebhookPartner):
    """The carrier's invoicing department: it only sends signed webhooks."""

    label = "carrier invoicing"

    def _dispatch(self, req):
        return 404, {}, b""


class BillingDemo:
    """Invoices the billable events and posts them; sends the partners' invoices for what
    they shipped (the 3PL's pick & pack at its contract rates, the carrier's booked rates)."""

    def __init__(self, call, threepl, carrier_invoicing):
        self.call, self.threepl, self.carrier_invoicing = call, threepl, carrier_invoicing
        self.invoiced_shipments, self.invoiced_parcels = set(), set()
        self.serial = 0
        self.overcharged = False

    def run(self):
        for step in (self.invoice_customers, self.threepl_invoice, self.carrier_invoice):
            try:
                step()
            except (xmlrpc.client.Fault, OSError) as exc:
                text = exc.faultString.splitlines()[-1] if hasattr(exc, "faultString") else exc
                _logger.warning("billing demo (%s): %s", step.__name__, text)

    def invoice_customers(self):
        call = self.call
        billable = call("logistics.billing.event", "search", [("state", "=", "approved")])
        if billable:
            call("logistics.billing.event", "action_invoice", billable)
        drafts = call(
            "account.move",
            "search",
            [("logistics_billing_event_ids", "!=", False), ("state", "=", "draft")],
        )
        if drafts:
            call("account.move", "action_post", drafts)
            _logger.info(
                "billing: %s event(s) invoiced, %s invoice(s) posted", len(billable), len(drafts)
            )

    def _number(self, prefix):
        self.serial += 1
        return f"{prefix}-{time.strftime('%Y%m%d%H%M%S')}-{self.serial}"

    def threepl_invoice(self):
        call = self.call
        shipments = call(
            "logistics.shipment",
            "search_read",
            [("id", "not in", list(self.invoiced_shipments))],
            ["picking_id", "shipment_ref"],
            limit=20,
        )
        if not shipments:
            return
        lines = []
        for n, shipment in enumerate(shipments):
            moves = call(
                "stock.move",
                "search_read",
                [("picking_id", "=", shipment["picking_id"][0]), ("state", "=", "done")],
                ["quantity"],
            )
            units = sum(m["quantity"] for m in moves)
            amount = round(1.5 + 0.3 * units, 2)
            if n == 0 and not self.overcharged:
                # the 3PL's first invoice charges one shipment 2.75 more than its contract
                # rates: the vendor bill is held with a freight variance to look at
                amount, self.overcharged = round(amount + 2.75, 2), True
            lines.append(
                {
                    "shipment_ref": shipment["picking_id"][1],
                    "charges": [
                        {
                            "code": "pick_pack",
                            "amount": amount,
                            "description": f"order + {units:g} units",
                        }
                    ],
                }
            )
        data = {
            "invoice_number": self._number("DEMO3PL"),
            "invoice_date": time.strftime("%Y-%m-%d"),
            "currency": "USD",
            "total": round(sum(c["amount"] for line in lines for c in line["charges"]), 2),
            "shipments": lines,
        }
        self.threepl.post_event("freight.invoice", data)
        self.invoiced_shipments.update(s["id"] for s in shipments)
        _logger.info("3PL invoice %s sent (%s shipments)", data["invoice_number"], len(lines))

    def carrier_invoice(self):
        call = self.call
        parcels = call(
            "logistics.carrier.parcel",
            "search_read",
            [
                ("state", "=", "booked"),
                ("tracking_state", "=", "delivered"),
                ("id", "not in", list(self.invoiced_parcels)),
            ],
            ["picking_id", "tracking_number", "price"],
            limit=20,
        )
        if not parcels:
            return
        data = {
            "invoice_number": self._number("DEMOCARRIER"),
            "invoice_date": time.strftime("%Y-%m-%d"),
            "currency": "USD",
            "total": round(sum(p["price"] for p in parcels), 2),
            "shipments": [
                {
                    "shipment_ref": p["picking_id"][1],
                    "tracking_number": p["tracking_number"],
                    "charges": [
                        {"code": "freight", "amount": p["price"], "description": "USPS Priority"}
                    ],
                }
                for p in parcels
            ],
        }
        self.carrier_invoicing.post_event("freight.invoice", data)
        self.invoiced_parcels.update(p["id"] for p in parcels)
        _logger.info("carrier invoice %s sent (%s parcels)", data["invoice_number"], len(parcels))


class SftpDemo:
    """A 3PL exchanging X12 files over SFTP: its server (the suite's SFTP test server, on a
    fixed port), the backend told the server's host key, and an 846 inventory advice that
    counts fewer desks than Odoo has, polled at once."""

    def __init__(self, call, ref, port):
        self.call, self.ref = call, ref
        self.backend = ref("logistics_3pl_connector.demo_backend_3pl_sftp")
        self.server = SFTPTestServer(
            None,
            users={
                "odoo": {"password": DEMO_SFTP_PASSWORD},
                "threepl": {"password": DEMO_SFTP_PARTNER_PASSWORD},
            },
            port=port,
        ).start()
        for folder in ("in/archive", "in/error", "out"):  # as the 3PL set its server up
            os.makedirs(os.path.join(self.server.root, folder), exist_ok=True)
        self.sim = ThreePLSimulator(
            webhook_url="http://127.0.0.1:9/unused", webhook_secret=DEMO_SECRET
        )
        _logger.info("SFTP server of the demo 3PL listening on port %s", self.server.port)

    def start(self):
        from odoo.addons.logistics_integration_base.transport import sftp

        call = self.call
        call(
            "logistics.backend",
            "write",
            [self.backend],
            {"sftp_host_key": self.server.host_key_line, "sftp_port": self.server.port},
        )
        partner = sftp.SFTPSettings(
            host="127.0.0.1",
            port=self.server.port,
            username="threepl",
            password=DEMO_SFTP_PARTNER_PASSWORD,
            host_key=self.server.host_key_line,
            inbound_dir="in",
            outbound_dir="out",
        )
        warehouse = self.ref("logistics_3pl_connector.demo_warehouse_3pl_sftp")
        codes = {"chair": "DEMO-CHAIR", "desk": "DEMO-DESK", "lamp": "DEMO-LAMP"}
        counted = {}
        for name, sku in codes.items():
            product = self.ref(f"logistics_3pl_connector.demo_product_{name}")
            [row] = call(
                "product.product",
                "read",
                [product],
                ["qty_available"],
                context={"warehouse_id": warehouse},
            )
            counted[sku] = row["qty_available"] - (6 if name == "desk" else 0)
        # a control number of its own at each start: Odoo refuses an interchange twice
        envelope = self.sim.sftp_envelope(number=int(time.time()) % 1_000_000_000)
        drop = self.sim.sftp_drop_846(partner, "DEMOS", counted, envelope=envelope)
        _logger.info("SFTP 3PL: inventory advice %s dropped (6 desks fewer)", drop.name)
        call("logistics.backend", "action_sftp_poll_now", [self.backend])
        # its X12 940 mapping predates order.release v2: it speaks v1, retired on a date
        if not call(
            "logistics.backend.schema.pin", "search_count", [("backend_id", "=", self.backend)]
        ):
            call(
                "logistics.backend.schema.pin",
                "create",
                {"backend_id": self.backend, "message_type": "order.release", "version": 1},
            )
        self.parallel_run()

    def parallel_run(self):
        """The parallel-run 3PL: three deliveries recorded by the suite, not sent; the legacy
        interface's files for them (one quantity planted wrong) read and compared."""
        from logistics_simulators.legacy import LegacyInterface

        from odoo.addons.logistics_integration_base.transport import sftp

        call, ref = self.call, self.ref
        backend = ref("logistics_3pl_connector.demo_backend_3pl_parallel")
        call(
            "logistics.backend",
            "write",
            [backend],
            {"sftp_host_key": self.server.host_key_line, "sftp_port": self.server.port},
        )
        [warehouse] = call(
            "stock.warehouse",
            "read",
            [ref("logistics_3pl_connector.demo_warehouse_3pl_parallel")],
            ["out_type_id", "lot_stock_id", "code"],
        )
        customer = ref("logistics_3pl_connector.demo_customer")
        customers_loc = ref("stock.stock_location_customers")
        products = [
            ref(f"logistics_3pl_connector.demo_product_{n}") for n in ("chair", "desk", "lamp")
        ]
        pickings = []
        for n, items in enumerate(((0, 2), (1, 1), (2, 3)), start=1):
            product, qty = products[items[0]], items[1]
            picking = call(
                "stock.picking",
                "create",
                {
                    "picking_type_id": warehouse["out_type_id"][0],
                    "partner_id": customer,
                    "location_id": warehouse["lot_stock_id"][0],
                    "location_dest_id": customers_loc,
                    "origin": f"LEGACY-SO{n:03d}",
                    "move_ids": [
                        (
                            0,
                            0,
                            {
                                "name": "demo",
                                "product_id": product,
                                "product_uom_qty": qty,
                                "location_id": warehouse["lot_stock_id"][0],
                                "location_dest_id": customers_loc,
                            },
                        )
                    ],
                },
            )
            call("stock.picking", "action_confirm", [picking])
            pickings.append(picking)
        try:
            wait_until(
                lambda: (
                    call(
                        "logistics.message",
                        "search_count",
                        [
                            ("backend_id", "=", backend),
                            ("message_type", "=", "order.release"),
                            ("state", "=", "shadow"),
                        ],
                    )
                    >= len(pickings)
                ),
                timeout=120,
                interval=1.0,
                what="the parallel-run 3PL's releases recorded",
            )
        except WaitTimeout as exc:
            _logger.warning("parallel run: %s", exc)
            return
        [partner] = call(
            "res.partner",
            "read",
            [customer],
            ["name", "street", "city", "zip", "email", "phone", "state_id", "country_id"],
        )
        country = call("res.country", "read", [partner["country_id"][0]], ["code"])[0]["code"]
        state = (
            call("res.country.state", "read", [partner["state_id"][0]], ["code"])[0]["code"]
            if partner["state_id"]
            else None
        )
        orders = []
        for row in call(
            "stock.picking", "read", pickings, ["name", "origin", "scheduled_date", "move_ids"]
        ):
            moves = call("stock.move", "read", row["move_ids"], ["product_id", "product_uom_qty"])
            items = []
            for move in moves:
                [product] = call(
                    "product.product",
                    "read",
                    [move["product_id"][0]],
                    ["default_code", "display_name"],
                )
                items.append(
                    (
                        product["default_code"],
                        product["display_name"],
                        move["product_uom_qty"],
                        "EA",
                    )
                )
            orders.append(
                {
                    "ref": row["name"],
                    "warehouse": warehouse["code"],
                    "origin": row["origin"],
                    "date": row["scheduled_date"][:10],
                    "customer": {
                        "name": partner["name"],
                        "street": partner["street"],
                        "city": partner["city"],
                        "state": state,
                        "zip": partner["zip"],
                        "country": country,
                        "email": partner["email"] or None,
                        "phone": partner["phone"] or None,
                    },
                    "items": items,
                }
            )
        legacy = LegacyInterface(
            sftp.SFTPSettings(
                host="127.0.0.1",
                port=self.server.port,
                username="threepl",
                password=DEMO_SFTP_PARTNER_PASSWORD,
                host_key=self.server.host_key_line,
                outbound_dir="parallel/legacy",
            )
        )
        first = orders[0]
        planted = {first["ref"]: {first["items"][0][0]: first["items"][0][2] + 1}}
        legacy.write_orders(orders, plant=planted)
        call("logistics.backend", "action_legacy_poll_now", [backend])
        _logger.info(
            "parallel run: 3 orders recorded, the legacy's files compared (%s planted one more)",
            first["ref"],
        )

    def stop(self):
        self.server.stop()


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
    parser.add_argument("--customs-port", type=int, default=8072)
    parser.add_argument("--billing-port", type=int, default=8073)
    parser.add_argument("--cds-port", type=int, default=8074)
    parser.add_argument("--sftp-port", type=int, default=8075)
    parser.add_argument(
        "--addons-path",
        help="Odoo's addons path (the SFTP partner writes X12 with the suite's code)",
    )
    args = parser.parse_args()
    logging.basicConfig(level=logging.INFO, format="[demo] %(message)s")
    # setup/run.sh stops the driver with SIGTERM: leave through the finally below, which
    # stops the simulators (the SFTP server removes its temporary folder)
    signal.signal(signal.SIGTERM, lambda *_args: sys.exit(0))
    if args.addons_path:
        import odoo
        from odoo.tools import config

        config.parse_config([f"--addons-path={args.addons_path}"])
        odoo.modules.module.initialize_sys_path()

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
    # parcels the 3PL ships with UPS are followed by the demo carrier backend: the simulator
    # moves each tracker Odoo registers to delivered, one step every 6 s, by signed webhooks
    carrier = EasyPostSimulator(
        api_key=DEMO_CARRIER_KEY,
        port=args.carrier_port,
        webhook_url=f"{args.odoo}/logistics/webhook/demo-carrier",
        webhook_secret=DEMO_CARRIER_HOOK_SECRET,
        step_delay=6.0,
    ).start()
    _logger.info("carrier simulator (EasyPost shape) listening on %s", carrier.url())
    broker = CustomsBrokerSimulator(
        webhook_url=f"{args.odoo}/logistics/webhook/demo-customs",
        secret=DEMO_SECRET,
        port=args.customs_port,
        auto=True,
        accept_delay=3.0,
        release_delay=6.0,
        hold_delay=20.0,
    ).start()
    _logger.info("customs broker simulator listening on %s", broker.url("/declarations"))
    # HMRC's Customs Declaration Service, stood in for (the demo backend "HMRC CDS")
    cds = HmrcCdsSimulator(
        "demo-cds-client",
        "demo-cds-secret",
        port=args.cds_port,
        callback_url=f"{args.odoo}/logistics/webhook/demo-hmrc-cds",
        callback_token="demo-cds-notification-token",
        auto=True,
    ).start()
    _logger.info("HMRC CDS stand-in listening on %s", cds.url("/customs/declarations/"))

    def billing_system(request):
        event = request.json() if request.body else {}
        _logger.info("billing system received %s", event.get("type", request.path))
        return 202, {}, {"status": "accepted"}

    billing = CuedHTTPServer(handler=billing_system, port=args.billing_port).start()
    carrier_invoicing = InvoicingPartner(
        f"{args.odoo}/logistics/webhook/demo-carrier-invoicing",
        DEMO_SECRET,
        api_token=None,
        host="127.0.0.1",
        port=0,
        source="urn:logistics:simulator:carrier-invoicing",
        timeout=10.0,
        hang_seconds=5.0,
        retry_base=1.0,
        max_redeliveries=0,
    ).start()
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
    parcels = CarrierDemo(call, ref, carrier, args.odoo)
    customs = CustomsDemo(call, ref)
    invoicing = BillingDemo(call, sim, carrier_invoicing)
    sftp_partner = SftpDemo(call, ref, args.sftp_port)
    try:
        sftp_partner.start()
    except (xmlrpc.client.Fault, OSError, ImportError) as exc:
        text = exc.faultString.splitlines()[-1] if hasattr(exc, "faultString") else exc
        _logger.warning("SFTP demo: %s", text)
    try:
        customs.export()
    except xmlrpc.client.Fault as fault:
        _logger.warning("customs demo: %s", fault.faultString.splitlines()[-1])
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
            if n % 3 == 0:  # a parcel from the main warehouse, booked with the demo carrier
                parcels.ship(n, customer, exception=n % 12 == 0)
            customs.poll()
            if n % 10 == 0:
                invoicing.run()
            time.sleep(args.every)
    except KeyboardInterrupt:
        pass
    finally:
        sim.stop()
        carrier.stop()
        broker.stop()
        billing.stop()
        carrier_invoicing.stop()
        sftp_partner.stop()


if __name__ == "__main__":
    main()
