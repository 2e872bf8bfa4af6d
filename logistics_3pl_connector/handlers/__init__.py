"""Inbound message handlers of the 3PL connector, one per canonical type it owns."""

from . import common, order_ack, shipment, inventory, returns, receipt
