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
