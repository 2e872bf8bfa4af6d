"""Solved problems leave the queue: a release the 3PL refused is *superseded* once a later
release of the same delivery goes through (Release to 3PL). It leaves the exception queue
and the dashboard's counts by itself, keeps its reason, says by which message and when;
Retry and Edit payload on it are refused in words, and a bulk Retry skips it (and the
releases of deliveries done or cancelled meanwhile), saying which, and retries the rest."""

from odoo.exceptions import UserError
from odoo.tests import TransactionCase, tagged

from odoo.addons.logistics_integration_base.tests.common import run_jobs
from odoo.addons.logistics_integration_base.tools import operations

from .common import ThreePLFixture

REFUSAL = {"errors": {"ship_to.phone": ["a delivery phone number is required"]}}


@tagged("post_install", "-at_install")
class TestSupersededFailures(ThreePLFixture, TransactionCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.setup_3pl()

    def refused_release(self, lines=None):
        """A delivery whose release the 3PL refused (HTTP 400): the delivery and its failed
        release message."""
        self.sim.fail_next(400, body=REFUSAL)
        picking = self.make_delivery(lines or [(self.chair, 1)])
        release = picking.logistics_release_message_id
        run_jobs(self.env)
        self.assertEqual(release.state, "failed", release.error_message)
        return picking, release

    def test_same_operation_is_declared_per_message_type(self):
        self.assertEqual(
            operations.same_operation("order.update"),
            ["order.cancel", "order.release", "order.update"],
        )
        self.assertEqual(operations.same_operation("asn.release"), ["asn.release"])
        self.assertEqual(operations.same_operation("shipment.confirmed"), [])
        with self.assertRaisesRegex(ValueError, "order.release already belongs to"):
            operations.register_operation("another", "order.release")

    def test_a_release_that_goes_through_supersedes_the_refused_one(self):
        picking, refused = self.refused_release()
        reason = refused.error_message
        self.assertIn(refused, self.exception_queue())
        self.assertEqual((self.backend.count_exceptions, self.backend.count_exc_validation), (1, 1))

        picking.action_logistics_release()  # the operator fixed the phone: Release to 3PL
        release = picking.logistics_release_message_id
        self.assertNotEqual(release, refused)
        self.assertEqual(refused.state, "failed", "superseded once the new one succeeded only")
        run_jobs(self.env)

        self.assertEqual(release.state, "sent")
        self.assertEqual(refused.state, "superseded")
        self.assertEqual(refused.superseded_by_id, release)
        self.assertTrue(refused.superseded_at)
        self.assertEqual(refused.error_message, reason, "the reason is kept")
        self.assertIn(
            f"Superseded by {release.name}, which succeeded on", refused.message_ids[0].body
        )
        # it left the exception queue and the dashboard's counts by itself
        self.assertNotIn(refused, self.exception_queue())
        self.backend.invalidate_recordset(["count_exceptions", "count_exc_validation"])
        self.assertEqual((self.backend.count_exceptions, self.backend.count_exc_validation), (0, 0))
        # a failure of another delivery is untouched
        other, other_refused = self.refused_release([(self.desk, 1)])
        self.assertEqual(other_refused.state, "failed")
        self.assertEqual(refused.superseded_by_id, release)

    def test_retry_and_edit_of_a_superseded_release_are_refused_in_words(self):
        picking, refused = self.refused_release()
        picking.action_logistics_release()
        run_jobs(self.env)
        release = picking.logistics_release_message_id
        self.assertEqual(refused.state, "superseded")
        expected = (
            f"{refused.name} was superseded by {release.name}, which succeeded on "
            f".*; nothing to retry."
        )
        with self.assertRaisesRegex(UserError, expected):
            refused.action_retry()
        with self.assertRaisesRegex(UserError, expected):
            refused.action_open_edit_payload()
        with self.assertRaisesRegex(UserError, expected):
            refused._edit_payload_and_retry(refused.payload)
        with self.assertRaisesRegex(UserError, "Give a reason"):
            refused.action_ignore()
        requests = len(self.sim.requests)
        refused.action_ignore("already sent again")
        self.assertEqual(refused.state, "superseded", "nothing to ignore: it is settled")
        run_jobs(self.env)
        self.assertEqual(len(self.sim.requests), requests, "nothing sent again")

    def test_bulk_retry_skips_what_moved_on_and_says_which(self):
        superseded_picking, superseded = self.refused_release()
        superseded_picking.action_logistics_release()
        run_jobs(self.env)
        cancelled_picking, of_cancelled = self.refused_release([(self.desk, 1)])
        cancelled_picking.action_cancel()
        self.assertEqual(cancelled_picking.state, "cancel")
        waiting_picking, waiting = self.refused_release([(self.chair, 2)])
        sent_before = len(self.sim.requests)

        selected = superseded | of_cancelled | waiting
        action = selected.action_retry()  # Retry selected, from the list

        self.assertEqual(action["tag"], "display_notification")
        params = action["params"]
        self.assertEqual(params["title"], "1 retried, 2 skipped")
        lines = params["message"].split("\n")
        self.assertEqual(len(lines), 2)
        self.assertIn(f"{superseded.name} was superseded by", params["message"])
        self.assertIn(
            f"{of_cancelled.name} was not retried: {cancelled_picking.name} is already "
            f"cancelled; nothing is sent to {self.backend.name} again.",
            lines,
        )
        run_jobs(self.env)
        retried = waiting_picking.logistics_release_message_id
        self.assertEqual(retried.state, "sent", retried.error_message)
        self.assertEqual(of_cancelled.state, "failed")
        self.assertEqual(superseded.state, "superseded")
        self.assertEqual(
            len(self.sim.requests) - sent_before, 1, "only the delivery waiting is sent again"
        )
        self.assertIn(waiting_picking.name, self.sim.orders)
        self.assertNotIn(cancelled_picking.name, self.sim.orders)

    def test_bulk_retry_of_only_settled_messages_says_why_nothing_was_retried(self):
        picking, refused = self.refused_release()
        picking.action_logistics_release()
        run_jobs(self.env)
        with self.assertRaisesRegex(UserError, f"{refused.name} was superseded by"):
            refused.action_retry()
