from odoo import api, fields, models
from odoo.exceptions import ValidationError


class LogisticsBackendSchemaPin(models.Model):
    """The version of one message type a partner speaks. No pin: the latest version."""

    _name = "logistics.backend.schema.pin"
    _description = "Interface version of a partner"
    _order = "backend_id, message_type"

    backend_id = fields.Many2one("logistics.backend", required=True, ondelete="cascade", index=True)
    company_id = fields.Many2one(related="backend_id.company_id", store=True, string="Company")
    message_type = fields.Selection(
        selection="_selection_message_type", string="Message type", required=True
    )
    version = fields.Integer(string="Version pinned", required=True)
    latest_version = fields.Integer(compute="_compute_latest_version", string="Latest available")
    deprecated_on = fields.Date(
        compute="_compute_deprecated_on",
        store=True,
        string="Deprecated on",
        help="The date from which the partner's version is no longer served, as published "
        "by the module that ships the message type (schemas/deprecations.json).",
    )
    pinned_since = fields.Datetime(related="create_date", string="Pinned since")
    warned_on = fields.Date(
        string="Warning scheduled on",
        readonly=True,
        copy=False,
        help="When the warning activity about the deprecated version was scheduled on the "
        "backend (once per pin).",
    )

    _sql_constraints = [
        (
            "backend_type_unique",
            "unique(backend_id, message_type)",
            "A backend speaks one version of each message type: change the existing line.",
        )
    ]

    @api.depends("backend_id.name", "message_type", "version")
    def _compute_display_name(self):
        for pin in self:
            pin.display_name = self.env._(
                "%(backend)s: %(type)s version %(version)s",
                backend=pin.backend_id.name or "",
                type=pin.message_type or "",
                version=pin.version,
            )

    @api.model
    def _selection_message_type(self):
        registry = self.env["logistics.message"]._schema_registry()
        return [(message_type, message_type) for message_type in registry.types()]

    @api.depends("message_type")
    def _compute_latest_version(self):
        registry = self.env["logistics.message"]._schema_registry()
        for pin in self:
            pin.latest_version = (
                registry.latest_version(pin.message_type) if pin.message_type else 0
            ) or 0

    @api.depends("message_type", "version")
    def _compute_deprecated_on(self):
        registry = self.env["logistics.message"]._schema_registry()
        for pin in self:
            date = pin.message_type and registry.deprecated_on(pin.message_type, pin.version)
            pin.deprecated_on = fields.Date.to_date(date) if date else False

    @api.constrains("message_type", "version")
    def _check_version(self):
        registry = self.env["logistics.message"]._schema_registry()
        for pin in self:
            known = registry.versions(pin.message_type)
            if pin.version not in known:
                raise ValidationError(
                    self.env._(
                        "%(backend)s cannot be pinned to version %(version)s of %(type)s: the "
                        "installed modules publish versions %(known)s.",
                        backend=pin.backend_id.name,
                        version=pin.version,
                        type=pin.message_type,
                        known=", ".join(map(str, known)) or "-",
                    )
                )

    def write(self, vals):
        if "version" in vals or "message_type" in vals:
            vals = dict(vals, warned_on=False)  # another version: warn again if it retires
        return super().write(vals)
