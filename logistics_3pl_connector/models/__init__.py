from . import (
    logistics_backend,
    logistics_backend_shipbob,
    logistics_product_mapping,
    stock_warehouse,
    stock_picking_type,
    stock_picking,
    stock_move,
    logistics_shipment,
    logistics_message,
    logistics_inventory_reconciliation,
    logistics_inventory_reconciliation_line,
    logistics_sftp_file,
)
