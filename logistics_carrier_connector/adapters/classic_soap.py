"""The ``classic_soap`` provider: a carrier web service in the classic SOAP shape
(``wsdl/carrier_ws_v1.wsdl``: ``getRates``, ``processShipment``, ``track``,
``deleteShipment``; document/literal), spoken with ``zeep`` through the ``soap``
transport. The account key is the backend's API key; the service address its base URL.

Faults: ``Client.Address`` (an address the carrier cannot deliver to) and other
``Client.*`` faults are business refusals with their code; ``Server.*`` faults are
transient and retried; a late answer is cut at the backend's timeout.

Duplicates: the service takes no idempotency key or reference and cannot list what was
booked, so a ``processShipment`` whose answer is lost is never retried by itself: it fails
with what to check at the carrier (see ``_book``).
"""

import base64
import os

from odoo.addons.logistics_integration_base.adapters import (
    CALL,
    POLL,
    SEND,
    register,
)
from odoo.addons.logistics_integration_base.exceptions import TransportError
from odoo.addons.logistics_integration_base.transport.soap import SoapSettings

from .common import LABEL_MAGIC, AnswerLost, CarrierAdapter, answer_lost, checked_file

WSDL = os.path.join(os.path.dirname(os.path.dirname(__file__)), "wsdl", "carrier_ws_v1.wsdl")
BINDING = "{urn:logistics:carrier:ws:v1}CarrierWebService"
STATUS_MILESTONES = {
    "MANIFESTED": "label_created",
    "PICKED_UP": "picked_up",
    "IN_TRANSIT": "in_transit",
    "OUT_FOR_DELIVERY": "out_for_delivery",
    "AT_PICKUP_POINT": "available_for_pickup",
    "DELIVERED": "delivered",
    "DELAYED": "exception",
    "EXCEPTION": "exception",
    "RETURNED": "returned",
    "CANCELLED": "cancelled",
}


def address(data):
    return {
        "name": data["name"],
        "street": data["street"],
        "city": data["city"],
        "zip": data["zip"],
        "country": data["country_code"],
        "phone": data.get("phone"),
    }


def packages(data):
    return {"Package": [{"ref": p["ref"], "weightKg": p["weight_kg"]} for p in data["parcels"]]}


def items(answer, name):
    """The elements of a SOAP array answer: ``{"Rate": [...]}``, or the list itself when
    zeep already unwrapped it; none when empty."""
    if isinstance(answer, list):
        return answer
    return (answer or {}).get(name) or []


@register("classic_soap", protocol="soap")
class ClassicSoapCarrierAdapter(CarrierAdapter):
    capabilities = frozenset({CALL, SEND, POLL})

    def client(self):
        backend = self.backend
        return self.transport(
            "soap",
            SoapSettings(
                wsdl=WSDL,
                address=backend.base_url or "",
                binding=BINDING,
                timeout=backend.timeout or 30.0,
            ),
        )

    def key(self):
        return self.backend._get_secret("api_key") or ""

    def parse_error(self, status, body):
        code, _sep, text = (body or "").partition(": ")
        return [(code, text)] if text else super().parse_error(status, body)

    def _carrier(self, payload):
        service = payload.get("service") or {}
        return service.get("carrier") or self.backend.code.upper()

    def _rate(self, payload):
        client = self.client()
        answer = client.call(
            "getRates",
            self.key(),
            address(payload["ship_from"]),
            address(payload["ship_to"]),
            packages(payload),
        )
        carrier = self._carrier(payload)
        rates = [
            {
                "carrier": carrier,
                "service": rate["service"],
                "price": float(rate["amount"]),
                "currency": rate["currency"] or "EUR",
                "days": rate["days"],
            }
            for rate in items(answer, "Rate")
        ]
        wanted = payload.get("service")
        if wanted:
            rates = [r for r in rates if r["service"] == wanted["code"]]
        return {"rates": sorted(rates, key=lambda r: r["price"])}, {"getRates": payload}

    def _book(self, payload):
        """``processShipment``. The web service takes no reference or idempotency key and
        has no operation listing the shipments of an account: a booking whose answer is
        lost (no answer in time, an HTTP error without a SOAP fault) cannot be found
        again, so it is not retried by itself (:class:`AnswerLost`): a person checks the
        carrier's account first. A SOAP fault is the service's own answer that it did not
        book: a ``Server.*`` fault is retried."""
        client = self.client()
        try:
            answer = client.call(
                "processShipment",
                self.key(),
                payload["service"]["code"],
                address(payload["ship_from"]),
                address(payload["ship_to"]),
                packages(payload),
                payload["label_format"],
            )
        except TransportError as err:
            if err.body or not answer_lost(err):
                raise  # a SOAP fault: the service's own answer
            raise AnswerLost(
                f"{err}: {self.backend.name} may have booked {payload['reference']} all the "
                "same, and its web service offers no way to look a booking up. Check its "
                f"shipments for {payload['reference']} on the carrier's side before booking "
                "again (booking again books a second shipment); void it there if it exists."
            ) from None
        booked = []
        for parcel in items(answer["parcels"], "ParcelResult"):
            try:
                label_b64 = checked_file(
                    base64.b64decode(parcel["labelBase64"] or ""),
                    LABEL_MAGIC[payload["label_format"]],
                    f"the carrier's {payload['label_format']} label for parcel {parcel['ref']}",
                )
            except TransportError:
                client.call("deleteShipment", self.key(), answer["shipmentId"])
                raise
            booked.append(
                {
                    "ref": parcel["ref"],
                    "shipment_id": answer["shipmentId"],
                    "tracker_id": parcel["trackingNumber"],
                    "tracking_number": parcel["trackingNumber"],
                    "price": float(parcel["amount"]),
                    "currency": answer["currency"] or "EUR",
                    "label_format": payload["label_format"],
                    "label_b64": label_b64,
                }
            )
        data = {
            "parcels": booked,
            "price": round(float(answer["totalAmount"]), 2),
            "currency": answer["currency"] or "EUR",
        }
        return data, {"processShipment": payload}

    def _void(self, payload):
        client = self.client()
        voided = []
        for shipment_id in dict.fromkeys(payload["shipment_ids"]):  # one per shipment
            status = client.call("deleteShipment", self.key(), shipment_id)
            voided.append({"shipment_id": shipment_id, "status": status})
        return {"voided": voided}, {"deleteShipment": payload}

    def _follow(self, payload):
        """The web service tracks any of its numbers: nothing to register."""
        return {"tracker_id": payload["tracking_number"]}, {}

    def poll(self, trackers=()):
        client = self.client()
        events = []
        for _tracker, number in trackers:
            answer = client.call("track", self.key(), number)
            lines = []
            for event in items(answer["events"], "TrackEvent"):
                code = event["code"] or "UNKNOWN"
                line = {
                    "time": event["time"],
                    "milestone": STATUS_MILESTONES.get(code, "exception"),
                    "carrier_status": code,
                    "description": event["description"],
                    "location": event["location"],
                }
                if code not in STATUS_MILESTONES:
                    line["mapped"] = False
                lines.append(line)
            status = answer["status"] or "UNKNOWN"
            data = {
                "tracking_number": number,
                "carrier": self.backend.code.upper(),
                "status": STATUS_MILESTONES.get(status, "exception"),
                "carrier_status": status,
                "events": lines,
            }
            events.append(self.polled_tracking(number, data))
        return events
