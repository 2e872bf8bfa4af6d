"""Retry rebuilds a release from the delivery as it is now and sends it as a new revision
under a new key; an unchanged release is resent under its key; a delivery that moved on is
not released again; *Edit payload and retry* is a revision too."""

import json

from odoo.exceptions import UserError
from odoo.tests import TransactionCase, tagged

from odoo.addons.logistics_integration_base.tests.common import run_jobs
from odoo.addons.logistics_integration_base.tools import personal

from .common import ThreePLFixture

PAUSED = {
    "type": "https://acme.example/problems/intake-paused",
    "title": "Order intake paused",
    "status": 409,
    "detail": "Order intake at warehouse E3PL is paused until 14:00",
}


class RefusedForPhoneFixture(ThreePLFixture):
    """A 3PL that needs a delivery phone, and a customer who has none: its releases are
    refused until the customer gets one."""

    @classmethod
    def setup_refused_for_phone(cls):
        cls.setup_3pl()
        cls.no_phone = cls.env["res.partner"].create(
            {
                "name": "Tom Nophone",
                "street": "2 Elm St",
                "city": "Springfield",
                "zip": "12345",
                "country_id": cls.env.ref("base.us").id,
                "state_id": cls.env.ref("base.state_us_5").id,
            }
        )

    def setUp(self):
        super().setUp()
        self.sim.require_phone = True
        self.addCleanup(setattr, self.sim, "require_phone", False)

    def refused(self, count=1):
        """``count`` deliveries to the customer without a phone, their releases refused."""
        pickings = self.env["stock.picking"]
        for _i in range(count):
            pickings |= self.make_delivery([(self.chair, 1)], partner=self.no_phone)
        run_jobs(self.env)
        releases = pickings.logistics_release_message_id
        self.assertEqual(set(releases.mapped("state")), {"failed"})
        self.assertEqual(set(pickings.mapped("logistics_state")), {"failed"})
        return pickings, releases


