from odoo import api, fields, models
from odoo.exceptions import ValidationError

from ..formats import edifact
from .logistics_customs_declaration import STATES

SOURCES = [
    ("gis", "GIS processing indicator (7365)"),
    ("bgm_document", "BGM document name (1001)"),
    ("bgm_function", "BGM message function (1225)"),
]
STATUSES = [(code, label) for code, label in STATES if code != "draft"] + [
    ("none", "No status (information only)")
]


class LogisticsCustomsStatusMap(models.Model):
    """What a customs broker's or authority's own CUSRES codes mean, per backend: a GIS
    processing indicator, a BGM document name or message function -> the declaration's
    status. Filled with the UN/EDIFACT D.96B defaults (``formats.edifact.
    DEFAULT_STATUS_MAP``); customs managers add the codes of their broker's guide."""

    _name = "logistics.customs.status.map"
    _description = "Customs response status code"
    _order = "backend_id, source, sequence, id"

    backend_id = fields.Many2one("logistics.backend", required=True, ondelete="cascade", index=True)
    company_id = fields.Many2one(related="backend_id.company_id", store=True, string="Company")
    sequence = fields.Integer(default=10)
    source = fields.Selection(
        SOURCES,
        string="Segment",
        required=True,
        default="gis",
        help="Where the CUSRES carries the code: GIS element 7365, BGM element 1001 (C002) or "
        "BGM element 1225.",
    )
    code = fields.Char(required=True)
    agency = fields.Char(
        string="Code list agency",
        help="Element 3055 of the code: empty for the UN/EDIFACT code list (no agency, or 6 "
        "UN/ECE); ZZZ for codes agreed with the broker; another agency code for that "
        "agency's own list (e.g. a customs administration's).",
    )
    status = fields.Selection(
        STATUSES,
        string="Declaration status",
        required=True,
        help="What the declaration becomes when a response carries this code. 'No status' "
        "for a code that only informs (e.g. GIS 23 Import); when a response carries several "
        "codes the strongest wins: cancelled, rejected, inspection, documents required, "
        "released, accepted, submitted.",
    )
    name = fields.Char(string="Meaning", help="What the code means in the guide it comes from.")

    _sql_constraints = [
        (
            "code_unique",
            "unique(backend_id, source, code, agency)",
            "A code is mapped once per backend, segment and agency.",
        )
    ]

    @api.model
    def _clean(self, vals):
        for key in ("code", "agency"):
            if isinstance(vals.get(key), str):
                vals[key] = vals[key].strip() or False
        if vals.get("agency") in edifact.UN_AGENCIES:
            vals["agency"] = False  # 6 (UN/ECE) is the UN/EDIFACT list, as no agency is
        return vals

    @api.model_create_multi
    def create(self, vals_list):
        rows = super().create([self._clean(dict(vals)) for vals in vals_list])
        if not self.env.context.get("logistics_default_codes"):
            rows._log_on_backends(self.env._("Response code added"))
        return rows

    def write(self, vals):
        audited = {"backend_id", "source", "code", "agency", "status"} & set(vals)
        before = {row.id: row._describe() for row in self} if audited else {}
        result = super().write(self._clean(dict(vals)))
        if "backend_id" in vals:
            # Odoo checks record rules before a write only: a row moved to a backend of a
            # company the user does not work for is refused as its creation would be
            self.check_access("write")
        for row in self.filtered(lambda r: r.id in before and before[r.id] != r._describe()):
            row._log_on_backends(self.env._("Response code changed"), before[row.id])
        return result

    def unlink(self):
        self.check_access("unlink")  # the note below is posted only for who may remove
        self._log_on_backends(self.env._("Response code removed"))
        return super().unlink()

    def _describe(self):
        """'GIS processing indicator (7365) 1 (agency ZZZ) → Released': what the line says."""
        self.ensure_one()
        return "%s %s%s → %s" % (
            dict(SOURCES).get(self.source, self.source),
            self.code,
            self.env._(" (agency %s)", self.agency) if self.agency else "",
            dict(self._fields["status"]._description_selection(self.env)).get(self.status),
        )

    def _log_on_backends(self, what, before=None):
        """The broker backend's chatter says who changed how its responses are read (a code's
        meaning decides whether goods are released)."""
        for row in self:
            text = f"{what}: {row._describe()}"
            if before:
                text = self.env._(
                    "%(what)s: %(before)s, now %(after)s",
                    what=what,
                    before=before,
                    after=row._describe(),
                )
            row.backend_id.sudo().message_post(body=text, message_type="notification")

    @api.constrains("backend_id", "source", "code", "agency")
    def _check_once(self):
        for row in self:
            twins = self.search(
                [
                    ("id", "!=", row.id),
                    ("backend_id", "=", row.backend_id.id),
                    ("source", "=", row.source),
                    ("code", "=", row.code),
                    ("agency", "=", row.agency),
                ],
                limit=1,
            )
            if twins:
                raise ValidationError(
                    self.env._(
                        "%(source)s %(code)s%(agency)s is already mapped on %(backend)s (to "
                        "%(status)s): change that line instead.",
                        source=dict(SOURCES)[row.source],
                        code=row.code,
                        agency=self.env._(" (agency %s)", row.agency) if row.agency else "",
                        backend=row.backend_id.name,
                        status=dict(STATUSES)[twins.status],
                    )
                )

    @api.model
    def _default_rows(self, backend):
        """Values of the default mapping for ``backend``."""
        return [
            {
                "backend_id": backend.id,
                "sequence": index,
                "source": source,
                "code": code,
                "agency": agency or False,
                "status": status or "none",
                "name": name,
            }
            for index, (source, code, agency, status, name) in enumerate(
                edifact.DEFAULT_STATUS_MAP, start=1
            )
        ]

    def _as_map(self):
        """{``edifact.status_key``: status or None} of these rows."""
        return {
            edifact.status_key(row.source, row.code, row.agency): (
                None if row.status == "none" else row.status
            )
            for row in self
        }
