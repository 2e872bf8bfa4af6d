"""Outbound over SFTP: each message becomes one file, written atomically in the 3PL's
folder (uploaded as ``<name>.part``, checked, then renamed), named after the message so a
retry overwrites its own file instead of adding a second one.

The backend picks this adapter when its protocol is SFTP (``logistics.backend._get_adapter``),
whatever its provider; webhooks the 3PL may still post are read by the provider's adapter.

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
import re

from odoo import _

from odoo.addons.logistics_integration_base.adapters.base import (
    Adapter,
    OutboundResult,
    get_adapter_class,
)
from odoo.addons.logistics_integration_base.transport import sftp
from odoo.addons.logistics_integration_base.transport.http import TransportError

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


class SftpFilesAdapter(Adapter):
    provider = "sftp"

    @property
    def env(self):  # for _() and lookups
        return self.backend.env

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
            with sftp.SFTPConnection(self.settings()) as conn:
                created = conn.ensure_dirs()
                summary = conn.test()
        except sftp.SFTPError as exc:
            raise transport_error(exc) from None
        if created:
            summary += " " + _("Folders created: %s.", ", ".join(created))
        return summary

    # outbound -------------------------------------------------------------------------------
    def send(self, message):
        name, content, number = self.render(message)
        try:
            with sftp.SFTPConnection(self.settings()) as conn:
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
                _(
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
                _("The order cannot be written as a file: %s", exc), "validation"
            ) from None

    def _render_940(self, message, data, ref):
        purpose = PURPOSE[message.message_type]
        order = self._last_order_payload(message) if purpose == "C" else data
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

    def _last_order_payload(self, message):
        """The order as last sent for the record a cancellation is about (a 940 cancel
        repeats it)."""
        Message = message.env["logistics.message"].sudo()
        domain = [
            ("backend_id", "=", self.backend.id),
            ("direction", "=", "out"),
            ("message_type", "in", ("order.release", "order.update")),
            ("state", "in", ("sent", "acknowledged")),
        ]
        previous = Message.browse()
        if message.res_model and message.res_id:
            previous = Message.search(
                domain + [("res_model", "=", message.res_model), ("res_id", "=", message.res_id)],
                order="id desc",
                limit=1,
            )
        if not previous and message.res_model == "stock.picking" and message.res_id:
            # a backorder keeps the order reference of the transfer that was released
            picking = message.env["stock.picking"].sudo().browse(message.res_id).exists()
            ref = picking.logistics_order_ref if picking else None
            if ref:
                same_order = (
                    message.env["stock.picking"]
                    .sudo()
                    .with_context(active_test=False)
                    .search([("logistics_order_ref", "=", ref)])
                )
                previous = Message.search(
                    domain
                    + [("res_model", "=", "stock.picking"), ("res_id", "in", same_order.ids)],
                    order="id desc",
                    limit=1,
                )
        if not previous:
            raise TransportError(
                _(
                    "Order %s cannot be cancelled by file: it was never sent to the 3PL (a 940 "
                    "cancellation repeats the order as sent). Ignore this message if the 3PL "
                    "never had the order.",
                    message._get_payload().get("order_ref"),
                ),
                "business",
            )
        return previous._get_payload()

    # inbound --------------------------------------------------------------------------------
    def parse_inbound(self, headers, body, event_id):
        """Files come by SFTP; webhooks the 3PL may still post (e.g. acknowledgements) are
        read by the backend's provider adapter."""
        return get_adapter_class(self.backend.provider)(self.backend).parse_inbound(
            headers, body, event_id
        )

    @property
    def inbound_content_types(self):
        return get_adapter_class(self.backend.provider).inbound_content_types
