"""A stand-in for the legacy interface a company runs before the suite: a script reading the
company's orders and writing its own order files for the 3PL, in the 3PL's CSV layout (the
columns in an order of its own, its own line numbers), with a copy to a folder the suite reads
during a parallel run, or posted to the suite's legacy webhook.

It is written independently of the connector's writer (plain ``csv``), so that a comparison
finding no difference means two programs agreed. ``plant`` changes what it writes, the way a
legacy script's bug would::

    legacy = LegacyInterface(settings)                 # SFTP login, outbound_dir = legacy folder
    legacy.write_orders(orders, plant={"WH/OUT/00001": {"CHAIR-1": 4}}, skip={"WH/OUT/00003"})
"""

import csv
import io

from odoo.addons.logistics_integration_base.transport import sftp

# the legacy script's column order (the layout matches columns by name)
COLUMNS = (
    "order_ref",
    "line_ref",
    "sku",
    "quantity",
    "uom",
    "name",
    "warehouse_code",
    "origin",
    "requested_date",
    "ship_to_name",
    "ship_to_company",
    "ship_to_street",
    "ship_to_street2",
    "ship_to_city",
    "ship_to_state_code",
    "ship_to_zip",
    "ship_to_country_code",
    "ship_to_email",
    "ship_to_phone",
    "lot_tracking",
)


def order_file(order, quantities=None):
    """One order as the legacy script writes it. ``order``: ``ref``, ``warehouse``, ``origin``,
    ``date``, ``customer`` (name, street, city, state, zip, country, email, phone) and
    ``items`` [(sku, name, quantity, uom)]; ``quantities`` replaces some items' quantity."""
    quantities = quantities or {}
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(COLUMNS)
    customer = order["customer"]
    for number, (sku, name, quantity, uom) in enumerate(order["items"], start=1):
        writer.writerow(
            [
                order["ref"],
                str(number * 10),  # the legacy numbers its lines 10, 20, 30...
                sku,
                f"{quantities.get(sku, quantity):g}",
                uom,
                name,
                order["warehouse"],
                order.get("origin") or "",
                order.get("date") or "",
                customer["name"],
                "",
                customer["street"],
                "",
                customer["city"],
                customer.get("state") or "",
                customer["zip"],
                customer["country"],
                customer.get("email") or "",
                customer.get("phone") or "",
                "none",
            ]
        )
    return out.getvalue().encode()


def file_name(order):
    return "order_{}.csv".format(order["ref"].replace("/", "-"))


class LegacyInterface:
    def __init__(self, settings: sftp.SFTPSettings):
        self.settings = settings

    def write_orders(self, orders, plant=None, skip=()):
        """Write each order's file to the legacy folder (``settings.outbound_dir``);
        ``plant``: {order ref: {sku: quantity}}; ``skip``: refs the legacy never sends."""
        plant = plant or {}
        written = []
        with sftp.SFTPConnection(self.settings) as conn:
            conn.ensure_dirs()
            for order in orders:
                if order["ref"] in skip:
                    continue
                conn.put_atomic(file_name(order), order_file(order, plant.get(order["ref"])))
                written.append(file_name(order))
        return written
