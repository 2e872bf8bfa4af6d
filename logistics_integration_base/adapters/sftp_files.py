"""Files over SFTP, whoever the partner: the connection, atomic writes and the inbound
folder, shared by every connector that exchanges files (3PL X12 and CSV, customs EDIFACT).

A connector subclasses :class:`SftpFilesAdapter`, registers it (for ``protocol="sftp"``,
for its provider or for any provider) and implements two methods:

``render(message)``      the file for an outbound message: ``RenderedFile(name, content,
                         control_number)``; named after the message so a retry overwrites
                         its own file instead of adding a second one
``read_file(name, data)`` what an inbound file holds: a :class:`ReadFile` (canonical
                         documents, or the error that stopped reading it, never raised)

Errors: connection trouble is transient (retried with the backend's backoff); a refused host
key, refused credentials or unusable key material are ``auth`` failures; anything else
(missing folder, permission denied, a value that cannot be written) fails at once with the
reason, for an operator to fix and retry.
"""

import posixpath
import re
from contextlib import contextmanager
from dataclasses import dataclass, field

from ..exceptions import TransportError
from ..transport import sftp
from .base import (
    PARSE_INBOUND,
    SEND,
    TEST_CONNECTION,
    Adapter,
    OutboundResult,
    get_adapter_class,
)

_CREDENTIAL_WORDS = ("password", "private key", "passphrase", "host key", "username")


@dataclass
class ReadFile:
    """An inbound file read: its format, the canonical documents it holds as ``(message
    type, payload, raw text)``, and for an unreadable file the error (its text names the
    segment and position, or line and column) and the message type it was probably meant
    to carry. ``interchange`` and ``control_number`` are the envelope when one was read;
    ``extra`` carries what a connector's own bookkeeping needs (e.g. X12 997s).

    ``sender`` (``id:qualifier``: EDIFACT UNB sender, X12 ISA06:ISA05) and
    ``control_number`` (UNB control reference, ISA13) name the interchange whatever the
    file is called: the same interchange received again under another name is recorded
    as a duplicate and applied once (see :meth:`interchange_identity`)."""

    file_format: str
    documents: list = field(default_factory=list)
    error: Exception = None
    message_type: str = None
    interchange: object = None
    control_number: str = None
    sender: str = None
    extra: dict = field(default_factory=dict)

    def interchange_identity(self):
        """``(sender, control reference)`` of the interchange, or None when the file has
        no envelope (CSV) or it could not be read. An X12 interchange parsed by the
        base's reader names its sender by itself."""
        sender, interchange = self.sender, self.interchange
        if not sender and getattr(interchange, "sender_id", None):
            qualifier = (getattr(interchange, "sender_qualifier", None) or "").strip()
            sender = interchange.sender_id.strip()
            sender = f"{sender}:{qualifier}" if qualifier else sender
        control = self.control_number or getattr(interchange, "control_number", None)
        sender, control = str(sender or "").strip(), str(control or "").strip()
        return (sender, control) if sender and control else None


@dataclass
class RenderedFile:
    name: str
    content: bytes
    control_number: object = None


def safe_name(text, default="file"):
    """A file-name-safe version of a reference (``WH/OUT/00012`` -> ``WH-OUT-00012``)."""
    return re.sub(r"[^A-Za-z0-9_.-]+", "-", str(text)).strip("-.") or default


def transport_error(exc):
    """``TransportError`` for an ``sftp.SFTPError``, keeping the readable reason."""
    if isinstance(exc, sftp.HostKeyRejected | sftp.SFTPAuthError):
        err = TransportError(str(exc), "auth")
    elif isinstance(exc, sftp.SFTPConfigError):
        about_credentials = any(word in str(exc).lower() for word in _CREDENTIAL_WORDS)
        err = TransportError(str(exc), "auth" if about_credentials else "technical")
    else:
        err = TransportError(str(exc), "technical", transient=exc.transient)
    err.offered_key = getattr(exc, "offered_key", None)
    return err


class SftpFilesAdapter(Adapter):
    """Base of the file-exchange adapters (not registered itself)."""

    provider = "sftp"
    capabilities = frozenset({SEND, TEST_CONNECTION, PARSE_INBOUND})

    # connection -----------------------------------------------------------------------------
    def settings(self):
        try:
            return self.backend._sftp_settings()
        except sftp.SFTPError as exc:
            raise transport_error(exc) from None

    def test_connection(self):
        """Connect (host key first), authenticate, create the configured folders that are
        missing (as polling and sending would) and list the inbound folder."""
        try:
            with self.transport("sftp", self.settings()) as conn:
                created = conn.ensure_dirs()
                summary = conn.test()
        except sftp.SFTPError as exc:
            raise transport_error(exc) from None
        if created:
            summary += " " + self.env._("Folders created: %s.", ", ".join(created))
        return summary

    # inbound files ------------------------------------------------------------------------
    @contextmanager
    def inbound(self):
        """A connection to the partner's folders for polling, the configured folders
        created: ``list_ready()`` and ``read(name)`` on it; SFTP failures come out as
        ``TransportError`` with the readable reason."""
        try:
            with self.transport("sftp", self.settings()) as conn:
                conn.ensure_dirs()
                yield conn
        except sftp.SFTPError as exc:
            raise transport_error(exc) from None

    def put_file(self, conn, name, content):
        """Write a file for the partner (atomically: ``.part``, then renamed)."""
        return conn.put_atomic(name, content)

    def finish_file(self, conn, name, failed=False):
        """Move an inbound file out of the inbound folder: to the archive, or to the error
        folder when it could not be read. Returns its new path, or None when a concurrent
        poll moved it meanwhile."""
        try:
            return conn.move_to_error(name) if failed else conn.archive(name)
        except sftp.SFTPFileNotFound as exc:
            if exc.path == posixpath.join(conn.settings.inbound_dir or "", name):
                return None
            raise  # the archive or error folder is missing

    def read_file(self, name, data):
        """What an inbound file holds (:class:`ReadFile`); errors are returned, not raised."""
        raise NotImplementedError

    # outbound -------------------------------------------------------------------------------
    def render(self, message):
        """The file for an outbound message (:class:`RenderedFile`); raises
        ``TransportError`` for a message that cannot be written."""
        raise NotImplementedError

    def preview(self, message):
        return self.render(message).content.decode("utf-8", "replace")

    def send(self, message):
        rendered = self.render(message)
        try:
            with self.transport("sftp", self.settings()) as conn:
                conn.ensure_dirs()
                path = conn.put_atomic(rendered.name, rendered.content)
        except sftp.SFTPError as exc:
            raise transport_error(exc) from None
        response = {"sftp_path": path}
        if rendered.control_number:
            response["control_number"] = rendered.control_number
        return OutboundResult(
            status=None,
            response=response,
            request_body=rendered.content.decode("utf-8", "replace"),
        )

    # inbound webhooks -----------------------------------------------------------------------
    def parse_inbound(self, headers, body, event_id):
        """Files come by SFTP; webhooks the partner may still post (e.g. acknowledgements)
        are read by the backend's provider adapter (the generic one when the provider
        only speaks files)."""
        return self._provider_adapter().parse_inbound(headers, body, event_id)

    def _provider_class(self):
        try:
            return get_adapter_class(self.backend.provider, env=self.env)
        except TransportError:
            return get_adapter_class("generic", env=self.env)

    def _provider_adapter(self):
        return self._provider_class()(self.backend, schemas=self.schemas)

    @property
    def inbound_content_types(self):
        return self._provider_class().inbound_content_types
