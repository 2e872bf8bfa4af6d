from odoo import models


class Base(models.AbstractModel):
    """What any business record can tell the integration layer about itself, for the
    messages that concern it. Modules override these on their models (e.g. a delivery)."""

    _inherit = "base"

    def _logistics_exchange_label(self):
        """How a person names this record in a sentence ("delivery WH/OUT/00012")."""
        self.ensure_one()
        return self.display_name

    def _logistics_refusal_hint(self, message, paths):
        """What to do when a partner refused ``message`` about this record for the fields
        ``paths`` (e.g. ``["ship_to.phone"]``): one sentence, or None for the default."""
        return None

    def _logistics_on_message_failed(self, message):
        """``message``, about this record, failed or went dead."""

    def _logistics_on_message_ignored(self, message):
        """An operator ignored ``message``, about this record (``message.ignore_reason``)."""

    def _logistics_on_message_superseded(self, message, by):
        """``message``, about this record, failed earlier and needs nothing more: ``by``, a
        later message of the same operation, succeeded. Modules release what the failure
        held (billing) and close the activities it opened, with a note."""

    def _logistics_moved_on(self, message):
        """Why retrying the failed ``message`` about this record makes no sense any more
        ("DEMO/OUT/00002 is already done"), or None. Asked before every retry, by hand or in
        bulk: a delivery shipped meanwhile is not released again."""
        return None

    def _logistics_rebuild_payload(self, message):
        """The payload of the outbound ``message`` about this record, built from the record
        as it is now (what Retry sends when it differs from the one stored), or None when
        this record has no builder for it (Retry then resends the stored payload). Raise a
        UserError saying why when the record moved on and must not be sent again (done,
        cancelled, already sent by a later message)."""
        return None

    def _logistics_on_message_revised(self, message, revision):
        """``revision``, with a changed payload and its own key, replaces ``message``."""
