"""Building blocks of the warehouse transaction sets (940, 945, 846): product ids, line loops
and their lots, parties. Used by the connector's sets and by the 3PL simulator's builders."""

from decimal import Decimal
from functools import partial

from odoo.addons.logistics_integration_base.formats.common import (
    parse_date,
    require,
    to_decimal,
)
from odoo.addons.logistics_integration_base.formats.common import split_lots as _split_lots
from odoo.addons.logistics_integration_base.formats.x12 import (
    ELEMENT_INVALID_CODE,
    SEGMENT_MISSING,
    SEGMENT_UNEXPECTED,
    X12BuildError,
)
from odoo.addons.logistics_integration_base.formats.x12.segments import x12_date

# Product/Service ID qualifiers accepted for the SKU, most preferred first.
SKU_QUALIFIERS = ("VN", "SK", "VP", "BP", "IN", "MG", "UP", "UK", "EN")
SKU_QUALIFIERS_846 = ("SK", "VN", "VP", "BP", "IN", "MG", "UP", "UK", "EN")

#: The shared value helpers, raising what the X12 builders raise.
need = partial(require, error=X12BuildError)
decimal = partial(to_decimal, error=X12BuildError)
split_lots = partial(_split_lots, error=X12BuildError)


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

    def set_line_ref(self, reader, index, value):
        """The line reference (N9*LI) of segment ``index``; another one in the same line loop is
        refused."""
        if self.line_ref is None:
            self.line_ref = value
        elif value != self.line_ref:
            raise reader.error(
                f"line reference {value!r} differs from {self.line_ref!r} earlier in "
                "the same LX loop",
                index,
                2,
                element_error_code=ELEMENT_INVALID_CODE,
                bad_value=value,
            )

    def add_lots(self, reader, item_segment, lots, quantity):
        """The lots (``[lot, None, expiration, index]``) of one item loop (``item_segment``: W01
        or W12), which hold all its ``quantity``: an item loop names one lot at the most."""
        if len(lots) > 1:
            raise reader.error(
                f"a {item_segment} loop can name only one lot (N9*LT); send one {item_segment} "
                "per lot",
                lots[1][3],
                2,
                segment_error_code=SEGMENT_UNEXPECTED,
            )
        for lot in lots:
            self.lots.append([lot[0], quantity, lot[2], lot[3]])

    def merge(self, other):
        self.quantity += other.quantity
        self.lots.extend(other.lots)
        self.statuses.extend(other.statuses)
        if self.uom is None:
            self.uom = other.uom
        if not self.name_parts:
            self.name_parts = other.name_parts


class LineLoops:
    """The line loops of a set being read (940: W01 item loops, 945: W12 item loops), in
    order: one line per LX loop, and outside LX loops one line per item loop. ``line`` is the
    line being read (None in the header), ``item`` the item loop being read (None outside
    one): its quantity and the lots its N9*LT segments name."""

    def __init__(self, reader, item_segment):
        self.reader = reader
        self.item_segment = item_segment
        self.lines = []
        self.line = None
        self.item = None
        self.in_lx = False

    def start_lx(self, index):
        """The LX segment at ``index`` starts a line."""
        self.close_item()
        self.line = LineAccumulator(self.reader.el(index, 1) or None, index)
        self.lines.append(self.line)
        self.in_lx = True

    def item_line(self):
        """An item loop starts: the line it belongs to (in an LX loop, the LX loop's line;
        outside LX loops, a new line for each item loop)."""
        self.close_item()
        if self.line is None or (not self.in_lx and self.line.items):
            self.line = LineAccumulator()
            self.lines.append(self.line)
        return self.line

    def start_item(self, index, quantity, warehouse_lot=None):
        """The item loop at segment ``index`` holds ``quantity``; ``warehouse_lot`` (W1209) is
        its lot when no N9*LT names one."""
        self.item = {
            "index": index,
            "quantity": quantity,
            "lots": [],
            "name_parts": [],
            "warehouse_lot": warehouse_lot,
        }

    def add_lot(self, index):
        """The N9*LT segment at ``index`` names a lot of the item loop."""
        lot = self.reader.required(index, 2, "lot number")
        self.item["lots"].append([lot, None, lot_expiration(self.reader, index), index])

    def close_item(self):
        """The item loop ends: its lot (one at the most) and its name go to its line."""
        item, self.item = self.item, None
        if item is None:
            return
        lots = item["lots"]
        if not lots and item["warehouse_lot"]:
            lots = [[item["warehouse_lot"], None, None, item["index"]]]
        self.line.add_lots(self.reader, self.item_segment, lots, item["quantity"])
        if not self.line.name_parts:
            self.line.name_parts = item["name_parts"]

    def merged(self):
        """The lines, merged (:func:`merge_lines`)."""
        return merge_lines(self.reader, self.lines, self.item_segment)


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


def lot_segment(lot, what):
    expiration = lot.get("expiration_date")
    if expiration:
        expiration = x12_date(parse_date(expiration, f"{what}.lots.expiration_date", X12BuildError))
    return ["N9", "LT", lot["lot"], None, expiration or None]
