"""HMRC's Customs Declaration Service, stood in for on loopback: what its ``customs-declarations``
API checks (as published in ``tests/conformance/hmrc_cds/application.yaml`` and HMRC's
``customs-declarations`` service), and its notifications pushed to a client's callback.

    sim = HmrcCdsSimulator(client_id="cid", client_secret="csecret").start()
    sim.url("/customs/declarations/")        # the backend's base URL
    sim.url("/oauth/token")                  # its OAuth2 token URL
    sim.submissions                          # every request accepted: path, headers, XML
    sim.refused                              # every request refused: status, reason
    sim.push(callback_url, token, xml, conversation_id)   # a notification, as HMRC pushes it

The API, like HMRC's:

* ``GET /oauth/authorize`` (``response_type=code``, ``client_id``, ``scope``, ``state``,
  ``redirect_uri``): stands for HMRC's sign-in and consent pages, as a user who signs in and
  grants the scope: ``303`` to ``redirect_uri`` with ``code`` (single use, 10 minutes) and
  ``state``. HMRC's errors: an unknown client or scope, or a redirect URI the application
  did not register (``redirect_uris``), answer ``400`` with no redirect.
* ``POST /oauth/token``, the client's id and secret in the form body, as HMRC documents them
  ("in the request body, not as request headers"; a request with Basic credentials is
  refused ``400 invalid_request``): ``grant_type=client_credentials``;
  ``authorization_code`` (the code and the same ``redirect_uri``); ``refresh_token``
  (single use: the answer carries a new one). Access tokens last ``access_lifetime``
  seconds (HMRC: 4 hours); a refused grant is ``400 invalid_grant``.
* ``POST /customs/declarations/`` (declarations), ``.../amend`` (``COR``),
  ``.../cancellation-requests`` (``INV``): ``Accept`` must be
  ``application/vnd.hmrc.1.0+xml`` (else 406), ``Content-Type`` ``application/xml;
  charset=UTF-8`` (else 415), ``Authorization: Bearer <token issued here>`` (else 401),
  ``X-Badge-Identifier`` 6 to 12 capitals or digits when given (else 400); the body must be
  valid against HMRC's XSDs -- ``DocumentMetaData_2_DMS.xsd`` + ``WCO_DEC_2_DMS.xsd``, or
  ``CANCEL_METADATA.xsd`` + ``CANCEL.xsd`` for cancellations -- else ``400`` with HMRC's
  ``errorResponse`` (``BAD_REQUEST``, one ``xml_validation_error`` per problem). Accepted:
  ``202``, empty body, ``X-Conversation-ID`` (a UUID).

``auto=True`` (the demo): each declaration accepted is answered, ``delay`` seconds apart, with
HMRC's published sample notifications DMSRCV, DMSACC and DMSCLE (a cancellation request with
DMSINV), their LRN and MRN set to the declaration's, pushed to ``callback_url`` with
``callback_token``.

A notification is pushed as HMRC's ``customs-notification`` service pushes it:
``Content-Type: application/xml; charset=UTF-8``, ``Accept: application/xml``,
``Authorization`` = the security token the client registered (the header's whole value), and
``X-Conversation-ID`` of the submission it answers.
"""

import logging
import random
import secrets
import string
import threading
import time
import uuid
from urllib.parse import parse_qs, urlencode
from xml.sax.saxutils import escape

import requests
from lxml import etree

from .http_server import CuedHTTPServer

_logger = logging.getLogger("logistics_simulators.hmrc_cds")
MEDIA_TYPE = "application/vnd.hmrc.1.0+xml"
#: HMRC's sample notifications the auto mode answers with, in order
AUTO_ANSWERS = {
    "submit": ("02_DMSRCV.xml", "01_DMSACC.xml", "09_DMSCLE.xml"),
    "cancel": ("10_DMSINV.xml",),
}
PREFIX = "/customs/declarations"
PATHS = {f"{PREFIX}/": "submit", f"{PREFIX}/amend": "submit"}
PATHS[f"{PREFIX}/cancellation-requests"] = "cancel"


#: what HMRC's service validates each request against (its application.conf: xsd.locations)
XSD_SETS = {
    "submit": ("DocumentMetaData_2_DMS.xsd", "WCO_DEC_2_DMS.xsd"),
    "cancel": ("CANCEL_METADATA.xsd", "CANCEL.xsd"),
}


def load_schema(kind):
    """One XML schema of HMRC's XSD files (kept in tests/conformance/hmrc_cds), importing
    each of them in its own namespace."""
    from conformance import material  # tests/ is on the path of whoever runs the simulator

    imports = []
    for name in XSD_SETS[kind]:
        path = material("hmrc_cds", "schemas", "wco", "declaration", name)
        target = etree.parse(str(path)).getroot().get("targetNamespace")
        imports.append(f'<xs:import namespace="{target}" schemaLocation="{path.as_uri()}"/>')
    return etree.XMLSchema(
        etree.fromstring(
            '<xs:schema xmlns:xs="http://www.w3.org/2001/XMLSchema">'
            + "".join(imports)
            + "</xs:schema>"
        )
    )


