from . import logistics_customs_declaration
