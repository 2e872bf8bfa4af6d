"""A refused release as the exception queue shows it: "Release to 3PL", what failed in one
sentence, the delivery and its customer, headed as the 3PL's refusal; Release to 3PL on
the delivery says what it did."""

from odoo.tests import TransactionCase, tagged

from odoo.addons.logistics_integration_base.tests.common import run_jobs

from .common import ThreePLFixture

PHONE_REQUIRED = {
    "errors": {"ship_to.phone": ["a delivery phone number is required for this service level"]}
}


@tagged("post_install", "-at_install")
class TestRefusedReleaseReading(ThreePLFixture, TransactionCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.setup_3pl()

    def test_a_refused_release_reads_as_a_person_would_say_it(self):
        self.sim.fail_next(400, body=PHONE_REQUIRED)
        picking = self.make_delivery([(self.chair, 1)])
        release = picking.logistics_release_message_id
        run_jobs(self.env)
        self.assertEqual(release.state, "failed")
        labels = dict(release._fields["type_label"]._description_selection(self.env))
        self.assertEqual(labels[release.type_label], "Release to 3PL")
        self.assertEqual(release.error_heading, "Refused by Acme Fulfilment")
        self.assertEqual(
            release.error_summary,
            f"Acme Fulfilment refused delivery {picking.name}: a delivery phone number is "
            "required for this service level (ship_to.phone).",
        )
        self.assertEqual(release.record_name, picking.name)
        self.assertEqual(release.partner_id, self.customer)
        self.assertEqual((release.attempt_count, len(release.attempt_ids)), (1, 1))

    def test_release_to_3pl_says_what_it_did(self):
        self.sim.fail_next(400, body=PHONE_REQUIRED)
        picking = self.make_delivery([(self.chair, 1)])
        run_jobs(self.env)
        self.assertEqual(picking.logistics_state, "failed")
        feedback = picking.action_logistics_release()
        self.assertEqual(feedback["tag"], "display_notification")
        self.assertEqual(feedback["params"]["type"], "success")
        self.assertIn(picking.name, feedback["params"]["message"])
        self.assertIn("Acme Fulfilment", feedback["params"]["message"])
        self.assertEqual(feedback["params"]["next"]["tag"], "soft_reload")
        run_jobs(self.env)
        self.assertEqual(picking.logistics_state, "released")
