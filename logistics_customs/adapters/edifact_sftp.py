"""Customs brokers that exchange UN/EDIFACT files over SFTP: a CUSDEC per declaration
version out, CUSRES responses in (``formats/edifact.py`` has both profiles).

Registered for the ``edifact`` provider over ``sftp``; the connection, atomic writes, the
inbound folder and polling are the integration base's SFTP file exchange.

============================================ =================================================
File                                         Content
============================================ =================================================
``CUSDEC_<reference>_v<version>_<id>.edi``    written in the outbound folder: one interchange,
                                             one CUSDEC; UNB control reference = the
                                             backend's next interchange control number (a
                                             database sequence, never reused); UNB sender /
                                             recipient = the backend's EDIFACT ids. ``<id>``
                                             is the message id: a retry overwrites its file
``CUSDEC_<reference>_cancel_<id>.edi``        a ``customs.cancel``: one CUSDEC of message
                                             function 1 (cancellation), same envelope
any file in the inbound folder               read as an interchange of CUSRES messages, one
                                             ``customs.status`` message each, its status
                                             codes read by the backend's mapping (``logistics.
                                             customs.status.map``; a code it does not know
                                             fails the message, not the file: mapped, the
                                             message is retried); the UNB sender
                                             and control reference name the interchange (the
                                             same interchange under another file name is
                                             recorded as a duplicate, not applied again)
============================================ =================================================

A file that does not parse is moved to the error folder and reported in the exception queue
with the segment and its position (``EdifactError``); nothing of it is applied.
"""

import datetime as dt

from odoo.addons.logistics_integration_base.adapters import register
from odoo.addons.logistics_integration_base.adapters.sftp_files import (
    ReadFile,
    RenderedFile,
    SftpFilesAdapter,
    safe_name,
)
from odoo.addons.logistics_integration_base.exceptions import PayloadInvalid, TransportError

from ..formats import edifact


@register("edifact", protocol="sftp")
class EdifactFilesAdapter(SftpFilesAdapter):
    provider = "edifact"

    #: message type -> (builder, file name part after the reference)
    BUILDERS = {
        "customs.declaration": (edifact.build_cusdec, "v{version}"),
        "customs.cancel": (edifact.build_cusdec_cancellation, "cancel"),
    }

    def render(self, message):
        if message.message_type not in self.BUILDERS:
            raise TransportError(
                self.env._(
                    "Messages of type %(type)s cannot be sent as EDIFACT files: the exchange "
                    "with %(broker)s carries customs declarations and their cancellations "
                    "(CUSDEC).",
                    type=message.message_type,
                    broker=self.backend.name,
                ),
                "business",
            )
        build, part = self.BUILDERS[message.message_type]
        data = message._get_payload()
        sender, recipient = self.backend._edifact_ids()
        number = self.backend._interchange_next_number()
        try:
            content = build(data, str(number), sender, recipient, dt.datetime.now(dt.UTC))
        except edifact.EdifactError as exc:
            raise TransportError(
                self.env._(
                    "Declaration %(ref)s cannot be written as a CUSDEC: %(error)s",
                    ref=data.get("reference"),
                    error=exc,
                ),
                "validation",
            ) from None
        name = "CUSDEC_{}_{}_{}.edi".format(
            safe_name(data.get("reference"), "declaration"),
            part.format(version=data.get("version")),
            message.id,
        )
        return RenderedFile(name, content.encode("latin-1"), number)

    def read_file(self, name, data):
        result = ReadFile("edifact", message_type="customs.status")
        result.control_number = edifact.interchange_reference(data)
        result.sender = edifact.interchange_sender(data)
        try:
            statuses = edifact.parse_cusres(data, self.backend._customs_status_map())
        except edifact.EdifactError as exc:
            result.error = exc
            return result
        for index, status in enumerate(statuses, start=1):
            try:
                self.schemas.validate("customs.status", status)
            except PayloadInvalid as exc:
                result.error = self.env._(
                    "CUSRES message %(index)s (declaration %(ref)s) breaks the customs.status "
                    "schema at %(path)s: %(error)s",
                    index=index,
                    ref=status.get("reference"),
                    path=exc.path,
                    error=exc.message,
                )
                return result
        text = data.decode("latin-1")
        result.documents = [("customs.status", status, text) for status in statuses]
        return result
