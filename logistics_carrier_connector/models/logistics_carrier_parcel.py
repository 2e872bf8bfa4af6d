from odoo import api, fields, models
from odoo.tools.misc import format_datetime, formatLang

from odoo.addons.logistics_integration_base.exceptions import TransportError

from .logistics_carrier_tracking_event import MILESTONES, RESOLVING, TERMINAL


class LogisticsCarrierParcel(models.Model):
    """One parcel booked with a carrier: its shipment at the carrier, tracking number,
    price and label. A delivery of several packages has one per package."""

    _name = "logistics.carrier.parcel"
    _description = "Parcel booked with a carrier"
    _inherit = ["mail.thread"]
    _order = "id desc"
    _rec_name = "tracking_number"

    picking_id = fields.Many2one(
        "stock.picking", string="Transfer", required=True, ondelete="cascade", index=True
    )
    package_id = fields.Many2one("stock.quant.package", ondelete="set null")
    package_name = fields.Char(string="Parcel", help="The package, or 'Bulk Content'")
    backend_id = fields.Many2one(
        "logistics.backend", string="Carrier backend", required=True, ondelete="restrict"
    )
    carrier_id = fields.Many2one("delivery.carrier", string="Delivery method")
    company_id = fields.Many2one(
        related="picking_id.company_id", store=True, index=True, string="Company"
    )
    shipment_ref = fields.Char(string="Carrier shipment", index=True, readonly=True)
    tracking_number = fields.Char(index=True, readonly=True, string="Tracking number")
    service = fields.Char(readonly=True, help="Carrier and service booked")
    price = fields.Float(string="Price amount", readonly=True, help="The figure alone, in Currency")
    currency = fields.Char(readonly=True)
    price_display = fields.Char(
        string="Price",
        compute="_compute_price_display",
        help="The postage the carrier charged, in its currency. A parcel a 3PL shipped and "
        "Odoo only follows has no price here (the 3PL bills it): it shows \u2014.",
    )
    label_format = fields.Selection(
        [("PDF", "PDF"), ("ZPL", "ZPL")], readonly=True, string="Label format"
    )
    label_attachment_id = fields.Many2one("ir.attachment", string="Label", readonly=True)
    document_ids = fields.Many2many(
        "ir.attachment",
        "logistics_carrier_parcel_document_rel",
        "parcel_id",
        "attachment_id",
        string="Customs documents",
        readonly=True,
        help="Documents the carrier issued for the parcel besides its label, e.g. the "
        "commercial invoice of an international parcel.",
    )
    is_return = fields.Boolean(
        string="Return label", readonly=True, help="A prepaid label for the customer's return"
    )
    state = fields.Selection(
        [
            ("booked", "Booked"),
            ("followed", "Followed (shipped by a 3PL)"),
            ("void_requested", "Void requested"),
            ("voided", "Voided"),
        ],
        string="Status",
        default="booked",
        required=True,
        readonly=True,
        index=True,
        tracking=True,
    )
    void_requested_at = fields.Datetime(
        string="Void requested on",
        readonly=True,
        copy=False,
        help="When Odoo asked the carrier to void the parcel and refund its postage. Most "
        "carriers decide within days: until then the parcel shows Void requested.",
    )
    void_requested_by = fields.Many2one(
        "res.users", string="Void requested by", readonly=True, copy=False
    )
    booking_message_id = fields.Many2one(
        "logistics.message", string="Booking call", readonly=True, ondelete="set null"
    )
    tracker_ref = fields.Char(string="Carrier tracker", readonly=True, index=True)
    event_ids = fields.One2many(
        "logistics.carrier.tracking.event", "parcel_id", string="Tracking timeline"
    )
    tracking_state = fields.Selection(
        MILESTONES,
        string="Tracking",
        compute="_compute_tracking",
        store=True,
        index=True,
        help="The latest milestone by event time; delivered, returned and cancelled are "
        "final: news that arrives later about an earlier moment never moves them back.",
    )
    last_event_at = fields.Datetime(string="Last news", compute="_compute_tracking", store=True)
    delivered_at = fields.Datetime(compute="_compute_tracking", store=True, string="Delivered on")
    pod_signed_by = fields.Char(
        string="Signed by",
        readonly=True,
        groups="logistics_integration_base.group_logistics_personal_data",
        help="Who signed for the parcel (personal data: the Logistics Integration / Personal "
        "data group reads it)",
    )
    pod_url = fields.Char(string="Proof of delivery", readonly=True)
    estimated_delivery = fields.Date(
        string="Estimated delivery",
        readonly=True,
        help="The day the carrier expects to deliver, from its latest news (shown to the "
        "customer in the portal until the parcel is delivered).",
    )
    tracking_stopped = fields.Boolean(
        string="No longer followed",
        readonly=True,
        help="Polling stopped: the parcel reached a final milestone, or the carrier said "
        "nothing for longer than the backend allows.",
    )

    @api.depends("event_ids.event_time", "event_ids.milestone")
    def _compute_tracking(self):
        for parcel in self:
            events = parcel.event_ids.sorted(lambda e: (e.event_time, e.id))
            final = events.filtered(lambda e: e.milestone in TERMINAL)
            latest = (final or events)[-1:]
            parcel.tracking_state = latest.milestone or False
            parcel.last_event_at = events[-1:].event_time or False
            parcel.delivered_at = (
                events.filtered(lambda e: e.milestone == "delivered")[:1].event_time or False
            )

    @api.depends("price", "currency", "state")
    def _compute_price_display(self):
        codes = set(self.filtered(lambda p: p.state != "followed").mapped("currency")) - {False}
        digits = {
            c.name: c.decimal_places
            for c in self.env["res.currency"]
            .with_context(active_test=False)
            .search([("name", "in", list(codes))])
        }
        for parcel in self:
            if parcel.state == "followed" or not parcel.currency:
                parcel.price_display = "\u2014"
                continue
            amount = formatLang(self.env, parcel.price, digits=digits.get(parcel.currency, 2))
            parcel.price_display = f"{amount} {parcel.currency}"

    # delivery exceptions the carrier's later news resolves ------------------------------------
    def _logistics_resolution_of(self, exception):
        """The first milestone after ``exception`` (an event of this parcel) that resolves
        it, or an empty recordset."""
        self.ensure_one()
        return self.event_ids.filtered(
            lambda e: e.milestone in RESOLVING and e.event_time > exception.event_time
        ).sorted(lambda e: (e.event_time, e.id))[:1]

    def _logistics_close_resolved_exceptions(self):
        """Mark done, with a note naming the milestone, the activities the tracking
        scheduled for a delivery exception that later news resolved (wherever they were
        scheduled). Activities people scheduled themselves are left alone."""
        activities = (
            self.env["mail.activity"]
            .sudo()
            .search([("logistics_tracking_event_id.parcel_id", "in", self.ids)])
        )
        for activity in activities:
            exception = activity.logistics_tracking_event_id
            resolution = exception.parcel_id._logistics_resolution_of(exception)
            if not resolution:
                continue
            milestones = dict(resolution._fields["milestone"]._description_selection(self.env))
            activity.action_feedback(
                feedback=self.env._(
                    "Closed by the carrier's later news: parcel %(number)s reached "
                    "\u201c%(milestone)s\u201d (%(where)s, %(when)s). Nothing is left to do "
                    "for this exception.",
                    number=exception.parcel_id.tracking_number,
                    milestone=milestones.get(resolution.milestone),
                    where=resolution.location or resolution.description or "-",
                    when=format_datetime(
                        self.env, resolution.event_time, tz=activity.user_id.tz or "UTC"
                    ),
                )
            )

    @api.model
    def _logistics_of_backend(self, backend, field, value, limit=None):
        """The parcels of ``backend`` whose ``field`` is ``value`` (as the system: for the
        handlers of the carrier's news, which run as the system)."""
        return self.sudo().search(
            [("backend_id", "=", backend.id), (field, "=", value)], limit=limit
        )

    @api.model
    def _logistics_follow(self, picking, tracking_number, carrier_code, reference=None):
        """Follow a parcel Odoo did not book (a 3PL shipped it): a tracker is registered
        with the carrier backend that follows this carrier, and the same timeline fills.
        Registering is retried by the polling cron when the carrier does not answer."""
        code = (carrier_code or "").strip().upper()
        if not tracking_number or not code:
            return self.browse()
        existing = self.sudo().search([("tracking_number", "=", tracking_number)], limit=1)
        if existing:
            return existing
        backend = (
            self.env["logistics.backend"]
            .sudo()
            .search(
                [("kind", "=", "carrier"), ("company_id", "in", (picking.company_id.id, False))]
            )
            .filtered(lambda b: code in b._carrier_followed_codes())[:1]
        )
        if not backend:
            return self.browse()
        parcel = self.sudo().create(
            {
                "picking_id": picking.id,
                "backend_id": backend.id,
                "package_name": reference or tracking_number,
                "tracking_number": tracking_number,
                "service": code,
                "state": "followed",
            }
        )
        parcel._logistics_register_tracker()
        return parcel

    def _logistics_register_tracker(self):
        for parcel in self.filtered(lambda p: p.state == "followed" and not p.tracker_ref):
            code = (parcel.service or "").split(" ")[0]
            try:
                result = parcel.backend_id._call(
                    "carrier.follow",
                    {"tracking_number": parcel.tracking_number, "carrier": code},
                    record=parcel.picking_id,
                )
            except TransportError:
                continue  # the polling cron tries again
            parcel.tracker_ref = result.data["tracker_id"]

    # voids the carrier settles later ----------------------------------------------------------
    def _logistics_void_settled(self, data):
        """The carrier refunded the postage: the parcels are voided."""
        for parcel in self:
            parcel.state = "voided"
            parcel.picking_id.message_post(
                body=self.env._(
                    "%(backend)s refunded the postage of parcel %(number)s: it is voided.",
                    backend=parcel.backend_id.name,
                    number=parcel.tracking_number,
                )
            )

    def _logistics_refunded_while_booked(self, data):
        """The carrier refunded parcels Odoo holds as booked (voided on the carrier's site,
        or the cancellation that asked for it was undone in Odoo after the carrier acted):
        their labels are void, so they are too, and the delivery's responsible is told to
        book it again before the goods leave."""
        for parcel in self:
            parcel.state = "voided"
            picking = parcel.picking_id
            if picking.carrier_tracking_ref == parcel.tracking_number:
                picking.sudo().carrier_tracking_ref = False
            note = self.env._(
                "%(backend)s refunded the postage of parcel %(number)s (%(status)s), which "
                "Odoo held as booked on %(picking)s: its label is no longer valid and the "
                "parcel is voided. Do not ship with it: book the delivery again (Send to "
                "shipper), or ask the carrier who voided it.",
                backend=parcel.backend_id.name,
                number=parcel.tracking_number,
                status=data.get("carrier_status") or data["status"],
                picking=picking.name,
            )
            picking.message_post(body=note)
            picking.activity_schedule(
                "mail.mail_activity_data_warning",
                summary=self.env._(
                    "%(backend)s voided parcel %(number)s",
                    backend=parcel.backend_id.name,
                    number=parcel.tracking_number,
                ),
                note=note,
                user_id=picking.user_id.id or self.env.ref("base.user_admin").id,
            )

    def _logistics_void_refused(self, data):
        """The carrier refused to refund: the parcels are booked again (their labels are
        valid and billed), and whoever asked for the void is told what to do."""
        for parcel in self:
            parcel.state = "booked"
            picking = parcel.picking_id
            if not picking.carrier_tracking_ref:
                picking.sudo().carrier_tracking_ref = parcel.tracking_number
            summary = self.env._(
                "%(backend)s refused to void parcel %(number)s",
                backend=parcel.backend_id.name,
                number=parcel.tracking_number,
            )
            note = self.env._(
                "%(backend)s rejected the refund of the postage of parcel %(number)s "
                "(%(status)s): its label is still valid and is billed, so the parcel is booked "
                "again on %(picking)s. Ship the goods with this label, or ask the carrier why "
                "and cancel the shipment again to request another refund.",
                backend=parcel.backend_id.name,
                number=parcel.tracking_number,
                status=data.get("carrier_status") or data["status"],
                picking=picking.name,
            )
            others = picking.logistics_parcel_ids.filtered(
                lambda p, parcel=parcel: p != parcel and p.state == "booked" and not p.is_return
            )
            if others and not parcel.is_return:
                note += " " + self.env._(
                    "%(picking)s was booked again meanwhile (%(numbers)s): ship with one of the "
                    "labels and cancel the other shipment.",
                    picking=picking.name,
                    numbers=", ".join(others.mapped("tracking_number")),
                )
            picking.message_post(body=note)
            picking.activity_schedule(
                "mail.mail_activity_data_warning",
                summary=summary,
                note=note,
                user_id=(
                    parcel.void_requested_by.id
                    or picking.user_id.id
                    or self.env.ref("base.user_admin").id
                ),
            )
