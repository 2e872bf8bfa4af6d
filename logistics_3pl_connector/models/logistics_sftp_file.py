"""Files received from a 3PL over SFTP, each processed once.

Each file is tracked by (name, SHA-256 checksum); a file seen before is only moved away
again. The backend's poll (``logistics.backend._sftp_poll``) takes every complete file of
the inbound folder (``.part`` uploads and files younger than the minimum age are left
alone), reads it (``formats/inbound_files.py``: X12 or CSV), stores one inbound message per
document through the one inbound path, prepares the 997 for X12 interchanges, commits, and
only then has the adapter upload the 997 and move the file to the archive folder: a crash
in between leaves the file in the inbound folder, and the next poll recognises it (name +
checksum), sends the 997 still owed and archives it, without processing it twice.

A file that fails to parse is moved to the error folder, its content kept here, and a
failed message carries the X12 segment and element (or CSV line and column) into the
exception queue; an X12 interchange whose envelope could be read is answered with a
rejecting 997 (AK3/AK4/AK5 R/AK9 R). 997s received for our 940s mark the outbound message
acknowledged (or failed, with the 3PL's error codes, when rejected).
"""

import logging
import traceback
import uuid

import psycopg2

from odoo import api, fields, models

from odoo.addons.logistics_integration_base.tools.canonical import to_naive_utc

from ..formats import inbound_files, x12

_logger = logging.getLogger(__name__)

RAW_LIMIT = 500_000  # characters of a file kept on each message / file record


