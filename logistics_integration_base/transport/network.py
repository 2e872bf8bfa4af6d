"""A request that never got an answer, said in words.

``requests`` reports a partner that cannot be reached as a chain of urllib3 exceptions
(``HTTPConnectionPool(host=..., port=...): Max retries exceeded ... NewConnectionError(
'<urllib3.connection.HTTPConnection object at 0x...>: Failed to establish a new
connection: [Errno 111] Connection refused')``). An operator reads instead what happened
and what to check ("Nothing answers at 127.0.0.1:9999 — is the partner's server up, and is
the URL right?"), with the technical detail below it: which request, what failed in
technical words (connection refused, DNS failure, TLS error, connection or read timeout,
connection cut) and the innermost error the system gave.

:func:`network_error` turns the exception into a :class:`NetworkError` (a transient
``TransportError``) whose ``problem`` is one of :data:`PROBLEMS`; the models show its
sentence translated (:meth:`NetworkError.sentence`)."""

import http.client
import socket
import ssl
from urllib.parse import urlsplit

import requests
from urllib3 import exceptions as urllib3_exceptions

from odoo.tools.translate import LazyTranslate

from ..exceptions import TransportError

_lt = LazyTranslate(__name__)

#: problem -> (what the operator reads, the technical words)
PROBLEMS = {
    "refused": (
        _lt("Nothing answers at %(where)s — is the partner's server up, and is the URL right?"),
        "connection refused",
    ),
    "dns": (
        _lt("The address %(host)s is not known (DNS) — is the URL spelled right?"),
        "DNS failure",
    ),
    "tls": (
        _lt(
            "The secure connection to %(where)s could not be set up (TLS certificate or "
            "protocol) — is the URL right (https or http), and is the partner's certificate "
            "valid? Ask the partner if it persists."
        ),
        "TLS error",
    ),
    "connect_timeout": (
        _lt(
            "%(where)s did not accept a connection within %(timeout)s s — is the URL right, "
            "and does the network (a firewall) let Odoo reach it?"
        ),
        "connection timeout",
    ),
    "read_timeout": (
        _lt(
            "%(where)s did not answer within %(timeout)s s — the partner is slow or down: try "
            "again later, or raise the backend's timeout."
        ),
        "read timeout",
    ),
    "cut": (
        _lt(
            "%(where)s closed the connection without answering — try again; if it keeps "
            "happening, ask the partner."
        ),
        "connection cut",
    ),
    "other": (
        _lt("The request to %(where)s failed before any answer — check the URL, then try again."),
        "request failed",
    ),
}


class NetworkError(TransportError):
    """No answer from the partner: ``problem`` (a key of :data:`PROBLEMS`), ``host``,
    ``where`` (host:port), ``timeout`` and the technical ``detail``. Transient: worth
    retrying."""

    def __init__(self, problem, host, where, timeout, detail):
        self.problem, self.host, self.where = problem, host, where
        self.timeout, self.detail = timeout, detail
        super().__init__(f"{self.sentence()}\n\nTechnical details: {detail}", "technical", True)

    def sentence(self, lang="en_US"):
        """What the operator reads, in ``lang`` (English when not given)."""
        template = PROBLEMS[self.problem][0]._translate(lang)
        timeout = f"{self.timeout:g}" if self.timeout else "?"
        return template % {"where": self.where, "host": self.host, "timeout": timeout}


def _chain(exc):
    """``exc`` and the errors under it: urllib3's ``reason``, the argument of a
    ``ProtocolError``, Python's ``__cause__`` and a system error (``OSError``) that was being
    handled when it was raised (urllib3 1.x wraps socket errors so)."""
    seen = []
    while exc is not None and exc not in seen and len(seen) < 12:
        seen.append(exc)
        nested = getattr(exc, "reason", None)
        if not isinstance(nested, BaseException):
            nested = next((a for a in exc.args if isinstance(a, BaseException)), None)
        context = exc.__context__ if isinstance(exc.__context__, OSError) else None
        exc = nested or exc.__cause__ or context
    return seen


def _problem(chain):
    def has(*types):
        return any(isinstance(e, types) for e in chain)

    # urllib3 1.x reports a refused or unresolved connection as a NewConnectionError, a
    # kind of ConnectTimeoutError: what Python said under it decides first
    if has(socket.gaierror, *_optional("NameResolutionError")):
        return "dns"
    if has(ConnectionRefusedError):
        return "refused"
    if has(ssl.SSLError, requests.exceptions.SSLError, urllib3_exceptions.SSLError):
        return "tls"
    if has(requests.exceptions.ConnectTimeout) or any(
        isinstance(e, urllib3_exceptions.ConnectTimeoutError)
        and not isinstance(e, urllib3_exceptions.NewConnectionError)
        for e in chain
    ):
        return "connect_timeout"
    if has(requests.exceptions.Timeout, urllib3_exceptions.ReadTimeoutError, TimeoutError):
        return "read_timeout"
    if has(
        ConnectionResetError,
        ConnectionAbortedError,
        BrokenPipeError,
        urllib3_exceptions.ProtocolError,
        http.client.RemoteDisconnected,
    ):
        return "cut"
    return "other"


def _optional(*names):
    """urllib3's exception classes of these names that the installed version has."""
    return tuple(getattr(urllib3_exceptions, n) for n in names if hasattr(urllib3_exceptions, n))


def _innermost_text(chain):
    """The last error of the chain that says something, without urllib3's object reprs."""
    for err in reversed(chain):
        text = str(err).strip()
        if text and "object at 0x" not in text:
            return text
    text = str(chain[-1])
    return text.split(">: ", 1)[-1]


def network_error(exc, url, what=None, timeout=None):
    """The :class:`NetworkError` for ``exc`` (raised by ``requests`` sending to ``url``);
    ``what`` names the request in the technical detail (default: the URL)."""
    parts = urlsplit(url or "")
    host = parts.hostname or url or "?"
    try:
        port = parts.port or {"https": 443, "http": 80}.get(parts.scheme)
    except ValueError:
        port = None
    where = f"{host}:{port}" if port else host
    chain = _chain(exc)
    problem = _problem(chain)
    detail = f"{what or url}: {PROBLEMS[problem][1]} ({_innermost_text(chain)})"
    return NetworkError(problem, host, where, timeout, detail)
