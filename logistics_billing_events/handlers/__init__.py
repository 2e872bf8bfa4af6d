from . import billing_charge, freight_invoice
