"""3PL milestones: a shipment confirmation bills pick & pack per order, line and unit, once
per shipment whether it comes by webhook or again by file; a receipt bills receiving per
line; accessorials reported as ``billing.charge`` wait for approval, once per charge, with
unknown shipments, unknown currencies and missing rules in the exception queue in business
words, replayed once corrected."""

from logistics_simulators.freight_invoices import build_csv
from logistics_simulators.http_server import CuedHTTPServer

from odoo.tests import TransactionCase

from odoo.addons.logistics_3pl_connector.tests.common import ThreePLFixture
from odoo.addons.logistics_integration_base.tests.common import run_jobs
from odoo.addons.logistics_integration_base.transport import sftp

from .common import BillingMixin


class TestThreePLBilling(BillingMixin, ThreePLFixture, TransactionCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.setup_3pl()
        cls.setup_billing()
        cls.rule("Pick & pack per order", "shipped", cls.pick_order, "fixed", 2.0)
        cls.rule("Pick & pack per unit", "shipped", cls.pick_unit, "per_unit", 0.35)
        cls.rule("Pick & pack per line", "shipped", cls.pick_line, "per_line", 0.5)
        cls.rule("Receiving per line", "received", cls.receiving, "per_line", 1.25)
        cls.receiving_pallet = cls.env["product.product"].create(
            {"name": "Receiving per pallet", "default_code": "SRV-RECEIVE-PAL", "type": "service"}
        )
        cls.rule("Receiving per pallet", "received", cls.receiving_pallet, "per_pallet", 6.0)
        cls.chair.logistics_units_per_pallet = 4
        cls.desk.logistics_units_per_pallet = 2
        cls.waiting = cls.rule(
            "Waiting time",
            "accessorial",
            cls.accessorial,
            "reported",
            charge_code="waiting_time",
            backend_id=cls.backend.id,
        )

    def released(self, lines):
        picking = self.make_delivery(lines)
        self.assertEqual(picking.logistics_state, "released")
        return picking

    def ship(self, picking, shipment_ref, lines, event_id=None):
        data = {
            "order_ref": picking.logistics_order_ref or picking.name,
            "shipment_ref": shipment_ref,
            "shipped_at": "2026-11-22T12:00:00Z",
            "tracking_ref": f"1Z{shipment_ref}",
            "carrier": {"code": "UPSN", "service": "GROUND"},
            "lines": [
                {"sku": move.product_id.default_code, "quantity": qty} for move, qty in lines
            ],
        }
        return self.process_inbound("shipment.confirmed", data, event_id=event_id)

    def test_a_shipment_bills_pick_and_pack_once(self):
        picking = self.released([(self.chair, 3), (self.desk, 1)])
        chair, desk = picking.move_ids
        message = self.ship(picking, "SHP-1", [(chair, 3), (desk, 1)])
        self.assertEqual(message.state, "processed", message.error_message)
        per_order, per_unit, per_line = self.events(picking_id=picking.id)
        self.assertEqual((per_order.quantity, per_order.amount), (1.0, 2.0))
        self.assertEqual((per_unit.quantity, per_unit.price_unit), (4.0, 0.35))
        self.assertAlmostEqual(per_unit.amount, 1.4)
        self.assertEqual((per_line.quantity, per_line.amount), (2.0, 1.0))
        shipment = picking.logistics_shipment_ids
        self.assertEqual(per_order.milestone_key, f"shipped:logistics.shipment:{shipment.id}")
        self.assertEqual((per_order.res_model, per_order.res_id), (shipment._name, shipment.id))
        self.assertEqual(per_order.backend_id, self.backend)
        self.assertEqual(per_order.state, "approved")

        # the 3PL confirms the same shipment again (another event id, e.g. its file)
        again = self.ship(picking, "SHP-1", [(chair, 3), (desk, 1)], event_id="file-copy")
        self.assertEqual(again.state, "processed")
        self.assertEqual(len(self.events(picking_id=picking.id)), 3)

    def test_a_partial_shipment_bills_what_shipped_and_the_backorder_its_own(self):
        picking = self.released([(self.chair, 5)])
        [chair] = picking.move_ids
        self.ship(picking, "SHP-A", [(chair, 2)])
        per_unit = self.events(picking_id=picking.id, product_id=self.pick_unit.id)
        self.assertEqual(per_unit.quantity, 2.0)
        backorder = picking.backorder_ids
        self.assertTrue(backorder)
        self.ship(backorder, "SHP-B", [(backorder.move_ids, 3)])
        rest = self.events(picking_id=backorder.id, product_id=self.pick_unit.id)
        self.assertEqual(rest.quantity, 3.0)
        self.assertEqual(len(self.events(product_id=self.pick_order.id)), 2, "two shipments")

    def test_a_3pl_receipt_bills_receiving_per_line(self):
        receipt_type = self.warehouse.in_type_id
        receipt = self.env["stock.picking"].create(
            {
                "picking_type_id": receipt_type.id,
                "partner_id": self.customer.id,
                "location_id": self.env.ref("stock.stock_location_suppliers").id,
                "location_dest_id": receipt_type.default_location_dest_id.id,
                "move_ids": [
                    (
                        0,
                        0,
                        {
                            "name": product.name,
                            "product_id": product.id,
                            "product_uom_qty": qty,
                            "product_uom": product.uom_id.id,
                            "location_id": self.env.ref("stock.stock_location_suppliers").id,
                            "location_dest_id": receipt_type.default_location_dest_id.id,
                        },
                    )
                    for product, qty in ((self.chair, 10), (self.desk, 4))
                ],
            }
        )
        receipt.action_confirm()
        self.run_release_jobs()
        message = self.process_inbound(
            "receipt.confirmed",
            {
                "receipt_ref": receipt.name,
                "lines": [{"sku": "CHAIR-1", "quantity": 10}, {"sku": "DESK-1", "quantity": 4}],
            },
        )
        self.assertEqual(message.state, "processed", message.error_message)
        self.assertEqual(receipt.state, "done")
        receiving, pallets = self.events(picking_id=receipt.id)
        self.assertEqual((receiving.product_id, receiving.quantity), (self.receiving, 2.0))
        self.assertEqual(receiving.amount, 2.5)
        self.assertEqual(receiving.milestone, "received")
        # 10 chairs at 4 a pallet and 4 desks at 2 a pallet: 3 + 2 pallets
        self.assertEqual((pallets.product_id, pallets.quantity), (self.receiving_pallet, 5.0))
        self.assertEqual(pallets.amount, 30.0)

    # accessorials -------------------------------------------------------------------------
    def charge(self, picking, charge_id="WT-1", **data):
        payload = {
            "charge_id": charge_id,
            "code": "waiting_time",
            "shipment_ref": picking.name if picking else "WH/OUT/NOPE",
            "amount": 45.0,
            "currency": "USD",
            "quantity": 1.5,
            "description": "Driver waited 90 minutes at the dock",
        }
        payload.update(data)
        return self.process_inbound("billing.charge", payload)

    def test_an_accessorial_waits_for_approval_once_per_charge(self):
        picking = self.released([(self.chair, 1)])
        message = self.charge(picking)
        self.assertEqual(message.state, "processed", message.error_message)
        [event] = self.events(milestone="accessorial")
        self.assertEqual(
            (event.state, event.amount, event.quantity, event.currency_id.name),
            ("to_approve", 45.0, 1.0, "USD"),
        )
        self.assertEqual(
            event.approval_reason,
            "an accessorial reported by Acme Fulfilment is reviewed before it is billed",
        )
        self.assertEqual(
            event.description, "Accessorial charges: Driver waited 90 minutes at the dock"
        )
        self.assertEqual(event.picking_id, picking)
        self.assertTrue(event.activity_ids)
        self.charge(picking)  # the same charge reported again
        self.assertEqual(len(self.events(milestone="accessorial")), 1)
        event.action_approve()
        self.assertEqual(event.state, "approved")

    def test_unknown_shipment_currency_or_rule_land_in_the_exception_queue(self):
        picking = self.released([(self.chair, 1)])
        unknown = self.charge(None, charge_id="WT-404")
        self.assertEqual(unknown.state, "failed")
        self.assertIn("for shipment WH/OUT/NOPE, which Odoo does not know", unknown.error_message)

        money = self.charge(picking, charge_id="WT-XXX", currency="XXZ")
        self.assertEqual(money.state, "failed")
        self.assertIn("in XXZ, a currency Odoo does not know", money.error_message)

        redelivery = self.charge(picking, charge_id="RD-1", code="redelivery", amount=12.0)
        self.assertEqual(redelivery.state, "failed")
        self.assertIn(
            f"No billing rule bills redelivery charges to {self.customer.name}",
            redelivery.error_message,
        )
        self.rule(
            "Redelivery", "accessorial", self.accessorial, "reported", charge_code="redelivery"
        )
        redelivery._retry("billing user")
        run_jobs(self.env)
        self.assertEqual(redelivery.state, "processed")
        self.assertEqual(self.events(milestone="accessorial").mapped("amount"), [12.0])


class TestThreePLFreightDispute(BillingMixin, ThreePLFixture, TransactionCase):
    """A 3PL's invoice read from a CSV file over SFTP is disputed with the 3PL its order was
    released to (a recording server stands for the 3PL's API), never with the files
    backend."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.partner_http = CuedHTTPServer(default_status=202).start()
        cls.addClassCleanup(cls.partner_http.stop)
        cls.setup_3pl(base_url=cls.partner_http.url("/events"))
        cls.setup_billing()

    def test_a_dispute_of_a_3pl_csv_invoice_reaches_the_3pl(self):
        picking = self.make_delivery([(self.chair, 2)])
        self.assertEqual(picking.logistics_backend_id, self.backend)
        vendor = self.env["res.partner"].create({"name": "Acme Fulfilment Inc."})
        files, partner, _server = self.freight_files(self.backend, vendor, self.pick_order)
        files.freight_partner_backend_id = False  # the order names the 3PL
        invoice_data = {
            "invoice_number": "ACME-9001",
            "invoice_date": "2026-11-30",
            "currency": "USD",
            "total": 9.99,
            "shipments": [
                {
                    "shipment_ref": picking.logistics_order_ref or picking.name,
                    "charges": [{"code": "pick_pack", "amount": 9.99, "description": "order"}],
                }
            ],
        }
        with sftp.SFTPConnection(partner) as conn:
            conn.ensure_dirs()
            conn.put_atomic("invoices_ACME-9001.csv", build_csv([invoice_data]).encode())
        files._sftp_poll()
        run_jobs(self.env)
        invoice = self.env["logistics.freight.invoice"].search([("name", "=", "ACME-9001")])
        self.assertEqual((invoice.state, invoice.line_ids.picking_id), ("to_review", picking))
        self.partner_http.reset()
        (
            self.env["logistics.freight.invoice.dispute"]
            .with_context(default_invoice_ids=invoice.ids)
            .create({"reason": "No contract rate for pick and pack at 9.99"})
            .action_dispute()
        )
        run_jobs(self.env)
        [request] = self.partner_http.requests
        self.assertEqual(request.json()["type"], "freight.dispute")
        self.assertEqual(request.json()["data"]["invoice_number"], "ACME-9001")
        self.assertEqual((invoice.state, invoice.dispute_backend_id), ("disputed", self.backend))
        self.assertFalse(self.messages(files, direction="out"))
