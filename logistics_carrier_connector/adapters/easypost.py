"""The ``easypost`` provider: a carrier API shaped like EasyPost's REST API (``/v2``).

Canonical operations (synchronous calls through ``backend._call``):

- ``carrier.rate``: one ``POST /shipments`` per parcel (EasyPost rates one parcel per
  shipment); the rates of a service are summed over the parcels; a service missing for one
  parcel is not offered.
- ``carrier.book``: per parcel, ``POST /shipments`` then ``POST /shipments/{id}/buy`` with
  the rate of the chosen service, then the label fetched from ``postage_label.label_url``
  and checked (a PDF starts with ``%PDF``, a ZPL label with ``^XA``): a label empty or
  unreadable fails the booking with that reason, and the parcels bought before it are
  voided. Customs forms the carrier issues (``forms[]``, e.g. a commercial invoice for an
  international parcel) come back beside the label as the parcel's ``documents``. A return
  label (``is_return``) is sent with the outbound's addresses and ``is_return: true``:
  EasyPost swaps them.

  A booking is one operation under one idempotency key (the payload's
  ``idempotency_key``; for a queued booking its message's key), the same across its
  attempts: each shipment's ``reference`` carries it, and each request sends an
  ``Idempotency-Key`` header derived from it. Before buying a parcel, the shipments bought
  under its reference are looked up (``GET /shipments?reference=...&purchased=true``): an
  attempt whose answer was lost (a timeout, a 500 after the purchase) left one there, and
  it is kept, label and tracker included, instead of buying a second one; any other one
  bought under that reference (for an earlier version of the delivery, or a second
  purchase) is refunded as an orphan. A failed attempt refunds what it bought and knows of.
  A booking rebuilt from the corrected delivery is a new revision under a new key; the
  versions it replaces (``replaced``: their payloads and keys) are looked up under their
  own references too, and what is still bought there, made for the delivery as it was, is
  refunded as an orphan once the revision is booked.
- ``carrier.void``: ``POST /shipments/{id}/refund`` for each shipment. EasyPost answers
  the shipment with its ``refund_status``: most carriers take days (``submitted``), and
  later report ``refunded`` or ``rejected``; ``not_applicable`` (bill-on-scan carriers:
  nothing is charged for an unscanned label) and ``refunded`` settle at once. The
  canonical answer names each shipment's state: ``requested``, ``voided`` or ``refused``.
  What is settled later comes as a ``carrier.refund`` message: the ``refund.successful``
  webhook event (its ``result`` a Refund object), or polling ``GET /refunds`` (a
  ``rejected`` refund has no event).

Amounts (``rate``, ``fees[].amount``) are strings ("7.58"), read as decimals. Labels: the
``postage_label`` holds a URL per format (``label_pdf_url``, ``label_zpl_url``; ``label_url``
is the file EasyPost made first, ``label_file_type`` says which); a format EasyPost has not
made yet is asked for with ``GET /shipments/{id}/label?file_format=...``. Every field read
here exists in the official clients' recorded cassettes (``tests/conformance/easypost``).

Units: EasyPost takes ounces and inches. Errors: ``{"error": {"code", "message",
"errors": [{"field", "message"}]}}``.
"""

import hashlib
import hmac
import json
import logging
import re
import unicodedata

from odoo.addons.logistics_integration_base.adapters import (
    CALL,
    PARSE_INBOUND,
    POLL,
    SEND,
    TEST_CONNECTION,
    InboundEvent,
    register,
)
from odoo.addons.logistics_integration_base.exceptions import (
    PayloadInvalid,
    SignatureError,
    TransportError,
)
from odoo.addons.logistics_integration_base.transport.signatures import register_scheme

from .common import LABEL_MAGIC, CarrierAdapter, checked_file

_logger = logging.getLogger(__name__)

OZ_PER_KG = 35.27396195
CM_PER_IN = 2.54


def address_to_partner(address):
    return {
        "name": address["name"],
        "company": address.get("company"),
        "street1": address["street"],
        "street2": address.get("street2"),
        "city": address["city"],
        "state": address.get("state_code"),
        "zip": address["zip"],
        "country": address["country_code"],
        "phone": address.get("phone"),
        "email": address.get("email"),
    }


