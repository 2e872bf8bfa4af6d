from odoo.tools.translate import LazyTranslate

from odoo.addons.logistics_integration_base.handlers import register_message_types

from . import billing_charge, freight_invoice

_lt = LazyTranslate(__name__)

register_message_types(
    {
        "billing.charge": _lt("Extra charge reported"),
        "freight.invoice": _lt("Freight invoice"),
        "freight.dispute": _lt("Freight invoice dispute"),
        "invoice.posted": _lt("Invoice posted"),
        "invoice.reset": _lt("Invoice reset to draft"),
        "invoice.cancelled": _lt("Invoice cancelled"),
        "invoice.reversed": _lt("Invoice reversed"),
    }
)
