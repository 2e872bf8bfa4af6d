"""The exceptions other modules import: raise them from adapters, handlers and transports.

=====================  ===========================================================
``BusinessError``      a message cannot be processed for a reason an operator can act
                       on (unknown order, refused by the partner): failed, business.
``NeedsAttention``     processed, changes kept, but the outcome needs an operator
                       (e.g. the partner rejected an order): lands in the exception
                       queue with its reason.
``RetryLater``         not processable yet (an event before the record it concerns):
                       retried with the backend's backoff, then failed.
``TransportError``     talking to the partner failed; says whether it is ``transient``,
                       its ``category`` and the partner's ``status`` and ``body``.
``PayloadInvalid``     a payload breaks its canonical schema; ``path`` names the field.
``SignatureError``     an inbound request is not authentic (answered 401).
=====================  ===========================================================

Plain Python, no ORM: protocol code imports these without loading Odoo models.
"""


class BusinessError(Exception):
    """A message cannot be processed for a business reason an operator can act on."""


class NeedsAttention(BusinessError):
    """Processed and kept, but the outcome needs an operator: the message lands in the
    exception queue with this reason."""


class RetryLater(Exception):
    """Not processable yet; retried with the backend's backoff (or after ``seconds``),
    then failed with ``reason`` once the attempts are exhausted."""

    def __init__(self, reason, seconds=None):
        super().__init__(reason)
        self.reason = reason
        self.seconds = seconds


class NotForUs(Exception):
    """Raised by a handler: the message is about nothing Odoo knows (e.g. a tracking event
    of a parcel shipped outside Odoo): it is kept as *ignored* with ``reason``, not raised
    as an exception."""

    def __init__(self, reason):
        super().__init__(reason)
        self.reason = reason


class TransportError(Exception):
    """A failed exchange with a partner.

    ``transient``: worth retrying (timeouts, connection errors, 5xx, 429);
    ``retry_after``: seconds the partner asked to wait; ``category``: technical, business,
    validation or auth; ``status`` and ``body``: the partner's answer, for the technical
    section an operator reads below the reason."""

    def __init__(
        self,
        reason,
        category="technical",
        transient=False,
        status=None,
        retry_after=None,
        body=None,
    ):
        super().__init__(reason)
        self.reason = reason
        self.category = category
        self.transient = transient
        self.status = status
        self.retry_after = retry_after
        self.body = body

    def __str__(self):
        return self.reason


class PayloadInvalid(Exception):
    """A payload breaks its schema. ``path`` is the failing field, e.g. data.lines[0].sku."""

    def __init__(self, message, path=""):
        super().__init__(message)
        self.message = message
        self.path = path

    def __str__(self):
        return f"{self.path}: {self.message}" if self.path else self.message


class SignatureError(Exception):
    """The request is not authentic; the message is safe to return to the sender."""


class CapabilityMissing(TransportError):
    """The backend's adapter does not offer what was asked of it (e.g. a pull from a
    partner that only pushes). Not transient: a configuration matter."""

    def __init__(self, reason):
        super().__init__(reason, "business", False)
