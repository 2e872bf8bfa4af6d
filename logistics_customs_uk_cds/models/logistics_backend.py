import re

from odoo import api, fields, models
from odoo.exceptions import ValidationError


class LogisticsBackend(models.Model):
    _inherit = "logistics.backend"

    provider = fields.Selection(
        selection_add=[("hmrc_cds", "HMRC Customs Declaration Service (UK)")],
        ondelete={"hmrc_cds": "set default"},
    )
    webhook_scheme = fields.Selection(
        selection_add=[("hmrc_cds", "HMRC notification token (Authorization header)")],
        ondelete={"hmrc_cds": "set default"},
    )
    cds_badge_identifier = fields.Char(
        string="Badge identifier",
        help="X-Badge-Identifier: the user of a community system provider (CSP) submitting "
        "for traders, 6 to 12 capital letters or digits. Leave empty unless HMRC gave you one.",
    )
    cds_submitter_identifier = fields.Char(
        string="Submitter EORI",
        help="X-Submitter-Identifier: the EORI of the trader a CSP submits for; also names the "
        "submitter of cancellation requests.",
    )
    cds_declaration_category = fields.Selection(
        [
            ("D", "Pre-lodged (D): declared before the goods are presented"),
            ("A", "Arrived (A): the goods are already at the location"),
        ],
        string="Declaration category",
        default="D",
        help="DE 1/2, additional declaration type of the declarations sent (EXD, IMD / EXA, IMA).",
    )
    cds_goods_location = fields.Char(
        string="Goods location code",
        help="DE 5/23: where customs may examine the goods, e.g. DVRDOVDVR (Dover).",
    )
    cds_exit_office = fields.Char(
        string="Office of exit",
        help="DE 5/12, exports: the customs office where the goods leave the UK, e.g. GB000040.",
    )

    @api.constrains("cds_badge_identifier", "cds_submitter_identifier")
    def _check_cds_identifiers(self):
        rules = (
            (
                "cds_badge_identifier",
                r"[A-Z0-9]{6,12}",
                self.env._("6 to 12 capital letters or digits"),
            ),
            (
                "cds_submitter_identifier",
                r"[A-Za-z0-9]{1,17}",
                self.env._("at most 17 letters or digits"),
            ),
        )
        for backend in self:
            for name, pattern, rule in rules:
                value = backend[name]
                if value and not re.fullmatch(pattern, value):
                    raise ValidationError(
                        self.env._(
                            "%(backend)s: the %(field)s must be %(rule)s, as HMRC issues it.",
                            backend=backend.name,
                            field=self._fields[name].string,
                            rule=rule,
                        )
                    )
