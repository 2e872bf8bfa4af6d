from odoo import api, fields, models


class LogisticsBackendSecret(models.Model):
    """Encrypted secrets of a backend. No group has access: only the backend's own code
    (through ``sudo``) reads and writes them, and only as ciphertext."""

    _name = "logistics.backend.secret"
    _description = "Logistics backend secret (encrypted)"
    _log_access = False

    backend_id = fields.Many2one("logistics.backend", required=True, ondelete="cascade", index=True)
    key = fields.Char(required=True)
    value = fields.Char(required=True, help="Fernet ciphertext, never the clear secret")
    valid_until = fields.Datetime(
        string="Valid until", help="For a previous webhook secret kept during rotation"
    )

    _sql_constraints = [
        ("backend_key_unique", "unique(backend_id, key)", "One value per secret and backend."),
    ]

    # The webhook route caches the decrypted secrets per worker (logistics.backend
    # _webhook_route_info): every change of a secret invalidates that cache.
    @api.model_create_multi
    def create(self, vals_list):
        records = super().create(vals_list)
        self.env.registry.clear_cache()
        return records

    def write(self, vals):
        result = super().write(vals)
        self.env.registry.clear_cache()
        return result

    def unlink(self):
        result = super().unlink()
        self.env.registry.clear_cache()
        return result
