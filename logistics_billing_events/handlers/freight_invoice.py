"""``freight.invoice``: a carrier's or 3PL's invoice, audited before anything is paid."""

from odoo.addons.logistics_integration_base.exceptions import BusinessError, NeedsAttention
from odoo.addons.logistics_integration_base.handlers import MessageHandler, register_handler

from ..formats.freight_invoice import FreightInvoiceError, check_invoice


@register_handler("freight.invoice")
class FreightInvoiceHandler(MessageHandler):
    schemas = ("freight.invoice.v1",)

    def process(self, data, record):
        backend = self.backend
        try:
            check_invoice(data)
        except FreightInvoiceError as exc:
            raise BusinessError(
                self.env._(
                    "Invoice %(number)s from %(backend)s cannot be audited: %(error)s. Nothing "
                    "is posted from it; ask the partner for a corrected invoice, or correct "
                    "this message and retry.",
                    number=data.get("invoice_number"),
                    backend=backend.name,
                    error=exc,
                )
            ) from None
        currency = self.env["res.currency"].search([("name", "=", data["currency"])], limit=1)
        if not currency:
            raise BusinessError(
                self.env._(
                    "Invoice %(number)s from %(backend)s is in %(currency)s, a currency that is "
                    "not active in Odoo. Activate it (Accounting › Configuration › Currencies) "
                    "and retry.",
                    number=data["invoice_number"],
                    backend=backend.name,
                    currency=data["currency"],
                )
            )
        invoice = self.env["logistics.freight.invoice"]._logistics_receive(
            backend, data, currency, message=self.message
        )
        self.link(invoice)
        if invoice.state != "billed":
            raise NeedsAttention(invoice._logistics_reason())
        if invoice.message_id != self.message:
            # the same number, amount and currency as an invoice billed already
            return self.env._(
                "Invoice %(number)s from %(backend)s was received again with the same amount "
                "(%(total).2f %(currency)s): billed already by %(bill)s, nothing more was done.",
                number=invoice.name,
                backend=backend.name,
                total=invoice.total,
                currency=invoice.currency_id.name,
                bill=invoice.move_id.display_name,
            )
        return self.env._(
            "Invoice %(number)s within tolerance: vendor bill %(bill)s",
            number=invoice.name,
            bill=invoice.move_id.display_name,
        )
