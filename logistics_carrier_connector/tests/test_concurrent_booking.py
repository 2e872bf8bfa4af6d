"""The same delivery booked by two requests at the same moment (two users pressing *Send to
shipper*, two RPC calls): the first holds the delivery while the carrier books, the second
is told so at once and never reaches the carrier; one purchase in all.

Two real transactions must see the delivery: the fixture is committed, and removed
afterwards."""

import threading
import uuid

from logistics_simulators.easypost import EasyPostSimulator
from logistics_simulators.waiting import DEADLINE, wait_until

from odoo import SUPERUSER_ID, api
from odoo.modules.registry import Registry
from odoo.tests import TransactionCase, tagged
from odoo.tests.common import get_db_name

from .common import API_KEY

ADDRESS = ("street", "city", "zip", "country_id")


@tagged("post_install", "-at_install")
class TestConcurrentBooking(TransactionCase):
    @classmethod
    def setUpClass(cls):
        cls.sim = EasyPostSimulator(api_key=API_KEY).start()
        cls.addClassCleanup(cls.sim.stop)
        cls.db_registry = Registry(get_db_name())
        cls.ids = {}
        cls.addClassCleanup(cls._drop_committed)
        with cls.db_registry.cursor() as cr:
            env = api.Environment(cr, SUPERUSER_ID, {})
            us = env.ref("base.us")
            company_partner = env.company.partner_id
            cls.ids["company_address"] = {f: company_partner[f] for f in ADDRESS}
            company_partner.write(
                {"street": "5 Dock Rd", "city": "Newark", "zip": "07105", "country_id": us.id}
            )
            backend = env["logistics.backend"].create(
                {
                    "name": "Racing parcels",
                    "code": f"racing-parcels-{uuid.uuid4().hex[:6]}",
                    "kind": "carrier",
                    "provider": "easypost",
                    "base_url": cls.sim.url("/v2"),
                    "api_key": API_KEY,
                    "timeout": 10.0,
                    "circuit_threshold": 0,
                }
            )
            method = env["delivery.carrier"].create(
                {
                    "name": "Racing parcels USPS Priority",
                    "delivery_type": "logistics",
                    "product_id": env.ref("delivery.product_product_delivery").id,
                    "logistics_backend_id": backend.id,
                    "logistics_carrier_code": "USPS",
                    "logistics_service_code": "Priority",
                }
            )
            customer = env["res.partner"].create(
                {
                    "name": "Racing Receiver",
                    "street": "12 Elm St",
                    "city": "Springfield",
                    "zip": "62701",
                    "country_id": us.id,
                }
            )
            product = env["product.product"].create(
                {"name": "Racing kettle", "is_storable": True, "weight": 2.0}
            )
            warehouse = env["stock.warehouse"].search(
                [("company_id", "=", env.company.id)], limit=1
            )
            env["stock.quant"]._update_available_quantity(product, warehouse.lot_stock_id, 1)
            picking_type = warehouse.out_type_id
            picking = env["stock.picking"].create(
                {
                    "picking_type_id": picking_type.id,
                    "partner_id": customer.id,
                    "carrier_id": method.id,
                    "location_id": picking_type.default_location_src_id.id,
                    "location_dest_id": env.ref("stock.stock_location_customers").id,
                    "move_ids": [
                        (
                            0,
                            0,
                            {
                                "name": product.name,
                                "product_id": product.id,
                                "product_uom_qty": 1,
                                "product_uom": product.uom_id.id,
                                "location_id": picking_type.default_location_src_id.id,
                                "location_dest_id": env.ref("stock.stock_location_customers").id,
                            },
                        )
                    ],
                }
            )
            picking.action_confirm()
            picking.action_assign()
            picking.move_ids.quantity = 1
            cls.ids.update(
                backend=backend.id,
                method=method.id,
                customer=customer.id,
                product=product.id,
                picking=picking.id,
            )
        super().setUpClass()

    @classmethod
    def _drop_committed(cls):
        ids = cls.ids
        if "picking" not in ids:
            return
        with cls.db_registry.cursor() as cr:
            env = api.Environment(cr, SUPERUSER_ID, {})
            picking = env["stock.picking"].browse(ids["picking"])
            env["ir.attachment"].search(
                [("res_model", "=", "stock.picking"), ("res_id", "=", picking.id)]
            ).unlink()
            cr.execute("DELETE FROM logistics_carrier_parcel WHERE picking_id = %s", [picking.id])
            picking.action_cancel()
            picking.unlink()
            cr.execute("DELETE FROM stock_quant WHERE product_id = %s", [ids["product"]])
            env["product.product"].browse(ids["product"]).product_tmpl_id.unlink()
            env["delivery.carrier"].browse(ids["method"]).unlink()
            env["res.partner"].browse(ids["customer"]).unlink()
            backend_id = ids["backend"]
            cr.execute(
                "DELETE FROM queue_job WHERE id IN "
                "(SELECT job_id FROM logistics_message WHERE backend_id = %s)",
                [backend_id],
            )
            cr.execute(
                "DELETE FROM mail_message WHERE model = 'logistics.message' AND res_id IN "
                "(SELECT id FROM logistics_message WHERE backend_id = %s)",
                [backend_id],
            )
            cr.execute("DELETE FROM logistics_message WHERE backend_id = %s", [backend_id])
            cr.execute("DELETE FROM logistics_metric_counter WHERE backend_id = %s", [backend_id])
            cr.execute("DELETE FROM logistics_backend_rate WHERE backend_id = %s", [backend_id])
            env["logistics.backend"].browse(backend_id).unlink()
            env.company.partner_id.write(ids["company_address"])

    def send_to_shipper(self, outcome, name):
        try:
            with self.db_registry.cursor() as cr:
                # the registry is loaded: a request's thread gets it without waiting for
                # the lock the test runner holds
                cr.transaction = api.Transaction(self.db_registry)
                env = api.Environment(cr, SUPERUSER_ID, {})
                env["stock.picking"].browse(self.ids["picking"]).send_to_shipper()
            outcome[name] = "booked"
        except Exception as exc:  # what the request would answer
            outcome[name] = exc

    def test_two_requests_booking_one_delivery_buy_once(self):
        outcome = {}
        self.sim.delay_next_buy(2)  # the first request holds the delivery meanwhile
        first = threading.Thread(target=self.send_to_shipper, args=(outcome, "first"))
        first.start()
        wait_until(
            lambda: any(r.path.endswith("/buy") for r in self.sim.requests) or outcome,
            what="the first request buying",
        )
        self.assertFalse(outcome, "the first request is still booking")
        second = threading.Thread(target=self.send_to_shipper, args=(outcome, "second"))
        second.start()
        second.join(DEADLINE)
        first.join(DEADLINE)
        self.assertEqual(outcome["first"], "booked", outcome)
        self.assertIn(
            "is being booked with the carrier by another request at this very moment",
            str(outcome["second"]),
        )
        self.assertEqual(len(self.sim.purchases), 1, "one purchase in all")
        with self.db_registry.cursor() as cr:
            cr.execute(
                "SELECT shipment_ref FROM logistics_carrier_parcel WHERE picking_id = %s",
                [self.ids["picking"]],
            )
            self.assertEqual(cr.fetchall(), [(self.sim.purchases[0],)])
        # asked again once the first one committed: booked already, nothing bought
        self.send_to_shipper(outcome, "third")
        self.assertIn("is booked with the carrier already", str(outcome["third"]))
        self.assertEqual(len(self.sim.purchases), 1)
