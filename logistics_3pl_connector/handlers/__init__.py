"""Inbound message handlers of the 3PL connector, one per canonical type it owns."""

from odoo.tools.translate import LazyTranslate

from odoo.addons.logistics_integration_base.handlers import register_message_types

from . import common, order_ack, shipment, inventory, returns, receipt

_lt = LazyTranslate(__name__)

register_message_types(
    {
        "order.release": _lt("Release to 3PL"),
        "order.update": _lt("Update sent to 3PL"),
        "order.cancel": _lt("Cancellation sent to 3PL"),
        "order.ack": _lt("Acknowledgement from 3PL"),
        "asn.release": _lt("Incoming goods notice to 3PL"),
        "shipment.confirmed": _lt("Shipment by 3PL"),
        "shipment.status": _lt("Shipment status from 3PL"),
        "receipt.confirmed": _lt("Receipt at 3PL"),
        "return.received": _lt("Return received by 3PL"),
        "inventory.snapshot": _lt("Stock report from 3PL"),
    }
)
