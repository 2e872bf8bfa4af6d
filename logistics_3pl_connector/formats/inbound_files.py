"""What a file a 3PL dropped on its SFTP server holds, read into canonical documents.

Pure Python, no ORM: the ``logistics.sftp.file`` model keeps the bookkeeping (one record
per file, its messages, commits); this module only reads bytes.

CSV files say what they hold by their name prefix (``shipment_SHP-1.csv``) or, failing
that, by their header (a ``shipment_ref`` or ``snapshot_ref`` column). X12 files (or any
file starting with ``ISA``) are interchanges of 945s, 846s and 997s.
"""

from odoo.addons.logistics_integration_base.adapters.sftp_files import ReadFile

from . import csv_format, x12

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


def read_file(name, data, x12_expected=False, raw_limit=500_000, inventory=None):
    """Read a file's bytes (a :class:`ReadFile`: 997s in ``extra["acks"]``); a parse error
    is returned in ``error``, never raised. ``inventory``: how the partner writes its 846s
    (:class:`x12.InventoryOptions`)."""
    if x12_expected or data.lstrip(b"\xef\xbb\xbf \t\r\n")[:3] == b"ISA":
        result = _read_x12(data, inventory)
    else:
        result = _read_csv(name, data, raw_limit)
    if result.interchange is not None:
        # ISA06 (with its ISA05 qualifier) and ISA13 name the interchange
        result.control_number = result.interchange.control_number
        result.sender = x12_sender(result.interchange)
    if result.error is not None:
        result.message_type = guess_type(name, result.error)
    return result


def x12_sender(interchange):
    """The interchange's sender as ``id:qualifier`` (ISA06:ISA05)."""
    sender = (interchange.sender_id or "").strip()
    qualifier = (interchange.sender_qualifier or "").strip()
    return f"{sender}:{qualifier}" if sender and qualifier else sender or None


def _read_x12(data, inventory=None):
    result = ReadFile("x12", extra={"acks": []})
    try:
        result.interchange = x12.parse_interchange(data)
        documents = x12.parse_documents(result.interchange, inventory)
    except x12.X12ParseError as exc:
        result.error = exc
        return result
    for ts, (message_type, payload) in zip(
        result.interchange.transaction_sets, documents, strict=True
    ):
        if message_type == "functional.ack":
            result.extra["acks"].append(payload)
        else:
            result.documents.append((message_type, payload, render_set(ts)))
    return result


def _read_csv(name, data, raw_limit):
    result = ReadFile("csv")
    try:
        message_type, parser = CSV_KINDS[csv_kind(name, data)]
        documents = parser(data)
    except csv_format.CSVParseError as exc:
        result.error = exc
        return result
    text = data.decode("utf-8", "replace")[:raw_limit]
    result.documents = [(message_type, payload, text) for payload in documents]
    return result


def csv_kind(name, data):
    stem = name.rsplit("/", 1)[-1]
    prefix = stem.split("_", 1)[0].split("-", 1)[0].split(".", 1)[0].lower()
    if prefix in CSV_PREFIXES:
        return CSV_PREFIXES[prefix]
    header = data.lstrip(b"\xef\xbb\xbf").split(b"\n", 1)[0].decode("utf-8", "replace")
    columns = {column.strip().strip('"').lower() for column in header.split(",")}
    for column, kind in CSV_HEADER_KEYS.items():
        if column in columns:
            return kind
    raise csv_format.CSVParseError(
        f"cannot tell what file {name} holds: name it shipment_<ref>.csv or "
        "inventory_<ref>.csv, or give it a shipment_ref or snapshot_ref column",
        1,
    )


def render_set(ts):
    """One transaction set as text, a segment a line (kept on its message)."""
    sep = ts.separators
    return "".join(sep.element.join(segment) + sep.segment + "\n" for segment in ts.segments)


def guess_type(name, error):
    """The message type an unreadable file was probably meant to carry."""
    code = getattr(error, "transaction_set", None)
    if code in x12.MESSAGE_TYPES:
        return x12.MESSAGE_TYPES[code]
    prefix = name.split("_", 1)[0].lower()
    if prefix in X12_PREFIXES:
        return X12_PREFIXES[prefix]
    if prefix in CSV_PREFIXES:
        return CSV_KINDS[CSV_PREFIXES[prefix]][0]
    return "unknown"
