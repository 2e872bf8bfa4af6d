"""``GET /logistics/metrics``: the suite's Prometheus metrics (text exposition format),
for a scraper holding the bearer token (see ``tools/metrics.py``)."""

from odoo import http
from odoo.http import request

from ..tools import metrics


class LogisticsMetricsController(http.Controller):
    @http.route(
        "/logistics/metrics",
        type="http",
        auth="public",
        methods=["GET"],
        csrf=False,
        save_session=False,
    )
    def logistics_metrics(self, **_kw):
        header = request.httprequest.headers.get("Authorization", "")
        scheme, _sep, token = header.partition(" ")
        env = request.env(su=True)
        if scheme.lower() != "bearer" or not metrics.token_ok(env, token.strip()):
            return request.make_response(
                "a valid bearer token is required\n",
                headers=[
                    ("Content-Type", "text/plain; charset=utf-8"),
                    ("WWW-Authenticate", 'Bearer realm="logistics-metrics"'),
                ],
                status=401,
            )
        return request.make_response(
            metrics.exposition(env),
            headers=[("Content-Type", "text/plain; version=0.0.4; charset=utf-8")],
        )
