from . import logistics_freight_invoice
