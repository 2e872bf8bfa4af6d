"""Which transfers get a customs declaration, how it is built from the transfer and its
order, what it lists as missing, and how it holds the goods until release."""

from odoo import fields
from odoo.exceptions import UserError, ValidationError
from odoo.tests import TransactionCase

from .common import CustomsFixture


class TestDeclarations(CustomsFixture, TransactionCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.setup_customs()

    # territories ------------------------------------------------------------------------
    def test_domestic_and_intra_eu_deliveries_get_no_declaration(self):
        for customer in (self.de_customer, self.fr_customer):
            delivery = self.delivery_of(self.sale(customer, [(self.kettle, 1, 40.0)]))
            self.assertFalse(delivery.logistics_declaration_ids, customer.name)
            self.assertIs(self.validate(delivery), True)

    def test_an_export_outside_the_eu_gets_an_export_declaration(self):
        delivery = self.delivery_of(self.sale(self.us_customer, [(self.kettle, 1, 40.0)]))
        [declaration] = delivery.logistics_declaration_ids
        self.assertEqual(declaration.direction, "export")
        self.assertEqual(declaration.state, "draft")
        self.assertEqual(declaration.country_dispatch_id.code, "DE")
        self.assertEqual(declaration.country_destination_id.code, "US")
        self.assertEqual(declaration.exporter_id, self.company.partner_id)
        self.assertEqual(declaration.importer_id, self.us_customer)
        self.assertEqual(declaration.backend_id, self.broker)
        self.assertEqual(
            (declaration.incoterm_id.code, declaration.incoterm_place), ("DAP", "Philadelphia")
        )
        self.assertRegex(declaration.name, r"^CD/\d{4}/\d{5}$")
        self.assertEqual(delivery.logistics_customs_state, "draft")

    def test_an_import_from_outside_the_eu_gets_an_import_declaration(self):
        order = self.env["purchase.order"].create(
            {
                "partner_id": self.cn_supplier.id,
                "incoterm_id": self.env.ref("account.incoterm_FOB").id,
                "incoterm_location": "Shenzhen",
                "order_line": [
                    (0, 0, {"product_id": self.kettle.id, "product_qty": 10, "price_unit": 18.0})
                ],
            }
        )
        order.button_confirm()
        [declaration] = order.picking_ids.logistics_declaration_ids
        self.assertEqual(declaration.direction, "import")
        self.assertEqual(declaration.exporter_id, self.cn_supplier)
        self.assertEqual(declaration.importer_id, self.company.partner_id)
        self.assertEqual(
            (declaration.incoterm_id.code, declaration.incoterm_place), ("FOB", "Shenzhen")
        )
        self.assertEqual(declaration.country_dispatch_id.code, "CN")
        [line] = declaration.line_ids
        self.assertEqual((line.quantity, line.value), (10, 180.0))

    def test_no_declaration_while_the_company_has_no_customs_broker(self):
        self.broker.active = False
        delivery = self.delivery_of(self.sale(self.us_customer, [(self.kettle, 1, 40.0)]))
        self.assertFalse(delivery.logistics_declaration_ids)
        self.assertIs(self.validate(delivery), True)

    def test_a_territory_is_configurable(self):
        """Switzerland joins a test territory with Germany: no border between them."""
        ch_customer = self.us_customer.copy({"country_id": self.env.ref("base.ch").id})
        self.env["logistics.customs.territory"].create(
            {
                "name": "Test union",
                "code": "TU",
                "country_ids": [(6, 0, [self.env.ref("base.ch").id, self.env.ref("base.li").id])],
            }
        )
        delivery = self.delivery_of(self.sale(ch_customer, [(self.kettle, 1, 40.0)]))
        self.assertTrue(delivery.logistics_declaration_ids, "EU to another territory")
        Territory = self.env["logistics.customs.territory"]
        self.assertFalse(
            Territory._crosses_border(self.env.ref("base.ch"), self.env.ref("base.li"))
        )
        self.assertTrue(Territory._crosses_border(self.env.ref("base.de"), self.env.ref("base.ch")))

    # building ---------------------------------------------------------------------------
    def test_lines_are_aggregated_by_hs_code_and_origin_with_weights_and_values(self):
        eur = self.env.ref("base.EUR")
        eur.active = True
        company_currency = self.company.currency_id
        if company_currency == eur:
            self.skipTest("the test company must not keep its books in EUR")
        self.env["res.currency.rate"].create({"currency_id": eur.id, "rate": 0.8})
        order = self.sale(
            self.us_customer,
            [(self.kettle, 3, 40.0), (self.kettle_xl, 2, 55.0), (self.toaster, 1, 30.0)],
            currency=eur,
        )
        declaration = self.delivery_of(order).logistics_declaration_ids
        self.assertEqual(declaration.currency_id, eur)
        self.assertAlmostEqual(declaration.exchange_rate, 1.25, places=6)
        kettles, toasters = declaration.line_ids.sorted("sequence")
        self.assertEqual((kettles.hs_code, kettles.origin_country_id.code), ("85161080", "CN"))
        self.assertEqual(kettles.quantity, 5)
        self.assertAlmostEqual(kettles.value, 3 * 40.0 + 2 * 55.0)
        self.assertAlmostEqual(kettles.net_weight, 3 * 1.0 + 2 * 1.6, "net weight where given")
        self.assertAlmostEqual(kettles.gross_weight, 3 * 1.2 + 2 * 1.6)
        self.assertEqual(kettles.description, "Electric kettles, stainless steel; Kettle XL")
        self.assertEqual(kettles.product_ids, self.kettle | self.kettle_xl)
        self.assertEqual(
            (toasters.hs_code, toasters.origin_country_id.code),
            ("851679", "DE"),
            "HS code from the category",
        )
        self.assertAlmostEqual(declaration.total_value, 260.0)
        self.assertAlmostEqual(declaration.net_weight, 8.2)
        self.assertAlmostEqual(declaration.gross_weight, 8.8)
        self.assertFalse(declaration.missing_data)
        payload = declaration._logistics_payload()
        self.env["logistics.message"]._schema_registry().validate("customs.declaration", payload)
        self.assertEqual(payload["exporter"]["eori"], "DE123456789012345")
        self.assertEqual(payload["declarant"]["name"], "Hanse Customs Brokers GmbH")
        self.assertEqual([line["hs_code"] for line in payload["lines"]], ["85161080", "851679"])

    def test_missing_data_is_listed_with_what_to_fix_and_blocks_sending(self):
        self.company.partner_id.logistics_eori = False
        self.toaster.country_of_origin = False
        self.appliances.logistics_hs_code = False
        declaration = self.delivery_of(
            self.sale(self.us_customer, [(self.kettle, 1, 40.0), (self.toaster, 1, 30.0)])
        ).logistics_declaration_ids
        problems = declaration.missing_data.split("\n")
        self.assertIn(
            "No HS code for Toaster: set it on the product (or a default on its category).",
            problems,
        )
        self.assertIn("No country of origin for Toaster: set it on the product.", problems)
        self.assertIn(
            f"No EORI number for {self.company.partner_id.name}, the exporter: set it on the "
            "contact.",
            problems,
        )
        with self.assertRaises(UserError) as caught:
            declaration.action_submit()
        self.assertIn("cannot be sent yet", str(caught.exception))
        self.assertIn("No HS code for Toaster", str(caught.exception))
        self.assertFalse(
            self.env["logistics.message"].search([("message_type", "=", "customs.declaration")])
        )
        # corrected, rebuilt: nothing missing any more
        self.toaster.write({"hs_code": "85167200", "country_of_origin": self.env.ref("base.de").id})
        self.company.partner_id.logistics_eori = "DE123456789012345"
        declaration.action_rebuild()
        self.assertFalse(declaration.missing_data)

    def test_hs_codes_and_eori_numbers_are_checked(self):
        for code in ("8516", "85AB1080", "851610801"):
            with self.assertRaises(ValidationError, msg=code):
                self.kettle.hs_code = code
        self.kettle.hs_code = "8516 10 80 00"  # spaces and dots allowed
        self.assertEqual(self.kettle.product_tmpl_id._logistics_hs_code(), "8516108000")
        for eori in ("de123", "DE 123", "123456", "DE1234567890123456"):
            with self.assertRaises(ValidationError, msg=eori):
                self.us_customer.logistics_eori = eori
        self.us_customer.logistics_eori = "GB123456789000"

    # gating -----------------------------------------------------------------------------
    def test_goods_wait_for_release_unless_a_customs_manager_overrides(self):
        delivery = self.delivery_of(self.sale(self.us_customer, [(self.kettle, 1, 40.0)]))
        declaration = delivery.logistics_declaration_ids
        with self.assertRaises(UserError) as caught:
            self.validate(delivery)
        self.assertIn(
            f"{delivery.name} cannot be validated: its customs declaration {declaration.name} "
            "is not sent to the customs broker yet. Complete the declaration and press Send to "
            "broker",
            str(caught.exception),
        )
        self.assertEqual(delivery.state, "assigned")

        clerk = self.env["res.users"].create(
            {
                "name": "Stock clerk",
                "login": "clerk",
                "groups_id": [
                    (
                        6,
                        0,
                        [
                            self.env.ref("stock.group_stock_user").id,
                            self.env.ref("logistics_integration_base.group_logistics_user").id,
                        ],
                    )
                ],
            }
        )
        with self.assertRaises(UserError):
            declaration.with_user(clerk)._logistics_override("urgent")
        with self.assertRaisesRegex(UserError, "was never sent to the customs broker"):
            declaration._logistics_override("Broker confirmed release by phone")
        declaration.sudo().write({"state": "submitted", "submitted_at": fields.Datetime.now()})
        with self.assertRaises(UserError):
            declaration._logistics_override("  ")
        wizard = self.env["logistics.customs.override"].create(
            {"declaration_id": declaration.id, "reason": "Broker confirmed release by phone"}
        )
        wizard.action_confirm()
        self.assertEqual(declaration.override_user_id, self.env.user)
        self.assertIn("Broker confirmed release by phone", delivery.message_ids[0].body)
        self.assertIn("Customs override by", declaration.message_ids[0].body)
        self.assertIs(self.validate(delivery), True)
        self.assertEqual(delivery.state, "done")

    def test_a_released_declaration_lets_the_goods_move(self):
        delivery = self.delivery_of(self.sale(self.us_customer, [(self.kettle, 1, 40.0)]))
        declaration = delivery.logistics_declaration_ids
        declaration.sudo().state = "submitted"
        applied = declaration._logistics_apply_status(
            {
                "reference": declaration.name,
                "status": "released",
                "broker_reference": "26DE0000000000001A",
            },
            None,
        )
        self.assertTrue(applied)
        self.assertIs(self.validate(delivery), True)
