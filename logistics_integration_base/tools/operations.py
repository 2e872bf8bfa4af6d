"""Operations: which outbound message types do the same thing to the same record.

A failed message is *superseded* when a later message of the same operation for the same
record succeeds (see ``logistics.message._supersede_earlier``): the failure leaves the
exception queue by itself and stops holding anything. What "the same operation" is belongs
to the module owning the message types, which registers them here once::

    from odoo.addons.logistics_integration_base.tools.operations import register_operation

    register_operation("order", "order.release", "order.update", "order.cancel")

A message type registered nowhere supersedes nothing (a void of given parcels is about
something else than the one before it); registered alone, it is an operation of its own.

Inbound types join an operation only when each event states the record's whole state (a
declaration's customs status): a processed event then makes the failed events *from before
it*, in the partner's event order (event time, sequence), moot; a failed event from after it
still brings news. Events that each add something (a shipment, a charge, a return, a
tracking step) are registered nowhere: retrying a failed one adds what it says, whatever
came later. No ORM here.
"""

#: message type -> operation name
_OPERATION_OF = {}


def register_operation(operation, *message_types):
    """Declare that ``message_types`` are one operation named ``operation``: a success of
    any of them supersedes the earlier failures of all of them for the same record."""
    for message_type in message_types:
        known = _OPERATION_OF.get(message_type)
        if known and known != operation:
            raise ValueError(
                f"{message_type} already belongs to the operation {known}, not {operation}"
            )
        _OPERATION_OF[message_type] = operation


def operation_of(message_type):
    """The operation ``message_type`` belongs to, or None."""
    return _OPERATION_OF.get(message_type)


def registered():
    """Every registered message type and its operation (a copy)."""
    return dict(_OPERATION_OF)


def same_operation(message_type):
    """The message types of ``message_type``'s operation (empty when it has none)."""
    operation = _OPERATION_OF.get(message_type)
    if not operation:
        return []
    return sorted(t for t, o in _OPERATION_OF.items() if o == operation)
