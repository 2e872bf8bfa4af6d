"""The parallel run of a 3PL backend: how the legacy interface's order files are read and
how its orders are compared with the suite's (see the base's ``tools/parallel_run.py``).

Legacy files are read in the layouts the connector itself writes (FORMATS.md, X12.md): the
CSV order layout (``order_*.csv`` a release, ``update_*.csv`` an update, ``cancel_*.csv`` a
cancellation; a file without those prefixes is an order file when its header has
``order_ref``, ``line_ref`` and ``sku``), and X12 940 interchanges (W0501 ``N`` a release,
``R`` an update; a ``C`` cancellation is read as unreadable: it repeats the order, not a
change). Orders are matched by their reference, lines by SKU: the legacy system numbers its
lines its own way, so ``line_ref`` is not compared. No ORM here.
"""

import csv
import io

from odoo.addons.logistics_integration_base.tools.parallel_run import (
    register_comparison,
    register_legacy_reader,
)

from . import csv_format, x12

ORDER_LABELS = {
    "order_ref": "order reference",
    "warehouse_code": "warehouse",
    "requested_date": "requested date",
    "carrier.code": "carrier",
    "carrier.service": "carrier service",
    "ship_to.name": "ship-to name",
    "ship_to.company": "ship-to company",
    "ship_to.street": "ship-to street",
    "ship_to.street2": "ship-to street 2",
    "ship_to.city": "ship-to city",
    "ship_to.state_code": "ship-to state",
    "ship_to.zip": "ship-to postcode",
    "ship_to.country_code": "ship-to country",
    "ship_to.email": "ship-to email",
    "ship_to.phone": "ship-to phone",
    "lines.quantity": "quantity",
    "lines.uom": "unit of measure",
    "lines.name": "description",
    "lines.lot_tracking": "lot tracking",
    "lines.lots": "lots",
}
for _type in ("order.release", "order.update"):
    register_comparison(
        _type,
        key="order_ref",
        lines="lines",
        line_key="sku",
        line_label="SKU",
        labels=ORDER_LABELS,
        ignore=("lines.line_ref",),
    )
register_comparison("order.cancel", key="order_ref", labels={"reason": "reason"})

CSV_TYPES = {"order": "order.release", "update": "order.update", "cancel": "order.cancel"}
_ORDER_COLUMNS = {"order_ref", "line_ref", "sku"}


def _csv_prefix(name):
    stem = name.rsplit("/", 1)[-1]
    return stem.split("_", 1)[0].split("-", 1)[0].split(".", 1)[0].lower()


def _header(data):
    line = data.lstrip(b"\xef\xbb\xbf").split(b"\n", 1)[0].decode("utf-8", "replace")
    return {column.strip().strip('"').lower() for column in line.split(",")}


def _read_cancellations(data):
    text = data.decode("utf-8-sig")
    rows = list(csv.DictReader(io.StringIO(text, newline="")))
    out = []
    for number, row in enumerate(rows, start=2):
        row = {(k or "").strip().lower(): (v or "").strip() for k, v in row.items()}
        if not row.get("order_ref"):
            raise ValueError(f"line {number}, column order_ref: the order reference is missing")
        out.append(("order.cancel", {"order_ref": row["order_ref"], "reason": row.get("reason")}))
    return out


def _purpose(ts):
    for segment in ts.segments:
        if segment and segment[0] == "W05":
            return segment[1] if len(segment) > 1 else "N"
    return "N"


def read_legacy_orders(name, data):
    """The orders of a legacy order file: ``[(message type, canonical payload)]``; None for a
    file of another kind; ``ValueError`` naming the line or segment when it cannot be read."""
    if data.lstrip(b"\xef\xbb\xbf \t\r\n")[:3] == b"ISA":
        try:
            interchange = x12.parse_interchange(data)
            documents = x12.parse_documents(interchange)
        except x12.X12ParseError as exc:
            raise ValueError(str(exc)) from None
        out = []
        for ts, (message_type, payload) in zip(
            interchange.transaction_sets, documents, strict=True
        ):
            if message_type != "order.release":
                return None  # not an order interchange
            purpose = _purpose(ts)
            out.append(("order.update" if purpose == "R" else "order.release", payload))
        return out
    prefix = _csv_prefix(name)
    message_type = CSV_TYPES.get(prefix)
    if message_type is None and _ORDER_COLUMNS <= _header(data):
        message_type = "order.release"
    if message_type is None:
        return None
    if message_type == "order.cancel":
        return _read_cancellations(data)
    try:
        return [(message_type, order) for order in csv_format.parse_orders_csv(data)]
    except csv_format.CSVParseError as exc:
        raise ValueError(str(exc)) from None


# the CSV order layout and the 940 carry order.release v1's fields (no priority)
register_legacy_reader(read_legacy_orders, kind="3pl", version=1)
