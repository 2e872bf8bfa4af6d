from prometheus_client.parser import text_string_to_metric_families

from odoo.addons.logistics_integration_base.tests.test_dashboard import action_records, facets
from odoo.addons.logistics_integration_base.tools import metrics

from .common import run_jobs
from .test_inventory import InventoryCase


class TestDashboardTiles(InventoryCase):
    """The 3PL tiles of the dashboard (and their gauges in the metrics endpoint): releases
    awaiting acknowledgement past SLA, reconciliations to approve, SFTP files in error;
    each opens the records behind it."""

    def opened(self, key):
        action = self.backend.with_context(logistics_tile=key).action_open_business_tile()
        return action_records(self.env, action)

    def gauges(self):
        text = metrics.exposition(self.env).decode()
        found = {}
        for family in text_string_to_metric_families(text):
            for sample in family.samples:
                if family.name == "logistics_business" and sample.labels["backend"] == "acme":
                    found[sample.labels["tile"]] = sample.value
        return found

    def test_tiles_count_and_open_their_records(self):
        late = self.make_delivery([(self.chair, 1)])
        on_time = self.make_delivery([(self.desk, 1)])
        run_jobs(self.env)  # both sent, acknowledgement expected
        late_msg = late.logistics_release_message_id
        self.assertEqual(late_msg.state, "sent")
        late_msg.sla_breached = True
        _msg, recon = self.reconcile(self.full(chair=90))
        self.assertEqual(recon.state, "waiting_approval")
        sftp_error = self.env["logistics.sftp.file"].create(
            {
                "backend_id": self.backend.id,
                "name": "945_broken.csv",
                "checksum": "0" * 64,
                "state": "error",
            }
        )

        backend = self.backend
        backend.invalidate_recordset()
        self.assertEqual(
            (
                backend.tile_awaiting_ack_late,
                backend.tile_reconciliations_to_approve,
                backend.tile_sftp_errors,
            ),
            (1, 1, 1),
        )
        self.assertEqual(self.opened("awaiting_ack_late"), late_msg)
        self.assertNotIn(on_time.logistics_release_message_id, self.opened("awaiting_ack_late"))
        self.assertEqual(self.opened("reconciliations_to_approve"), recon)
        self.assertEqual(self.opened("sftp_errors"), sftp_error)
        action = backend.with_context(logistics_tile="sftp_errors").action_open_business_tile()
        self.assertEqual(action["name"], f"SFTP files in error of {backend.name}")
        self.assertEqual(
            facets(action), {"backend_id", "error"}, "the backend and the state: removable facets"
        )
        self.assertFalse(action["domain"], "no hidden condition")
        self.assertEqual(
            self.gauges(),
            {
                "awaiting_ack_late": 1.0,
                "reconciliations_to_approve": 1.0,
                "sftp_errors": 1.0,
                "deprecated_versions": 0.0,  # the base's: no pin on a retired version
            },
        )
        recon.with_user(self.manager).action_approve_all()
        backend.invalidate_recordset()
        self.assertEqual(backend.tile_reconciliations_to_approve, 0)
