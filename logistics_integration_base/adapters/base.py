"""The adapter contract between the message queue and a partner's API.

An adapter is a plain class registered under a provider key (and, optionally, a protocol:
the same provider can speak REST and SFTP). It declares what it can do in
``capabilities``; callers check with :meth:`Adapter.supports` or :meth:`Adapter.require`,
never with ``hasattr``:

==================  ==========================================================================
``send``            deliver one queued outbound message (:meth:`Adapter.send`)
``call``            a synchronous request the caller waits for: a rate, a booking
                    (:meth:`Adapter.call`; the backend records it as a message)
``poll``            list inbound items the partner does not push (:meth:`Adapter.poll`)
``fetch``           pull one canonical document on demand (:meth:`Adapter.fetch`)
``parse_inbound``   map an authenticated webhook body to canonical events
``test_connection`` a one-line health check for the backend form
==================  ==========================================================================

Every adapter has :meth:`Adapter.parse_error`, turning a partner's error body into readable
reasons (the generic one reads the common JSON error shapes).

Adapters never search the ORM: the models call them with what they need (the backend's
settings, the message, the references to poll).
"""

import json
import urllib.parse
from dataclasses import dataclass, field

from ..exceptions import CapabilityMissing, TransportError
from ..tools.plugins import PluginRegistry
from ..transport import get_transport
from ..transport.http import AuthConfig, HttpSettings

SEND = "send"
CALL = "call"
POLL = "poll"
FETCH = "fetch"
PARSE_INBOUND = "parse_inbound"
TEST_CONNECTION = "test_connection"
CAPABILITIES = (SEND, CALL, POLL, FETCH, PARSE_INBOUND, TEST_CONNECTION)

#: ``(provider, protocol)`` -> adapter class; protocol ``None`` serves any protocol
ADAPTERS = PluginRegistry("adapter")


def register(provider, protocol=None):
    """Class decorator registering an adapter under a provider key, for every protocol or
    only for ``protocol``. ``provider=None`` with a protocol serves every provider over
    that protocol (e.g. files over SFTP, whoever the partner is)."""

    def decorator(cls):
        unknown = set(cls.capabilities) - set(CAPABILITIES)
        if unknown:
            raise ValueError(f"{cls.__name__} declares unknown capabilities {sorted(unknown)}")
        if provider:
            cls.provider = provider
        return ADAPTERS.add((provider, protocol), cls)

    return decorator


def get_adapter_class(provider, protocol=None, env=None):
    """The adapter for a provider over a protocol: the one registered for both, else the
    one registered for the protocol, else the provider's."""
    cls = None
    if protocol:
        cls = ADAPTERS.get((provider, protocol), env) or ADAPTERS.get((None, protocol), env)
    cls = cls or ADAPTERS.get((provider, None), env)
    if cls is None:
        raise TransportError(
            f"no adapter is installed for provider '{provider}'"
            + (f" over {protocol}" if protocol else ""),
            "technical",
        )
    return cls


@dataclass
class OutboundResult:
    status: int = None
    external_id: str = None
    acknowledged: bool = False  # the partner's answer is itself the business acknowledgement
    response: dict = field(default_factory=dict)
    request_body: str = None


@dataclass
class CallResult:
    """The answer to a synchronous :meth:`Adapter.call`."""

    data: object = None  # canonical answer (dict or list)
    status: int = None
    request_body: str = None
    response_body: str = None
    external_id: str = None
    message_id: int = None  # the logistics.message recording the call (set by backend._call)


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
    sequence: int = None


