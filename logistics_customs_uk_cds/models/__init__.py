from . import logistics_backend, logistics_customs_declaration