@tagged("post_install", "-at_install")
class TestRetryRevisions(RefusedForPhoneFixture, TransactionCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.setup_refused_for_phone()

    def _refused_release(self):
        return self.refused(1)

    def test_retry_after_the_customer_got_a_phone_sends_a_new_revision(self):
        picking, release = self._refused_release()
        reason = release.error_message.split("\n\n")[0]
        self.assertIn("then press Retry: the release is rebuilt from the delivery", reason)
        self.no_phone.phone = "+1 555 0199"

        feedback = release.action_retry()

        revision = picking.logistics_release_message_id
        self.assertNotEqual(revision, release)
        self.assertEqual(revision.idempotency_key, f"{release.idempotency_key}-r2")
        self.assertEqual((revision.revision, revision.replaces_id), (2, release))
        self.assertEqual(release.replaced_by_id, revision)
        self.assertEqual(release.state, "ignored", "the replaced message leaves the queue")
        self.assertIn(revision.name, release.ignore_reason)
        self.assertEqual(revision.correlation_id, release.correlation_id)
        self.assertEqual(revision._get_payload()["ship_to"]["phone"], "+1 555 0199")
        self.assertIsNone(release._get_payload()["ship_to"]["phone"], "the old one is kept")
        self.assertEqual(
            (picking.logistics_state, picking.logistics_reject_reason), ("released", False)
        )
        # the operator reads what happened and lands on the revision
        self.assertEqual(feedback["tag"], "display_notification")
        self.assertIn(revision.name, feedback["params"]["message"])
        self.assertEqual(feedback["params"]["next"]["res_id"], revision.id)
        # the chatter names the field, the phone masked as every user reads it
        note = revision.message_ids.filtered(lambda m: "ship_to.phone" in (m.body or ""))
        self.assertEqual(len(note), 1, revision.message_ids.mapped("body"))
        self.assertIn(personal.MASK, note.body)
        self.assertNotIn("555 0199", note.body)
        self.assertIn(revision.idempotency_key, note.body)
        self.assertTrue(
            release.message_ids.filtered(lambda m: "ship_to.phone" in (m.body or "")),
            "the replaced message says it too",
        )

        run_jobs(self.env)
        self.assertEqual(revision.state, "sent")
        self.assertEqual(self.sim.orders[picking.name]["status"], "received")
        self.assertEqual(picking.logistics_state, "released")

    def test_unchanged_release_is_resent_under_its_key(self):
        self.sim.require_phone = False
        self.sim.fail_next(409, body=PAUSED)
        picking = self.make_delivery([(self.chair, 2)])
        release = picking.logistics_release_message_id
        key = release.idempotency_key
        run_jobs(self.env)
        self.assertEqual(release.state, "failed")

        self.assertTrue(release.action_retry())

        self.assertEqual((release.state, release.idempotency_key), ("pending", key))
        self.assertFalse(release.replaced_by_id)
        self.assertEqual(picking.logistics_release_message_id, release)
        run_jobs(self.env)
        self.assertEqual(release.state, "sent")

    def test_rebuild_refused_for_a_delivery_cancelled_since(self):
        picking, release = self._refused_release()
        self.no_phone.phone = "+1 555 0199"
        picking.action_cancel()
        with self.assertRaises(UserError) as caught:
            release.action_retry()
        self.assertIn(picking.name, str(caught.exception))
        self.assertIn("cancel", str(caught.exception))
        self.assertEqual(release.state, "failed")
        self.assertFalse(release.replaced_by_id)

    def test_rebuild_refused_for_a_delivery_released_again_since(self):
        picking, release = self._refused_release()
        other, other_release = self._refused_release()
        self.no_phone.phone = "+1 555 0199"
        picking.action_logistics_release()  # released again from the delivery
        later = picking.logistics_release_message_id
        self.assertNotEqual(later, release)
        with self.assertRaises(UserError) as caught:
            release.action_retry()
        self.assertIn(later.name, str(caught.exception))
        # in a bulk retry, it is skipped and named; the other one goes as a revision
        feedback = (release | other_release).action_retry()
        self.assertEqual(feedback["params"]["type"], "warning")
        self.assertIn(release.name, feedback["params"]["message"])
        self.assertEqual(release.state, "failed")
        self.assertEqual(other_release.replaced_by_id, other.logistics_release_message_id)
        self.assertEqual(other.logistics_release_message_id.revision, 2)

    def test_edit_payload_and_retry_is_a_revision_with_a_new_key(self):
        picking, release = self._refused_release()
        data = release._get_payload()
        data["ship_to"]["phone"] = "+1 555 0142"
        revision = release._edit_payload_and_retry(json.dumps(data))

        self.assertEqual(revision.replaces_id, release)
        self.assertEqual(revision.idempotency_key, f"{release.idempotency_key}-r2")
        self.assertEqual(picking.logistics_release_message_id, revision)
        run_jobs(self.env)
        self.assertEqual(revision.state, "sent")
        self.assertEqual(self.sim.orders[picking.name]["status"], "received")

        # a second revision counts on from the first key
        self.assertEqual(revision.revision, 2)

    def test_key_reuse_refusal_advises_retry_which_sends_a_new_key(self):
        picking, release = self._refused_release()
        # the stored payload changed under the same key (as an edit did before revisions)
        data = release._get_payload()
        data["ship_to"]["phone"] = "+1 555 0142"
        release.sudo().payload = json.dumps(data)
        release._retry("test")
        run_jobs(self.env)
        self.assertEqual((release.state, release.http_status), ("failed", 422))
        reason = release.error_message.split("\n\n")[0]
        self.assertIn("idempotency_key_reuse", release.error_message)
        self.assertNotIn("Edit payload and retry", reason)
        self.assertIn("new key", reason)
        # Retry sends it under a new key, though the delivery builds the same payload
        self.no_phone.phone = "+1 555 0142"
        release.action_retry()
        revision = release.replaced_by_id
        self.assertEqual(revision.idempotency_key, f"{release.idempotency_key}-r2")
        run_jobs(self.env)
        self.assertEqual(revision.state, "sent")


@tagged("post_install", "-at_install")
class TestRetryOrderUpdate(RefusedForPhoneFixture, TransactionCase):
    """An order update states the whole order: Retry of a refused one rebuilds it from the
    delivery as it is now and sends it as a new revision; refused in words for a delivery
    shipped, cancelled, or sent again since."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.setup_refused_for_phone()

    def refused_update(self):
        """A delivery released to a customer with a phone, then changed to the customer who
        has none: its order update is refused by the 3PL."""
        picking = self.make_delivery([(self.chair, 1)])
        run_jobs(self.env)
        self.assertEqual(picking.logistics_release_message_id.state, "sent")
        picking.partner_id = self.no_phone
        [update] = self.updates(picking)
        run_jobs(self.env)
        self.assertEqual(update.state, "failed", update.error_message)
        self.assertEqual(update.http_status, 400)
        return picking, update

    def retry_refused(self, update):
        """Retry of ``update`` refused: the reason, the update left as it was."""
        with self.assertRaises(UserError) as caught:
            update.action_retry()
        self.assertEqual(update.state, "failed")
        self.assertFalse(update.replaced_by_id)
        return str(caught.exception)

    def updates(self, picking):
        return self.env["logistics.message"].search(
            [
                ("res_model", "=", "stock.picking"),
                ("res_id", "=", picking.id),
                ("message_type", "=", "order.update"),
            ],
            order="id",
        )

    def test_retry_after_the_customer_got_a_phone_sends_the_update_as_a_revision(self):
        picking, update = self.refused_update()
        reason = update.error_message.split("\n\n")[0]
        self.assertIn(f"the contact and address of {picking.name}", reason)
        self.assertIn("then press Retry: the update is rebuilt from the delivery", reason)
        self.no_phone.phone = "+1 555 0199"

        feedback = update.action_retry()

        revision = update.replaced_by_id
        self.assertTrue(revision, "a changed update goes as a new revision")
        self.assertEqual(revision.message_type, "order.update")
        self.assertEqual(revision.idempotency_key, f"{update.idempotency_key}-r2")
        self.assertEqual((revision.revision, revision.replaces_id), (2, update))
        self.assertEqual(update.state, "ignored", "the replaced update leaves the queue")
        self.assertIn(revision.name, update.ignore_reason)
        self.assertEqual(revision.correlation_id, update.correlation_id)
        self.assertEqual(revision._get_payload()["ship_to"]["phone"], "+1 555 0199")
        self.assertIsNone(update._get_payload()["ship_to"]["phone"], "the old one is kept")
        self.assertEqual(feedback["params"]["next"]["res_id"], revision.id)
        self.assertIn(revision.name, feedback["params"]["message"])
        for message in (update, revision):
            [note] = message.message_ids.filtered(lambda m: "ship_to.phone" in (m.body or ""))
            self.assertIn(f"Rebuilt from delivery {picking.name} as it is now", note.body)
            self.assertIn(revision.idempotency_key, note.body)
            self.assertIn(personal.MASK, note.body)
            self.assertNotIn("555 0199", note.body)
        # the release is not touched: the delivery stays released
        self.assertEqual(picking.logistics_release_message_id.state, "sent")

        run_jobs(self.env)
        self.assertEqual(revision.state, "sent")
        order = self.sim.orders[picking.name]
        self.assertEqual(order["payload"]["ship_to"]["phone"], "+1 555 0199")
        self.assertEqual(order["history"][-1][0], "updated")
        self.assertEqual(picking.logistics_state, "released")

    def test_unchanged_update_is_resent_under_its_key(self):
        picking = self.make_delivery([(self.chair, 1)])
        run_jobs(self.env)
        self.sim.fail_next(409, body=PAUSED)  # the 3PL pauses its intake for a while
        picking.note = "Leave at the back door"
        [update] = self.updates(picking)
        key = update.idempotency_key
        run_jobs(self.env)
        self.assertEqual(update.state, "failed")
        self.assertTrue(update.action_retry())
        self.assertEqual((update.state, update.idempotency_key), ("pending", key))
        self.assertFalse(update.replaced_by_id)
        run_jobs(self.env)
        self.assertEqual(update.state, "sent")
        self.assertEqual(self.sim.orders[picking.name]["history"][-1][0], "updated")

    def test_rebuild_refused_for_a_delivery_cancelled_since(self):
        picking, update = self.refused_update()
        self.no_phone.phone = "+1 555 0199"
        picking.action_cancel()
        self.assertIn(f"{picking.name} is already cancelled", self.retry_refused(update))

    def test_rebuild_refused_for_a_delivery_whose_cancellation_was_sent(self):
        picking, update = self.refused_update()
        self.no_phone.phone = "+1 555 0199"
        picking.sudo().logistics_state = "cancel_requested"  # cancelled at the 3PL's side
        self.assertIn(
            f"{picking.name} was cancelled since (Acme Fulfilment is told by its cancellation): "
            "its update for Acme Fulfilment is not sent again.",
            self.retry_refused(update),
        )

    def test_rebuild_refused_for_a_delivery_shipped_since(self):
        picking, update = self.refused_update()
        self.no_phone.phone = "+1 555 0199"
        shipped = self.sim.ship(picking.name)
        confirmation = self.process_inbound("shipment.confirmed", json.loads(shipped.body)["data"])
        self.assertEqual(confirmation.state, "processed", confirmation.error_message)
        self.assertEqual(picking.state, "done")
        self.assertIn(f"{picking.name} is already done", self.retry_refused(update))

    def test_rebuild_refused_for_a_later_update_sent_since(self):
        picking, update = self.refused_update()
        self.no_phone.phone = "+1 555 0199"
        picking.note = "Leave at the back door"  # the operator changed it: a later update
        later = self.updates(picking)[-1]
        self.assertNotEqual(later, update)
        refusal = self.retry_refused(update)
        self.assertIn(
            f"{picking.name} was sent to Acme Fulfilment again since, by {later.name}", refusal
        )
        self.assertIn("retry that one if it failed", refusal)
        # the later update goes through: the refused one is superseded, Retry says so
        run_jobs(self.env)
        self.assertEqual((later.state, update.state), ("sent", "superseded"))
        with self.assertRaisesRegex(UserError, f"{update.name} was superseded by {later.name}"):
            update.action_retry()
