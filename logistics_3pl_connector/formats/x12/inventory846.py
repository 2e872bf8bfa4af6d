"""846 Inventory Inquiry/Advice (inventory.snapshot), functional group IB: the 3PL's stock.
The connector reads it; the 3PL simulator writes it (``tests/logistics_simulators/
x12_partner.py``).

======================  =====================================================================
Segment                 Canonical field
======================  =====================================================================
BIA*00*SI*ref*date*time BIA03 ``snapshot_ref``; BIA04/BIA05 are the fallback for ``as_of``
DTM*007*date*time*UT    ``as_of`` (effective date/time of the snapshot)
N1*WH**91*code          ``warehouse_code`` (N104, or N102); the N101 codes read are the
                        backend's (default WH); without such a party, the backend's
                        warehouse for advices without one
LIN*n*SK*sku*LT*lot     ``sku`` (SK; VN/VP/BP/IN accepted), optional LT ``lot``
QTY*17*qty*uom          on-hand ``quantity``: the first of the backend's on-hand qualifiers
                        (default 17) the LIN loop carries; QTY03 (first component) ``uom``,
                        else the UIT right after that QTY, else a UIT before the QTYs
CTT*count*hash          CTT01 = number of LIN loops (checked); CTT02 hash of QTY02
======================  =====================================================================
"""

from dataclasses import dataclass

from odoo.addons.logistics_integration_base.formats.common import UTC
from odoo.addons.logistics_integration_base.formats.x12 import (
    ELEMENT_INVALID_CODE,
    ELEMENT_MISSING,
    SEGMENT_MISSING,
    SEGMENT_UNEXPECTED,
    SetReader,
)
from odoo.addons.logistics_integration_base.formats.x12.segments import datetime_from

from .warehouse import SKU_QUALIFIERS_846

__all__ = ["InventoryOptions", "parse_846"]


@dataclass(frozen=True)
class InventoryOptions:
    """How a 3PL writes its 846 (the backend's settings): the QTY01 qualifiers read as the
    on-hand quantity (the first one a LIN loop carries wins), the N101 entity codes of the
    party naming the warehouse (its N104, else N102), the warehouse code to use when the
    advice names none, and the LIN product id qualifiers in order of preference."""

    quantity_qualifiers: tuple = ("17",)
    warehouse_entities: tuple = ("WH",)
    warehouse_code: str | None = None
    sku_qualifiers: tuple = SKU_QUALIFIERS_846


