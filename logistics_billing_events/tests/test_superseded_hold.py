"""A failed release holds the shipment's billing ("the shipment has an open exception") only
while it is open: superseded by a release of the same delivery that went through, it holds
nothing. Events it held become billable, their approval to-do closed with a note; a rule
asking for approval keeps asking."""

import json
import uuid

from odoo.tests import TransactionCase, tagged

from odoo.addons.logistics_3pl_connector.tests.common import ThreePLFixture
from odoo.addons.logistics_integration_base.tests.common import LogisticsHttpCase, run_jobs

from .common import BillingMixin

REFUSAL = {"errors": {"ship_to.phone": ["a delivery phone number is required"]}}


def shipment_data(picking, ref="SHP-2000208"):
    return {
        "order_ref": picking.logistics_order_ref or picking.name,
        "shipment_ref": ref,
        "shipped_at": "2026-12-07T06:51:47Z",
        "tracking_ref": f"1Z{ref}",
        "carrier": {"code": "UPSN", "service": "GROUND"},
        "lines": [{"sku": "CHAIR-1", "quantity": 3}],
    }


def confirm_shipment(env, backend, picking):
    """The 3PL's shipment confirmation, stored as the webhook route stores it and applied by
    its own job (not the jobs waiting in the queue)."""
    message = env["logistics.message"].create(
        {
            "backend_id": backend.id,
            "direction": "in",
            "message_type": "shipment.confirmed",
            "idempotency_key": str(uuid.uuid4()),
            "state": "received",
            "payload": json.dumps(shipment_data(picking)),
        }
    )
    message._job_process()
    return message


@tagged("post_install", "-at_install")
class TestSupersededExceptionReleasesBilling(BillingMixin, ThreePLFixture, TransactionCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.setup_3pl()
        cls.setup_billing()
        cls.per_unit = cls.rule("Pick & pack per unit", "shipped", cls.pick_unit, "per_unit", 0.4)

    def refused_release(self):
        self.sim.fail_next(400, body=REFUSAL)
        picking = self.make_delivery([(self.chair, 3)])
        refused = picking.logistics_release_message_id
        run_jobs(self.env)
        self.assertEqual(refused.state, "failed")
        return picking, refused

    def shipped_meanwhile(self, picking):
        """The 3PL confirms the shipment (it had the order after all) before the release
        queued again is sent: the confirmation's own job runs, the release's waits."""
        message = confirm_shipment(self.env, self.backend, picking)
        self.assertEqual(message.state, "processed", message.error_message)
        return message

    def test_release_to_3pl_first_nothing_is_held(self):
        picking, refused = self.refused_release()
        picking.action_logistics_release()
        run_jobs(self.env)
        self.assertEqual(refused.state, "superseded")
        self.process_inbound("shipment.confirmed", shipment_data(picking, "SHP-1"))
        event = self.events(picking_id=picking.id)
        self.assertEqual((event.state, event.approval_reason), ("approved", False))
        self.assertFalse(event.held_by_message_id)

    def test_a_held_event_is_billable_once_the_exception_is_superseded(self):
        picking, refused = self.refused_release()
        picking.action_logistics_release()  # queued; its job has not run yet
        again = picking.logistics_release_message_id
        self.assertEqual(again.state, "pending")
        self.shipped_meanwhile(picking)
        event = self.events(picking_id=picking.id)
        self.assertEqual(event.state, "to_approve")
        self.assertIn(f"the shipment has an open exception ({refused.name}", event.approval_reason)
        self.assertEqual(event.held_by_message_id, refused)
        self.assertTrue(event.activity_ids)

        run_jobs(self.env)  # the release queued again goes through

        self.assertEqual((again.state, refused.state), ("sent", "superseded"))
        self.assertEqual((event.state, event.approval_reason), ("approved", False))
        self.assertFalse(event.held_by_message_id)
        self.assertFalse(event.activity_ids, "the approval to-do is closed")
        note = f"No longer held: {refused.name} was superseded by {again.name}, which succeeded."
        self.assertTrue(any(note in body for body in event.message_ids.mapped("body")))

    def test_a_rule_asking_for_approval_still_asks(self):
        self.per_unit.requires_approval = True
        picking, refused = self.refused_release()
        picking.action_logistics_release()
        self.shipped_meanwhile(picking)
        event = self.events(picking_id=picking.id)
        self.assertEqual(event.held_by_message_id, refused)
        run_jobs(self.env)
        self.assertEqual(refused.state, "superseded")
        self.assertEqual(event.state, "to_approve")
        self.assertEqual(event.approval_reason, "the rule Pick & pack per unit asks for approval")
        self.assertFalse(event.held_by_message_id)


@tagged("post_install", "-at_install")
class TestSupersededReleaseTour(BillingMixin, ThreePLFixture, LogisticsHttpCase):
    """In the browser: the refused release, Release to 3PL from its delivery; the queue
    empty afterwards, the refused release superseded, the billing event billable."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.setup_3pl()
        cls.setup_billing()
        cls.rule("Pick & pack per unit", "shipped", cls.pick_unit, "per_unit", 0.4)

    def test_release_to_3pl_supersedes_the_refused_release_and_billing_is_not_held(self):
        self.sim.fail_next(400, body=REFUSAL)
        picking = self.make_delivery([(self.chair, 3)])
        refused = picking.logistics_release_message_id
        run_jobs(self.env)
        self.assertEqual(refused.state, "failed")

        self.start_tour(
            "/odoo/action-logistics_integration_base.action_logistics_exceptions",
            "logistics_superseded_release",
            login="admin",
        )
        self.env.invalidate_all()
        again = picking.logistics_release_message_id
        self.assertNotEqual(again, refused, "Release to 3PL was pressed in the browser")
        self.assertEqual(again.state, "pending")
        # the 3PL confirms the shipment before the job runner sent the new release
        confirm_shipment(self.env, self.backend, picking)
        event = self.events(picking_id=picking.id)
        self.assertEqual((event.state, event.held_by_message_id), ("to_approve", refused))

        run_jobs(self.env)  # the job runner sends the release; the 3PL takes it
        self.assertEqual((again.state, refused.state), ("sent", "superseded"))
        self.assertEqual(event.state, "approved")

        self.start_tour(
            "/odoo/action-logistics_integration_base.action_logistics_exceptions",
            "logistics_superseded_release_done",
            login="admin",
        )
        self.start_tour(
            f"/odoo/action-logistics_integration_base.action_logistics_message/{refused.id}",
            "logistics_superseded_release_message",
            login="admin",
        )
        self.start_tour(
            f"/odoo/action-logistics_billing_events.action_logistics_billing_event/{event.id}",
            "logistics_superseded_release_billing",
            login="admin",
        )
