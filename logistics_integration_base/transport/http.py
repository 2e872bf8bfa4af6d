"""HTTP(S) client for partner APIs: authentication, timeouts and error classification.

Every failure is raised as :class:`TransportError` carrying what the message queue needs
to decide: is it worth retrying (``transient``), after how long (``retry_after``), and in
which category it belongs (technical, business, validation, auth), with a reason an
operator can read.

Classification:
    connection refused/reset, DNS failure, timeouts, HTTP 5xx, 408, 425, 429 -> transient
    HTTP 401, 403 -> auth; 400, 422 -> validation; 409 (conflict with the state of the
    partner's record) and other 4xx -> business (not retried)

Credentials go only to the backend's own origin. The backend's authentication (Basic,
bearer token, API key header, OAuth2 access token) is sent only when the request's URL has
the origin of the backend's base URL: the same scheme, host and port, as a browser compares
origins. A partner's answer may name files on another host (EasyPost's labels and customs
forms on a storage bucket): they are fetched without the backend's credentials, and an
``Authorization`` or API key header an adapter passes itself is dropped for them too.
Redirects are never followed (``allow_redirects=False``): a ``3xx`` is an error naming
where the partner points to, so no credential can follow a redirect to another host
(``requests`` would drop ``Authorization`` on a redirect to another host, but not an API
key header). The OAuth2 token endpoint receives the client's id and secret, and nothing
else; its redirects are not followed either.

OAuth 2.0 (RFC 6749), two grants:

* client credentials (``oauth2``): the transport asks the token endpoint for an access token
  and caches it in the process until shortly before it expires;
* authorisation code (``oauth2_code``): a person signed in at the partner once (the backend's
  *Connect*); the backend keeps the access token and the refresh token and hands them to the
  transport with a ``refresher``, which the transport calls when the access token has
  expired or the partner answers ``401`` (once): the backend refreshes the token (with
  :func:`oauth2_grant`, ``grant_type=refresh_token``), stores what the partner rotated and
  returns the new access token, or raises the error saying who must connect again.

The client's id and secret go to the token endpoint as HTTP Basic (RFC 6749 2.3.1, the
default) or in the form body (``client_auth="body"``: HMRC's token endpoint documents them
there, "in the request body, not as request headers").
"""

import email.utils
import hashlib
import threading
import time
from dataclasses import dataclass, field
from urllib.parse import urlsplit

import requests

from ..exceptions import TransportError
from .network import network_error

TRANSIENT_STATUSES = {408, 425, 429, 500, 502, 503, 504}
VALIDATION_STATUSES = {400, 422}
AUTH_STATUSES = {401, 403}
DEFAULT_PORTS = {"http": 80, "https": 443}


@dataclass
class AuthConfig:
    type: str = "none"  # none, basic, bearer, api_key, oauth2, oauth2_code
    username: str = None
    password: str = None
    token: str = None
    api_key_header: str = "X-API-Key"
    api_key: str = None
    token_url: str = None
    client_id: str = None
    client_secret: str = None
    scope: str = None
    client_auth: str = "header"  # how the client's id and secret reach the token endpoint
    # oauth2_code: the access token the backend holds, and what renews it:
    # refresher(stale access token or None) -> a fresh access token (or raises TransportError)
    access_token: str = None
    refresher: object = None


@dataclass
class HttpSettings:
    base_url: str
    auth: AuthConfig = field(default_factory=AuthConfig)
    timeout: float = 30.0  # seconds, for connecting and for each read
    verify_tls: bool = True
    user_agent: str = "odoo-logistics-integration/18.0"


def parse_retry_after(value, now=None):
    """Seconds to wait from a Retry-After header (delta-seconds or HTTP-date)."""
    if not value:
        return None
    value = value.strip()
    if value.isdigit():
        return int(value)
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    return max(0, int(when.timestamp() - (now or time.time())))


def _excerpt(text, limit=300):
    text = (text or "").strip().replace("\n", " ")
    return text if len(text) <= limit else text[:limit] + "…"


def origin(url):
    """The origin ``(scheme, host, port)`` of an absolute http(s) URL, the default port
    filled in; ``None`` for anything else."""
    try:
        parts = urlsplit((url or "").strip())
        port = parts.port
    except ValueError:
        return None
    scheme = (parts.scheme or "").lower()
    host = (parts.hostname or "").lower().rstrip(".")
    if scheme not in DEFAULT_PORTS or not host:
        return None
    return scheme, host, port or DEFAULT_PORTS[scheme]


def error_from_response(response, what=None):
    """A TransportError describing a non-2xx response."""
    status = response.status_code
    what = what or f"{response.request.method} {response.url}"
    reason = f"HTTP {status} {response.reason or ''} from {what}".replace("  ", " ").strip()
    if 300 <= status < 400:
        reason += (
            f", redirecting to {response.headers.get('Location') or 'no address'}: redirects "
            "are not followed. Set the backend's base URL to the address the partner "
            "answers at"
        )
    body = _excerpt(response.text)
    if body:
        reason += f": {body}"
    if status in TRANSIENT_STATUSES:
        return TransportError(
            reason,
            "technical",
            True,
            status,
            parse_retry_after(response.headers.get("Retry-After")),
            response.text,
        )
    if status in AUTH_STATUSES:
        return TransportError(reason, "auth", False, status, body=response.text)
    if status in VALIDATION_STATUSES:
        return TransportError(reason, "validation", False, status, body=response.text)
    if status >= 500:
        return TransportError(reason, "technical", True, status, body=response.text)
    return TransportError(reason, "business", False, status, body=response.text)


_token_cache = {}  # key -> (access_token, expires_at)
_token_lock = threading.Lock()


