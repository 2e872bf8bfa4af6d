"""A 3PL backend may take deliveries under a customs declaration at once, flagged with a
customs hold, instead of waiting for customs: the 3PL (the real simulator on loopback) keeps
the goods until the order update that lifts the hold, sent when customs release them or a
customs manager overrides."""

import json

from logistics_simulators.threepl import CustomsHold

from odoo.exceptions import UserError, ValidationError
from odoo.tests import TransactionCase

from odoo.addons.logistics_integration_base.exceptions import PayloadInvalid
from odoo.addons.logistics_integration_base.tests.common import run_jobs

from .common import ExportFixture


class TestHoldFlag(ExportFixture, TransactionCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.setup_export(customs_release_policy="flag")

    # helpers ----------------------------------------------------------------------------------
    def received(self, order_ref, message_type):
        """The canonical orders of ``message_type`` the 3PL received for ``order_ref``."""
        run_jobs(self.env)
        events = [r.json() for r in self.sim.requests if r.path.endswith("/events")]
        return [
            event["data"]
            for event in events
            if event["type"] == message_type and event["data"]["order_ref"] == order_ref
        ]

    def export(self, qty=2):
        picking = self.make_delivery([(self.chair, qty)], partner=self.canadian)
        declaration = picking.logistics_declaration_ids
        self.assertTrue(declaration, "an export across a customs border")
        return picking, declaration

    def customs_say(self, declaration, status, **data):
        declaration.sudo().state = "accepted"
        declaration._logistics_apply_status(
            {"reference": declaration.name, "status": status, **data}, None
        )

    def chatter(self, record):
        return "\n".join(record.message_ids.mapped("body"))

    def ship_at_the_3pl(self, picking):
        """The 3PL ships the whole order; its confirmation is processed as the webhook
        route would."""
        delivery = self.sim.ship(picking.name)
        return self.process_inbound("shipment.confirmed", json.loads(delivery.body)["data"])

    # the flag ---------------------------------------------------------------------------------
    def test_released_at_once_with_the_hold_then_lifted_when_customs_release(self):
        picking, declaration = self.export()
        [release] = self.received(picking.name, "order.release")
        self.assertIs(release["customs_hold"], True)
        self.assertEqual(
            release["customs_hold_reason"],
            f"Awaiting customs release of declaration {declaration.name}",
        )
        self.assertEqual(picking.logistics_release_message_id.state, "sent")
        self.assertEqual(picking.logistics_state, "released")
        self.assertEqual(picking.logistics_customs_hold, "held")
        self.assertIn(declaration.name, picking.logistics_customs_hold_reason)
        self.assertIn("Released to Acme Fulfilment with a customs hold", self.chatter(picking))

        order = self.sim.orders[picking.name]
        self.assertTrue(order["customs_hold"])
        with self.assertRaisesRegex(CustomsHold, "on customs hold"):
            self.sim.ship(picking.name)
        self.assertEqual([line["shipped"] for line in order["lines"]], [0])
        self.assertIsNone(self.sim._auto_ship(picking.name), "auto mode leaves it too")
        self.assertEqual(order["status"], "received")

        self.customs_say(declaration, "released")
        [update] = self.received(picking.name, "order.update")
        self.assertIs(update["customs_hold"], False)
        self.assertNotIn("customs_hold_reason", update)
        self.assertFalse(order["customs_hold"])
        self.assertEqual(picking.logistics_customs_hold, "cleared")
        self.assertIn(
            f"Customs hold lifted (customs released {declaration.name}): Acme Fulfilment is "
            f"told by an order update that it may ship {picking.name}.",
            self.chatter(picking),
        )

        confirmation = self.ship_at_the_3pl(picking)
        self.assertEqual(confirmation.state, "processed", confirmation.error_message)
        self.assertEqual(picking.state, "done")
        self.assertEqual(picking.logistics_state, "shipped")

    def test_auto_mode_ships_once_the_hold_is_lifted(self):
        picking, declaration = self.export()
        self.assertTrue(self.received(picking.name, "order.release"))
        self.assertIsNone(self.sim._auto_ship(picking.name))
        self.assertEqual(self.sim.orders[picking.name]["status"], "received")
        self.addCleanup(setattr, self.sim, "auto", False)
        self.addCleanup(setattr, self.sim, "ship_delay", self.sim.ship_delay)
        # auto mode on for the lifting update only, its shipment due far beyond this test
        self.sim.auto, self.sim.ship_delay = True, 3600
        self.customs_say(declaration, "released")
        self.assertTrue(self.received(picking.name, "order.update"))
        self.assertIn(f"ship {picking.name}", [entry[2] for entry in self.sim._agenda])
        self.sim.auto = False
        self.assertTrue(self.sim._auto_ship(picking.name), "the due shipment goes out")
        self.assertEqual(self.sim.orders[picking.name]["status"], "shipped")

    def test_an_override_lifts_the_hold(self):
        picking, declaration = self.export(qty=1)
        self.assertEqual(picking.logistics_customs_hold, "held")
        declaration.sudo().state = "submitted"  # an override is for a declaration sent
        declaration._logistics_override("Cleared by the broker by phone")
        [update] = self.received(picking.name, "order.update")
        self.assertIs(update["customs_hold"], False)
        self.assertFalse(self.sim.orders[picking.name]["customs_hold"])
        self.assertIn(f"customs override of {declaration.name}", self.chatter(picking))
        self.assertEqual(self.ship_at_the_3pl(picking).state, "processed")
        self.assertEqual(picking.state, "done")

    def test_a_rejection_or_a_cancellation_keeps_the_hold(self):
        picking, declaration = self.export()
        self.customs_say(
            declaration, "rejected", errors=[{"code": "E12", "text": "HS code not valid"}]
        )
        self.assertFalse(self.received(picking.name, "order.update"), "nothing to lift")
        self.assertEqual(picking.logistics_customs_hold, "held")
        self.assertTrue(self.sim.orders[picking.name]["customs_hold"])

        self.env["logistics.customs.cancel"].create(
            {"declaration_id": declaration.id, "reason": "Order withdrawn by the customer"}
        ).action_confirm()
        self.assertEqual(declaration.state, "cancelled")
        self.assertEqual(picking.logistics_customs_hold, "held")
        # any later update of the order repeats the hold
        picking.note = "Leave at the back door"
        [update] = self.received(picking.name, "order.update")
        self.assertIs(update["customs_hold"], True)
        self.assertEqual(
            update["customs_hold_reason"],
            f"Awaiting customs release of declaration {declaration.name}",
        )
        with self.assertRaises(CustomsHold):
            self.sim.ship(picking.name)

    def test_a_delivery_under_no_declaration_carries_no_hold(self):
        domestic = self.make_delivery([(self.chair, 1)])
        [release] = self.received(domestic.name, "order.release")
        self.assertNotIn("customs_hold", release)
        self.assertFalse(domestic.logistics_customs_hold)
        self.assertEqual(self.ship_at_the_3pl(domestic).state, "processed")

    # the other policy, and when the flag cannot be used ---------------------------------------
    def test_wait_policy_keeps_the_delivery_back(self):
        self.backend.customs_release_policy = "wait"
        picking, declaration = self.export()
        self.assertFalse(self.received(picking.name, "order.release"), "held for customs")
        self.assertEqual(picking.logistics_state, "none")
        with self.assertRaises(UserError) as caught:
            picking.action_logistics_release()
        self.assertIn(
            f"{picking.name} waits for customs: its declaration {declaration.name} is not sent to "
            "the customs broker yet",
            str(caught.exception),
        )
        self.assertNotIn(picking.name, self.sim.orders)

        self.customs_say(declaration, "released")
        [release] = self.received(picking.name, "order.release")
        self.assertNotIn("customs_hold", release)
        self.assertFalse(picking.logistics_customs_hold)
        self.assertEqual(self.ship_at_the_3pl(picking).state, "processed")

    def test_the_flag_needs_a_3pl_whose_orders_carry_it_and_take_updates(self):
        with self.assertRaises(ValidationError) as caught:
            self.backend.accepts_updates = False
        self.assertIn("the hold is lifted by an order update", str(caught.exception))
        with self.assertRaises(ValidationError) as caught:
            self._make_backend(
                name="Bob's Fulfilment",
                code="bob",
                provider="shipbob",
                accepts_updates=True,
                customs_release_policy="flag",
            )
        self.assertIn("have no field for it", str(caught.exception))
        waiting = self._make_backend(name="Bob's Fulfilment", code="bob", provider="shipbob")
        self.assertEqual(waiting.customs_release_policy, "wait")

    def test_the_schemas_take_the_flag_as_a_boolean(self):
        picking, _declaration = self.export()
        registry = self.env["logistics.message"]._schema_registry()
        release = picking.logistics_release_message_id._get_payload()
        # order.update v1 states the order without the release's priority (order.release v2)
        update = {key: value for key, value in release.items() if key != "priority"}
        for message_type, payload in (("order.release", release), ("order.update", update)):
            registry.validate(message_type, payload)
            with self.assertRaises(PayloadInvalid):
                registry.validate(message_type, {**payload, "customs_hold": "yes"})
