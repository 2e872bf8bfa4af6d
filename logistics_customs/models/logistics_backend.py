import re

from odoo import api, fields, models
from odoo.exceptions import ValidationError

from ..formats import edifact

AWAITING = ("submitted", "accepted", "documents_required", "inspection")


class LogisticsBackend(models.Model):
    _inherit = "logistics.backend"

    provider = fields.Selection(
        selection_add=[("edifact", "UN/EDIFACT files (CUSDEC out, CUSRES in)")],
        ondelete={"edifact": "set default"},
    )
    edifact_sender_id = fields.Char(
        string="EDIFACT sender id",
        help="UNB sender of our interchanges (qualifier ZZ, mutually defined); the company's "
        "EORI number when empty.",
    )
    edifact_recipient_id = fields.Char(
        string="EDIFACT recipient id",
        help="UNB recipient: the broker's interchange id; the backend code in capitals when empty.",
    )
    customs_declarant_id = fields.Many2one(
        "res.partner",
        string="Declarant",
        help="The customs broker as declarations name it (name, address, EORI).",
    )
    customs_declaration_ids = fields.One2many(
        "logistics.customs.declaration", "backend_id", string="Customs declarations"
    )
    customs_status_map_ids = fields.One2many(
        "logistics.customs.status.map",
        "backend_id",
        string="Customs response codes",
        help="What the broker's CUSRES codes mean for a declaration. Filled with the "
        "UN/EDIFACT D.96B code lists; add the codes your broker's or customs' guide defines.",
    )
    customs_release_sla_hours = fields.Integer(
        string="Release expected within (hours)",
        default=24,
        help="A declaration not released this long after it was first sent is late: it "
        "shows on the dashboard.",
    )

    # dashboard tiles (also metrics gauges) ------------------------------------------------
    tile_customs_late = fields.Integer(
        compute="_compute_tile_fields", string="Declarations awaiting release past their SLA"
    )
    tile_customs_holds = fields.Integer(
        compute="_compute_tile_fields", string="Declarations held by customs"
    )
    tile_customs_rejected = fields.Integer(
        compute="_compute_tile_fields", string="Declarations rejected"
    )

    def _logistics_dashboard_capabilities(self):
        caps = super()._logistics_dashboard_capabilities()
        if self.kind == "customs":
            caps.add("customs")
        return caps

    def _logistics_business_tiles(self):
        now = fields.Datetime.to_string(fields.Datetime.now())
        model = "logistics.customs.declaration"
        return super()._logistics_business_tiles() + [
            {
                "key": "customs_late",
                "label": self.env._("Declarations awaiting release past their SLA"),
                "model": model,
                "domain": [("state", "in", AWAITING), ("release_due_at", "<", now)],
                "filters": ["late"],
                "backend_field": "backend_id",
            },
            {
                "key": "customs_holds",
                "label": self.env._("Declarations held by customs"),
                "model": model,
                "domain": [("state", "in", ("documents_required", "inspection"))],
                "filters": ["holds"],
                "backend_field": "backend_id",
            },
            {
                "key": "customs_rejected",
                "label": self.env._("Declarations rejected"),
                "model": model,
                "domain": [("state", "=", "rejected")],
                "filters": ["rejected"],
                "backend_field": "backend_id",
            },
        ]

    # UN/EDIFACT over SFTP ----------------------------------------------------------------
    @api.constrains("edifact_sender_id", "edifact_recipient_id")
    def _check_edifact_ids(self):
        for backend in self:
            for label, value in (
                (self.env._("sender"), backend.edifact_sender_id),
                (self.env._("recipient"), backend.edifact_recipient_id),
            ):
                if value and (len(value) > 35 or re.search(r"[+:'?\s]", value)):
                    raise ValidationError(
                        self.env._(
                            "The EDIFACT %(which)s id must be at most 35 characters, without "
                            "spaces or the characters + : ' ?",
                            which=label,
                        )
                    )

    def _edifact_ids(self):
        """(sender, recipient) of the UNB of the interchanges we write."""
        self.ensure_one()
        company = self.company_id or self.env.company
        sender = (self.edifact_sender_id or company.partner_id.logistics_eori or "").strip()
        recipient = (self.edifact_recipient_id or self.code or "").strip().upper()
        return sender, recipient

    # CUSRES status codes ------------------------------------------------------------------
    @api.model_create_multi
    def create(self, vals_list):
        backends = super().create(vals_list)
        backends.filtered(lambda b: b.provider == "edifact")._customs_status_map_fill()
        return backends

    def write(self, vals):
        result = super().write(vals)
        if vals.get("provider") == "edifact":
            self._customs_status_map_fill()
        return result

    def _customs_status_map_fill(self):
        """The default codes (UN/EDIFACT D.96B) for EDIFACT backends that have none yet."""
        rows = []
        for backend in self.filtered(lambda b: b.provider == "edifact"):
            if not backend.with_context(active_test=False).customs_status_map_ids:
                rows += self.env["logistics.customs.status.map"]._default_rows(backend)
        if rows:
            model = self.env["logistics.customs.status.map"]
            model.with_context(logistics_default_codes=True).create(rows)

    @api.model
    def _customs_status_map_fill_all(self):
        """At install and update: every EDIFACT backend has its codes."""
        self.search([("provider", "=", "edifact")])._customs_status_map_fill()

    def action_customs_status_map_defaults(self):
        """Add the default codes this backend does not map yet; lines already there (and
        what they say) are kept."""
        model = self.env["logistics.customs.status.map"].with_context(logistics_default_codes=True)
        for backend in self:
            known = set(backend.customs_status_map_ids._as_map())
            added = model.create(
                [
                    vals
                    for vals in model._default_rows(backend)
                    if edifact.status_key(vals["source"], vals["code"], vals["agency"] or "")
                    not in known
                ]
            )
            if added:
                backend.sudo().message_post(
                    body=self.env._(
                        "%s default response codes of the UN/EDIFACT D.96B directory added.",
                        len(added),
                    ),
                    message_type="notification",
                )
        return True

    def _customs_status_map(self):
        """{``edifact.status_key``: status or None} this backend reads CUSRES codes with (the
        defaults when it has no lines)."""
        self.ensure_one()
        rows = self.customs_status_map_ids
        return rows._as_map() if rows else edifact.default_status_map()
