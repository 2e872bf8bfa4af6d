"""Inbound message handlers: how a canonical message type is applied to Odoo.

The module that owns a message type registers one handler class for it::

    @register_handler("order.ack")
    class OrderAckHandler(MessageHandler):
        schemas = ("order.ack.v1",)
        out_of_order = "apply"

        def find_record(self, data):
            return self.env["stock.picking"].search([...], limit=1)

        def process(self, data, record):
            ...
            return "DEMO/OUT/00012 accepted"

``logistics.message`` dispatches each inbound message to the handler of its type in a
queue job, after validating the payload against the type's schema, inside a savepoint.
A handler raises the exceptions of ``logistics_integration_base.exceptions``:
``BusinessError`` (failed, for an operator), ``NeedsAttention`` (changes kept, lands in the
exception queue), ``RetryLater`` (processed again with the backend's backoff).

Out-of-order arrival is declared in ``out_of_order``:

``"retry"``
    the record the message concerns may not exist yet: when :meth:`find_record` finds
    nothing, processing is retried with the backend's backoff (:class:`RetryLater`), then
    fails with :meth:`missing_reason`;
``"fail"``
    an unknown record is a business error an operator resolves (:meth:`missing_reason`),
    then presses Retry;
``"apply"``
    the handler itself copes with any order (idempotent, compares states or dates);
    :meth:`find_record` may return nothing.
"""

from ..exceptions import BusinessError, RetryLater
from ..tools.plugins import PluginRegistry

OUT_OF_ORDER_POLICIES = ("retry", "fail", "apply")

#: message type -> handler class
HANDLERS = PluginRegistry("handler")

#: message type -> what a person calls it ("Release to 3PL" for ``order.release``)
MESSAGE_TYPE_LABELS = {}


def register_message_types(labels):
    """Declare how a person calls canonical message types, outbound and inbound alike, e.g.
    ``register_message_types({"order.release": _lt("Release to 3PL")})`` with
    ``_lt = LazyTranslate(__name__)``. Lists, forms, filters and groupings show the label;
    a type nobody labelled shows its code."""
    MESSAGE_TYPE_LABELS.update(labels)


def message_type_label(message_type):
    """The label of ``message_type`` (translated), or its code when it has none."""
    label = MESSAGE_TYPE_LABELS.get(message_type)
    return str(label) if label else message_type


def register_handler(message_type):
    """Class decorator registering a handler under a canonical message type."""

    def decorator(cls):
        if cls.out_of_order not in OUT_OF_ORDER_POLICIES:
            raise ValueError(f"{cls.__name__}.out_of_order must be one of {OUT_OF_ORDER_POLICIES}")
        cls.message_type = message_type
        if not cls.schemas:
            cls.schemas = (f"{message_type}.v1",)
        return HANDLERS.add(message_type, cls)

    return decorator


def get_handler_class(message_type, env=None):
    return HANDLERS.get(message_type, env)


class MessageHandler:
    """Applies one inbound ``logistics.message`` (``self.message``, sudo)."""

    message_type = None
    #: the schema files (``<type>.v<n>``) this handler reads; checked at install by tests
    schemas = ()
    #: see the module docstring
    out_of_order = "apply"

    def __init__(self, message):
        self.message = message
        self.env = message.env
        self.backend = message.backend_id

    def prepare(self):
        """Before the payload is validated: complete it if it must be pulled first (a
        failed pull stored for Retry). Raise ``TransportError`` when that fails."""

    def find_record(self, data):
        """The Odoo record the message concerns, or an empty recordset / None. A handler
        that does not define it finds its records in :meth:`process` itself, and the
        out-of-order policy is its own business."""
        return None

    def missing_reason(self, data):
        """What an operator reads when :meth:`find_record` finds nothing."""
        return self.env._(
            "The record this %(type)s message from %(backend)s concerns does not exist in "
            "Odoo yet. Once it does, press Retry.",
            type=self.message_type,
            backend=self.backend.name,
        )

    def resolve(self, data):
        """:meth:`find_record` with the declared out-of-order policy applied."""
        if type(self).find_record is MessageHandler.find_record:
            return None
        record = self.find_record(data)
        if record or self.out_of_order == "apply":
            return record
        if self.out_of_order == "retry":
            raise RetryLater(self.missing_reason(data))
        raise BusinessError(self.missing_reason(data))

    def process(self, data, record):
        """Apply the message; return a short outcome for the job's result."""
        raise NotImplementedError

    def link(self, record):
        """Show ``record`` as what the message is about."""
        self.message._link_record(record)