def parcel_to_partner(parcel):
    def inches(cm):
        return round(cm / CM_PER_IN, 2) if cm else None

    return {
        "weight": round(parcel["weight_kg"] * OZ_PER_KG, 1),
        "length": inches(parcel.get("length_cm")),
        "width": inches(parcel.get("width_cm")),
        "height": inches(parcel.get("height_cm")),
    }


def shipment_request(data, parcel, label_format=None, key=None):
    """The ``POST /shipments`` body of one parcel. With the booking's idempotency ``key``,
    the shipment's reference carries it (``WH/OUT/00042/PACK1/<key>``): every attempt of
    the booking names its shipments alike, so the next attempt finds them."""
    ship_from, ship_to = data["ship_from"], data["ship_to"]
    if data.get("is_return"):
        # EasyPost takes a return with the outbound's addresses and swaps them itself
        ship_from, ship_to = ship_to, ship_from
    reference = f"{data['reference']}/{parcel['ref']}"
    shipment = {
        "reference": f"{reference}/{key}" if key else reference,
        "from_address": address_to_partner(ship_from),
        "to_address": address_to_partner(ship_to),
        "parcel": parcel_to_partner(parcel),
    }
    if data.get("is_return"):
        shipment["is_return"] = True
    if label_format:
        shipment["options"] = {"label_format": label_format}
    return {"shipment": shipment}


def _address_key(address):
    return tuple(
        str((address or {}).get(k) or "").strip().upper()
        for k in ("name", "street1", "city", "zip", "country")
    )


def same_request(shipment, body, service):
    """Whether a shipment the carrier holds was made for the request ``body`` with
    ``service``: same addresses (as the carrier keeps them: swapped for a return), weight
    and service. One made for an earlier version of the delivery (another address or
    weight) is not."""
    sent = body["shipment"]
    to_address, from_address = sent["to_address"], sent["from_address"]
    if sent.get("is_return"):
        to_address, from_address = from_address, to_address
    rate = shipment.get("selected_rate") or {}
    try:
        weight_gap = abs(float(shipment["parcel"]["weight"]) - float(sent["parcel"]["weight"]))
    except (KeyError, TypeError, ValueError):
        return False
    return (
        _address_key(shipment.get("to_address")) == _address_key(to_address)
        and _address_key(shipment.get("from_address")) == _address_key(from_address)
        and weight_gap < 0.05
        and (rate.get("carrier"), rate.get("service")) == (service["carrier"], service["code"])
    )


def still_bought(shipment, reference):
    """Whether a listed shipment is one bought under ``reference`` and not being refunded
    (the reference is checked here: EasyPost does not document filtering by it)."""
    return bool(
        shipment.get("reference") == reference
        and shipment.get("tracking_code")
        and shipment.get("selected_rate")
        and shipment.get("refund_status") not in ("submitted", "refunded")
    )


def booked_from_partner(bought):
    """What a bought shipment tells of its parcel (EasyPost's amounts are strings)."""
    return {
        "shipment_id": bought["id"],
        "tracker_id": (bought.get("tracker") or {}).get("id"),
        "tracking_number": bought["tracking_code"],
        "price": float(bought["selected_rate"]["rate"]),
        "currency": bought["selected_rate"].get("currency") or "USD",
    }


def rates_from_partner(shipment):
    return [
        {
            "carrier": rate["carrier"],
            "service": rate["service"],
            "price": float(rate["rate"]),
            "currency": rate.get("currency") or "USD",
            "days": rate.get("delivery_days"),
            "rate_id": rate["id"],
        }
        for rate in shipment.get("rates") or []
    ]


def sum_rates(per_parcel, service=None):
    """The services offered for every parcel, priced for all of them."""
    totals = {}
    for rates in per_parcel:
        for rate in rates:
            key = (rate["carrier"], rate["service"])
            slot = totals.setdefault(key, {**rate, "price": 0.0, "parcels": 0})
            slot["price"] += rate["price"]
            slot["parcels"] += 1
            slot["days"] = max(slot["days"] or 0, rate["days"] or 0) or None
    offered = [
        {k: v for k, v in rate.items() if k not in ("rate_id", "parcels")}
        | {"price": round(rate["price"], 2)}
        for rate in totals.values()
        if rate["parcels"] == len(per_parcel)
    ]
    if service:
        offered = [
            r
            for r in offered
            if (r["carrier"], r["service"]) == (service["carrier"], service["code"])
        ]
    return sorted(offered, key=lambda r: r["price"])


