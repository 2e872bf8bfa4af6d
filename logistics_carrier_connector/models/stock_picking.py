import base64

import psycopg2

from odoo import api, fields, models
from odoo.exceptions import UserError
from odoo.tools.pdf import merge_pdf

from odoo.addons.logistics_integration_base.tools import transactions
from odoo.addons.logistics_integration_base.tools.operations import register_operation

# A delivery's queued booking: a later booking that succeeds supersedes earlier failures
# (a void is about given parcels, an operation of its own each time: not registered).
register_operation("carrier.booking", "carrier.book")
# On an order's transaction timeline: a delivery's parcels.
transactions.register("logistics.carrier.parcel", up=("picking_id.sale_id", "picking_id"))
transactions.register("stock.picking", down=("logistics_parcel_ids",))


class StockPicking(models.Model):
    _inherit = "stock.picking"

    logistics_parcel_ids = fields.One2many(
        "logistics.carrier.parcel", "picking_id", string="Booked parcels"
    )
    logistics_has_labels = fields.Boolean(
        compute="_compute_logistics_has_labels",
        string="Has labels to print",
        help="A parcel of this delivery was booked with a carrier and its label kept; "
        "parcels a 3PL ships and the suite only follows have none.",
    )
    logistics_booking_state = fields.Selection(
        [
            ("queued", "Booking queued"),
            ("booked", "Booked"),
            ("failed", "Booking failed"),
        ],
        string="Carrier booking",
        readonly=True,
        copy=False,
        index="btree_not_null",
        help="For carrier backends that book in the queue: where the booking of this "
        "delivery stands.",
    )
    logistics_booking_message_id = fields.Many2one(
        "logistics.message", string="Booking message", readonly=True, copy=False
    )
    logistics_booking_error = fields.Text(
        compute="_compute_logistics_booking_error", string="Why the booking failed"
    )
    logistics_booking_round = fields.Integer(
        string="Carrier booking round",
        readonly=True,
        copy=False,
        help="Counts the bookings of this delivery recorded, cancelled or voided: the "
        "booking made next is another operation, under another key at the carrier.",
    )
    logistics_return_round = fields.Integer(
        string="Return label booking round",
        readonly=True,
        copy=False,
        help="As the carrier booking round, for the delivery's return labels.",
    )

    @api.depends("logistics_parcel_ids.state", "logistics_parcel_ids.label_attachment_id")
    def _compute_logistics_has_labels(self):
        for picking in self:
            picking.logistics_has_labels = any(
                parcel.state == "booked" and parcel.label_attachment_id and not parcel.is_return
                for parcel in picking.sudo().logistics_parcel_ids
            )

    def _compute_logistics_booking_error(self):
        for picking in self:
            message = picking.sudo().logistics_booking_message_id
            failed = picking.logistics_booking_state == "failed"
            picking.logistics_booking_error = (
                (message.error_message or "").split("\n\n")[0] if failed else False
            )

    def send_to_shipper(self):
        """A carrier backend that books in the queue: validation queues the booking and
        returns at once; the carrier's answer completes it later. Reachable over RPC: the
        caller must be allowed to change the delivery (checked before the carrier is
        asked, as the booking itself runs as the system), and a delivery booked already is
        not booked a second time."""
        self.ensure_one()
        carrier = self.carrier_id
        if carrier.delivery_type == "logistics" and not self.env.context.get("logistics_booked"):
            self.check_access("write")
            self._logistics_lock_for_booking()
            booked = self.sudo().logistics_parcel_ids.filtered(
                lambda p: p.state == "booked" and not p.is_return
            )
            if booked or self.logistics_booking_state in ("queued", "booked"):
                raise UserError(
                    self.env._(
                        "%(picking)s is booked with the carrier already (%(numbers)s): cancel "
                        "its shipment first to book it again.",
                        picking=self.name,
                        numbers=", ".join(booked.mapped("tracking_number"))
                        or self.env._("booking queued"),
                    )
                )
            backend, service = carrier._logistics_booking_target(self)
            if backend.carrier_booking_mode == "queued":
                carrier._logistics_queue_booking(self, backend, service)
                return None
        return super().send_to_shipper()

    def _logistics_lock_for_booking(self):
        """Hold the delivery for this transaction before asking the carrier: a second
        request booking it at the same moment is told so at once instead of buying postage
        a second time (the row stays locked until this transaction ends; a validation holds
        it already)."""
        self.ensure_one()
        try:
            with self.env.cr.savepoint(flush=False):
                self.env.cr.execute(
                    "SELECT id FROM stock_picking WHERE id = %s FOR UPDATE NOWAIT", [self.id]
                )
        except psycopg2.errors.LockNotAvailable:
            raise UserError(
                self.env._(
                    "%s is being booked with the carrier by another request at this very "
                    "moment: wait for it, then reload the delivery.",
                    self.name,
                )
            ) from None

    def _logistics_label_file(self, returns=False):
        """``(content, mimetype, filename)``: the labels of the parcels booked for this
        delivery (or its return labels), one file to print (PDF pages merged, ZPL labels
        one after another). Customs documents are not labels: they stay apart."""
        self.ensure_one()
        self.check_access("read")  # the labels are read as the system below
        parcels = self.sudo().logistics_parcel_ids.filtered(
            lambda p: p.state == "booked" and p.label_attachment_id and p.is_return == returns
        )
        if not parcels:
            raise UserError(
                self.env._("%s has no return label to print.", self.name)
                if returns
                else self.env._("%s has no label of a booked parcel to print.", self.name)
            )
        formats = set(parcels.mapped("label_format"))
        if len(formats) > 1:
            raise UserError(
                self.env._(
                    "The labels of %(picking)s are in several formats (%(formats)s): print "
                    "them one by one from the Parcels tab.",
                    picking=self.name,
                    formats=", ".join(sorted(formats)),
                )
            )
        labels = [base64.b64decode(p.label_attachment_id.datas) for p in parcels.sorted("id")]
        name = ("ReturnLabels-" if returns else "Labels-") + self.name.replace("/", "-")
        if formats == {"ZPL"}:
            return b"\n".join(labels), "application/zpl", f"{name}.zpl"
        return merge_pdf(labels), "application/pdf", f"{name}.pdf"

    def _logistics_print_action(self, returns=False):
        self.ensure_one()
        self._logistics_label_file(returns)  # nothing to print is said here, not in a download
        return {
            "type": "ir.actions.act_url",
            "url": f"/logistics/carrier/labels/{self.id}" + ("?returns=1" if returns else ""),
            "target": "download",
        }

    def action_logistics_print_labels(self):
        """Print (again) the labels kept for the delivery: one file, no new booking."""
        return self._logistics_print_action()

    def print_return_label(self):
        """Odoo's *Print Return Label*: booked once, then the kept labels downloaded. The
        booking runs as the system: the caller must be allowed to change the delivery."""
        if self.carrier_id.delivery_type == "logistics":
            self.check_access("write")
            self._logistics_lock_for_booking()
        res = super().print_return_label()
        if self.carrier_id.delivery_type == "logistics":
            return self._logistics_print_action(returns=True)
        return res

    def _logistics_booked(self, message, data):
        """The carrier booked the queued ``message``: record the booking as Odoo records
        any carrier's (``send_to_shipper``), then close the warnings of earlier failures."""
        self.ensure_one()
        self.with_context(
            logistics_booked={"message_id": message.id, "data": data}
        ).sudo().send_to_shipper()
        if message == self.logistics_booking_message_id:
            self.logistics_booking_state = "booked"
        self.sudo().activity_feedback(
            ["mail.mail_activity_data_warning"],
            feedback=self.env._("Booked with %s.", message.backend_id.name),
        )

    def action_logistics_retry_booking(self):
        """Button on a delivery whose queued booking failed: Retry of its booking message,
        which is rebuilt from the delivery as it is now (a new revision when it changed).
        The operator stays on the delivery, which shows the booking queued again."""
        self.check_access("write")
        failed = self.logistics_booking_message_id.filtered(lambda m: m.state in ("failed", "dead"))
        result = failed.action_retry() if failed else True
        if isinstance(result, dict) and result.get("tag") == "display_notification":
            result["params"]["next"] = {"type": "ir.actions.client", "tag": "soft_reload"}
        return result

    def _logistics_on_message_failed(self, message):
        res = super()._logistics_on_message_failed(message)
        if message != self.logistics_booking_message_id or self.logistics_booking_state == "booked":
            return res
        self.logistics_booking_state = "failed"
        reason = (message.error_message or "").split("\n\n")[0]
        self.activity_schedule(
            "mail.mail_activity_data_warning",
            summary=self.env._("Carrier booking failed"),
            note=reason,
            user_id=(self.user_id or message.create_uid).id,
        )
        return res

    def _logistics_moved_on(self, message):
        """A queued booking of a delivery cancelled meanwhile, booked by another message,
        booked again since (Send to Shipper) or holding booked parcels is not made again."""
        if message.message_type != "carrier.book" or message.is_call:
            return super()._logistics_moved_on(message)
        if self.state == "cancel":
            return self.env._("%s is cancelled; nothing is booked for it", self.name)
        current = self.logistics_booking_message_id
        if current and current != message:
            if self.logistics_booking_state == "booked":
                return self.env._(
                    "%(name)s is already booked by %(booking)s",
                    name=self.name,
                    booking=current.name,
                )
            return self.env._(
                "%(name)s was booked again since, by %(booking)s: retry that one if it failed",
                name=self.name,
                booking=current.name,
            )
        booked = self.logistics_parcel_ids.filtered(
            lambda p: p.state == "booked" and not p.is_return
        )
        if booked:
            return self.env._(
                "%(name)s is already booked with the carrier (tracking %(numbers)s)",
                name=self.name,
                numbers=", ".join(booked.mapped("tracking_number")),
            )
        return super()._logistics_moved_on(message)

    def _logistics_rebuild_payload(self, message):
        """A queued booking retried by an operator is rebuilt from the delivery as it is
        now (address, weights, packages), by the same builder as at validation, for the
        carrier service it was queued with. The base sends it as a new revision when it
        changed (see ``logistics_message_revision.py``); what moved on is refused before
        (``_logistics_moved_on``)."""
        self.ensure_one()
        if message.message_type != "carrier.book" or message.is_call:
            return super()._logistics_rebuild_payload(message)
        backend = message.backend_id.sudo()
        carrier = self.carrier_id
        if carrier.delivery_type != "logistics":
            raise UserError(
                self.env._(
                    "%(name)s ships with %(carrier)s now, which books with no carrier backend: "
                    "its booking with %(backend)s is not sent again. Ignore it.",
                    name=self.name,
                    carrier=carrier.name or self.env._("no delivery method"),
                    backend=backend.name,
                )
            )
        packages = carrier._get_packages_from_picking(self, self.env["stock.package.type"])
        return carrier._logistics_book_payload(
            self, backend, message._get_payload()["service"], packages
        )

    def _logistics_on_message_revised(self, message, revision):
        """A booking rebuilt from the corrected delivery goes as a new revision under a new
        key: the delivery follows it, queued again."""
        res = super()._logistics_on_message_revised(message, revision)
        if message == self.logistics_booking_message_id:
            self.sudo().write(
                {"logistics_booking_message_id": revision.id, "logistics_booking_state": "queued"}
            )
            self.message_post(
                body=self.env._(
                    "Booking rebuilt from %(name)s as it is now and sent to %(backend)s as "
                    "%(revision)s (revision %(number)s): the tracking number and labels appear "
                    "here once the carrier has booked.",
                    name=self.name,
                    backend=revision.backend_id.name,
                    revision=revision.name,
                    number=revision.revision,
                )
            )
        return res

    def _logistics_on_message_ignored(self, message):
        res = super()._logistics_on_message_ignored(message)
        if message == self.logistics_booking_message_id and self.logistics_booking_state != (
            "booked"
        ):
            self.logistics_booking_state = False
        return res

    def _logistics_refusal_hint(self, message, paths):
        if message != self.logistics_booking_message_id or not paths:
            return super()._logistics_refusal_hint(message, paths)
        if any(p.startswith(("ship_to", "to_address")) for p in paths):
            # named by the delivery, not the person: the sentence is read by operators
            # outside the personal-data group too (see logistics.message._split_personal)
            what = self.env._("the delivery address of %s", self.name)
        elif any(p.startswith(("ship_from", "from_address")) for p in paths):
            what = self.env._("the address of the warehouse")
        else:
            what = self.env._("the packages of %s", self.name)
        return self.env._(
            "Correct %(what)s, then press Retry: the booking is rebuilt from the delivery as it "
            "is then.",
            what=what,
        )
