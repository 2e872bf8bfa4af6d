"""Attacks on the customs response codes (``logistics.customs.status.map``): a customs
manager of one company must not say what another company's broker's codes mean — the code
that moves a declaration to *released* gates goods."""

from odoo.exceptions import AccessError
from odoo.tests import TransactionCase, new_test_user, tagged

from odoo.addons.logistics_integration_base.tests.common import LogisticsCaseMixin


@tagged("post_install", "-at_install")
class TestStatusMapAcrossCompanies(LogisticsCaseMixin, TransactionCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.other = cls.env["res.company"].create({"name": "Nordwerk Austria GmbH"})
        cls.ours = cls._make_backend(name="Hamburg broker", kind="customs", provider="edifact")
        cls.theirs = cls._make_backend(
            name="Vienna broker", kind="customs", provider="edifact", company_id=cls.other.id
        )
        cls.manager = new_test_user(
            cls.env,
            login="attack-customs-manager",
            groups="stock.group_stock_user,logistics_customs.group_customs_manager",
        )
        cls.Codes = cls.env["logistics.customs.status.map"].with_user(cls.manager)

    def test_a_row_cannot_be_moved_to_another_company_s_backend(self):
        row = self.Codes.create(
            {"backend_id": self.ours.id, "source": "gis", "code": "Z1", "status": "released"}
        )
        with self.assertRaises(AccessError):
            row.write({"backend_id": self.theirs.id})
        self.assertEqual(row.sudo().backend_id, self.ours)
        self.assertNotIn(
            "Z1", self.theirs.customs_status_map_ids.mapped("code"), "Vienna's codes untouched"
        )

    def test_a_row_cannot_be_created_on_another_company_s_backend(self):
        with self.assertRaises(AccessError):
            self.Codes.create(
                {"backend_id": self.theirs.id, "source": "gis", "code": "Z2", "status": "released"}
            )
        self.assertNotIn("Z2", self.theirs.customs_status_map_ids.mapped("code"))
