from . import (
    logistics_customs_territory,
    res_partner,
    product,
    logistics_customs_tariff,
    logistics_customs_declaration,
    logistics_customs_declaration_resend,
    logistics_customs_declaration_line,
    logistics_customs_declaration_event,
    stock_picking,
    logistics_backend,
    logistics_customs_status_map,
    logistics_sftp_file,
)
