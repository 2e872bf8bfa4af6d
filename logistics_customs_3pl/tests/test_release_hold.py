"""A delivery of a 3PL warehouse to a customer across a customs border reaches the 3PL
only once customs released its declaration (or a customs manager overrode)."""

from odoo.tests import TransactionCase

from odoo.addons.logistics_integration_base.tests.common import run_jobs

from .common import ExportFixture


class TestReleaseHold(ExportFixture, TransactionCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.setup_export()

    def released_orders(self):
        run_jobs(self.env)
        return set(self.sim.orders)

    def test_the_3pl_gets_the_order_once_customs_released_it(self):
        picking = self.make_delivery([(self.chair, 2)], partner=self.canadian)
        declaration = picking.logistics_declaration_ids
        self.assertTrue(declaration, "an export across a customs border")
        self.assertNotIn(picking.name, self.released_orders(), "held for customs")
        self.assertEqual(picking.logistics_state, "none")

        domestic = self.make_delivery([(self.chair, 1)])
        self.assertIn(domestic.name, self.released_orders(), "nothing holds a domestic one")

        declaration.sudo().state = "accepted"
        declaration._logistics_apply_status(
            {"reference": declaration.name, "status": "released"}, None
        )
        self.assertIn(picking.name, self.released_orders())
        self.assertEqual(picking.logistics_state, "released")

    def test_a_customs_override_releases_to_the_3pl(self):
        picking = self.make_delivery([(self.chair, 1)], partner=self.canadian)
        self.assertNotIn(picking.name, self.released_orders())
        picking.logistics_declaration_ids.sudo().state = "submitted"  # sent to the broker
        picking.logistics_declaration_ids._logistics_override("Cleared by the broker by phone")
        self.assertIn(picking.name, self.released_orders())

    def test_the_release_cron_leaves_a_held_delivery_alone(self):
        picking = self.make_delivery([(self.chair, 1)], partner=self.canadian)
        self.env["stock.picking"]._cron_logistics_release_ready()
        self.assertNotIn(picking.name, self.released_orders())
        self.assertEqual(picking.logistics_state, "none")
