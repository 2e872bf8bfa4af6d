"""X12 bookkeeping of the files a 3PL drops over SFTP (the file tracking itself is the
integration base's ``logistics.sftp.file``).

An X12 interchange is answered with a 997: prepared when the file is read, uploaded by
:meth:`_finish` before the file is moved, so a crash in between leaves the 997 owed and the
next poll (which recognises the file by name + checksum) sends it. A file that fails to
parse gets a rejecting 997 (AK3/AK4/AK5 R/AK9 R) when its envelope could be read. 997s
received for our 940s mark the outbound message acknowledged (or failed, with the 3PL's
error codes, when rejected).
"""

from odoo import fields, models

from odoo.addons.logistics_integration_base.tools.canonical import to_naive_utc

from ..formats import x12


class LogisticsSftpFile(models.Model):
    _inherit = "logistics.sftp.file"

    ack_file = fields.Char(string="997 file", readonly=True)
    ack_control_number = fields.Integer(string="997 control number", readonly=True)
    ack_content = fields.Text(string="997 content", readonly=True)
    ack_sent_at = fields.Datetime(string="997 sent at", readonly=True)

    # reading ----------------------------------------------------------------------------------
    def _document_vals(self, message_type, payload):
        vals = super()._document_vals(message_type, payload)
        if message_type == "shipment.confirmed":
            vals.update(
                subject=self.env._(
                    "Shipment %(shipment)s of order %(order)s",
                    shipment=payload.get("shipment_ref"),
                    order=payload.get("order_ref"),
                ),
                external_id=payload.get("shipment_ref"),
                event_time=to_naive_utc(payload.get("shipped_at")),
            )
        elif message_type == "inventory.snapshot":
            vals.update(
                subject=self.env._(
                    "Inventory %(ref)s of warehouse %(warehouse)s",
                    ref=payload.get("snapshot_ref"),
                    warehouse=payload.get("warehouse_code"),
                ),
                external_id=payload.get("snapshot_ref"),
                event_time=to_naive_utc(payload.get("as_of")),
            )
        return vals

    def _after_read(self, result):
        notes = super()._after_read(result)
        notes += [self._apply_997(ack) for ack in result.extra.get("acks", [])]
        if result.file_format == "x12" and result.interchange is not None:
            self._prepare_997(result.interchange)
        return notes

    def _failure_reply(self, result, error):
        reply = super()._failure_reply(result, error)
        interchange = result.interchange if result.file_format == "x12" else None
        if interchange is not None and isinstance(error, x12.X12ParseError):
            errors = [error] if error.set_control_number else None
            if self._prepare_997(interchange, accepted=False, errors=errors):
                reply = " ".join(
                    filter(None, [reply, self.env._("A 997 rejecting it was sent back.")])
                )
        return reply

    # 997 --------------------------------------------------------------------------------------
    def _prepare_997(self, interchange, accepted=True, errors=None):
        """Build the 997 answering the interchange (997s themselves are never acknowledged);
        it is uploaded by :meth:`_finish`. Returns whether one is due."""
        if not [group for group in interchange.groups if group.functional_id != "FA"]:
            return False
        number = self.backend_id._x12_next_control_number()
        name, content = x12.reply_997(interchange, number, accepted=accepted, errors=errors)
        self.write({"ack_file": name, "ack_control_number": number, "ack_content": content})
        return True

    def _apply_997(self, ack):
        """A 997 from the 3PL about one of our interchanges: acknowledge or fail the
        outbound message that sent it. Returns a line for the file's note."""
        backend = self.backend_id
        group = (ack.get("group_control_number") or "").strip()
        label = f"{ack.get('functional_id')} {group}"
        Message = self.env["logistics.message"].sudo()
        messages = Message.browse()
        if group.isdigit():
            messages = Message.search(
                [
                    ("backend_id", "=", backend.id),
                    ("direction", "=", "out"),
                    ("x12_control_number", "=", int(group)),
                ]
            )
        if not messages:
            return self.env._("997 for group %s: no file of ours has this control number.", label)
        sets = ack.get("transaction_sets") or []
        status = (sets[0].get("status") if len(sets) == 1 else None) or ack.get("status")
        if status in ("accepted", "accepted_with_errors"):
            for message in messages:
                if message.state == "sent":
                    message.state = "acknowledged"
                message.message_post(
                    body=self.env._("The 3PL acknowledged the file (997 in %s).", self.name)
                )
            return self.env._(
                "997 for group %(group)s: accepted (%(messages)s).",
                group=label,
                messages=", ".join(messages.mapped("name")),
            )
        detail = "; ".join(x12.describe_997_errors(sets)) or self.env._("no detail given")
        reason = self.env._(
            "3PL %(backend)s rejected the file (997 in %(file)s, status %(status)s): %(detail)s. "
            "Fix the data (or edit the payload) and retry.",
            backend=backend.name,
            file=self.name,
            status=status,
            detail=detail,
        )
        for message in messages.filtered(lambda m: m.state in ("sent", "acknowledged")):
            message._fail("validation", reason)
            message.message_post(body=reason)
        return self.env._(
            "997 for group %(group)s: %(status)s (%(messages)s).",
            group=label,
            status=status,
            messages=", ".join(messages.mapped("name")),
        )

    # server side ------------------------------------------------------------------------------
    def _finish(self, adapter, conn):
        """Upload the 997 still owed, then move the file (safe to repeat)."""
        for record in self:
            if record.ack_content and not record.ack_sent_at:
                adapter.put_file(conn, record.ack_file, record.ack_content.encode())
                record.ack_sent_at = fields.Datetime.now()
        return super()._finish(adapter, conn)