def parse_846(ts, options=None):
    """846 Inventory Inquiry/Advice -> canonical ``inventory.snapshot`` dict.

    ``options`` (an :class:`InventoryOptions`, the backend's settings) names the QTY01
    qualifiers read as the on-hand quantity, the N101 entity codes naming the warehouse, the
    warehouse to use when the advice names none, and the LIN product id qualifiers."""
    options = options or InventoryOptions()
    r = SetReader(ts, "846")
    bia = None
    as_of = None
    warehouse_code = None
    lines = []
    current = None  # dict for the current LIN loop
    ctt = None
    qualifiers = tuple(options.quantity_qualifiers)
    wanted = "/".join(qualifiers)

    def close_line():
        if current is None:
            return
        for qualifier in qualifiers:
            if qualifier in current["quantities"]:
                index, quantity, uom = current["quantities"][qualifier]
                current["quantity"] = quantity
                current["uom"] = uom or current["uit"]
                return
        found = ", ".join(current["quantities"]) or "none"
        raise r.error(
            f"no on-hand quantity (QTY*{wanted}) for SKU {current['sku']!r}: this LIN loop "
            f"carries the quantity qualifiers (QTY01) {found}; the backend's on-hand "
            "qualifiers say which to read",
            current["index"],
            segment_error_code=SEGMENT_MISSING,
        )

    for i, seg in r.body():
        sid = seg[0]
        if sid == "BIA":
            bia = i
        elif sid == "DTM" and current is None:
            if r.el(i, 1) in ("007", "405") and as_of is None:
                day = r.date(i, 2, "inventory date")
                moment = r.time(i, 3, "inventory time") if r.el(i, 3) else None
                zone = r.zone(i, 4)
                as_of = datetime_from(day, moment, zone)
        elif sid == "N1" and current is None:
            if r.el(i, 1) in options.warehouse_entities and warehouse_code is None:
                warehouse_code = r.el(i, 4) or r.el(i, 2)
                if not warehouse_code:
                    raise r.error(
                        "warehouse code is missing", i, 4, element_error_code=ELEMENT_MISSING
                    )
        elif sid == "LIN":
            close_line()
            pairs = tuple((p, p + 1) for p in range(2, max(len(seg), 4), 2))
            sku = r.product_id(i, pairs, options.sku_qualifiers)
            lot = None
            for qualifier_position, id_position in pairs:
                if r.el(i, qualifier_position) == "LT":
                    lot = r.el(i, id_position) or None
            current = {
                "index": i,
                "sku": sku,
                "lot": lot,
                "quantity": None,
                "uom": None,
                "uit": None,  # the LIN loop's unit (a UIT before its QTYs)
                "quantities": {},  # QTY01 -> (index, quantity, unit)
                "last": None,  # the QTY01 a following UIT gives the unit of
            }
            lines.append(current)
        elif sid == "QTY" and current is not None:
            qualifier = r.required(i, 1, "quantity qualifier")
            on_hand = qualifier in qualifiers
            quantity = r.number(
                i, 2, "quantity on hand" if on_hand else "quantity", required=on_hand
            )
            composite = r.el(i, 3)
            uom = composite.split(ts.separators.composite)[0].strip() if composite else ""
            if qualifier in current["quantities"] and on_hand:
                raise r.error(
                    f"a second QTY*{qualifier} in the same LIN loop",
                    i,
                    1,
                    segment_error_code=SEGMENT_UNEXPECTED,
                )
            current["quantities"].setdefault(qualifier, (i, quantity, uom or None))
            current["last"] = qualifier
        elif sid == "UIT" and current is not None:
            composite = r.el(i, 1)
            uom = composite.split(ts.separators.composite)[0].strip() if composite else ""
            last = current["last"]
            if last is None:
                current["uit"] = uom or None
            else:
                index, quantity, unit = current["quantities"][last]
                current["quantities"][last] = (index, quantity, unit or uom or None)
        elif sid == "CTT":
            close_line()
            current = None
            ctt = i
    close_line()

    if bia is None:
        raise r.missing_segment("BIA", "the BIA beginning segment is missing")
    snapshot_ref = r.required(bia, 3, "inventory report reference")
    if as_of is None and r.el(bia, 4):
        day = r.date(bia, 4, "report date")
        moment = r.time(bia, 5, "report time") if r.el(bia, 5) else None
        as_of = datetime_from(day, moment, UTC)
    if warehouse_code is None:
        warehouse_code = options.warehouse_code
    if warehouse_code is None:
        raise r.missing_segment(
            "N1",
            f"no warehouse party (N1 with N101 = {'/'.join(options.warehouse_entities)}) in "
            "the inventory advice, and the backend names no warehouse for advices without one",
        )
    if ctt is not None:
        declared = r.number(ctt, 1, "number of line items", required=True)
        if declared != len(lines):
            raise r.error(
                f"CTT declares {r.el(ctt, 1)} line item(s) but the advice has {len(lines)} "
                "LIN loop(s)",
                ctt,
                1,
                element_error_code=ELEMENT_INVALID_CODE,
                bad_value=r.el(ctt, 1),
            )
        r.number(ctt, 2, "hash total")
    result = {"snapshot_ref": snapshot_ref, "warehouse_code": warehouse_code}
    if as_of is not None:
        result["as_of"] = as_of
    result["lines"] = [
        {
            "sku": line["sku"],
            "lot": line["lot"],
            "quantity": float(line["quantity"]),
            "uom": line["uom"],
        }
        for line in lines
    ]
    return result
