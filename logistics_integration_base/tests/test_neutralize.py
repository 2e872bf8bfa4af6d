"""A neutralized copy of the database (``odoo-bin neutralize``, or a database duplicated or
restored with "neutralize") never talks to a real partner."""

from logistics_simulators.http_server import CuedHTTPServer

from odoo.modules.neutralize import get_installed_modules, get_neutralization_queries
from odoo.tests import tagged

from .common import LogisticsHttpCase, cloud_event, run_jobs

SUITE_MODULES = ("logistics_integration_base", "logistics_3pl_connector")


def neutralize(env):
    """Run every installed module's data/neutralize.sql, as Odoo does on a copy."""
    env.flush_all()
    modules = get_installed_modules(env.cr)
    for query in get_neutralization_queries(modules):
        env.cr.execute(query)
    env.invalidate_all()
    # a neutralized copy starts with new workers: their caches know nothing of the original
    env.registry.clear_cache()
    return modules


def suite_crons(env):
    data = env["ir.model.data"].search([("model", "=", "ir.cron"), ("module", "in", SUITE_MODULES)])
    return env["ir.cron"].with_context(active_test=False).browse(data.mapped("res_id"))


@tagged("post_install", "-at_install")
class TestNeutralize(LogisticsHttpCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.server = CuedHTTPServer().start()
        cls.addClassCleanup(cls.server.stop)
        cls.backend = cls._make_backend(code="neutral-3pl", base_url=cls.server.url("/events"))

    def setUp(self):
        super().setUp()
        self.server.reset()

    def test_neutralized_copy_archives_backends_and_stops_crons(self):
        other = self._make_backend(code="other-3pl")
        crons = suite_crons(self.env)
        self.assertTrue(crons, "the suite ships crons")
        self.assertTrue(all(crons.mapped("active")))
        modules = neutralize(self.env)
        self.assertIn("logistics_integration_base", modules)
        self.assertEqual((self.backend | other).mapped("active"), [False, False])
        self.assertFalse(self.env["logistics.backend"].search([]), "no backend is left on")
        self.assertFalse(any(crons.mapped("active")), crons.filtered("active").mapped("name"))

    def test_a_copy_keeps_no_token_of_a_users_sign_in_at_a_partner(self):
        self.backend.write({"auth_type": "oauth2_code", "oauth_connected_by_id": self.env.uid})
        self.backend._set_secret("oauth_refresh_token", "original-refresh")
        self.backend._set_secret("oauth_access_token", "original-access")
        self.backend._set_secret("auth_password", "kept")
        self.assertTrue(self.backend.oauth_connected)
        neutralize(self.env)
        kept = (
            self.env["logistics.backend.secret"]
            .sudo()
            .search([("backend_id", "=", self.backend.id)])
        )
        self.assertEqual(sorted(kept.mapped("key")), ["auth_password", "webhook_secret"])
        self.assertFalse(self.backend.oauth_connected)
        self.assertIn("Not connected", self.backend.oauth_status)

    def test_pending_outbound_job_does_not_reach_the_partner(self):
        msg = self.env["logistics.message"].browse(
            self.backend.send_message("integration.ping", {"message": "hello"})
        )
        self.assertEqual((msg.state, msg.job_id.state), ("pending", "pending"))
        neutralize(self.env)
        run_jobs(self.env)
        self.assertFalse(self.server.requests, "the partner received nothing")
        self.assertEqual((msg.state, msg.error_category), ("failed", "business"))
        self.assertIn("archived", msg.error_message)
        # an operator's retry on the copy does not send it either
        msg.action_retry()
        run_jobs(self.env)
        self.assertFalse(self.server.requests)
        self.assertEqual(msg.state, "failed")

    def test_webhook_answers_404(self):
        ping = cloud_event("integration.ping", {"message": "hello"})
        self.assertEqual(self.post_webhook(self.backend.code, ping).status_code, 202)
        neutralize(self.env)
        resp = self.post_webhook(self.backend.code, cloud_event("integration.ping", {}))
        self.assertEqual(resp.status_code, 404, resp.text)
        self.assertEqual(len(self.messages(self.backend)), 1, "nothing stored after")

    def test_queued_inbound_message_is_not_processed(self):
        # e.g. a failed inventory pull retried just before the copy: its handler would
        # call the partner again
        ping = cloud_event("integration.ping", {"message": "before the copy"})
        answer = self.post_webhook(self.backend.code, ping).json()
        msg = self.env["logistics.message"].browse(answer["message_id"])
        neutralize(self.env)
        run_jobs(self.env)
        self.assertEqual((msg.state, msg.error_category), ("failed", "business"))
        self.assertIn(f"The backend {self.backend.name} is archived", msg.error_message)
        self.assertFalse(self.server.requests)
