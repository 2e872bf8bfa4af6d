"""Which records make one business transaction (an order across partners), declared by the
module owning each record's fields, as field paths. No ORM here.

A record climbs to its order by the first of its *up* paths giving records; the order brings
*down* everything that belongs to it; a record may also be brought by records *referring*
to it (a freight invoice line naming a delivery). A path whose field does not exist in a
database (its module not installed there) adds nothing::

    from odoo.addons.logistics_integration_base.tools import transactions

    transactions.register(
        "logistics.customs.declaration",
        up=("picking_id.sale_id", "picking_id"),  # tried in turn
    )
    transactions.register("stock.picking", down=("logistics_declaration_ids",))
    transactions.register(
        "stock.picking", referring=(("logistics.freight.invoice.line", "picking_id", "invoice_id"),)
    )
"""

_UP = {}  # model -> [path, ...] (tried in turn: the first giving records wins)
_DOWN = {}  # model -> [path, ...]
_REFERRING = {}  # model -> [(model, its field naming the record, path to follow), ...]


def _add(table, model, items):
    known = table.setdefault(model, [])
    known.extend(item for item in items if item not in known)


def register(model, up=(), down=(), referring=()):
    """Declare paths of ``model`` (see the module's doc); registering twice adds nothing."""
    _add(_UP, model, up)
    _add(_DOWN, model, down)
    _add(_REFERRING, model, referring)


def up_paths(model):
    return tuple(_UP.get(model, ()))


def down_paths(model):
    return tuple(_DOWN.get(model, ()))


def referring(model):
    return tuple(_REFERRING.get(model, ()))


# Odoo's own links, whatever logistics module is installed: a delivery belongs to its sale
# order (sale_stock), an invoice to the order of its lines (sale); an order brings its
# deliveries and invoices.
register("stock.picking", up=("sale_id",))
register("account.move", up=("invoice_line_ids.sale_line_ids.order_id",))
register("sale.order", down=("picking_ids", "invoice_ids"))
