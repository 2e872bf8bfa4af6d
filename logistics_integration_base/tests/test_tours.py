"""Browser tests: Odoo's tours, in a real headless Chromium."""

from unittest.mock import patch

from logistics_simulators.http_server import CuedHTTPServer

from odoo.tests import tagged

from odoo.addons.bus.websocket import WebsocketConnectionHandler

from .common import LogisticsHttpCase, run_jobs


def refused_message(case, code):
    """A message the backend "Tour partner" (``code``) refused, on a partner server that
    stops with the test."""
    server = CuedHTTPServer().start()
    case.addCleanup(server.stop)
    backend = case._make_backend(name="Tour partner", code=code, base_url=server.url("/events"))
    server.cue((400, {}, {"errors": {"message": ["is not accepted"]}}))
    msg = case.env["logistics.message"].browse(
        backend.send_message("integration.ping", {"message": "refused"})
    )
    run_jobs(case.env)
    case.assertEqual(msg.state, "failed")
    return msg


@tagged("post_install", "-at_install")
class TestDashboardTour(LogisticsHttpCase):
    def test_dashboard_follows_without_a_reload(self):
        msg = refused_message(self, "tour-partner")
        self.start_tour(
            "/odoo/action-logistics_integration_base.action_logistics_dashboard",
            "logistics_dashboard_live",
            login="admin",
        )
        self.assertEqual(msg.state, "ignored")
        self.assertEqual(msg.ignore_reason, "handled by phone with the partner")


@tagged("post_install", "-at_install")
class TestSecretRotationTour(LogisticsHttpCase):
    def test_new_secret_is_shown_once_and_the_previous_window_appears(self):
        backend = self._make_backend(name="Rotation partner", webhook_rotation_hours=24)
        old = backend._webhook_secrets()
        self.start_tour(
            f"/odoo/action-logistics_integration_base.action_logistics_backend/{backend.id}",
            "logistics_secret_rotation",
            login="admin",
        )
        secrets = backend._webhook_secrets()
        self.assertEqual(len(secrets), 2, "the new secret, and the previous one for 24 hours")
        self.assertEqual(secrets[1], old[0])
        self.assertTrue(backend.webhook_previous_valid_until)


@tagged("post_install", "-at_install")
class TestMessageFormFollowsTour(LogisticsHttpCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        # Odoo refuses websockets while a test runs, unless the test opens them (as its own
        # bus tests do): the form listens on the real websocket
        cls.startClassPatcher(
            patch.object(WebsocketConnectionHandler, "websocket_allowed", return_value=True)
        )

    def test_the_open_form_follows_its_message(self):
        msg = refused_message(self, "tour-form-partner")
        self.start_tour(
            f"/odoo/action-logistics_integration_base.action_logistics_exceptions/{msg.id}",
            "logistics_message_form_follows",
            login="admin",
        )
        self.assertEqual(msg.state, "ignored")
