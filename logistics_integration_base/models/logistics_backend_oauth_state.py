from odoo import fields, models


class LogisticsBackendOauthState(models.Model):
    """A sign-in at a partner in progress (OAuth 2.0 authorisation code): the ``state`` sent
    to the partner's authorisation page, bound to the backend and the user who pressed
    Connect, single use and short-lived. Only its SHA-256 is kept. No group has access: only
    the backend's Connect and the callback route (through ``sudo``) read and write it."""

    _name = "logistics.backend.oauth.state"
    _description = "Sign-in at a partner in progress"
    _log_access = False

    backend_id = fields.Many2one("logistics.backend", required=True, ondelete="cascade", index=True)
    user_id = fields.Many2one("res.users", string="Started by", required=True, ondelete="cascade")
    state_hash = fields.Char(string="State (SHA-256)", required=True, index=True)
    redirect_uri = fields.Char(required=True, string="Redirect URI")
    expires_at = fields.Datetime(required=True, string="Expires at")

    _sql_constraints = [
        ("state_hash_unique", "unique(state_hash)", "A sign-in state is used once."),
    ]
