import uuid

from odoo import http
from odoo.http import request


class LogisticsBenchController(http.Controller):
    @http.route(
        "/logistics_bench/insert",
        type="http",
        auth="public",
        methods=["POST"],
        csrf=False,
        save_session=False,
    )
    def logistics_bench_insert(self, **_kw):
        """The least an Odoo route can do that writes: read the body, insert one row,
        answer 202 with JSON (the webhook route's baseline)."""
        body = request.httprequest.get_data(cache=False)
        row = (
            request.env["logistics.bench.row"]
            .sudo()
            .create({"name": f"{uuid.uuid4().hex} {len(body)}"})
        )
        return request.make_json_response({"id": row.id}, status=202)
