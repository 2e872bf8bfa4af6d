"""945 Warehouse Shipping Advice (shipment.confirmed), functional group SW: what the 3PL
shipped. The connector reads it; the 3PL simulator writes it
(``tests/logistics_simulators/x12_partner.py``).

======================  =====================================================================
Segment                 Canonical field
======================  =====================================================================
W06*F*ref*date*shipid   W0602 ``order_ref``, W0603 ship date, W0604 ``shipment_ref`` (parser
                        falls back to a header N9*BM/SI/CN)
N1*ST ...               optional ship-to loop (``ship_to=`` keyword of the builder; not part
                        of the canonical shipment)
N9*2I*tracking          ``tracking_ref`` (first N9*2I of the set; header N9*CN as fallback)
G62*11*date*8*time*UT   ``shipped_at`` (date from G6202 or W0603, time G6204, zone G6205)
W27*M*SCAC*service      W2702 ``carrier.code``, W2703 ``carrier.service``
LX*n                    one LX loop per canonical line
N9*LI*line_ref          ``line_ref`` (LX level; also accepted after a W12)
W12*st*ord*shp*dif*uom**VN*sku
                        one W12 loop per lot (**lot pattern: one W12 per lot**). W1201 status
                        (CC complete, CP partial; repeated on every W12 of the line), W1203
                        units shipped of that lot, W1205 UOM, W1207/W1208 VN ``sku``. W1202
                        (ordered) and W1204 (difference = ordered - shipped) describe the whole
                        line and are sent on its first W12 only
N9*LT*lot**CCYYMMDD     lot of the preceding W12 (W1209 warehouse lot number is accepted too);
                        N904 = expiration date
W03*total               total units shipped
======================  =====================================================================

``quantity`` of a line = sum of W1203 of its W12 loops; ``lots`` lists the W12 loops that name a
lot and shipped more than zero; ``complete`` is true when every W12 has status CC. The builder
takes the ordered quantity per line from ``ordered_quantities`` (keyed by ``line_ref``, or by
``sku`` for lines without one): CC when shipped >= ordered, else CP. Without it W1202/W1204 are
left empty and the status is CC unless ``shipment['complete']`` is false (then CP).
"""

from odoo.addons.logistics_integration_base.formats.x12 import (
    ELEMENT_INVALID_CODE,
    ELEMENT_MISSING,
    SetReader,
)
from odoo.addons.logistics_integration_base.formats.x12.segments import datetime_from

from .warehouse import SKU_QUALIFIERS, LineLoops, lots_output

__all__ = ["parse_945"]


def parse_945(ts):
    """945 Warehouse Shipping Advice -> canonical ``shipment.confirmed`` dict."""
    r = SetReader(ts, "945")
    w06 = None
    order_ref = shipment_ref = None
    ship_date = ship_time = None
    zone = None
    carrier = None
    tracking = None
    header_refs = {}
    loops = LineLoops(r, "W12")

    for i, seg in r.body():
        sid = seg[0]
        if sid == "W06":
            w06 = i
            order_ref = r.required(i, 2, "depositor order number")
            if r.el(i, 3):
                ship_date = r.date(i, 3, "shipment date")
            shipment_ref = r.el(i, 4) or None
        elif sid == "G62" and loops.line is None:
            if r.el(i, 1) == "11":
                ship_date = r.date(i, 2, "ship date")
                if r.el(i, 4):
                    ship_time = r.time(i, 4, "ship time")
                    zone = r.zone(i, 5)
        elif sid == "W27":
            code, service = r.el(i, 2) or None, r.el(i, 3) or None
            carrier = {"code": code, "service": service} if code or service else None
        elif sid == "N9":
            qualifier, value = r.el(i, 1), r.el(i, 2)
            if qualifier == "2I" and value and tracking is None:
                tracking = value
            if loops.line is None:
                if value:
                    header_refs.setdefault(qualifier, value)
            elif qualifier == "LI" and value:
                loops.line.set_line_ref(r, i, value)
            elif qualifier == "LT" and loops.item is not None:
                loops.add_lot(i)
        elif sid == "LX":
            loops.start_lx(i)
        elif sid == "W12":
            line = loops.item_line()
            status = r.required(i, 1, "shipment/order status code")
            r.number(i, 2, "quantity ordered")
            shipped = r.number(i, 3, "quantity shipped", required=True)
            if shipped < 0:
                raise r.error(
                    f"quantity shipped {r.el(i, 3)!r} must not be negative",
                    i,
                    3,
                    element_error_code=ELEMENT_INVALID_CODE,
                    bad_value=r.el(i, 3),
                )
            r.number(i, 4, "quantity difference")
            sku = r.product_id(i, ((7, 8), (17, 18)), SKU_QUALIFIERS)
            line.add_item(r, i, sku, 8, shipped, r.el(i, 5) or None, 5)
            line.statuses.append(status)
            loops.start_item(i, shipped, r.el(i, 9))
        elif sid == "W03":
            loops.close_item()
            r.number(i, 1, "total units shipped", required=True)
    loops.close_item()

    if w06 is None:
        raise r.missing_segment("W06", "the W06 warehouse shipment identification is missing")
    if not shipment_ref:
        for qualifier in ("BM", "SI", "CN"):
            if header_refs.get(qualifier):
                shipment_ref = header_refs[qualifier]
                break
        else:
            raise r.error(
                "shipment identification number is missing",
                w06,
                4,
                element_error_code=ELEMENT_MISSING,
            )
    if tracking is None:
        tracking = header_refs.get("CN")
    if not loops.lines:
        raise r.missing_segment("W12", "the shipping advice has no W12 line items")

    result = {"order_ref": order_ref, "shipment_ref": shipment_ref}
    if ship_date is not None:
        result["shipped_at"] = datetime_from(ship_date, ship_time, zone)
    merged = loops.merged()
    result.update(
        {
            "carrier": carrier,
            "tracking_ref": tracking,
            "complete": all(status == "CC" for ln in merged for status in ln.statuses),
            "lines": [
                {
                    "line_ref": ln.line_ref,
                    "sku": ln.sku,
                    "quantity": float(ln.quantity),
                    "uom": ln.uom,
                    "lots": lots_output(ln),
                }
                for ln in merged
            ],
        }
    )
    return result
