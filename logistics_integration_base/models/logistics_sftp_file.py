"""Files received from a partner over SFTP, each processed once.

Each file is tracked by (name, SHA-256 checksum); a file seen before is only moved away
again. The backend's poll (``logistics.backend._sftp_poll``) takes every complete file of
the inbound folder (``.part`` uploads and files younger than the minimum age are left
alone), has the backend's SFTP adapter read it (``read_file``: each connector knows its
formats), stores one inbound message per document through the one inbound path, commits,
and only then has the adapter move the file to the archive folder: a crash in between
leaves the file in the inbound folder, and the next poll recognises it (name + checksum)
and archives it without processing it twice.

A file that fails to parse is moved to the error folder, its content kept here, and a
failed message carries the reader's error (segment and position, or line and column) into
the exception queue.

An interchange is applied once, whatever its file is called: a file whose interchange
(sender and control reference: EDIFACT UNB, X12 ISA) was already applied from another
file of the backend is recorded as a *duplicate* -- its content kept, no message, moved to
the archive like a processed file. The first file holding it keeps the interchange's key
(unique per backend), so two polls reading the same interchange at once apply it once. An
interchange that comes back with the same envelope but other content is not applied
either: it lands in the exception queue, for the partner to send it again with a new
control reference.

Connectors extend the bookkeeping through three hooks: :meth:`_document_vals` (subject,
reference and time of the message a document becomes), :meth:`_after_read` (e.g. the 3PL
connector's 997s) and :meth:`_failure_reply` (e.g. a rejecting 997); :meth:`_finish` may
upload an answer before the file is moved.
"""

import hashlib
import json
import logging
import traceback
import uuid

import psycopg2

from odoo import api, fields, models

_logger = logging.getLogger(__name__)

RAW_LIMIT = 500_000  # characters of a file kept on each message / file record


