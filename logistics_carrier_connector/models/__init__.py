from . import (
    logistics_backend,
    logistics_message,
    logistics_carrier_tracking_event,
    logistics_carrier_parcel,
    delivery_carrier,
    sale_order,
    stock_picking,
    mail_activity,
)
