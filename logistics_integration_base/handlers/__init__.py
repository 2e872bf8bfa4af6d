"""Inbound message handlers, registered by message type (see ``base.py``)."""

from odoo.tools.translate import LazyTranslate

from .base import (
    HANDLERS,
    MESSAGE_TYPE_LABELS,
    OUT_OF_ORDER_POLICIES,
    MessageHandler,
    get_handler_class,
    message_type_label,
    register_handler,
    register_message_types,
)
from . import ping

_lt = LazyTranslate(__name__)

register_message_types(
    {
        "integration.ping": _lt("Connection check"),
        "unknown": _lt("Unrecognised message"),
    }
)

__all__ = [
    "HANDLERS",
    "MESSAGE_TYPE_LABELS",
    "OUT_OF_ORDER_POLICIES",
    "MessageHandler",
    "get_handler_class",
    "message_type_label",
    "register_handler",
    "register_message_types",
]
