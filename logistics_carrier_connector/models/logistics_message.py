import json

from odoo import models
from odoo.exceptions import UserError

from ..adapters.common import without_labels


class LogisticsMessage(models.Model):
    _inherit = "logistics.message"

    def _on_sent(self, result):
        res = super()._on_sent(result)
        if self.message_type == "carrier.book" and not self.is_call:
            self._logistics_on_booked(result.response)
        elif self.message_type == "carrier.void":
            self._logistics_on_voided()
        return res

    def _logistics_on_booked(self, data):
        """A queued booking the carrier made: kept (and guarded against a rollback of this
        job) before the delivery records it. A booking the delivery cannot record (e.g. a
        price in a currency Odoo cannot convert) is voided and the message fails with the
        reason: retried once that is corrected, never bought and voided over and over."""
        picking = self._related_record()
        Carrier = self.env["delivery.carrier"]
        Carrier._logistics_guard_booking(
            picking or self.env["stock.picking"],
            self.backend_id,
            data,
            self._get_payload(),
            booking=self,
        )
        self.response_payload = json.dumps(without_labels(data), default=str)
        if not picking:
            return
        try:
            with self.env.cr.savepoint():
                picking._logistics_booked(self, data)
        except UserError as exc:
            self._logistics_void_unrecorded(picking, data)
            self._fail(
                "business",
                self.env._(
                    "%(reason)s The booking %(backend)s made for %(picking)s is voided at the "
                    "carrier: correct this, then press Retry to book it again.",
                    reason=str(exc.args[0]),
                    backend=self.backend_id.name,
                    picking=picking.name,
                ),
            )

    def _logistics_void_unrecorded(self, picking, data):
        """Queue the void of a booking the delivery could not record, and give the booking
        a new key: made again, it never takes back the shipments being voided."""
        shipment_ids = list(dict.fromkeys(p["shipment_id"] for p in data["parcels"]))
        self.backend_id._send_message(
            "carrier.void",
            {
                "reference": picking.name,
                "shipment_ids": shipment_ids,
                "tracking_numbers": [p["tracking_number"] for p in data["parcels"]],
                "price": data.get("price"),
                "reason": "not_recorded",
            },
            record=picking,
            idempotency_key="void:" + ",".join(shipment_ids),
            subject=self.env._("Void of the booking of %s (not recorded)", picking.name),
        )
        self.idempotency_key = self._scoped_key(
            "carrier.book", picking.id, "queued", self.id, "void", len(self.attempt_ids)
        )

    def _logistics_on_voided(self):
        """A booking voided because the transaction that made it rolled back: the delivery
        is not booked any more, which an operator must know. The message goes to the
        exception queue with what happened and what to do (nothing is billed)."""
        data = self._get_payload()
        if data.get("reason") != "rolled_back":
            return
        picking = self._related_record()
        queued = picking and picking.logistics_booking_state in ("queued", "failed")
        todo = (
            self.env._(
                "Its queued booking is sent again: Ignore this message once the delivery shows "
                "its tracking number."
            )
            if queued
            else self.env._("Validate the delivery again to book it, then Ignore this message.")
        )
        self.write(
            {
                "state": "failed",
                "error_category": "business",
                "error_message": self.env._(
                    "%(backend)s had booked %(ref)s (tracking %(numbers)s), but the "
                    "transaction recording it did not complete: the booking was voided at the "
                    "carrier, so nothing is billed for it. %(todo)s",
                    backend=self.backend_id.name,
                    ref=data["reference"],
                    numbers=", ".join(data.get("tracking_numbers") or []),
                    todo=todo,
                ),
            }
        )

    def _retry(self, requested_by):
        """A queued booking sent again (Retry, or code that decided it) shows on its
        delivery as queued again. A booking Retry rebuilt from a corrected delivery goes as
        a new revision instead (see ``stock.picking._logistics_rebuild_payload``)."""
        result = super()._retry(requested_by)
        for message in self.sudo().filtered(
            lambda m: m.message_type == "carrier.book" and not m.is_call and m.state == "pending"
        ):
            picking = message._related_record()
            if (
                picking
                and picking.logistics_booking_message_id == message
                and picking.logistics_booking_state == "failed"
            ):
                picking.logistics_booking_state = "queued"
        return result

    def _logistics_replaced_bookings(self):
        """The payloads of the earlier revisions of this queued booking, latest first, each
        with the key it was sent under: what the carrier may still hold for the delivery as
        it was (see ``adapters/easypost.py``)."""
        self.ensure_one()
        replaced = []
        earlier = self.sudo().replaces_id
        while earlier:
            replaced.append(dict(earlier._get_payload(), idempotency_key=earlier.idempotency_key))
            earlier = earlier.replaces_id
        return replaced
