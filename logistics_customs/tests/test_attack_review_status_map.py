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

    def _notes(self, backend):
        return backend.message_ids.filtered(lambda m: "Response code" in (m.body or ""))

    def test_changes_are_written_in_the_broker_backend_s_chatter_by_their_author(self):
        row = self.Codes.create(
            {
                "backend_id": self.ours.id,
                "source": "gis",
                "code": "Z3",
                "agency": "ZZZ",
                "status": "accepted",
            }
        )
        row.write({"status": "released"})
        row.write({"name": "Cleared by the broker"})  # what the code means: not a change
        row.unlink()
        notes = self._notes(self.ours).sorted("id")
        self.assertEqual(len(notes), 3, notes.mapped("body"))
        self.assertEqual(notes.author_id, self.manager.partner_id)
        added, changed, removed = (n.body for n in notes)
        self.assertIn("Response code added", added)
        self.assertIn("Z3 (agency ZZZ) → Accepted", added)
        self.assertIn("Z3 (agency ZZZ) → Accepted, now", changed)
        self.assertIn("Z3 (agency ZZZ) → Released", changed)
        self.assertIn("Response code removed", removed)

    def test_a_user_who_may_not_change_codes_leaves_no_note(self):
        row = self.Codes.create(
            {"backend_id": self.ours.id, "source": "gis", "code": "Z4", "status": "accepted"}
        )
        clerk = new_test_user(
            self.env, login="attack-customs-clerk", groups="stock.group_stock_user"
        )
        before = len(self._notes(self.ours))
        for attempt in (
            lambda: row.with_user(clerk).write({"status": "released"}),
            lambda: row.with_user(clerk).unlink(),
        ):
            with self.assertRaises(AccessError):
                attempt()
        self.assertEqual(len(self._notes(self.ours)), before)
        self.assertEqual(row.status, "accepted")
        # nor another company's manager, who does not see the row
        row_other = self.env["logistics.customs.status.map"].create(
            {"backend_id": self.theirs.id, "source": "gis", "code": "Z5", "status": "accepted"}
        )
        with self.assertRaises(AccessError):
            row_other.with_user(self.manager).unlink()
        self.assertTrue(row_other.exists())

    def test_default_codes_are_one_note(self):
        self.ours.customs_status_map_ids.unlink()
        self.ours.with_user(self.manager).action_customs_status_map_defaults()
        self.assertTrue(self.ours.customs_status_map_ids)
        notes = self.ours.message_ids.filtered(lambda m: "default response codes" in (m.body or ""))
        self.assertEqual(len(notes), 1)
        self.assertEqual(notes.author_id, self.manager.partner_id)
        with self.assertRaises(AccessError):
            self.theirs.with_user(self.manager).action_customs_status_map_defaults()
