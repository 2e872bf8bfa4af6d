"""The OpenTelemetry export's switch and its fallbacks (the export itself is tested against
a real OTLP receiver in logistics_3pl_connector/tests/test_otel.py)."""

import sys
from unittest.mock import patch

from odoo.tests import tagged
from odoo.tools import config

from ..tools import otel
from .common import LogisticsTransactionCase, run_jobs

SDK = "odoo.addons.logistics_integration_base.tools.otel_sdk"


@tagged("post_install", "-at_install")
class TestOtelSettings(LogisticsTransactionCase):
    def setUp(self):
        super().setUp()
        self.addCleanup(self.configure)

    def configure(self, **options):
        for name in (otel.OPTION_ENDPOINT, otel.OPTION_TIMEOUT, otel.OPTION_SERVICE):
            config.options.pop(name, None)
        config.options.update({f"logistics_otlp_{k}": v for k, v in options.items()})

    def test_off_unless_the_configuration_file_says_where(self):
        self.assertIsNone(otel.settings())
        self.configure(endpoint="   ")
        self.assertIsNone(otel.settings())
        self.configure(endpoint="http://127.0.0.1:4318")
        self.assertEqual(
            otel.settings(), ("http://127.0.0.1:4318/v1/traces", 2.0, "odoo-logistics")
        )
        self.configure(
            endpoint="https://otel.example.com/v1/traces", timeout="0.5", service_name="erp"
        )
        self.assertEqual(otel.settings(), ("https://otel.example.com/v1/traces", 0.5, "erp"))
        self.configure(endpoint="http://collector:4318/", timeout="soon")
        self.assertEqual(otel.settings()[:2], ("http://collector:4318/v1/traces", 2.0))
        # a system parameter does not switch it on: it is the server's setting
        self.configure()
        self.env["ir.config_parameter"].sudo().set_param(
            otel.OPTION_ENDPOINT, "http://127.0.0.1:4318"
        )
        self.assertIsNone(otel.settings())

    def test_off_nothing_is_queued_at_commit(self):
        backend = self._make_backend()
        backend.send_message("integration.ping", {"message": "off"})
        run_jobs(self.env)
        self.assertFalse(self.ours())
        self.configure(endpoint="http://127.0.0.1:9/nothing-listens")  # the control
        backend.send_message("integration.ping", {"message": "on"})
        run_jobs(self.env)
        self.assertTrue(self.ours())
        self.env.cr.postcommit.clear()

    def ours(self):
        """What the export handed to the commit of this transaction."""
        return [f for f in self.env.cr.postcommit._funcs if f.__module__ == otel.__name__]

    def test_trace_ids_come_from_the_correlation_id(self):
        first = otel.trace_ids("order-42")
        self.assertEqual(otel.trace_ids("order-42"), first, "the same in every worker")
        self.assertNotEqual(otel.trace_ids("order-43"), first)
        trace_id, span_id = first
        self.assertTrue(0 < trace_id < 2**128 and 0 < span_id < 2**64)

    def test_without_the_packages_it_says_so_once_and_sends_go_on(self):
        # as when opentelemetry-sdk is not installed: importing the SDK side fails
        self.configure(endpoint="http://127.0.0.1:9/nothing-listens")
        otel._missing_reported.clear()
        with patch.dict(sys.modules, {SDK: None}), self.assertLogs(otel.__name__) as logs:
            otel._current["settings"] = None  # as a fresh worker
            self.assertIsNone(otel.exporter())
            otel._current["settings"] = None
            self.assertIsNone(otel.exporter())
            backend = self._make_backend(base_url="http://127.0.0.1:9/none")
            message = self.env["logistics.message"].browse(
                backend.send_message("integration.ping", {"message": "no sdk"})
            )
            run_jobs(self.env)
            self.env.cr.postcommit.run()
        self.assertTrue(message.attempt_ids, "attempted (and failed: nothing listens)")
        self.assertEqual(len(logs.records), 1, [r.getMessage() for r in logs.records])
        self.assertIn("OpenTelemetry is not installed", logs.records[0].getMessage())
        self.assertIn("requirements.txt", logs.records[0].getMessage())
        otel._current["settings"] = None
