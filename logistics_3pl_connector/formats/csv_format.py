"""CSV file formats for 3PL partners, mapped to and from the canonical payloads.

Pure Python, no ORM. One layout per document; every file is UTF-8 (a byte-order mark is
accepted), comma separated, quoted as in RFC 4180 (fields containing a comma, a double quote or
a line break are enclosed in double quotes, inner quotes doubled), with CRLF line ends when
written and any line end accepted when read. The first row is the header; columns are matched
by name (case-insensitive, surrounding blanks ignored), their order is free, unknown columns are
ignored and optional columns may be left out. Blank lines are skipped.

Public API::

    build_orders_csv(orders: Iterable[dict]) -> str           # order.release, outbound
    parse_orders_csv(text) -> list[dict]                        # order.release, as written
    parse_shipments_csv(text) -> list[dict]                     # shipment.confirmed, inbound
    parse_inventory_csv(text) -> dict                           # inventory.snapshot, inbound

The 3PL's side of the other layouts (``build_shipments_csv``, ``build_inventory_csv``) is in
the repository's ``tests/logistics_simulators/csv_partner.py``, for the simulator and the
tests. Numbers and date-times are read and written with the suite's shared helpers
(``logistics_integration_base.formats.common``), as in the X12 format.

``text`` is a ``str``, ``bytes``, or an iterable of lines (a text file opened with
``newline=""``); rows are read one by one with the ``csv`` module, so large files stream.
A bad row raises :class:`CSVParseError`, whose ``str()`` names the line and the column, e.g.
``line 7, column quantity: 'abc' is not a number``. Values: numbers use a dot as decimal
separator (``12``, ``2.5``, ``-3``); dates are ``YYYY-MM-DD``; date-times are ISO 8601
(``2024-03-05T17:45:00Z``; an offset is converted to UTC, no offset means UTC, a bare date
means midnight UTC) and are written as ``YYYY-MM-DDTHH:MM:SSZ``.

Parsed dicts contain every optional key the layout can carry (``None``/``[]`` when empty);
keys whose schema type does not allow ``null`` (``shipped_at``, ``as_of``, ``lot_tracking``)
are left out when empty. Lot rows: a line shipped or ordered from several lots is written as one
row per lot, ``quantity`` being the quantity of that lot; quantity without a lot goes on a row
with an empty ``lot``. Rows of the same line are added up when read.

Orders (outbound, order.release): one row per order line, or per lot of a line
------------------------------------------------------------------------------

Order columns are repeated on every row of the order; required order columns must be filled on
every row, optional ones may be left empty after the first row, but two different values for
the same order are an error. Line columns are repeated on every row of a line (same rule).

=====================  ========  ===========================================================
Column                 Required  Canonical field
=====================  ========  ===========================================================
order_ref              yes       ``order_ref`` (rows are grouped per order_ref)
origin                           ``origin``
warehouse_code         yes       ``warehouse_code``
requested_date                   ``requested_date`` (YYYY-MM-DD)
carrier_code                     ``carrier.code``
carrier_service                  ``carrier.service``
ship_to_name           yes       ``ship_to.name``
ship_to_company                  ``ship_to.company``
ship_to_street         yes       ``ship_to.street``
ship_to_street2                  ``ship_to.street2``
ship_to_city           yes       ``ship_to.city``
ship_to_state_code               ``ship_to.state_code``
ship_to_zip            yes       ``ship_to.zip``
ship_to_country_code   yes       ``ship_to.country_code`` (ISO 3166-1 alpha-2, e.g. US)
ship_to_email                    ``ship_to.email``
ship_to_phone                    ``ship_to.phone``
notes                            ``notes`` (may contain line breaks, quoted)
line_ref               yes       ``lines[].line_ref`` (rows are grouped per line_ref)
sku                    yes       ``lines[].sku``
name                             ``lines[].name``
quantity               yes       quantity of the row (> 0); the line quantity is the sum
uom                    yes       ``lines[].uom``
lot_tracking                     ``lines[].lot_tracking``: none, lot or serial
lot                              ``lines[].lots[].lot`` (empty: quantity without lot)
lot_expiration_date              ``lines[].lots[].expiration_date`` (YYYY-MM-DD)
=====================  ========  ===========================================================

Shipment confirmations (inbound, shipment.confirmed): one row per shipped line, or per lot
-----------------------------------------------------------------------------------------

Rows are grouped per (order_ref, shipment_ref) into one confirmation each, then per line_ref
(per sku when line_ref is empty); rows repeating the same lot of a line (picked from two bins)
are added up. ``complete`` is not carried by this layout (``None``).

=====================  ========  ===========================================================
Column                 Required  Canonical field
=====================  ========  ===========================================================
order_ref              yes       ``order_ref``
shipment_ref           yes       ``shipment_ref``
shipped_at                       ``shipped_at`` (ISO 8601 date-time)
carrier_code                     ``carrier.code`` (e.g. the SCAC)
service                          ``carrier.service``
tracking_ref                     ``tracking_ref``
line_ref                         ``lines[].line_ref``
sku                    yes       ``lines[].sku``
quantity               yes       shipped quantity of the row (>= 0; > 0 when ``lot`` is set)
uom                              ``lines[].uom``
lot                              ``lines[].lots[].lot``
=====================  ========  ===========================================================

Inventory (inbound, inventory.snapshot): one row per SKU and lot
----------------------------------------------------------------

snapshot_ref, warehouse_code and as_of are repeated on every row and must agree (an empty
as_of after the first row inherits it). A row with
both ``sku`` and ``quantity`` empty only carries the snapshot columns (an empty snapshot).
Rows are not merged: two rows for the same SKU and lot give two lines.

=====================  ========  ===========================================================
Column                 Required  Canonical field
=====================  ========  ===========================================================
snapshot_ref           yes       ``snapshot_ref``
warehouse_code         yes       ``warehouse_code``
as_of                            ``as_of`` (ISO 8601 date-time)
sku                    yes       ``lines[].sku``
lot                              ``lines[].lot``
quantity               yes       ``lines[].quantity`` (on hand, may be negative)
uom                              ``lines[].uom``
=====================  ========  ===========================================================
"""

