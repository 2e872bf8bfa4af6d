from . import (
    base,
    logistics_backend_secret,
    logistics_backend_dashboard,
    logistics_backend,
    logistics_backend_oauth_state,
    logistics_backend_oauth,
    logistics_backend_sftp,
    logistics_message,
    logistics_message_attempt,
    logistics_metric_counter,
    logistics_sftp_file,
    res_partner,
)
