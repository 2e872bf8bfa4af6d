from odoo import http
from odoo.http import content_disposition, request


class CarrierLabels(http.Controller):
    @http.route("/logistics/carrier/labels/<int:picking_id>", type="http", auth="user")
    def labels(self, picking_id, returns=None, **kwargs):
        """The labels of a delivery's booked parcels, as one file to print: the stored
        labels, never a new booking or attachment, so a re-print is the same print."""
        picking = request.env["stock.picking"].browse(picking_id).exists()
        if not picking:
            return request.not_found()
        picking.check_access("read")
        content, mimetype, filename = picking._logistics_label_file(returns=bool(returns))
        return request.make_response(
            content,
            headers=[
                ("Content-Type", mimetype),
                ("Content-Length", len(content)),
                ("Content-Disposition", content_disposition(filename)),
            ],
        )
