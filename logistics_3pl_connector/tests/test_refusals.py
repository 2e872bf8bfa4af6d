"""A 3PL refusing a release: the operator reads who refused what, why (with the field),
and what to do; the delivery says it was not released and can be released again."""

from odoo.tests import TransactionCase, tagged

from odoo.addons.logistics_integration_base.tests.common import run_jobs

from .common import ThreePLFixture


@tagged("post_install", "-at_install")
class TestReleaseRefusals(ThreePLFixture, TransactionCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.setup_3pl()

    def test_field_errors_read_in_business_words_and_the_delivery_is_released_again(self):
        self.sim.fail_next(
            400,
            body={
                "errors": {
                    "ship_to.phone": ["a delivery phone number is required for this service level"]
                }
            },
        )
        picking = self.make_delivery([(self.chair, 1)])
        release = picking.logistics_release_message_id
        run_jobs(self.env)
        self.assertEqual((release.state, release.error_category), ("failed", "validation"))
        reason, technical = release.error_message.split("\n\n")
        self.assertEqual(
            reason,
            f"Acme Fulfilment refused delivery {picking.name}: a delivery phone number is "
            f"required for this service level (ship_to.phone). Correct the contact and address "
            f"of {picking.name}, then press Retry: the release is rebuilt from the delivery as "
            "it is now and sent again.",
        )
        # the HTTP status, URL and raw answer stay below, for whoever needs them
        self.assertTrue(technical.startswith("Technical details: HTTP 400"), technical)
        self.assertIn(self.sim.url("/events"), technical)
        self.assertIn('"ship_to.phone"', technical)
        # the delivery does not claim to be released
        self.assertEqual(picking.logistics_state, "failed")
        self.assertEqual(picking.logistics_reject_reason, reason)
        picking.action_logistics_release()
        again = picking.logistics_release_message_id
        self.assertNotEqual(again, release)
        self.assertNotEqual(again.idempotency_key, release.idempotency_key)
        run_jobs(self.env)
        self.assertEqual(again.state, "sent")
        self.assertEqual(
            (picking.logistics_state, picking.logistics_reject_reason), ("released", False)
        )

    def test_problem_details_name_the_products(self):
        self.sim.fail_next(
            422,
            body={
                "type": "https://3pl.example/problems/invalid-order",
                "title": "Invalid order",
                "status": 422,
                "errors": [
                    {"pointer": "/lines/0/sku", "detail": "SKU CHAIR-1 is not stocked here"}
                ],
            },
        )
        picking = self.make_delivery([(self.chair, 2)])
        release = picking.logistics_release_message_id
        run_jobs(self.env)
        reason = release.error_message.split("\n\n")[0]
        self.assertIn(
            f"refused delivery {picking.name}: SKU CHAIR-1 is not stocked here (lines[0].sku). "
            f"Correct the products of {picking.name}",
            reason,
        )

    def test_refusal_without_readable_body_keeps_the_partner_answer(self):
        self.sim.fail_next(400, body=b"<html>Bad Request</html>")
        picking = self.make_delivery([(self.desk, 1)])
        release = picking.logistics_release_message_id
        run_jobs(self.env)
        self.assertEqual(release.state, "failed")
        self.assertIn("HTTP 400", release.error_message)
        self.assertIn("<html>Bad Request</html>", release.error_message)
        self.assertEqual(picking.logistics_state, "failed")

    def test_ignored_release_says_not_released_and_why(self):
        self.sim.fail_next(400, body={"errors": {"ship_to.phone": ["a phone is required"]}})
        picking = self.make_delivery([(self.chair, 1)])
        release = picking.logistics_release_message_id
        run_jobs(self.env)
        self.assertEqual(picking.logistics_status, "Release failed")
        release.action_ignore("the customer collects it at the counter")
        self.assertEqual(picking.logistics_state, "none")
        self.assertEqual(
            picking.logistics_status,
            "Not released (ignored: the customer collects it at the counter)",
        )

    def test_deliveries_no_3pl_runs_show_no_3pl_status(self):
        own = self.env["stock.warehouse"].create({"name": "Own warehouse", "code": "OWN"})
        picking = self.make_delivery([(self.chair, 1)], warehouse=own, confirm=False)
        self.assertFalse(picking.logistics_backend_id)
        self.assertFalse(picking.logistics_status)
        released = self.make_delivery([(self.chair, 1)])
        self.assertEqual(released.logistics_status, "Released")
