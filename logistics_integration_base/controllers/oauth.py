"""``GET /logistics/oauth/callback``: where a partner sends back the user who signed in
there after a backend's *Connect* (OAuth 2.0 authorisation code). Logged-in users only; the
``state`` binds the answer to the backend and the user who pressed Connect
(``logistics.backend._oauth_callback``)."""

from markupsafe import escape

from odoo import http
from odoo.exceptions import AccessError, UserError
from odoo.http import request

from ..models.logistics_backend_oauth import OAUTH_CALLBACK


class LogisticsOauthController(http.Controller):
    @http.route(OAUTH_CALLBACK, type="http", auth="user", methods=["GET"])
    def oauth_callback(self, state=None, code=None, error=None, error_description=None, **_kw):
        Backend = request.env["logistics.backend"]
        try:
            backend = Backend._oauth_callback(state, code, error, error_description)
        except (UserError, AccessError) as exc:
            # the state stays consumed: answered, not raised, so that it is committed
            title = request.env._("The backend was not connected")
            back = request.env._("Back to Odoo")  # not inside an f-string: the exporter reads it
            body = (
                f"<!DOCTYPE html><html><head><title>{escape(title)}</title></head><body>"
                f"<h1>{escape(title)}</h1><p>{escape(str(exc))}</p>"
                f'<p><a href="/odoo">{escape(back)}</a></p></body></html>'
            )
            status = 403 if isinstance(exc, AccessError) else 400
            return request.make_response(
                body, headers=[("Content-Type", "text/html; charset=utf-8")], status=status
            )
        request.env.user._bus_send(
            "simple_notification",
            {
                "type": "success",
                "title": request.env._("%s connected", backend.name),
                "message": backend.oauth_status,
            },
        )
        return request.redirect(f"/odoo/logistics.backend/{backend.id}", local=True)
