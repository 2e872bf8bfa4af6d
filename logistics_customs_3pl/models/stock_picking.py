from odoo import fields, models
from odoo.exceptions import UserError

from odoo.addons.logistics_3pl_connector.models.stock_picking import RELEASED_STATES


class StockPicking(models.Model):
    _inherit = "stock.picking"

    logistics_customs_hold = fields.Selection(
        [("held", "On customs hold at the 3PL"), ("cleared", "Customs hold lifted")],
        string="Customs hold (3PL)",
        copy=False,
        readonly=True,
        help="Released to the 3PL before customs released its declaration, with a customs "
        "hold (the 3PL backend's policy): the 3PL keeps the goods until an order update lifts "
        "the hold, sent once customs release the declaration or a customs manager overrides.",
    )
    logistics_customs_hold_reason = fields.Char(
        string="Customs hold reason", copy=False, readonly=True
    )

    def _logistics_customs_flagged(self):
        """Whether this delivery goes to its 3PL with a customs hold, rather than waiting,
        while its declaration blocks it (the 3PL backend's policy)."""
        self.ensure_one()
        backend = self.logistics_backend_id.sudo()
        return (
            self.picking_type_code == "outgoing"
            and bool(backend)
            and backend._logistics_customs_flags_hold()
        )

    def _logistics_customs_hold_texts(self, declaration):
        """A delivery its 3PL ships is not validated by hand: its one banner says what
        customs hold and what that means at the 3PL — the release waits for customs, or
        the 3PL has the order on customs hold until an order update lifts it."""
        self.ensure_one()
        if self.picking_type_code != "outgoing" or not self.logistics_backend_id:
            return super()._logistics_customs_hold_texts(declaration)
        backend = self.logistics_backend_id.sudo().name
        if self.logistics_customs_hold == "held" and self.logistics_state in RELEASED_STATES:
            at_3pl = self.env._(
                "3PL %s has the order on customs hold: it keeps the goods.", backend
            )
            outcome = self.env._("an order update lets 3PL %s ship it", backend)
        elif self.logistics_state == "none" and not self._logistics_customs_flagged():
            at_3pl = self.env._("Its release to 3PL %s waits for customs.", backend)
            outcome = self.env._("it is released to 3PL %s", backend)
        else:
            return super()._logistics_customs_hold_texts(declaration)
        why, next_step = declaration._logistics_hold_sentences(outcome)
        return f"{why} {at_3pl}", next_step

    def _logistics_releasable(self, from_states=("none",)):
        """Goods under a customs declaration go to the 3PL once customs released them (or a
        customs manager overrode): until then the 3PL must not ship them. So a delivery
        waits, unless its 3PL backend releases such deliveries at once with a customs hold.
        A delivery queued before its declaration existed goes back to "Not released" when
        the release job finds it blocked, and is queued again by the release."""
        ready = super()._logistics_releasable(from_states)
        return ready.filtered(
            lambda p: not p.sudo()._logistics_customs_blocking() or p._logistics_customs_flagged()
        )

    def action_logistics_release(self):
        """Releasing by hand does not go round customs: a delivery waiting for its
        declaration stays until customs release it (or a customs manager overrides)."""
        for picking in self.filtered("logistics_backend_id"):
            blocking = picking.sudo()._logistics_customs_blocking()
            if blocking and not picking._logistics_customs_flagged():
                raise UserError(
                    self.env._(
                        "%(picking)s waits for customs: its declaration %(name)s "
                        "%(state)s. It is released to 3PL %(backend)s once customs release "
                        "it, or a customs manager overrides it with a reason.",
                        picking=picking.name,
                        name=blocking[0].name,
                        state=blocking[0]._logistics_state_words(),
                        backend=picking.logistics_backend_id.name,
                    )
                )
        return super().action_logistics_release()

    def _logistics_release(self):
        """A delivery released while its declaration blocks it carries a customs hold, and
        its chatter says so."""
        self.ensure_one()
        blocking = self.env["logistics.customs.declaration"]
        if self._logistics_customs_flagged():
            blocking = self.sudo()._logistics_customs_blocking()
        if blocking:
            # The reason is part of the order sent to the 3PL: written for its staff, in the
            # language of the canonical messages.
            self.sudo().write(
                {
                    "logistics_customs_hold": "held",
                    "logistics_customs_hold_reason": "Awaiting customs release of declaration "
                    + ", ".join(blocking.mapped("name")),
                }
            )
        message = super()._logistics_release()
        if self.logistics_customs_hold == "held" and message.message_type == "order.release":
            self.message_post(
                body=self.env._(
                    "Released to %(backend)s with a customs hold (%(message)s): %(reason)s. "
                    "The 3PL keeps the goods until an order update lifts the hold, sent once "
                    "customs release the declaration or a customs manager overrides.",
                    backend=self.logistics_backend_id.name,
                    message=message.name,
                    reason=self.logistics_customs_hold_reason,
                )
            )
        return message

    def _logistics_order_payload(self, backend):
        """The order says whether the 3PL may ship it: ``customs_hold`` true (with its
        reason) while it is held, false once the hold was lifted; absent for an order that
        was never held."""
        payload = super()._logistics_order_payload(backend)
        if self.logistics_customs_hold == "held":
            payload["customs_hold"] = True
            payload["customs_hold_reason"] = self.logistics_customs_hold_reason or None
        elif self.logistics_customs_hold == "cleared":
            payload["customs_hold"] = False
        return payload

    def _logistics_customs_hold_lift(self, why):
        """Customs released the goods (or a customs manager overrode): the deliveries
        released with a customs hold are told by an order update that the 3PL may ship
        them. A hold stays while another declaration of the delivery still blocks it, and
        when a declaration is rejected or cancelled."""
        for picking in self.filtered(lambda p: p.logistics_customs_hold == "held"):
            if picking.sudo()._logistics_customs_blocking():
                continue
            picking.sudo().write({"logistics_customs_hold": "cleared"})
            backend = picking.logistics_backend_id.sudo()
            at_3pl = picking.logistics_state in RELEASED_STATES and picking.state not in (
                "done",
                "cancel",
            )
            values = {"why": why, "backend": backend.name, "picking": picking.name}
            if at_3pl and backend.accepts_updates:
                picking._logistics_send_update()
                body = self.env._(
                    "Customs hold lifted (%(why)s): %(backend)s is told by an order update "
                    "that it may ship %(picking)s.",
                    **values,
                )
            elif at_3pl:
                body = self.env._(
                    "Customs hold lifted (%(why)s), but %(backend)s accepts no order updates: "
                    "tell it that it may ship %(picking)s.",
                    **values,
                )
                picking.activity_schedule(
                    "mail.mail_activity_data_todo",
                    summary=self.env._("Tell the 3PL it may ship"),
                    note=body,
                    user_id=(picking.user_id or self.env.user).id,
                )
            else:
                body = self.env._(
                    "Customs hold lifted (%(why)s): the next release of %(picking)s to "
                    "%(backend)s carries no hold.",
                    **values,
                )
            picking.message_post(body=body)