from __future__ import annotations

import codecs
import csv
import datetime as dt
import io
import re
from collections.abc import Iterable
from decimal import Decimal
from functools import partial

from odoo.addons.logistics_integration_base.formats.common import (
    ADDRESS_FIELDS,
    ADDRESS_REQUIRED,
    COUNTRY_CODE,
    format_number,
    fromisoformat,
    iso_utc,
    require,
    split_lots,
    to_decimal,
)

__all__ = [
    "INVENTORY_COLUMNS",
    "ORDER_COLUMNS",
    "SHIPMENT_COLUMNS",
    "CSVBuildError",
    "CSVParseError",
    "build_orders_csv",
    "parse_inventory_csv",
    "parse_orders_csv",
    "parse_shipments_csv",
]

ORDER_HEADER_COLUMNS = (
    "order_ref",
    "origin",
    "warehouse_code",
    "requested_date",
    "carrier_code",
    "carrier_service",
    *(f"ship_to_{key}" for key in ADDRESS_FIELDS),
    "notes",
)
ORDER_LINE_COLUMNS = (
    "line_ref",
    "sku",
    "name",
    "quantity",
    "uom",
    "lot_tracking",
    "lot",
    "lot_expiration_date",
)
ORDER_COLUMNS = ORDER_HEADER_COLUMNS + ORDER_LINE_COLUMNS
ORDER_REQUIRED = (
    "order_ref",
    "warehouse_code",
    *(f"ship_to_{key}" for key in ADDRESS_REQUIRED),
    "line_ref",
    "sku",
    "quantity",
    "uom",
)

SHIPMENT_COLUMNS = (
    "order_ref",
    "shipment_ref",
    "shipped_at",
    "carrier_code",
    "service",
    "tracking_ref",
    "line_ref",
    "sku",
    "quantity",
    "uom",
    "lot",
)
SHIPMENT_REQUIRED = ("order_ref", "shipment_ref", "sku", "quantity")

