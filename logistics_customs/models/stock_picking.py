from odoo import api, fields, models
from odoo.exceptions import UserError


class StockPicking(models.Model):
    _inherit = "stock.picking"

    logistics_declaration_ids = fields.One2many(
        "logistics.customs.declaration", "picking_id", string="Customs declarations"
    )
    logistics_declaration_id = fields.Many2one(
        "logistics.customs.declaration",
        compute="_compute_logistics_declaration",
        store=True,
        string="Customs declaration",
    )
    logistics_customs_state = fields.Selection(
        related="logistics_declaration_id.state", string="Customs"
    )
    logistics_customs_held = fields.Boolean(
        compute="_compute_logistics_customs_held",
        string="Held by customs",
        help="Its customs declaration keeps this transfer from being validated: customs "
        "have not released it, nor a customs manager overridden it.",
    )
    logistics_customs_why = fields.Text(
        compute="_compute_logistics_customs_held",
        string="Why customs hold it",
    )
    logistics_customs_next = fields.Text(
        compute="_compute_logistics_customs_held",
        string="What happens next",
    )

    def _compute_logistics_customs_held(self):
        """The customs banner of a transfer its declaration holds: why, in words, and what
        happens next (read as the system: the declaration's broker and state only)."""
        for picking in self:
            blocking = picking.sudo()._logistics_customs_blocking()[:1]
            picking.logistics_customs_held = bool(blocking) and picking.state not in (
                "done",
                "cancel",
            )
            if picking.logistics_customs_held:
                why, next_step = picking._logistics_customs_hold_texts(blocking)
            else:
                why = next_step = False
            picking.logistics_customs_why = why
            picking.logistics_customs_next = next_step

    def _logistics_customs_hold_texts(self, declaration):
        """``(why, what happens next)`` on the banner of this transfer, which
        ``declaration`` holds; modules that move the transfer otherwise (a 3PL) say it in
        their words."""
        self.ensure_one()
        return declaration._logistics_hold_sentences()

    @api.depends("logistics_declaration_ids.state")
    def _compute_logistics_declaration(self):
        """The declaration in force, else the last one cancelled (it still holds the
        goods until the transfer is declared again)."""
        for picking in self:
            declarations = picking.logistics_declaration_ids.sorted("id", reverse=True)
            picking.logistics_declaration_id = (
                declarations.filtered(lambda d: d.state != "cancelled")[:1] or declarations[:1]
            )

    def action_confirm(self):
        res = super().action_confirm()
        self._logistics_customs_declare()
        return res

    def _logistics_customs_declare(self):
        """Declarations for the transfers that cross a customs border (once each)."""
        Declaration = self.env["logistics.customs.declaration"]
        for picking in self.filtered(
            lambda p: (
                p.picking_type_code in ("outgoing", "incoming")
                and p.state not in ("done", "cancel")
            )
        ):
            Declaration._logistics_for_picking(picking)

    def _create_backorder(self, backorder_moves=None):
        """The goods left for a backorder cross the border later: under a declaration of
        their own."""
        backorders = super()._create_backorder(backorder_moves=backorder_moves)
        backorders._logistics_customs_declare()
        return backorders

    def action_logistics_customs_declaration(self):
        """Button: open the transfer's customs declaration (creating it if due)."""
        self.ensure_one()
        self.check_access("read")
        declaration = self.logistics_declaration_id or self.env[
            "logistics.customs.declaration"
        ]._logistics_for_picking(self)
        if not declaration:
            raise UserError(
                self.env._("%s crosses no customs border: it needs no declaration.", self.name)
            )
        return {
            "type": "ir.actions.act_window",
            "res_model": declaration._name,
            "res_id": declaration.id,
            "view_mode": "form",
        }

    def _logistics_customs_blocking(self):
        """The declarations that keep these transfers from moving: those in force that
        customs have not released (nor a customs manager overridden); with none in force,
        the last one cancelled, until the transfer is declared again and released or a
        customs manager overrides it."""
        blocking = self.env["logistics.customs.declaration"]
        for picking in self:
            declarations = picking.logistics_declaration_ids.sorted("id", reverse=True)
            in_force = declarations.filtered(lambda d: d.state != "cancelled")
            blocking |= (in_force or declarations[:1]).filtered(
                lambda d: not d._logistics_allows_moving()
            )
        return blocking

    def button_validate(self):
        """Goods under a customs declaration move once customs released them (or a customs
        manager overrode, with a reason): validating a delivery (and so handing it to its
        carrier) or a receipt waits for that."""
        blocking = self.sudo()._logistics_customs_blocking()
        if blocking:
            raise UserError(
                "\n".join(
                    self.env._(
                        "%(picking)s cannot be validated: its customs declaration %(name)s "
                        "%(state)s. %(next)s",
                        picking=declaration.picking_id.name,
                        name=declaration.name,
                        state=declaration._logistics_state_words(),
                        next=declaration._logistics_hold_sentences()[1],
                    )
                    for declaration in blocking
                )
            )
        return super().button_validate()
