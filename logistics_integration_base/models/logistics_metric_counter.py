from odoo import api, fields, models

from ..tools import metrics


class LogisticsMetricCounter(models.Model):
    """Monotonic counters of the Prometheus endpoint that no table holds otherwise: webhook
    answers by HTTP status, attempts by outcome and error category, delivery latency buckets.
    Each worker adds to them in memory and writes its increments in one statement at most
    every few seconds as delta rows (``tools.metrics``), so no request waits on a shared
    row; a cron merges them."""

    _name = "logistics.metric.counter"
    _description = "Logistics metrics counter"
    _log_access = False

    name = fields.Char(required=True, index=True)
    backend_id = fields.Integer(required=True, default=0, help="0: not about one backend")
    labels = fields.Char(required=True, default="{}", help="Other labels, as sorted JSON")
    value = fields.Float(required=True, default=0)

    @api.model
    def _cron_compact(self):
        return metrics.compact(self.env)
