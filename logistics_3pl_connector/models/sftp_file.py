"""SFTP file exchange with a 3PL: settings on the backend, inbound file tracking, polling.

Outbound messages are written by the ``sftp`` adapter (``adapters/sftp_files.py``), picked
by ``_get_adapter`` when the backend's protocol is SFTP.

Inbound files are processed once: each is tracked by (name, SHA-256 checksum); a file seen
before is only moved away again. A cron (``_cron_poll_sftp``) takes every complete file of
the inbound folder (``.part`` uploads and files younger than the minimum age are left
alone), parses it (X12 or CSV), stores one inbound message per document and queues it,
prepares the 997 for X12 interchanges, commits, and only then uploads the 997 and moves
the file to the archive folder: a crash in between leaves the file in the inbound folder,
and the next poll recognises it (name + checksum), sends the 997 still owed and archives
it, without processing it twice.

A file that fails to parse is moved to the error folder, its content kept here, and a
failed message carries the X12 segment and element (or CSV line and column) into the
exception queue; an X12 interchange whose envelope could be read is answered with a
rejecting 997 (AK3/AK4/AK5 R/AK9 R). 997s received for our 940s mark the outbound message
acknowledged (or failed, with the 3PL's error codes, when rejected).

Control numbers (ISA13 and GS06 of every interchange we write, 940s and 997s) come from a
PostgreSQL sequence per backend (an ``ir.sequence``, standard implementation): ``nextval``
is atomic and never rolled back, so two jobs never get the same number, and a number used
by a file that was uploaded before its transaction failed is not handed out again.
"""

import dataclasses
import json
import logging
import posixpath
import traceback
import uuid

import psycopg2

from odoo import _, api, fields, models
from odoo.exceptions import UserError, ValidationError
from odoo.modules import module as odoo_module

from odoo.addons.logistics_integration_base.tools import secrets as secret_box
from odoo.addons.logistics_integration_base.tools.canonical import to_naive_utc
from odoo.addons.logistics_integration_base.transport import sftp
from odoo.addons.logistics_integration_base.transport.http import TransportError

from ..formats import csv_format, x12

_logger = logging.getLogger(__name__)

SFTP_SECRETS = ("sftp_password", "sftp_private_key", "sftp_private_key_passphrase")
MAX_CONTROL_NUMBER = 999_999_999
RAW_LIMIT = 500_000  # characters of a file kept on each message / file record

# CSV files: what a file holds, from its name prefix (``shipment_SHP-1.csv``) or, failing
# that, from its header (a ``shipment_ref`` or ``snapshot_ref`` column).
CSV_KINDS = {
    "shipment": ("shipment.confirmed", csv_format.parse_shipments_csv),
    "inventory": ("inventory.snapshot", lambda data: [csv_format.parse_inventory_csv(data)]),
}
CSV_PREFIXES = {
    "shipment": "shipment",
    "shipments": "shipment",
    "ship": "shipment",
    "945": "shipment",
    "inventory": "inventory",
    "stock": "inventory",
    "846": "inventory",
}
CSV_HEADER_KEYS = {"shipment_ref": "shipment", "snapshot_ref": "inventory"}
X12_PREFIXES = {"945": "shipment.confirmed", "846": "inventory.snapshot", "940": "order.release"}

# 997 codes, for operators reading a rejection from the 3PL.
AK304_SEGMENT_ERRORS = {
    "1": "unrecognized segment",
    "2": "unexpected segment",
    "3": "mandatory segment missing",
    "4": "loop occurs too often",
    "5": "segment occurs too often",
    "6": "segment not in the transaction set",
    "7": "segment out of sequence",
    "8": "segment has data element errors",
}
AK403_ELEMENT_ERRORS = {
    "1": "mandatory element missing",
    "2": "conditional element missing",
    "3": "too many elements",
    "4": "value too short",
    "5": "value too long",
    "6": "invalid character",
    "7": "invalid code value",
    "8": "invalid date",
    "9": "invalid time",
    "10": "exclusion condition violated",
}


