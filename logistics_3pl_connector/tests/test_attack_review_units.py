"""Attacks on the units a 3PL counts in (X12 945/846 units, packagings, product mappings):
another company's packaging, a packaging of another product, a unit of another category,
a product mapping moved to another company's backend. Never a silently wrong quantity."""

from logistics_simulators import x12_partner

from odoo.exceptions import AccessError, ValidationError
from odoo.tests import TransactionCase, new_test_user

from .common import ThreePLFixture, run_jobs
from .test_sftp_exchange import SftpExchangeCase


class TestAttackUnits(SftpExchangeCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.other_company = cls.env["res.company"].create({"name": "Nordwerk Austria GmbH"})

    def ship_945(self, picking, lines):
        shipment = {
            "order_ref": picking.name,
            "shipment_ref": "SHP-ATTACK-1",
            "shipped_at": "2026-11-22T12:00:00Z",
            "carrier": {"code": "UPSN", "service": "GROUND"},
            "lines": lines,
        }
        content = x12_partner.build_945(shipment, self.sim.sftp_envelope())
        self.sim.sftp_drop_file(self.partner, "945_attack.x12", content)
        [record] = self.poll()
        run_jobs(self.env)
        [msg] = record.message_ids
        return msg

    def test_945_ignores_another_company_s_packaging(self):
        """The chair is shared between the companies; the other company packs it by 6 in
        a packaging also named Case. A 945 of our 3PL in CA counts our cases of 12; with
        only theirs, it is refused, not read by 6."""
        theirs = self.env["product.packaging"].create(
            {
                "name": "Case",
                "product_id": self.chair.id,
                "qty": 6,
                "sequence": 0,
                "company_id": self.other_company.id,
            }
        )
        picking = self.make_delivery([(self.chair, 24)])
        run_jobs(self.env)
        lines = [{"line_ref": None, "sku": "CHAIR-1", "quantity": 2, "uom": "CA"}]
        msg = self.ship_945(picking, lines)
        self.assertEqual((msg.state, msg.error_category), ("failed", "business"))
        self.assertIn("nor one of its packagings (none)", msg.error_message)
        self.assertNotIn("Nordwerk", msg.error_message)
        self.assertNotEqual(picking.state, "done", "nothing booked in their cases")

        ours = self.env["product.packaging"].create(
            {"name": "Case", "product_id": self.chair.id, "qty": 12, "sequence": 5}
        )
        self.assertEqual(
            self.env["product.packaging"].search([("product_id", "=", self.chair.id)])[:1],
            theirs,
            "theirs comes first",
        )
        self.assertTrue(ours)
        msg.action_retry()
        run_jobs(self.env)
        self.assertEqual(msg.state, "processed", msg.error_message)
        self.assertEqual(picking.move_ids.quantity, 24)

    def test_mapping_packaging_of_another_product_is_refused(self):
        desk_box = self.env["product.packaging"].create(
            {"name": "Case", "product_id": self.desk.id, "qty": 12}
        )
        with self.assertRaises(ValidationError) as caught:
            self.env["logistics.product.mapping"].create(
                {
                    "backend_id": self.backend.id,
                    "product_id": self.chair.id,
                    "partner_sku": "CHAIR-1",
                    "partner_packaging_id": desk_box.id,
                }
            )
        self.assertIn("[CHAIR-1] Chair", str(caught.exception))
        self.assertIn("[DESK-1] Desk", str(caught.exception))

    def test_mapping_packaging_of_another_company_is_refused(self):
        theirs = self.env["product.packaging"].create(
            {
                "name": "Case",
                "product_id": self.chair.id,
                "qty": 6,
                "company_id": self.other_company.id,
            }
        )
        with self.assertRaises(ValidationError):
            self.env["logistics.product.mapping"].create(
                {
                    "backend_id": self.backend.id,
                    "product_id": self.chair.id,
                    "partner_sku": "CHAIR-1",
                    "partner_packaging_id": theirs.id,
                }
            )

    def test_mapping_unit_of_another_category_is_refused(self):
        with self.assertRaises(ValidationError) as caught:
            self.env["logistics.product.mapping"].create(
                {
                    "backend_id": self.backend.id,
                    "product_id": self.chair.id,
                    "partner_sku": "CHAIR-1",
                    "partner_uom_id": self.env.ref("uom.product_uom_kgm").id,
                }
            )
        self.assertIn("kg", str(caught.exception))

    def test_mapping_cannot_be_moved_to_another_company_s_backend(self):
        theirs = self._make_backend(name="Vienna 3PL", company_id=self.other_company.id)
        manager = new_test_user(
            self.env,
            login="attack-3pl-manager",
            groups="stock.group_stock_user,logistics_integration_base.group_logistics_manager",
        )
        mapping = (
            self.env["logistics.product.mapping"]
            .with_user(manager)
            .create(
                {"backend_id": self.backend.id, "product_id": self.chair.id, "partner_sku": "X"}
            )
        )
        with self.assertRaises(AccessError):
            mapping.write({"backend_id": theirs.id})
        self.assertEqual(mapping.sudo().backend_id, self.backend)


class TestAttackLots(ThreePLFixture, TransactionCase):
    """Lots and serial numbers as a 3PL reports them: what they count must be what the
    line ships, and a serial number is one unit."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.setup_3pl()
        cls.scanner = cls.env["product.product"].create(
            {
                "name": "Scanner",
                "default_code": "SCAN-1",
                "is_storable": True,
                "tracking": "serial",
            }
        )
        for name in ("SN-1", "SN-2"):
            serial = cls.env["stock.lot"].create({"name": name, "product_id": cls.scanner.id})
            cls.env["stock.quant"]._update_available_quantity(
                cls.scanner, cls.stock_location, 1, lot_id=serial
            )

    def released(self, lines):
        picking = self.make_delivery(lines)
        run_jobs(self.env)
        self.assertEqual(picking.logistics_release_message_id.state, "sent")
        return picking

    def shipped(self, picking, lines):
        return self.process_inbound(
            "shipment.confirmed",
            {
                "order_ref": picking.name,
                "shipment_ref": "SHP-LOTS-1",
                "shipped_at": "2026-11-22T15:00:00Z",
                "lines": lines,
            },
        )

    def test_lots_counting_more_than_the_line_are_refused(self):
        picking = self.released([(self.serum, 3)])
        line = {"sku": "SERUM-1", "quantity": 3, "lots": [{"lot": "L-100", "quantity": 5}]}
        msg = self.shipped(picking, [line])
        self.assertEqual((msg.state, msg.error_category), ("failed", "business"), msg.state)
        self.assertIn("Line 1", msg.error_message)
        self.assertIn("L-100", msg.error_message)
        self.assertNotEqual(picking.state, "done", "nothing booked")
        self.assertFalse(picking.move_line_ids.filtered("picked"))

    def test_a_serial_number_counting_two_units_is_refused(self):
        picking = self.released([(self.scanner, 2)])
        line = {"sku": "SCAN-1", "quantity": 2, "lots": [{"lot": "SN-1", "quantity": 2}]}
        msg = self.shipped(picking, [line])
        self.assertEqual((msg.state, msg.error_category), ("failed", "business"), msg.state)
        self.assertIn("SN-1", msg.error_message)
        self.assertIn("[SCAN-1] Scanner", msg.error_message)
        self.assertNotEqual(picking.state, "done", "nothing booked")

        # the 3PL sends the right serials: applied
        line["lots"] = [{"lot": "SN-1", "quantity": 1}, {"lot": "SN-2", "quantity": 1}]
        msg = self.shipped(picking, [line])
        self.assertEqual(msg.state, "processed", msg.error_message)
        self.assertEqual(picking.state, "done")
        self.assertEqual(sorted(picking.move_line_ids.lot_id.mapped("name")), ["SN-1", "SN-2"])
