"""SFTP file exchange with a 3PL: settings on the backend, inbound file tracking, polling.

Inbound files are processed once: each is tracked by (name, SHA-256 checksum) and moved
to the archive folder; a file seen before is only archived again. A file that fails to
parse is moved to the error folder, its content kept here, and a failed message carries
the X12 segment and element (or CSV line and column) that failed into the exception
queue. Every X12 interchange received is answered with a 997 (accepted, or rejected with
AK3/AK4 when the envelope could be read).
"""

import json
import logging

from odoo import _, api, fields, models
from odoo.exceptions import ValidationError

from ..formats import csv_format, x12
from ..transport import sftp

_logger = logging.getLogger(__name__)

SFTP_SECRETS = ("sftp_password", "sftp_private_key", "sftp_private_key_passphrase")
CSV_PARSERS = {  # file name prefix -> (canonical type, parser returning a list of payloads)
    "shipment": ("shipment.confirmed", csv_format.parse_shipments_csv),
    "inventory": ("inventory.snapshot", lambda text: [csv_format.parse_inventory_csv(text)]),
}


class LogisticsBackend(models.Model):
    _inherit = "logistics.backend"

    sftp_host = fields.Char(string="SFTP host")
    sftp_port = fields.Integer(string="SFTP port", default=22)
    sftp_username = fields.Char(string="SFTP user")
    sftp_password = fields.Char(
        compute="_compute_secret_fields", inverse="_inverse_sftp_password", copy=False
    )
    sftp_private_key = fields.Text(
        compute="_compute_secret_fields",
        inverse="_inverse_sftp_private_key",
        copy=False,
        help="OpenSSH or PEM private key (RSA, ECDSA, Ed25519). Write-only.",
    )
    sftp_private_key_passphrase = fields.Char(
        compute="_compute_secret_fields",
        inverse="_inverse_sftp_private_key_passphrase",
        copy=False,
    )
    sftp_password_set = fields.Boolean(compute="_compute_sftp_secret_flags")
    sftp_private_key_set = fields.Boolean(compute="_compute_sftp_secret_flags")
    sftp_host_key = fields.Text(
        string="SFTP host key",
        help="The server's public key (a '<type> <base64>' line, or ssh-keyscan output). "
        "Connections to a server presenting any other key are refused.",
    )
    sftp_inbound_dir = fields.Char(default="inbound")
    sftp_outbound_dir = fields.Char(default="outbound")
    sftp_archive_dir = fields.Char(default="archive")
    sftp_error_dir = fields.Char(default="error")
    sftp_min_file_age = fields.Integer(
        default=0, help="Seconds: younger inbound files may still be being written"
    )
    file_format = fields.Selection([("csv", "CSV"), ("x12", "ANSI X12 004010")], default="x12")
    x12_sender_qualifier = fields.Char(default="ZZ")
    x12_sender_id = fields.Char(string="X12 sender id (ours)")
    x12_receiver_qualifier = fields.Char(default="ZZ")
    x12_receiver_id = fields.Char(string="X12 receiver id (3PL)")
    x12_control_number = fields.Integer(
        readonly=True, copy=False, default=0, help="Last interchange/group control number used"
    )
    sftp_file_ids = fields.One2many("logistics.sftp.file", "backend_id")

    def _compute_secret_fields(self):
        super()._compute_secret_fields()
        for backend in self:
            for name in SFTP_SECRETS:
                backend[name] = False

    def _compute_sftp_secret_flags(self):
        stored = {(r.backend_id.id, r.key) for r in self._secret_records()}
        for backend in self:
            backend.sftp_password_set = (backend.id, "sftp_password") in stored
            backend.sftp_private_key_set = (backend.id, "sftp_private_key") in stored

    def _inverse_sftp_password(self):
        self._inverse_secret("sftp_password")

    def _inverse_sftp_private_key(self):
        self._inverse_secret("sftp_private_key")

    def _inverse_sftp_private_key_passphrase(self):
        self._inverse_secret("sftp_private_key_passphrase")

    def write(self, vals):
        result = super().write(vals)
        if set(SFTP_SECRETS) & vals.keys():
            self.invalidate_recordset(list(SFTP_SECRETS))
        return result

    @api.constrains("protocol", "sftp_host_key")
    def _check_sftp_host_key(self):
        for backend in self.filtered(lambda b: b.protocol == "sftp" and b.sftp_host_key):
            try:
                sftp.parse_host_keys(backend.sftp_host_key)
            except sftp.SFTPError as exc:
                raise ValidationError(_("SFTP host key: %s", exc)) from None

    # behaviour ----------------------------------------------------------------------------
    def _get_adapter(self):
        if self.protocol == "sftp":
            from ..adapters.sftp_files import SftpFilesAdapter

            return SftpFilesAdapter(self)
        return super()._get_adapter()

    def _sftp_settings(self):
        self.ensure_one()
        return sftp.SFTPSettings(
            host=self.sftp_host or "",
            port=self.sftp_port or 22,
            username=self.sftp_username or "",
            password=self._get_secret("sftp_password"),
            private_key=self._get_secret("sftp_private_key"),
            private_key_passphrase=self._get_secret("sftp_private_key_passphrase"),
            host_key=self.sftp_host_key or "",
            timeout=self.timeout or 15.0,
            inbound_dir=self.sftp_inbound_dir or "inbound",
            outbound_dir=self.sftp_outbound_dir or "outbound",
            archive_dir=self.sftp_archive_dir or "archive",
            error_dir=self.sftp_error_dir or "error",
            min_file_age=self.sftp_min_file_age or 0,
        )

    def _x12_next_control_number(self):
        """A new control number, never repeated: incremented in the database row (the row
        lock serialises concurrent jobs until their commit)."""
        self.ensure_one()
        self.flush_recordset(["x12_control_number"])
        self.env.cr.execute(
            "UPDATE logistics_backend SET x12_control_number = COALESCE(x12_control_number, 0) + 1 "
            "WHERE id = %s RETURNING x12_control_number",
            [self.id],
        )
        number = self.env.cr.fetchone()[0]
        self.invalidate_recordset(["x12_control_number"])
        return number

    def _x12_envelope(self):
        number = self._x12_next_control_number()
        return x12.Envelope(
            sender_qualifier=self.x12_sender_qualifier or "ZZ",
            sender_id=self.x12_sender_id or self.env.company.name[:15],
            receiver_qualifier=self.x12_receiver_qualifier or "ZZ",
            receiver_id=self.x12_receiver_id or self.code[:15].upper(),
            interchange_control_number=number,
            group_control_number=number,
        )

    # polling --------------------------------------------------------------------------------
    @api.model
    def _cron_poll_sftp(self):
        for backend in self.search([("protocol", "=", "sftp")]):
            try:
                backend._sftp_poll()
            except sftp.SFTPError as exc:
                _logger.warning("SFTP poll of backend %s failed: %s", backend.code, exc)
                backend.message_post(body=_("Polling the SFTP server failed: %s", exc))

    def _sftp_poll(self):
        """Fetch, record, parse and archive every complete inbound file; returns the
        ``logistics.sftp.file`` records created."""
        self.ensure_one()
        SftpFile = self.env["logistics.sftp.file"].sudo()
        created = SftpFile.browse()
        with sftp.SFTPConnection(self._sftp_settings()) as conn:
            conn.ensure_dirs()
            for remote in conn.list_ready():
                data = conn.read(remote.name)
                checksum = sftp.file_checksum(data)
                if SftpFile.search_count(
                    [
                        ("backend_id", "=", self.id),
                        ("name", "=", remote.name),
                        ("checksum", "=", checksum),
                    ]
                ):
                    conn.archive(remote.name)  # seen before: processed once only
                    continue
                record = SftpFile.create(
                    {
                        "backend_id": self.id,
                        "name": remote.name,
                        "checksum": checksum,
                        "size": len(data),
                        "state": "received",
                    }
                )
                record._process(conn, data)
                created |= record
        return created


