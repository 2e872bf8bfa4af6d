"""HMRC's Customs Declarations API is user-restricted (``securitySchemes.userRestricted`` of
``tests/conformance/hmrc_cds/application.yaml``: OAuth 2.0 authorisation code, scope
``write:customs-declaration``). A manager connects the backend by signing in at HMRC (the
loopback stand-in consents as the trader's user), the callback route exchanges the code, and
declarations go with the access token, refreshed with the single-use refresh token when it
expires, until HMRC refuses the refresh: then the call fails saying who must connect again.
Client id and secret reach HMRC's token endpoint in the form body, as HMRC documents them."""

from datetime import timedelta
from urllib.parse import parse_qs, urlsplit

import yaml
from conformance import material
from logistics_simulators.hmrc_cds import HmrcCdsSimulator

from odoo import fields
from odoo.exceptions import AccessError
from odoo.tests import new_test_user, tagged

from odoo.addons.logistics_customs.tests.common import CustomsFixture
from odoo.addons.logistics_integration_base.models.logistics_backend_oauth import OAUTH_CALLBACK
from odoo.addons.logistics_integration_base.tests.common import LogisticsHttpCase, run_jobs

TOKEN = "Basic Y2RzLWFwcDpub3RpZmljYXRpb24tdG9rZW4="
MANAGER = "logistics_integration_base.group_logistics_manager"


