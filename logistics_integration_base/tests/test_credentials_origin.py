"""The backend's credentials go to the backend's own origin only.

Two real HTTP servers on loopback: the partner's API, and a "bucket" on another port (a
different port is a different origin) holding files the partner's answers point to. Every
authentication type is sent to the API, and never to the bucket: not on a direct request,
not when the adapter passes a credential header itself, not on a redirect.
"""

import ast
import base64
import inspect
import sys
from urllib.parse import parse_qs

from logistics_simulators.http_server import CuedHTTPServer

from odoo.tests import tagged

from ..adapters import ADAPTERS, Adapter
from ..exceptions import TransportError
from ..transport import get_transport
from ..transport import http as transport_http
from ..transport.http import AuthConfig, HttpClient, HttpSettings, origin
from .common import LogisticsTransactionCase

API_KEY_HEADER = "X-Partner-Key"

#: libraries that open HTTP connections; an adapter goes through the transports instead
HTTP_LIBRARIES = ("requests", "urllib.request", "http.client", "httpx", "urllib3", "aiohttp")


def auth_configs(token_url):
    """Every authentication type a backend can use, with recognisable values."""
    return {
        "basic": AuthConfig(type="basic", username="odoo", password="basic-s3cret"),
        "bearer": AuthConfig(type="bearer", token="bearer-tok"),
        "api_key": AuthConfig(type="api_key", api_key_header=API_KEY_HEADER, api_key="key-9"),
        "oauth2": AuthConfig(
            type="oauth2", token_url=token_url, client_id="client-1", client_secret="cs-1"
        ),
        "oauth2_code": AuthConfig(
            type="oauth2_code",
            token_url=token_url,
            access_token="user-at",
            refresher=lambda stale: "user-at-2",
        ),
    }


def credentials_seen(request):
    """The credential headers a server received in ``request``."""
    private = {"authorization", API_KEY_HEADER.lower(), "x-api-key", "cookie"}
    return {k: v for k, v in request.headers.items() if k.lower() in private}


def http_imports(cls):
    """The HTTP libraries imported by the modules ``cls`` is built from (its own and its
    bases', up to the base adapter)."""
    found = set()
    for klass in cls.__mro__:
        if klass in (Adapter, object) or not klass.__module__.startswith("odoo.addons."):
            continue
        module = sys.modules[klass.__module__]
        tree = ast.parse(inspect.getsource(module))
        for node in ast.walk(tree):
            names = []
            if isinstance(node, ast.Import):
                names = [alias.name for alias in node.names]
            elif isinstance(node, ast.ImportFrom) and not node.level:
                names = [node.module or ""] + [
                    f"{node.module}.{alias.name}" for alias in node.names
                ]
            for name in names:
                if any(name == lib or name.startswith(lib + ".") for lib in HTTP_LIBRARIES):
                    found.add(f"{klass.__module__}: {name}")
    return found


def assert_adapters_use_the_transport(case, expected=()):
    """Every registered adapter reaches HTTP through the base's transport, which sends
    the backend's credentials to its origin only: none imports an HTTP library, none
    replaces how it gets its client. Returns the providers checked; ``expected`` must be
    among them."""
    checked = set()
    for key, cls in list(ADAPTERS._entries.items()):  # every one Python registered
        checked.add(key[0] or key[1])
        with case.subTest(adapter=cls.__name__):
            case.assertFalse(http_imports(cls), f"{cls.__name__} opens HTTP connections itself")
            case.assertIs(cls.http, Adapter.http, f"{cls.__name__} builds its own HTTP client")
            case.assertIs(cls.transport, Adapter.transport)
    case.assertTrue(set(expected) <= checked, (expected, checked))
    rest = get_transport("rest")
    case.assertTrue(issubclass(rest, HttpClient))
    case.assertIs(rest.request, HttpClient.request)
    return checked


