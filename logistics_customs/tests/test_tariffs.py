"""National commodity codes on products: which tariff a declaration follows (export: the
country of dispatch; import: the country of destination), the HS code when there is none,
lines aggregated by the code declared, and the checks on the codes."""

import psycopg2

from odoo.exceptions import ValidationError
from odoo.tests import Form, TransactionCase
from odoo.tools import mute_logger

from .common import CustomsFixture


class TestTariffs(CustomsFixture, TransactionCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.setup_customs()
        cls.eu = cls.env.ref("logistics_customs.territory_eu")
        cls.Tariff = cls.env["logistics.customs.tariff"]
        # The kettle is classified by its 6 HS digits; the EU's Combined Nomenclature and
        # the import tariffs of the United States and China extend them.
        cls.kettle.hs_code = "8516.10"
        cls.kettle.logistics_tariff_ids = [
            (0, 0, {"territory_id": cls.eu.id, "code": "8516 10 80"}),
            (0, 0, {"country_id": cls.env.ref("base.us").id, "code": "8516.10.0060"}),
            (0, 0, {"country_id": cls.env.ref("base.cn").id, "code": "8516109000"}),
        ]

    def purchase_from_china(self, lines):
        order = self.env["purchase.order"].create(
            {
                "partner_id": self.cn_supplier.id,
                "order_line": [
                    (0, 0, {"product_id": p.id, "product_qty": q, "price_unit": price})
                    for p, q, price in lines
                ],
            }
        )
        order.button_confirm()
        return order.picking_ids.logistics_declaration_ids

    def test_an_export_declares_the_code_of_the_country_of_dispatch(self):
        declaration = self.delivery_of(
            self.sale(self.us_customer, [(self.kettle, 2, 40.0)])
        ).logistics_declaration_ids
        self.assertEqual(declaration.country_dispatch_id.code, "DE")
        self.assertEqual(declaration.line_ids.hs_code, "85161080", "the EU's CN, not the US HTS")
        payload = declaration._logistics_payload()
        self.env["logistics.message"]._schema_registry().validate("customs.declaration", payload)
        self.assertEqual(payload["lines"][0]["hs_code"], "85161080")

    def test_an_import_declares_the_code_of_the_country_of_destination(self):
        declaration = self.purchase_from_china([(self.kettle, 10, 18.0)])
        self.assertEqual(
            (declaration.direction, declaration.country_destination_id.code), ("import", "DE")
        )
        self.assertEqual(declaration.line_ids.hs_code, "85161080", "the EU's, not China's")

    def test_a_country_code_comes_before_its_territory_code(self):
        self.Tariff.create(
            {
                "product_tmpl_id": self.kettle.product_tmpl_id.id,
                "country_id": self.env.ref("base.de").id,
                "code": "8516108000",
            }
        )
        declaration = self.purchase_from_china([(self.kettle, 1, 18.0)])
        self.assertEqual(declaration.line_ids.hs_code, "8516108000")

    def test_without_a_national_code_the_hs_code_is_declared(self):
        declaration = self.delivery_of(
            self.sale(self.us_customer, [(self.kettle_xl, 1, 55.0), (self.toaster, 1, 30.0)])
        ).logistics_declaration_ids
        self.assertEqual(
            declaration.line_ids.sorted("sequence").mapped("hs_code"),
            ["85161080", "851679"],
            "the product's HS code, else its category's",
        )
        # an archived territory's tariff no longer applies
        self.eu.active = False
        declaration = self.purchase_from_china([(self.kettle, 1, 18.0)])
        self.assertEqual(declaration.line_ids.hs_code, "851610")

    def test_lines_are_aggregated_by_the_code_declared(self):
        """The kettle (HS 8516.10, CN 8516 10 80) and the XL kettle (HS 8516 10 80) are one
        line; the water heater shares the kettle's HS heading but is another CN code."""
        water_heater = self.env["product.product"].create(
            {
                "name": "Instant water heater",
                "is_storable": True,
                "weight": 3.0,
                "hs_code": "851610",
                "country_of_origin": self.env.ref("base.cn").id,
                "logistics_tariff_ids": [
                    (
                        0,
                        0,
                        {
                            "territory_id": self.eu.id,
                            "code": "85161011",
                            "description": "Instantaneous electric water heaters",
                        },
                    )
                ],
            }
        )
        self.env["stock.quant"]._update_available_quantity(
            water_heater, self.warehouse.lot_stock_id, 10
        )
        declaration = self.delivery_of(
            self.sale(
                self.us_customer,
                [(self.kettle, 3, 40.0), (self.kettle_xl, 2, 55.0), (water_heater, 1, 120.0)],
            )
        ).logistics_declaration_ids
        kettles, heaters = declaration.line_ids.sorted("sequence")
        self.assertEqual((kettles.hs_code, kettles.quantity), ("85161080", 5))
        self.assertEqual(kettles.product_ids, self.kettle | self.kettle_xl)
        self.assertAlmostEqual(kettles.value, 3 * 40.0 + 2 * 55.0)
        self.assertEqual((heaters.hs_code, heaters.quantity), ("85161011", 1))
        self.assertEqual(
            heaters.description,
            "Instantaneous electric water heaters",
            "the tariff's description, where it has one",
        )

    def test_national_codes_are_checked_with_the_product_named(self):
        template = self.kettle_xl.product_tmpl_id
        us = self.env.ref("base.us")
        for code in ("8516", "851610800", "85161080000", "8516-10-80"):
            with self.assertRaises(ValidationError, msg=code) as caught:
                self.Tariff.create(
                    {"product_tmpl_id": template.id, "country_id": us.id, "code": code}
                )
            self.assertEqual(
                caught.exception.args[0],
                f"{code} is not a national commodity code (Kettle XL, United States): 8 or 10 "
                "digits, the HS code's 6 then the national extension (dots and spaces allowed).",
            )
        with self.assertRaises(ValidationError) as caught:
            self.Tariff.create(
                {"product_tmpl_id": template.id, "country_id": us.id, "code": "8516.79.0000"}
            )
        self.assertEqual(
            caught.exception.args[0],
            "The national code 8516.79.0000 for United States does not extend the HS code of "
            "Kettle XL: it must start with 851610.",
        )
        for where in ({}, {"country_id": us.id, "territory_id": self.eu.id}):
            with self.assertRaises(ValidationError) as caught:
                self.Tariff.create({"product_tmpl_id": template.id, "code": "8516100060", **where})
            self.assertEqual(
                caught.exception.args[0],
                "The national code 8516100060 of Kettle XL applies in one country or one "
                "customs territory: choose either, not both.",
            )
        no_hs_code = self.env["product.product"].create({"name": "Gift card", "type": "consu"})
        with self.assertRaises(ValidationError) as caught:
            self.Tariff.create(
                {
                    "product_tmpl_id": no_hs_code.product_tmpl_id.id,
                    "country_id": us.id,
                    "code": "4911100010",
                }
            )
        self.assertEqual(
            caught.exception.args[0],
            "Gift card has no HS code: set it (or a default on its category) before its "
            "national code for United States.",
        )
        # dots and spaces are allowed, as for HS codes
        tariff = self.Tariff.create(
            {"product_tmpl_id": template.id, "country_id": us.id, "code": "8516.10.00 60"}
        )
        self.assertEqual(tariff._logistics_code(), "8516100060")

    def test_the_hs_code_cannot_move_away_from_its_national_codes(self):
        with self.assertRaises(ValidationError) as caught:
            self.kettle.hs_code = "8516.79"
        self.assertIn(
            "does not extend the HS code of Kettle: it must start with 851679",
            str(caught.exception),
        )
        self.kettle.hs_code = "8516.10.80"  # the same heading, more precise: fine
        # a product taking its HS code from its category is checked when the category changes
        self.toaster.logistics_tariff_ids = [
            (0, 0, {"territory_id": self.eu.id, "code": "85167970"})
        ]
        with self.assertRaises(ValidationError) as caught:
            self.appliances.logistics_hs_code = "8516.72"
        self.assertIn("HS code of Toaster: it must start with 851672", str(caught.exception))

    def test_one_national_code_per_country_and_per_territory(self):
        template = self.kettle.product_tmpl_id
        for where in ({"territory_id": self.eu.id}, {"country_id": self.env.ref("base.us").id}):
            with mute_logger("odoo.sql_db"), self.assertRaises(psycopg2.IntegrityError):
                with self.env.cr.savepoint():
                    self.Tariff.create(
                        {"product_tmpl_id": template.id, "code": "85161080", **where}
                    )

    def test_national_codes_are_edited_on_the_product_form(self):
        with Form(self.kettle_xl.product_tmpl_id) as form:
            with form.logistics_tariff_ids.new() as tariff:
                tariff.territory_id = self.eu
                tariff.code = "8516 10 80 00"
        self.assertEqual(self.kettle_xl.logistics_tariff_ids.territory_id, self.eu)
        declaration = self.purchase_from_china([(self.kettle_xl, 1, 20.0)])
        self.assertEqual(declaration.line_ids.hs_code, "8516108000", "TARIC, 10 digits")