@tagged("post_install", "-at_install")
class TestHmrcCdsUserRestricted(CustomsFixture, LogisticsHttpCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.sim = HmrcCdsSimulator(client_id="cds-app", client_secret="cds-app-secret").start()
        cls.addClassCleanup(cls.sim.stop)
        cls.sim.redirect_uris = [cls.base_url() + OAUTH_CALLBACK]  # registered at HMRC
        cls.setup_customs(
            code="hmrc-cds-user",
            provider="hmrc_cds",
            base_url=cls.sim.url("/customs/declarations/"),
            auth_type="oauth2_code",
            oauth_authorize_url=cls.sim.url("/oauth/authorize"),
            oauth_token_url=cls.sim.url("/oauth/token"),
            oauth_client_id="cds-app",
            oauth_client_secret="cds-app-secret",
            oauth_client_auth="body",
            oauth_scope="write:customs-declaration",
            webhook_scheme="hmrc_cds",
            webhook_secret=TOKEN,
            cds_goods_location="DVRDOVDVR",
            cds_exit_office="GB000040",
        )
        cls.manager = new_test_user(
            cls.env, "cds_manager", groups=f"base.group_user,{MANAGER}", name="Priya Manager"
        )
        cls.other_manager = new_test_user(
            cls.env, "cds_manager2", groups=f"base.group_user,{MANAGER}", name="Tom Manager"
        )
        cls.user = new_test_user(
            cls.env,
            "cds_user",
            groups="base.group_user,logistics_integration_base.group_logistics_user",
        )
        cls.company_b = cls.env["res.company"].create({"name": "Other Co (CDS)"})
        cls.manager_b = new_test_user(
            cls.env,
            "cds_manager_b",
            groups=f"base.group_user,{MANAGER}",
            company_id=cls.company_b.id,
            company_ids=[(6, 0, cls.company_b.ids)],
        )

    def setUp(self):
        super().setUp()
        self.sim.reset()

    # helpers --------------------------------------------------------------------------------
    def sign_in_at_hmrc(self, user=None):
        """Press Connect as ``user`` and sign in at the stand-in: the callback URL it
        sends the browser back to."""
        user = user or self.manager
        self.authenticate(user.login, user.login)
        action = self.broker.with_user(user).action_oauth_connect()
        self.assertEqual(action["type"], "ir.actions.act_url")
        answer = self.url_open(action["url"], allow_redirects=False)
        self.assertEqual(answer.status_code, 303, answer.text)
        return answer.headers["Location"]

    def finish(self, callback, user=None):
        user = user or self.manager
        self.authenticate(user.login, user.login)
        return self.url_open(callback, allow_redirects=False)

    def connect(self, user=None):
        answer = self.finish(self.sign_in_at_hmrc(user), user)
        self.assertEqual(answer.status_code, 303, answer.text)
        self.assertTrue(
            answer.headers["Location"].endswith(f"/odoo/logistics.backend/{self.broker.id}")
        )
        self.broker.invalidate_recordset()
        return answer

    def submit(self):
        delivery = self.delivery_of(self.sale(self.us_customer, [(self.kettle, 2, 40.0)]))
        declaration = delivery.logistics_declaration_ids
        declaration.action_submit()
        run_jobs(self.env)
        return self.env["logistics.message"].search(
            [("direction", "=", "out"), ("res_id", "=", declaration.id)], order="id desc", limit=1
        )

    def bearer(self, submission):
        return submission["headers"]["authorization"].removeprefix("Bearer ")

    # HMRC's API definition ----------------------------------------------------------------
    def test_hmrc_declares_the_api_user_restricted_with_the_scope_the_backend_asks(self):
        with open(material("hmrc_cds", "application.yaml"), encoding="utf-8") as handle:
            spec = yaml.safe_load(handle)
        scheme = spec["components"]["securitySchemes"]["userRestricted"]
        flow = scheme["flows"]["authorizationCode"]
        self.assertEqual(scheme["type"], "oauth2")
        self.assertEqual(list(scheme["flows"]), ["authorizationCode"])
        self.assertIn(self.broker.oauth_scope, flow["scopes"])
        # every operation needs the user's token with that scope
        for path, operations in spec["paths"].items():
            for method, operation in operations.items():
                with self.subTest(operation=f"{method} {path}"):
                    self.assertEqual(
                        operation["security"], [{"userRestricted": [self.broker.oauth_scope]}]
                    )
        # the stand-in serves the paths HMRC publishes, where the backend is pointed at (the
        # definition's refreshUrl names /oauth/refresh; HMRC's authorisation guide renews at
        # the token URL with grant_type=refresh_token, which the backend and stand-in follow)
        for published, configured in (
            (flow["authorizationUrl"], self.broker.oauth_authorize_url),
            (flow["tokenUrl"], self.broker.oauth_token_url),
        ):
            self.assertEqual(urlsplit(published).path, urlsplit(configured).path)
            self.assertEqual(urlsplit(published).hostname, "api.service.hmrc.gov.uk")

    # the walk ---------------------------------------------------------------------------------
    def test_connect_declare_refresh_and_reconnect_after_hmrc_refuses(self):
        self.assertEqual(self.broker.oauth_status, "Not connected")
        callback = self.sign_in_at_hmrc()
        [authorize] = [r for r in self.sim.server.requests if r.path.startswith("/oauth/authorize")]
        query = {k: v[0] for k, v in parse_qs(urlsplit(authorize.path).query).items()}
        self.assertEqual(query["response_type"], "code")
        self.assertEqual(query["client_id"], "cds-app")
        self.assertEqual(query["scope"], "write:customs-declaration")
        self.assertEqual(query["redirect_uri"], self.base_url() + OAUTH_CALLBACK)
        self.assertGreaterEqual(len(query["state"]), 40)
        answer = self.finish(callback)
        self.assertEqual(answer.status_code, 303, answer.text)
        self.broker.invalidate_recordset()
        self.assertTrue(self.broker.oauth_connected)
        self.assertEqual(self.broker.oauth_connected_by_id, self.manager)
        self.assertRegex(
            self.broker.oauth_status, r"^Connected by Priya Manager on .+ \(token valid until .+\)$"
        )
        [token_request] = [r for r in self.sim.server.requests if r.path == "/oauth/token"]
        form = {k: v[0] for k, v in parse_qs(token_request.body.decode()).items()}
        self.assertEqual(form["grant_type"], "authorization_code")
        self.assertEqual(form["redirect_uri"], query["redirect_uri"])  # identical
        self.assertEqual(form["client_secret"], "cds-app-secret")  # in the body
        self.assertNotIn("Authorization", token_request.headers)
        chatter = self.broker.message_ids[0].body
        self.assertIn("Connected to HMRC by Priya Manager", chatter)
        for secret in [*self.sim.tokens, *self.sim.refresh_tokens]:
            self.assertNotIn(secret, chatter)

        # a declaration goes with the access token HMRC issued
        message = self.submit()
        self.assertEqual(message.state, "sent", message.error_message)
        [first] = self.sim.submissions
        self.assertIn(self.bearer(first), self.sim.tokens)

        # the access token expired (as Odoo knows): refreshed before the call
        secret = (
            self.env["logistics.backend.secret"]
            .sudo()
            .search([("backend_id", "=", self.broker.id), ("key", "=", "oauth_access_token")])
        )
        secret.valid_until = fields.Datetime.now() - timedelta(minutes=1)
        message = self.submit()
        self.assertEqual(message.state, "sent", message.error_message)
        self.assertEqual(self.sim.token_requests[-1], "refresh_token")
        self.assertNotEqual(self.bearer(self.sim.submissions[-1]), self.bearer(first))
        self.assertFalse(self.sim.refused)

        # HMRC refuses the token before its time (401): refreshed once, the call repeated
        self.sim.expire_access_tokens()
        message = self.submit()
        self.assertEqual(message.state, "sent", message.error_message)
        self.assertEqual([r["status"] for r in self.sim.refused], [401])
        self.assertEqual(
            self.sim.token_requests, ["authorization_code", "refresh_token", "refresh_token"]
        )

        # the trader withdrew the authority: the call fails saying who must connect again
        self.sim.revoke_refresh_tokens()
        self.sim.expire_access_tokens()
        refused = self.submit()
        self.assertEqual(refused.state, "failed")
        self.assertEqual(refused.error_category, "auth")
        self.assertRegex(
            refused.error_message,
            r"^HMRC no longer accepts the connection made by Priya Manager on [^:]+: press "
            r"Connect on the backend .+ and sign in again\.",
        )
        self.assertIn("invalid_grant", refused.error_message)  # HMRC's words, below
        self.broker.invalidate_recordset()
        self.assertFalse(self.broker.oauth_connected)
        self.assertIn("Press Connect and sign in again", self.broker.oauth_status)

        # connected again (by another manager), Retry sends it
        self.connect(self.other_manager)
        self.assertEqual(self.broker.oauth_connected_by_id, self.other_manager)
        count = len(self.sim.submissions)
        refused.action_retry()
        run_jobs(self.env)
        self.assertEqual(len(self.sim.submissions), count + 1)
        self.assertIn(self.bearer(self.sim.submissions[-1]), self.sim.tokens)
        latest = self.env["logistics.message"].search(
            [("direction", "=", "out"), ("res_id", "=", refused.res_id)], order="id desc", limit=1
        )
        self.assertEqual(latest.state, "sent", latest.error_message)

    def test_test_connection_says_who_connected(self):
        action = self.broker.action_test_connection()
        self.assertEqual(action["params"]["type"], "danger")
        self.assertIn("is not connected to HMRC", action["params"]["message"])
        self.connect()
        action = self.broker.action_test_connection()
        self.assertEqual(action["params"]["type"], "success", action["params"]["message"])
        self.assertIn("Connected to HMRC by Priya Manager", action["params"]["message"])

    # attacks --------------------------------------------------------------------------------
    def test_only_the_manager_who_pressed_connect_finishes_once_in_time(self):
        # another user cannot finish a sign-in he did not start; the state is burnt
        callback = self.sign_in_at_hmrc()
        answer = self.finish(callback, self.other_manager)
        self.assertEqual(answer.status_code, 403)
        self.assertIn("started by another user", answer.text)
        answer = self.finish(callback)
        self.assertEqual(answer.status_code, 400)
        self.assertIn("unknown or was already completed", answer.text)
        self.broker.invalidate_recordset()
        self.assertFalse(self.broker.oauth_connected)
        # used once
        callback = self.sign_in_at_hmrc()
        self.assertEqual(self.finish(callback).status_code, 303)
        answer = self.finish(callback)
        self.assertEqual(answer.status_code, 400)
        self.assertIn("unknown or was already completed", answer.text)
        # expired
        callback = self.sign_in_at_hmrc()
        self.env["logistics.backend.oauth.state"].sudo().search([]).expires_at = (
            fields.Datetime.now() - timedelta(seconds=1)
        )
        answer = self.finish(callback)
        self.assertEqual(answer.status_code, 400)
        self.assertIn("more than 10 minutes", answer.text)
        # a forged state
        answer = self.finish(f"{OAUTH_CALLBACK}?code=x&state=forged")
        self.assertEqual(answer.status_code, 400)
        # the user declined at HMRC: HMRC sends back an error instead of a code
        state = parse_qs(urlsplit(self.sign_in_at_hmrc()).query)["state"][0]
        answer = self.finish(
            f"{OAUTH_CALLBACK}?state={state}&error=access_denied"
            "&error_description=user+denied+the+authorization"
        )
        self.assertEqual(answer.status_code, 400)
        self.assertIn("HMRC did not grant access to backend", answer.text)
        self.assertIn("user denied the authorization", answer.text)

    def test_a_user_or_another_companys_manager_cannot_connect_nor_read_tokens(self):
        self.connect()
        for intruder in (self.user, self.manager_b):
            with self.subTest(intruder=intruder.login), self.assertRaises(AccessError):
                self.broker.with_user(intruder).action_oauth_connect()
        for reader in (self.user, self.manager):
            with self.assertRaises(AccessError):
                self.env["logistics.backend.secret"].with_user(reader).search_read([])
            with self.assertRaises(AccessError):
                self.env["logistics.backend.oauth.state"].with_user(reader).search_read([])
        # the route, logged in as another company's manager, with a state of his own making
        # for this backend: impossible (Connect refused above); with the manager's: refused
        callback = self.sign_in_at_hmrc()
        answer = self.finish(callback, self.manager_b)
        self.assertEqual(answer.status_code, 403)
