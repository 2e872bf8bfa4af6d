from . import (
    logistics_backend,
    logistics_product_mapping,
    stock_warehouse,
    stock_picking,
    logistics_shipment,
    logistics_message,
    inventory_reconciliation,
    returns_receipts,
    stock_returns,
    sftp_file,
)
from . import shipbob
