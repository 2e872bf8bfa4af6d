from . import (
    logistics_transaction,
    message_edit_payload,
    message_ignore,
    parallel_run_report,
    webhook_secret_shown,
)
