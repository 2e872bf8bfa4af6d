"""Provider adapters: one class per partner API, registered under a provider key.

A new partner is a new adapter (and mapper) class, not a change to the models::

    @register("acme")
    class AcmeAdapter(Adapter):
        capabilities = frozenset({SEND, PARSE_INBOUND, TEST_CONNECTION})
        ...

and a ``selection_add`` on ``logistics.backend.provider`` in the module that ships it
(``readme/EXTEND.md``).
"""

from .base import (
    ADAPTERS,
    CALL,
    CAPABILITIES,
    FETCH,
    PARSE_INBOUND,
    POLL,
    SEND,
    TEST_CONNECTION,
    Adapter,
    CallResult,
    InboundEvent,
    OutboundResult,
    get_adapter_class,
    parse_json_error,
    register,
)
from . import generic, sftp_files

__all__ = [
    "ADAPTERS",
    "CALL",
    "CAPABILITIES",
    "FETCH",
    "PARSE_INBOUND",
    "POLL",
    "SEND",
    "TEST_CONNECTION",
    "Adapter",
    "CallResult",
    "InboundEvent",
    "OutboundResult",
    "get_adapter_class",
    "parse_json_error",
    "register",
]
