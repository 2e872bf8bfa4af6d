"""OAuth 2.0 authorisation code (RFC 6749 4.1): a person signs in at the partner once.

A manager presses *Connect* on the backend: the browser goes to the partner's authorisation
page with a ``state`` bound to the backend and the user (unguessable, single use, expiring
after ten minutes, kept as a hash). The partner sends the browser back to
``/logistics/oauth/callback`` with a ``code``; the route exchanges it for an access token and a
refresh token, kept encrypted as the backend's secrets. The HTTP transport uses the access
token and asks the backend for a fresh one when it has expired or the partner answers ``401``:
the refresh, and the refresh token the partner rotates with it, are committed in a
transaction of their own (a single-use refresh token must not be lost with the rollback of the
job that needed it). A refresh the partner refuses (revoked, or older than the partner keeps
them) deletes the tokens and fails the call saying who must connect again.
"""

import hashlib
import secrets as pysecrets
from datetime import timedelta
from urllib.parse import urlencode

from odoo import api, fields, models
from odoo.exceptions import AccessError, UserError
from odoo.tools.misc import format_date, format_datetime

from ..exceptions import TransportError
from ..tools import own_transaction
from ..transport.http import AuthConfig, HttpSettings, oauth2_grant

OAUTH_CALLBACK = "/logistics/oauth/callback"
STATE_LIFETIME = timedelta(minutes=10)
ACCESS_TOKEN = "oauth_access_token"
REFRESH_TOKEN = "oauth_refresh_token"
MANAGER = "logistics_integration_base.group_logistics_manager"


def _state_hash(state):
    return hashlib.sha256((state or "").encode()).hexdigest()


