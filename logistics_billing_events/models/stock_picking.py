import math

from odoo import api, fields, models


class StockPicking(models.Model):
    _inherit = "stock.picking"

    logistics_billing_event_ids = fields.One2many(
        "logistics.billing.event", "picking_id", string="Billing events"
    )
    logistics_billing_event_count = fields.Integer(
        compute="_compute_logistics_billing_event_count", string="Billing event count"
    )

    def _compute_logistics_billing_event_count(self):
        counts = dict(
            self.env["logistics.billing.event"]._read_group(
                [("picking_id", "in", self.ids)], ["picking_id"], ["__count"]
            )
        )
        for picking in self:
            picking.logistics_billing_event_count = counts.get(picking, 0)

    def action_view_logistics_billing_events(self):
        self.ensure_one()
        action = self.env["ir.actions.act_window"]._for_xml_id(
            "logistics_billing_events.action_logistics_billing_event"
        )
        action["domain"] = [("picking_id", "=", self.id)]
        action["context"] = {}
        return action

    # measures ---------------------------------------------------------------------------------
    def _logistics_billing_measures(self, moves=None):
        """units, lines, kg and pallets (per the products' units per pallet) of what this
        transfer moved (done quantities)."""
        self.ensure_one()
        moves = (moves if moves is not None else self.move_ids).filtered(
            lambda m: m.state == "done" and m.quantity
        )
        # each move's quantity in its product's unit, converted once
        quantities = [
            (m.product_id, m.product_uom._compute_quantity(m.quantity, m.product_id.uom_id))
            for m in moves
        ]
        units = sum(qty for _product, qty in quantities)
        kg = self.shipping_weight or sum(product.weight * qty for product, qty in quantities)
        pallets = sum(
            math.ceil(qty / product.logistics_units_per_pallet)
            for product, qty in quantities
            if product.logistics_units_per_pallet
        )
        return {"units": units, "lines": len(moves), "kg": kg, "pallets": pallets}

    def _logistics_billing_freight(self, parcels):
        """The freight booked for ``parcels`` in the company's currency (Odoo's rates at
        the booking date), or None when a parcel has no booked price: a percentage of it
        cannot be billed then."""
        self.ensure_one()
        company = self.company_id
        Event = self.env["logistics.billing.event"]
        total = 0.0
        for parcel in parcels:
            if not parcel.price:
                return None
            currency = Event._logistics_currency(parcel.currency, company)
            total += currency._convert(
                parcel.price,
                company.currency_id,
                company,
                (parcel.create_date or fields.Datetime.now()).date(),
                round=False,
            )
        return company.currency_id.round(total)

    def _logistics_billing_open_exception(self):
        """Why the shipment needs a look before it is billed: a message about it in the
        exception queue. None when there is none."""
        return self._logistics_billing_hold()["waits_because"]

    def _logistics_billing_hold(self):
        """``{"waits_because": reason, "held_by": message}`` for a milestone of the shipment:
        an exception about it holds its billing (None, and no message, when none does)."""
        self.ensure_one()
        failed = (
            self.env["logistics.message"]
            .sudo()
            .search(
                [
                    ("res_model", "=", "stock.picking"),
                    ("res_id", "=", self.id),
                    ("state", "in", ("failed", "dead")),
                ],
                limit=1,
            )
        )
        reason = None
        if failed:
            reason = self.env._(
                "the shipment has an open exception (%(message)s: %(subject)s)",
                message=failed.name,
                subject=failed.subject or failed.message_type,
            )
        return {"waits_because": reason, "held_by": failed or None}

    def _logistics_on_message_superseded(self, message, by):
        """The exception that held this shipment's billing events was superseded: they stop
        waiting for it (another exception still open holds them in its place)."""
        res = super()._logistics_on_message_superseded(message, by)
        self._logistics_billing_release(message, by)
        return res

    def _logistics_billing_release(self, message, by):
        """This shipment's billing events waiting for ``message``, an exception superseded
        by ``by``, stop waiting for it: billable, or waiting for what else their rule asks,
        or held by another exception of the shipment still open. Returns them."""
        self.ensure_one()
        held = (
            self.env["logistics.billing.event"]
            .sudo()
            .search([("held_by_message_id", "=", message.id), ("state", "=", "to_approve")])
        )
        if held:
            hold = self._logistics_billing_hold()
            still = (hold["waits_because"], hold["held_by"]) if hold["held_by"] else None
            held._logistics_release_hold(message, by, open_exception=still)
        return held

    # milestones -----------------------------------------------------------------------------
    def _logistics_billing_delivered(self, message=None):
        """Every parcel of the delivery delivered: the delivery milestone (once)."""
        self.ensure_one()
        parcels = self.logistics_parcel_ids.filtered(lambda p: p.state in ("booked", "followed"))
        if (
            self.picking_type_code != "outgoing"
            or not parcels
            or any(p.tracking_state != "delivered" for p in parcels)
        ):
            return self.env["logistics.billing.event"]
        measures = self._logistics_billing_measures()
        measures["freight"] = self._logistics_billing_freight(parcels)
        measures["pod"] = all(p.sudo().pod_signed_by or p.pod_url for p in parcels)
        return self.env["logistics.billing.event"]._logistics_record_milestone(
            "delivered",
            f"delivered:stock.picking:{self.id}",
            self.company_id,
            self.partner_id,
            measures,
            max(parcels.mapped("delivered_at")),
            source=self,
            picking=self,
            backend=parcels[:1].backend_id,
            message=message,
            description=self.env._(
                "delivery %(name)s (%(tracking)s)",
                name=self.name,
                tracking=", ".join(parcels.mapped("tracking_number")),
            ),
            **self._logistics_billing_hold(),
        )

    def _logistics_billing_shipped(self, shipment, message=None):
        """A 3PL shipped (part of) this delivery: the shipment milestone (once per
        shipment)."""
        self.ensure_one()
        moves = self.move_ids
        if shipment.backorder_id:
            moves = moves.filtered(lambda m: m.state == "done")
        return self.env["logistics.billing.event"]._logistics_record_milestone(
            "shipped",
            f"shipped:logistics.shipment:{shipment.id}",
            self.company_id,
            self.partner_id,
            self._logistics_billing_measures(moves),
            shipment.shipped_at or shipment.create_date,
            source=shipment,
            picking=self,
            backend=shipment.backend_id,
            message=message,
            description=self.env._(
                "shipment %(ref)s of %(name)s", ref=shipment.shipment_ref, name=self.name
            ),
            **self._logistics_billing_hold(),
        )

    def _logistics_billing_received(self, message=None):
        """A 3PL received goods for this receipt: the receiving milestone (once per
        transfer; a backorder is a transfer of its own)."""
        self.ensure_one()
        if self.state != "done" or self.picking_type_code != "incoming":
            return self.env["logistics.billing.event"]
        owner = self.owner_id or self.partner_id
        return self.env["logistics.billing.event"]._logistics_record_milestone(
            "received",
            f"received:stock.picking:{self.id}",
            self.company_id,
            owner,
            self._logistics_billing_measures(),
            self.date_done,
            source=self,
            picking=self,
            backend=self.logistics_backend_id,
            message=message,
            description=self.env._("receipt %s", self.name),
            **self._logistics_billing_hold(),
        )

    @api.model
    def _logistics_billing_find_shipment(self, reference, tracking_number=None, company=None):
        """The delivery a partner's reference or tracking number names (transfer name,
        3PL order reference, carrier or 3PL tracking number); only among ``company``'s
        transfers when given (transfer names repeat from one company to the next)."""
        Picking = self.sudo().with_context(active_test=False)
        scope = [("company_id", "=", company.id)] if company else []
        if reference:
            found = Picking.search(
                scope + ["|", ("name", "=", reference), ("logistics_order_ref", "=", reference)],
                order="id",
                limit=1,
            )
            if found:
                return found
        number = tracking_number or reference
        if number:
            parcel = (
                self.env["logistics.carrier.parcel"]
                .sudo()
                .search(
                    [("tracking_number", "=", number)]
                    + ([("picking_id.company_id", "=", company.id)] if company else []),
                    limit=1,
                )
            )
            if parcel:
                return parcel.picking_id
            return Picking.search(
                scope
                + [
                    "|",
                    ("carrier_tracking_ref", "=", number),
                    ("logistics_tracking_ref", "=", number),
                ],
                limit=1,
            )
        return Picking.browse()
