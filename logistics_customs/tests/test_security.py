"""What a user who is not a customs manager cannot do to a customs declaration, and so to
the goods it holds: the gate holds on the server, whatever path a request takes (a write
over RPC, a button method, a create, a delete), for a stock user (Inventory / User only)
and for a Logistics manager who is no customs manager.

=====================================================  ===========================================
Attempt                                                Outcome
=====================================================  ===========================================
write ``override_reason`` / ``override_user_id``       refused; the delivery stays held
write ``state`` (released, cancelled...)               refused; the delivery stays held
write ``broker_reference`` (the MRN)                   refused
write the broker of a sent declaration                 refused
edit the goods of a sent declaration                   refused
``action_cancel`` on a sent declaration                refused: a customs manager's act, with a
                                                       reason, told to the broker
cancel or override through the managers' methods or    refused
wizards
create a declaration already released or overridden    refused
write or delete a released declaration                 refused (delete: for everyone)
delete any declaration                                 refused: cancelled instead
cancel a draft                                         allowed; the delivery stays held until it
                                                       is declared again and released
a broker status about another broker's declaration     not applied (unknown declaration)
=====================================================  ===========================================

The flows themselves (the broker's statuses, the manager's cancellation and override) are
tested over the real webhook route and the broker simulator in ``TestCustomsCancellation``.
"""

from odoo.exceptions import AccessError, UserError
from odoo.tests import TransactionCase, new_test_user, tagged

from odoo.addons.logistics_integration_base.tests.common import (
    LogisticsHttpCase,
    run_jobs,
)

from .common import CustomsFixture


class CustomsUsers:
    @classmethod
    def setup_users(cls):
        cls.clerk = new_test_user(
            cls.env, login="customs_clerk", groups="stock.group_stock_user", name="Stock Clerk"
        )
        cls.logistics_manager = new_test_user(
            cls.env,
            login="customs_logistics_manager",
            groups="stock.group_stock_user,logistics_integration_base.group_logistics_manager",
            name="Logistics Manager",
        )
        cls.customs_manager = new_test_user(
            cls.env,
            login="customs_manager",
            groups="stock.group_stock_user,logistics_customs.group_customs_manager",
            name="Customs Manager",
        )

    def assert_held(self, delivery, user=None, words=None):
        """The delivery cannot be validated (by ``user``, the clerk by default)."""
        delivery = delivery.with_user(user or self.clerk)
        for move in delivery.move_ids:
            move.quantity = move.product_uom_qty
        with self.assertRaises(UserError) as caught:
            delivery.button_validate()
        self.assertIn(f"{delivery.name} cannot be validated", str(caught.exception))
        if words:
            self.assertIn(words, str(caught.exception))
        else:  # where the declaration stands, in words
            self.assertRegex(
                str(caught.exception),
                "is not sent to the customs broker yet|is waiting for customs release|"
                "was rejected by customs|was cancelled",
            )
        self.assertNotEqual(delivery.state, "done")


