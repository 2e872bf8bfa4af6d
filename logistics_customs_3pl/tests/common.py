"""A company exporting from the US with its EORI, a 3PL warehouse, a customs broker backend
and a customer in Canada: a delivery to it needs a customs declaration."""

from odoo.addons.logistics_3pl_connector.tests.common import ThreePLFixture


class ExportFixture(ThreePLFixture):
    @classmethod
    def setup_export(cls, **backend_vals):
        cls.setup_3pl(**backend_vals)
        env = cls.env
        env.company.partner_id.write(
            {"country_id": env.ref("base.us").id, "logistics_eori": "US000000123456"}
        )
        cls.warehouse.partner_id = env.company.partner_id
        cls.broker = cls._make_backend(
            name="Harbour Customs", code="harbour", kind="customs", provider="generic"
        )
        cls.canadian = cls.customer.copy(
            {
                "name": "Maple Goods",
                "city": "Toronto",
                "zip": "M5H 2N2",
                "state_id": False,
                "country_id": env.ref("base.ca").id,
            }
        )
        cls.chair.write({"hs_code": "940171", "country_of_origin": env.ref("base.us").id})