@tagged("post_install", "-at_install")
class TestCredentialsOrigin(LogisticsTransactionCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.api = CuedHTTPServer(handler=cls._api).start()
        cls.addClassCleanup(cls.api.stop)
        cls.bucket = CuedHTTPServer().start()
        cls.addClassCleanup(cls.bucket.stop)

    @classmethod
    def _api(cls, req):
        if req.path == "/token":
            return 200, {}, {"access_token": "oauth-at", "token_type": "Bearer", "expires_in": 600}
        if req.path == "/v2/moved":
            return 302, {"Location": cls.bucket.url("/files/moved.pdf")}, b""
        return 200, {}, {"path": req.path}

    def setUp(self):
        super().setUp()
        self.api.reset()
        self.bucket.reset()
        transport_http._token_cache.clear()

    def client(self, auth):
        return HttpClient(HttpSettings(base_url=self.api.url("/v2"), auth=auth, timeout=5))

    def test_origins(self):
        self.assertEqual(origin("https://API.example.com/v2"), ("https", "api.example.com", 443))
        self.assertEqual(origin("http://h:8080/x"), ("http", "h", 8080))
        self.assertEqual(origin("http://h:80/x"), origin("http://h/y"))
        self.assertNotEqual(origin("http://h/x"), origin("https://h/x"))
        self.assertIsNone(origin("/v2/relative"))
        self.assertIsNone(origin("ftp://h/x"))
        client = self.client(AuthConfig(type="bearer", token="t"))
        self.assertTrue(client.carries_credentials(self.api.url("/labels/1.pdf")))
        self.assertFalse(client.carries_credentials(self.bucket.url("/v2")))
        self.assertFalse(
            client.carries_credentials(self.api.url("/v2").replace("127.0.0.1", "localhost"))
        )

    def test_every_auth_type_goes_to_the_api_only(self):
        expected = {
            "basic": {"Authorization": "Basic " + base64.b64encode(b"odoo:basic-s3cret").decode()},
            "bearer": {"Authorization": "Bearer bearer-tok"},
            "api_key": {API_KEY_HEADER: "key-9"},
            "oauth2": {"Authorization": "Bearer oauth-at"},
            "oauth2_code": {"Authorization": "Bearer user-at"},
        }
        for name, auth in auth_configs(self.api.url("/token")).items():
            with self.subTest(auth=name):
                self.api.reset()
                self.bucket.reset()
                client = self.client(auth)
                client.request("GET", "shipments")
                client.request("GET", self.api.url("/labels/own-origin.pdf"))
                client.request("GET", self.bucket.url("/files/label.pdf"))
                # a credential the adapter passes itself does not go elsewhere either
                client.request(
                    "GET",
                    self.bucket.url("/files/form.pdf"),
                    headers={"Authorization": "Bearer leaked", auth.api_key_header: "leaked"},
                )
                api_calls = [r for r in self.api.requests if r.path != "/token"]
                self.assertEqual(len(api_calls), 2)
                for req in api_calls:
                    self.assertEqual(credentials_seen(req), expected[name], req)
                self.assertEqual(
                    [r.path for r in self.bucket.requests],
                    ["/files/label.pdf", "/files/form.pdf"],
                )
                for req in self.bucket.requests:
                    self.assertEqual(credentials_seen(req), {}, req)

    def test_client_credentials_go_in_the_body_when_the_backend_says_so(self):
        auth = AuthConfig(
            type="oauth2",
            token_url=self.api.url("/token"),
            client_id="client-1",
            client_secret="cs 1&2",
            client_auth="body",
        )
        self.client(auth).request("GET", "shipments")
        [token] = [r for r in self.api.requests if r.path == "/token"]
        self.assertEqual(credentials_seen(token), {})
        self.assertEqual(
            parse_qs(token.body.decode()),
            {
                "grant_type": ["client_credentials"],
                "client_id": ["client-1"],
                "client_secret": ["cs 1&2"],
            },
        )

    def test_a_user_token_refused_is_renewed_once_by_the_backend(self):
        stale = []

        def refresher(token):
            stale.append(token)
            return f"user-at-{len(stale) + 1}"

        auth = AuthConfig(type="oauth2_code", access_token="user-at-1", refresher=refresher)
        self.api.cue(401, 401)
        with self.assertRaises(TransportError) as caught:
            self.client(auth).request("GET", "shipments")
        self.assertEqual(caught.exception.status, 401)  # refused again: no loop
        self.assertEqual(stale, ["user-at-1"])
        self.assertEqual(
            [credentials_seen(r) for r in self.api.requests],
            [{"Authorization": "Bearer user-at-1"}, {"Authorization": "Bearer user-at-2"}],
        )
        # no access token kept (expired): the backend is asked before the first call
        auth = AuthConfig(type="oauth2_code", refresher=refresher)
        self.api.reset()
        self.client(auth).request("GET", "shipments")
        self.assertEqual(stale, ["user-at-1", None])
        self.assertEqual(
            credentials_seen(self.api.requests[0]), {"Authorization": "Bearer user-at-3"}
        )

    def test_a_redirect_to_another_origin_is_not_followed(self):
        for name, auth in auth_configs(self.api.url("/token")).items():
            with self.subTest(auth=name):
                self.bucket.reset()
                with self.assertRaises(TransportError) as caught:
                    self.client(auth).request("GET", "moved")
                self.assertEqual(caught.exception.status, 302)
                self.assertIn(self.bucket.url("/files/moved.pdf"), str(caught.exception))
                self.assertIn("redirects are not followed", str(caught.exception))
                self.assertEqual(self.bucket.requests, [])

    def test_the_token_endpoint_redirecting_elsewhere_gets_no_secret_through(self):
        self.api.cue((307, {"Location": self.bucket.url("/token")}, b""))
        with self.assertRaises(TransportError):
            self.client(auth_configs(self.api.url("/token"))["oauth2"]).request("GET", "x")
        self.assertEqual(self.bucket.requests, [])

    def test_the_health_check_on_another_host_is_called_without_credentials(self):
        backend = self._make_backend(
            base_url=self.api.url("/v2"),
            test_url=self.bucket.url("/health"),
            auth_type="api_key",
            api_key_header=API_KEY_HEADER,
            api_key="key-9",
        )
        action = backend.action_test_connection()
        self.assertEqual(action["params"]["type"], "success", action)
        self.assertEqual([r.path for r in self.bucket.requests], ["/health"])
        self.assertEqual(credentials_seen(self.bucket.requests[0]), {})

    def test_every_adapter_goes_through_the_transport(self):
        assert_adapters_use_the_transport(self, expected={"generic"})
