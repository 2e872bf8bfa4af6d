"""A parcel carrier API on loopback, shaped like EasyPost's (``/v2``), for the carrier
connector's tests and the demo.

    sim = EasyPostSimulator(api_key="EZTK_test").start()
    sim.url()            # base URL for the backend
    sim.fail_next(503)   # the next API request answers 503
    sim.hang_next()      # the next API request gets no answer (a carrier that hangs)
    sim.lose_next_buy("timeout")  # the next purchase is made, but its answer never comes
    sim.lose_next_buy(500)        # ... or answers 500 after buying
    sim.delay_next_buy(2)         # the next purchase is made, answered 2 s later

    EasyPostSimulator(currency="CAD", price_factor=1.2)  # a carrier quoting in CAD
    EasyPostSimulator(bucket=True)  # labels and forms on a storage bucket, another origin

What it speaks (the parts of EasyPost's API the connector uses):

- HTTP basic auth, the API key as user and an empty password; 401 otherwise.
- ``POST /v2/shipments`` ``{"shipment": {"to_address", "from_address", "parcel",
  "reference", "options"}}`` answers the shipment with ``rates[]`` (``id``, ``carrier``,
  ``service``, ``rate`` as a string, ``currency``, ``delivery_days``) priced by weight
  (ounces) and service. Errors as EasyPost sends them:
  ``{"error": {"code", "message", "errors": [{"field", "message"}]}}`` (422 for an address
  without a zip or, in the US, with a zip that is not a ZIP code, a parcel without weight).
- ``POST /v2/shipments/{id}/buy`` ``{"rate": {"id"}}`` answers the shipment with
  ``tracking_code``, ``selected_rate`` and ``postage_label`` (``label_url``,
  ``label_file_type``; the label format comes from ``options.label_format`` at creation).
- ``GET /labels/{shipment id}.{pdf|zpl}``: the label file. With ``bucket=True``, labels
  and forms are served by a second server on another port (``bucket``, another origin),
  as EasyPost's files live on a storage bucket: like S3, it answers ``400`` ``Unsupported
  Authorization Type`` to a request carrying an ``Authorization`` header, and records
  every request (``bucket.requests``); the API then serves no files.
- ``POST /v2/shipments/{id}/refund``: ``refund_status`` ``submitted`` (or what
  ``refund_at_once`` says), and a Refund object (``id``, ``shipment_id``, ``tracking_code``,
  ``status``...) listed by ``GET /v2/refunds`` (newest first, ``page_size``, ``before_id``,
  ``has_more``). ``settle_refund(shipment id, "refunded" | "rejected")`` is the carrier
  deciding days later: it answers the ``refund.successful`` event EasyPost sends for a
  refund (none for a rejection, which only polling sees).
- ``GET /v2/shipments/{id}/label?file_format=ZPL|PDF``: the label in another format
  (``postage_label.label_zpl_url``/``label_pdf_url``). With ``png_labels=True`` a purchase
  makes a PNG label only (EasyPost's default), which the connector must convert.
- ``POST /v2/trackers`` ``{"tracker": {"tracking_code", "carrier"}}``: a tracker. With a
  ``webhook_url`` (auto tracking), a tracker registered this way (a parcel Odoo follows,
  shipped by someone else) moves by itself through ``follow_steps``, one every
  ``step_delay`` seconds, each step a ``tracker.updated`` event posted signed to the
  webhook URL, as EasyPost's test trackers do (``webhooks`` records each delivery and its
  answer). ``hold_tracking()``/``release_tracking()`` pause and resume those steps.
- Webhooks signed as EasyPost signs them: the secret NFKD-normalised, then HMAC-SHA256 of
  the body (:func:`sign`).
- An international shipment (the two countries differ) is bought with ``forms[]``: its
  commercial invoice, ``GET /forms/{shipment id}.pdf``. A shipment created with
  ``is_return`` has its two addresses swapped, as EasyPost does.

``shipments`` holds what was created and bought; ``purchases`` the shipment ids bought, in
order (the carrier's own count of postage bought); ``refunds`` the refunded shipment ids.
Requests keep their headers (``requests``): the ``Idempotency-Key`` the connector sends is
recorded, not acted on (EasyPost documents no such header).
"""

import base64
import copy
import datetime
import hashlib
import hmac
import json
import re
import threading
import time
import unicodedata
import uuid
from urllib.parse import parse_qs, unquote, urlsplit

import requests