def _token_key(auth):
    digest = hashlib.sha256((auth.client_secret or "").encode()).hexdigest()
    return (auth.token_url, auth.client_id, digest, auth.scope or "")


def forget_token(auth):
    with _token_lock:
        _token_cache.pop(_token_key(auth), None)


def oauth2_token(auth, settings, session=None):
    """A client-credentials access token, cached in this process until shortly before expiry."""
    key = _token_key(auth)
    with _token_lock:
        cached = _token_cache.get(key)
        if cached and cached[1] > time.time() + 30:
            return cached[0]
    data = {"grant_type": "client_credentials"}
    if auth.scope:
        data["scope"] = auth.scope
    payload = oauth2_grant(auth, settings, data, session)
    expires_in = int(payload.get("expires_in") or 3600)
    with _token_lock:
        _token_cache[key] = (payload["access_token"], time.time() + expires_in)
    return payload["access_token"]


def oauth2_grant(auth, settings, data, session=None):
    """POST one grant (``data``: ``grant_type`` and its parameters) to the token endpoint
    with the client's id and secret (as Basic, or in the body for ``client_auth="body"``);
    return the token endpoint's JSON answer, which has an ``access_token``.

    A refusal (400, 401, 403: ``invalid_client``, ``invalid_grant``...) is an ``auth``
    error, not retried; its ``status`` and ``body`` tell which."""
    data = dict(data)
    basic = None
    if auth.client_auth == "body":
        data["client_id"] = auth.client_id or ""
        data["client_secret"] = auth.client_secret or ""
    else:
        basic = (auth.client_id or "", auth.client_secret or "")
    what = f"the OAuth2 token endpoint {auth.token_url}"
    try:
        response = (session or requests).post(
            auth.token_url,
            data=data,
            auth=basic,
            headers={"Accept": "application/json"},
            timeout=settings.timeout,
            verify=settings.verify_tls,
            allow_redirects=False,  # the client's secret goes to this address only
        )
    except requests.RequestException as exc:
        raise network_error(exc, auth.token_url, what, settings.timeout) from exc
    if response.status_code != 200:
        err = error_from_response(response, what)
        if err.status in (400, 401, 403):  # invalid_client / invalid_grant / unauthorized_client
            err.category, err.transient = "auth", False
        raise err
    try:
        payload = response.json()
    except ValueError:
        payload = None
    if not isinstance(payload, dict) or not payload.get("access_token"):
        raise TransportError(f"{what} answered without an access_token", "auth")
    return payload


class HttpClient:
    """Thin wrapper around ``requests`` applying a backend's settings."""

    def __init__(self, settings):
        self.settings = settings
        self.session = requests.Session()

    def url(self, path=""):
        if path.startswith(("http://", "https://")):
            return path
        base = self.settings.base_url or ""
        if not path:
            return base
        return base.rstrip("/") + "/" + path.lstrip("/")

    def carries_credentials(self, url):
        """Whether a request to ``url`` carries the backend's credentials: only when ``url``
        has the origin (scheme, host, port) of the backend's base URL."""
        base = origin(self.settings.base_url)
        return base is not None and origin(url) == base

    def _auth_headers(self):
        auth = self.settings.auth
        if auth.type == "bearer":
            return {"Authorization": f"Bearer {auth.token or ''}"}
        if auth.type == "api_key":
            return {auth.api_key_header or "X-API-Key": auth.api_key or ""}
        if auth.type == "oauth2":
            return {"Authorization": f"Bearer {oauth2_token(auth, self.settings, self.session)}"}
        if auth.type == "oauth2_code":
            if not auth.access_token and auth.refresher:
                auth.access_token = auth.refresher(None)
            return {"Authorization": f"Bearer {auth.access_token or ''}"}
        return {}

    def _renew_after_401(self):
        """The partner refused the access token: forget it (client credentials) or have
        the backend refresh it (authorisation code). Whether to try again."""
        auth = self.settings.auth
        if auth.type == "oauth2":
            forget_token(auth)  # the cached token was revoked or expired early
            return True
        if auth.type == "oauth2_code" and auth.refresher:
            auth.access_token = auth.refresher(auth.access_token)
            return True
        return False

    def request(self, method, path="", json=None, data=None, headers=None, params=None):
        """Send a request; return the 2xx response or raise :class:`TransportError`.

        The backend's credentials are attached only when the URL has the base URL's
        origin; elsewhere (a label on a storage bucket) the request goes without them."""
        url = self.url(path)
        auth = self.settings.auth
        credentials = self.carries_credentials(url)
        all_headers = {"User-Agent": self.settings.user_agent, "Accept": "application/json"}
        all_headers.update(headers or {})
        if not credentials:
            # nor a credential an adapter passed itself
            private = {"authorization", (auth.api_key_header or "X-API-Key").lower()}
            all_headers = {k: v for k, v in all_headers.items() if k.lower() not in private}
        basic = None
        if credentials and auth.type == "basic":
            basic = (auth.username or "", auth.password or "")
        for attempt in (1, 2):
            if credentials:
                all_headers.update(self._auth_headers())
            try:
                response = self.session.request(
                    method,
                    url,
                    json=json,
                    data=data,
                    params=params,
                    headers=all_headers,
                    auth=basic,
                    timeout=self.settings.timeout,
                    verify=self.settings.verify_tls,
                    allow_redirects=False,  # no credential follows a redirect elsewhere
                )
            except requests.RequestException as exc:
                raise network_error(exc, url, f"{method} {url}", self.settings.timeout) from exc
            if (
                response.status_code == 401
                and credentials
                and attempt == 1
                and self._renew_after_401()
            ):
                continue
            break
        if 200 <= response.status_code < 300:
            return response
        raise error_from_response(response)
