"""The ``jsonl`` transport of the example partner: one JSON object per line over TCP, one
answer line per request line. Registered by protocol key; the adapter below gets it
through ``Adapter.transport("jsonl", settings)``."""

import json
import socket
from dataclasses import dataclass
from urllib.parse import urlsplit

from odoo.addons.logistics_integration_base.exceptions import TransportError
from odoo.addons.logistics_integration_base.transport import register_transport


@dataclass
class LineSettings:
    url: str  # tcp://host:port
    timeout: float = 10.0


@register_transport("jsonl")
class JsonLineClient:
    def __init__(self, settings):
        self.settings = settings
        parts = urlsplit(settings.url)
        self.address = (parts.hostname, parts.port)

    def exchange(self, request):
        """Send one JSON object, return the partner's answer (a JSON object)."""
        where = f"{self.address[0]}:{self.address[1]}"
        try:
            with socket.create_connection(self.address, timeout=self.settings.timeout) as sock:
                sock.sendall(json.dumps(request).encode() + b"\n")
                answer = sock.makefile("rb").readline()
        except OSError as exc:
            raise TransportError(f"cannot reach {where}: {exc}", "technical", True) from None
        if not answer:
            raise TransportError(f"{where} closed the line without an answer", "technical", True)
        return json.loads(answer)