from .documents import pdf_document, pdf_label, zpl_label
from .http_server import CuedHTTPServer

SERVICES = {
    # carrier, service: (base price, price per ounce, days)
    ("USPS", "Priority"): (7.00, 0.05, 2),
    ("USPS", "GroundAdvantage"): (4.50, 0.03, 5),
    ("UPS", "Ground"): (9.00, 0.04, 4),
    ("UPS", "NextDayAir"): (28.00, 0.10, 1),
}
US_ZIP = re.compile(r"\d{5}(-\d{4})?")
#: what a followed parcel goes through in auto tracking: (status, city)
FOLLOW_STEPS = (
    ("in_transit", "Memphis"),
    ("out_for_delivery", "Springfield"),
    ("delivered", "Springfield"),
)


class EasyPostSimulator:
    def __init__(
        self,
        api_key="EZTK_test_key",
        port=0,
        currency="USD",
        price_factor=1.0,
        bucket=False,
        png_labels=False,
        webhook_url=None,
        webhook_secret=None,
        follow_steps=FOLLOW_STEPS,
        step_delay=6.0,
    ):
        self.api_key = api_key
        # auto tracking of the trackers registered with POST /v2/trackers
        self.webhook_url = webhook_url
        self.webhook_secret = webhook_secret
        self.follow_steps = follow_steps
        self.step_delay = step_delay
        self.webhooks = []  # (tracking code, status, HTTP status answered or the error)
        self._stopped = threading.Event()
        self._tracking_released = threading.Event()
        self._tracking_released.set()
        self.currency = currency  # the currency of every rate quoted and postage bought
        self.price_factor = price_factor  # prices of SERVICES times this
        self.server = CuedHTTPServer(handler=self._dispatch, port=port)
        # the storage bucket holding labels and forms, on another origin (or the API itself)
        self.bucket = CuedHTTPServer(handler=self._bucket_dispatch) if bucket else None
        self.shipments = {}
        self.purchases = []
        self.refunds = []
        self.refund_objects = []  # EasyPost's Refund objects, oldest first
        self.refund_at_once = None  # "refunded", "rejected", "not_applicable": not submitted
        self.png_labels = png_labels
        self.trackers = {}
        self.corrupt_labels = False  # labels answered empty
        self._lost_buys = []  # answers to lose after buying: "timeout" or an HTTP status
        self._slow_buys = []  # seconds to wait after buying, before answering
        self._lock = threading.Lock()
        self._seq = 0

    # lifecycle ----------------------------------------------------------------------------
    def start(self):
        self.server.start()
        if self.bucket:
            self.bucket.start()
        return self

    def stop(self):
        self._stopped.set()
        self._tracking_released.set()
        self.server.stop()
        if self.bucket:
            self.bucket.stop()

    def url(self, path="/v2"):
        return self.server.url(path)

    @property
    def requests(self):
        return self.server.requests

    def reset(self):
        self.server.reset()
        if self.bucket:
            self.bucket.reset()
        with self._lock:
            self.shipments.clear()
            self.purchases.clear()
            self.refunds.clear()
            self.refund_objects.clear()
            self.refund_at_once = None
            self.trackers.clear()
            self.corrupt_labels = False
            self._lost_buys.clear()
            self._slow_buys.clear()
            self.webhooks.clear()

    # faults -------------------------------------------------------------------------------
    def fail_next(self, status, times=1, message=None):
        body = {"error": {"code": f"HTTP.{status}", "message": message or "simulated failure"}}
        self.server.cue(*[(status, {}, body)] * times)

    def hang_next(self, times=1, seconds=None):
        if seconds is not None:
            self.server.hang_seconds = seconds
        self.server.cue(*["hang"] * times)

    def lose_next_buy(self, how="timeout", times=1, seconds=None):
        """The next ``times`` purchases are made (the postage is bought, the shipment has
        its tracking code and label), but their answer is lost: ``"timeout"`` holds the
        connection without answering (``seconds``, longer than the client waits), an HTTP
        status (500, 502...) answers that error instead of the shipment."""
        if seconds is not None:
            self.server.hang_seconds = seconds
        with self._lock:
            self._lost_buys.extend([how] * times)

    def delay_next_buy(self, seconds):
        """The next purchase is made at once, and answered after ``seconds`` (a carrier
        slow to answer, not lost)."""
        with self._lock:
            self._slow_buys.append(seconds)

    def bought(self, reference=None):
        """The shipments bought (and not refunded), optionally under ``reference``."""
        return [
            s
            for s in self.shipments.values()
            if s["tracking_code"]
            and not s.get("refund_status")
            and (reference is None or s["reference"] == reference)
        ]

    # API ----------------------------------------------------------------------------------
    def _dispatch(self, req):
        path = req.path.split("?")[0]
        if self.bucket is None:
            files = self._files(req)
            if files:
                return files
        if not self._authorised(req):
            return 401, {}, _error("APIKEY.INVALID", "Invalid API key")
        if req.method == "POST" and path == "/v2/shipments":
            return self._create_shipment(req.json().get("shipment") or {})
        if req.method == "GET" and path == "/v2/shipments":
            return self._list_shipments(parse_qs(urlsplit(req.path).query))
        match = re.fullmatch(r"/v2/shipments/([^/]+)", path)
        if req.method == "GET" and match:
            return self._retrieve_shipment(unquote(match[1]))
        match = re.fullmatch(r"/v2/shipments/(shp_\w+)/label", path)
        if req.method == "GET" and match:
            query = parse_qs(urlsplit(req.path).query)
            return self._convert_label(match[1], (query.get("file_format") or [""])[0].upper())
        if req.method == "GET" and path == "/v2/refunds":
            return self._list_refunds(parse_qs(urlsplit(req.path).query))
        match = re.fullmatch(r"/v2/shipments/(shp_\w+)/(buy|refund)", path)
        if req.method == "POST" and match:
            shipment = self.shipments.get(match[1])
            if not shipment:
                return 404, {}, _error("NOT_FOUND", f"shipment {match[1]} not found")
            if match[2] == "buy":
                answer = self._buy(shipment, (req.json().get("rate") or {}).get("id"))
                with self._lock:
                    lost = self._lost_buys.pop(0) if answer[0] == 200 and self._lost_buys else None
                    slow = self._slow_buys.pop(0) if answer[0] == 200 and self._slow_buys else 0
                time.sleep(slow)
                if lost == "timeout":
                    return "hang"  # bought, but the client never hears it
                if lost:
                    return lost, {}, _error(f"HTTP.{lost}", "internal error")
                return answer
            return self._refund(shipment)
        if req.method == "POST" and path == "/v2/trackers":
            data = req.json().get("tracker") or {}
            if not data.get("tracking_code"):
                return 422, {}, _error("TRACKER.INVALID", "tracking_code is required")
            tracker = self._new_tracker(data["tracking_code"], data.get("carrier"), "unknown")
            if self.webhook_url:
                threading.Thread(
                    target=self._follow, args=(data["tracking_code"],), daemon=True
                ).start()
            return 201, {}, tracker
        match = re.fullmatch(r"/v2/trackers/(trk_\w+)", path)
        if req.method == "GET" and match:
            tracker = next((t for t in self.trackers.values() if t["id"] == match[1]), None)
            if not tracker:
                return 404, {}, _error("NOT_FOUND", f"tracker {match[1]} not found")
            return 200, {}, tracker
        return 404, {}, _error("NOT_FOUND", f"no route {req.method} {path}")

    def _files(self, req):
        """The label and form files; ``None`` for another path."""
        path = req.path.split("?")[0]
        if req.method == "GET" and path.startswith("/labels/"):
            return self._label(path)
        if req.method == "GET" and path.startswith("/forms/"):
            return self._form(path)
        return None

    def _bucket_dispatch(self, req):
        """The storage bucket: files only, and, as S3 answers a request carrying
        credentials it does not take, ``400 Unsupported Authorization Type``."""
        if req.headers.get("Authorization") is not None:
            return (
                400,
                {"Content-Type": "application/xml"},
                (
                    b'<?xml version="1.0" encoding="UTF-8"?>\n<Error><Code>InvalidArgument</Code>'
                    b"<Message>Unsupported Authorization Type</Message>"
                    b"<ArgumentName>Authorization</ArgumentName></Error>"
                ),
            )
        return self._files(req) or (404, {"Content-Type": "application/xml"}, b"<Error/>")

    def _files_url(self, path):
        return (self.bucket or self.server).url(path)

    def _authorised(self, req):
        header = req.headers.get("Authorization", "")
        if not header.startswith("Basic "):
            return False
        user = base64.b64decode(header[6:]).decode().split(":", 1)[0]
        return user == self.api_key

    def _create_shipment(self, data):
        errors = []
        for side in ("to_address", "from_address"):
            address = data.get(side) or {}
            for field in ("street1", "city", "zip", "country"):
                if not address.get(field):
                    errors.append({"field": f"{side}.{field}", "message": "cannot be blank"})
            zip_code = address.get("zip") or ""
            if address.get("country") == "US" and zip_code and not US_ZIP.fullmatch(zip_code):
                errors.append(
                    {"field": f"{side}.zip", "message": f"{zip_code} is not a US ZIP code"}
                )
        parcel = data.get("parcel") or {}
        if not float(parcel.get("weight") or 0) > 0:
            errors.append({"field": "parcel.weight", "message": "must be greater than 0"})
        if errors:
            return 422, {}, _error("SHIPMENT.INVALID_PARAMS", "Unable to create shipment", errors)
        with self._lock:
            self._seq += 1
            seq = self._seq
            shipment_id = f"shp_{seq:06d}{uuid.uuid4().hex[:6]}"
        weight = float(parcel["weight"])
        rates = [
            {
                "id": f"rate_{uuid.uuid4().hex[:12]}",
                "object": "Rate",
                "carrier": carrier,
                "service": service,
                "rate": f"{(base + per_oz * weight) * self.price_factor:.2f}",
                "currency": self.currency,
                "delivery_days": days,
                "shipment_id": shipment_id,
            }
            for (carrier, service), (base, per_oz, days) in SERVICES.items()
        ]
        if data.get("is_return"):  # as EasyPost does: the outbound's addresses, swapped
            data = dict(data, to_address=data["from_address"], from_address=data["to_address"])
        label_format = ((data.get("options") or {}).get("label_format") or "PDF").upper()
        shipment = {
            "id": shipment_id,
            "object": "Shipment",
            "created_at": f"2026-01-01T00:00:00.{seq:06d}Z",  # orders shipments as created
            "reference": data.get("reference"),
            "is_return": bool(data.get("is_return")),
            "to_address": data["to_address"],
            "from_address": data["from_address"],
            "parcel": parcel,
            "rates": rates,
            "options": {"label_format": label_format},
            "tracking_code": None,
            "selected_rate": None,
            "postage_label": None,
            "refund_status": None,
            "status": "unknown",
        }
        self.shipments[shipment_id] = shipment
        return 201, {}, shipment

    def _list_shipments(self, query):
        found = list(self.shipments.values())
        if query.get("reference"):
            found = [s for s in found if s["reference"] == query["reference"][0]]
        if query.get("purchased"):
            purchased = query["purchased"][0].lower() == "true"
            found = [s for s in found if bool(s["tracking_code"]) == purchased]
        found.sort(key=lambda s: s["created_at"], reverse=True)
        size = int((query.get("page_size") or ["20"])[0])
        return 200, {}, {"shipments": found[:size], "has_more": len(found) > size}

    def _retrieve_shipment(self, key):
        shipment = self.shipments.get(key)
        if shipment is None:
            same = [s for s in self.shipments.values() if s["reference"] == key]
            shipment = max(same, key=lambda s: s["created_at"]) if same else None
        if shipment is None:
            return 404, {}, _error("NOT_FOUND", f"shipment {key} not found")
        return 200, {}, shipment

    def _buy(self, shipment, rate_id):
        if shipment["selected_rate"]:
            return 422, {}, _error("SHIPMENT.POSTAGE.EXISTS", "postage already exists")
        rate = next((r for r in shipment["rates"] if r["id"] == rate_id), None)
        if not rate:
            return 422, {}, _error("SHIPMENT.RATE.INVALID", f"rate {rate_id} not found")
        fmt = "PNG" if self.png_labels else shipment["options"]["label_format"]
        tracking_code = f"9400{uuid.uuid4().int % 10**18:018d}"
        tracker = self._new_tracker(tracking_code, rate["carrier"], "pre_transit")
        self.purchases.append(shipment["id"])
        shipment.update(
            tracker=tracker,
            selected_rate=rate,
            tracking_code=tracking_code,
            status="pre_transit",
            postage_label=self._postage_label(shipment["id"], fmt),
        )
        if shipment["to_address"]["country"] != shipment["from_address"]["country"]:
            # an international parcel: the carrier issues its commercial invoice
            shipment["forms"] = [
                {
                    "object": "Form",
                    "form_type": "commercial_invoice",
                    "form_url": self._files_url(f"/forms/{shipment['id']}.pdf"),
                }
            ]
        return 200, {}, shipment

    FILE_TYPES = {"PDF": "application/pdf", "ZPL": "application/zpl", "PNG": "image/png"}

    def _postage_label(self, shipment_id, fmt):
        """EasyPost's PostageLabel: ``label_url`` is the file made first (``label_file_type``
        says which), ``label_pdf_url``/``label_zpl_url`` the file in that format once made."""
        url = self._files_url(f"/labels/{shipment_id}.{fmt.lower()}")
        return {
            "object": "PostageLabel",
            "id": f"pl_{uuid.uuid4().hex[:16]}",
            "label_file_type": self.FILE_TYPES[fmt],
            "label_url": url,
            "label_pdf_url": url if fmt == "PDF" else None,
            "label_zpl_url": url if fmt == "ZPL" else None,
        }

    def _convert_label(self, shipment_id, fmt):
        shipment = self.shipments.get(shipment_id)
        if not shipment or not shipment["postage_label"]:
            return 404, {}, _error("NOT_FOUND", f"no label for shipment {shipment_id}")
        if fmt not in ("PDF", "ZPL"):
            return 422, {}, _error("PARAMETER.INVALID", f"file_format {fmt} is not supported")
        shipment["postage_label"][f"label_{fmt.lower()}_url"] = self._files_url(
            f"/labels/{shipment_id}.{fmt.lower()}"
        )
        return 200, {}, shipment

    def _new_tracker(self, tracking_code, carrier, status):
        tracker = {
            "id": f"trk_{uuid.uuid4().hex[:16]}",
            "object": "Tracker",
            "tracking_code": tracking_code,
            "carrier": carrier,
            "status": status,
            "signed_by": None,
            "est_delivery_date": None,
            "tracking_details": [],
            "carrier_detail": None,
        }
        self.trackers[tracking_code] = tracker
        return tracker

    # tracking news -------------------------------------------------------------------------
    def advance(
        self,
        tracking_code,
        status,
        when,
        message=None,
        city=None,
        signed_by=None,
        status_detail=None,
        pod_url=None,
        estimated_delivery=None,
    ):
        """The carrier's news about a parcel: a tracking detail added to its tracker (which
        polling reads), returned as the ``tracker.updated`` event a webhook would carry."""
        tracker = self.trackers[tracking_code]
        tracker["tracking_details"].append(
            {
                "object": "TrackingDetail",
                "datetime": when,
                "status": status,
                "status_detail": status_detail,
                "message": message or status.replace("_", " "),
                "tracking_location": {"city": city, "state": None, "country": "US"} if city else {},
            }
        )
        tracker["tracking_details"].sort(key=lambda d: d["datetime"])
        tracker["status"] = tracker["tracking_details"][-1]["status"]
        if signed_by:
            tracker["signed_by"] = signed_by
        if estimated_delivery:  # a day, served as EasyPost's RFC 3339 time at midnight UTC
            tracker["est_delivery_date"] = f"{estimated_delivery}T00:00:00Z"
        # ``pod_url`` is not served: EasyPost's Tracker carries no proof-of-delivery URL
        # (its recorded carrier_detail holds service and locations), only ``signed_by``
        return self.event(tracking_code)

    # auto tracking --------------------------------------------------------------------------
    def hold_tracking(self):
        """Followed trackers stop moving until :meth:`release_tracking`."""
        self._tracking_released.clear()

    def release_tracking(self):
        self._tracking_released.set()

    def _follow(self, tracking_code):
        """A followed tracker's life: each step after ``step_delay`` s, sent by webhook."""
        for status, city in self.follow_steps:
            if self._stopped.wait(self.step_delay):
                return
            self._tracking_released.wait()
            if self._stopped.is_set() or tracking_code not in self.trackers:
                return
            now = datetime.datetime.now(datetime.UTC)
            when = now.strftime("%Y-%m-%dT%H:%M:%SZ")
            event = self.advance(
                tracking_code,
                status,
                when,
                city=city,
                signed_by="J. DOE" if status == "delivered" else None,
                # the carrier expects it two days after the first scan
                estimated_delivery=(now + datetime.timedelta(days=2)).date().isoformat()
                if not self.trackers[tracking_code].get("est_delivery_date")
                else None,
            )
            self.webhooks.append((tracking_code, status, self.send_webhook(event)))

    def send_webhook(self, event):
        """Post ``event`` to ``webhook_url``, signed as EasyPost signs; the HTTP status
        answered, or the error's text when nothing answered."""
        body = webhook_body(event)
        try:
            answer = requests.post(
                self.webhook_url,
                data=body,
                timeout=30,
                headers={
                    "Content-Type": "application/json",
                    "X-Hmac-Signature": sign(self.webhook_secret, body),
                },
            )
        except requests.RequestException as exc:
            return str(exc)
        return answer.status_code

    def event(self, tracking_code):
        return {
            "id": f"evt_{uuid.uuid4().hex[:16]}",
            "object": "Event",
            "description": "tracker.updated",
            # the tracker as it is now: later news must not change an event already sent
            "result": copy.deepcopy(self.trackers[tracking_code]),
        }

    def _refund(self, shipment):
        status = self.refund_at_once or "submitted"
        with self._lock:
            self.refunds.append(shipment["id"])
            self._seq += 1
            self.refund_objects.append(
                {
                    "id": f"rfnd_{self._seq:06d}{uuid.uuid4().hex[:6]}",
                    "object": "Refund",
                    "carrier": (shipment["selected_rate"] or {}).get("carrier"),
                    "confirmation_number": None,
                    "created_at": f"2026-01-01T00:00:00.{self._seq:06d}Z",
                    "updated_at": f"2026-01-01T00:00:00.{self._seq:06d}Z",
                    "shipment_id": shipment["id"],
                    "status": status,
                    "tracking_code": shipment["tracking_code"],
                }
            )
        shipment["refund_status"] = status
        return 200, {}, shipment

    def settle_refund(self, shipment_id, status):
        """The carrier decides on a refund submitted: ``"refunded"`` (answers the
        ``refund.successful`` event EasyPost sends) or ``"rejected"`` (EasyPost sends no
        event: ``None``; polling ``GET /v2/refunds`` sees it)."""
        refund = [r for r in self.refund_objects if r["shipment_id"] == shipment_id][-1]
        refund["status"] = status
        self.shipments[shipment_id]["refund_status"] = status
        if status != "refunded":
            return None
        return {
            "id": f"evt_{uuid.uuid4().hex[:16]}",
            "object": "Event",
            "description": "refund.successful",
            "result": dict(refund),
        }

    def _list_refunds(self, query):
        found = sorted(self.refund_objects, key=lambda r: r["created_at"], reverse=True)
        if query.get("before_id"):
            ids = [r["id"] for r in found]
            before = query["before_id"][0]
            found = found[ids.index(before) + 1 :] if before in ids else []
        size = int((query.get("page_size") or ["20"])[0])
        return 200, {}, {"refunds": found[:size], "has_more": len(found) > size}

    def _label(self, path):
        match = re.fullmatch(r"/labels/(shp_\w+)\.(pdf|zpl|png)", path)
        shipment = self.shipments.get(match[1]) if match else None
        if not shipment or not shipment["tracking_code"]:
            return 404, {}, _error("NOT_FOUND", "no label")
        if self.corrupt_labels:
            return 200, {"Content-Type": "application/pdf"}, b""
        if match[2] == "zpl":
            return 200, {}, zpl_label(shipment["tracking_code"])
        if match[2] == "png":  # a PNG signature and nothing else: the connector never keeps it
            return 200, {"Content-Type": "image/png"}, b"\x89PNG\r\n\x1a\n"
        return 200, {}, pdf_label(shipment["selected_rate"]["carrier"], shipment["tracking_code"])

    def _form(self, path):
        match = re.fullmatch(r"/forms/(shp_\w+)\.pdf", path)
        shipment = self.shipments.get(match[1]) if match else None
        if not shipment or not shipment.get("forms"):
            return 404, {}, _error("NOT_FOUND", "no form")
        return (
            200,
            {},
            pdf_document(
                "Commercial invoice",
                f"Shipment {shipment['reference']}",
                f"Tracking {shipment['tracking_code']}",
                width=595,
                height=842,
            ),
        )


def _error(code, message, errors=None):
    body = {"error": {"code": code, "message": message}}
    if errors:
        body["error"]["errors"] = errors
    return body


def sign(secret, body):
    """EasyPost's webhook signature: ``X-Hmac-Signature: hmac-sha256-hex=<hex>``, the HMAC
    keyed with the secret NFKD-normalised, in UTF-8 (as EasyPost's official clients check
    it: ``validate_webhook`` in EasyPost/easypost-python ``easypost/util.py``)."""
    key = unicodedata.normalize("NFKD", secret).encode("utf-8")
    return "hmac-sha256-hex=" + hmac.new(key, body, hashlib.sha256).hexdigest()


def webhook_body(event):
    return json.dumps(event).encode()