class LogisticsSftpFile(models.Model):
    _name = "logistics.sftp.file"
    _description = "File exchanged with a 3PL over SFTP"
    _order = "id desc"

    backend_id = fields.Many2one("logistics.backend", required=True, ondelete="cascade", index=True)
    name = fields.Char(required=True, index=True)
    checksum = fields.Char(required=True, help="SHA-256 of the content")
    size = fields.Integer()
    state = fields.Selection(
        [("received", "Received"), ("processed", "Processed"), ("error", "Error")],
        required=True,
        default="received",
    )
    error = fields.Text()
    content = fields.Text(help="Kept for files that failed to parse")
    message_ids = fields.One2many("logistics.message", "sftp_file_id", string="Messages")
    ack_file = fields.Char(string="997 sent")
    company_id = fields.Many2one(related="backend_id.company_id", store=True)

    _sql_constraints = [
        ("file_unique", "unique(backend_id, name, checksum)", "This file was already received."),
    ]

    def _process(self, conn, data):
        self.ensure_one()
        backend = self.backend_id
        text = data.decode("utf-8", errors="replace")
        interchange = None
        try:
            if backend.file_format == "x12" or text.lstrip().startswith("ISA"):
                interchange = x12.parse_interchange(text)
                documents = x12.parse_documents(interchange)
            else:
                documents = self._parse_csv(text)
        except (x12.X12ParseError, csv_format.CSVParseError) as exc:
            self._reject(conn, text, interchange, exc)
            return
        Message = self.env["logistics.message"].sudo()
        messages = Message.browse()
        for index, (message_type, payload) in enumerate(documents):
            if message_type == "functional.ack":
                continue  # 997s for what we sent: nothing to process
            messages |= Message.create(
                {
                    "backend_id": backend.id,
                    "direction": "in",
                    "message_type": message_type,
                    "idempotency_key": f"sftp:{self.name}:{self.checksum}:{index}",
                    "state": "received",
                    "payload": json.dumps(payload, indent=2, sort_keys=True),
                    "raw_payload": text if len(text) < 200000 else False,
                    "subject": payload.get("order_ref") or payload.get("snapshot_ref") or self.name,
                    "sftp_file_id": self.id,
                }
            )
        messages._enqueue()
        if interchange is not None:
            self._send_997(conn, interchange, accepted=True)
        conn.archive(self.name)
        self.state = "processed"

    def _parse_csv(self, text):
        prefix = self.name.split("_", 1)[0].split(".", 1)[0].lower()
        if prefix not in CSV_PARSERS:
            raise csv_format.CSVParseError(
                f"file name '{self.name}' does not say what it holds: expected a name starting "
                f"with {' or '.join(p + '_' for p in CSV_PARSERS)}",
                0,
                "file name",
            )
        message_type, parser = CSV_PARSERS[prefix]
        return [(message_type, payload) for payload in parser(text)]

    def _reject(self, conn, text, interchange, exc):
        reason = _("File %(name)s could not be read: %(error)s", name=self.name, error=exc)
        conn.move_to_error(self.name)
        if interchange is not None:
            self._send_997(conn, interchange, accepted=False, errors=[exc])
        self.write({"state": "error", "error": str(exc), "content": text})
        self.env["logistics.message"].sudo().create(
            {
                "backend_id": self.backend_id.id,
                "direction": "in",
                "message_type": "unknown",
                "idempotency_key": f"sftp:{self.name}:{self.checksum}",
                "state": "failed",
                "error_category": "validation",
                "error_message": reason,
                "raw_payload": text,
                "subject": self.name,
                "sftp_file_id": self.id,
            }
        )

    def _send_997(self, conn, interchange, accepted, errors=None):
        backend = self.backend_id
        envelope = x12.Envelope.reply_to(
            interchange, interchange_control_number=backend._x12_next_control_number()
        )
        content = x12.build_997(interchange, accepted=accepted, errors=errors, envelope=envelope)
        name = f"997_{interchange.control_number}_{envelope.interchange_control_number}.x12"
        conn.put_atomic(name, content.encode())
        self.ack_file = name


class LogisticsMessage(models.Model):
    _inherit = "logistics.message"

    sftp_file_id = fields.Many2one(
        "logistics.sftp.file",
        string="SFTP file",
        readonly=True,
        ondelete="set null",
        index="btree_not_null",
    )
