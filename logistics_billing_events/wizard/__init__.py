from . import billing_event_reject, freight_invoice_dispute