@register("easypost")
class EasyPostAdapter(CarrierAdapter):
    capabilities = frozenset({CALL, SEND, PARSE_INBOUND, POLL, TEST_CONNECTION})

    def http_settings(self):
        settings = super().http_settings()
        # EasyPost: the API key is the basic-auth user, with an empty password
        settings.auth.type = "basic"
        settings.auth.username = self.backend._get_secret("api_key") or ""
        settings.auth.password = ""
        return settings

    def parse_error(self, status, body):
        try:
            reasons = error_reasons(json.loads(body))
        except (ValueError, AttributeError):
            return super().parse_error(status, body)
        return reasons or super().parse_error(status, body)

    def _post(self, path, body, idempotency_key=None):
        headers = {"Idempotency-Key": idempotency_key} if idempotency_key else None
        response = self.http().request("POST", path, json=body, headers=headers)
        return response.json()

    def _rate(self, payload):
        sent, per_parcel = [], []
        for parcel in payload["parcels"]:
            body = shipment_request(payload, parcel)
            sent.append(body)
            per_parcel.append(rates_from_partner(self._post("shipments", body)))
        return {"rates": sum_rates(per_parcel, payload.get("service"))}, sent

    def _book(self, payload):
        """Book every parcel, once per booking whatever the number of attempts: each
        shipment carries the booking's key in its ``reference``; before buying, the
        shipments already bought under that reference (an attempt whose answer was lost)
        are looked up: one made for this very request is kept instead of buying again,
        any other one is an orphan and is refunded, as is what is still bought for the
        versions of the booking this revision replaces."""
        service = payload["service"]
        key = payload.get("idempotency_key")
        sent, booked, bought_ids, reused = [], [], [], []
        orphans = self._bought_for_replaced(payload.get("replaced") or ())
        try:
            for parcel in payload["parcels"]:
                body = shipment_request(payload, parcel, payload["label_format"], key)
                sent.append(body)
                bought = None
                if key:
                    bought, extra = self._bought_before(body, service)
                    orphans += extra
                if bought:
                    reused.append(bought["id"])
                else:
                    bought = self._buy(body, parcel, service, f"{key}/{parcel['ref']}")
                bought_ids.append(bought["id"])
                booked.append(self._booked_parcel(bought, parcel, payload["label_format"]))
        except TransportError:
            # Nothing of a failed attempt is kept: what it bought and knows of is refunded.
            # A purchase whose answer was lost is not known here: the next attempt finds it
            # under the same reference and keeps it.
            self._void_quietly(bought_ids)
            raise
        data = {
            "parcels": booked,
            "price": round(sum(b["price"] for b in booked), 2),
            "currency": booked[0]["currency"] if booked else "USD",
            "reused_shipment_ids": reused,
            "refunded_orphan_ids": self._void_quietly([s["id"] for s in orphans]),
        }
        return data, sent

    def _bought_for_replaced(self, replaced):
        """The shipments still bought under the references of the ``replaced`` versions of
        a booking (each a payload with the key it was sent under): an attempt whose answer
        was lost left them for the delivery as it was."""
        found = {}
        for earlier in replaced:
            if not earlier.get("idempotency_key"):
                continue
            for parcel in earlier.get("parcels") or ():
                body = shipment_request(earlier, parcel, key=earlier["idempotency_key"])
                for shipment in self._listed_under(body["shipment"]["reference"]):
                    found.setdefault(shipment["id"], shipment)
        return list(found.values())

    def _listed_under(self, reference):
        """The shipments bought (and not being refunded) under ``reference``, oldest first."""
        answer = self.http().request(
            "GET",
            "shipments",
            params={"reference": reference, "purchased": "true", "page_size": 100},
        )
        return sorted(
            (s for s in answer.json().get("shipments") or [] if still_bought(s, reference)),
            key=lambda s: (s.get("created_at") or "", s["id"]),
        )

    def _bought_before(self, body, service):
        """``(kept, orphans)``: among the shipments bought (and not refunded) under the
        reference of ``body``, the oldest made for this very request (same addresses,
        weight and service) is kept; the others are orphans."""
        found = self._listed_under(body["shipment"]["reference"])
        kept = next((s for s in found if same_request(s, body, service)), None)
        return kept, [s for s in found if s is not kept]

    def _buy(self, body, parcel, service, key):
        """Create the shipment and buy the rate of ``service``; each request carries an
        ``Idempotency-Key`` derived from the booking's key."""
        shipment = self._post("shipments", body, idempotency_key=f"{key}/create")
        rate = next(
            (
                r
                for r in rates_from_partner(shipment)
                if (r["carrier"], r["service"]) == (service["carrier"], service["code"])
            ),
            None,
        )
        if rate is None:
            raise TransportError(
                f"{service['carrier']} {service['code']} is not offered for parcel "
                f"{parcel['ref']} ({parcel['weight_kg']} kg)",
                "business",
                status=422,
            )
        return self._post(
            f"shipments/{shipment['id']}/buy",
            {"rate": {"id": rate["rate_id"]}},
            idempotency_key=f"{key}/buy",
        )

    def _booked_parcel(self, bought, parcel, label_format):
        return {
            "ref": parcel["ref"],
            **booked_from_partner(bought),
            "label_format": label_format,
            "label_b64": self._label(bought, label_format, parcel["ref"]),
            "documents": self._documents(bought, parcel["ref"]),
        }

    def _label(self, shipment, label_format, ref):
        url = label_url(shipment.get("postage_label"), label_format)
        if not url and shipment.get("postage_label"):
            # the label exists in another format (EasyPost's default is PNG): converted
            converted = self.http().request(
                "GET", f"shipments/{shipment['id']}/label", params={"file_format": label_format}
            )
            url = label_url((converted.json() or {}).get("postage_label"), label_format)
        content = self.http().request("GET", url).content if url else b""
        return checked_file(
            content,
            LABEL_MAGIC[label_format],
            f"the carrier's {label_format} label for parcel {ref} (tracking "
            f"{shipment.get('tracking_code')})",
        )

    def _documents(self, shipment, ref):
        """Customs forms the carrier issued for the shipment (``forms[]``: commercial
        invoice, CN22/CN23...), kept apart from the label."""
        documents = []
        for form_type, url in forms_from_partner(shipment):
            content = self.http().request("GET", url).content if url else b""
            what = (
                f"the carrier's {form_type} for parcel {ref} (tracking "
                f"{shipment.get('tracking_code')})"
            )
            documents.append(
                {"type": form_type or "customs", "file_b64": checked_file(content, b"%PDF", what)}
            )
        return documents

    def _void_quietly(self, shipment_ids):
        """Refund ``shipment_ids``; return those refunded (a failure is logged)."""
        refunded = []
        for shipment_id in shipment_ids:
            try:
                self._post(f"shipments/{shipment_id}/refund", {})
            except TransportError as exc:
                _logger.warning(
                    "EasyPost shipment %s of a failed booking could not be refunded: %s",
                    shipment_id,
                    exc,
                )
            else:
                refunded.append(shipment_id)
        return refunded

    def _void(self, payload):
        """Ask for the refund of each shipment; each one's canonical state (see
        :data:`REFUND_STATES`): most carriers answer ``submitted`` and settle days later."""
        voided = []
        for shipment_id in payload["shipment_ids"]:
            answer = self._post(f"shipments/{shipment_id}/refund", {})
            voided.append(void_from_partner(shipment_id, answer))
        return {"voided": voided}, payload

    # tracking --------------------------------------------------------------------------
    def parse_inbound(self, headers, body, event_id):
        """Webhook events ``{"id": "evt_...", "description": ..., "result": <object>}``:
        ``tracker.created``/``tracker.updated`` (a Tracker) and ``refund.successful`` (a
        Refund: the postage of a shipment whose void was requested is refunded)."""
        event = self.load_json(body)
        description = event.get("description")
        if description == "refund.successful":
            data = refund_from_partner(event.get("result") or {})
            self.schemas.validate("carrier.refund", data)
            return InboundEvent(event_id=event_id, message_type="carrier.refund", data=data)
        if description not in ("tracker.updated", "tracker.created"):
            raise PayloadInvalid(
                f"EasyPost event '{description}' is neither a tracker update nor a refund",
                "description",
            )
        data = tracking_from_partner(event.get("result") or {})
        self.schemas.validate("tracking.update", data)
        return InboundEvent(
            event_id=event_id,
            message_type="tracking.update",
            data=data,
            schema_version=self.schemas.latest_version("tracking.update"),
        )

    #: backends of this provider are polled for the refunds of voids still requested
    polls_refunds = True
    REFUND_PAGES = 20

    def poll(self, trackers=(), refunds=()):
        """The trackers ``[(tracker id, tracking number)]`` as they stand: one event each,
        keyed by the tracker's content (the same news polled twice is stored once). With
        ``refunds`` ``[(shipment id, requested since (ISO 8601))]``: the account's refunds
        since the oldest request (``GET /refunds``, newest first, page by page), one
        ``carrier.refund`` event per refund of those shipments that is settled
        (``refunded`` or ``rejected``)."""
        events = []
        for tracker_id, _number in trackers:
            tracker = self.http().request("GET", f"trackers/{tracker_id}").json()
            events.append(self.polled_tracking(tracker_id, tracking_from_partner(tracker)))
        if refunds:
            events += self._poll_refunds(dict(refunds))
        return events

    def _poll_refunds(self, wanted):
        params = {"page_size": 100, "start_datetime": min(wanted.values())}
        found = {}
        for _page in range(self.REFUND_PAGES):
            answer = self.http().request("GET", "refunds", params=params).json()
            page = answer.get("refunds") or []
            for refund in page:
                # the newest refund of a shipment tells (a rejected one may be asked again)
                if refund.get("shipment_id") in wanted and refund["shipment_id"] not in found:
                    found[refund["shipment_id"]] = refund
            if not answer.get("has_more") or not page:
                break
            params = dict(params, before_id=page[-1]["id"])
        events = []
        for refund in found.values():
            data = refund_from_partner(refund)
            if data["status"] == "requested":
                continue  # nothing new
            self.schemas.validate("carrier.refund", data)
            events.append(
                InboundEvent(
                    event_id=f"{refund['id']}:{data['carrier_status']}",
                    message_type="carrier.refund",
                    data=data,
                )
            )
        return events

    def _follow(self, payload):
        """``POST /trackers``: follow a parcel Odoo did not book."""
        body = {
            "tracker": {"tracking_code": payload["tracking_number"], "carrier": payload["carrier"]}
        }
        answer = self._post("trackers", body)
        return {"tracker_id": answer["id"]}, body

    def test_connection(self):
        response = self.http().request("GET", "addresses")
        return f"EasyPost answered HTTP {response.status_code}"


