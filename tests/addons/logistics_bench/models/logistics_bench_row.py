from odoo import api, fields, models
from odoo.exceptions import AccessError


class LogisticsBenchRow(models.Model):
    """One row per request of the bare insert route (the webhook intake baseline), and the
    no-op queue job (the outbound baseline)."""

    _name = "logistics.bench.row"
    _description = "Logistics benchmark row (test only)"

    name = fields.Char()

    def _check_bench_admin(self):
        if not self.env.is_admin():
            raise AccessError(self.env._("Only administrators can drive the benchmark."))

    def _noop_job(self):
        """Queue job doing nothing: what queue_job itself costs per job."""
        return "noop"

    @api.model
    def bench_enqueue_noop(self, count):
        """Queue ``count`` no-op jobs in the caller's transaction; return how many."""
        self._check_bench_admin()
        for _i in range(count):
            self.with_delay(description="bench: no-op")._noop_job()
        return count

    @api.model
    def bench_send_messages(self, backend_id, count, prefix="bench"):
        """Call ``send_message`` ``count`` times on a backend in the caller's transaction
        (one outbound ``integration.ping`` message and its send job each); return the
        message ids."""
        self._check_bench_admin()
        backend = self.env["logistics.backend"].browse(backend_id)
        return [
            backend.send_message("integration.ping", {"message": f"{prefix} {i}"})
            for i in range(count)
        ]
