"""ANSI ASC X12 004010 for 3PL warehouses, mapped to and from the canonical payloads.

Pure Python, no ORM. The generic layer (envelope, segments, 997) lives in
``logistics_integration_base.formats.x12``; this package adds the warehouse transaction sets
the connector exchanges and re-exports the generic names it uses, so that
``from ..formats import x12`` gives everything the SFTP exchange needs:

======  ========================================  =========  ============================
Set     Document                                  Direction  Module
======  ========================================  =========  ============================
940     Warehouse Shipping Order (order.release)  out        :mod:`.order940`
945     Warehouse Shipping Advice                 in         :mod:`.shipment945`
        (shipment.confirmed)
846     Inventory Inquiry/Advice                  in         :mod:`.inventory846`
        (inventory.snapshot)
997     Functional Acknowledgment                 both       base ``formats.x12.ack997``
======  ========================================  =========  ============================

Public API
==========

Parsing::

    parse_interchange(text: str | bytes) -> Interchange
    parse_940(ts: TransactionSet) -> dict          # canonical order.release
    parse_945(ts: TransactionSet) -> dict          # canonical shipment.confirmed
    parse_846(ts: TransactionSet, options: InventoryOptions | None) -> dict
                                                   # canonical inventory.snapshot
    parse_997(ts: TransactionSet) -> dict          # functional acknowledgement (not canonical)
    parse_documents(text, inventory=None) -> list[tuple[str, dict]]
                                # ('shipment.confirmed', {...}), ...; inventory: InventoryOptions

Building (each returns a complete ISA..IEA interchange string)::

    build_940(order, envelope, set_control_number=1) -> str
    build_997(interchange, accepted=True, errors=None, envelope=None, set_control_number=1) -> str

The 3PL's side (``build_945``, ``build_846``) is written by the simulator in the repository's
``tests/logistics_simulators/x12_partner.py``.

Parsed dicts always contain every optional key the X12 document can carry (``None`` or ``[]``
when absent); keys whose schema type does not allow ``null`` (``shipped_at``, ``as_of``) are
left out when the document does not carry them. Free text longer than an element allows
(NTE02: 80, G6901: 45) is wrapped at word boundaries over several segments. Totals segments
(W76, W03) are checked for being numbers only; CTT01 (846) must equal the number of LIN loops.
The envelope conventions (separators, positions, dates and time codes, errors) are those of the
base's X12 layer.
"""

from functools import partial

from odoo.addons.logistics_integration_base.formats.x12 import (
    Envelope,
    FunctionalGroup,
    Interchange,
    Separators,
    TransactionSet,
    X12BuildError,
    X12ParseError,
    build_997,
    describe_997_errors,
    parse_997,
    parse_interchange,
    reply_997,
)
from odoo.addons.logistics_integration_base.formats.x12 import (
    parse_documents as _parse_documents,
)

from .inventory846 import InventoryOptions, parse_846
from .order940 import build_940, parse_940
from .shipment945 import parse_945

__all__ = [
    "MESSAGE_TYPES",
    "InventoryOptions",
    "Envelope",
    "FunctionalGroup",
    "Interchange",
    "Separators",
    "TransactionSet",
    "X12BuildError",
    "X12ParseError",
    "build_940",
    "build_997",
    "describe_997_errors",
    "parse_846",
    "parse_940",
    "parse_945",
    "parse_997",
    "parse_documents",
    "parse_interchange",
    "reply_997",
]

FUNCTIONAL_IDS = {"940": "OW", "945": "SW", "846": "IB", "997": "FA"}
MESSAGE_TYPES = {
    "940": "order.release",
    "945": "shipment.confirmed",
    "846": "inventory.snapshot",
    "997": "functional.ack",
}
_PARSERS = {"940": parse_940, "945": parse_945, "846": parse_846, "997": parse_997}


def parse_documents(text, inventory=None):
    """Parse every transaction set of an interchange.

    Returns ``[(message_type, payload), ...]`` in file order, with message types
    ``order.release`` (940), ``shipment.confirmed`` (945), ``inventory.snapshot`` (846) and
    ``functional.ack`` (997). Any other transaction set raises :class:`X12ParseError`.
    ``inventory`` (an :class:`InventoryOptions`) says how the partner writes its 846s.
    """
    parsers = {code: (MESSAGE_TYPES[code], parser) for code, parser in _PARSERS.items()}
    if inventory is not None:
        parsers["846"] = (MESSAGE_TYPES["846"], partial(parse_846, options=inventory))
    return _parse_documents(text, parsers)
