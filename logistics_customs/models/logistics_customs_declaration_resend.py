"""Sending a declaration again after the broker did not take it.

A version the broker refused (or that never reached it) stays *Submitted*: customs never
saw it. The declaration says so, with the broker's reason, and the operator corrects what is
named and presses **Send again**: the version goes in a new message, under a key of its own
(``customs:<id>:v<version>-s2``, ``-s3``...), since the broker keeps the answer it gave
under the first one. Once that message goes through, the refused one is *superseded*: it
leaves the exception queue and Retry on it is refused in words (see
``logistics.message._supersede_earlier``)."""

from odoo import fields, models
from odoo.exceptions import UserError

DECLARATION = "customs.declaration"
EXCEPTION_STATES = ("failed", "dead")


class LogisticsCustomsDeclaration(models.Model):
    _inherit = "logistics.customs.declaration"

    send_failed = fields.Boolean(
        compute="_compute_send_failed",
        string="Not taken by the broker",
        help="The version sent last was refused by the broker, or never reached it: "
        "correct what its reason names, then press Send again.",
    )
    send_error = fields.Text(
        compute="_compute_send_failed",
        string="Why the broker did not take it",
    )

    def _logistics_sendings(self):
        """The declaration messages of this declaration's version, oldest first (revisions
        made by Retry aside: they stand for the message they replace)."""
        self.ensure_one()
        key = self._logistics_version_key()
        return (
            self.env["logistics.message"]
            .sudo()
            .search(
                [
                    ("res_model", "=", self._name),
                    ("res_id", "=", self.id),
                    ("direction", "=", "out"),
                    ("message_type", "=", DECLARATION),
                    ("replaces_id", "=", False),
                    "|",
                    ("idempotency_key", "=", key),
                    ("idempotency_key", "=like", f"{key}-s%"),
                ],
                order="id",
            )
        )

    def _logistics_version_key(self):
        self.ensure_one()
        return f"customs:{self.id}:v{self.version}"

    def _logistics_send_key(self):
        """The key the current version is sent under: the version's key the first time,
        ``-s<n>`` after it for each time it is sent again."""
        self.ensure_one()
        count = len(self._logistics_sendings())
        key = self._logistics_version_key()
        return f"{key}-s{count + 1}" if count else key

    def _logistics_last_sending(self):
        """The message that carries the current version now: the last one sent, or the
        revision Retry made of it."""
        self.ensure_one()
        last = self._logistics_sendings()[-1:]
        while last.replaced_by_id:
            last = last.replaced_by_id
        return last

    def _compute_send_failed(self):
        """Read as the system: whoever sees the declaration reads whether the broker took
        it, and the reason's first sentence (in words; the technical detail stays on the
        message)."""
        for declaration in self:
            last = (
                declaration._logistics_last_sending()
                if declaration.id and declaration.state == "submitted"
                else self.env["logistics.message"]
            )
            failed = last.state in EXCEPTION_STATES
            declaration.send_failed = failed
            declaration.send_error = (
                (last.error_message or "").split("\n\n")[0] or last.state if failed else False
            )

    def action_send_again(self):
        """Button: the broker did not take this version; corrected, it is sent again in a
        new message."""
        self.check_access("write")
        for declaration in self:
            if not declaration.send_failed:
                raise UserError(
                    self.env._(
                        "%(name)s is %(state)s and its broker did not refuse it: nothing to "
                        "send again.",
                        name=declaration.name,
                        state=declaration._logistics_state_words(),
                    )
                )
        return self._logistics_send(("submitted",))

    def _logistics_rebuild_payload(self, message):
        """Retry of a sending that was sent again since is refused: the later one carries
        the declaration as it was corrected."""
        if message.message_type == DECLARATION and self.state == "submitted":
            later = self._logistics_sendings().filtered(
                lambda m: m.id > message.id and m.state != "ignored"
            )
            if later:
                raise UserError(
                    self.env._(
                        "%(name)s was sent to %(broker)s again since, by %(later)s: retry "
                        "that one if it failed; this one needs nothing more.",
                        name=self.name,
                        broker=message.backend_id.name,
                        later=later[-1].name,
                    )
                )
        return super()._logistics_rebuild_payload(message)
