"""HMRC's Customs Declaration Service, over its ``customs-declarations`` API.

================================ ================================================================
Message                          Request
================================ ================================================================
``customs.declaration`` v1, or   ``POST <base URL>/`` (``/customs/declarations/`` at HMRC): the
a version after a rejection      declaration, WCO DMS XML (``FunctionCode`` 9)
``customs.declaration`` v2+ of   ``POST <base URL>/amend``: a ``COR`` additional message naming
a declaration with an MRN        the MRN
``customs.cancel``               ``POST <base URL>/cancellation-requests``: an ``INV``
                                 additional message naming the MRN
================================ ================================================================

Every request carries ``Accept: application/vnd.hmrc.1.0+xml``, ``Content-Type:
application/xml; charset=UTF-8``, the backend's OAuth 2.0 bearer token (``Authorization``,
by the integration base's HTTP transport: the authorisation code grant HMRC documents for
this user-restricted API, a trader's user having signed in with the backend's Connect) and,
when set on the backend, ``X-Badge-Identifier`` and ``X-Submitter-Identifier``. HMRC answers
``202`` with the ``X-Conversation-ID`` of the submission: the message's partner reference,
repeated by every notification about it.

Notifications (DMSxxx) are pushed to ``/logistics/webhook/<backend code>`` as XML, with the
``Authorization`` token registered with HMRC (the ``hmrc_cds`` webhook scheme) and
``X-Conversation-ID``; each becomes a ``customs.status`` (``formats/wco_dms.py``).
"""

from lxml import etree

from odoo.tools.misc import format_datetime

from odoo.addons.logistics_integration_base.adapters import (
    PARSE_INBOUND,
    SEND,
    TEST_CONNECTION,
    Adapter,
    InboundEvent,
    OutboundResult,
    register,
)
from odoo.addons.logistics_integration_base.exceptions import TransportError
from odoo.addons.logistics_integration_base.transport.http import oauth2_token

from ..formats import wco_dms


