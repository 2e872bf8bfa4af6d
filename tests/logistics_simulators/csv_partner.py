"""The 3PL's side of the CSV layouts: reading the orders file the connector writes, writing
the shipment confirmations and inventory files it reads (see
``logistics_3pl_connector.formats.csv_format`` for the layouts).

Used by the 3PL simulator (:mod:`logistics_simulators.threepl`) and the tests::

    parse_orders_csv(text) -> list[dict]                        # order.release
    build_shipments_csv(shipments: Iterable[dict]) -> str      # shipment.confirmed
    build_inventory_csv(snapshot: dict) -> str                  # inventory.snapshot

Errors are the connector's ``CSVParseError`` and ``CSVBuildError``.
"""

import datetime as dt
from decimal import Decimal

from odoo.addons.logistics_3pl_connector.formats.csv_format import (
    INVENTORY_COLUMNS,
    LOT_TRACKING,
    ORDER_COLUMNS,
    ORDER_HEADER_COLUMNS,
    ORDER_REQUIRED,
    SHIPMENT_COLUMNS,
    CSVBuildError,
    CSVParseError,
    _decimal,
    _lots,
    _need,
    _number,
    _required,
    _rows,
    _split_lots,
    _text,
    _Values,
    _writer,
)
from odoo.addons.logistics_integration_base.formats.common import (
    ADDRESS_FIELDS,
    COUNTRY_CODE,
    format_number,
    iso_utc,
    parse_datetime,
)

__all__ = ["build_inventory_csv", "build_shipments_csv", "parse_orders_csv"]


# --------------------------------------------------------------------------------------------
# Orders (reading)
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


# --------------------------------------------------------------------------------------------
# Shipments and inventory (writing)
# --------------------------------------------------------------------------------------------


def _format_datetime(value, what):
    if not value:
        return ""
    return iso_utc(parse_datetime(value, what, CSVBuildError))


def build_shipments_csv(shipments):
    """Canonical ``shipment.confirmed`` dicts -> shipment confirmations CSV text."""
    buffer, writer = _writer()
    writer.writerow(SHIPMENT_COLUMNS)
    for index, shipment in enumerate(shipments):
        what = f"shipments[{index}]"
        carrier = shipment.get("carrier") or {}
        header = [
            _text(_need(shipment, "order_ref", f"{what}.order_ref")),
            _text(_need(shipment, "shipment_ref", f"{what}.shipment_ref")),
            _format_datetime(shipment.get("shipped_at"), f"{what}.shipped_at"),
            _text(carrier.get("code")),
            _text(carrier.get("service")),
            _text(shipment.get("tracking_ref")),
        ]
        lines = shipment.get("lines") or []
        if not lines:
            raise CSVBuildError(f"{what} has no lines")
        for n, line in enumerate(lines):
            line_what = f"{what}.lines[{n}]"
            for lot, quantity in _split_lots(line, line_what):
                if quantity < 0:
                    raise CSVBuildError(f"{line_what}: quantities must not be negative")
                writer.writerow(
                    header
                    + [
                        _text(line.get("line_ref")),
                        _text(_need(line, "sku", f"{line_what}.sku")),
                        format_number(quantity),
                        _text(line.get("uom")),
                        _text(lot and lot.get("lot")),
                    ]
                )
    return buffer.getvalue()


def build_inventory_csv(snapshot):
    """Canonical ``inventory.snapshot`` dict -> inventory CSV text."""
    buffer, writer = _writer()
    writer.writerow(INVENTORY_COLUMNS)
    header = [
        _text(_need(snapshot, "snapshot_ref", "snapshot_ref")),
        _text(_need(snapshot, "warehouse_code", "warehouse_code")),
        _format_datetime(snapshot.get("as_of"), "as_of"),
    ]
    lines = snapshot.get("lines") or []
    for n, line in enumerate(lines):
        writer.writerow(
            header
            + [
                _text(_need(line, "sku", f"lines[{n}].sku")),
                _text(line.get("lot")),
                format_number(_decimal(line.get("quantity"), f"lines[{n}].quantity")),
                _text(line.get("uom")),
            ]
        )
    if not lines:
        writer.writerow(header + ["", "", "", ""])
    return buffer.getvalue()
