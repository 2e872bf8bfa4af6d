from odoo import models

from odoo.addons.logistics_integration_base.tools.canonical import to_naive_utc

from ..formats import edifact


class LogisticsSftpFile(models.Model):
    _inherit = "logistics.sftp.file"

    def _document_vals(self, message_type, payload):
        vals = super()._document_vals(message_type, payload)
        if message_type == "customs.status":
            vals.update(
                subject=self.env._(
                    "Customs status %(status)s of declaration %(ref)s (version %(version)s)",
                    status=payload.get("status")
                    or ", ".join(edifact.describe_code(c) for c in payload.get("codes") or []),
                    ref=payload.get("reference"),
                    version=payload.get("version"),
                ),
                external_id=payload.get("broker_reference"),
                event_time=to_naive_utc(payload.get("event_time")),
            )
        return vals
