from . import base, logistics_backend_secret, logistics_backend, logistics_message
