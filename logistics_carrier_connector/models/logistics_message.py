from odoo import models


class LogisticsMessage(models.Model):
    _inherit = "logistics.message"

    def _on_sent(self, result):
        """A booking voided because the validation that made it rolled back: the
        delivery is not booked any more, which an operator must know. The message goes to
        the exception queue with what happened and what to do (nothing is billed)."""
        res = super()._on_sent(result)
        if self.message_type == "carrier.void":
            data = self._get_payload()
            if data.get("reason") == "rolled_back":
                self.write(
                    {
                        "state": "failed",
                        "error_category": "business",
                        "error_message": self.env._(
                            "%(backend)s had booked %(ref)s (tracking %(numbers)s), but the "
                            "validation of the delivery did not complete: the booking was "
                            "voided at the carrier, so nothing is billed for it. Validate the "
                            "delivery again to book it, then Ignore this message.",
                            backend=self.backend_id.name,
                            ref=data["reference"],
                            numbers=", ".join(data.get("tracking_numbers") or []),
                        ),
                    }
                )
        return res