# labels, refunds ------------------------------------------------------------------------------
LABEL_FILES = {
    "PDF": ("label_pdf_url", "application/pdf"),
    "ZPL": ("label_zpl_url", "application/zpl"),
}


def label_url(postage_label, label_format):
    """The URL of the label in ``label_format``: its own field (``label_pdf_url``,
    ``label_zpl_url``), or ``label_url`` when that file is in the format; ``None`` when
    EasyPost has not made it in that format yet."""
    postage_label = postage_label or {}
    field, file_type = LABEL_FILES[label_format]
    if postage_label.get(field):
        return postage_label[field]
    if postage_label.get("label_file_type") == file_type:
        return postage_label.get("label_url")
    return None


#: EasyPost's ``refund_status`` (a shipment) or ``status`` (a Refund) -> canonical state
REFUND_STATES = {
    "submitted": "requested",
    "refunded": "voided",
    "not_applicable": "voided",  # a bill-on-scan carrier: an unscanned label costs nothing
    "rejected": "refused",
}


def refund_state(status):
    """The canonical state of a refund; one EasyPost did not document stays requested
    (polling asks again)."""
    return REFUND_STATES.get(status, "requested")


def void_from_partner(shipment_id, shipment):
    """The answer to ``POST /shipments/{id}/refund`` (the shipment) as a canonical void."""
    status = shipment.get("refund_status")
    return {"shipment_id": shipment_id, "status": refund_state(status), "carrier_status": status}


