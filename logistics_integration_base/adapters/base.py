"""The adapter contract between the message queue and a partner's API."""

import json
from dataclasses import dataclass, field

from ..transport.http import AuthConfig, HttpClient, HttpSettings, TransportError

ADAPTERS = {}


def register(provider):
    """Class decorator registering an adapter under a provider key."""

    def decorator(cls):
        ADAPTERS[provider] = cls
        cls.provider = provider
        return cls

    return decorator


def get_adapter_class(provider):
    try:
        return ADAPTERS[provider]
    except KeyError:
        raise TransportError(
            f"no adapter is installed for provider '{provider}'", "technical"
        ) from None


@dataclass
class OutboundResult:
    status: int = None
    external_id: str = None
    acknowledged: bool = False  # the partner's answer is itself the business acknowledgement
    response: dict = field(default_factory=dict)
    request_body: str = None


@dataclass
class InboundEvent:
    event_id: str
    message_type: str
    data: dict
    schema_version: int = 1
    event_time: str = None
    correlation_id: str = None
    external_id: str = None
    subject: str = None
    ignored_reason: str = None  # understood, needs no processing: stored as ignored


class Adapter:
    """Base adapter. ``backend`` is a ``logistics.backend`` record (read only here)."""

    provider = None
    #: content types accepted on the webhook route (the route answers 415 for others)
    inbound_content_types = ("application/json",)

    def __init__(self, backend):
        self.backend = backend

    # outbound -----------------------------------------------------------------------------
    def http(self):
        return HttpClient(self.http_settings())

    def http_settings(self):
        b = self.backend
        auth = AuthConfig(type=b.auth_type or "none")
        if auth.type == "basic":
            auth.username = b.auth_username
            auth.password = b._get_secret("auth_password")
        elif auth.type == "bearer":
            auth.token = b._get_secret("auth_token")
        elif auth.type == "api_key":
            auth.api_key_header = b.api_key_header or "X-API-Key"
            auth.api_key = b._get_secret("api_key")
        elif auth.type == "oauth2":
            auth.token_url = b.oauth_token_url
            auth.client_id = b.oauth_client_id
            auth.client_secret = b._get_secret("oauth_client_secret")
            auth.scope = b.oauth_scope
        return HttpSettings(
            base_url=b.base_url or "",
            auth=auth,
            timeout=b.timeout or 30.0,
            verify_tls=b.verify_tls,
        )

    def send(self, message):
        """Deliver an outbound ``logistics.message``; return :class:`OutboundResult` or
        raise ``TransportError`` / ``PayloadInvalid``."""
        raise NotImplementedError

    def test_connection(self):
        """Return a one-line success summary or raise ``TransportError``."""
        raise NotImplementedError

    # inbound ------------------------------------------------------------------------------
    def parse_inbound(self, headers, body, event_id):
        """Map an authenticated webhook body (bytes) to an :class:`InboundEvent` (or a
        list of them when one webhook carries several messages).

        Raise ``ValueError`` for malformed JSON and ``PayloadInvalid`` for a body that
        breaks the canonical schema."""
        raise NotImplementedError

    @staticmethod
    def load_json(body):
        try:
            return json.loads(body.decode("utf-8"))
        except UnicodeDecodeError as exc:
            raise ValueError(f"body is not UTF-8: {exc}") from None
        except json.JSONDecodeError as exc:
            raise ValueError(f"malformed JSON: {exc}") from None
