"""SFTP file exchange, for any kind of partner: connection settings (strict host keys,
encrypted password or private key), the folders, interchange control numbers from a
database sequence, and the poll that takes each complete inbound file once.

Polling (``_sftp_poll``) lists the inbound folder, records each new file as a
``logistics.sftp.file`` (by name and SHA-256: a file seen before is only moved away
again), has it read by the backend's SFTP adapter (each connector's adapter knows its
formats: X12 and CSV for 3PLs, EDIFACT for customs brokers), commits, and only then moves
it to the archive or error folder: a crash in between leaves the file in the inbound folder,
recognised by the next poll. An interchange already applied from a file of another name
(same sender and control reference) is recorded as a duplicate and not applied again.
"""

import logging

from odoo import api, fields, models
from odoo.exceptions import UserError, ValidationError

from ..exceptions import TransportError
from ..tools import secrets as secret_box
from ..tools.own_transaction import in_a_test
from ..transport import sftp

_logger = logging.getLogger(__name__)

SFTP_SECRETS = ("sftp_password", "sftp_private_key", "sftp_private_key_passphrase")


def _commit_allowed(cr):
    """Crons commit after each file; tests run in one transaction that must not commit."""
    return not in_a_test(cr)


class LogisticsBackend(models.Model):
    _inherit = "logistics.backend"

    @api.model_create_multi
    def create(self, vals_list):
        backends = super().create(vals_list)
        backends.invalidate_recordset(list(SFTP_SECRETS))  # written values never linger
        backends.filtered(lambda b: b.protocol == "sftp")._interchange_sequence()
        return backends

    sftp_host = fields.Char(string="SFTP host", tracking=True)
    sftp_port = fields.Integer(string="SFTP port", default=22, tracking=True)
    sftp_username = fields.Char(string="SFTP user", tracking=True)
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
    sftp_password_set = fields.Boolean(
        compute="_compute_sftp_secret_flags", string="SFTP password stored"
    )
    sftp_private_key_set = fields.Boolean(
        compute="_compute_sftp_secret_flags", string="SFTP private key stored"
    )
    sftp_private_key_passphrase_set = fields.Boolean(
        compute="_compute_sftp_secret_flags", string="Key passphrase stored"
    )
    sftp_host_key = fields.Text(
        string="SFTP host key",
        help="The server's public key: a '<type> <base64>' line, a known_hosts line, or the "
        "output of 'ssh-keyscan -p PORT HOST' (several lines accept any of those keys). "
        "Required: a server presenting any other key is refused before anything is sent to it. "
        "Test connection shows the fingerprint the server offers.",
        tracking=True,
    )
    sftp_inbound_dir = fields.Char(
        string="Inbound folder",
        default="inbound",
        help="Where the partner drops files for us",
        tracking=True,
    )
    sftp_outbound_dir = fields.Char(
        string="Outbound folder",
        default="outbound",
        help="Where we write files for the partner",
        tracking=True,
    )
    sftp_archive_dir = fields.Char(
        string="Archive folder",
        default="archive",
        help="Processed inbound files are moved here",
        tracking=True,
    )
    sftp_error_dir = fields.Char(
        string="Error folder",
        default="error",
        help="Unreadable inbound files are moved here",
        tracking=True,
    )
    sftp_min_file_age = fields.Integer(
        string="Minimum file age (s)",
        default=0,
        help="Inbound files modified less than this many seconds ago are left for a later poll. "
        "Files named *.part, *.tmp or *.filepart are never taken. Set e.g. 60 when the partner "
        "writes its files in place instead of renaming a temporary file.",
        tracking=True,
    )
    sftp_last_poll_at = fields.Datetime(string="Last SFTP poll", readonly=True, copy=False)
    sftp_last_poll_error = fields.Text(string="Last SFTP poll error", readonly=True, copy=False)
    sftp_file_ids = fields.One2many("logistics.sftp.file", "backend_id", string="SFTP files")
    sftp_file_count = fields.Integer(
        compute="_compute_sftp_file_count", string="Number of SFTP files"
    )

    interchange_sequence_id = fields.Many2one(
        "ir.sequence",
        string="Interchange control number sequence",
        readonly=True,
        copy=False,
        ondelete="restrict",
    )
    interchange_next_number = fields.Integer(
        string="Next interchange control number",
        compute="_compute_interchange_next_number",
        inverse="_inverse_interchange_next_number",
        help="Control number of the next file we write (X12 ISA13/GS06, EDIFACT UNB "
        "reference). It only goes up: numbers are never reused.",
    )

    # control numbers ----------------------------------------------------------------------
    def _interchange_sequence(self):
        """The backend's control number sequence, created on first use."""
        for backend in self.filtered(lambda b: not b.interchange_sequence_id):
            sequence = (
                self.env["ir.sequence"]
                .sudo()
                .create(
                    {
                        "name": self.env._("Interchange control numbers of %s", backend.name),
                        "implementation": "standard",  # nextval: atomic, never rolled back
                        "number_next": 1,
                        "number_increment": 1,
                        "padding": 0,
                        "company_id": False,
                    }
                )
            )
            backend.sudo().interchange_sequence_id = sequence
        return self[:1].interchange_sequence_id.sudo()

    def _compute_interchange_next_number(self):
        for backend in self:
            sequence = backend.interchange_sequence_id.sudo()
            backend.interchange_next_number = sequence.number_next_actual if sequence else 1

    def _interchange_max_number(self):
        """The largest control number: 9 digits, what X12 (ISA13) carries and well within
        an EDIFACT UNB reference (14 characters)."""
        return 999_999_999

    def _inverse_interchange_next_number(self):
        for backend in self:
            wanted = backend.interchange_next_number
            sequence = backend.interchange_sequence_id.sudo()
            current = sequence.number_next_actual if sequence else 1
            if not wanted or wanted == current:
                continue
            if wanted < current:
                raise ValidationError(
                    self.env._(
                        "Interchange control numbers never go back: the next one of "
                        "%(backend)s is already %(current)s.",
                        backend=backend.name,
                        current=current,
                    )
                )
            if wanted > backend._interchange_max_number():
                raise ValidationError(
                    self.env._(
                        "Interchange control numbers of %(backend)s go up to %(max)s.",
                        backend=backend.name,
                        max=backend._interchange_max_number(),
                    )
                )
            backend._interchange_sequence().number_next_actual = wanted

    def _interchange_next_number(self):
        """A new control number: increasing, never handed out twice (also across concurrent
        jobs and rolled back transactions).

        Control numbers come from a PostgreSQL sequence per backend (an ``ir.sequence``,
        standard implementation): ``nextval`` is atomic and never rolled back, so two jobs
        never get the same number, and a number used by a file that was uploaded before its
        transaction failed is not handed out again."""
        self.ensure_one()
        number = int(self._interchange_sequence().next_by_id())
        if number > self._interchange_max_number():
            raise UserError(
                self.env._(
                    "The interchange control numbers of %s are exhausted: agree a restart "
                    "with the partner and create a new backend.",
                    self.name,
                )
            )
        return number

    # secrets --------------------------------------------------------------------------------
    def write(self, vals):
        result = super().write(vals)
        if set(SFTP_SECRETS) & vals.keys():
            self.invalidate_recordset(list(SFTP_SECRETS))
        if vals.get("protocol") == "sftp":
            self._interchange_sequence()
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
                        raise ValidationError(self.env._("SFTP private key: %s", exc)) from None
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
                raise ValidationError(self.env._("SFTP host key: %s", exc)) from None

    # connection -------------------------------------------------------------------------------
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
        title = self.env._("Connection to %s failed", self.name)
        try:
            summary = self._get_adapter().test_connection()
        except TransportError as exc:
            message = str(exc)
            offered = getattr(exc, "offered_key", None)
            if offered:
                message += "\n" + self.env._(
                    "Key offered by the server (paste it as the SFTP host key only once the "
                    "partner has confirmed its fingerprint): %s",
                    offered,
                )
            return self._notify(title, message, "danger")
        except (secret_box.SecretKeyMissing, secret_box.SecretUndecryptable) as exc:
            return self._notify(title, str(exc), "danger")
        return self._notify(self.env._("Connection to %s works", self.name), summary, "success")

    # polling --------------------------------------------------------------------------------
    @api.model
    def _cron_poll_sftp(self):
        """Cron: fetch the inbound files of every SFTP backend. A backend that cannot be
        polled is logged and reported on its chatter; the others go on."""
        commit = _commit_allowed(self.env.cr)
        total = 0
        for backend in self.search([("protocol", "=", "sftp")]):
            total += len(backend._sftp_poll_safe(commit=commit))
        return total

    def action_sftp_poll_now(self):
        """Button: poll this backend's inbound folder now."""
        self.ensure_one()
        self.check_access("read")  # as the caller, before the poll works as the system
        files = self._sftp_poll_safe(commit=_commit_allowed(self.env.cr))
        if self.sftp_last_poll_error:
            return self._notify(
                self.env._("Polling %s failed", self.name), self.sftp_last_poll_error, "danger"
            )
        errors = files.filtered(lambda f: f.state == "error")
        message = self.env._(
            "%(count)s new file(s), %(errors)s unreadable.", count=len(files), errors=len(errors)
        )
        return self._notify(
            self.env._("SFTP folder of %s polled", self.name),
            message,
            "warning" if errors else "success",
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
        vals = {"sftp_last_poll_at": fields.Datetime.now()}
        if error:
            _logger.warning("SFTP poll of backend %s failed: %s", self.code, error)
            if error != self.sftp_last_poll_error:
                self.message_post(body=self.env._("Polling the SFTP server failed: %s", error))
            vals["sftp_last_poll_error"] = error
        elif self.sftp_last_poll_error:
            self.message_post(body=self.env._("Polling the SFTP server works again."))
            vals["sftp_last_poll_error"] = False
        self.sudo().write(vals)

    def _sftp_poll(self, commit=False):
        """Fetch, record, parse and move every complete inbound file; return the
        ``logistics.sftp.file`` records created. With ``commit``, each file's records are
        committed before the file is moved on the server."""
        self.ensure_one()
        Files = self.env["logistics.sftp.file"].sudo()
        created = Files.browse()
        adapter = self._get_adapter()
        with adapter.inbound() as conn:
            for remote in conn.list_ready():
                try:
                    data = conn.read(remote.name)
                except sftp.SFTPFileNotFound:
                    continue  # taken meanwhile by another poll
                checksum = sftp.file_checksum(data)
                record = Files._find(self, remote.name, checksum)
                if record:
                    if record.moved_to:  # moved away before: the partner sent it again
                        record.duplicate_count += 1
                else:
                    record = Files._receive(self, remote.name, data, checksum, adapter=adapter)
                    if not record:
                        continue  # stored meanwhile by a concurrent poll, which moves it
                    created |= record
                # The server is not transactional: commit what the file became before
                # moving it, so that a crash leaves it in the inbound folder to be
                # recognised (name + checksum) rather than moved away and forgotten.
                if commit:
                    self.env.cr.commit()  # pylint: disable=invalid-commit
                record._finish(adapter, conn)
                if commit:
                    self.env.cr.commit()  # pylint: disable=invalid-commit
        return created

    def action_view_sftp_files(self):
        action = self.env["ir.actions.act_window"]._for_xml_id(
            "logistics_integration_base.action_logistics_sftp_file"
        )
        action["domain"] = [("backend_id", "in", self.ids)]
        action["context"] = {}
        return action
