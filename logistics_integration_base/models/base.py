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
