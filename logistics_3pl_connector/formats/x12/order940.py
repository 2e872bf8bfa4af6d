"""940 Warehouse Shipping Order (order.release), functional group OW: the order the connector
writes for the 3PL, and its reader (inbound 940s reach :func:`parse_documents` too).

======================  =====================================================================
Segment                 Canonical field
======================  =====================================================================
W05*N*ref*origin        W0502 ``order_ref``, W0503 ``origin`` (purchase order number); a
                        cancellation (W0501 = C) is refused by the parser
N1*ST*name              ship-to loop: N102 ``ship_to.name``; N2 N201 ``ship_to.company``;
                        N3 ``street``/``street2``; N4 ``city``/``state_code``/``zip``/
                        ``country_code`` (N404 absent means US);
                        PER*IC*name*TE*phone*EM*email ``phone``/``email``
N1*WH**91*code          N104 ``warehouse_code`` (N102 when N104 is absent)
G62*10*CCYYMMDD         ``requested_date`` (requested ship date)
NTE*WHI*text            ``notes``: one NTE*WHI per line of text; a line longer than 80
                        characters is wrapped at word boundaries and continues in NTE*ADD
                        segments (joined with one space)
W66*PP*M***svc*****SCAC W6605 (routing) ``carrier.service``, W6610 ``carrier.code``. W66 is
                        mandatory in the 940, so it is always sent; parsed ``carrier`` is
                        ``None`` when both are empty
LX*n                    one LX loop per canonical line, holding one W01 loop per lot
W01*qty*uom**VN*sku     W0101 quantity (of the lot, or of the line without lots), W0102 UOM,
                        W0104/W0105 VN = ``sku`` (parser also accepts SK/VP/BP/IN, and the
                        W0106/W0107 and W0115/W0116 pairs)
G69*text                ``name`` (wrapped over several G69 when longer than 45 characters,
                        joined with one space)
N9*LI*line_ref          ``line_ref`` (parser falls back to LX01 when absent)
N9*LT*lot**CCYYMMDD     one lot per W01 loop; N904 = lot expiration date
W76*total               hash total of W0101
======================  =====================================================================

A line of 10 with lots A (6) and B (3) is sent as one LX with three W01 loops: 6 with N9*LT*A,
3 with N9*LT*B and the unassigned remainder 1 without a lot. The parser sums the W01 loops of an
LX loop into one line (``quantity`` 10, ``lots`` A and B); W01 loops outside an LX loop, and LX
loops repeating the same N9*LI line reference and SKU, are merged the same way. ``lot_tracking``
is not transmitted (the 3PL's item master holds it).
"""

from collections.abc import Mapping
from decimal import Decimal

from odoo.addons.logistics_integration_base.formats.common import (
    COUNTRY_CODE,
    format_number,
    parse_date,
)
from odoo.addons.logistics_integration_base.formats.x12 import (
    ELEMENT_INVALID_CODE,
    ELEMENT_MISSING,
    SetReader,
    X12BuildError,
    build_interchange,
)
from odoo.addons.logistics_integration_base.formats.x12.segments import wrap, x12_date

from .warehouse import (
    SKU_QUALIFIERS,
    LineLoops,
    lot_segment,
    lots_output,
    need,
    party_segments,
    split_lots,
)

__all__ = ["build_940", "parse_940"]