class Adapter:
    """Base adapter. ``backend`` is a ``logistics.backend`` record, read only here;
    ``schemas`` is the canonical schema registry (``tools.canonical.SchemaRegistry``)."""

    provider = None
    #: the partner's name in messages to users ("HMRC"); the backend's name when unset
    partner_label = None
    #: what this adapter can do: a subset of :data:`CAPABILITIES`
    capabilities = frozenset()
    #: content types accepted on the webhook route (the route answers 415 for others)
    inbound_content_types = ("application/json",)

    def __init__(self, backend, schemas=None):
        self.backend = backend
        if schemas is None:
            schemas = backend.env["logistics.message"]._schema_registry()
        self.schemas = schemas

    @property
    def env(self):  # for _() in messages
        return self.backend.env

    # capabilities -------------------------------------------------------------------------
    @classmethod
    def supports(cls, capability):
        return capability in cls.capabilities

    def require(self, capability):
        if not self.supports(capability):
            raise CapabilityMissing(
                f"Backend {self.backend.name} (provider {self.provider}) cannot {capability}: "
                "its adapter does not offer it. Check the backend's provider and protocol."
            )

    # transports ---------------------------------------------------------------------------
    def transport(self, protocol, settings):
        """A client of the transport registered for ``protocol`` (``rest``, ``sftp``, or
        one a module adds with ``register_transport``), built with ``settings``."""
        client_class = get_transport(protocol, self.backend.env)
        if client_class is None:
            raise CapabilityMissing(
                f"Backend {self.backend.name} needs the '{protocol}' transport, which no "
                "installed module provides. Install the module that provides it, or change "
                "the backend's protocol."
            )
        return client_class(settings)

    # outbound -----------------------------------------------------------------------------
    def http(self):
        return self.transport("rest", self.http_settings())

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
        elif auth.type in ("oauth2", "oauth2_code"):
            auth = b._oauth_client()
        if auth.type == "oauth2_code":
            auth.access_token = b._oauth_access_token()
            auth.refresher = b._oauth_refresher()
        return HttpSettings(
            base_url=b.base_url or "",
            auth=auth,
            timeout=b.timeout or 30.0,
            verify_tls=b.verify_tls,
        )

    def send(self, message):
        """Deliver an outbound ``logistics.message``; return :class:`OutboundResult` or
        raise ``TransportError`` / ``PayloadInvalid``."""
        self.require(SEND)
        raise NotImplementedError

    def preview(self, message):
        """What :meth:`send` would put on the wire for ``message``, as text, without sending
        it (a backend in parallel run records it). By default the canonical payload;
        adapters with a wire format of their own return that."""
        return json.dumps(message._get_payload(), indent=2, sort_keys=True, default=str)

    def call(self, operation, payload):
        """A synchronous request (``operation`` names it, e.g. ``rate.request``); return a
        :class:`CallResult` or raise ``TransportError``."""
        self.require(CALL)
        raise NotImplementedError

    def poll(self, **params):
        """Inbound items the partner does not push: a list of :class:`InboundEvent`."""
        self.require(POLL)
        raise NotImplementedError

    def fetch(self, what, **params):
        """One canonical document of type ``what`` (e.g. ``inventory.snapshot``), pulled on
        demand: a dict, validated by the caller."""
        self.require(FETCH)
        raise NotImplementedError

    def test_connection(self):
        """Return a one-line success summary or raise ``TransportError``."""
        self.require(TEST_CONNECTION)
        raise NotImplementedError

    # errors -------------------------------------------------------------------------------
    def parse_error(self, status, body):
        """Readable reasons from a partner's error answer: a list of ``(field path or
        None, text)``. The generic parser reads RFC 9457 problem details, field maps
        (``{"errors": {"field": ["text"]}}``), lists of errors and ``{"error"|"message"}``."""
        return parse_json_error(body)

    # inbound ------------------------------------------------------------------------------
    def parse_inbound(self, headers, body, event_id):
        """Map an authenticated webhook body (bytes) to an :class:`InboundEvent` (or a
        list of them when one webhook carries several messages).

        Raise ``ValueError`` for malformed JSON and ``PayloadInvalid`` for a body that
        breaks the canonical schema."""
        self.require(PARSE_INBOUND)
        raise NotImplementedError

    @staticmethod
    def load_json(body):
        try:
            return json.loads(body.decode("utf-8"))
        except UnicodeDecodeError as exc:
            raise ValueError(f"body is not UTF-8: {exc}") from None
        except json.JSONDecodeError as exc:
            raise ValueError(f"malformed JSON: {exc}") from None


def _text(value):
    if isinstance(value, str):
        return value.strip() or None
    if isinstance(value, list):
        texts = [t for t in (_text(v) for v in value) if t]
        return "; ".join(texts) or None
    if isinstance(value, dict):
        for key in ("detail", "message", "msg", "description", "title", "error"):
            text = _text(value.get(key))
            if text:
                return text
    return None


def field_path(value):
    """A field named by a partner, as the suite writes field paths (``ship_to.phone``,
    ``lines[0].sku``): a JSON pointer (``/ship_to/phone``), its URI fragment form
    (``#/ship_to/phone``, RFC 9457's examples) or a path already written that way.
    ``None`` for an empty or missing name (the whole document)."""
    if not isinstance(value, str) or not value.strip():
        return None
    value = value.strip()
    if value.startswith("#"):
        value = urllib.parse.unquote(value[1:])
    if not value.startswith("/"):
        return value
    path = ""
    for token in value[1:].split("/"):
        token = token.replace("~1", "/").replace("~0", "~")
        if token.isdigit() and path:
            path += f"[{token}]"
        else:
            path += f".{token}" if path else token
    return path or None


def parse_json_error(body):
    """``[(path or None, text)]`` from a JSON error body (str, bytes or parsed)."""
    if isinstance(body, bytes | bytearray):
        body = body.decode("utf-8", "replace")
    if isinstance(body, str):
        try:
            body = json.loads(body) if body.strip() else None
        except ValueError:
            return []
    if not isinstance(body, dict):
        return []
    reasons = []
    errors = body.get("errors")
    if isinstance(errors, dict):  # {"errors": {"ship_to.phone": ["is required"]}}
        for path, value in errors.items():
            text = _text(value)
            if text:
                reasons.append((str(path), text))
    elif isinstance(errors, list):  # [{"field"|"pointer"|"path": ..., "message"|"detail": ...}]
        for item in errors:
            if isinstance(item, dict):
                path = field_path(item.get("field") or item.get("path") or item.get("pointer"))
                text = _text(item)
                if text:
                    reasons.append((path, text))
            elif _text(item):
                reasons.append((None, _text(item)))
    # RFC 9457 (7807) problem details extended with "invalid-params": [{"name", "reason"}]
    invalid = body.get("invalid-params") or body.get("invalid_params")
    if isinstance(invalid, list):
        for item in invalid:
            if isinstance(item, dict):
                text = _text(item.get("reason")) or _text(item)
                if text:
                    reasons.append((field_path(item.get("name")), text))
    if not reasons:
        error = body.get("error")
        if isinstance(error, dict):
            text = _text(error)
        else:
            text = _text(error)
            description = _text(body.get("error_description"))
            if description:
                text = f"{text}: {description}" if text else description
        text = text or _text(body.get("detail")) or _text(body.get("message"))
        text = text or _text(body.get("title"))
        if text:
            reasons.append((None, text))
    return reasons