@register("hmrc_cds")
class HmrcCdsAdapter(Adapter):
    provider = "hmrc_cds"
    partner_label = "HMRC"
    capabilities = frozenset({SEND, PARSE_INBOUND, TEST_CONNECTION})
    inbound_content_types = ("application/xml", "text/xml")

    # outbound -----------------------------------------------------------------------------
    def headers(self):
        backend = self.backend
        headers = {"Accept": wco_dms.MEDIA_TYPE, "Content-Type": wco_dms.CONTENT_TYPE}
        if backend.cds_badge_identifier:
            headers["X-Badge-Identifier"] = backend.cds_badge_identifier
        if backend.cds_submitter_identifier:
            headers["X-Submitter-Identifier"] = backend.cds_submitter_identifier
        return headers

    def settings(self):
        backend = self.backend
        return {
            "declaration_category": backend.cds_declaration_category,
            "goods_location": backend.cds_goods_location,
            "exit_office": backend.cds_exit_office,
        }

    def render(self, message):
        """``(path, body)`` of the request that sends ``message``."""
        data = message._get_payload()
        if message.message_type == "customs.cancel":
            data["broker_reference"] = data.get("broker_reference") or self._known_mrn(message)
            if not data["broker_reference"]:
                raise TransportError(
                    self.env._(
                        "HMRC has not answered declaration %(ref)s yet: a cancellation request "
                        "names the declaration by the MRN HMRC gives it. Press Retry once "
                        "HMRC's first notification about it arrived (backend %(backend)s).",
                        ref=data["reference"],
                        backend=self.backend.name,
                    ),
                    "business",
                )
            return "cancellation-requests", wco_dms.build_cancellation(
                data, self.backend.cds_submitter_identifier
            )
        if message.message_type != "customs.declaration":
            raise TransportError(
                self.env._(
                    "Messages of type %(type)s cannot be sent to HMRC's Customs Declaration "
                    "Service: backend %(backend)s sends declarations and their cancellations.",
                    type=message.message_type,
                    backend=self.backend.name,
                ),
                "business",
            )
        mrn = self._registered_mrn(message)
        if data["version"] > 1 and mrn:
            reason = self.env._("Version %s, corrected by the declarant", data["version"])
            return "amend", wco_dms.build_amendment(data, mrn, reason)
        return "", wco_dms.build_declaration(data, self.settings())

    def _registered_mrn(self, message):
        """The MRN of the declaration the message is about, once HMRC legally accepted it
        (DMSACC): a new version of it is an amendment naming that MRN. A declaration HMRC
        rejected before accepting it is declared anew."""
        declaration = self._declaration(message)
        accepted = declaration.event_ids.filtered(lambda e: e.status == "accepted" and e.applied)
        return (accepted and declaration.broker_reference) or None

    def _known_mrn(self, message):
        """The MRN HMRC gave the declaration, even in a notification that arrived after it
        was cancelled here (kept in its status history only)."""
        declaration = self._declaration(message)
        if declaration.broker_reference:
            return declaration.broker_reference
        for event in declaration.event_ids.sorted("id", reverse=True):
            mrn = event.message_id and event.message_id._get_payload().get("broker_reference")
            if mrn:
                return mrn
        return None

    def _declaration(self, message):
        if message.res_model != "logistics.customs.declaration" or not message.res_id:
            return self.env["logistics.customs.declaration"]
        return self.env[message.res_model].sudo().browse(message.res_id).exists()

    def send(self, message):
        try:
            path, body = self.render(message)
        except wco_dms.CdsFormatError as exc:
            raise TransportError(
                self.env._(
                    "%(ref)s cannot be sent to HMRC: %(error)s. Complete it, then retry.",
                    ref=message._get_payload().get("reference"),
                    error=exc,
                ),
                "validation",
            ) from None
        response = self.http().request("POST", path, data=body, headers=self.headers())
        conversation = response.headers.get("X-Conversation-ID")
        return OutboundResult(
            status=response.status_code,
            external_id=conversation,
            response={"conversation_id": conversation},
            request_body=body.decode("utf-8"),
        )

    def test_connection(self):
        """HMRC's API has nothing to read without declaring: the test asks HMRC's token
        endpoint for an access token with the backend's credentials (OAuth2); a bearer token
        is checked by HMRC with the first declaration."""
        settings = self.http_settings()
        if settings.auth.type == "oauth2_code":
            if not settings.auth.access_token:
                settings.auth.refresher(None)  # renewed now, or refused in words
            backend = self.backend
            return self.env._(
                "Connected to HMRC by %(user)s; the access token is valid until %(until)s.",
                user=backend.oauth_connected_by_id.name,
                until=format_datetime(self.env, backend.oauth_token_valid_until),
            )
        if settings.auth.type == "oauth2":
            oauth2_token(settings.auth, settings)
            return self.env._(
                "HMRC's token endpoint issued an access token to client %s.",
                settings.auth.client_id,
            )
        if settings.auth.type == "bearer" and settings.auth.token:
            return self.env._("A bearer token is set; HMRC checks it with the first declaration.")
        raise TransportError(
            self.env._(
                "%s has no credentials for HMRC: choose OAuth2 authorisation code (the client "
                "id and secret of your HMRC application, then Connect) or paste an access "
                "token as Bearer token.",
                self.backend.name,
            ),
            "auth",
        )

    def parse_error(self, status, body):
        """HMRC's ``errorResponse``: its code and message, and each error below it."""
        try:
            root = etree.fromstring(body.encode() if isinstance(body, str) else body)
        except (etree.XMLSyntaxError, ValueError):
            return super().parse_error(status, body)
        reasons = [(None, f"{root.findtext('code')}: {root.findtext('message')}")]
        for error in root.iterfind("errors/error"):
            reasons.append((error.findtext("code"), error.findtext("message") or ""))
        return reasons

    # inbound ------------------------------------------------------------------------------
    def parse_inbound(self, headers, body, event_id):
        try:
            name, data = wco_dms.parse_notification(body)
        except wco_dms.CdsFormatError as exc:
            raise ValueError(str(exc)) from None
        self.schemas.validate("customs.status", data)
        conversation = headers.get("X-Conversation-ID")
        return InboundEvent(
            event_id=event_id,
            message_type="customs.status",
            data=data,
            event_time=data.get("event_time"),
            correlation_id=conversation or None,
            external_id=conversation or None,
            subject=f"{name} {data['reference']}",
        )