INVENTORY_COLUMNS = ("snapshot_ref", "warehouse_code", "as_of", "sku", "lot", "quantity", "uom")
INVENTORY_REQUIRED = ("snapshot_ref", "warehouse_code", "sku", "quantity")

LOT_TRACKING = ("none", "lot", "serial")

_NUMBER = re.compile(r"^[+-]?(\d+\.?\d*|\.\d+)$")


class CSVParseError(ValueError):
    """A CSV file or row is invalid; ``str()`` names the line (1 = header) and column."""

    def __init__(self, message, line=None, column=None, value=None):
        super().__init__(message)
        self.message = message
        self.line = line
        self.column = column
        self.value = value

    def __str__(self):
        where = []
        if self.line is not None:
            where.append(f"line {self.line}")
        if self.column:
            where.append(f"column {self.column}")
        return f"{', '.join(where)}: {self.message}" if where else str(self.message)

    def __reduce__(self):
        return (self.__class__, (self.message, self.line, self.column, self.value))


class CSVBuildError(ValueError):
    """A canonical payload cannot be written in the CSV layout."""


# --------------------------------------------------------------------------------------------
# Reading
# --------------------------------------------------------------------------------------------


def _lines(text):
    """Iterable of text lines (with their line ends) from str, bytes or a line iterable."""
    if isinstance(text, bytes | bytearray | memoryview):
        data = bytes(text)
        try:
            decoded = codecs.decode(data, "utf-8-sig")
        except UnicodeDecodeError as error:
            line = data[: error.start].count(b"\n") + 1
            raise CSVParseError(
                f"the file is not UTF-8 encoded (invalid byte at offset {error.start})", line
            ) from None
        return io.StringIO(decoded, newline="")
    if isinstance(text, str):
        return io.StringIO(text.removeprefix("\ufeff"), newline="")
    if isinstance(text, Iterable):
        return text
    raise TypeError(f"CSV input must be str, bytes or an iterable of lines, not {type(text)}")


def _rows(text, columns, required):
    """Yield ``(line number, {column: stripped value})`` for each data row."""
    reader = csv.reader(_lines(text), strict=True)
    header = None
    previous_end = 0
    try:
        for row in reader:
            start, previous_end = previous_end + 1, reader.line_num
            if not row or all(not cell.strip() for cell in row):
                continue
            if header is None:
                header = [cell.strip().lstrip("\ufeff").lower() for cell in row]
                seen = set()
                for cell in header:
                    if cell and cell in seen:
                        raise CSVParseError("duplicate column in the header", start, cell)
                    seen.add(cell)
                missing = [name for name in required if name not in seen]
                if missing:
                    raise CSVParseError(
                        f"required column(s) missing from the header: {', '.join(missing)} "
                        f"(expected columns: {', '.join(columns)})",
                        start,
                        missing[0],
                    )
                positions = [(name, header.index(name)) for name in columns if name in seen]
                continue
            if len(row) != len(header):
                raise CSVParseError(
                    f"the row has {len(row)} field(s) but the header has {len(header)}", start
                )
            yield start, {name: row[index].strip() for name, index in positions}
    except csv.Error as error:
        raise CSVParseError(f"malformed CSV: {error}", reader.line_num) from None
    except UnicodeDecodeError as error:
        raise CSVParseError(
            f"the file is not UTF-8 encoded: {error}", reader.line_num + 1
        ) from None
    if header is None:
        raise CSVParseError("the file is empty: a header row is required", 1)


def _required(row, line, column):
    value = row.get(column, "")
    if not value:
        raise CSVParseError("a value is required", line, column)
    return value


def _number(row, line, column, minimum=None, exclusive=False):
    value = row.get(column, "")
    if not value:
        raise CSVParseError("a number is required", line, column)
    if not _NUMBER.match(value):
        raise CSVParseError(
            f"{value!r} is not a number (use digits and a dot, e.g. 12 or 2.5)",
            line,
            column,
            value,
        )
    number = Decimal(value)
    if minimum is not None and (number < minimum or (exclusive and number == minimum)):
        relation = "greater than" if exclusive else "at least"
        raise CSVParseError(f"{value!r} must be {relation} {minimum}", line, column, value)
    return number


