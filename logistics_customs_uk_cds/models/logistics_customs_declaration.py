from odoo import api, fields, models

from odoo.addons.logistics_integration_base.exceptions import NeedsAttention
from odoo.addons.logistics_integration_base.tools.canonical import to_naive_utc


class LogisticsCustomsDeclaration(models.Model):
    _inherit = "logistics.customs.declaration"

    cds_exited_at = fields.Datetime(
        string="Goods exited the UK on",
        readonly=True,
        copy=False,
        tracking=True,
        help="HMRC's DMSEOG notification: the goods of this export left the UK.",
    )
    cds_exit_note = fields.Char(string="Exit confirmed by HMRC", readonly=True, copy=False)

    @api.model
    def _logistics_flow_fields(self):
        return super()._logistics_flow_fields() | {"cds_exited_at", "cds_exit_note"}

    def _logistics_apply_status(self, data, message):
        """HMRC's notifications the status vocabulary has no state for: DMSEOG records that
        the goods exited the UK; DMSTAX records the duties assessed even when the
        declaration's state does not move (it usually follows DMSACC)."""
        applied = super()._logistics_apply_status(data, message)
        if not message or message.backend_id.provider != "hmrc_cds":
            return applied
        notice = " ".join((message.subject or "").split()[:2])
        if notice == "DMSREQ denied":
            self._cds_request_denied()
        notice = notice.split(" ", 1)[0]
        current = (data.get("version") or self.version) == self.version
        if notice == "DMSEOG" and current:
            self.sudo().write(
                {
                    "cds_exited_at": to_naive_utc(data.get("event_time")) or fields.Datetime.now(),
                    "cds_exit_note": data.get("reason"),
                }
            )
            body = self.env._(
                "HMRC: the goods of %(name)s (%(picking)s) exited the UK. %(note)s",
                name=self.name,
                picking=self.picking_id.name,
                note=data.get("reason") or "",
            )
            self.message_post(body=body)
            self.picking_id.message_post(body=body)
        elif notice == "DMSTAX" and not applied and current and data.get("duties"):
            self._logistics_record_duties(data["duties"])
        return applied

    def _cds_request_denied(self):
        """HMRC denied an amendment or a cancellation request: the declaration stands at HMRC
        as it was, whatever Odoo shows. Someone must know."""
        todo = self.env._(
            "HMRC denied the amendment or cancellation request of %(name)s (%(picking)s): at "
            "HMRC the declaration stands as it was before the request. Read the reason in HMRC's "
            "secure messages, then send a corrected amendment or cancel it again.",
            name=self.name,
            picking=self.picking_id.name,
        )
        self.message_post(body=todo)
        self.activity_schedule(
            "mail.mail_activity_data_todo",
            summary=self.env._("HMRC denied a request"),
            note=todo,
            user_id=(self.user_id or self.env.user).id,
        )
        raise NeedsAttention(todo)
