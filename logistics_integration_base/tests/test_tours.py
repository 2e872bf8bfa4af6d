"""Browser tests: Odoo's tours, in a real headless Chromium."""

from logistics_simulators.http_server import CuedHTTPServer

from odoo.tests import tagged

from .common import LogisticsHttpCase, run_jobs


@tagged("post_install", "-at_install")
class TestDashboardTour(LogisticsHttpCase):
    def test_dashboard_follows_without_a_reload(self):
        server = CuedHTTPServer().start()
        self.addCleanup(server.stop)
        backend = self._make_backend(
            name="Tour partner", code="tour-partner", base_url=server.url("/events")
        )
        server.cue((400, {}, {"errors": {"message": ["is not accepted"]}}))
        msg = self.env["logistics.message"].browse(
            backend.send_message("integration.ping", {"message": "refused"})
        )
        run_jobs(self.env)
        self.assertEqual(msg.state, "failed")
        self.start_tour(
            "/odoo/action-logistics_integration_base.action_logistics_dashboard",
            "logistics_dashboard_live",
            login="admin",
        )
        self.assertEqual(msg.state, "ignored")
        self.assertEqual(msg.ignore_reason, "handled by phone with the partner")
