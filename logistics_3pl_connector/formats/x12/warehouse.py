"""Building blocks of the warehouse transaction sets (940, 945, 846): product ids, line loops
and their lots, parties. Used by the connector's sets and by the 3PL simulator's builders."""

from decimal import Decimal
from functools import partial

from odoo.addons.logistics_integration_base.formats.common import (
    format_number,
    parse_date,
    require,
    to_decimal,
)
from odoo.addons.logistics_integration_base.formats.x12 import (
    ELEMENT_INVALID_CODE,
    SEGMENT_MISSING,
    X12BuildError,
)
from odoo.addons.logistics_integration_base.formats.x12.segments import x12_date

# Product/Service ID qualifiers accepted for the SKU, most preferred first.
SKU_QUALIFIERS = ("VN", "SK", "VP", "BP", "IN", "MG", "UP", "UK", "EN")
SKU_QUALIFIERS_846 = ("SK", "VN", "VP", "BP", "IN", "MG", "UP", "UK", "EN")

#: The shared value helpers, raising what the X12 builders raise.
need = partial(require, error=X12BuildError)
decimal = partial(to_decimal, error=X12BuildError)


# reading ---------------------------------------------------------------------------------------
class LineAccumulator:
    """Collects the loops (W01 or W12) belonging to one canonical line."""

    def __init__(self, assigned_number=None, index=None):
        self.assigned_number = assigned_number
        self.index = index  # position of the LX segment (0-based), None without LX
        self.line_ref = None
        self.sku = None
        self.sku_index = None
        self.name_parts = []
        self.uom = None
        self.quantity = Decimal(0)
        self.lots = []  # [lot, quantity, expiration, index]
        self.statuses = []
        self.items = 0

    def add_item(self, reader, index, sku, sku_position, quantity, uom, uom_position):
        if self.sku is None:
            self.sku, self.sku_index = sku, index
        elif sku != self.sku:
            raise reader.error(
                f"SKU {sku!r} differs from SKU {self.sku!r} earlier in the same line loop "
                f"(segment position {self.sku_index + 1}); send one line loop per SKU",
                index,
                sku_position,
                element_error_code=ELEMENT_INVALID_CODE,
                bad_value=sku,
            )
        if uom:
            if self.uom is None:
                self.uom = uom
            elif uom != self.uom:
                raise reader.error(
                    f"unit of measure {uom!r} differs from {self.uom!r} earlier in the "
                    "same line loop",
                    index,
                    uom_position,
                    element_error_code=ELEMENT_INVALID_CODE,
                    bad_value=uom,
                )
        self.quantity += quantity
        self.items += 1

    def merge(self, other):
        self.quantity += other.quantity
        self.lots.extend(other.lots)
        self.statuses.extend(other.statuses)
        if self.uom is None:
            self.uom = other.uom
        if not self.name_parts:
            self.name_parts = other.name_parts


def merge_lines(reader, lines, item_segment):
    """Merge line loops that repeat the same (line_ref, sku); refuse empty LX loops."""
    merged, by_key = [], {}
    for line in lines:
        if not line.items:
            raise reader.error(
                f"the LX loop has no {item_segment} line item",
                line.index,
                segment_error_code=SEGMENT_MISSING,
            )
        key = (line.line_ref, line.sku)
        if line.line_ref is not None and key in by_key:
            by_key[key].merge(line)
            continue
        if line.line_ref is not None:
            by_key[key] = line
        merged.append(line)
    return merged


def lots_output(line):
    return [
        {"lot": lot, "quantity": float(quantity), "expiration_date": expiration}
        for lot, quantity, expiration, _index in line.lots
        if quantity > 0
    ]


def lot_expiration(reader, index):
    if reader.el(index, 4):
        return reader.date(index, 4, "lot expiration date").isoformat()
    return None


# writing ---------------------------------------------------------------------------------------
def party_segments(entity, party, what):
    segments = [["N1", entity, need(party, "name", f"{what}.name")]]
    if party.get("company"):
        segments.append(["N2", party["company"]])
    segments.append(["N3", need(party, "street", f"{what}.street"), party.get("street2")])
    segments.append(
        [
            "N4",
            need(party, "city", f"{what}.city"),
            party.get("state_code"),
            need(party, "zip", f"{what}.zip"),
            need(party, "country_code", f"{what}.country_code"),
        ]
    )
    contacts = []
    if party.get("phone"):
        contacts += ["TE", party["phone"]]
    if party.get("email"):
        contacts += ["EM", party["email"]]
    if contacts:
        segments.append(["PER", "IC", party["name"], *contacts])
    return segments


def split_lots(line, what):
    """[(lot dict or None, Decimal quantity)] covering the whole line quantity."""
    quantity = decimal(line.get("quantity"), f"{what}.quantity")
    parts, assigned = [], Decimal(0)
    for n, lot in enumerate(line.get("lots") or []):
        lot_quantity = decimal(lot.get("quantity"), f"{what}.lots[{n}].quantity")
        need(lot, "lot", f"{what}.lots[{n}].lot")
        assigned += lot_quantity
        parts.append((lot, lot_quantity))
    if assigned > quantity:
        raise X12BuildError(
            f"{what}: the lot quantities ({format_number(assigned)}) exceed the line quantity "
            f"({format_number(quantity)})"
        )
    if quantity - assigned > 0 or not parts:
        parts.append((None, quantity - assigned))
    return quantity, parts


def lot_segment(lot, what):
    expiration = lot.get("expiration_date")
    if expiration:
        expiration = x12_date(parse_date(expiration, f"{what}.lots.expiration_date", X12BuildError))
    return ["N9", "LT", lot["lot"], None, expiration or None]
