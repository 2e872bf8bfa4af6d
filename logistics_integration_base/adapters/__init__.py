"""Provider adapters: one class per partner API, registered under a provider key.

A new partner is a new adapter (and mapper) class, not a change to the models::

    @register("acme")
    class AcmeAdapter(GenericAdapter):
        ...

and a ``selection_add`` on ``logistics.backend.provider`` in the module that ships it.
"""

from .base import ADAPTERS, Adapter, InboundEvent, OutboundResult, get_adapter_class, register
from . import generic

__all__ = [
    "ADAPTERS",
    "Adapter",
    "InboundEvent",
    "OutboundResult",
    "get_adapter_class",
    "register",
]
