"""Interface versions a backend speaks, and warnings before a version it speaks retires."""

from datetime import timedelta

from odoo import fields, models

WARN_DAYS = 30  # the warning activity is scheduled this many days before the retirement


class LogisticsBackend(models.Model):
    _name = "logistics.backend"
    _inherit = ["logistics.backend", "mail.activity.mixin"]

    schema_pin_ids = fields.One2many(
        "logistics.backend.schema.pin", "backend_id", string="Interface versions"
    )
    tile_deprecated_versions = fields.Integer(
        compute="_compute_tile_fields", string="Deprecated interface versions"
    )

    def _schema_version_for(self, message_type):
        """The version of ``message_type`` this backend speaks: its pin, else the latest."""
        self.ensure_one()
        pin = self.sudo().schema_pin_ids.filtered(lambda p: p.message_type == message_type)
        if pin:
            return pin.version
        return self.env["logistics.message"]._schema_registry().latest_version(message_type) or 1

    def _logistics_business_tiles(self):
        return super()._logistics_business_tiles() + [
            {
                "key": "deprecated_versions",
                "label": self.env._("Message types spoken in a deprecated version"),
                "model": "logistics.backend.schema.pin",
                "domain": [("deprecated_on", "!=", False)],
                "filters": ["deprecated"],
                "backend_field": "backend_id",
            }
        ]

    def _logistics_version_warning_user(self):
        """Who gets the warning: the first Logistics Integration manager of the backend's
        company, else its creator."""
        self.ensure_one()
        group = self.env.ref("logistics_integration_base.group_logistics_manager")
        managers = group.sudo().users.filtered(
            lambda u: (
                u.active
                and not u.share
                and (not self.company_id or self.company_id in u.company_ids)
            )
        )
        return managers.sorted("id")[:1] or self.create_uid

    def _cron_warn_deprecated_versions(self, today=None):
        """Daily: one warning activity on each backend for each version it speaks that
        retires within WARN_DAYS days (or already did), scheduled once per pin."""
        today = today or fields.Date.context_today(self)
        Pin = self.env["logistics.backend.schema.pin"].sudo()
        registry = self.env["logistics.message"]._schema_registry()
        # a module's update may have moved a date; pins are a few per backend
        for pin in Pin.search([]):  # pylint: disable=no-search-all
            date = fields.Date.to_date(registry.deprecated_on(pin.message_type, pin.version))
            if pin.deprecated_on != (date or False):
                pin.deprecated_on = date or False
        due = Pin.search(
            [
                ("deprecated_on", "!=", False),
                ("deprecated_on", "<=", today + timedelta(days=WARN_DAYS)),
                ("warned_on", "=", False),
                ("backend_id.active", "=", True),
            ]
        )
        for pin in due:
            backend = pin.backend_id
            backend.activity_schedule(
                "mail.mail_activity_data_warning",
                date_deadline=max(today, pin.deprecated_on),
                summary=self.env._(
                    "%(type)s version %(version)s retires on %(date)s",
                    type=pin.message_type,
                    version=pin.version,
                    date=pin.deprecated_on,
                ),
                note=self.env._(
                    "%(backend)s still speaks version %(version)s of %(type)s (pinned since "
                    "%(since)s), which is no longer served from %(date)s. Agree with the "
                    "partner on moving to version %(latest)s, then change the line in the "
                    "backend's Interface versions tab.",
                    backend=backend.name,
                    version=pin.version,
                    type=pin.message_type,
                    since=fields.Date.to_date(pin.pinned_since),
                    date=pin.deprecated_on,
                    latest=pin.latest_version,
                ),
                user_id=backend._logistics_version_warning_user().id,
            )
            pin.warned_on = today
        return len(due)
