"""Browser tests of the recovery an operator does most: fix the customer, *Retry selected* on
the refused releases, all delivered; *Edit payload and retry* accepted under a new key."""

from odoo.tests import tagged

from odoo.addons.logistics_integration_base.tests.common import LogisticsHttpCase

from .common import run_jobs
from .test_retry_revisions import RefusedForPhoneFixture
from .test_shipment import shipment


@tagged("post_install", "-at_install")
class TestRetryRevisionTours(RefusedForPhoneFixture, LogisticsHttpCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.setup_refused_for_phone()

    def test_fix_the_customer_retry_selected_all_delivered(self):
        pickings, releases = self.refused(3)
        self.start_tour(
            f"/odoo/action-base.action_partner_form/{self.no_phone.id}",
            "logistics_fix_the_customer",
            login="admin",
        )
        self.env.invalidate_all()
        self.assertEqual(self.no_phone.phone, "+1 555 0199")
        self.start_tour(
            "/odoo/action-logistics_integration_base.action_logistics_exceptions",
            "logistics_retry_selected_rebuilds",
            login="admin",
        )
        self.env.invalidate_all()
        revisions = pickings.logistics_release_message_id
        self.assertEqual(len(revisions), 3)
        self.assertEqual(revisions.replaces_id, releases)
        self.assertEqual(set(releases.mapped("state")), {"ignored"})
        self.assertEqual(
            sorted(revisions.mapped("idempotency_key")),
            sorted(f"{key}-r2" for key in releases.mapped("idempotency_key")),
        )
        run_jobs(self.env)
        self.assertEqual(set(revisions.mapped("state")), {"sent"})
        for picking in pickings:
            self.assertEqual(self.sim.orders[picking.name]["status"], "received")
            confirmed = self.process_inbound(
                "shipment.confirmed",
                shipment(picking.name, [{"sku": "CHAIR-1", "quantity": 1}], ref=picking.name),
            )
            self.assertEqual(confirmed.state, "processed", confirmed.error_message)
        self.assertEqual(set(pickings.mapped("state")), {"done"}, "all delivered")
        self.assertEqual(set(pickings.mapped("logistics_state")), {"shipped"})

    def test_edit_payload_and_retry_accepted_under_a_new_key(self):
        pickings, releases = self.refused(1)
        self.start_tour(
            f"/odoo/action-logistics_integration_base.action_logistics_message/{releases.id}",
            "logistics_edit_payload_new_key",
            login="admin",
        )
        self.env.invalidate_all()
        revision = releases.replaced_by_id
        self.assertEqual(revision.idempotency_key, f"{releases.idempotency_key}-r2")
        self.assertEqual(pickings.logistics_release_message_id, revision)
        run_jobs(self.env)
        self.assertEqual(revision.state, "sent", "the demo 3PL accepted the new key")
        order = self.sim.orders[pickings.name]
        self.assertEqual(order["status"], "received")
        self.assertEqual(order["payload"]["ship_to"]["phone"], "+1 555 0142")
