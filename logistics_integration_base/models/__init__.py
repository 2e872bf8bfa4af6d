from . import (
    base,
    logistics_backend_secret,
    logistics_backend,
    logistics_message,
    logistics_message_attempt,
)