class LogisticsSftpFile(models.Model):
    _name = "logistics.sftp.file"
    _description = "File received from a 3PL over SFTP"
    _order = "id desc"

    backend_id = fields.Many2one(
        "logistics.backend",
        required=True,
        ondelete="cascade",
        index=True,
        readonly=True,
        string="3PL",
    )
    company_id = fields.Many2one(related="backend_id.company_id", store=True, index=True)
    name = fields.Char(string="File name", required=True, index=True, readonly=True)
    checksum = fields.Char(
        required=True, readonly=True, help="SHA-256 of the content", string="Checksum (SHA-256)"
    )
    size = fields.Integer(readonly=True, help="Bytes", string="Size (bytes)")
    file_format = fields.Selection([("csv", "CSV"), ("x12", "X12")], readonly=True, string="Format")
    state = fields.Selection(
        [("received", "Received"), ("processed", "Processed"), ("error", "Error")],
        required=True,
        default="received",
        readonly=True,
        index=True,
        string="Status",
    )
    error = fields.Text(readonly=True)
    content = fields.Text(readonly=True, help="The file as received (kept for unreadable files)")
    note = fields.Text(readonly=True, help="What the file did besides creating messages")
    interchange_control_number = fields.Char(string="Interchange control number", readonly=True)
    message_ids = fields.One2many("logistics.message", "sftp_file_id", string="Messages")
    message_count = fields.Integer(compute="_compute_message_count")
    ack_file = fields.Char(string="997 file", readonly=True)
    ack_control_number = fields.Integer(string="997 control number", readonly=True)
    ack_content = fields.Text(string="997 content", readonly=True)
    ack_sent_at = fields.Datetime(string="997 sent at", readonly=True)
    moved_to = fields.Char(readonly=True, help="Where the file was moved on the SFTP server")
    duplicate_count = fields.Integer(
        string="Received again", readonly=True, help="Times the same file came back (not processed)"
    )

    _sql_constraints = [
        ("file_unique", "unique(backend_id, name, checksum)", "This file was already received."),
    ]

    def _compute_message_count(self):
        for record in self:
            record.message_count = len(record.message_ids)

    @api.model
    def _find(self, backend, name, checksum):
        return self.search(
            [("backend_id", "=", backend.id), ("name", "=", name), ("checksum", "=", checksum)],
            limit=1,
        )

    @api.model
    def _receive(self, backend, name, data, checksum):
        """Record a new file and turn it into messages; None if a concurrent poll stored
        the same file first."""
        try:
            with self.env.cr.savepoint():
                record = self.create(
                    {
                        "backend_id": backend.id,
                        "name": name,
                        "checksum": checksum,
                        "size": len(data),
                    }
                )
                record.flush_recordset()
        except psycopg2.errors.UniqueViolation:
            return None
        try:
            with self.env.cr.savepoint():
                record._ingest(data)
        except psycopg2.OperationalError:
            raise  # serialization failure & co: the next poll takes the file again
        except Exception as exc:
            _logger.exception("reading SFTP file %s of backend %s", name, backend.code)
            record._store_failure(
                data,
                self.env._(
                    "unexpected error (%(type)s: %(error)s)", type=type(exc).__name__, error=exc
                ),
                category="technical",
                details=traceback.format_exc(),
            )
        return record

    # reading ----------------------------------------------------------------------------------
    def _ingest(self, data):
        """Read the file (``formats/inbound_files.py``) and store what it holds."""
        self.ensure_one()
        result = inbound_files.read_file(
            self.name, data, x12_expected=self.backend_id.file_format == "x12", raw_limit=RAW_LIMIT
        )
        self.file_format = result.file_format
        if result.error is not None:
            self._store_failure(data, result.error, interchange=result.interchange)
            return
        notes = [self._apply_997(ack) for ack in result.acks]
        self._store_documents(result.documents)
        if result.interchange is not None:
            self.interchange_control_number = result.interchange.control_number
            self._prepare_997(result.interchange)
        self.write({"state": "processed", "note": "\n".join(notes) or False})

    # storing ----------------------------------------------------------------------------------
    def _subject(self, message_type, payload):
        if message_type == "shipment.confirmed":
            return self.env._(
                "Shipment %(shipment)s of order %(order)s",
                shipment=payload.get("shipment_ref"),
                order=payload.get("order_ref"),
            )
        if message_type == "inventory.snapshot":
            return self.env._(
                "Inventory %(ref)s of warehouse %(warehouse)s",
                ref=payload.get("snapshot_ref"),
                warehouse=payload.get("warehouse_code"),
            )
        return payload.get("order_ref") or self.name

    def _store_documents(self, entries):
        """One inbound message per document, through the one inbound path (queued)."""
        Message = self.env["logistics.message"]
        registry = Message._schema_registry()
        correlation = str(uuid.uuid4())  # every message of one file shares it
        vals_list = [
            {
                "message_type": message_type,
                "schema_version": registry.latest_version(message_type) or 1,
                "idempotency_key": f"sftp:{self.name}:{self.checksum}:{index}",
                "payload": payload,
                "raw_payload": raw,
                "correlation_id": correlation,
                "external_id": payload.get("shipment_ref") or payload.get("snapshot_ref"),
                "event_time": to_naive_utc(payload.get("shipped_at") or payload.get("as_of")),
                "subject": self._subject(message_type, payload),
                "sftp_file_id": self.id,
            }
            for index, (message_type, payload, raw) in enumerate(entries)
        ]
        # the parsers check each document against its schema already
        messages, _new = Message._store_inbound(self.backend_id, vals_list, validate=False)
        return messages

    def _store_failure(self, data, error, interchange=None, category="validation", details=None):
        """Keep an unreadable file: error state, content kept, a failed message in the
        exception queue, and a rejecting 997 when the X12 envelope could be read."""
        text = data.decode("utf-8", "replace")
        self.write({"state": "error", "error": str(error), "content": text[:RAW_LIMIT]})
        acked = False
        if interchange is not None and isinstance(error, x12.X12ParseError):
            errors = [error] if error.set_control_number else None
            acked = self._prepare_997(interchange, accepted=False, errors=errors)
        backend = self.backend_id
        reason = self.env._(
            "File %(file)s from %(backend)s could not be read: %(error)s. The file is kept in "
            "the error folder '%(folder)s' of the SFTP server and under Logistics › SFTP files.",
            file=self.name,
            backend=backend.name,
            error=error,
            folder=backend.sftp_error_dir or "error",
        )
        if acked:
            reason += " " + self.env._("A 997 rejecting it was sent back.")
        reason += " " + self.env._("Ask the 3PL to send a corrected file.")
        messages, _new = self.env["logistics.message"]._store_inbound(
            backend,
            [
                {
                    "message_type": inbound_files.guess_type(self.name, error),
                    "idempotency_key": f"sftp:{self.name}:{self.checksum}",
                    "state": "failed",
                    "error_category": category,
                    "error_message": reason if not details else f"{reason}\n\n{details}",
                    "raw_payload": text[:RAW_LIMIT],
                    "subject": self.env._("Unreadable file %s", self.name),
                    "sftp_file_id": self.id,
                }
            ],
        )
        message = messages.sudo()
        # the chatter keeps the reason even if the message is retried or edited later
        message.message_post(body=reason)
        return message

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
        """Upload the 997 still owed and move the file out of the inbound folder (archive,
        or error folder for unreadable files), through the backend's adapter. Safe to
        repeat."""
        for record in self:
            if record.ack_content and not record.ack_sent_at:
                adapter.put_file(conn, record.ack_file, record.ack_content.encode())
                record.ack_sent_at = fields.Datetime.now()
            path = adapter.finish_file(conn, record.name, failed=record.state == "error")
            if path:
                record.moved_to = path
