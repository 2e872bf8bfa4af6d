from . import (
    logistics_billing_rule,
    logistics_billing_event,
    logistics_freight_invoice,
    logistics_freight_rate,
    account_move,
    logistics_backend,
    logistics_message,
    logistics_sftp_file,
    logistics_storage_snapshot,
    product,
    res_partner,
    stock_picking,
)
