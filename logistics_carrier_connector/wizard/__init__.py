from . import choose_delivery_carrier, stock_return_picking
