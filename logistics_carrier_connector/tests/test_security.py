"""What a user cannot do with the carrier connector, read as a list.

Every public method of the module that works as the system (``sudo()``) behind the caller,
and what it checks first:

=================================================  =====================================
``delivery.carrier.rate_shipment`` (Get rate)       any user who may read the order: no
                                                    Logistics rights needed; the backend
                                                    must belong to the order's company
``stock.picking.send_to_shipper``                   write access to the delivery; never a
                                                    second booking of a booked delivery,
                                                    nor two at once (test_concurrent_
                                                    booking); the backend (also a rate
                                                    shop's choice) of the delivery's
                                                    company
``stock.picking.action_logistics_print_labels``     read access to the delivery
``stock.picking.print_return_label``                write access to the delivery
``stock.picking.action_logistics_retry_booking``    write access to the delivery
``logistics.message.action_retry`` (rebuild)        Logistics user, read access
``/logistics/carrier/labels/<id>`` (route)          read access to the delivery
=================================================  =====================================

Each is attacked below as another user, another company, over the RPC path
(``with_user``), twice.
"""

import json

from odoo.exceptions import AccessError, UserError
from odoo.tests import new_test_user, tagged

from odoo.addons.logistics_integration_base.tests.common import LogisticsHttpCase, run_jobs

from .common import API_KEY, CarrierFixture


@tagged("post_install", "-at_install")
class TestCarrierSecurity(CarrierFixture, LogisticsHttpCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.setup_carrier()
        env = cls.env
        cls.company_a = env.company
        cls.company_b = env["res.company"].create({"name": "Company B"})
        cls.backend_b = cls._make_backend(
            name="Parcel Co (company B)",
            code="parcel-co-b",
            kind="carrier",
            provider="easypost",
            base_url=cls.sim.url("/v2"),
            api_key=API_KEY,
            timeout=3.0,
            circuit_threshold=0,
            company_id=cls.company_b.id,
        )
        cls.backend.company_id = cls.company_a
        common = {"company_id": cls.company_a.id, "company_ids": [cls.company_a.id]}
        cls.salesman = new_test_user(
            env, login="carrier_salesman", groups="sales_team.group_sale_salesman", **common
        )
        cls.stock_a = new_test_user(
            env, login="carrier_stock_a", groups="stock.group_stock_user", **common
        )
        cls.stock_b = new_test_user(
            env,
            login="carrier_stock_b",
            groups="stock.group_stock_user",
            company_id=cls.company_b.id,
            company_ids=[cls.company_b.id],
        )
        cls.shop = env["delivery.carrier"].create(
            {
                "name": "Best carrier",
                "delivery_type": "logistics",
                "product_id": env.ref("delivery.product_product_delivery").id,
                "logistics_rate_shop": True,
            }
        )

    def make_order(self, user=None):
        """An order of company A, whose salesperson is the salesman (his own document)."""
        order = self.env["sale.order"].create(
            {
                "partner_id": self.customer.id,
                "warehouse_id": self.warehouse.id,
                "user_id": self.salesman.id,
                "order_line": [(0, 0, {"product_id": self.kettle.id, "product_uom_qty": 1})],
            }
        )
        return order.with_user(user) if user else order

    def purchases(self):
        return list(self.sim.purchases)

    def test_a_salesman_without_logistics_rights_gets_a_rate(self):
        order = self.make_order(self.salesman)
        result = self.method.with_user(self.salesman).rate_shipment(order)
        self.assertTrue(result["success"], result)
        self.assertFalse(self.salesman.has_group("logistics_integration_base.group_logistics_user"))

    def test_another_companys_delivery_is_neither_booked_printed_nor_retried(self):
        picking = self.make_delivery([(self.kettle, 1)])
        self.validate(picking)
        before = len(self.sim.requests)
        as_b = picking.with_user(self.stock_b)
        for action in (
            as_b.send_to_shipper,
            as_b.action_logistics_print_labels,
            as_b.print_return_label,
            as_b.action_logistics_retry_booking,
            as_b.cancel_shipment,
        ):
            with self.subTest(action=action.__name__), self.assertRaises(AccessError):
                action()
        self.assertEqual(len(self.sim.requests), before, "the carrier was never asked")
        self.assertEqual(picking.logistics_parcel_ids.state, "booked")
        self.authenticate("carrier_stock_b", "carrier_stock_b")
        answer = self.url_open(f"/logistics/carrier/labels/{picking.id}", allow_redirects=False)
        self.assertEqual(answer.status_code, 403, "company B's user gets no label of company A")
        self.authenticate("carrier_stock_a", "carrier_stock_a")
        answer = self.url_open(f"/logistics/carrier/labels/{picking.id}", allow_redirects=False)
        self.assertEqual(answer.status_code, 200)
        self.assertTrue(answer.content.startswith(b"%PDF"))

    def test_a_booked_delivery_is_not_booked_again_over_rpc(self):
        picking = self.make_delivery([(self.kettle, 1)])
        self.validate(picking)
        bought = self.purchases()
        with self.assertRaisesRegex(UserError, "is booked with the carrier already"):
            picking.with_user(self.stock_a).send_to_shipper()
        with self.assertRaisesRegex(UserError, "is booked with the carrier already"):
            picking.with_user(self.salesman).send_to_shipper()
        self.assertEqual(self.purchases(), bought)

    def test_a_rate_shop_choice_cannot_point_at_another_companys_backend(self):
        order = self.make_order()
        order.set_delivery_line(self.shop, 10.0)
        # the stored choice is readonly on screen, not over RPC: a salesman rewrites it
        order.with_user(self.salesman).write(
            {
                "logistics_carrier_choice": json.dumps(
                    {
                        "backend_id": self.backend_b.id,
                        "carrier": "USPS",
                        "service": "Priority",
                        "price": 0.01,
                    }
                )
            }
        )
        order.action_confirm()
        picking = order.picking_ids
        for move in picking.move_ids:
            move.quantity = move.product_uom_qty
        with self.assertRaisesRegex(UserError, "belongs to Company B"):
            picking.button_validate()
        self.assertEqual(self.purchases(), [], "nothing booked on company B's account")

    def test_a_delivery_method_on_another_companys_backend_neither_rates_nor_books(self):
        method = self.method.copy({"logistics_backend_id": self.backend_b.id})
        method.name = "Borrowed"
        result = method.rate_shipment(self.make_order())
        self.assertFalse(result["success"])
        self.assertIn(
            "Carrier backend Parcel Co (company B) belongs to Company B: Borrowed cannot use it "
            "for",
            result["error_message"],
        )
        picking = self.make_delivery([(self.kettle, 1)], carrier=method)
        for move in picking.move_ids:
            move.quantity = move.product_uom_qty
        with self.assertRaisesRegex(UserError, "belongs to Company B"):
            picking.button_validate()
        self.assertFalse(self.sim.requests)

    def test_rebuilding_a_queued_booking_needs_logistics_rights(self):
        self.backend.carrier_booking_mode = "queued"
        self.customer.zip = "6270"
        picking = self.make_delivery([(self.kettle, 1)])
        self.validate(picking)
        run_jobs(self.env)
        booking = picking.logistics_booking_message_id
        self.assertEqual(booking.state, "failed")
        self.customer.zip = "62701"
        with self.assertRaises(AccessError):
            booking.with_user(self.stock_a).action_retry()
        with self.assertRaises(AccessError):
            picking.with_user(self.stock_a).action_logistics_retry_booking()
        self.assertEqual(booking._get_payload()["ship_to"]["zip"], "6270", "not rebuilt")
        self.assertEqual(booking.state, "failed")
