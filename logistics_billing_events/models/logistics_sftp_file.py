from odoo import models


class LogisticsSftpFile(models.Model):
    _inherit = "logistics.sftp.file"

    def _document_vals(self, message_type, payload):
        vals = super()._document_vals(message_type, payload)
        if message_type == "freight.invoice":
            vals.update(
                subject=self.env._(
                    "Freight invoice %(number)s (%(total)s %(currency)s)",
                    number=payload.get("invoice_number"),
                    total=payload.get("total"),
                    currency=payload.get("currency"),
                ),
                external_id=payload.get("invoice_number"),
            )
        return vals
