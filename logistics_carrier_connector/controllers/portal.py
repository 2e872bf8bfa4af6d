"""The parcels of a customer's order in Odoo's portal: each parcel's tracking timeline
on the order's page, and its proof of delivery where the carrier gave one.

Both read the order through the portal's own access check (the customer's record rules,
or the order's access token); only then are the parcels read as the system, and only the
fields meant for the customer leave: no carrier codes, prices, operator notes, nor
anything of another order."""

from werkzeug.exceptions import NotFound

from odoo import http
from odoo.exceptions import AccessError, MissingError
from odoo.http import request
from odoo.tools.misc import format_date, format_datetime

from odoo.addons.sale.controllers.portal import CustomerPortal

#: the parcels a customer follows: booked or followed for the order's deliveries (a voided
#: label never left, and a return label is the customer's own parcel back)
SHOWN_STATES = ("booked", "followed")


class CarrierCustomerPortal(CustomerPortal):
    def _get_page_view_values(self, document, access_token, values, *args, **kwargs):
        values = super()._get_page_view_values(document, access_token, values, *args, **kwargs)
        if document._name == "sale.order":
            # ``document`` is the order the portal's access check returned
            values["logistics_parcel_timelines"] = self._logistics_parcel_timelines(
                document, access_token
            )
        return values

    @staticmethod
    def _logistics_portal_parcels(order_sudo):
        deliveries = order_sudo.picking_ids.filtered(lambda p: p.picking_type_id.code == "outgoing")
        return deliveries.logistics_parcel_ids.filtered(
            lambda p: p.state in SHOWN_STATES and not p.is_return
        )

    def _logistics_parcel_timelines(self, order_sudo, access_token=None):
        """``{delivery id: [parcel, ...]}``, each parcel a dict of what the customer reads."""
        env = request.env
        tz = env.user.tz or order_sudo.partner_id.tz or "UTC"
        parcels = self._logistics_portal_parcels(order_sudo.sudo())
        milestones = dict(parcels._fields["tracking_state"]._description_selection(env))

        def when(value):
            return format_datetime(env, value, tz=tz, dt_format="medium") if value else False

        timelines = {}
        for parcel in parcels.sorted("id"):
            events = parcel.event_ids.sorted(lambda e: (e.event_time, e.id), reverse=True)
            last = events[:1]
            pod_url = False
            if (parcel.pod_url or "").startswith(("https://", "http://")):
                pod_url = f"/my/orders/{order_sudo.id}/proof-of-delivery/{parcel.id}"
                if access_token:
                    pod_url += f"?access_token={access_token}"
            timelines.setdefault(parcel.picking_id.id, []).append(
                {
                    "carrier": parcel.carrier_id.name or parcel.picking_id.carrier_id.name,
                    "tracking_number": parcel.tracking_number,
                    "status": milestones.get(parcel.tracking_state)
                    or env._("Handed to the carrier: waiting for its first scan"),
                    "delivered": parcel.tracking_state == "delivered",
                    "last_scan": {
                        "when": when(last.event_time),
                        "where": last.location or "",
                        "what": last.description or milestones.get(last.milestone),
                    }
                    if last
                    else False,
                    "delivered_at": when(parcel.delivered_at),
                    "estimated_delivery": format_date(env, parcel.estimated_delivery)
                    if parcel.estimated_delivery
                    and parcel.tracking_state not in ("delivered", "returned", "cancelled")
                    else False,
                    "signed_by": parcel.pod_signed_by or "",
                    "pod_url": pod_url,
                    "events": [
                        {
                            "when": when(event.event_time),
                            "status": milestones.get(event.milestone),
                            "what": event.description or "",
                            "where": event.location or "",
                        }
                        for event in events
                    ],
                }
            )
        return timelines

    @http.route(
        "/my/orders/<int:order_id>/proof-of-delivery/<int:parcel_id>",
        type="http",
        auth="public",
        website=True,
    )
    def logistics_proof_of_delivery(self, order_id, parcel_id, access_token=None, **kwargs):
        """The carrier's proof of delivery of a parcel of the order: the customer is sent to
        the document the carrier holds. Anything else than a parcel of an order the caller
        may read is not found."""
        try:
            order_sudo = self._document_check_access(
                "sale.order", order_id, access_token=access_token
            )
        except (AccessError, MissingError):
            raise NotFound() from None
        parcel = self._logistics_portal_parcels(order_sudo).filtered(
            lambda p: p.id == parcel_id and (p.pod_url or "").startswith(("https://", "http://"))
        )
        if not parcel:
            raise NotFound()
        return request.redirect(parcel.pod_url, local=False)