# reading ---------------------------------------------------------------------------------------
def parse_940(ts):
    """940 Warehouse Shipping Order -> canonical ``order.release`` dict."""
    r = SetReader(ts, "940")
    order_ref = origin = requested_date = warehouse_code = None
    carrier = None
    notes = []
    parties = {}  # entity code -> dict
    party = None
    loops = LineLoops(r, "W01")
    has_w05 = False

    for i, seg in r.body():
        sid = seg[0]
        if sid == "W05":
            has_w05 = True
            if r.el(i, 1) == "C":
                raise r.error(
                    "this 940 cancels a shipping order (W0501 = C); it is not an order release",
                    i,
                    1,
                    element_error_code=ELEMENT_INVALID_CODE,
                    bad_value="C",
                )
            order_ref = r.required(i, 2, "depositor order number")
            origin = r.el(i, 3) or None
        elif sid == "N1" and loops.line is None:
            entity = r.required(i, 1, "entity identifier code")
            party = {"index": i, "name": r.el(i, 2), "id": r.el(i, 4), "n3": []}
            parties.setdefault(entity, party)
        elif sid in ("N2", "N3", "N4", "PER") and party is not None and loops.line is None:
            if sid == "N2":
                party.setdefault("company", r.el(i, 1))
            elif sid == "N3":
                party["n3"].append(i)
            elif sid == "N4":
                party.setdefault("n4", i)
            else:
                for qualifier_position in (3, 5, 7):
                    qualifier = r.el(i, qualifier_position)
                    value = r.el(i, qualifier_position + 1)
                    if qualifier == "TE" and value:
                        party.setdefault("phone", value)
                    elif qualifier == "EM" and value:
                        party.setdefault("email", value)
        elif sid == "G62" and loops.line is None:
            party = None
            if r.el(i, 1) == "10":
                requested_date = r.date(i, 2, "requested ship date").isoformat()
        elif sid == "NTE" and loops.line is None:
            party = None
            text = r.el(i, 2)
            if r.el(i, 1) == "ADD" and notes:
                notes[-1] += " " + text
            elif text:
                notes.append(text)
        elif sid == "W66":
            party = None
            code, service = r.el(i, 10) or None, r.el(i, 5) or None
            carrier = {"code": code, "service": service} if code or service else None
        elif sid == "LX":
            loops.start_lx(i)
        elif sid == "W01":
            line = loops.item_line()
            quantity = r.number(i, 1, "quantity ordered", required=True)
            if quantity <= 0:
                raise r.error(
                    f"quantity ordered {r.el(i, 1)!r} must be greater than zero",
                    i,
                    1,
                    element_error_code=ELEMENT_INVALID_CODE,
                    bad_value=r.el(i, 1),
                )
            uom = r.required(i, 2, "unit of measure")
            sku = r.product_id(i, ((4, 5), (6, 7), (15, 16)), SKU_QUALIFIERS)
            line.add_item(r, i, sku, 5, quantity, uom, 2)
            loops.start_item(i, quantity)
        elif sid == "G69" and loops.item is not None:
            loops.item["name_parts"].append(r.el(i, 1))
        elif sid == "N9" and loops.item is not None:
            qualifier, value = r.el(i, 1), r.el(i, 2)
            if qualifier == "LI" and value:
                loops.line.set_line_ref(r, i, value)
            elif qualifier == "LT":
                loops.add_lot(i)
        elif sid == "W76":
            loops.close_item()
            r.number(i, 1, "total quantity ordered", required=True)
    loops.close_item()

    if not has_w05:
        raise r.missing_segment("W05", "the W05 shipping order identification is missing")
    ship = parties.get("ST")
    if ship is None:
        raise r.missing_segment("N1", "no ship-to party (N1*ST) in the shipping order")
    warehouse = parties.get("WH")
    if warehouse is None:
        raise r.missing_segment("N1", "no warehouse party (N1*WH) in the shipping order")
    warehouse_code = warehouse["id"] or warehouse["name"]
    if not warehouse_code:
        raise r.error(
            "warehouse code is missing", warehouse["index"], 4, element_error_code=ELEMENT_MISSING
        )
    if not loops.lines:
        raise r.missing_segment("W01", "the shipping order has no W01 line items")

    ship_index = ship["index"]
    if not ship["name"]:
        raise r.error("ship-to name is missing", ship_index, 2, element_error_code=ELEMENT_MISSING)
    if not ship["n3"]:
        raise r.missing_segment("N3", "the ship-to address (N3) is missing")
    if "n4" not in ship:
        raise r.missing_segment("N4", "the ship-to city/postal code (N4) is missing")
    n3 = ship["n3"][0]
    street2_parts = [r.el(n3, 2)] + [r.el(extra, 1) for extra in ship["n3"][1:]]
    street2 = ", ".join(part for part in street2_parts if part) or None
    n4 = ship["n4"]
    country = r.el(n4, 4) or "US"
    if not COUNTRY_CODE.match(country):
        raise r.error(
            f"country code {country!r} must be a 2-letter ISO code",
            n4,
            4,
            element_error_code=ELEMENT_INVALID_CODE,
            bad_value=country,
        )
    ship_to = {
        "name": ship["name"],
        "company": ship.get("company") or None,
        "street": r.required(n3, 1, "ship-to street"),
        "street2": street2,
        "city": r.required(n4, 1, "ship-to city"),
        "state_code": r.el(n4, 2) or None,
        "zip": r.required(n4, 3, "ship-to postal code"),
        "country_code": country,
        "email": ship.get("email") or None,
        "phone": ship.get("phone") or None,
    }
    out_lines = []
    for position, line in enumerate(loops.merged(), start=1):
        out_lines.append(
            {
                "line_ref": line.line_ref or line.assigned_number or str(position),
                "sku": line.sku,
                "name": " ".join(part for part in line.name_parts if part) or None,
                "quantity": float(line.quantity),
                "uom": line.uom,
                "lots": lots_output(line),
            }
        )
    return {
        "order_ref": order_ref,
        "origin": origin,
        "warehouse_code": warehouse_code,
        "requested_date": requested_date,
        "carrier": carrier,
        "ship_to": ship_to,
        "lines": out_lines,
        "notes": "\n".join(notes) or None,
    }


