"""A company shipping from Germany with its EORI, customers inside and outside the EU, a
supplier in China, products with HS codes and origins, and a customs broker backend."""

import os
import shutil

from logistics_simulators.customs_broker import CustomsBrokerSimulator
from logistics_simulators.sftp_server import SFTPTestServer

from odoo.addons.logistics_integration_base.tests.common import (
    WEBHOOK_SECRET,
    LogisticsCaseMixin,
    sftp_backend_vals,
    sftp_partner_settings,
)

ODOO_PASSWORD = "odoo-s3cret"
BROKER_PASSWORD = "broker-s3cret"
# a REST broker's refusal of a declaration (400), as the broker simulator answers it
UNKNOWN_EORI = {"errors": {"importer.eori": ["this EORI number is not registered"]}}


class CustomsFixture(LogisticsCaseMixin):
    @classmethod
    def setup_rest_broker(cls):
        """The broker backend on the REST broker simulator (a real HTTP server on loopback,
        ``cls.sim``), its webhooks signed with ``WEBHOOK_SECRET``."""
        cls.sim = CustomsBrokerSimulator(secret=WEBHOOK_SECRET).start()
        cls.addClassCleanup(cls.sim.stop)
        cls.setup_customs(base_url=cls.sim.url("/declarations"))

    @classmethod
    def setup_customs(cls, **backend_vals):
        env = cls.env
        ref = env.ref
        cls.company = env.company
        cls.company.partner_id.write(
            {
                "street": "Hafenstrasse 5",
                "city": "Hamburg",
                "zip": "20457",
                "country_id": ref("base.de").id,
                "logistics_eori": "DE123456789012345",
            }
        )
        cls.warehouse = env["stock.warehouse"].search(
            [("company_id", "=", cls.company.id)], limit=1
        )
        cls.warehouse.partner_id = cls.company.partner_id
        Partner = env["res.partner"]
        cls.us_customer = Partner.create(
            {
                "name": "Maple & Oak Retail Inc.",
                "is_company": True,
                "street": "200 Market St",
                "city": "Philadelphia",
                "zip": "19106",
                "country_id": ref("base.us").id,
                "logistics_eori": "US000000123456",
            }
        )
        cls.fr_customer = Partner.create(
            {
                "name": "Boutique Lyon",
                "street": "1 rue X",
                "city": "Lyon",
                "zip": "69001",
                "country_id": ref("base.fr").id,
            }
        )
        cls.de_customer = Partner.create(
            {
                "name": "Kunde Berlin",
                "street": "Allee 1",
                "city": "Berlin",
                "zip": "10115",
                "country_id": ref("base.de").id,
            }
        )
        cls.cn_supplier = Partner.create(
            {
                "name": "Shenzhen Appliance Co.",
                "is_company": True,
                "street": "8 Keyuan Rd",
                "city": "Shenzhen",
                "zip": "518057",
                "country_id": ref("base.cn").id,
            }
        )
        cls.appliances = env["product.category"].create(
            {"name": "Small appliances", "logistics_hs_code": "8516.79"}
        )
        Product = env["product.product"]
        cls.kettle = Product.create(
            {
                "name": "Kettle",
                "is_storable": True,
                "weight": 1.2,
                "lst_price": 40.0,
                "standard_price": 18.0,
                "hs_code": "8516.10.80",
                "country_of_origin": ref("base.cn").id,
                "logistics_customs_description": "Electric kettles, stainless steel",
                "logistics_net_weight": 1.0,
                "categ_id": cls.appliances.id,
            }
        )
        cls.kettle_xl = Product.create(
            {
                "name": "Kettle XL",
                "is_storable": True,
                "weight": 1.6,
                "lst_price": 55.0,
                "hs_code": "85161080",
                "country_of_origin": ref("base.cn").id,
                "categ_id": cls.appliances.id,
            }
        )
        cls.toaster = Product.create(
            {
                "name": "Toaster",
                "is_storable": True,
                "weight": 2.0,
                "lst_price": 30.0,
                "country_of_origin": ref("base.de").id,
                "categ_id": cls.appliances.id,  # HS code from the category
            }
        )
        for product in (cls.kettle, cls.kettle_xl, cls.toaster):
            env["stock.quant"]._update_available_quantity(product, cls.warehouse.lot_stock_id, 100)
        cls.broker_partner = Partner.create(
            {
                "name": "Hanse Customs Brokers GmbH",
                "is_company": True,
                "city": "Hamburg",
                "country_id": ref("base.de").id,
                "logistics_eori": "DE987654321000000",
            }
        )
        vals = {
            "name": "Hanse Customs",
            "code": "hanse-customs",
            "kind": "customs",
            "provider": "generic",
            "customs_declarant_id": cls.broker_partner.id,
        }
        vals.update(backend_vals)
        cls.broker = cls._make_backend(**vals)

    def sale(self, partner, lines, currency=None):
        vals = {
            "partner_id": partner.id,
            "warehouse_id": self.warehouse.id,
            "incoterm": self.env.ref("account.incoterm_DAP").id,
            "incoterm_location": partner.city,
            "order_line": [
                (0, 0, {"product_id": p.id, "product_uom_qty": q, "price_unit": price})
                for p, q, price in lines
            ],
        }
        if currency:
            pricelist = self.env["product.pricelist"].create(
                {"name": f"{currency.name} list", "currency_id": currency.id}
            )
            vals["pricelist_id"] = pricelist.id
        order = self.env["sale.order"].create(vals)
        order.action_confirm()
        return order

    def delivery_of(self, order):
        return order.picking_ids.filtered(lambda p: p.picking_type_code == "outgoing")

    def validate(self, picking):
        for move in picking.move_ids:
            move.quantity = move.product_uom_qty
        return picking.button_validate()


class EdifactSftpFixture(CustomsFixture):
    """A customs broker exchanging UN/EDIFACT files with Odoo over a real SFTP server on
    loopback: Odoo's login (the backend ``cls.broker``) and the broker's (``cls.partner``
    settings, with Odoo's folder layout), the broker simulator ``cls.sim``; the server's
    folders emptied before each test (the database is rolled back after it)."""

    FOLDERS = ("from_broker/archive", "from_broker/error", "to_broker")

    @classmethod
    def setup_edifact_sftp(cls):
        os.environ.setdefault("LOGISTICS_SECRET_KEY", "test-key")
        cls.server = SFTPTestServer(
            users={"odoo": {"password": ODOO_PASSWORD}, "broker": {"password": BROKER_PASSWORD}}
        ).start()
        cls.addClassCleanup(cls.server.stop)
        cls.root = cls.server.root
        cls.setup_customs(
            provider="edifact",
            edifact_recipient_id="HANSEBRK",
            **sftp_backend_vals(
                cls.server,
                "odoo",
                ODOO_PASSWORD,
                inbound_dir="from_broker",
                outbound_dir="to_broker",
                archive_dir="from_broker/archive",
                error_dir="from_broker/error",
            ),
        )
        cls.partner = sftp_partner_settings(
            cls.server,
            "broker",
            BROKER_PASSWORD,
            inbound_dir="from_broker",
            outbound_dir="to_broker",
        )
        cls.sim = CustomsBrokerSimulator()

    def empty_sftp_folders(self):
        for entry in os.listdir(self.root):
            shutil.rmtree(os.path.join(self.root, entry), ignore_errors=True)
        for folder in self.FOLDERS:
            os.makedirs(os.path.join(self.root, folder))
        self.sim.reset()