class LogisticsBackend(models.Model):
    _inherit = "logistics.backend"  # pylint: disable=consider-merging-classes-inherited

    auth_type = fields.Selection(
        selection_add=[
            ("oauth2_code", "OAuth2 authorisation code (a user signs in at the partner)")
        ],
        ondelete={"oauth2_code": "set default"},
    )
    oauth_client_auth = fields.Selection(
        [
            ("header", "In the Authorization header (HTTP Basic)"),
            ("body", "In the request body"),
        ],
        string="Client credentials sent",
        default="header",
        required=True,
        help="How the client id and secret reach the partner's token endpoint. HMRC documents "
        "them in the request body.",
    )
    oauth_authorize_url = fields.Char(
        string="OAuth2 authorisation URL",
        help="The partner's page where the user signs in and consents, e.g. "
        "https://api.service.hmrc.gov.uk/oauth/authorize",
    )
    oauth_redirect_uri = fields.Char(
        compute="_compute_oauth_redirect_uri",
        string="Redirect URI",
        help="Register this address with the partner as your application's redirect URI.",
    )
    oauth_connected_by_id = fields.Many2one(
        "res.users", string="Connected by", readonly=True, copy=False
    )
    oauth_connected_at = fields.Datetime(string="Connected on", readonly=True, copy=False)
    oauth_token_valid_until = fields.Datetime(
        compute="_compute_oauth_status", string="Access token valid until"
    )
    oauth_connected = fields.Boolean(compute="_compute_oauth_status", string="Connected")
    oauth_status = fields.Char(compute="_compute_oauth_status", string="Connection")

    def _compute_oauth_redirect_uri(self):
        for backend in self:
            backend.oauth_redirect_uri = backend.get_base_url() + OAUTH_CALLBACK

    def _compute_oauth_status(self):
        connected, valid_until = set(), {}
        for rec in self._secret_records():
            if rec.key == REFRESH_TOKEN:
                connected.add(rec.backend_id.id)
            elif rec.key == ACCESS_TOKEN:
                valid_until[rec.backend_id.id] = rec.valid_until
        for backend in self:
            backend.oauth_connected = backend.id in connected
            backend.oauth_token_valid_until = valid_until.get(backend.id, False)
            if backend.auth_type != "oauth2_code":
                backend.oauth_status = False
            elif backend.oauth_connected:
                backend.oauth_status = self.env._(
                    "Connected by %(user)s on %(date)s (token valid until %(until)s)",
                    user=backend.oauth_connected_by_id.name,
                    date=format_date(self.env, backend.oauth_connected_at),
                    until=format_datetime(self.env, backend.oauth_token_valid_until),
                )
            elif backend.oauth_connected_by_id:
                backend.oauth_status = self.env._(
                    "Not connected: the partner no longer accepts the connection made by "
                    "%(user)s on %(date)s. Press Connect and sign in again.",
                    user=backend.oauth_connected_by_id.name,
                    date=format_date(self.env, backend.oauth_connected_at),
                )
            else:
                backend.oauth_status = self.env._("Not connected")

    # connecting ---------------------------------------------------------------------------
    def action_oauth_connect(self):
        """Send the manager's browser to the partner's authorisation page."""
        self.ensure_one()
        self.check_access("write")  # a manager of the backend's company
        if not self.env.user.has_group(MANAGER):
            raise AccessError(self.env._("Only a logistics manager connects a backend."))
        missing = [
            self._fields[name].string
            for name in ("oauth_authorize_url", "oauth_token_url", "oauth_client_id")
            if not self[name]
        ]
        if self.auth_type != "oauth2_code" or missing:
            raise UserError(
                self.env._(
                    "Backend %(backend)s cannot connect: choose the authentication "
                    "'OAuth2 authorisation code' and fill in %(missing)s.",
                    backend=self.name,
                    missing=", ".join(missing) or self.env._("its OAuth2 settings"),
                )
            )
        state = pysecrets.token_urlsafe(32)
        States = self.env["logistics.backend.oauth.state"].sudo()
        States.search([("expires_at", "<", fields.Datetime.now())]).unlink()
        States.create(
            {
                "backend_id": self.id,
                "user_id": self.env.uid,
                "state_hash": _state_hash(state),
                "redirect_uri": self.oauth_redirect_uri,
                "expires_at": fields.Datetime.now() + STATE_LIFETIME,
            }
        )
        params = {
            "response_type": "code",
            "client_id": self.oauth_client_id,
            "redirect_uri": self.oauth_redirect_uri,
            "state": state,
        }
        if self.oauth_scope:
            params["scope"] = self.oauth_scope
        separator = "&" if "?" in self.oauth_authorize_url else "?"
        return {
            "type": "ir.actions.act_url",
            "url": self.oauth_authorize_url + separator + urlencode(params),
            "target": "self",
        }

    @api.model
    def _oauth_callback(self, state, code=None, error=None, error_description=None):
        """The partner sent the user back (the callback route): check the state, exchange the
        code, keep the tokens. Returns the backend; raises UserError / AccessError in words
        for the person in front of the browser. The state is consumed whatever happens."""
        pending = (
            self.env["logistics.backend.oauth.state"]
            .sudo()
            .search([("state_hash", "=", _state_hash(state))], limit=1)
        )
        again = self.env._("Press Connect on the backend again.")
        if not state or not pending:
            raise UserError(
                self.env._("This sign-in is unknown or was already completed. %s", again)
            )
        backend_id, user, expires_at = pending.backend_id.id, pending.user_id, pending.expires_at
        redirect_uri = pending.redirect_uri
        pending.unlink()  # single use
        if user != self.env.user:
            raise AccessError(
                self.env._("This sign-in was started by another user: it is not yours to finish.")
            )
        if expires_at < fields.Datetime.now():
            raise UserError(self.env._("This sign-in took more than 10 minutes. %s", again))
        backend = self.browse(backend_id)
        backend.check_access("write")
        if not self.env.user.has_group(MANAGER):
            raise AccessError(self.env._("Only a logistics manager connects a backend."))
        partner = backend._oauth_partner_name()
        if error or not code:
            raise UserError(
                self.env._(
                    "%(partner)s did not grant access to backend %(backend)s: %(reason)s. "
                    "%(again)s",
                    partner=partner,
                    backend=backend.name,
                    reason=error_description or error or self.env._("no authorisation code"),
                    again=again,
                )
            )
        try:
            payload = oauth2_grant(
                backend._oauth_client(),
                backend._oauth_http_settings(),
                {"grant_type": "authorization_code", "code": code, "redirect_uri": redirect_uri},
            )
        except TransportError as exc:
            raise UserError(
                self.env._(
                    "%(partner)s refused to connect backend %(backend)s: %(reason)s. Check the "
                    "client id and secret, and that the redirect URI registered with "
                    "%(partner)s is %(uri)s. %(again)s",
                    partner=partner,
                    backend=backend.name,
                    reason=exc.reason,
                    uri=redirect_uri,
                    again=again,
                )
            ) from None
        backend.sudo()._oauth_store(payload, connected_by=self.env.user)
        backend.sudo().message_post(
            body=self.env._(
                "Connected to %(partner)s by %(user)s: access token valid until %(until)s.",
                partner=partner,
                user=self.env.user.name,
                until=format_datetime(self.env, backend.oauth_token_valid_until),
            )
        )
        return backend

    def _oauth_partner_name(self):
        adapter = self._get_adapter()
        return getattr(adapter, "partner_label", None) or self.name

    def _oauth_client(self):
        return AuthConfig(
            type=self.auth_type,
            token_url=self.oauth_token_url,
            client_id=self.oauth_client_id,
            client_secret=self._get_secret("oauth_client_secret"),
            scope=self.oauth_scope,
            client_auth=self.oauth_client_auth or "header",
        )

    def _oauth_http_settings(self):
        return HttpSettings(
            base_url=self.base_url or "", timeout=self.timeout or 30.0, verify_tls=self.verify_tls
        )

    def _oauth_store(self, payload, connected_by=None):
        """Keep the tokens of a token endpoint's answer (a rotated refresh token replaces
        the previous one)."""
        now = fields.Datetime.now()
        until = now + timedelta(seconds=int(payload.get("expires_in") or 3600))
        self._set_secret(ACCESS_TOKEN, payload["access_token"], valid_until=until)
        if payload.get("refresh_token"):
            self._set_secret(REFRESH_TOKEN, payload["refresh_token"])
        # the backend's row is written only when a user connects: a refresh, committed in a
        # transaction of its own, never conflicts with the job's that needed it
        if connected_by:
            self.write({"oauth_connected_by_id": connected_by.id, "oauth_connected_at": now})
        self.invalidate_recordset(["oauth_connected", "oauth_token_valid_until", "oauth_status"])

    # using the tokens -----------------------------------------------------------------------
    def _oauth_access_token(self):
        """The access token kept, while it has more than 30 seconds to live; else None."""
        self.ensure_one()
        rec = (
            self.env["logistics.backend.secret"]
            .sudo()
            .search([("backend_id", "=", self.id), ("key", "=", ACCESS_TOKEN)], limit=1)
        )
        if not rec or not rec.valid_until:
            return None
        if rec.valid_until <= fields.Datetime.now() + timedelta(seconds=30):
            return None
        return self._get_secret(ACCESS_TOKEN)

    def _oauth_refresher(self):
        """What the HTTP transport calls for a fresh access token."""
        backend = self

        def refresh(stale):
            return backend._oauth_refresh(stale)

        return refresh

    def _oauth_refresh(self, stale=None):
        """A fresh access token: the one kept, when another worker renewed it meanwhile
        (not ``stale``), else one the partner issues for the refresh token, committed with
        the rotated refresh token in a transaction of its own."""
        self.ensure_one()

        def renew(env):
            backend = env["logistics.backend"].sudo().browse(self.id)
            env.cr.execute(
                "SELECT id FROM logistics_backend_secret WHERE backend_id = %s AND key = %s "
                "FOR UPDATE",
                [backend.id, REFRESH_TOKEN],
            )
            if not env.cr.fetchone():
                return None, None
            env["logistics.backend.secret"].invalidate_model()
            current = backend._oauth_access_token()
            if current and current != stale:
                return current, None
            grant = {
                "grant_type": "refresh_token",
                "refresh_token": backend._get_secret(REFRESH_TOKEN),
            }
            try:
                payload = oauth2_grant(
                    backend._oauth_client(), backend._oauth_http_settings(), grant
                )
            except TransportError as exc:
                if exc.category != "auth":
                    raise
                backend._set_secret(REFRESH_TOKEN, None)
                backend._set_secret(ACCESS_TOKEN, None)
                return None, exc
            backend._oauth_store(payload)
            return payload["access_token"], None

        (token, refused), _apart = own_transaction.write_apart(self.env, self, renew)
        self.invalidate_recordset(["oauth_connected", "oauth_token_valid_until", "oauth_status"])
        if token:
            return token
        partner = self._oauth_partner_name()
        if refused is None and not self.oauth_connected_by_id:
            raise TransportError(
                self.env._(
                    "Backend %(backend)s is not connected to %(partner)s: a logistics manager "
                    "presses Connect on it and signs in at %(partner)s.",
                    backend=self.name,
                    partner=partner,
                ),
                "auth",
            )
        reason = self.env._(
            "%(partner)s no longer accepts the connection made by %(user)s on %(date)s: press "
            "Connect on the backend %(backend)s and sign in again.",
            partner=partner,
            user=self.oauth_connected_by_id.name,
            date=format_date(self.env, self.oauth_connected_at),
            backend=self.name,
        )
        if refused is not None:  # the partner's answer, below the sentence
            reason += "\n\n" + self.env._("Technical details") + ": " + refused.reason
        # no status nor body: the sentence is the reason, not the partner's error parsed
        raise TransportError(reason, "auth")