# writing ---------------------------------------------------------------------------------------
def _body_940(order):
    if not isinstance(order, Mapping):
        raise X12BuildError("order must be a dict (canonical order.release)")
    segments = [
        ["W05", "N", need(order, "order_ref", "order_ref"), order.get("origin")],
    ]
    segments += party_segments("ST", need(order, "ship_to", "ship_to"), "ship_to")
    segments.append(["N1", "WH", None, "91", need(order, "warehouse_code", "warehouse_code")])
    if order.get("requested_date"):
        day = parse_date(order["requested_date"], "requested_date", X12BuildError)
        segments.append(["G62", "10", x12_date(day)])
    for text in (order.get("notes") or "").splitlines():
        if text.strip():
            chunks = wrap(text, 80)
            segments.append(["NTE", "WHI", chunks[0]])
            segments += [["NTE", "ADD", chunk] for chunk in chunks[1:]]
    carrier = order.get("carrier") or {}
    segments.append(
        ["W66", "PP", "M", None, None, carrier.get("service"), None, None, None, None]
        + [carrier.get("code")]
    )
    lines = order.get("lines") or []
    if not lines:
        raise X12BuildError("order has no lines")
    total = Decimal(0)
    for n, line in enumerate(lines, start=1):
        what = f"lines[{n - 1}]"
        quantity, parts = split_lots(line, what)
        if quantity <= 0:
            raise X12BuildError(f"{what}.quantity must be greater than zero")
        total += quantity
        sku = need(line, "sku", f"{what}.sku")
        uom = need(line, "uom", f"{what}.uom")
        line_ref = need(line, "line_ref", f"{what}.line_ref")
        segments.append(["LX", str(n)])
        for lot, part_quantity in parts:
            segments.append(["W01", format_number(part_quantity), uom, None, "VN", sku])
            if line.get("name"):
                segments += [["G69", chunk] for chunk in wrap(line["name"], 45)]
            segments.append(["N9", "LI", line_ref])
            if lot is not None:
                segments.append(lot_segment(lot, what))
    segments.append(["W76", format_number(total)])
    return segments


def build_940(order, envelope, set_control_number=1):
    """Canonical ``order.release`` -> 940 interchange (functional group OW)."""
    return build_interchange(envelope, "OW", [("940", _body_940(order))], set_control_number)