class LogisticsSftpFile(models.Model):
    _name = "logistics.sftp.file"
    _description = "File received over SFTP"
    _order = "id desc"

    backend_id = fields.Many2one(
        "logistics.backend",
        required=True,
        ondelete="cascade",
        index=True,
        readonly=True,
        string="Partner",
    )
    company_id = fields.Many2one(related="backend_id.company_id", store=True, index=True)
    name = fields.Char(string="File name", required=True, index=True, readonly=True)
    checksum = fields.Char(
        required=True, readonly=True, help="SHA-256 of the content", string="Checksum (SHA-256)"
    )
    size = fields.Integer(readonly=True, help="Bytes", string="Size (bytes)")
    file_format = fields.Selection(
        [("csv", "CSV"), ("x12", "X12"), ("edifact", "EDIFACT")], readonly=True, string="Format"
    )
    state = fields.Selection(
        [
            ("received", "Received"),
            ("processed", "Processed"),
            ("duplicate", "Duplicate"),
            ("error", "Error"),
        ],
        required=True,
        default="received",
        readonly=True,
        index=True,
        string="Status",
    )
    error = fields.Text(readonly=True)
    content = fields.Text(
        readonly=True,
        # a partner's file (an X12 ship-to loop, a CSV of recipients) holds personal data
        groups="logistics_integration_base.group_logistics_personal_data",
        help="The file as received (kept for unreadable files and duplicates)",
    )
    note = fields.Text(readonly=True, help="What the file did besides creating messages")
    interchange_control_number = fields.Char(
        string="Interchange control number",
        readonly=True,
        help="The partner's control reference of the interchange (X12 ISA13, EDIFACT UNB)",
    )
    interchange_sender = fields.Char(
        string="Interchange sender",
        readonly=True,
        help="The partner's id in the interchange envelope (EDIFACT UNB sender, X12 ISA06), "
        "with its qualifier",
    )
    interchange_key = fields.Char(
        string="Interchange applied",
        readonly=True,
        copy=False,
        help="Sender and control reference of the interchange this file applied: set on the "
        "first file holding it only, so that it is applied once per backend",
    )
    documents_checksum = fields.Char(
        string="Documents checksum (SHA-256)",
        readonly=True,
        copy=False,
        help="Of the documents read from the interchange: a file with the same interchange "
        "and other documents is not a mere duplicate",
    )
    duplicate_of_id = fields.Many2one(
        "logistics.sftp.file",
        string="Duplicate of",
        readonly=True,
        ondelete="set null",
        help="The file that applied the same interchange first",
    )
    message_ids = fields.One2many("logistics.message", "sftp_file_id", string="Messages")
    message_count = fields.Integer(compute="_compute_message_count", string="Number of messages")
    moved_to = fields.Char(
        string="Moved to", readonly=True, help="Where the file was moved on the SFTP server"
    )
    duplicate_count = fields.Integer(
        string="Received again", readonly=True, help="Times the same file came back (not processed)"
    )

    _sql_constraints = [
        ("file_unique", "unique(backend_id, name, checksum)", "This file was already received."),
        (
            "interchange_unique",
            "unique(backend_id, interchange_key)",
            "This interchange was already applied from another file.",
        ),
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
    def _receive(self, backend, name, data, checksum, adapter=None):
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
                record._ingest(data, adapter or backend._get_adapter())
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
    def _ingest(self, data, adapter):
        """Have the backend's adapter read the file and store what it holds, once per
        interchange."""
        self.ensure_one()
        result = adapter.read_file(self.name, data)
        vals = {"file_format": result.file_format}
        if result.control_number:
            vals["interchange_control_number"] = str(result.control_number)
        identity = result.interchange_identity()
        if identity:
            vals["interchange_sender"] = identity[0]
        self.write(vals)
        if result.error is not None:
            self._store_failure(data, result.error, result=result)
            return
        if identity and not self._claim_interchange(identity, result, data):
            return
        self._store_documents(result.documents)
        notes = self._after_read(result)
        self.write({"state": "processed", "note": "\n".join(notes) or False})

    @staticmethod
    def _documents_digest(documents):
        canonical = json.dumps(
            [[message_type, payload] for message_type, payload, _raw in documents],
            sort_keys=True,
            separators=(",", ":"),
            default=str,
        )
        return hashlib.sha256(canonical.encode()).hexdigest()

    def _claim_interchange(self, identity, result, data):
        """Whether this file applies its interchange: the first file of the backend
        holding it does (and keeps its key); another one is a duplicate -- or, with other
        documents under the same envelope, an error for the partner to fix."""
        sender, control = identity
        key = f"{sender}#{control}"
        digest = self._documents_digest(result.documents)
        first = self.search(
            [("backend_id", "=", self.backend_id.id), ("interchange_key", "=", key)], limit=1
        )
        if not first:
            self.flush_recordset()
            try:
                with self.env.cr.savepoint(flush=False):
                    # a concurrent poll claiming the same interchange waits here for this
                    # transaction, then meets its key: an expected race, not an error
                    self.env.cr.execute(
                        "UPDATE logistics_sftp_file SET interchange_key = %s, "
                        "documents_checksum = %s WHERE id = %s",
                        [key, digest, self.id],
                        log_exceptions=False,
                    )
                return True
            except psycopg2.errors.UniqueViolation:
                # applied meanwhile from another file by a concurrent poll
                _logger.info(
                    "SFTP file %s of backend %s: interchange %s applied meanwhile by a "
                    "concurrent poll",
                    self.name,
                    self.backend_id.code,
                    key,
                )
            finally:
                self.invalidate_recordset(["interchange_key", "documents_checksum"])
        if first and first.documents_checksum != digest:
            self._store_failure(
                data,
                self.env._(
                    "it carries interchange %(control)s of sender %(sender)s, already "
                    "received in file %(file)s with other content, so it was not applied "
                    "(an interchange control reference is used once)",
                    control=control,
                    sender=sender,
                    file=first.name,
                ),
                result=result,
                category="business",
            )
            return False
        self._record_duplicate(first, sender, control, data)
        return False

    def _record_duplicate(self, first, sender, control, data):
        """The interchange was applied from another file: this one is kept (content,
        state), creates no message and is archived like a processed file."""
        values = {"sender": sender, "control": control}
        if first:
            note = self.env._(
                "Same interchange (sender %(sender)s, control reference %(control)s) as file "
                "%(file)s received on %(date)s: not applied again.",
                file=first.name,
                date=fields.Datetime.to_string(first.create_date),
                **values,
            )
        else:
            note = self.env._(
                "Same interchange (sender %(sender)s, control reference %(control)s) as a "
                "file received at the same moment: not applied again.",
                **values,
            )
        self.write(
            {
                "state": "duplicate",
                "duplicate_of_id": first.id,
                "content": data.decode("utf-8", "replace")[:RAW_LIMIT],
                "note": note,
            }
        )
        _logger.info("SFTP file %s of backend %s: %s", self.name, self.backend_id.code, note)

    def _after_read(self, result):
        """Hook: what else a readable file does (after its documents are stored). Returns
        lines for the file's note."""
        return []

    # storing ----------------------------------------------------------------------------------
    def _document_vals(self, message_type, payload):
        """Hook: subject, partner reference and event time of the message a document
        becomes."""
        return {"subject": payload.get("reference") or payload.get("order_ref") or self.name}

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
                "sftp_file_id": self.id,
                **self._document_vals(message_type, payload),
            }
            for index, (message_type, payload, raw) in enumerate(entries)
        ]
        # the readers check each document against its schema already
        messages, _new = Message._store_inbound(self.backend_id, vals_list, validate=False)
        return messages

    def _failure_reply(self, result, error):
        """Hook: answer an unreadable file (e.g. a rejecting acknowledgement). Returns a
        sentence for the reason, or an empty string."""
        return ""

    def _store_failure(self, data, error, result=None, category="validation", details=None):
        """Keep an unreadable file: error state, content kept, a failed message in the
        exception queue with the reader's error."""
        text = data.decode("utf-8", "replace")
        self.write({"state": "error", "error": str(error), "content": text[:RAW_LIMIT]})
        reply = self._failure_reply(result, error) if result is not None else ""
        backend = self.backend_id
        reason = self.env._(
            "File %(file)s from %(backend)s could not be read: %(error)s. The file is kept in "
            "the error folder '%(folder)s' of the SFTP server and under Logistics › SFTP files.",
            file=self.name,
            backend=backend.name,
            error=error,
            folder=backend.sftp_error_dir or "error",
        )
        if reply:
            reason += " " + reply
        reason += " " + self.env._("Ask %s to send a corrected file.", backend.name)
        messages, _new = self.env["logistics.message"]._store_inbound(
            backend,
            [
                {
                    "message_type": (result.message_type if result else None) or "unknown",
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

    # server side ------------------------------------------------------------------------------
    def _finish(self, adapter, conn):
        """Move the file out of the inbound folder (archive, or error folder for unreadable
        files), through the backend's adapter. Safe to repeat."""
        for record in self:
            path = adapter.finish_file(conn, record.name, failed=record.state == "error")
            if path:
                record.moved_to = path
