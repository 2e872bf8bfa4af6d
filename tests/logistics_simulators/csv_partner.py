"""The 3PL's side of the CSV layouts: reading the orders file the connector writes, writing
the shipment confirmations and inventory files it reads (see
``logistics_3pl_connector.formats.csv_format`` for the layouts).

(Reading the orders file is the connector's own ``parse_orders_csv``: it also reads the legacy
interface's order files during a parallel run.) Used by the 3PL simulator
(:mod:`logistics_simulators.threepl`) and the tests::

    build_shipments_csv(shipments: Iterable[dict]) -> str      # shipment.confirmed
    build_inventory_csv(snapshot: dict) -> str                  # inventory.snapshot

Errors are the connector's ``CSVParseError`` and ``CSVBuildError``.
"""

from odoo.addons.logistics_3pl_connector.formats import csv_format
from odoo.addons.logistics_3pl_connector.formats.csv_format import (
    INVENTORY_COLUMNS,
    SHIPMENT_COLUMNS,
    CSVBuildError,
    _decimal,
    _need,
    _split_lots,
    _text,
    _writer,
)
from odoo.addons.logistics_integration_base.formats.common import (
    format_number,
    iso_utc,
    parse_datetime,
)

__all__ = ["build_inventory_csv", "build_shipments_csv", "parse_orders_csv"]

parse_orders_csv = csv_format.parse_orders_csv


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