def forms_from_partner(shipment):
    """``[(form type, URL)]`` of the forms the carrier issued for a shipment."""
    return [(form.get("form_type"), form.get("form_url")) for form in shipment.get("forms") or []]


def error_reasons(body):
    """``[(field, message)]`` of an EasyPost error body
    (``{"error": {"code", "message", "errors": [{"field", "message"}]}}``)."""
    error = (body or {}).get("error") or {}
    reasons = [(e.get("field"), e.get("message")) for e in error.get("errors") or []]
    if not reasons and error.get("message"):
        reasons = [(None, error["message"])]
    return reasons


def refund_from_partner(refund):
    """A Refund object (``refund.successful`` event, ``GET /refunds``) as ``carrier.refund``."""
    return {
        "shipment_id": refund["shipment_id"],
        "tracking_number": refund.get("tracking_code"),
        "status": refund_state(refund.get("status")),
        "carrier_status": refund.get("status") or "",
        "time": refund.get("updated_at"),
    }


# tracking ------------------------------------------------------------------------------------
STATUS_MILESTONES = {
    "pre_transit": "label_created",
    "in_transit": "in_transit",
    "out_for_delivery": "out_for_delivery",
    "delivered": "delivered",
    "available_for_pickup": "available_for_pickup",
    "return_to_sender": "returned",
    "failure": "exception",
    "cancelled": "cancelled",
    "error": "exception",
}


