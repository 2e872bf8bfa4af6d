"""``tracking.update``: a carrier's news about one parcel, added to its timeline."""

from odoo.addons.logistics_integration_base.exceptions import NotForUs
from odoo.addons.logistics_integration_base.handlers import MessageHandler, register_handler
from odoo.addons.logistics_integration_base.tools.canonical import to_naive_utc

from ..models.logistics_carrier_tracking_event import RESOLVING


@register_handler("tracking.update")
class TrackingUpdateHandler(MessageHandler):
    """Idempotent (an event already on the timeline is not added again) and tolerant of
    order (the timeline sorts by event time; a final milestone stays final). A tracking
    number Odoo does not know — carrier accounts also ship outside Odoo — is kept as
    ignored, with that reason. A new exception schedules an activity on the delivery; later
    news that resolves it (in transit again, out for delivery, delivered) marks that
    activity done with a note naming the milestone."""

    schemas = ("tracking.update.v1",)
    out_of_order = "apply"

    def find_record(self, data):
        return self.env["logistics.carrier.parcel"]._logistics_of_backend(
            self.backend, "tracking_number", data["tracking_number"], limit=1
        )

    def process(self, data, record):
        parcel = record
        if not parcel:
            raise NotForUs(
                self.env._(
                    "tracking number %(number)s is not a parcel Odoo booked or follows with "
                    "%(backend)s",
                    number=data["tracking_number"],
                    backend=self.backend.name,
                )
            )
        self.link(parcel.picking_id)
        Event = self.env["logistics.carrier.tracking.event"].sudo()
        known = {(e.event_time, e.carrier_status) for e in parcel.event_ids}
        latest_before = parcel.last_event_at
        new = Event
        for event in data["events"]:
            when = to_naive_utc(event["time"])
            if (when, event["carrier_status"]) in known:
                continue
            known.add((when, event["carrier_status"]))
            new |= Event.create(
                {
                    "parcel_id": parcel.id,
                    "event_time": when,
                    "milestone": event["milestone"],
                    "carrier_status": event["carrier_status"],
                    "mapped": event.get("mapped", True),
                    "description": event.get("description"),
                    "location": event.get("location"),
                    "message_id": self.message.id,
                }
            )
        vals = {}
        if data.get("signed_by") and not parcel.pod_signed_by:
            vals["pod_signed_by"] = data["signed_by"]
        if data.get("pod_url") and not parcel.pod_url:
            vals["pod_url"] = data["pod_url"]
        # the estimate of the latest news wins: an older update arriving late does not
        # bring back the estimate it had
        newest = max(
            (to_naive_utc(e["time"]) for e in data["events"] if e.get("time")), default=None
        )
        if data.get("estimated_delivery") and (
            not latest_before or (newest and newest >= latest_before)
        ):
            vals["estimated_delivery"] = data["estimated_delivery"]
        if vals:
            parcel.write(vals)
        for exception in new.filtered(lambda e: e.milestone == "exception"):
            if parcel._logistics_resolution_of(exception):
                continue  # late news of an exception later news already resolved
            picking = parcel.picking_id
            picking.activity_schedule(
                "mail.mail_activity_data_todo",
                summary=self.env._(
                    "Delivery exception for parcel %(number)s: %(what)s",
                    number=parcel.tracking_number,
                    what=exception.description or exception.carrier_status,
                ),
                note=self.env._(
                    "%(backend)s reports %(code)s at %(where)s. Contact the carrier or the "
                    "customer, then mark this activity done. It is marked done by itself if "
                    "the carrier's later news resolves it (in transit again, out for delivery, "
                    "delivered).",
                    backend=self.backend.name,
                    code=exception.carrier_status,
                    where=exception.location or "-",
                ),
                user_id=picking.user_id.id or self.env.ref("base.user_admin").id,
                logistics_tracking_event_id=exception.id,
            )
        if new.filtered(lambda e: e.milestone in RESOLVING):
            parcel._logistics_close_resolved_exceptions()
        state = dict(parcel._fields["tracking_state"].selection).get(parcel.tracking_state)
        return self.env._(
            "%(number)s: %(new)s new event(s), now %(state)s",
            number=parcel.tracking_number,
            new=len(new),
            state=state or "-",
        )