def _now():
    return fields.Datetime.now()


def _commit_allowed():
    """Crons commit after each file; tests run in one transaction that must not commit."""
    return not odoo_module.current_test


class LogisticsBackend(models.Model):
    _inherit = "logistics.backend"

    sftp_host = fields.Char(string="SFTP host")
    sftp_port = fields.Integer(string="SFTP port", default=22)
    sftp_username = fields.Char(string="SFTP user")
    sftp_password = fields.Char(
        string="SFTP password",
        compute="_compute_secret_fields",
        inverse="_inverse_sftp_password",
        copy=False,
        help="Write-only: stored encrypted, never shown again.",
    )
    sftp_private_key = fields.Text(
        string="SFTP private key",
        compute="_compute_secret_fields",
        inverse="_inverse_sftp_private_key",
        copy=False,
        help="OpenSSH or PEM private key (RSA, ECDSA, Ed25519). Write-only: stored encrypted, "
        "never shown again. Tried before the password when both are set.",
    )
    sftp_private_key_passphrase = fields.Char(
        string="Private key passphrase",
        compute="_compute_secret_fields",
        inverse="_inverse_sftp_private_key_passphrase",
        copy=False,
        help="Write-only.",
    )
    sftp_password_set = fields.Boolean(compute="_compute_sftp_secret_flags")
    sftp_private_key_set = fields.Boolean(compute="_compute_sftp_secret_flags")
    sftp_private_key_passphrase_set = fields.Boolean(compute="_compute_sftp_secret_flags")
    sftp_host_key = fields.Text(
        string="SFTP host key",
        help="The server's public key: a '<type> <base64>' line, a known_hosts line, or the "
        "output of 'ssh-keyscan -p PORT HOST' (several lines accept any of those keys). "
        "Required: a server presenting any other key is refused before anything is sent to it. "
        "Test connection shows the fingerprint the server offers.",
    )
    sftp_inbound_dir = fields.Char(
        string="Inbound folder", default="inbound", help="Where the 3PL drops files for us"
    )
    sftp_outbound_dir = fields.Char(
        string="Outbound folder", default="outbound", help="Where we write files for the 3PL"
    )
    sftp_archive_dir = fields.Char(
        string="Archive folder", default="archive", help="Processed inbound files are moved here"
    )
    sftp_error_dir = fields.Char(
        string="Error folder", default="error", help="Unreadable inbound files are moved here"
    )
    sftp_min_file_age = fields.Integer(
        string="Minimum file age (s)",
        default=0,
        help="Inbound files modified less than this many seconds ago are left for a later poll. "
        "Files named *.part, *.tmp or *.filepart are never taken. Set e.g. 60 when the 3PL "
        "writes its files in place instead of renaming a temporary file.",
    )
    file_format = fields.Selection(
        [("csv", "CSV"), ("x12", "ANSI X12 004010")],
        default="x12",
        help="Format of the files exchanged over SFTP (see the module's FORMATS.md).",
    )
    x12_sender_qualifier = fields.Char(
        string="X12 sender qualifier", default="ZZ", help="ISA05: qualifier of our id (ZZ, 01...)"
    )
    x12_sender_id = fields.Char(string="X12 sender id", help="ISA06: our interchange id")
    x12_receiver_qualifier = fields.Char(
        string="X12 receiver qualifier", default="ZZ", help="ISA07: qualifier of the 3PL's id"
    )
    x12_receiver_id = fields.Char(string="X12 receiver id", help="ISA08: the 3PL's interchange id")
    x12_usage_indicator = fields.Selection(
        [("P", "Production"), ("T", "Test")], string="X12 usage", default="P", help="ISA15"
    )
    x12_sequence_id = fields.Many2one(
        "ir.sequence",
        string="X12 control number sequence",
        readonly=True,
        copy=False,
        ondelete="restrict",
    )
    x12_next_control_number = fields.Integer(
        string="Next X12 control number",
        compute="_compute_x12_next_control_number",
        inverse="_inverse_x12_next_control_number",
        help="Interchange and group control number of the next file we write (940 or 997). "
        "It only goes up: numbers are never reused.",
    )
    sftp_last_poll_at = fields.Datetime(string="Last SFTP poll", readonly=True, copy=False)
    sftp_last_poll_error = fields.Text(string="Last SFTP poll error", readonly=True, copy=False)
    sftp_file_ids = fields.One2many("logistics.sftp.file", "backend_id", string="SFTP files")
    sftp_file_count = fields.Integer(compute="_compute_sftp_file_count")

    # secrets --------------------------------------------------------------------------------
    @api.model_create_multi
    def create(self, vals_list):
        backends = super().create(vals_list)
        backends.invalidate_recordset(list(SFTP_SECRETS))  # written values never linger
        backends.filtered(lambda b: b.protocol == "sftp")._x12_sequence()
        return backends

    def write(self, vals):
        result = super().write(vals)
        if set(SFTP_SECRETS) & vals.keys():
            self.invalidate_recordset(list(SFTP_SECRETS))
        if vals.get("protocol") == "sftp":
            self._x12_sequence()
        return result

    def _compute_secret_fields(self):
        res = super()._compute_secret_fields()
        for backend in self:
            for name in SFTP_SECRETS:
                backend[name] = False
        return res

    def _compute_sftp_secret_flags(self):
        stored = {(rec.backend_id.id, rec.key) for rec in self._secret_records()}
        for backend in self:
            for name in SFTP_SECRETS:
                backend[f"{name}_set"] = (backend.id, name) in stored

    def _inverse_sftp_password(self):
        self._inverse_secret("sftp_password")

    def _inverse_sftp_private_key(self):
        for backend in self:
            key = backend.sftp_private_key
            if key:  # check it can be read before storing it (the passphrase may follow)
                try:
                    sftp.load_private_key(
                        key, backend._get_secret_safe("sftp_private_key_passphrase")
                    )
                except sftp.SFTPConfigError as exc:
                    if "passphrase" not in str(exc):
                        raise ValidationError(_("SFTP private key: %s", exc)) from None
        self._inverse_secret("sftp_private_key")

    def _inverse_sftp_private_key_passphrase(self):
        self._inverse_secret("sftp_private_key_passphrase")

    def _compute_sftp_file_count(self):
        counts = dict(
            self.env["logistics.sftp.file"]._read_group(
                [("backend_id", "in", self.ids)], ["backend_id"], ["__count"]
            )
        )
        for backend in self:
            backend.sftp_file_count = counts.get(backend, 0)

    # checks ---------------------------------------------------------------------------------
    @api.constrains("protocol", "sftp_host_key")
    def _check_sftp_host_key(self):
        for backend in self.filtered(lambda b: b.protocol == "sftp" and b.sftp_host_key):
            try:
                sftp.parse_host_keys(backend.sftp_host_key)
            except sftp.SFTPError as exc:
                raise ValidationError(_("SFTP host key: %s", exc)) from None

    @api.constrains(
        "x12_sender_qualifier", "x12_sender_id", "x12_receiver_qualifier", "x12_receiver_id"
    )
    def _check_x12_ids(self):
        for backend in self:
            for label, qualifier, ident in (
                (_("sender"), backend.x12_sender_qualifier, backend.x12_sender_id),
                (_("receiver"), backend.x12_receiver_qualifier, backend.x12_receiver_id),
            ):
                if qualifier and len(qualifier) != 2:
                    raise ValidationError(
                        _("The X12 %(which)s qualifier must be 2 characters.", which=label)
                    )
                if ident and (len(ident) > 15 or any(c in ident for c in "*>~\r\n")):
                    raise ValidationError(
                        _(
                            "The X12 %(which)s id must be at most 15 characters, without "
                            "'*', '>' or '~'.",
                            which=label,
                        )
                    )

    # control numbers ----------------------------------------------------------------------
    def _x12_sequence(self):
        """The backend's control number sequence, created on first use."""
        for backend in self.filtered(lambda b: not b.x12_sequence_id):
            sequence = (
                self.env["ir.sequence"]
                .sudo()
                .create(
                    {
                        "name": _("X12 control numbers of %s", backend.name),
                        "implementation": "standard",  # nextval: atomic, never rolled back
                        "number_next": 1,
                        "number_increment": 1,
                        "padding": 0,
                        "company_id": False,
                    }
                )
            )
            backend.sudo().x12_sequence_id = sequence
        return self[:1].x12_sequence_id.sudo()

    def _compute_x12_next_control_number(self):
        for backend in self:
            sequence = backend.x12_sequence_id.sudo()
            backend.x12_next_control_number = sequence.number_next_actual if sequence else 1

    def _inverse_x12_next_control_number(self):
        for backend in self:
            wanted = backend.x12_next_control_number
            sequence = backend.x12_sequence_id.sudo()
            current = sequence.number_next_actual if sequence else 1
            if not wanted or wanted == current:
                continue
            if wanted < current:
                raise ValidationError(
                    _(
                        "X12 control numbers never go back: the next one of %(backend)s is "
                        "already %(current)s.",
                        backend=backend.name,
                        current=current,
                    )
                )
            if wanted > MAX_CONTROL_NUMBER:
                raise ValidationError(_("X12 control numbers have at most 9 digits."))
            backend._x12_sequence().number_next_actual = wanted

    def _x12_next_control_number(self):
        """A new control number: increasing, never handed out twice (also across concurrent
        jobs and rolled back transactions)."""
        self.ensure_one()
        number = int(self._x12_sequence().next_by_id())
        if number > MAX_CONTROL_NUMBER:
            raise UserError(
                _(
                    "The X12 control numbers of %s are exhausted (9 digits): agree a restart "
                    "with the 3PL and create a new backend.",
                    self.name,
                )
            )
        return number

    def _x12_envelope(self, number=None):
        """Envelope of an interchange we send to the 3PL (ISA13 = GS06 = ``number``)."""
        self.ensure_one()
        number = number or self._x12_next_control_number()
        company = (self.company_id or self.env.company).name or "ODOO"
        return x12.Envelope(
            sender_qualifier=self.x12_sender_qualifier or "ZZ",
            sender_id=self.x12_sender_id or company[:15].strip(),
            receiver_qualifier=self.x12_receiver_qualifier or "ZZ",
            receiver_id=self.x12_receiver_id or self.code[:15].upper(),
            interchange_control_number=number,
            group_control_number=number,
            usage_indicator=self.x12_usage_indicator or "P",
        )

    # connection -------------------------------------------------------------------------------
    def _get_adapter(self):
        self.ensure_one()
        if self.protocol == "sftp":
            from ..adapters.sftp_files import SftpFilesAdapter

            return SftpFilesAdapter(self)
        return super()._get_adapter()

    def _sftp_settings(self):
        """Connection settings; raises ``sftp.SFTPConfigError`` when they cannot work."""
        self.ensure_one()
        return sftp.SFTPSettings(
            host=(self.sftp_host or "").strip(),
            port=self.sftp_port or 22,
            username=(self.sftp_username or "").strip(),
            password=self._get_secret("sftp_password"),
            private_key=self._get_secret("sftp_private_key"),
            private_key_passphrase=self._get_secret("sftp_private_key_passphrase"),
            host_key=self.sftp_host_key or "",
            timeout=self.timeout or 15.0,
            inbound_dir=self.sftp_inbound_dir or "inbound",
            outbound_dir=self.sftp_outbound_dir or "outbound",
            archive_dir=self.sftp_archive_dir or "archive",
            error_dir=self.sftp_error_dir or "error",
            min_file_age=max(self.sftp_min_file_age or 0, 0),
        )

    def action_test_connection(self):
        """SFTP: connect (host key checked first), authenticate and list the inbound folder;
        a refused host key is reported with both fingerprints and the key offered."""
        self.ensure_one()
        if self.protocol != "sftp":
            return super().action_test_connection()
        title = _("Connection to %s failed", self.name)
        try:
            summary = self._get_adapter().test_connection()
        except TransportError as exc:
            message = str(exc)
            offered = getattr(exc, "offered_key", None)
            if offered:
                message += "\n" + _(
                    "Key offered by the server (paste it as the SFTP host key only once the 3PL "
                    "has confirmed its fingerprint): %s",
                    offered,
                )
            return self._notify(title, message, "danger")
        except (secret_box.SecretKeyMissing, secret_box.SecretUndecryptable) as exc:
            return self._notify(title, str(exc), "danger")
        return self._notify(_("Connection to %s works", self.name), summary, "success")

    # polling --------------------------------------------------------------------------------
    @api.model
    def _cron_poll_sftp(self):
        """Cron: fetch the inbound files of every SFTP backend. A backend that cannot be
        polled is logged and reported on its chatter; the others go on."""
        commit = _commit_allowed()
        total = 0
        for backend in self.search([("protocol", "=", "sftp")]):
            total += len(backend._sftp_poll_safe(commit=commit))
        return total

    def action_sftp_poll_now(self):
        """Button: poll this backend's inbound folder now."""
        self.ensure_one()
        files = self._sftp_poll_safe(commit=_commit_allowed())
        if self.sftp_last_poll_error:
            return self._notify(
                _("Polling %s failed", self.name), self.sftp_last_poll_error, "danger"
            )
        errors = files.filtered(lambda f: f.state == "error")
        message = _(
            "%(count)s new file(s), %(errors)s unreadable.", count=len(files), errors=len(errors)
        )
        return self._notify(
            _("SFTP folder of %s polled", self.name), message, "warning" if errors else "success"
        )

    def _sftp_poll_safe(self, commit=False):
        """Poll, never raise: the outcome is recorded on the backend."""
        self.ensure_one()
        files = self.env["logistics.sftp.file"]
        error = None
        try:
            files = self._sftp_poll(commit=commit)
        except (sftp.SFTPError, TransportError, UserError) as exc:
            error = str(exc)
        except (secret_box.SecretKeyMissing, secret_box.SecretUndecryptable) as exc:
            error = str(exc)
        except Exception as exc:
            _logger.exception("SFTP poll of backend %s", self.code)
            if commit:
                self.env.cr.rollback()  # pylint: disable=invalid-commit
            error = f"{type(exc).__name__}: {exc}"
        self._sftp_record_poll(error)
        if commit:
            self.env.cr.commit()  # pylint: disable=invalid-commit
        return files

    def _sftp_record_poll(self, error):
        """Remember the poll; post on the chatter when polling starts failing (once per
        distinct error, not every few minutes) and when it works again."""
        vals = {"sftp_last_poll_at": _now()}
        if error:
            _logger.warning("SFTP poll of backend %s failed: %s", self.code, error)
            if error != self.sftp_last_poll_error:
                self.message_post(body=_("Polling the SFTP server failed: %s", error))
            vals["sftp_last_poll_error"] = error
        elif self.sftp_last_poll_error:
            self.message_post(body=_("Polling the SFTP server works again."))
            vals["sftp_last_poll_error"] = False
        self.sudo().write(vals)

    def _sftp_poll(self, commit=False):
        """Fetch, record, parse and move every complete inbound file; return the
        ``logistics.sftp.file`` records created. With ``commit``, each file's records are
        committed before the file is moved on the server."""
        self.ensure_one()
        Files = self.env["logistics.sftp.file"].sudo()
        created = Files.browse()
        with sftp.SFTPConnection(self._sftp_settings()) as conn:
            conn.ensure_dirs()
            for remote in conn.list_ready():
                try:
                    data = conn.read(remote.name)
                except sftp.SFTPFileNotFound:
                    continue  # taken meanwhile by another poll
                checksum = sftp.file_checksum(data)
                record = Files._find(self, remote.name, checksum)
                if record:
                    if record.moved_to:  # moved away before: the 3PL sent it again
                        record.duplicate_count += 1
                else:
                    record = Files._receive(self, remote.name, data, checksum)
                    if not record:
                        continue  # stored meanwhile by a concurrent poll, which moves it
                    created |= record
                # The server is not transactional: commit what the file became before
                # moving it, so that a crash leaves it in the inbound folder to be
                # recognised (name + checksum) rather than moved away and forgotten.
                if commit:
                    self.env.cr.commit()  # pylint: disable=invalid-commit
                record._finish(conn)
                if commit:
                    self.env.cr.commit()  # pylint: disable=invalid-commit
        return created

    def action_view_sftp_files(self):
        action = self.env["ir.actions.act_window"]._for_xml_id(
            "logistics_3pl_connector.action_logistics_sftp_file"
        )
        action["domain"] = [("backend_id", "in", self.ids)]
        action["context"] = {}
        return action