def _datetime(row, line, column):
    value = row.get(column, "")
    if not value:
        return None
    try:
        moment = fromisoformat(value)
    except ValueError:
        raise CSVParseError(
            f"{value!r} is not an ISO 8601 date-time (e.g. 2024-03-05T17:45:00Z)",
            line,
            column,
            value,
        ) from None
    return iso_utc(moment)


class _Values:
    """Values repeated over several rows: first non-empty value wins, a different one fails."""

    def __init__(self, what):
        self.what = what
        self.values = {}
        self.lines = {}

    def set(self, column, value, line, key=None):
        key = key or column
        if value in ("", None):
            return
        if key not in self.values:
            self.values[key], self.lines[key] = value, line
        elif self.values[key] != value:
            raise CSVParseError(
                f"{value!r} differs from {self.values[key]!r} given on line {self.lines[key]} "
                f"for the same {self.what}",
                line,
                column,
                value,
            )

    def get(self, key):
        return self.values.get(key)


def _lots(lots):
    return [
        {"lot": lot, "quantity": float(quantity), "expiration_date": expiration}
        for lot, (quantity, expiration) in lots.items()
    ]


# --------------------------------------------------------------------------------------------
# Shipments
# --------------------------------------------------------------------------------------------


# --------------------------------------------------------------------------------------------
# Orders (reading: the 3PL's side, and the legacy output of a parallel run)
# --------------------------------------------------------------------------------------------


def _date(row, line, column):
    value = row.get(column, "")
    if not value:
        return None
    try:
        if len(value) != 10:
            raise ValueError
        return dt.date.fromisoformat(value).isoformat()
    except ValueError:
        raise CSVParseError(f"{value!r} is not a date (YYYY-MM-DD)", line, column, value) from None


def parse_orders_csv(text):
    """Orders CSV -> list of canonical ``order.release`` dicts (in file order)."""
    orders = {}
    for line, row in _rows(text, ORDER_COLUMNS, ORDER_REQUIRED):
        order_ref = _required(row, line, "order_ref")
        order = orders.get(order_ref)
        if order is None:
            order = orders[order_ref] = {"values": _Values("order_ref"), "lines": {}}
        values = order["values"]
        for column in ORDER_HEADER_COLUMNS[1:]:
            if column in ORDER_REQUIRED:
                _required(row, line, column)
            value = row.get(column, "")
            if column == "requested_date":
                value = _date(row, line, column)
            elif column == "ship_to_country_code" and not COUNTRY_CODE.match(value):
                raise CSVParseError(
                    f"{value!r} is not a 2-letter upper-case ISO country code", line, column, value
                )
            values.set(column, value, line)

        line_ref = _required(row, line, "line_ref")
        order_line = order["lines"].get(line_ref)
        if order_line is None:
            order_line = order["lines"][line_ref] = {
                "values": _Values(f"line_ref {line_ref!r} of order {order_ref!r}"),
                "quantity": Decimal(0),
                "lots": {},
            }
        line_values = order_line["values"]
        for column in ("sku", "uom"):
            line_values.set(column, _required(row, line, column), line)
        line_values.set("name", row.get("name", ""), line)
        tracking = row.get("lot_tracking", "").lower()
        if tracking and tracking not in LOT_TRACKING:
            raise CSVParseError(
                f"{row['lot_tracking']!r} is not one of {', '.join(LOT_TRACKING)}",
                line,
                "lot_tracking",
                row["lot_tracking"],
            )
        line_values.set("lot_tracking", tracking, line)
        quantity = _number(row, line, "quantity", minimum=0, exclusive=True)
        order_line["quantity"] += quantity
        lot = row.get("lot", "")
        expiration = _date(row, line, "lot_expiration_date")
        if lot:
            if lot in order_line["lots"]:
                raise CSVParseError(
                    f"lot {lot!r} is listed twice for line {line_ref!r}", line, "lot", lot
                )
            order_line["lots"][lot] = (quantity, expiration)
        elif expiration:
            raise CSVParseError(
                "an expiration date needs a lot", line, "lot_expiration_date", expiration
            )

    result = []
    for order_ref, order in orders.items():
        values = order["values"]
        carrier = None
        if values.get("carrier_code") or values.get("carrier_service"):
            carrier = {"code": values.get("carrier_code"), "service": values.get("carrier_service")}
        lines = []
        for line_ref, order_line in order["lines"].items():
            line_values = order_line["values"]
            out = {
                "line_ref": line_ref,
                "sku": line_values.get("sku"),
                "name": line_values.get("name"),
                "quantity": float(order_line["quantity"]),
                "uom": line_values.get("uom"),
            }
            if line_values.get("lot_tracking"):
                out["lot_tracking"] = line_values.get("lot_tracking")
            out["lots"] = _lots(order_line["lots"])
            lines.append(out)
        result.append(
            {
                "order_ref": order_ref,
                "origin": values.get("origin"),
                "warehouse_code": values.get("warehouse_code"),
                "requested_date": values.get("requested_date"),
                "carrier": carrier,
                "ship_to": {key: values.get(f"ship_to_{key}") for key in ADDRESS_FIELDS},
                "lines": lines,
                "notes": values.get("notes"),
            }
        )
    return result


