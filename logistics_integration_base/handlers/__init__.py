"""Inbound message handlers, registered by message type (see ``base.py``)."""

from .base import (
    HANDLERS,
    OUT_OF_ORDER_POLICIES,
    MessageHandler,
    get_handler_class,
    register_handler,
)
from . import ping

__all__ = [
    "HANDLERS",
    "OUT_OF_ORDER_POLICIES",
    "MessageHandler",
    "get_handler_class",
    "register_handler",
]
