"""Browser tests: Odoo's tours, in a real headless Chromium."""

from odoo.tests import tagged

from odoo.addons.logistics_integration_base.tests.common import LogisticsHttpCase, cloud_event

from .common import ThreePLFixture, run_jobs

PAUSED = {
    "type": "https://acme.example/problems/intake-paused",
    "title": "Order intake paused",
    "status": 409,
    "detail": "Order intake at warehouse E3PL is paused for the yearly stock count until 14:00",
}


@tagged("post_install", "-at_install")
class TestExceptionFlowTour(ThreePLFixture, LogisticsHttpCase):
    """Exceptions › the refused release › its reason › Retry › acknowledged, as an operator
    clicks it."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.setup_3pl()

    def test_operator_retries_a_refused_release_until_acknowledged(self):
        self.sim.fail_next(409, body=PAUSED)
        picking = self.make_delivery([(self.chair, 2)])
        run_jobs(self.env)
        message = picking.logistics_release_message_id
        self.assertEqual(message.state, "failed")
        self.assertEqual(picking.logistics_state, "failed")

        self.start_tour(
            "/odoo/action-logistics_integration_base.action_logistics_exceptions",
            "logistics_exception_flow",
            login="admin",
        )
        self.assertEqual(message.state, "pending", "Retry was pressed in the browser")
        run_jobs(self.env)  # the job runner sends it; the 3PL takes it this time
        self.assertEqual(message.state, "sent")
        # the 3PL's acknowledgement, a signed webhook to this server's route (posted by the
        # test client: after a browser test, the test server only serves its own requests)
        ack = {
            "order_ref": picking.name,
            "status": "accepted",
            "reason": None,
            "external_order_id": self.sim.orders[picking.name]["external_id"],
        }
        answer = self.post_webhook(
            "acme",
            cloud_event("order.ack", ack, dataschema="urn:logistics:schema:order.ack:v1"),
        )
        self.assertEqual(answer.status_code, 202, answer.text)
        run_jobs(self.env)
        self.env.invalidate_all()
        self.assertEqual(message.state, "acknowledged")
        self.assertEqual(picking.logistics_state, "accepted")

        self.start_tour(
            f"/odoo/action-logistics_integration_base.action_logistics_message/{message.id}",
            "logistics_exception_flow_acknowledged",
            login="admin",
        )
