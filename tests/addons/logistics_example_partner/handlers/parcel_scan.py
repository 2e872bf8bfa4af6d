from odoo.addons.logistics_integration_base.handlers import MessageHandler, register_handler


@register_handler("parcel.scan")
class ParcelScanHandler(MessageHandler):
    schemas = ("parcel.scan.v1",)
    out_of_order = "retry"  # a scan may arrive before the parcel is booked in Odoo

    def find_record(self, data):
        return self.env["logistics.example.parcel"].search(
            [("backend_id", "=", self.backend.id), ("name", "=", data["parcel_ref"])], limit=1
        )

    def missing_reason(self, data):
        return self.env._(
            "%(backend)s scanned parcel %(ref)s, which does not exist in Odoo. Create it, "
            "then press Retry.",
            backend=self.backend.name,
            ref=data["parcel_ref"],
        )

    def process(self, data, record):
        record.status = data["status"]
        return f"{record.name}: {data['status']}"
