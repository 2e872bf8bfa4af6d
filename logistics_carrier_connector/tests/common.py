"""A carrier backend on the EasyPost-shaped simulator (a real HTTP server on loopback), a
delivery method booking USPS Priority with it, a stocked warehouse and a customer."""

import base64

from logistics_simulators.easypost import SERVICES, EasyPostSimulator, sign, webhook_body

from odoo.addons.logistics_integration_base.tests.common import LogisticsCaseMixin

API_KEY = "EZTK_test_carrier"
OZ_PER_KG = 35.27396195


def expected_price(weights_kg, carrier="USPS", service="Priority"):
    """What the simulator charges for these parcels."""
    base, per_oz, _days = SERVICES[(carrier, service)]
    return round(
        sum(float(f"{base + per_oz * round(w * OZ_PER_KG, 1):.2f}") for w in weights_kg), 2
    )


class CarrierFixture(LogisticsCaseMixin):
    @classmethod
    def setup_carrier(cls, **backend_vals):
        cls.sim = EasyPostSimulator(api_key=API_KEY).start()
        cls.addClassCleanup(cls.sim.stop)
        env = cls.env
        vals = {
            "name": "Parcel Co",
            "code": "parcel-co",
            "kind": "carrier",
            "provider": "easypost",
            "base_url": cls.sim.url("/v2"),
            "api_key": API_KEY,
            "timeout": 3.0,
            "circuit_threshold": 0,
        }
        vals.update(backend_vals)
        cls.backend = cls._make_backend(**vals)
        cls.method = env["delivery.carrier"].create(
            {
                "name": "Parcel Co USPS Priority",
                "delivery_type": "logistics",
                "product_id": env.ref("delivery.product_product_delivery").id,
                "logistics_backend_id": cls.backend.id,
                "logistics_carrier_code": "USPS",
                "logistics_service_code": "Priority",
            }
        )
        us = env.ref("base.us")
        env.company.partner_id.write(
            {"street": "5 Dock Rd", "city": "Newark", "zip": "07105", "country_id": us.id}
        )
        cls.warehouse = env["stock.warehouse"].search(
            [("company_id", "=", env.company.id)], limit=1
        )
        cls.warehouse.out_type_id.print_label = True
        cls.customer = env["res.partner"].create(
            {
                "name": "Ann Receiver",
                "street": "12 Elm St",
                "city": "Springfield",
                "zip": "62701",
                "country_id": us.id,
                "phone": "+1 555 0123",
                "email": "ann@example.com",
            }
        )
        Product = env["product.product"]
        cls.kettle = Product.create(
            {"name": "Kettle", "default_code": "KET-1", "is_storable": True, "weight": 2.0}
        )
        cls.mixer = Product.create(
            {"name": "Mixer", "default_code": "MIX-1", "is_storable": True, "weight": 3.5}
        )
        for product in (cls.kettle, cls.mixer):
            env["stock.quant"]._update_available_quantity(product, cls.warehouse.lot_stock_id, 50)

    def setUp(self):
        super().setUp()
        self.sim.reset()

    def make_delivery(self, lines, carrier=None):
        picking_type = self.warehouse.out_type_id
        picking = self.env["stock.picking"].create(
            {
                "picking_type_id": picking_type.id,
                "partner_id": self.customer.id,
                "carrier_id": (carrier or self.method).id,
                "location_id": picking_type.default_location_src_id.id,
                "location_dest_id": self.env.ref("stock.stock_location_customers").id,
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
                            "location_dest_id": self.env.ref("stock.stock_location_customers").id,
                        },
                    )
                    for product, qty in lines
                ],
            }
        )
        picking.action_confirm()
        picking.action_assign()
        return picking

    def post_easypost(self, body, signature=None, backend=None):
        """``body`` posted to the backend's webhook route (HTTP cases), with EasyPost's
        ``X-Hmac-Signature`` header when a signature is given."""
        headers = {"Content-Type": "application/json"}
        if signature is not None:
            headers["X-Hmac-Signature"] = signature
        return self.url_open(
            f"/logistics/webhook/{(backend or self.backend).code}", data=body, headers=headers
        )

    def post_easypost_event(self, event, secret, backend=None):
        """The simulator's ``event`` posted as EasyPost sends it, signed with ``secret``."""
        body = webhook_body(event)
        return self.post_easypost(body, sign(secret, body), backend)

    def validate(self, picking):
        """Validate the delivery in full, as a user does: done, no wizard."""
        for move in picking.move_ids:
            move.quantity = move.product_uom_qty
        result = picking.button_validate()
        self.assertIs(result, True, result)
        self.assertEqual(picking.state, "done")

    def pack(self, picking, product, weight):
        """Put the product's move lines in a new package of ``weight`` kg."""
        package = self.env["stock.quant.package"].create({"shipping_weight": weight})
        picking.move_line_ids.filtered(
            lambda ml: ml.product_id == product
        ).result_package_id = package
        return package

    def calls(self, record, operation):
        return self.env["logistics.message"].search(
            [
                ("is_call", "=", True),
                ("message_type", "=", operation),
                ("res_model", "=", record._name),
                ("res_id", "=", record.id),
            ]
        )

    @staticmethod
    def label_bytes(parcel):
        return base64.b64decode(parcel.label_attachment_id.datas)
