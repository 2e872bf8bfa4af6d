"""Outbound over SFTP: each message becomes one file written atomically in the 3PL's
outbound folder (``<name>.part`` then renamed), named after the message so a retry
overwrites rather than duplicates.

X12 backends get a 940 per order: W0501 ``N`` for a release, ``R`` (replace) for an
update, ``C`` (cancel) for a cancellation — the cancellation repeats the order, as 3PLs
match it by W0502. CSV backends get ``order_<ref>_<id>.csv`` (the documented order
columns) and ``cancel_<ref>_<id>.csv`` (columns ``order_ref,reason``).
"""

import csv
import io
import re

from odoo.addons.logistics_integration_base.adapters.base import Adapter, OutboundResult
from odoo.addons.logistics_integration_base.transport.http import TransportError

from ..formats import csv_format, x12
from ..transport import sftp

PURPOSE = {"order.release": "N", "order.update": "R", "order.cancel": "C"}


def _safe(name):
    return re.sub(r"[^A-Za-z0-9_.-]+", "-", name).strip("-")


class SftpFilesAdapter(Adapter):
    provider = "sftp"

    def _transport_error(self, exc):
        if isinstance(exc, (sftp.HostKeyRejected, sftp.SFTPAuthError)):
            return TransportError(str(exc), "auth")
        return TransportError(
            str(exc), "technical" if exc.transient else "business", transient=exc.transient
        )

    def _order_payload(self, message):
        data = message._get_payload()
        if message.message_type == "order.cancel":
            # a 940 cancellation repeats the order as it was released
            picking = (
                message.env["stock.picking"].browse(message.res_id)
                if message.res_model == "stock.picking"
                else None
            )
            release = picking.logistics_release_message_id if picking else None
            if not release:
                raise TransportError("a cancellation file needs the order it cancels", "business")
            full = release._get_payload()
            full["order_ref"] = data["order_ref"]
            return full
        return data

    def render(self, message):
        """(file name, bytes) for a message."""
        backend = self.backend
        mtype = message.message_type
        if mtype not in PURPOSE:
            raise TransportError(f"no file format for '{mtype}' over SFTP", "business")
        data = message._get_payload()
        ref = _safe(data["order_ref"])
        if backend.file_format == "x12":
            order = self._order_payload(message)
            content = x12.build_940(order, backend._x12_envelope())
            if PURPOSE[mtype] != "N":
                content = content.replace("~W05*N*", f"~W05*{PURPOSE[mtype]}*", 1)
            return f"940_{ref}_{message.id}.x12", content.encode()
        if mtype == "order.cancel":
            out = io.StringIO()
            writer = csv.writer(out, lineterminator="\r\n")
            writer.writerow(["order_ref", "reason"])
            writer.writerow([data["order_ref"], data.get("reason") or ""])
            return f"cancel_{ref}_{message.id}.csv", out.getvalue().encode()
        return f"order_{ref}_{message.id}.csv", csv_format.build_orders_csv([data]).encode()

    def send(self, message):
        name, content = self.render(message)
        try:
            with sftp.SFTPConnection(self.backend._sftp_settings()) as conn:
                conn.ensure_dirs()
                path = conn.put_atomic(name, content)
        except sftp.SFTPError as exc:
            raise self._transport_error(exc) from None
        return OutboundResult(
            status=None, external_id=path, request_body=content.decode("utf-8", "replace")
        )

    def test_connection(self):
        try:
            with sftp.SFTPConnection(self.backend._sftp_settings()) as conn:
                conn.ensure_dirs()
                return conn.test()
        except sftp.SFTPError as exc:
            raise self._transport_error(exc) from None

    def parse_inbound(self, headers, body, event_id):
        raise TransportError("this backend exchanges files over SFTP, not webhooks", "business")
