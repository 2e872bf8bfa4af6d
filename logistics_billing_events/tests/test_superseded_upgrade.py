"""A database from before superseding: billing events wait for a release the 3PL refused
although a later release of the same delivery went through. The upgrade to 18.0.1.2.0, its
scripts run in Odoo's order (billing's post script, then the integration's end script, then
billing's end script), supersedes the refused release and releases the events it held —
also those whose hold was known only by the reason's words, those of another company, and
those whose exception was superseded before holds were released; an exception of the
delivery still open takes the hold over. Run twice, it changes nothing more."""

import uuid
from datetime import datetime

from odoo.tests import TransactionCase, tagged

from odoo.addons.logistics_integration_base.tests.common import LogisticsCaseMixin
from odoo.addons.logistics_integration_base.tests.test_superseded_upgrade import (
    run_upgrade_script,
)

SCRIPTS = (
    ("logistics_billing_events", "migrations/18.0.1.2.0/post-migrate.py"),
    ("logistics_integration_base", "migrations/18.0.1.2.0/end-migrate.py"),
    ("logistics_billing_events", "migrations/18.0.1.2.0/end-migrate.py"),
)


@tagged("post_install", "-at_install")
class TestSupersededUpgradeReleasesBilling(LogisticsCaseMixin, TransactionCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        env = cls.env
        cls.company_b = env["res.company"].create({"name": "Northwind Logistics"})
        cls.backend = cls._make_backend(name="Acme Fulfilment")
        cls.backend_b = cls._make_backend(name="Northwind 3PL", company_id=cls.company_b.id)
        cls.customer = env["res.partner"].create({"name": "Acme Retail", "is_company": True})
        cls.service = env["product.product"].create(
            {"name": "Pick & pack per order", "type": "service"}
        )

    def delivery(self, company=None):
        warehouse = self.env["stock.warehouse"].search(
            [("company_id", "=", (company or self.env.company).id)], limit=1
        )
        picking_type = warehouse.out_type_id
        return self.env["stock.picking"].create(
            {
                "picking_type_id": picking_type.id,
                "partner_id": self.customer.id,
                "location_id": picking_type.default_location_src_id.id,
                "location_dest_id": self.env.ref("stock.stock_location_customers").id,
                "company_id": warehouse.company_id.id,
            }
        )

    def message(self, picking, message_type, state, direction="out"):
        backend = self.backend_b if picking.company_id == self.company_b else self.backend
        return self.env["logistics.message"].create(
            {
                "backend_id": backend.id,
                "direction": direction,
                "message_type": message_type,
                "idempotency_key": str(uuid.uuid4()),
                "state": state,
                "res_model": "stock.picking",
                "res_id": picking.id,
                "subject": picking.name,
                "error_message": "Refused: a delivery phone number is required"
                if state in ("failed", "dead")
                else False,
            }
        )

    def held_event(self, picking, holder, linked=True):
        """A shipment's billing event waiting for ``holder``, as it was stored: linked to
        it (``linked``) or, before events remembered which, named in its reason only."""
        return self.env["logistics.billing.event"].create(
            {
                "company_id": picking.company_id.id,
                "partner_id": self.customer.id,
                "product_id": self.service.id,
                "milestone": "shipped",
                "milestone_key": f"shipped:test:{uuid.uuid4()}",
                "picking_id": picking.id,
                "date": datetime(2026, 12, 1, 8, 0),
                "description": f"Pick & pack of {picking.name}",
                "price_unit": 2.0,
                "currency_id": picking.company_id.currency_id.id,
                "state": "to_approve",
                "approval_reason": "the shipment has an open exception "
                f"({holder.name}: {holder.subject})",
                "held_by_message_id": holder.id if linked else False,
            }
        )

    def upgrade(self):
        for module, script in SCRIPTS:
            run_upgrade_script(self.env, module, script)

    def test_the_upgrade_releases_what_solved_failures_held(self):
        picking = self.delivery()
        refused = self.message(picking, "order.release", "failed")
        released = self.message(picking, "order.release", "sent")
        linked = self.held_event(picking, refused)
        by_reason = self.held_event(picking, refused, linked=False)

        # another delivery: its refused release also solved, but an inbound confirmation
        # about it is still in the exception queue
        other = self.delivery()
        other_refused = self.message(other, "order.release", "dead")
        self.message(other, "order.update", "acknowledged")
        still_open = self.message(other, "shipment.confirmed", "failed", direction="in")
        taken_over = self.held_event(other, other_refused, linked=False)

        # company B's delivery
        picking_b = self.delivery(self.company_b)
        refused_b = self.message(picking_b, "order.release", "failed")
        released_b = self.message(picking_b, "order.release", "sent")
        held_b = self.held_event(picking_b, refused_b)

        # superseded before superseding released holds: only its reason names it
        earlier = self.delivery()
        earlier_refused = self.message(earlier, "order.release", "failed")
        earlier_released = self.message(earlier, "order.release", "sent")
        earlier_refused.write({"state": "superseded", "superseded_by_id": earlier_released.id})
        held_earlier = self.held_event(earlier, earlier_refused, linked=False)

        # a failure no later success solved keeps holding
        unsolved = self.delivery()
        unsolved_refused = self.message(unsolved, "order.release", "failed")
        still_held = self.held_event(unsolved, unsolved_refused, linked=False)

        self.upgrade()

        self.assertEqual((refused.state, refused.superseded_by_id), ("superseded", released))
        self.assertEqual((refused_b.state, refused_b.superseded_by_id), ("superseded", released_b))
        for event in (linked, by_reason, held_b, held_earlier):
            self.assertEqual(
                (event.state, event.approval_reason, event.held_by_message_id),
                ("approved", False, self.env["logistics.message"]),
                event.description,
            )
        self.assertIn(
            f"No longer held: {refused.name} was superseded by {released.name}",
            linked.message_ids[0].body,
        )
        self.assertEqual(other_refused.state, "superseded")
        self.assertEqual(
            (taken_over.state, taken_over.held_by_message_id), ("to_approve", still_open)
        )
        self.assertIn(f"open exception ({still_open.name}", taken_over.approval_reason)
        self.assertEqual(unsolved_refused.state, "failed")
        self.assertEqual(
            (still_held.state, still_held.held_by_message_id), ("to_approve", unsolved_refused)
        )

        notes = {event: len(event.message_ids) for event in (linked, taken_over, held_b)}
        self.upgrade()
        self.assertEqual({event: len(event.message_ids) for event in notes}, notes)
        self.assertEqual(
            (taken_over.state, taken_over.held_by_message_id), ("to_approve", still_open)
        )
