"""What every carrier adapter shares: the canonical operations dispatched to methods, and
the labels kept out of the recorded answer (they are attachments, not audit trail)."""

import base64
import hashlib
import json

from odoo.addons.logistics_integration_base.adapters import (
    CALL,
    Adapter,
    CallResult,
    InboundEvent,
    OutboundResult,
)
from odoo.addons.logistics_integration_base.exceptions import TransportError

OPERATIONS = {
    "carrier.rate": "_rate",
    "carrier.book": "_book",
    "carrier.void": "_void",
    "carrier.follow": "_follow",
}


def can_call(adapter_class, operation):
    """Whether backends of ``adapter_class`` answer the synchronous ``operation`` (e.g.
    ``carrier.rate``): the adapter offers calls (capability ``call``) and declares the
    operation among its ``call_operations``. Any other adapter (a generic partner, a
    freight invoice feed) does not take part."""
    return adapter_class.supports(CALL) and operation in getattr(
        adapter_class, "call_operations", ()
    )


def answer_lost(err):
    """Whether, after ``err``, the partner may have done what it was asked without Odoo
    knowing: no answer (a timeout, the connection cut) or a server error, as opposed to a
    refusal or a partner that was never reached in a way that tells."""
    return bool(err.transient and (err.status is None or err.status >= 500))


class AnswerLost(TransportError):
    """A booking the carrier may have made although Odoo got no answer, with a carrier
    that offers no way to find it afterwards: not retried by itself (a retry would book a
    second time), left to a person who checks the carrier's account first."""

    def __init__(self, reason):
        super().__init__(reason, "technical", transient=False)


LABEL_MAGIC = {"PDF": b"%PDF", "ZPL": b"^XA"}


def checked_file(content, magic, what):
    """``content`` base64-encoded, if it starts as its format does (``magic``); an empty
    or unreadable file fails the booking (transient: the carrier is asked again) instead
    of being attached. ``what`` names it: "the carrier's PDF label for parcel 1"."""
    if not content.startswith(magic):
        raise TransportError(
            f"{what} is "
            + ("empty" if not content else "not a readable file")
            + ": the booking is cancelled at the carrier; try again",
            "technical",
            transient=True,
        )
    return base64.b64encode(content).decode()


def without_labels(data):
    recorded = dict(data)
    if "parcels" in recorded:
        recorded["parcels"] = [
            {k: v for k, v in p.items() if k != "label_b64"} for p in recorded["parcels"]
        ]
    return recorded


class CarrierAdapter(Adapter):
    """Subclasses implement ``_rate``, ``_book``, ``_void`` and ``_follow``, each taking the
    canonical payload and returning ``(canonical answer, what was sent)``."""

    #: the canonical operations answered by :meth:`call` (see :func:`can_call`)
    call_operations = frozenset(OPERATIONS)

    def call(self, operation, payload, correlation_id=None):
        name = OPERATIONS.get(operation)
        if name is None:
            raise TransportError(f"{type(self).__name__}: no operation {operation}", "technical")
        data, sent = getattr(self, name)(payload)
        return CallResult(
            data=data,
            status=200,
            request_body=json.dumps(sent, default=str),
            response_body=json.dumps(without_labels(data), default=str),
        )

    def send(self, message):
        """Queued operations, retried by the base like any outbound message: a
        ``carrier.book`` (backends that book in the queue; the answer, labels included,
        goes to the message's ``_on_sent``) and a ``carrier.void`` (a booking to undo, e.g.
        after a rolled-back validation)."""
        if message.message_type == "carrier.book":
            # one key across the booking's attempts: the message's; a revision (Retry
            # rebuilt it from the corrected delivery) also names the versions it replaces
            payload = dict(
                message._get_payload(),
                idempotency_key=message.idempotency_key,
                replaced=message._logistics_replaced_bookings(),
            )
            data, sent = self._book(payload)
            return OutboundResult(
                status=200,
                response=data,
                external_id=",".join(dict.fromkeys(p["shipment_id"] for p in data["parcels"])),
                request_body=json.dumps(sent, default=str),
            )
        if message.message_type != "carrier.void":
            raise TransportError(
                f"{type(self).__name__} sends no {message.message_type} message", "business"
            )
        data, sent = self._void(message._get_payload())
        return OutboundResult(status=200, response=data, request_body=json.dumps(sent, default=str))

    def polled_tracking(self, key, data):
        """A ``tracking.update`` read by polling, keyed by ``key`` and its content: the same
        news polled twice is stored once."""
        self.schemas.validate("tracking.update", data)
        fingerprint = hashlib.sha256(json.dumps(data, sort_keys=True).encode()).hexdigest()
        return InboundEvent(
            event_id=f"{key}:{fingerprint[:16]}",
            message_type="tracking.update",
            data=data,
            schema_version=self.schemas.latest_version("tracking.update"),
        )
