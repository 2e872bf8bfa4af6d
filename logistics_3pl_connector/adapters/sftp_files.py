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

Inbound files (``read_file``) are X12 interchanges of 945s, 846s and 997s or CSV files
(``formats/inbound_files.py``). The connection, atomic writes, the inbound folder and the
errors are the integration base's (``adapters/sftp_files.py``).
"""

import csv
import io

from odoo.addons.logistics_integration_base.adapters import register
from odoo.addons.logistics_integration_base.adapters.sftp_files import (
    RenderedFile,
    SftpFilesAdapter,
    safe_name,
)
from odoo.addons.logistics_integration_base.exceptions import TransportError

from ..formats import csv_format, inbound_files, x12

PURPOSE = {"order.release": "N", "order.update": "R", "order.cancel": "C"}
CSV_PREFIX = {"order.release": "order", "order.update": "update", "order.cancel": "cancel"}


@register(None, protocol="sftp")
class ThreePLFilesAdapter(SftpFilesAdapter):
    def read_file(self, name, data):
        return inbound_files.read_file(
            name,
            data,
            x12_expected=self.backend.file_format == "x12",
            raw_limit=500_000,
            inventory=self.backend._x12_inventory_options(),
        )

    # outbound -------------------------------------------------------------------------------
    def render(self, message):
        """The file for an outbound message: a 940 or a CSV order file."""
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
        ref = safe_name(data.get("order_ref") or message.name, "order")
        try:
            if self.backend.file_format == "x12":
                return RenderedFile(*self._render_940(message, data, ref))
            return RenderedFile(*self._render_csv(message, data, ref))
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