class TestCustomsGateSecurity(CustomsFixture, CustomsUsers, TransactionCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.setup_customs()
        cls.setup_users()

    def setUp(self):
        super().setUp()
        self.delivery = self.delivery_of(self.sale(self.us_customer, [(self.kettle, 2, 40.0)]))
        self.declaration = self.delivery.logistics_declaration_ids
        self.declaration.action_submit()  # queued for the broker
        self.assertEqual(self.declaration.state, "submitted")

    def release(self, declaration):
        declaration._logistics_apply_status(
            {"reference": declaration.name, "status": "released"}, None
        )
        self.assertEqual(declaration.state, "released")

    def test_a_stock_user_cannot_write_the_override(self):
        as_clerk = self.declaration.with_user(self.clerk)
        for vals in (
            {"override_reason": "Urgent, the truck is waiting"},
            {"override_user_id": self.clerk.id},
            {"override_reason": "Urgent", "override_user_id": self.customs_manager.id},
        ):
            with self.assertRaises(AccessError, msg=vals) as caught:
                as_clerk.write(vals)
            self.assertIn(f"{self.declaration.name} cannot be edited", str(caught.exception))
            self.assertIn("Ask a customs manager", str(caught.exception))
        self.assertFalse(self.declaration.override_reason)
        self.assert_held(self.delivery)

    def test_a_stock_user_cannot_write_the_state(self):
        as_clerk = self.declaration.with_user(self.clerk)
        for state in ("released", "cancelled", "draft", "accepted"):
            with self.assertRaises(AccessError, msg=state) as caught:
                as_clerk.write({"state": state})
            self.assertIn("Status", str(caught.exception))
        # nor through the logistics manager's rights, nor along with other fields
        with self.assertRaises(AccessError):
            self.declaration.with_user(self.logistics_manager).write(
                {"state": "released", "incoterm_place": "Newark"}
            )
        self.assertEqual(self.declaration.state, "submitted")
        self.assert_held(self.delivery)
        self.assert_held(self.delivery, user=self.logistics_manager)

    def test_a_stock_user_cannot_write_the_mrn_nor_the_broker_nor_the_goods(self):
        as_clerk = self.declaration.with_user(self.clerk)
        with self.assertRaises(AccessError) as caught:
            as_clerk.write({"broker_reference": "26DE7K3Q9M2XW81B4C"})
        self.assertIn("MRN / entry number", str(caught.exception))
        other_broker = self._make_backend(name="Other broker", code="other-broker", kind="customs")
        with self.assertRaises(AccessError) as caught:
            as_clerk.write({"backend_id": other_broker.id})
        self.assertIn("its broker no longer changes", str(caught.exception))
        line = self.declaration.line_ids.with_user(self.clerk)
        with self.assertRaises(AccessError) as caught:
            line.write({"value": 1.0})
        self.assertIn("are as they were sent to the customs broker", str(caught.exception))
        with self.assertRaises(AccessError):
            line.unlink()
        with self.assertRaises(AccessError):
            as_clerk.write({"line_ids": [(0, 0, {"hs_code": "851610", "quantity": 1.0})]})
        self.assertFalse(self.declaration.broker_reference)
        self.assertEqual(self.declaration.backend_id, self.broker)
        self.assertEqual(self.declaration.line_ids.value, 80.0)
        self.assert_held(self.delivery)

    def test_a_stock_user_cannot_cancel_a_sent_declaration(self):
        as_clerk = self.declaration.with_user(self.clerk)
        with self.assertRaises(UserError) as caught:
            as_clerk.action_cancel()
        self.assertIn(
            f"{self.declaration.name} was sent to Hanse Customs: only a customs manager "
            "cancels it, with a reason",
            str(caught.exception),
        )
        with self.assertRaises(AccessError):
            as_clerk._logistics_cancel_at_broker("Customer cancelled")
        with self.assertRaises(AccessError):
            self.env["logistics.customs.cancel"].with_user(self.clerk).create(
                {"declaration_id": self.declaration.id, "reason": "Customer cancelled"}
            )
        # a Logistics manager is no customs manager either
        with self.assertRaises(UserError):
            self.declaration.with_user(self.logistics_manager).action_cancel()
        with self.assertRaises(AccessError):
            self.declaration.with_user(self.logistics_manager)._logistics_cancel_at_broker(
                "Customer cancelled"
            )
        self.assertEqual(self.declaration.state, "submitted")
        self.assertFalse(
            self.env["logistics.message"].search([("message_type", "=", "customs.cancel")])
        )
        self.assert_held(self.delivery)

    def test_a_stock_user_cannot_override(self):
        with self.assertRaises(AccessError):
            self.declaration.with_user(self.clerk)._logistics_override("Urgent")
        with self.assertRaises(AccessError):
            self.env["logistics.customs.override"].with_user(self.clerk).create(
                {"declaration_id": self.declaration.id, "reason": "Urgent"}
            )
        self.assert_held(self.delivery)

    def test_a_stock_user_cannot_create_a_declaration_already_cleared(self):
        Declaration = self.env["logistics.customs.declaration"].with_user(self.clerk)
        base = {
            "picking_id": self.delivery.id,
            "direction": "export",
            "currency_id": self.company.currency_id.id,
        }
        for vals in (
            {"state": "released"},
            {"override_reason": "Cleared by phone"},
            {"broker_reference": "26DE7K3Q9M2XW81B4C"},
            {"name": self.declaration.name},
        ):
            with self.assertRaises(AccessError, msg=vals) as caught:
                Declaration.create({**base, **vals})
            self.assertIn("is created as a draft of its transfer", str(caught.exception))
        # a copy of a released declaration is no way round either
        self.release(self.declaration)
        with self.assertRaises(AccessError):
            self.declaration.with_user(self.clerk).copy()
        # a plain draft may be created: it holds the goods too
        draft = Declaration.create(base)
        self.assertEqual(draft.state, "draft")
        self.assertNotEqual(draft.name, "/")
        self.assert_held(
            self.delivery,
            words=f"customs declaration {draft.name} is not sent to the customs broker yet",
        )

    def test_a_released_declaration_is_read_only_and_kept(self):
        self.release(self.declaration)
        as_clerk = self.declaration.with_user(self.clerk)
        with self.assertRaises(AccessError) as caught:
            as_clerk.write({"incoterm_place": "Newark", "gross_weight": 1.0})
        self.assertIn(f"{self.declaration.name} is released", str(caught.exception))
        with self.assertRaises(AccessError):
            self.declaration.line_ids.with_user(self.clerk).write({"quantity": 200})
        for user in (self.clerk, self.customs_manager):  # no delete right
            with self.assertRaises(AccessError, msg=user.name):
                self.declaration.with_user(user).unlink()
        with self.assertRaises(UserError) as caught:  # a Logistics manager has the right
            self.declaration.with_user(self.logistics_manager).unlink()
        self.assertIn(
            f"{self.declaration.name} cannot be deleted: customs released it",
            str(caught.exception),
        )
        with self.assertRaises(UserError):
            self.declaration.sudo().unlink()
        # its responsible may change, and it stays what customs released
        as_clerk.write({"user_id": self.clerk.id})
        self.assertEqual(self.declaration.incoterm_place, "Philadelphia")
        self.assertEqual(self.declaration.line_ids.quantity, 2)
        self.assertTrue(self.declaration.exists())

    def test_a_sent_declaration_is_not_deleted_but_cancelled(self):
        with self.assertRaises(UserError) as caught:
            self.declaration.with_user(self.logistics_manager).unlink()
        self.assertIn("Cancel it instead", str(caught.exception))
        self.assert_held(self.delivery)

    def test_a_stock_user_cancels_a_draft_and_the_goods_stay_held(self):
        delivery = self.delivery_of(self.sale(self.us_customer, [(self.kettle, 1, 40.0)]))
        draft = delivery.logistics_declaration_ids.with_user(self.clerk)
        self.assertEqual(draft.state, "draft")
        draft.action_cancel()
        self.assertEqual(draft.state, "cancelled")
        self.assertEqual(draft.cancel_user_id, self.clerk)
        self.assertIn("never sent", draft.message_ids[0].body)
        self.assertEqual(delivery.logistics_declaration_id, draft)
        self.assert_held(delivery, words=f"{draft.name} was cancelled. Declare it again")
        # declared again: the new draft holds them until customs release it
        action = draft.action_declare_again()
        new = self.env["logistics.customs.declaration"].browse(action["res_id"])
        self.assertNotEqual(new, draft)
        self.assertEqual((new.state, new.picking_id), ("draft", delivery))
        self.assertEqual(delivery.logistics_declaration_id, new)
        self.assert_held(delivery, words=f"{new.name} is not sent to the customs broker yet")
        new.action_submit()
        self.release(new)
        self.assertIs(self.validate(delivery.with_user(self.clerk)), True)


@tagged("post_install", "-at_install")
class TestCustomsCancellation(CustomsFixture, CustomsUsers, LogisticsHttpCase):
    """Cancellations through the real webhook route and the broker simulator."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.setup_rest_broker()
        cls.setup_users()

    def setUp(self):
        super().setUp()
        self.sim.reset()
        self.sim.webhook_url = self.base_url() + "/logistics/webhook/hanse-customs"

    def submitted(self):
        delivery = self.delivery_of(self.sale(self.us_customer, [(self.kettle, 2, 40.0)]))
        declaration = delivery.logistics_declaration_ids
        declaration.action_submit()
        run_jobs(self.env)
        self.assertEqual(len(self.sim.declarations[declaration.name]), 1)
        return delivery, declaration

    def post(self, action, *args, **kwargs):
        response = getattr(self.sim, action)(*args, **kwargs)
        self.assertIn(response.status, (200, 202), response.text)
        run_jobs(self.env)
        return response

    def status_messages(self, declaration):
        return self.env["logistics.message"].search(
            [
                ("message_type", "=", "customs.status"),
                ("res_model", "=", declaration._name),
                ("res_id", "=", declaration.id),
            ],
            order="id",
        )

    def cancel(self, declaration, reason, user=None):
        wizard = (
            self.env["logistics.customs.cancel"]
            .with_user(user or self.customs_manager)
            .create({"declaration_id": declaration.id, "reason": reason})
        )
        return wizard.action_confirm()

    def test_a_broker_cancellation_keeps_the_delivery_held(self):
        delivery, declaration = self.submitted()
        self.post("accept", declaration.name)
        self.post("cancel", declaration.name, reason="Invalidated: goods not presented")
        self.assertEqual(declaration.state, "cancelled")
        self.assert_held(delivery, words=f"{declaration.name} was cancelled")
        self.assert_held(delivery, user=self.logistics_manager, words="was cancelled")
        self.assertEqual(declaration.cancel_reason, "Invalidated: goods not presented")
        accepted, cancelled = self.status_messages(declaration)
        self.assertEqual(accepted.state, "processed")
        self.assertEqual(cancelled.state, "failed", "someone must declare it again")
        self.assertIn(
            f"reported {declaration.name} ({delivery.name}) cancelled", cancelled.error_message
        )
        [activity] = declaration.activity_ids
        self.assertEqual(activity.summary, "Customs: Cancelled")
        self.assertEqual(delivery.logistics_customs_state, "cancelled")

        # declared again and released: the goods move
        action = declaration.with_user(self.clerk).action_declare_again()
        new = self.env["logistics.customs.declaration"].browse(action["res_id"])
        new.with_user(self.clerk).action_submit()
        run_jobs(self.env)
        self.post("accept", new.name)
        self.assert_held(delivery)
        self.post("release", new.name)
        self.assertEqual((declaration.state, new.state), ("cancelled", "released"))
        self.assertIs(self.validate(delivery.with_user(self.clerk)), True)

    def test_another_broker_cannot_release_a_declaration(self):
        delivery, declaration = self.submitted()
        self._make_backend(name="Other broker", code="other-customs", kind="customs")
        self.sim.webhook_url = self.base_url() + "/logistics/webhook/other-customs"
        self.post("release", declaration.name)
        self.assertEqual(declaration.state, "submitted")
        [status] = self.env["logistics.message"].search([("message_type", "=", "customs.status")])
        self.assertEqual(status.state, "failed")
        self.assertIn("which Odoo does not know", status.error_message)
        self.assert_held(delivery)

    def test_a_customs_manager_cancels_with_a_reason_and_the_broker_is_told(self):
        delivery, declaration = self.submitted()
        self.post("accept", declaration.name, mrn="26DE7K3Q9M2XW81B4C")
        with self.assertRaises(UserError) as caught:
            self.cancel(declaration, "   ")
        self.assertIn(f"Give the reason for cancelling {declaration.name}", str(caught.exception))
        with self.assertRaises(AccessError):
            self.cancel(declaration, "Customer cancelled", user=self.clerk)
        self.assertEqual(declaration.state, "accepted")

        self.cancel(declaration, "Customer cancelled the order before shipping")
        self.assertEqual(declaration.state, "cancelled")
        self.assertEqual(declaration.cancel_user_id, self.customs_manager)
        self.assertEqual(declaration.cancel_reason, "Customer cancelled the order before shipping")
        [sent] = self.env["logistics.message"].search(
            [("message_type", "=", "customs.cancel"), ("res_id", "=", declaration.id)]
        )
        self.assertIn(f"Hanse Customs is told ({sent.name})", delivery.message_ids[0].body)
        run_jobs(self.env)
        self.assertEqual(sent.state, "sent", sent.error_message)
        self.assertEqual(
            self.sim.cancellations[declaration.name],
            [
                {
                    "reference": declaration.name,
                    "version": 1,
                    "direction": "export",
                    "broker_reference": "26DE7K3Q9M2XW81B4C",
                    "reason": "Customer cancelled the order before shipping",
                }
            ],
        )
        self.assertEqual(self.sim.files[declaration.name]["status"], "cancelled")
        self.assert_held(delivery, words=f"{declaration.name} was cancelled")
        with self.assertRaises(UserError):  # once
            self.cancel(declaration, "again")

        # the broker confirms: history only, nothing for the exception queue
        self.post("cancel", declaration.name)
        confirmation = self.status_messages(declaration)[-1]
        self.assertEqual(confirmation.state, "processed")
        self.assertFalse(declaration.event_ids.sorted("id")[-1].applied)
        self.assert_held(delivery, words="was cancelled")

        # a customs manager lets the goods move
        self.env["logistics.customs.override"].with_user(self.customs_manager).create(
            {"declaration_id": declaration.id, "reason": "Shipped under the carrier's own entry"}
        ).action_confirm()
        self.assertIs(self.validate(delivery.with_user(self.clerk)), True)

    def test_a_released_declaration_cannot_be_cancelled(self):
        _delivery, declaration = self.submitted()
        self.post("release", declaration.name)
        with self.assertRaises(UserError) as caught:
            self.cancel(declaration, "Too late")
        self.assertIn("is released: it can no longer be cancelled", str(caught.exception))
        self.assertFalse(self.sim.cancellations)
