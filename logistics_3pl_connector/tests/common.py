"""Fixtures for 3PL flow tests: a warehouse run by a 3PL backend, stocked products, and a
3PL simulator (real HTTP server on loopback) receiving the releases."""

from logistics_simulators.threepl import ThreePLSimulator

from odoo.addons.logistics_integration_base.tests.common import (
    WEBHOOK_SECRET,
    LogisticsCaseMixin,
    run_jobs,
)


class ThreePLFixture(LogisticsCaseMixin):
    """Mixin for TransactionCase / HttpCase classes. ``webhook_url`` of the simulator points
    to this Odoo's real route (HttpCase) — in TransactionCase tests, build canonical data
    and call the message processing directly instead."""

    simulator_style = "generic"

    @classmethod
    def setup_3pl(cls, webhook_url="http://127.0.0.1:9/unused", **backend_vals):
        cls.sim = ThreePLSimulator(
            webhook_url=webhook_url, webhook_secret=WEBHOOK_SECRET, style=cls.simulator_style
        )
        cls.sim.start()
        cls.addClassCleanup(cls.sim.stop)
        env = cls.env
        cls.warehouse = env["stock.warehouse"].create({"name": "3PL East", "code": "E3PL"})
        vals = {
            "name": "Acme Fulfilment",
            "code": "acme",
            "kind": "3pl",
            "provider": "generic",
            "base_url": cls.sim.url("/events"),
            "release_trigger": "assigned",
            "retry_max_attempts": 3,
        }
        vals.update(backend_vals)
        cls.backend = cls._make_backend(**vals)
        cls.warehouse.logistics_backend_id = cls.backend
        cls.stock_location = cls.warehouse.lot_stock_id
        cls.customer = env["res.partner"].create(
            {
                "name": "Jane Buyer",
                "street": "1 Main St",
                "city": "Springfield",
                "zip": "12345",
                "country_id": env.ref("base.us").id,
                "state_id": env.ref("base.state_us_5").id,
                "email": "jane@example.com",
                "phone": "+1 555 0100",
            }
        )
        Product = env["product.product"]
        cls.chair = Product.create(
            {"name": "Chair", "default_code": "CHAIR-1", "is_storable": True}
        )
        cls.desk = Product.create({"name": "Desk", "default_code": "DESK-1", "is_storable": True})
        cls.serum = Product.create(
            {"name": "Serum", "default_code": "SERUM-1", "is_storable": True, "tracking": "lot"}
        )
        for product, qty in ((cls.chair, 100), (cls.desk, 50)):
            env["stock.quant"]._update_available_quantity(product, cls.stock_location, qty)
        lot = env["stock.lot"].create({"name": "L-100", "product_id": cls.serum.id})
        env["stock.quant"]._update_available_quantity(cls.serum, cls.stock_location, 30, lot_id=lot)

    @classmethod
    def make_delivery(cls, lines, partner=None, confirm=True, warehouse=None):
        """A delivery from the 3PL warehouse. ``lines``: [(product, qty)]."""
        warehouse = warehouse or cls.warehouse
        picking_type = warehouse.out_type_id
        picking = cls.env["stock.picking"].create(
            {
                "picking_type_id": picking_type.id,
                "partner_id": (partner or cls.customer).id,
                "location_id": picking_type.default_location_src_id.id,
                "location_dest_id": cls.env.ref("stock.stock_location_customers").id,
                "origin": "S0001",
                "move_ids": [
                    (
                        0,
                        0,
                        {
                            "name": product.name,
                            "product_id": product.id,
                            "product_uom_qty": qty,
                            "product_uom": product.uom_id.id,
                            "location_id": picking_type.default_location_src_id.id,
                            "location_dest_id": cls.env.ref("stock.stock_location_customers").id,
                        },
                    )
                    for product, qty in lines
                ],
            }
        )
        if confirm:
            picking.action_confirm()
            cls.run_release_jobs()
        return picking

    @classmethod
    def run_release_jobs(cls):
        """Run the queued release jobs (not the send jobs they queue), as the job runner
        would after the confirming transaction committed."""
        return run_jobs(cls.env, model="stock.picking")

    def process_inbound(self, message_type, data, event_id=None):
        """Store an inbound message as the webhook route would and run its job."""
        import json
        import uuid

        msg = self.env["logistics.message"].create(
            {
                "backend_id": self.backend.id,
                "direction": "in",
                "message_type": message_type,
                "idempotency_key": event_id or str(uuid.uuid4()),
                "state": "received",
                "payload": json.dumps(data),
            }
        )
        msg._enqueue()
        run_jobs(self.env)
        return msg