def parse_shipments_csv(text):
    """Shipment confirmations CSV -> list of canonical ``shipment.confirmed`` dicts, one per
    (order_ref, shipment_ref), in file order."""
    shipments = {}
    for line, row in _rows(text, SHIPMENT_COLUMNS, SHIPMENT_REQUIRED):
        order_ref = _required(row, line, "order_ref")
        shipment_ref = _required(row, line, "shipment_ref")
        shipment = shipments.get((order_ref, shipment_ref))
        if shipment is None:
            shipment = shipments[(order_ref, shipment_ref)] = {
                "values": _Values(f"shipment {shipment_ref!r} of order {order_ref!r}"),
                "lines": {},
            }
        values = shipment["values"]
        values.set("shipped_at", _datetime(row, line, "shipped_at"), line)
        for column in ("carrier_code", "service", "tracking_ref"):
            values.set(column, row.get(column, ""), line)

        sku = _required(row, line, "sku")
        line_ref = row.get("line_ref", "")
        key = ("line_ref", line_ref) if line_ref else ("sku", sku)
        shipped_line = shipment["lines"].get(key)
        if shipped_line is None:
            what = f"line_ref {line_ref!r}" if line_ref else f"sku {sku!r} (no line_ref)"
            shipped_line = shipment["lines"][key] = {
                "line_ref": line_ref or None,
                "values": _Values(what),
                "quantity": Decimal(0),
                "lots": {},
            }
        shipped_line["values"].set("sku", sku, line)
        shipped_line["values"].set("uom", row.get("uom", ""), line)
        quantity = _number(row, line, "quantity", minimum=0)
        shipped_line["quantity"] += quantity
        lot = row.get("lot", "")
        if lot:
            if quantity <= 0:
                raise CSVParseError(
                    f"the quantity shipped from lot {lot!r} must be greater than 0",
                    line,
                    "quantity",
                    row.get("quantity"),
                )
            previous, _expiration = shipped_line["lots"].get(lot, (Decimal(0), None))
            shipped_line["lots"][lot] = (previous + quantity, None)

    result = []
    for (order_ref, shipment_ref), shipment in shipments.items():
        values = shipment["values"]
        out = {"order_ref": order_ref, "shipment_ref": shipment_ref}
        if values.get("shipped_at"):
            out["shipped_at"] = values.get("shipped_at")
        carrier = None
        if values.get("carrier_code") or values.get("service"):
            carrier = {"code": values.get("carrier_code"), "service": values.get("service")}
        out["carrier"] = carrier
        out["tracking_ref"] = values.get("tracking_ref")
        out["complete"] = None
        out["lines"] = [
            {
                "line_ref": shipped_line["line_ref"],
                "sku": shipped_line["values"].get("sku"),
                "quantity": float(shipped_line["quantity"]),
                "uom": shipped_line["values"].get("uom"),
                "lots": _lots(shipped_line["lots"]),
            }
            for shipped_line in shipment["lines"].values()
        ]
        result.append(out)
    return result


