import logging

from odoo import api, fields, models
from odoo.exceptions import UserError

from odoo.addons.logistics_integration_base.tools import operations
from odoo.addons.logistics_integration_base.tools.feedback import notification

_logger = logging.getLogger(__name__)

RELEASED_STATES = ("released", "accepted")
# Fields of a released delivery whose change is an order update for the 3PL.
UPDATE_FIELDS = {"partner_id", "scheduled_date", "date_deadline", "note"}

# A delivery's order at the 3PL is one operation, whatever its latest message (release,
# update, cancellation); a receipt's notice another: a success supersedes earlier failures.
operations.register_operation("3pl.order", "order.release", "order.update", "order.cancel")
operations.register_operation("3pl.receipt", "asn.release")


class StockPicking(models.Model):
    _inherit = "stock.picking"

    logistics_return_ref = fields.Char(string="3PL return reference", copy=False, index=True)
    logistics_backend_id = fields.Many2one(
        "logistics.backend",
        string="3PL",
        compute="_compute_logistics_backend",
        store=True,
        index=True,
    )
    logistics_state = fields.Selection(
        [
            ("none", "Not released"),
            ("queued", "Release queued"),
            ("released", "Released"),
            ("accepted", "Accepted by 3PL"),
            ("rejected", "Rejected by 3PL"),
            ("failed", "Release failed"),
            ("shipped", "Shipped"),
            ("received", "Received"),
            ("cancel_requested", "Cancellation sent"),
        ],
        string="3PL status",
        default="none",
        copy=False,
        tracking=True,
        index=True,
    )
    logistics_reject_reason = fields.Char(string="3PL rejection", copy=False)
    logistics_shipped_by_3pl = fields.Boolean(
        compute="_compute_logistics_shipped_by_3pl",
        string="Executed by the 3PL",
        help="A delivery or receipt of a warehouse a 3PL runs: the 3PL's confirmation "
        "validates it; validating it by hand is the exception.",
    )
    logistics_status = fields.Char(
        string="3PL exchange",
        compute="_compute_logistics_status",
        help="The delivery's exchange with its 3PL, as a sentence; empty when no 3PL runs "
        "its warehouse.",
    )
    logistics_external_id = fields.Char(string="3PL order id", copy=False, index=True)
    logistics_order_ref = fields.Char(
        string="3PL order reference",
        copy=False,
        index=True,
        help="The reference the 3PL knows this order by: the name of the first released "
        "transfer; its backorders keep it.",
    )
    logistics_revision = fields.Integer(
        copy=False, help="Updates sent for this order", string="Updates sent to the 3PL"
    )
    logistics_release_message_id = fields.Many2one(
        "logistics.message", copy=False, readonly=True, string="Release message"
    )
    logistics_carrier_code = fields.Char(string="Carrier (3PL)", copy=False)
    logistics_tracking_ref = fields.Char(string="Tracking reference", copy=False, index=True)
    logistics_shipment_status = fields.Char(string="Shipment status", copy=False)
    logistics_shipment_ids = fields.One2many(
        "logistics.shipment", "picking_id", string="3PL shipments"
    )
    logistics_message_ids = fields.One2many(
        "logistics.message",
        "res_id",
        domain=[("res_model", "=", "stock.picking")],
        string="3PL messages",
    )
    logistics_message_count = fields.Integer(
        compute="_compute_logistics_message_count", string="Number of 3PL messages"
    )

    @api.depends(
        "picking_type_id.logistics_backend_id", "picking_type_id.warehouse_id.logistics_backend_id"
    )
    def _compute_logistics_backend(self):
        Backend = self.env["logistics.backend"]
        for picking in self:
            picking.logistics_backend_id = Backend._for_picking_type(picking.picking_type_id)

    @api.depends("logistics_backend_id", "picking_type_code")
    def _compute_logistics_shipped_by_3pl(self):
        for picking in self:
            picking.logistics_shipped_by_3pl = bool(picking.logistics_backend_id) and (
                picking.picking_type_code in ("outgoing", "incoming")
            )

    def _compute_logistics_message_count(self):
        for picking in self:
            picking.logistics_message_count = len(picking.logistics_message_ids)

    # release --------------------------------------------------------------------------------
    # Confirming a delivery only marks it "Release queued" and makes sure one release job
    # waits for its 3PL: the canonical order, its message and the message's send job are
    # built by that job, after the confirming transaction committed. Confirming (by a user,
    # a sale order or a batch of a thousand) therefore costs a state write, and a release
    # never holds up the confirmation nor rolls it back.
    RELEASE_BATCH = 200

    def _logistics_releasable(self, from_states=("none",)):
        """Pickings due for release now: 3PL-managed, in ``from_states`` of 3PL status, the
        transfer in the backend's trigger state."""
        ready = self.browse()
        for picking in self:
            backend = picking.logistics_backend_id
            if not backend or not backend.active or picking.logistics_state not in from_states:
                continue
            code = picking.picking_type_code
            if code == "outgoing":
                states = (
                    ("assigned",)
                    if backend.release_trigger == "assigned"
                    else ("confirmed", "waiting", "assigned")
                )
            elif code == "incoming" and backend.send_asn:
                states = ("assigned",)
            else:
                continue
            if picking.state in states:
                ready |= picking
        return ready

    def _logistics_release_ready(self):
        if self.env.context.get("logistics_inbound"):
            return  # quantities applied from a 3PL message never trigger a release
        ready = self._logistics_releasable()
        if ready:
            ready.sudo().write({"logistics_state": "queued", "logistics_reject_reason": False})
            ready.logistics_backend_id._logistics_queue_release_job()

    @api.model
    def _logistics_job_release(self, backend):
        """Queue job: release the deliveries queued for ``backend``, a batch at a time (a
        next job takes the rest). One whose transfer was cancelled, validated or taken out of
        the trigger state meanwhile goes back to "Not released"."""
        queued = self.sudo().search(
            [("logistics_backend_id", "=", backend.id), ("logistics_state", "=", "queued")],
            order="id",
            limit=self.RELEASE_BATCH,
        )
        ready = queued._logistics_releasable(from_states=("queued",))
        (queued - ready).write({"logistics_state": "none"})
        for picking in ready:
            picking._logistics_release()
        if len(queued) == self.RELEASE_BATCH:
            backend._logistics_queue_release_job()
        return self.env._(
            "%(count)s released to %(backend)s; %(skipped)s no longer due",
            count=len(ready),
            backend=backend.name,
            skipped=len(queued - ready),
        )

    def _logistics_send(self, backend, message_type, payload, *key_parts, **kwargs):
        """Queue a message about this picking, once: its idempotency key is
        ``<database part>:<picking id>-<message type>[-<key parts>]`` (see
        ``logistics.message._scoped_key``), so no other database sends the same key to the
        partner. A message already queued under that key, or under the key messages had
        before keys were scoped to the database (the same without the database part), is
        returned instead: upgrading a live database never sends one again."""
        self.ensure_one()
        parts = (self.id, message_type, *key_parts)
        scoped_key = self.env["logistics.message"]._scoped_key(*parts)
        unscoped_key = "-".join(str(part) for part in parts)
        return backend._send_message(
            message_type,
            payload,
            record=self,
            idempotency_key=scoped_key,
            former_keys=(unscoped_key,),
            **kwargs,
        )

    def _logistics_release(self):
        """Queue the release message (once per picking and revision: see _logistics_send)."""
        self.ensure_one()
        backend = self.logistics_backend_id.sudo()
        if self.picking_type_code == "incoming":
            message_type, payload = "asn.release", self._logistics_asn_payload(backend)
        else:
            message_type, payload = "order.release", self._logistics_release_payload(backend)
        order_ref = self.logistics_order_ref or self.name
        message = self._logistics_send(
            backend,
            message_type,
            payload,
            self.logistics_revision,
            subject=(
                self.env._("Release of %(ref)s to %(backend)s", ref=order_ref, backend=backend.name)
                if message_type == "order.release"
                else self.env._(
                    "Advance shipping notice of %(ref)s to %(backend)s",
                    ref=order_ref,
                    backend=backend.name,
                )
            ),
            ack_expected=message_type == "order.release",
        )
        self.sudo().write(
            {
                "logistics_state": "released",
                "logistics_order_ref": order_ref,
                "logistics_release_message_id": message.id,
                "logistics_reject_reason": False,
            }
        )
        return message

    def action_logistics_release(self):
        """Button: (re)release to the 3PL, e.g. after a rejection was fixed."""
        self.check_access("write")  # as the caller, before the release works as the system
        for picking in self:
            if not picking.logistics_backend_id:
                raise UserError(self.env._("%s is not handled by a 3PL.", picking.name))
            if picking.logistics_state not in ("none", "queued", "rejected", "failed"):
                raise UserError(
                    self.env._(
                        "%(name)s is already %(state)s.",
                        name=picking.name,
                        state=dict(self._fields["logistics_state"].selection)[
                            picking.logistics_state
                        ],
                    )
                )
            if picking.logistics_state in ("rejected", "failed"):
                picking.sudo().logistics_revision += 1
            picking._logistics_release()
        return self._logistics_released_notification()

    def _logistics_released_notification(self):
        """What Release to 3PL says it did."""
        if len(self) == 1:
            message = self.env._(
                "%(name)s is queued to %(backend)s; this page shows when the 3PL has received it.",
                name=self.name,
                backend=self.logistics_backend_id.name,
            )
        else:
            message = self.env._("%s transfers are queued to their 3PL.", len(self))
        return notification(self.env._("Released to the 3PL"), message)

    def _logistics_address(self, partner):
        return (partner or self.company_id.partner_id)._logistics_address()

    def _logistics_lines(self, backend):
        lines = []
        for move in self.move_ids.filtered(lambda m: m.state != "cancel" and m.product_uom_qty):
            product = move.product_id
            units = move.product_uom._compute_quantity(
                move.product_uom_qty, product.uom_id, round=False
            )
            qty, uom_code, factor = backend._partner_order_quantity(product, units)
            line = {
                "line_ref": str(move.id),
                "sku": backend._partner_sku(product),
                "name": product.display_name,
                "quantity": round(qty, 6),
                "uom": uom_code,
                "lot_tracking": product.tracking
                if product.tracking in ("lot", "serial")
                else "none",
            }
            lots = [  # in the line's unit, as its quantity
                {
                    "lot": ml.lot_id.name,
                    "quantity": round(
                        ml.product_uom_id._compute_quantity(
                            ml.quantity, product.uom_id, round=False
                        )
                        * factor,
                        6,
                    ),
                }
                for ml in move.move_line_ids
                if ml.lot_id and ml.quantity
            ]
            if lots:
                line["lots"] = lots
            lines.append(line)
        return lines

    def _logistics_order_payload(self, backend):
        self.ensure_one()
        carrier = None
        if "carrier_id" in self._fields and self.carrier_id:
            carrier = {"code": self.carrier_id.name, "service": None}
        return {
            "order_ref": self.logistics_order_ref or self.name,
            "origin": self.origin or None,
            "warehouse_code": self.picking_type_id.warehouse_id.code,
            "requested_date": fields.Date.to_string(self.scheduled_date)
            if self.scheduled_date
            else None,
            "carrier": carrier,
            "ship_to": self._logistics_address(self.partner_id),
            "lines": self._logistics_lines(backend),
            "notes": self.note and str(self.note) or None,
        }

    def _logistics_release_payload(self, backend):
        """The ``order.release`` payload, in its latest version (converted to the version
        the backend speaks when the message is stored): the order, and how urgently the
        3PL should pick it (the delivery's priority star)."""
        self.ensure_one()
        payload = self._logistics_order_payload(backend)
        payload["priority"] = "urgent" if self.priority == "1" else "normal"
        return payload

    def _logistics_asn_payload(self, backend):
        self.ensure_one()
        return {
            "receipt_ref": self.logistics_order_ref or self.name,
            "origin": self.origin or None,
            "warehouse_code": self.picking_type_id.warehouse_id.code,
            "expected_date": fields.Date.to_string(self.scheduled_date)
            if self.scheduled_date
            else None,
            "supplier": {"name": self.partner_id.name, "ref": self.partner_id.ref or None}
            if self.partner_id
            else None,
            "lines": self._logistics_lines(backend),
        }

    def _logistics_on_sent(self, message, result):
        """The 3PL took the message. Some APIs accept the order in their answer."""
        if message.message_type in ("order.release", "order.update") and result.external_id:
            self.sudo().logistics_external_id = result.external_id
        if message == self.logistics_release_message_id and self.logistics_state == "failed":
            # a release that went dead was retried and went through
            self.sudo().write({"logistics_state": "released", "logistics_reject_reason": False})
        if (
            message.message_type == "order.release"
            and result.acknowledged
            and self.logistics_state == "released"
        ):
            self.sudo().logistics_state = "accepted"

    # cancel and update -----------------------------------------------------------------------
    def action_cancel(self):
        self.check_access("write")
        released = self.filtered(lambda p: p.logistics_state in RELEASED_STATES)
        result = super().action_cancel()
        for picking in released:
            backend = picking.logistics_backend_id.sudo()
            picking._logistics_send(
                backend,
                "order.cancel",
                {
                    "order_ref": picking.logistics_order_ref or picking.name,
                    "reason": self.env.context.get("logistics_cancel_reason") or None,
                },
                subject=self.env._(
                    "Cancellation of %(ref)s at %(backend)s",
                    ref=picking.logistics_order_ref or picking.name,
                    backend=picking.logistics_backend_id.name,
                ),
            )
            picking.sudo().logistics_state = "cancel_requested"
        return result

    def write(self, vals):
        result = super().write(vals)
        if UPDATE_FIELDS & vals.keys() and not self.env.context.get("logistics_inbound"):
            self._logistics_send_update()
        return result

    def _logistics_send_update(self):
        for picking in self.filtered(
            lambda p: (
                p.logistics_state in RELEASED_STATES
                and p.picking_type_code == "outgoing"
                and p.state not in ("done", "cancel")
            )
        ):
            backend = picking.logistics_backend_id.sudo()
            if not backend.accepts_updates:
                raise UserError(
                    self.env._(
                        "%(name)s was released to 3PL %(backend)s, which does not accept changes "
                        "to released orders. Cancel it (the 3PL is told) and create a new "
                        "delivery instead.",
                        name=picking.name,
                        backend=backend.name,
                    )
                )
            picking.sudo().logistics_revision += 1
            picking._logistics_send(
                backend,
                "order.update",
                picking._logistics_order_payload(backend),
                picking.logistics_revision,
                subject=self.env._(
                    "Update of %(ref)s for %(backend)s",
                    ref=picking.logistics_order_ref or picking.name,
                    backend=backend.name,
                ),
            )

    def action_view_logistics_messages(self):
        action = self.env["ir.actions.act_window"]._for_xml_id(
            "logistics_integration_base.action_logistics_message"
        )
        action["domain"] = [("res_model", "=", "stock.picking"), ("res_id", "in", self.ids)]
        action["context"] = {}
        return action

    @api.model
    def _cron_logistics_release_ready(self, limit=500):
        """Safety net: queue the release of deliveries that became due without a move event
        (e.g. a backend set on their warehouse afterwards), and make sure a release job
        waits for every backend with queued deliveries (one lost with its worker)."""
        pickings = self.search(
            [
                ("logistics_backend_id", "!=", False),
                ("logistics_state", "=", "none"),
                ("state", "in", ("confirmed", "waiting", "assigned")),
                ("picking_type_code", "in", ("outgoing", "incoming")),
            ],
            limit=limit,
        )
        ready = pickings._logistics_releasable()
        ready._logistics_release_ready()
        queued = self._read_group(
            [("logistics_state", "=", "queued")], groupby=["logistics_backend_id"]
        )
        backends = self.env["logistics.backend"].union(*(backend for (backend,) in queued))
        backends.filtered("active")._logistics_queue_release_job()
        return len(ready)

    # what the integration layer reads of a delivery ------------------------------------------
    def _logistics_exchange_label(self):
        self.ensure_one()
        kind = {
            "outgoing": self.env._("delivery"),
            "incoming": self.env._("receipt"),
        }.get(self.picking_type_code, self.env._("transfer"))
        return f"{kind} {self.name}"

    def _logistics_refusal_hint(self, message, paths):
        self.ensure_one()
        is_update = message.message_type == "order.update"
        if (message != self.logistics_release_message_id and not is_update) or not paths:
            # not its release or update, or no field of the delivery named: the generic
            # advice fits
            return super()._logistics_refusal_hint(message, paths)
        if any(path.startswith(("ship_to", "ship_from")) for path in paths):
            what = self.env._("the contact and address of %s", self.name)
        elif any(path.startswith("lines") for path in paths):
            what = self.env._("the products of %s", self.name)
        else:
            what = self.name
        if is_update:
            return self.env._(
                "Correct %(what)s, then press Retry: the update is rebuilt from the delivery "
                "as it is now and sent again.",
                what=what,
            )
        return self.env._(
            "Correct %(what)s, then press Retry: the release is rebuilt from the delivery as "
            "it is now and sent again.",
            what=what,
        )

    def _logistics_rebuild_payload(self, message):
        """A release (or receipt notice) is rebuilt from the transfer as it is now, by the
        same builder as when it was first sent; refused when the transfer moved on. An
        order update is rebuilt the same way (see ``_logistics_rebuild_update``)."""
        self.ensure_one()
        if message.message_type == "order.update":
            return self._logistics_rebuild_update(message)
        if message.message_type not in ("order.release", "asn.release"):
            return super()._logistics_rebuild_payload(message)
        if self.state in ("done", "cancel"):
            raise UserError(
                self.env._(
                    "%(name)s is %(state)s: its release to %(backend)s is not sent again.",
                    name=self.name,
                    state=self.env._("done") if self.state == "done" else self.env._("cancelled"),
                    backend=message.backend_id.name,
                )
            )
        current = self.logistics_release_message_id
        if current and current != message:
            raise UserError(
                self.env._(
                    "%(name)s was released to %(backend)s again since, by %(later)s: retry "
                    "that one if it failed; this one needs nothing more.",
                    name=self.name,
                    backend=message.backend_id.name,
                    later=current.name,
                )
            )
        backend = message.backend_id.sudo()
        if message.message_type == "asn.release":
            return self._logistics_asn_payload(backend)
        return self._logistics_release_payload(backend)

    def _logistics_rebuild_update(self, message):
        """An order update states the whole order as it is now: rebuilt by the builder of
        the release. Refused, in words, for a delivery shipped, cancelled (or whose
        cancellation was sent) meanwhile, and for one the 3PL was sent a later message
        about since (the later one carries the delivery as it is now)."""
        backend = message.backend_id.sudo()
        moved_on = None
        if self.state == "done" or self.logistics_state == "shipped":
            moved_on = self.env._("%(name)s was shipped since", name=self.name)
        elif self.state == "cancel" or self.logistics_state == "cancel_requested":
            moved_on = self.env._(
                "%(name)s was cancelled since (%(backend)s is told by its cancellation)",
                name=self.name,
                backend=backend.name,
            )
        if moved_on:
            raise UserError(
                self.env._(
                    "%(why)s: its update for %(backend)s is not sent again.",
                    why=moved_on,
                    backend=backend.name,
                )
            )
        later = self._logistics_later_order_message(message)
        if later:
            raise UserError(
                self.env._(
                    "%(name)s was sent to %(backend)s again since, by %(later)s, with the "
                    "delivery as it was then: retry that one if it failed; this update needs "
                    "nothing more.",
                    name=self.name,
                    backend=backend.name,
                    later=later.name,
                )
            )
        return self._logistics_order_payload(backend)

    def _logistics_later_order_message(self, message):
        """The latest message of this delivery's order sent after ``message`` (release,
        update or cancellation; those an operator ignored or a revision replaced aside)."""
        self.ensure_one()
        return (
            self.env["logistics.message"]
            .sudo()
            .search(
                [
                    ("res_model", "=", self._name),
                    ("res_id", "=", self.id),
                    ("direction", "=", "out"),
                    ("is_call", "=", False),
                    ("message_type", "in", operations.same_operation(message.message_type)),
                    ("state", "!=", "ignored"),
                    ("id", ">", message.id),
                ],
                order="id desc",
                limit=1,
            )
        )

    def _logistics_on_message_revised(self, message, revision):
        """A release rebuilt or edited goes as a new revision: the delivery follows it."""
        res = super()._logistics_on_message_revised(message, revision)
        if message == self.logistics_release_message_id:
            self.sudo().with_context(logistics_inbound=True).write(
                {
                    "logistics_release_message_id": revision.id,
                    "logistics_state": "released",
                    "logistics_reject_reason": False,
                }
            )
        return res

    def button_validate(self):
        """A transfer the 3PL executes is confirmed by the 3PL (its shipment or receipt
        confirmation validates it): validating it by hand asks for a reason first. During a
        parallel run the legacy interface confirms it, as it did before: no question."""
        by_3pl = self.filtered(
            lambda p: (
                p.logistics_backend_id
                and p.logistics_backend_id.operating_mode != "shadow"
                and p.picking_type_code in ("outgoing", "incoming")
                and p.logistics_state not in ("none", "shipped", "received")
            )
        )
        if (
            by_3pl
            and not self.env.context.get("logistics_inbound")
            and not self.env.context.get("logistics_manual_validation")
        ):
            names = ", ".join(sorted(set(by_3pl.logistics_backend_id.mapped("name"))))
            return {
                "type": "ir.actions.act_window",
                "name": self.env._("Validate without the 3PL's confirmation"),
                "res_model": "logistics.manual.validation",
                "view_mode": "form",
                "target": "new",
                "context": {
                    "default_picking_ids": [fields.Command.set(self.ids)],
                    "default_backend_names": names,
                },
            }
        return super().button_validate()

    def _logistics_on_message_ignored(self, message):
        """An ignored release leaves the delivery not released, saying why."""
        self.ensure_one()
        res = super()._logistics_on_message_ignored(message)
        if message == self.logistics_release_message_id and self.logistics_state in (
            "released",
            "failed",
        ):
            self.with_context(logistics_inbound=True).write(
                {
                    "logistics_state": "none",
                    "logistics_reject_reason": self.env._(
                        "ignored: %s", message.ignore_reason or ""
                    ),
                }
            )
        return res

    @api.depends(
        "logistics_state",
        "logistics_reject_reason",
        "logistics_backend_id",
        "logistics_backend_id.operating_mode",
    )
    def _compute_logistics_status(self):
        labels = dict(self._fields["logistics_state"]._description_selection(self.env))
        for picking in self:
            if not picking.logistics_backend_id:
                picking.logistics_status = False
            elif picking.logistics_state == "none" and picking.logistics_reject_reason:
                picking.logistics_status = self.env._(
                    "Not released (%s)", picking.logistics_reject_reason
                )
            elif (
                picking.logistics_backend_id.operating_mode == "shadow"
                and picking.logistics_state != "none"
            ):
                picking.logistics_status = self.env._(
                    "%s in the parallel run: recorded, not sent (the legacy interface sends it)",
                    labels.get(picking.logistics_state),
                )
            else:
                picking.logistics_status = labels.get(picking.logistics_state)

    def _logistics_moved_on(self, message):
        """A release or update of a transfer done or cancelled meanwhile is not sent again
        (its cancellation is: the 3PL must hear of it)."""
        if message.message_type in ("order.release", "order.update", "asn.release") and (
            self.state in ("done", "cancel")
        ):
            state = dict(self._fields["state"]._description_selection(self.env))[self.state]
            return self.env._(
                "%(name)s is already %(state)s; nothing is sent to %(backend)s again",
                name=self.name,
                state=state.lower(),
                backend=message.backend_id.name,
            )
        return super()._logistics_moved_on(message)

    def _logistics_on_message_failed(self, message):
        """A release the 3PL refused, or that went dead: the delivery says so and can be
        released again."""
        self.ensure_one()
        res = super()._logistics_on_message_failed(message)
        if message == self.logistics_release_message_id and self.logistics_state == "released":
            self.with_context(logistics_inbound=True).write(
                {
                    "logistics_state": "failed",
                    "logistics_reject_reason": (message.error_message or "").split("\n\n")[0],
                }
            )
        return res
