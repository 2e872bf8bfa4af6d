from . import logistics_customs_declaration, stock_picking
