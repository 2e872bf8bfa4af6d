"""Freight invoices as files over SFTP: X12 210 interchanges or the CSV layout of
``readme/FORMATS.md``, one ``freight.invoice`` message per invoice.

Registered for the ``freight_files`` provider over ``sftp``: a backend of its own for the
folder where a carrier or 3PL drops its invoices (its *Invoices for* names the carrier or
3PL backend whose shipments they bill). A file is an X12 interchange when it starts with ISA
(after blanks and a UTF-8 byte-order mark), otherwise CSV. Nothing is written to the partner:
disputes go to the backend they concern. An interchange that cannot be read (envelope,
totals, a value that is not a code) is kept in the error folder and reported with its
segment, position and element, or its line and column; no invoice of it is audited. A
special charge code the profile does not know is not an error: the audit has it approved.
"""

import codecs

from odoo.addons.logistics_3pl_connector.formats.csv_format import CSVParseError
from odoo.addons.logistics_3pl_connector.formats.inbound_files import render_set
from odoo.addons.logistics_integration_base.adapters import register
from odoo.addons.logistics_integration_base.adapters.sftp_files import (
    ReadFile,
    SftpFilesAdapter,
)
from odoo.addons.logistics_integration_base.exceptions import TransportError
from odoo.addons.logistics_integration_base.formats.x12 import X12ParseError

from ..formats import freight_csv, x12_210
from ..formats.freight_invoice import MESSAGE_TYPE


@register("freight_files", protocol="sftp")
class FreightFilesAdapter(SftpFilesAdapter):
    provider = "freight_files"

    def read_file(self, name, data):
        head = data.lstrip()
        if head.startswith(codecs.BOM_UTF8):  # what Windows tools write first
            head = head[len(codecs.BOM_UTF8) :].lstrip()
        if head[:3] == b"ISA":
            result = ReadFile("x12", message_type=MESSAGE_TYPE)
            try:
                interchange, invoices = x12_210.parse_210_interchange(data)
            except X12ParseError as exc:
                result.error = exc
                return result
            result.interchange = interchange
            result.control_number = interchange.control_number
            result.documents = [
                (MESSAGE_TYPE, invoice, render_set(ts))
                for ts, invoice in zip(interchange.transaction_sets, invoices, strict=True)
            ]
            return result
        result = ReadFile("csv", message_type=MESSAGE_TYPE)
        try:
            invoices = freight_csv.parse_invoices_csv(data)
        except CSVParseError as exc:
            result.error = exc
            return result
        text = data.decode("utf-8", "replace")
        result.documents = [(MESSAGE_TYPE, invoice, text) for invoice in invoices]
        return result

    def render(self, message):
        raise TransportError(
            self.env._(
                "%(backend)s only brings invoice files: nothing is written to it. A dispute "
                "goes to the carrier or 3PL backend the invoices are for.",
                backend=self.backend.name,
            ),
            "business",
        )