def milestone(status):
    """``(canonical milestone, mapped)``: an unknown code is an exception, kept raw."""
    if status in STATUS_MILESTONES:
        return STATUS_MILESTONES[status], True
    return "exception", False


def tracking_from_partner(tracker):
    def place(location):
        location = location or {}
        parts = [location.get("city"), location.get("state"), location.get("country")]
        return ", ".join(p for p in parts if p) or None

    events = []
    for detail in tracker.get("tracking_details") or []:
        code = detail.get("status") or "unknown"
        name, mapped = milestone(code)
        event = {
            "time": detail["datetime"],
            "milestone": name,
            "carrier_status": code
            + (f"/{detail['status_detail']}" if detail.get("status_detail") else ""),
            "description": detail.get("message"),
            "location": place(detail.get("tracking_location")),
        }
        if not mapped:
            event["mapped"] = False
        events.append(event)
    status, _mapped = milestone(tracker.get("status") or "unknown")
    return {
        "tracking_number": tracker["tracking_code"],
        "carrier": tracker.get("carrier"),
        "status": status,
        "carrier_status": tracker.get("status"),
        "signed_by": tracker.get("signed_by"),
        # no proof-of-delivery URL: EasyPost's Tracker has none (its carrier_detail holds
        # service and locations); who signed is the proof it gives
        "estimated_delivery": estimated_delivery(tracker),
        "events": events,
    }


def estimated_delivery(tracker):
    """The day the carrier expects to deliver, as the customer lives it: the carrier
    detail's local date when given (``est_delivery_date_local``), else the day of the
    Tracker's ``est_delivery_date`` (an RFC 3339 time); None when it gives none."""
    detail = tracker.get("carrier_detail") or {}
    for value in (detail.get("est_delivery_date_local"), tracker.get("est_delivery_date")):
        day = str(value or "")[:10]
        if re.fullmatch(r"\d{4}-\d{2}-\d{2}", day):
            return day
    return None


# webhook signature -----------------------------------------------------------------------------
SIGNATURE_HEADER = "X-Hmac-Signature"


def sign(secret, body):
    """The signature EasyPost sends for ``body``: the HMAC is keyed with the secret in its
    NFKD normal form, in UTF-8, as EasyPost computes it and its official clients check it
    (``validate_webhook`` in EasyPost/easypost-python, ``easypost/util.py``): a secret
    with accents or ligatures ("sécret" typed composed or decomposed) signs alike."""
    key = unicodedata.normalize("NFKD", secret).encode("utf-8")
    digest = hmac.new(key, body, hashlib.sha256).hexdigest()
    return f"hmac-sha256-hex={digest}"


@register_scheme("easypost_hmac")
def verify(secrets, headers, body, options):
    """``X-Hmac-Signature: hmac-sha256-hex=<hex HMAC-SHA256 of the body>``, keyed with the
    NFKD-normalised secret (:func:`sign`); the event id is the event's ``id`` in the body."""
    offered = (headers.get(SIGNATURE_HEADER) or "").strip()
    if not offered:
        raise SignatureError(f"missing {SIGNATURE_HEADER}")
    if not any(hmac.compare_digest(sign(secret, body), offered) for secret in secrets):
        raise SignatureError(f"{SIGNATURE_HEADER} does not match")
    try:
        event_id = json.loads(body).get("id")
    except (ValueError, AttributeError):
        event_id = None
    return event_id or hashlib.sha256(body).hexdigest()
