"""The 3PL's side of the X12 exchange: the 945 shipping advice and 846 inventory advice a
warehouse writes (the connector only reads them, see ``logistics_3pl_connector.formats.x12``).

Used by the 3PL simulator (:mod:`logistics_simulators.threepl`) and the tests; reading the
connector's 940s and the 997s is done with the connector's own parsers.

    build_945(shipment, envelope, set_control_number=1, *, ordered_quantities=None,
              ship_to=None, transport_method="M") -> str
    build_846(snapshot, envelope, set_control_number=1) -> str

Both return a complete ISA..IEA interchange; the segment layouts are documented with the
parsers (``shipment945.py``, ``inventory846.py``).
"""

import datetime as dt
from collections.abc import Mapping
from decimal import Decimal

from odoo.addons.logistics_3pl_connector.formats.x12.warehouse import (
    decimal,
    lot_segment,
    need,
    party_segments,
    split_lots,
)
from odoo.addons.logistics_integration_base.formats.common import (
    UTC,
    format_number,
    parse_datetime,
)
from odoo.addons.logistics_integration_base.formats.x12 import X12BuildError, build_interchange
from odoo.addons.logistics_integration_base.formats.x12.segments import x12_date, x12_time

__all__ = ["build_846", "build_945"]


def _body_945(shipment, ordered_quantities=None, ship_to=None, transport_method="M"):
    if not isinstance(shipment, Mapping):
        raise X12BuildError("shipment must be a dict (canonical shipment.confirmed)")
    shipped_at = None
    if shipment.get("shipped_at"):
        shipped_at = parse_datetime(shipment["shipped_at"], "shipped_at", X12BuildError)
    segments = [
        [
            "W06",
            "F",
            need(shipment, "order_ref", "order_ref"),
            x12_date(shipped_at) if shipped_at else None,
            need(shipment, "shipment_ref", "shipment_ref"),
        ]
    ]
    if ship_to:
        segments += party_segments("ST", ship_to, "ship_to")
    if shipment.get("tracking_ref"):
        segments.append(["N9", "2I", shipment["tracking_ref"]])
    if shipped_at:
        segments.append(["G62", "11", x12_date(shipped_at), "8", x12_time(shipped_at), "UT"])
    carrier = shipment.get("carrier") or {}
    if carrier.get("code") or carrier.get("service"):
        segments.append(["W27", transport_method, carrier.get("code"), carrier.get("service")])
    lines = shipment.get("lines") or []
    if not lines:
        raise X12BuildError("shipment has no lines")
    ordered_quantities = ordered_quantities or {}
    default_status = "CP" if shipment.get("complete") is False else "CC"
    total = Decimal(0)
    for n, line in enumerate(lines, start=1):
        what = f"lines[{n - 1}]"
        shipped, parts = split_lots(line, what)
        if shipped < 0:
            raise X12BuildError(f"{what}.quantity must not be negative")
        total += shipped
        sku = need(line, "sku", f"{what}.sku")
        key = line.get("line_ref") or sku
        ordered = difference = None
        status = default_status
        if key in ordered_quantities and ordered_quantities[key] is not None:
            ordered = decimal(ordered_quantities[key], f"ordered quantity of {key}")
            difference = ordered - shipped
            status = "CC" if shipped >= ordered else "CP"
        segments.append(["LX", str(n)])
        if line.get("line_ref"):
            segments.append(["N9", "LI", line["line_ref"]])
        for part, (lot, part_quantity) in enumerate(parts):
            first = part == 0
            segments.append(
                [
                    "W12",
                    status,
                    format_number(ordered) if first and ordered is not None else None,
                    format_number(part_quantity),
                    format_number(difference) if first and difference is not None else None,
                    line.get("uom"),
                    None,
                    "VN",
                    sku,
                ]
            )
            if lot is not None:
                segments.append(lot_segment(lot, what))
    segments.append(["W03", format_number(total)])
    return segments


def build_945(
    shipment,
    envelope,
    set_control_number=1,
    *,
    ordered_quantities=None,
    ship_to=None,
    transport_method="M",
):
    """Canonical ``shipment.confirmed`` -> 945 interchange (functional group SW).

    ``ordered_quantities`` maps ``line_ref`` (or ``sku`` for lines without one) to the ordered
    quantity, which sets W1202/W1204 and the CC/CP status. ``ship_to`` (same shape as the
    order.release ``ship_to``) adds an N1*ST loop. ``transport_method`` is W2701.
    """
    body = _body_945(shipment, ordered_quantities, ship_to, transport_method)
    return build_interchange(envelope, "SW", [("945", body)], set_control_number)


def _body_846(snapshot, envelope):
    if not isinstance(snapshot, Mapping):
        raise X12BuildError("snapshot must be a dict (canonical inventory.snapshot)")
    as_of = None
    if snapshot.get("as_of"):
        as_of = parse_datetime(snapshot["as_of"], "as_of", X12BuildError)
    report = as_of or dt.datetime.combine(envelope.date, envelope.time, tzinfo=UTC)
    segments = [
        [
            "BIA",
            "00",
            "SI",
            need(snapshot, "snapshot_ref", "snapshot_ref"),
            x12_date(report),
            x12_time(report),
        ]
    ]
    if as_of:
        segments.append(["DTM", "007", x12_date(as_of), x12_time(as_of), "UT"])
    segments.append(["N1", "WH", None, "91", need(snapshot, "warehouse_code", "warehouse_code")])
    lines = snapshot.get("lines") or []
    total = Decimal(0)
    for n, line in enumerate(lines, start=1):
        what = f"lines[{n - 1}]"
        quantity = decimal(line.get("quantity"), f"{what}.quantity")
        total += quantity
        lin = ["LIN", str(n), "SK", need(line, "sku", f"{what}.sku")]
        if line.get("lot"):
            lin += ["LT", line["lot"]]
        segments.append(lin)
        segments.append(["QTY", "17", format_number(quantity), line.get("uom")])
    segments.append(["CTT", str(len(lines)), format_number(total)])
    return segments


def build_846(snapshot, envelope, set_control_number=1):
    """Canonical ``inventory.snapshot`` -> 846 interchange (functional group IB)."""
    body = _body_846(snapshot, envelope)
    return build_interchange(envelope, "IB", [("846", body)], set_control_number)