def schema_problems(schema, body):
    """``line N: message`` for each way ``body`` breaks ``schema``."""
    parser = etree.XMLParser(resolve_entities=False, no_network=True)
    document = etree.fromstring(body, parser).getroottree()
    if schema.validate(document):
        return []
    return [f"line {e.line}: {e.message}" for e in schema.error_log]


def error_response(code, message, errors=()):
    """HMRC's error body (``errorResponse``, as in its API definition's examples)."""
    items = "".join(
        f"<error><code>{escape(c)}</code><message>{escape(m)}</message></error>" for c, m in errors
    )
    return (
        '<?xml version="1.0" encoding="UTF-8"?>\n<errorResponse>'
        f"<code>{escape(code)}</code><message>{escape(message)}</message>"
        + (f"<errors>{items}</errors>" if items else "")
        + "</errorResponse>"
    ).encode()


class HmrcCdsSimulator:
    def __init__(
        self,
        client_id="cds-client",
        client_secret="cds-secret",
        port=0,
        callback_url=None,
        callback_token=None,
        auto=False,
        delay=2.0,
        redirect_uris=None,
        access_lifetime=14400,
    ):
        self.client_id = client_id
        self.client_secret = client_secret
        self.callback_url = callback_url
        self.callback_token = callback_token
        self.auto = auto
        self.delay = delay
        self.tokens = {}  # access token -> expiry (time.time())
        self.codes = {}  # authorisation code -> (redirect_uri, expiry)
        self.refresh_tokens = set()
        self.redirect_uris = redirect_uris  # None: any
        self.access_lifetime = access_lifetime
        self.token_requests = []  # grant types asked for, in order
        self.submissions = []
        self.refused = []
        self.lock = threading.Lock()
        self.schemas = {kind: load_schema(kind) for kind in XSD_SETS}
        self.server = CuedHTTPServer(handler=self._dispatch, port=port)

    def start(self):
        self.server.start()
        return self

    def stop(self):
        self.server.stop()

    def url(self, path="/"):
        return self.server.url(path)

    def reset(self):
        with self.lock:
            self.submissions.clear()
            self.refused.clear()
            self.token_requests.clear()
        self.server.reset()

    # the API ------------------------------------------------------------------------------
    def _dispatch(self, req):
        path = req.path.split("?", 1)[0]
        if req.method == "POST" and path == "/oauth/token":
            return self._token(req)
        if req.method == "GET" and path == "/oauth/authorize":
            return self._authorize(req)
        kind = PATHS.get(path)
        if req.method != "POST" or not kind:
            return self._refuse(req, 404, "NOT_FOUND", "Resource was not found")
        headers = {k.lower(): v for k, v in req.headers.items()}
        if headers.get("accept") != MEDIA_TYPE:
            return self._refuse(req, 406, "ACCEPT_HEADER_INVALID", "The accept header is invalid")
        content_type = headers.get("content-type", "").replace(" ", "").lower()
        if content_type != "application/xml;charset=utf-8":
            return self._refuse(
                req, 415, "UNSUPPORTED_MEDIA_TYPE", "The content type header is missing or invalid"
            )
        auth = headers.get("authorization", "")
        if not auth.startswith("Bearer ") or self.tokens.get(auth[7:], 0) < time.time():
            return self._refuse(
                req, 401, "UNAUTHORIZED", "Bearer token is missing or not authorized"
            )
        badge = headers.get("x-badge-identifier")
        if badge is not None and not (
            6 <= len(badge) <= 12 and badge.isalnum() and badge.upper() == badge
        ):
            return self._refuse(
                req, 400, "BAD_REQUEST", "X-Badge-Identifier header is missing or invalid"
            )
        try:
            problems = schema_problems(self.schemas[kind], req.body)
        except etree.XMLSyntaxError as exc:
            problems = [str(exc)]
        if problems:
            body = error_response(
                "BAD_REQUEST",
                "Payload is not valid according to schema",
                [("xml_validation_error", p) for p in problems],
            )
            return self._refuse(req, 400, body=body, reason=problems)
        conversation = str(uuid.uuid4())
        with self.lock:
            self.submissions.append(
                {
                    "path": path,
                    "kind": kind,
                    "headers": headers,
                    "body": req.body,
                    "conversation_id": conversation,
                }
            )
        if self.auto:
            threading.Thread(
                target=self._answer, args=(kind, req.body, conversation), daemon=True
            ).start()
        return 202, {"X-Conversation-ID": conversation, "Content-Type": "application/xml"}, b""

    def _authorize(self, req):
        query = {k: v[0] for k, v in parse_qs(req.path.partition("?")[2]).items()}
        redirect_uri = query.get("redirect_uri", "")
        if (
            query.get("response_type") != "code"
            or query.get("client_id") != self.client_id
            or query.get("scope") != "write:customs-declaration"
            or not redirect_uri
            or (self.redirect_uris is not None and redirect_uri not in self.redirect_uris)
        ):
            return 400, {"Content-Type": "text/plain"}, b"Invalid authorisation request"
        code = secrets.token_hex(16)
        with self.lock:
            self.codes[code] = (redirect_uri, time.time() + 600)
        answer = {"code": code}
        if "state" in query:
            answer["state"] = query["state"]
        separator = "&" if "?" in redirect_uri else "?"
        return 303, {"Location": redirect_uri + separator + urlencode(answer)}, b""

    def _token(self, req):
        form = {k: v[0] for k, v in parse_qs(req.body.decode()).items()}
        auth = {k.lower(): v for k, v in req.headers.items()}.get("authorization", "")
        grant = form.get("grant_type")
        self.token_requests.append(grant)
        if auth:
            return (
                400,
                {},
                {
                    "error": "invalid_request",
                    "error_description": "client_id and client_secret go in the request body",
                },
            )
        if (form.get("client_id"), form.get("client_secret")) != (
            self.client_id,
            self.client_secret,
        ):
            return 401, {}, {"error": "invalid_client"}
        with self.lock:
            if grant == "authorization_code":
                redirect_uri, expiry = self.codes.pop(form.get("code"), (None, 0))
                if expiry < time.time() or redirect_uri != form.get("redirect_uri"):
                    return 400, {}, {"error": "invalid_grant", "error_description": "code invalid"}
            elif grant == "refresh_token":
                if form.get("refresh_token") not in self.refresh_tokens:
                    return (
                        400,
                        {},
                        {
                            "error": "invalid_grant",
                            "error_description": "refresh_token is invalid",
                        },
                    )
                self.refresh_tokens.discard(form["refresh_token"])  # single use
            elif grant != "client_credentials":
                return 400, {}, {"error": "unsupported_grant_type"}
            token = secrets.token_hex(16)
            self.tokens[token] = time.time() + self.access_lifetime
            answer = {
                "access_token": token,
                "token_type": "bearer",
                "expires_in": self.access_lifetime,
                "scope": "write:customs-declaration",
            }
            if grant != "client_credentials":
                answer["refresh_token"] = secrets.token_hex(16)
                self.refresh_tokens.add(answer["refresh_token"])
        return 200, {}, answer

    def expire_access_tokens(self):
        """Every access token issued so far has expired (HMRC answers 401 to it)."""
        with self.lock:
            self.tokens = dict.fromkeys(self.tokens, 0)

    def revoke_refresh_tokens(self):
        """The user withdrew the application's authority (or 18 months passed)."""
        with self.lock:
            self.refresh_tokens.clear()

    def _refuse(self, req, status, code=None, message=None, body=None, reason=None):
        with self.lock:
            self.refused.append(
                {"path": req.path, "status": status, "reason": reason or message or code}
            )
        return status, {"Content-Type": "application/xml"}, body or error_response(code, message)

    # notifications ------------------------------------------------------------------------
    def push(self, callback_url, token, xml, conversation_id=None, timeout=30):
        """Push one notification (bytes) to ``callback_url``, as HMRC does."""
        return requests.post(
            callback_url,
            data=xml,
            headers={
                "Content-Type": "application/xml; charset=UTF-8",
                "Accept": "application/xml",
                "Authorization": token,
                "X-Conversation-ID": conversation_id or str(uuid.uuid4()),
            },
            timeout=timeout,
        )

    # the demo's answers ---------------------------------------------------------------------
    def _answer(self, kind, body, conversation):
        root = etree.fromstring(body)
        ns = {"d": "urn:wco:datamodel:WCO:DEC-DMS:2"}
        lrn = root.findtext("d:Declaration/d:FunctionalReferenceID", namespaces=ns)
        mrn = root.findtext("d:Declaration/d:ID", namespaces=ns) or new_mrn()
        for name in AUTO_ANSWERS[kind]:
            time.sleep(self.delay)
            xml = sample_notification(name, lrn, mrn)
            try:
                answer = self.push(self.callback_url, self.callback_token, xml, conversation)
                _logger.info(
                    "HMRC CDS stand-in: %s for %s -> %s", name[3:9], lrn, answer.status_code
                )
            except requests.RequestException as exc:
                _logger.warning("HMRC CDS stand-in: %s for %s not delivered: %s", name, lrn, exc)


def new_mrn():
    """An MRN as HMRC gives them: year, GB, 14 capitals and digits (19GBCKKCQSXV2FGVA8)."""
    alphabet = string.ascii_uppercase + string.digits
    return f"{time.gmtime().tm_year % 100}GB" + "".join(random.choices(alphabet, k=14))


def sample_notification(name, lrn, mrn):
    """HMRC's published sample notification ``name`` about the declaration ``lrn`` / ``mrn``
    (only its Response/Declaration/FunctionalReferenceID and ID change)."""
    from conformance import read_bytes

    root = etree.fromstring(
        read_bytes(
            "hmrc_cds", "examples", "annotated_XML_samples", "Example_DMS_notifications", name
        )
    )
    for node in root.iter():
        parent = node.getparent()
        if not isinstance(node.tag, str) or parent is None or parent.tag != "Declaration":
            continue
        if node.tag == "FunctionalReferenceID":
            node.text = lrn
        elif node.tag == "ID":
            node.text = mrn
    return etree.tostring(root, xml_declaration=True, encoding="UTF-8")
