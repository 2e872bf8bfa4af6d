from . import logistics_transaction, message_edit_payload, message_ignore, webhook_secret_shown
