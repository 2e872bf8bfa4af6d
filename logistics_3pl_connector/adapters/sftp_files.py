"""Outbound over SFTP: each message becomes one file, written atomically in the 3PL's
folder (uploaded as ``<name>.part``, checked, then renamed), named after the message so a
retry overwrites its own file instead of adding a second one.

Registered for the ``sftp`` protocol and any provider: a backend whose protocol is SFTP gets
it, whatever its provider; webhooks the 3PL may still post are read by the provider's
adapter.

X12 backends (``file_format = x12``) get one 940 interchange per message, with a new
control number (ISA13 = GS06) from the backend's sequence:

============== ======================= ==================================================
Message        File                    W0501 (transaction set purpose)
============== ======================= ==================================================
order.release  ``940_<ref>_<id>.x12``  ``N`` original
order.update   ``940_<ref>_<id>.x12``  ``R`` replace: the whole order as it is now; the 3PL
                                       matches it by W0502 (order reference)
order.cancel   ``940_<ref>_<id>.x12``  ``C`` cancel: repeats the order as last sent (the
                                       940 needs its ship-to and lines)
============== ======================= ==================================================

CSV backends get the documented order layout (FORMATS.md): ``order_<ref>_<id>.csv`` for a
release, ``update_<ref>_<id>.csv`` (same columns, the whole order as it is now, replacing
the previous one) for an update, and ``cancel_<ref>_<id>.csv`` with the columns
``order_ref,reason`` for a cancellation. ``<ref>`` is the order reference with anything but
letters, digits, ``.``, ``_`` and ``-`` replaced by ``-`` (``WH/OUT/00012`` ->
``WH-OUT-00012``); ``<id>`` is the message id.

Errors: connection trouble is transient (retried with the backend's backoff); a refused host
key, refused credentials or unusable key material are ``auth`` failures; anything else
(missing folder, permission denied, a value that cannot be written) fails at once with the
reason, for an operator to fix and retry.
"""

import csv
import io
import posixpath
import re
from contextlib import contextmanager

from odoo.addons.logistics_integration_base.adapters import (
    PARSE_INBOUND,
    SEND,
    TEST_CONNECTION,
    Adapter,
    OutboundResult,
    get_adapter_class,
    register,
)
from odoo.addons.logistics_integration_base.exceptions import TransportError
from odoo.addons.logistics_integration_base.transport import sftp

from ..formats import csv_format, x12

PURPOSE = {"order.release": "N", "order.update": "R", "order.cancel": "C"}
CSV_PREFIX = {"order.release": "order", "order.update": "update", "order.cancel": "cancel"}
_CREDENTIAL_WORDS = ("password", "private key", "passphrase", "host key", "username")


def safe_name(text):
    """A file-name-safe version of an order reference."""
    return re.sub(r"[^A-Za-z0-9_.-]+", "-", str(text)).strip("-.") or "order"


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


@register(None, protocol="sftp")
class SftpFilesAdapter(Adapter):
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
        """A connection to the 3PL's folders for polling, the configured folders created:
        ``list_ready()`` and ``read(name)`` on it; SFTP failures come out as
        ``TransportError`` with the readable reason."""
        try:
            with self.transport("sftp", self.settings()) as conn:
                conn.ensure_dirs()
                yield conn
        except sftp.SFTPError as exc:
            raise transport_error(exc) from None

    def put_file(self, conn, name, content):
        """Write a file for the 3PL (atomically: ``.part``, then renamed)."""
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

    # outbound -------------------------------------------------------------------------------
    def send(self, message):
        name, content, number = self.render(message)
        try:
            with self.transport("sftp", self.settings()) as conn:
                conn.ensure_dirs()
                path = conn.put_atomic(name, content)
        except sftp.SFTPError as exc:
            raise transport_error(exc) from None
        response = {"sftp_path": path}
        if number:
            response["x12_control_number"] = number
        return OutboundResult(
            status=None,
            response=response,
            request_body=content.decode("utf-8", "replace"),
        )

    def render(self, message):
        """(file name, bytes, X12 control number or None) for an outbound message."""
        message_type = message.message_type
        if message_type not in PURPOSE:
            raise TransportError(
                self.env._(
                    "Messages of type %(type)s cannot be sent as files: the SFTP exchange "
                    "carries order.release, order.update and order.cancel.",
                    type=message_type,
                ),
                "business",
            )
        data = message._get_payload()
        ref = safe_name(data.get("order_ref") or message.name)
        try:
            if self.backend.file_format == "x12":
                return self._render_940(message, data, ref)
            return self._render_csv(message, data, ref) + (None,)
        except (x12.X12BuildError, csv_format.CSVBuildError) as exc:
            raise TransportError(
                self.env._("The order cannot be written as a file: %s", exc), "validation"
            ) from None

    def _render_940(self, message, data, ref):
        purpose = PURPOSE[message.message_type]
        order = data
        if purpose == "C":
            order = message._logistics_last_order_payload()
            if order is None:
                raise TransportError(
                    self.env._(
                        "Order %s cannot be cancelled by file: it was never sent to the 3PL (a "
                        "940 cancellation repeats the order as sent). Ignore this message if "
                        "the 3PL never had the order.",
                        data.get("order_ref"),
                    ),
                    "business",
                )
        if purpose == "C":
            order = dict(order, order_ref=data["order_ref"])
        number = self.backend._x12_next_control_number()
        content = x12.build_940(order, self.backend._x12_envelope(number))
        if purpose != "N":
            # the builder writes an original (W0501 N) right after ST: set the purpose
            marker = "~W05*N*"
            if marker not in content:  # pragma: no cover - guarded by the builder's output
                raise TransportError("unexpected 940 layout: no W05*N segment", "technical")
            content = content.replace(marker, f"~W05*{purpose}*", 1)
        return f"940_{ref}_{message.id}.x12", content.encode(), number

    def _render_csv(self, message, data, ref):
        prefix = CSV_PREFIX[message.message_type]
        if message.message_type == "order.cancel":
            out = io.StringIO()
            writer = csv.writer(out, lineterminator="\r\n")
            writer.writerow(["order_ref", "reason"])
            writer.writerow([data["order_ref"], data.get("reason") or ""])
            return f"{prefix}_{ref}_{message.id}.csv", out.getvalue().encode()
        content = csv_format.build_orders_csv([data])
        return f"{prefix}_{ref}_{message.id}.csv", content.encode()

    # inbound --------------------------------------------------------------------------------
    def parse_inbound(self, headers, body, event_id):
        """Files come by SFTP; webhooks the 3PL may still post (e.g. acknowledgements) are
        read by the backend's provider adapter."""
        return self._provider_adapter().parse_inbound(headers, body, event_id)

    def _provider_adapter(self):
        provider_class = get_adapter_class(self.backend.provider, env=self.env)
        return provider_class(self.backend, schemas=self.schemas)

    @property
    def inbound_content_types(self):
        return get_adapter_class(self.backend.provider, env=self.env).inbound_content_types