# --------------------------------------------------------------------------------------------
# Inventory
# --------------------------------------------------------------------------------------------


def parse_inventory_csv(text):
    """Inventory CSV -> canonical ``inventory.snapshot`` dict (one snapshot per file)."""
    values = _Values("file (one snapshot per file)")
    lines = []
    first_line = None
    for line, row in _rows(text, INVENTORY_COLUMNS, INVENTORY_REQUIRED):
        first_line = first_line or line
        values.set("snapshot_ref", _required(row, line, "snapshot_ref"), line)
        values.set("warehouse_code", _required(row, line, "warehouse_code"), line)
        values.set("as_of", _datetime(row, line, "as_of"), line)
        if not row.get("sku") and not row.get("quantity") and not row.get("lot"):
            continue  # snapshot-only row (empty snapshot)
        lines.append(
            {
                "sku": _required(row, line, "sku"),
                "lot": row.get("lot") or None,
                "quantity": float(_number(row, line, "quantity")),
                "uom": row.get("uom") or None,
            }
        )
    if first_line is None:
        raise CSVParseError("the file has a header but no data rows", 2)
    result = {
        "snapshot_ref": values.get("snapshot_ref"),
        "warehouse_code": values.get("warehouse_code"),
    }
    if values.get("as_of"):
        result["as_of"] = values.get("as_of")
    result["lines"] = lines
    return result


# --------------------------------------------------------------------------------------------
# Writing
# --------------------------------------------------------------------------------------------


#: The shared value helpers, raising what the CSV builders raise.
_need = partial(require, error=CSVBuildError)
_decimal = partial(to_decimal, error=CSVBuildError)


def _text(value):
    if value is None:
        return ""
    if isinstance(value, bool):
        raise CSVBuildError(f"unexpected boolean value {value!r}")
    return str(value)


def _split_lots(line, what):
    """[(lot dict or None, quantity)] covering the line quantity: one entry per lot plus the
    quantity without a lot (or the whole quantity when there are no lots)."""
    return split_lots(line, what, CSVBuildError)[1]


def _writer():
    buffer = io.StringIO(newline="")
    return buffer, csv.writer(buffer, lineterminator="\r\n", quoting=csv.QUOTE_MINIMAL)


def build_orders_csv(orders):
    """Canonical ``order.release`` dicts -> orders CSV text."""
    buffer, writer = _writer()
    writer.writerow(ORDER_COLUMNS)
    for index, order in enumerate(orders):
        what = f"orders[{index}]"
        ship_to = _need(order, "ship_to", f"{what}.ship_to")
        carrier = order.get("carrier") or {}
        header = [
            _need(order, "order_ref", f"{what}.order_ref"),
            order.get("origin"),
            _need(order, "warehouse_code", f"{what}.warehouse_code"),
            order.get("requested_date"),
            carrier.get("code"),
            carrier.get("service"),
        ]
        for key in ADDRESS_FIELDS:
            value = ship_to.get(key)
            if f"ship_to_{key}" in ORDER_REQUIRED:
                value = _need(ship_to, key, f"{what}.ship_to.{key}")
            header.append(value)
        header.append(order.get("notes"))
        lines = order.get("lines") or []
        if not lines:
            raise CSVBuildError(f"{what} has no lines")
        for n, line in enumerate(lines):
            line_what = f"{what}.lines[{n}]"
            line_columns = [
                _need(line, "line_ref", f"{line_what}.line_ref"),
                _need(line, "sku", f"{line_what}.sku"),
                line.get("name"),
            ]
            for lot, quantity in _split_lots(line, line_what):
                if quantity <= 0:
                    raise CSVBuildError(f"{line_what}: quantities must be greater than zero")
                writer.writerow(
                    [_text(value) for value in header + line_columns]
                    + [
                        format_number(quantity),
                        _text(_need(line, "uom", f"{line_what}.uom")),
                        _text(line.get("lot_tracking")),
                        _text(lot and lot.get("lot")),
                        _text(lot and lot.get("expiration_date")),
                    ]
                )
    return buffer.getvalue()