class LogisticsSftpFile(models.Model):
    _name = "logistics.sftp.file"
    _description = "File received from a 3PL over SFTP"
    _order = "id desc"

    backend_id = fields.Many2one(
        "logistics.backend", required=True, ondelete="cascade", index=True, readonly=True
    )
    company_id = fields.Many2one(related="backend_id.company_id", store=True, index=True)
    name = fields.Char(string="File name", required=True, index=True, readonly=True)
    checksum = fields.Char(required=True, readonly=True, help="SHA-256 of the content")
    size = fields.Integer(readonly=True, help="Bytes")
    file_format = fields.Selection([("csv", "CSV"), ("x12", "X12")], readonly=True)
    state = fields.Selection(
        [("received", "Received"), ("processed", "Processed"), ("error", "Error")],
        required=True,
        default="received",
        readonly=True,
        index=True,
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
                _("unexpected error (%(type)s: %(error)s)", type=type(exc).__name__, error=exc),
                category="technical",
                details=traceback.format_exc(),
            )
        return record

    # parsing ----------------------------------------------------------------------------------
    def _ingest(self, data):
        self.ensure_one()
        if self.backend_id.file_format == "x12" or data.lstrip()[:3] == b"ISA":
            self._ingest_x12(data)
        else:
            self._ingest_csv(data)

    def _ingest_x12(self, data):
        self.file_format = "x12"
        interchange = None
        try:
            interchange = x12.parse_interchange(data)
            documents = x12.parse_documents(interchange)
        except x12.X12ParseError as exc:
            self._store_failure(data, exc, interchange=interchange)
            return
        self.interchange_control_number = interchange.control_number
        entries, notes = [], []
        for ts, (message_type, payload) in zip(
            interchange.transaction_sets, documents, strict=True
        ):
            if message_type == "functional.ack":
                notes.append(self._apply_997(payload))
                continue
            entries.append((message_type, payload, self._render_set(ts)))
        self._store_documents(entries)
        self._prepare_997(interchange)
        self.write({"state": "processed", "note": "\n".join(notes) or False})

    def _ingest_csv(self, data):
        self.file_format = "csv"
        try:
            message_type, parser = CSV_KINDS[self._csv_kind(data)]
            documents = parser(data)
        except csv_format.CSVParseError as exc:
            self._store_failure(data, exc)
            return
        text = data.decode("utf-8", "replace")[:RAW_LIMIT]
        self._store_documents([(message_type, payload, text) for payload in documents])
        self.state = "processed"

    def _csv_kind(self, data):
        stem = self.name.rsplit("/", 1)[-1]
        prefix = stem.split("_", 1)[0].split("-", 1)[0].split(".", 1)[0].lower()
        if prefix in CSV_PREFIXES:
            return CSV_PREFIXES[prefix]
        header = data.lstrip(b"\xef\xbb\xbf").split(b"\n", 1)[0].decode("utf-8", "replace")
        columns = {column.strip().strip('"').lower() for column in header.split(",")}
        for column, kind in CSV_HEADER_KEYS.items():
            if column in columns:
                return kind
        raise csv_format.CSVParseError(
            f"cannot tell what file {self.name} holds: name it shipment_<ref>.csv or "
            "inventory_<ref>.csv, or give it a shipment_ref or snapshot_ref column",
            1,
        )

    @staticmethod
    def _render_set(ts):
        sep = ts.separators
        return "".join(sep.element.join(segment) + sep.segment + "\n" for segment in ts.segments)

    def _guess_type(self, error):
        code = getattr(error, "transaction_set", None)
        if code in x12.MESSAGE_TYPES:
            return x12.MESSAGE_TYPES[code]
        prefix = self.name.split("_", 1)[0].lower()
        if prefix in X12_PREFIXES:
            return X12_PREFIXES[prefix]
        if prefix in CSV_PREFIXES:
            return CSV_KINDS[CSV_PREFIXES[prefix]][0]
        return "unknown"

    # storing ----------------------------------------------------------------------------------
    def _subject(self, message_type, payload):
        if message_type == "shipment.confirmed":
            return _(
                "Shipment %(shipment)s of order %(order)s",
                shipment=payload.get("shipment_ref"),
                order=payload.get("order_ref"),
            )
        if message_type == "inventory.snapshot":
            return _(
                "Inventory %(ref)s of warehouse %(warehouse)s",
                ref=payload.get("snapshot_ref"),
                warehouse=payload.get("warehouse_code"),
            )
        return payload.get("order_ref") or self.name

    def _store_documents(self, entries):
        """One inbound message per document, queued for processing."""
        Message = self.env["logistics.message"].sudo()
        registry = Message._schema_registry()
        correlation = str(uuid.uuid4())  # every message of one file shares it
        vals_list = []
        for index, (message_type, payload, raw) in enumerate(entries):
            vals_list.append(
                {
                    "backend_id": self.backend_id.id,
                    "direction": "in",
                    "message_type": message_type,
                    "schema_version": registry.latest_version(message_type) or 1,
                    "idempotency_key": f"sftp:{self.name}:{self.checksum}:{index}",
                    "state": "received",
                    "payload": json.dumps(payload, indent=2, sort_keys=True),
                    "raw_payload": raw,
                    "correlation_id": correlation,
                    "external_id": payload.get("shipment_ref") or payload.get("snapshot_ref"),
                    "event_time": to_naive_utc(payload.get("shipped_at") or payload.get("as_of")),
                    "subject": self._subject(message_type, payload),
                    "sftp_file_id": self.id,
                }
            )
        messages = Message.create(vals_list)
        messages._enqueue()
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
        reason = _(
            "File %(file)s from %(backend)s could not be read: %(error)s. The file is kept in "
            "the error folder '%(folder)s' of the SFTP server and under Logistics › SFTP files.",
            file=self.name,
            backend=backend.name,
            error=error,
            folder=backend.sftp_error_dir or "error",
        )
        if acked:
            reason += " " + _("A 997 rejecting it was sent back.")
        reason += " " + _("Ask the 3PL to send a corrected file.")
        message = (
            self.env["logistics.message"]
            .sudo()
            .create(
                {
                    "backend_id": backend.id,
                    "direction": "in",
                    "message_type": self._guess_type(error),
                    "idempotency_key": f"sftp:{self.name}:{self.checksum}",
                    "state": "failed",
                    "error_category": category,
                    "error_message": reason if not details else f"{reason}\n\n{details}",
                    "raw_payload": text[:RAW_LIMIT],
                    "subject": _("Unreadable file %s", self.name),
                    "sftp_file_id": self.id,
                }
            )
        )
        # the chatter keeps the reason even if the message is retried or edited later
        message.message_post(body=reason)
        return message

    # 997 --------------------------------------------------------------------------------------
    def _prepare_997(self, interchange, accepted=True, errors=None):
        """Build the 997 answering the interchange (997s themselves are never acknowledged);
        it is uploaded by :meth:`_finish`. Returns whether one is due."""
        groups = [group for group in interchange.groups if group.functional_id != "FA"]
        if not groups:
            return False
        backend = self.backend_id
        target = dataclasses.replace(interchange, groups=groups)
        number = backend._x12_next_control_number()
        envelope = x12.Envelope.reply_to(
            target, interchange_control_number=number, group_control_number=number
        )
        content = x12.build_997(target, accepted=accepted, errors=errors, envelope=envelope)
        self.write(
            {
                "ack_file": f"997_{interchange.control_number}_{number}.x12",
                "ack_control_number": number,
                "ack_content": content,
            }
        )
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
            return _("997 for group %s: no file of ours has this control number.", label)
        sets = ack.get("transaction_sets") or []
        status = (sets[0].get("status") if len(sets) == 1 else None) or ack.get("status")
        if status in ("accepted", "accepted_with_errors"):
            for message in messages:
                if message.state == "sent":
                    message.state = "acknowledged"
                message.message_post(
                    body=_("The 3PL acknowledged the file (997 in %s).", self.name)
                )
            return _(
                "997 for group %(group)s: accepted (%(messages)s).",
                group=label,
                messages=", ".join(messages.mapped("name")),
            )
        detail = "; ".join(self._describe_997_errors(sets)) or _("no detail given")
        reason = _(
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
        return _(
            "997 for group %(group)s: %(status)s (%(messages)s).",
            group=label,
            status=status,
            messages=", ".join(messages.mapped("name")),
        )

    @staticmethod
    def _describe_997_errors(sets):
        lines = []
        for ts in sets:
            for error in ts.get("errors") or []:
                where = f"segment {error.get('segment_id') or '?'}"
                if error.get("segment_position"):
                    where += f" (position {error['segment_position']})"
                if error.get("element_position"):
                    where += f", element {error['element_position']}"
                code = error.get("element_error_code") or error.get("segment_error_code")
                text = AK403_ELEMENT_ERRORS.get(str(error.get("element_error_code") or ""))
                text = text or AK304_SEGMENT_ERRORS.get(str(error.get("segment_error_code") or ""))
                what = text or f"error code {code}"
                if error.get("bad_value"):
                    what += f" ({error['bad_value']!r})"
                lines.append(f"{where}: {what}")
            if not ts.get("errors") and ts.get("error_codes"):
                lines.append(
                    f"transaction set {ts.get('code')} {ts.get('control_number')}: "
                    f"error codes {', '.join(ts['error_codes'])}"
                )
        return lines

    # server side ------------------------------------------------------------------------------
    def _finish(self, conn):
        """Upload the 997 still owed and move the file out of the inbound folder (archive,
        or error folder for unreadable files). Safe to repeat."""
        for record in self:
            if record.ack_content and not record.ack_sent_at:
                conn.put_atomic(record.ack_file, record.ack_content.encode())
                record.ack_sent_at = _now()
            try:
                if record.state == "error":
                    path = conn.move_to_error(record.name)
                else:
                    path = conn.archive(record.name)
            except sftp.SFTPFileNotFound as exc:
                source = posixpath.join(conn.settings.inbound_dir or "", record.name)
                if exc.path == source:
                    continue  # moved meanwhile by a concurrent poll
                raise  # the archive or error folder is missing
            record.moved_to = path


class LogisticsMessage(models.Model):
    _inherit = "logistics.message"

    sftp_file_id = fields.Many2one(
        "logistics.sftp.file",
        string="SFTP file",
        readonly=True,
        ondelete="set null",
        index="btree_not_null",
    )
    sftp_remote_path = fields.Char(
        string="File written", readonly=True, help="Outbound over SFTP: the file written"
    )
    x12_control_number = fields.Integer(
        string="X12 control number",
        readonly=True,
        copy=False,
        index="btree_not_null",
        help="Outbound X12: interchange/group control number of the last file written, "
        "matched against the 997 the 3PL sends back.",
    )

    def _on_sent(self, result):
        res = super()._on_sent(result)
        response = result.response if isinstance(result.response, dict) else {}
        vals = {}
        if response.get("sftp_path"):
            vals["sftp_remote_path"] = response["sftp_path"]
        if response.get("x12_control_number"):
            vals["x12_control_number"] = response["x12_control_number"]
        if vals:
            self.sudo().write(vals)
        return res
