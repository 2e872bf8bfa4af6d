"""A customs broker, simulated: a real HTTP server on loopback taking declarations, signed
status webhooks back to Odoo, and UN/EDIFACT (CUSDEC in, CUSRES out) over SFTP.

    sim = CustomsBrokerSimulator(webhook_url, "whsec_...", api_token="tok").start()
    ...                                   # Odoo posts declarations to sim.url("/declarations")
    sim.declarations["CD/2026/00001"]     # every version received: canonical payloads
    sim.accept("CD/2026/00001")           # customs registered it: an MRN (26DE...)
    sim.require_documents("CD/2026/00001", documents=[{"code": "N954", "name": "EUR.1"}])
    sim.inspect("CD/2026/00001", reason="Physical inspection")
    sim.release("CD/2026/00001", duties=[{"type": "vat", "amount": 190.0, "currency": "EUR"}])
    sim.reject("CD/2026/00001", errors=[{"code": "E101", "text": "...", "pointer": "/lines/0"}])
    sim.cancel("CD/2026/00001")           # the broker (customs) cancels it
    sim.cancellations["CD/2026/00001"]    # cancellations Odoo sent: canonical payloads
    sim.post_status({...})                # any customs.status payload
    sim.fail_next(503, times=2)           # the next two API calls answer 503
    sim.stop()

Broker API (``Authorization: Bearer <api_token>`` required on every call when an
``api_token`` is set, else 401; ``GET /health`` is open):

* ``POST /declarations`` takes a CloudEvents 1.0 structured event (``Content-Type:
  application/cloudevents+json``; ``application/json`` is tolerated, anything else is 415)
  of type ``customs.declaration`` whose ``data`` is the canonical declaration; answers
  ``202 {"id", "reference", "version", "status": "submitted"}`` (``id`` = the broker's file
  number, the same for every version of a declaration); ``400`` malformed event, ``422``
  unusable declaration, ``409`` a version not newer than the last one received, or a
  declaration already released or cancelled. ``Idempotency-Key`` (else the event's
  ``source`` + ``id``) is honoured: a repeated key answers the first answer again (header
  ``Idempotent-Replayed: true``) without a second declaration; the same key with other
  data answers ``422``.
* ``POST /declarations`` also takes an event of type ``customs.cancel`` (the declarant
  withdraws a declaration it sent; ``data`` is canonical ``customs.cancel.v1.json``):
  ``202 {"id", "reference", "version", "status": "cancelled"}``, recorded in
  :attr:`cancellations`; ``404`` a declaration the broker never received, ``409`` one
  already released; the same ``Idempotency-Key`` rules.
* ``GET /declarations/<file id or reference>``: the broker's file (status, MRN, versions).

Status webhooks are CloudEvents of type ``customs.status`` whose ``data`` is canonical
(``customs.status.v1.json``), signed with the ``standardwebhooks`` library (``webhook-id``,
``webhook-timestamp``, ``webhook-signature``); every action returns a
:class:`~logistics_simulators.webhooks.WebhookResponse` (``status`` is None when nothing
answered). MRNs look like real ones: year, country of the customs office, 14 letters and
digits (``26DE7K3Q9M2XW81B4C``).

``auto=True`` (the demo, ``--auto``): each declaration version received by the API is
accepted after ``accept_delay`` s and released ``release_delay`` s later; a declaration
whose destination is outside the EU is first held once (``documents_required``, a
certificate of origin ``N954``) and released ``hold_delay`` s after the hold. Imports are
released with duty and import VAT. Deliveries that get no answer, 429 or 5xx are delivered
again with backoff (``retry_base`` s, doubling, ``max_redeliveries`` times).

UN/EDIFACT over SFTP, on a real SFTP server such as
``logistics_simulators.sftp_server.SFTPTestServer``; ``settings`` is an ``SFTPSettings`` with
Odoo's folder layout (``inbound_dir``: where Odoo reads, the broker drops its CUSRES there;
``outbound_dir``: where Odoo writes its CUSDEC)::

    sim.sftp_pickup_declarations(settings)          # read and remove Odoo's CUSDEC files
                                                    # (declarations and cancellations)
    sim.sftp_drop_cusres(settings, [status, ...])   # one CUSRES interchange, a message each
    sim.sftp_cycle(settings)                        # pick up, then accept + release (demo)
    sim.sftp_drop_file(settings, "CUSRES_bad.edi", damaged_content)

Files are written as ``<name>.part`` and renamed, as brokers do. The EDIFACT side is this
module's own implementation with pydifact (:func:`parse_cusdec`, :func:`build_cusres`) of
the profiles documented in ``logistics_customs/formats/edifact.py``; it does not use the
module's code.

CLI (runs until killed, one log line per event)::

    python -m logistics_simulators.customs_broker --port 8072 --webhook-url URL \\
        --secret whsec_... [--api-token TOKEN] [--auto]
"""

import dataclasses
import datetime as dt
import functools
import itertools
import json
import logging
import pathlib
import posixpath
import random
import re
import string
import sys
import textwrap
import time
from decimal import Decimal, InvalidOperation
from urllib.parse import unquote, urlsplit

from pydifact.control import Characters
from pydifact.exceptions import EDISyntaxError, ValidationError
from pydifact.parser import Parser
from pydifact.segmentcollection import Interchange, Message
from pydifact.segments import Segment, SegmentFactory

from .sftp_drops import SftpDrop, sftp_connection, sftp_drop
from .webhooks import WebhookPartner, check_cloudevent, cli_parser, problem, run_cli, utc_now

_logger = logging.getLogger("logistics_simulators.customs_broker")

DECLARATION_TYPE = "customs.declaration"
CANCEL_TYPE = "customs.cancel"
STATUS_TYPE = "customs.status"
CLOUDEVENTS_JSON = "application/cloudevents+json"
EU = frozenset(
    "AT BE BG HR CY CZ DK EE FI FR DE GR EL HU IE IT LV LT LU MT NL PL PT RO SK SI ES SE".split()
)
CERTIFICATE_OF_ORIGIN = {"code": "N954", "name": "Certificate of origin (EUR.1 movement)"}
DUTY_RATE, VAT_RATE = Decimal("0.045"), Decimal("0.19")  # the demo's import charges

# EDIFACT profile (see logistics_customs/formats/edifact.py), the broker's side ------------
_CHARACTERS = Characters(decimal_point=".")  # UNA:+.? '
_GIS = {
    "submitted": "SUB",
    "accepted": "ACC",
    "documents_required": "DOC",
    "inspection": "INS",
    "released": "REL",
    "rejected": "REJ",
    "cancelled": "CAN",
}
#: canonical status -> how a CUSRES says it with the UN/EDIFACT D.96B code lists (the
#: directory in tests/conformance/edifact_customs/): BGM 1001 document name, BGM 1225 message
#: function, GIS 7365 processing indicator (None: no GIS)
_D96B = {
    "submitted": ("962", "11", "17"),  # document response / response / message received
    "accepted": ("962", "29", "1"),  # accepted without amendment / message content accepted
    "documents_required": ("962", "11", "6"),  # all documents or as specified to be produced
    "inspection": ("962", "11", "5"),  # goods required for examination
    "released": ("962", "11", "4"),  # goods released
    "rejected": ("963", "27", "2"),  # error response / not accepted / rejected with comment
    "cancelled": ("961", "1", None),  # general response / cancellation
}
#: the CUSRES code profiles the broker speaks: the directory's codes, or the suite's first
#: profile (mutually defined GIS codes, agency ZZZ, and the MRN in BGM 1004)
PROFILES = ("d96b", "zzz")
_TAX = {"duty": ("5", "CUD"), "vat": ("7", "VAT"), "excise": ("7", "EXC"), "fee": ("6", "OTH")}
_MODES = {"1": "sea", "2": "rail", "3": "road", "4": "air", "5": "post"}
_DIRECTIONS = {"830": "export", "929": "import"}


class CusdecError(ValueError):
    """A CUSDEC the broker cannot read."""


# UN/EDIFACT --------------------------------------------------------------------------------
class _QuietFactory(SegmentFactory):
    """Segments without pydifact's directory check (it warns for every service segment)."""

    @staticmethod
    def create_segment(name, *elements, validate=True, version="4", directory=""):
        if not isinstance(name, str) or not re.fullmatch(r"[A-Z0-9]{3}", name):
            raise EDISyntaxError(f"{str(name)[:20]!r} is not a segment tag")
        if not elements:
            segment = SegmentFactory.create_segment(name, "", validate=False)
            segment.elements = []
            return segment
        return SegmentFactory.create_segment(name, *elements, validate=False)


def _segments(text):
    if isinstance(text, (bytes, bytearray)):
        head = bytes(text[:120])
        codec = "utf-8" if (b"UNOW" in head or b"UNOY" in head) else "latin-1"
        text = bytes(text).decode(codec)
    try:
        return [s for s in Parser(factory=_QuietFactory()).parse(text.lstrip()) if s.tag != "UNA"]
    except (EDISyntaxError, ValidationError, ValueError, IndexError) as exc:
        raise CusdecError(f"not a readable EDIFACT interchange: {exc}") from exc


def _el(segment, index, component=0):
    """Component ``component`` of element ``index`` ('' when absent)."""
    value = segment[index] if index < len(segment.elements) else None
    if isinstance(value, list):
        return value[component] if component < len(value) else ""
    return (value or "") if component == 0 else ""


def _parts(segment, index):
    value = segment[index] if index < len(segment.elements) else None
    if not value:
        return []
    return value if isinstance(value, list) else [value]


def _joined(parts):
    return " ".join(p.strip() for p in parts if p and p.strip()) or None


def _num(text, what):
    try:
        value = Decimal((text or "").strip().replace(",", "."))
    except InvalidOperation:
        raise CusdecError(f"{what}: {text!r} is not a number") from None
    return int(value) if value == value.to_integral_value() else float(value)


def _party(nad):
    return {
        "name": _joined(_parts(nad, 3)),
        "eori": _el(nad, 1) or None,
        "street": _joined(_parts(nad, 4)),
        "city": _el(nad, 5) or None,
        "zip": _el(nad, 7) or None,
        "country_code": _el(nad, 8) or None,
    }


def _read_cancellation(message):
    """Canonical ``customs.cancel`` of a CUSDEC of message function 1 (cancellation)."""
    cancellation = {
        "reference": None,
        "version": None,
        "direction": None,
        "broker_reference": None,
        "reason": [],
    }
    for segment in message[1:-1]:
        tag, first = segment.tag, _el(segment, 0)
        if tag == "BGM":
            cancellation["direction"] = _DIRECTIONS.get(first)
            cancellation["reference"] = _el(segment, 1) or None
        elif tag == "RFF" and first == "ABE":
            version = _el(segment, 0, 3)
            cancellation["version"] = int(version) if version.isdigit() else None
        elif tag == "RFF" and first == "AAE":
            cancellation["broker_reference"] = _el(segment, 0, 1) or None
        elif tag == "FTX" and first == "ACB":
            cancellation["reason"] += _parts(segment, 3)
    cancellation["reason"] = _joined(cancellation["reason"])
    missing = [k for k in ("reference", "version", "direction", "reason") if not cancellation[k]]
    if missing:
        raise CusdecError("the CUSDEC cancellation lacks " + ", ".join(missing))
    return cancellation


def read_cusdec(text):
    """``(envelope, document)`` of a CUSDEC interchange: envelope = ``{"sender",
    "recipient", "reference", "message", "function"}``; ``function`` is ``original``,
    ``replacement`` or ``cancellation`` (BGM 1225: 9, 5, 1) and document the canonical
    ``customs.declaration`` dict, or for a cancellation the canonical ``customs.cancel``.
    Raises :class:`CusdecError`."""
    segments = _segments(text)
    if not segments or segments[0].tag != "UNB" or segments[-1].tag != "UNZ":
        raise CusdecError("an interchange runs from UNB to UNZ")
    unb = segments[0]
    envelope = {"sender": _el(unb, 1), "recipient": _el(unb, 2), "reference": _el(unb, 4)}
    starts = [i for i, s in enumerate(segments) if s.tag == "UNH"]
    if len(starts) != 1:
        raise CusdecError(f"one CUSDEC message expected, found {len(starts)}")
    end = next((i for i in range(starts[0], len(segments)) if segments[i].tag == "UNT"), None)
    if end is None:
        raise CusdecError("the message has no UNT")
    message = segments[starts[0] : end + 1]
    unh, unt = message[0], message[-1]
    if _el(unh, 1) != "CUSDEC":
        raise CusdecError(f"a {_el(unh, 1)!r} message, not a CUSDEC")
    if _el(unt, 0) != str(len(message)):
        raise CusdecError(f"UNT counts {_el(unt, 0)} segments, the message has {len(message)}")
    envelope["message"] = _el(unh, 0)
    bgm = next((segment for segment in message if segment.tag == "BGM"), None)
    function = _el(bgm, 2) if bgm is not None else ""
    envelope["function"] = {"1": "cancellation", "5": "replacement"}.get(function, "original")
    if envelope["function"] == "cancellation":
        return envelope, _read_cancellation(message)

    declaration = {
        "reference": None,
        "version": None,
        "direction": None,
        "transfer": None,
        "order": None,
        "exporter": None,
        "importer": None,
        "declarant": None,
        "incoterm": None,
        "currency": None,
        "exchange_rate": None,
        "transport_mode": None,
        "country_of_dispatch": None,
        "country_of_destination": None,
        "packages": None,
        "gross_weight_kg": None,
        "net_weight_kg": None,
        "total_value": None,
        "lines": [],
    }
    section, line, items = "header", None, None
    for segment in message[1:-1]:
        tag, first = segment.tag, _el(segment, 0)
        if tag == "UNS":
            section = "items" if first == "D" else "summary"
        elif section == "header":
            if tag == "BGM":
                declaration["direction"] = _DIRECTIONS.get(first)
                declaration["reference"] = _el(segment, 1) or None
            elif tag == "RFF" and first == "ABE":
                version = _el(segment, 0, 3)
                declaration["version"] = int(version) if version.isdigit() else None
            elif tag == "RFF" and first == "DQ":
                declaration["transfer"] = _el(segment, 0, 1) or None
            elif tag == "RFF" and first in ("VN", "ON"):
                declaration["order"] = _el(segment, 0, 1) or None
            elif tag == "LOC" and first in ("35", "28"):
                key = "country_of_dispatch" if first == "35" else "country_of_destination"
                declaration[key] = _el(segment, 1)
            elif tag == "LOC" and first == "1" and declaration["incoterm"]:
                declaration["incoterm"]["place"] = _el(segment, 1, 3) or _el(segment, 1) or None
            elif tag == "MEA" and first == "WT":
                key = {"G": "gross_weight_kg", "AAL": "net_weight_kg"}.get(_el(segment, 1))
                if key:
                    declaration[key] = _num(_el(segment, 2, 1), key)
            elif tag == "NAD":
                key = {"EX": "exporter", "IM": "importer", "DT": "declarant"}.get(first)
                if key:
                    declaration[key] = _party(segment)
            elif tag == "TDT":
                declaration["transport_mode"] = _MODES.get(_el(segment, 2))
            elif tag == "TOD":
                declaration["incoterm"] = {"code": _el(segment, 2), "place": None}
            elif tag == "CUX":
                declaration["currency"] = _el(segment, 0, 1) or None
                if _el(segment, 2):
                    declaration["exchange_rate"] = _num(_el(segment, 2), "exchange rate")
            elif tag == "MOA" and first == "39":
                declaration["total_value"] = _num(_el(segment, 0, 1), "total value")
        elif section == "items":
            if tag == "CST":
                line = {
                    "line": _num(first, "goods item number"),
                    "hs_code": None,
                    "origin": None,
                    "description": [],
                    "quantity": None,
                    "uom": None,
                    "net_weight_kg": None,
                    "gross_weight_kg": None,
                    "value": None,
                }
                if _el(segment, 1):  # C246 customs identity code (1131 169: HS)
                    line["hs_code"] = _el(segment, 1)
                declaration["lines"].append(line)
            elif line is None:
                raise CusdecError(f"{tag} in the goods items before the first CST")
            elif tag == "PIA" and _el(segment, 1, 1) == "HS":
                line["hs_code"] = _el(segment, 1)
            elif tag == "FTX" and first == "AAA":
                line["description"] += _parts(segment, 3)
            elif tag == "LOC" and first == "27":
                line["origin"] = _el(segment, 1)
            elif tag == "QTY" and first == "47":
                line["quantity"] = _num(_el(segment, 0, 1), "quantity")
                line["uom"] = _el(segment, 0, 2) or None
            elif tag == "MEA" and first == "WT":
                key = {"G": "gross_weight_kg", "AAL": "net_weight_kg"}.get(_el(segment, 1))
                if key:
                    line[key] = _num(_el(segment, 2, 1), key)
            elif tag == "MEA" and first == "AAR":  # 1st specified tariff quantity
                line["quantity"] = _num(_el(segment, 2, 1), "quantity")
                line["uom"] = None if _el(segment, 2) in ("", "C62") else _el(segment, 2)
            elif tag == "MOA" and first == "38":
                line["value"] = _num(_el(segment, 0, 1), "item value")
        elif tag == "CNT" and first == "11":
            declaration["packages"] = _num(_el(segment, 0, 1), "packages")
        elif tag == "CNT" and first == "5":
            items = _num(_el(segment, 0, 1), "number of goods items")
    for line in declaration["lines"]:
        line["description"] = _joined(line["description"])
    if items is not None and items != len(declaration["lines"]):
        raise CusdecError(
            f"CNT+5 counts {items} goods items, the message has {len(declaration['lines'])}"
        )
    missing = [k for k in ("reference", "version", "direction", "currency") if not declaration[k]]
    if missing:
        raise CusdecError("the CUSDEC lacks " + ", ".join(missing))
    return envelope, declaration


def parse_cusdec(text):
    """CUSDEC interchange (str or bytes) -> canonical ``customs.declaration`` dict (or
    ``customs.cancel`` for a cancellation)."""
    return read_cusdec(text)[1]


def _amount(value):
    number = Decimal(str(value)).normalize()
    if number == 0:
        return "0"
    if number.as_tuple().exponent > 0:
        number = number.quantize(Decimal(1))
    return format(number, "f")


def _seg(tag, *elements):
    values = list(elements)
    while values and values[-1] in ("", None, []):
        values.pop()
    return Segment(tag, *["" if v is None else v for v in values])


def _texts(qualifier, text):
    pieces = textwrap.wrap(str(text), 70, break_on_hyphens=False)
    return [_seg("FTX", qualifier, "", "", pieces[i : i + 5]) for i in range(0, len(pieces), 5)]


def _cusres_segments(status, profile="d96b"):
    if status.get("status") not in _GIS:
        raise ValueError(f"unknown status {status.get('status')!r}")
    if profile not in PROFILES:
        raise ValueError(f"profile must be one of {', '.join(PROFILES)}")
    event_time = status.get("event_time") or utc_now()
    moment = dt.datetime.strptime(event_time, "%Y-%m-%dT%H:%M:%SZ")
    date = ["137", f"{moment:%Y%m%d%H%M}", "203"]
    if moment.second:
        date = ["137", f"{moment:%Y%m%d%H%M%S}", "204"]
    version = status.get("version")
    mrn = status.get("broker_reference")
    if profile == "zzz":
        bgm = _seg("BGM", "962", mrn or "", "9")
        gis = [_seg("GIS", [_GIS[status["status"]], "", "ZZZ"])]
    else:
        # BGM 1004: the number of the message answered, our CUSDEC's (the reference)
        document, function, indicator = _D96B[status["status"]]
        bgm = _seg("BGM", document, status["reference"], function)
        gis = [_seg("GIS", indicator)] if indicator else []
    segments = [bgm, _seg("DTM", date)]
    if status.get("reason"):
        segments += _texts("ACB", status["reason"])
    segments += gis
    segments.append(
        _seg(
            "RFF",
            ["ABE", status["reference"], "", str(version)]
            if version
            else ["ABE", status["reference"]],
        )
    )
    if profile == "d96b" and mrn:
        segments.append(_seg("RFF", ["ABT", mrn]))  # customs declaration number
    for error in status.get("errors") or []:
        match = re.match(r"^/lines/(\d+)", error.get("pointer") or "")
        segments.append(_seg("ERP", "2" if match else "1"))
        if match:
            segments.append(_seg("RFF", ["LI", str(int(match.group(1)) + 1)]))
        if error.get("code"):
            segments.append(_seg("ERC", [error["code"], "", "ZZZ"]))
        segments += _texts("AAO", error.get("text") or "")
    for duty in status.get("duties") or []:
        function, kind = _TAX[duty["type"]]
        segments.append(_seg("TAX", function, kind))
        segments.append(_seg("MOA", ["161", _amount(duty["amount"]), duty["currency"]]))
    for document in status.get("documents_requested") or []:
        name, code = document["name"], document.get("code") or "ZZZ"  # ZZZ: no code
        short = len(name) <= 35
        segments.append(_seg("DOC", [code, "", "ZZZ", name if short else ""]))
        if not short:
            segments += _texts("DOC", name)
    return segments


def build_cusres(statuses, interchange_ref, sender, recipient, prepared_at, profile="d96b"):
    """Canonical ``customs.status`` dicts -> one UN/EDIFACT interchange with a CUSRES D:96B
    message each, following the suite's CUSRES profile: its statuses in the directory's code
    lists (``profile="d96b"``) or in the first profile's mutually defined codes ("zzz")."""
    if prepared_at.tzinfo is not None:
        prepared_at = prepared_at.astimezone(dt.UTC)
    interchange = Interchange(
        sender=[sender, "ZZ"],
        recipient=[recipient, "ZZ"],
        control_reference=interchange_ref,
        syntax_identifier=("UNOC", 3),
        timestamp=prepared_at,
        characters=_CHARACTERS,
    )
    interchange.has_una_segment = True
    for number, status in enumerate(statuses, 1):
        message = Message(str(number), ("CUSRES", "D", "96B", "UN"), characters=_CHARACTERS)
        message.add_segments(_cusres_segments(status, profile))
        interchange.add_message(message)
    return interchange.serialize()


# the broker ---------------------------------------------------------------------------------
class CustomsBrokerSimulator(WebhookPartner):
    """Customs broker on ``http://<host>:<port>``; see the module docstring."""

    thread_name = "customs-broker"
    logger = _logger
    label = "customs broker"
    fault_key = "error"

    #: interchange ids of the simulated broker's EDIFACT files (UNB sender) and of Odoo
    edifact_id = "BROKERSIM"
    edifact_partner_id = "ODOO"

    def __init__(
        self,
        webhook_url=None,
        secret=None,
        api_token=None,
        host="127.0.0.1",
        port=0,
        auto=False,
        accept_delay=1.0,
        release_delay=2.0,
        hold_delay=3.0,
        source="urn:logistics:simulator:customs-broker",
        timeout=10.0,
        hang_seconds=5.0,
        retry_base=1.0,
        max_redeliveries=8,
    ):
        super().__init__(
            webhook_url,
            secret,
            api_token=api_token,
            host=host,
            port=port,
            source=source,
            timeout=timeout,
            hang_seconds=hang_seconds,
            retry_base=retry_base,
            max_redeliveries=max_redeliveries,
        )
        self.secret = secret
        self.auto = auto
        self.accept_delay = accept_delay
        self.release_delay = release_delay
        self.hold_delay = hold_delay

        self.declarations = {}  # reference -> [canonical payload of each version received]
        self.cancellations = {}  # reference -> [canonical customs.cancel received]
        self.files = {}  # reference -> the broker's file: id, status, mrn, history...
        self.sftp_results = []  # every file picked up: (name, reference, version, outcome)
        self._random = random.Random()
        # interchange control references: a counter from a random start, so that files of
        # several simulators (one per test) never share a name
        self._interchanges = itertools.count(self._random.randrange(1, 9_000_000))

    # lifecycle ------------------------------------------------------------------------------
    def reset(self):
        """Forget every declaration, delivery, pending auto step, cued fault and request."""
        with self._agenda_cv:
            self._agenda.clear()
        with self._lock:
            self.declarations.clear()
            self.cancellations.clear()
            self.files.clear()
            self.deliveries.clear()
            self.idempotency.clear()
            self.sftp_results.clear()
        self._server.reset()

    # HTTP API -------------------------------------------------------------------------------
    def _dispatch(self, req):
        path = urlsplit(req.path).path.rstrip("/") or "/"
        headers = {k.lower(): v for k, v in req.headers.items()}
        try:
            if path == "/health":
                return 200, {}, {"status": "ok"}
            if self._refuses_token(req, path, headers):
                return problem(401, "unauthorized", "a valid bearer token is required")
            if req.method == "POST" and path == "/declarations":
                return self._post_declaration(req.body, headers)
            if req.method == "GET" and path.startswith("/declarations/"):
                return self._get_declaration(unquote(path[len("/declarations/") :]))
            return problem(404, "not_found", f"no route for {req.method} {path}")
        except Exception as exc:
            _logger.warning("customs broker simulator failed on %s %s: %r", req.method, path, exc)
            return problem(500, "simulator_error", repr(exc))

    def _post_declaration(self, body, headers):
        content_type = (headers.get("content-type") or "").split(";")[0].strip().lower()
        if content_type not in (CLOUDEVENTS_JSON, "application/json"):
            return problem(
                415, "unsupported_media_type", f"expected {CLOUDEVENTS_JSON}, got {content_type!r}"
            )
        try:
            event = json.loads(body.decode()) if body else None
        except ValueError:
            return problem(400, "invalid_json", "the request body is not valid JSON")
        refused = check_cloudevent(event)
        if refused:
            return refused
        if event["type"] == CANCEL_TYPE:
            return self._receive_once(
                event,
                headers,
                "cancellation",
                lambda _key, _correlation: self._receive_cancel(event["data"], "rest"),
            )
        if event["type"] != DECLARATION_TYPE:
            return problem(
                400,
                "unsupported_type",
                f"type {event['type']!r} is not {DECLARATION_TYPE} or {CANCEL_TYPE}",
            )
        return self._receive_once(
            event,
            headers,
            "declaration",
            lambda _key, correlation: self._receive(event["data"], "rest", correlation=correlation),
        )

    def _get_declaration(self, ident):
        with self._lock:
            file = self.files.get(ident) or next(
                (f for f in self.files.values() if f["id"] == ident), None
            )
            if not file:
                return problem(404, "unknown_declaration", f"no declaration {ident}")
            return 200, {}, self._file_json(file)

    def _file_json(self, file):
        return {
            "id": file["id"],
            "reference": file["reference"],
            "version": file["version"],
            "status": file["status"],
            "mrn": file["mrn"],
            "versions": [p.get("version") for p in self.declarations.get(file["reference"], [])],
            "history": [{"status": s, "at": at} for s, at in file["history"]],
        }

    @staticmethod
    def _check(data):
        validator = _declaration_validator()
        if validator is not None:
            return [
                f"data{''.join(f'[{p!r}]' for p in error.absolute_path)}: {error.message}"
                for error in sorted(
                    validator.iter_errors(data), key=lambda e: [str(p) for p in e.path]
                )
            ][:10]
        problems = []
        if not isinstance(data.get("reference"), str) or not data.get("reference"):
            problems.append("data.reference is required")
        version = data.get("version")
        if isinstance(version, bool) or not isinstance(version, int) or version < 1:
            problems.append("data.version must be a whole number >= 1")
        if data.get("direction") not in ("export", "import"):
            problems.append("data.direction must be export or import")
        lines = data.get("lines")
        if not isinstance(lines, list) or not lines:
            problems.append("data.lines must list at least one goods item")
        else:
            for i, line in enumerate(lines):
                if not isinstance(line, dict) or not line.get("hs_code"):
                    problems.append(f"data.lines[{i}].hs_code is required")
        return problems

    def _receive_cancel(self, data, channel):
        """The declarant withdraws a declaration (API or SFTP): (status, headers, body)."""
        problems = _problems(_cancel_validator(), data)
        if problems:
            self._log("cancellation refused: %s", "; ".join(problems))
            return problem(422, "invalid_cancellation", "; ".join(problems))
        reference = data["reference"]
        with self._lock:
            file = self.files.get(reference)
            if not file:
                self._log("cancellation of %s refused: unknown", reference)
                return problem(
                    404, "unknown_declaration", f"no declaration {reference} was received"
                )
            if file["status"] == "released":
                self._log("cancellation of %s refused: released", reference)
                return problem(
                    409,
                    "declaration_closed",
                    f"declaration {reference} is released and can no longer be cancelled",
                )
            file["status"] = "cancelled"
            file["history"].append(("cancelled", utc_now()))
            self.cancellations.setdefault(reference, []).append(data)
            self._log("%s cancellation received (%s): %s", reference, channel, data["reason"])
            return (
                202,
                {},
                {
                    "id": file["id"],
                    "reference": reference,
                    "version": file["version"],
                    "status": "cancelled",
                },
            )

    def _receive(self, data, channel, correlation=None, envelope=None):
        """A declaration version arrives (API or SFTP): (status, headers, body)."""
        problems = self._check(data)
        if problems:
            self._log("declaration refused: %s", "; ".join(problems))
            return problem(422, "invalid_declaration", "; ".join(problems))
        reference, version = data["reference"], data["version"]
        with self._lock:
            file = self.files.get(reference)
            versions = self.declarations.get(reference, [])
            if versions and version <= versions[-1]["version"]:
                self._log("%s v%s refused: not newer than v%s", reference, version, file["version"])
                return problem(
                    409,
                    "version_conflict",
                    f"version {version} of {reference} is not newer than version "
                    f"{versions[-1]['version']} already received",
                )
            if file and file["status"] in ("released", "cancelled"):
                self._log("%s v%s refused: %s", reference, version, file["status"])
                return problem(
                    409,
                    "declaration_closed",
                    f"declaration {reference} is {file['status']} and can no longer change",
                )
            if not file:
                file = {
                    "id": f"BRK-{next(self._ids):06d}",
                    "reference": reference,
                    "mrn": None,
                    "held": False,
                    "history": [],
                }
                self.files[reference] = file
            file.update(
                version=version,
                status="submitted",
                channel=channel,
                correlation_id=correlation,
                received_at=utc_now(),
            )
            if envelope:
                file["edifact_partner"] = envelope.get("sender")
            file["history"].append(("submitted", utc_now()))
            self.declarations.setdefault(reference, []).append(data)
            self._log("%s v%s received (%s) as %s -> 202", reference, version, channel, file["id"])
            if channel == "rest":
                self._schedule_auto(reference, version)
            return (
                202,
                {},
                {
                    "id": file["id"],
                    "reference": reference,
                    "version": version,
                    "status": "submitted",
                },
            )

    # statuses ---------------------------------------------------------------------------------
    def new_mrn(self, country="DE"):
        """A movement reference number: year, country, 14 letters and digits."""
        alphabet = string.ascii_uppercase + string.digits
        tail = "".join(self._random.choice(alphabet) for _ in range(14))
        return f"{dt.datetime.now(dt.UTC):%y}{(country or 'DE')[:2].upper()}{tail}"

    def _office_country(self, reference):
        versions = self.declarations.get(reference) or [{}]
        latest = versions[-1]
        if latest.get("direction") == "import":
            return latest.get("country_of_destination") or "DE"
        return latest.get("country_of_dispatch") or "DE"

    def status_data(
        self,
        reference,
        status,
        *,
        reason=None,
        errors=None,
        documents=None,
        duties=None,
        mrn=None,
        version=None,
        event_time=None,
    ):
        """Canonical ``customs.status`` for ``reference`` (latest version received, its MRN,
        now), recording the status on the broker's file. An ``accepted`` declaration gets
        an MRN unless it has one."""
        if status not in _GIS:
            raise ValueError(f"status must be one of {', '.join(_GIS)}")
        with self._lock:
            file = self.files.get(reference)
            if status == "accepted" and not mrn and not (file and file["mrn"]):
                mrn = self.new_mrn(self._office_country(reference))
            if file:
                if mrn:
                    file["mrn"] = mrn
                file["status"] = status
                file["history"].append((status, utc_now()))
                if status == "documents_required":
                    file["held"] = True
            return {
                "reference": reference,
                "version": version or (file and file["version"]) or None,
                "status": status,
                "broker_reference": mrn or (file and file["mrn"]) or None,
                "event_time": event_time or utc_now(),
                "reason": reason,
                "errors": [dict(e) for e in errors or []],
                "documents_requested": [dict(d) for d in documents or []],
                "duties": [dict(d) for d in duties or []],
            }

    def accept(self, reference, mrn=None, **send):
        """``accepted``: customs registered the declaration (MRN given or made up)."""
        return self.post_status(self.status_data(reference, "accepted", mrn=mrn), **send)

    def require_documents(self, reference, documents=None, reason=None, **send):
        """``documents_required`` (a hold): ``documents`` ``[{"code", "name"}]``, a
        certificate of origin by default."""
        data = self.status_data(
            reference,
            "documents_required",
            documents=documents or [CERTIFICATE_OF_ORIGIN],
            reason=reason or "Proof of preferential origin required before release",
        )
        return self.post_status(data, **send)

    def inspect(self, reference, reason=None, **send):
        """``inspection`` (a hold): the goods are to be inspected."""
        data = self.status_data(
            reference,
            "inspection",
            reason=reason or "Physical inspection of the goods ordered by customs",
        )
        return self.post_status(data, **send)

    def release(self, reference, duties=None, reason=None, **send):
        """``released``: the goods may move; ``duties`` ``[{"type", "amount", "currency"}]``."""
        data = self.status_data(reference, "released", duties=duties, reason=reason)
        return self.post_status(data, **send)

    def reject(self, reference, errors=None, reason=None, **send):
        """``rejected``: ``errors`` ``[{"code", "text", "pointer"}]`` say why."""
        errors = errors or [
            {"code": "E101", "text": "Commodity code not valid for this procedure", "pointer": None}
        ]
        data = self.status_data(
            reference, "rejected", errors=errors, reason=reason or "Declaration rejected"
        )
        return self.post_status(data, **send)

    def cancel(self, reference, reason=None, **send):
        """``cancelled``: the declaration is withdrawn."""
        data = self.status_data(
            reference, "cancelled", reason=reason or "Declaration invalidated on request"
        )
        return self.post_status(data, **send)

    # webhooks ---------------------------------------------------------------------------------
    def post_status(self, data, msg_id=None, timestamp=None, correlation_id=None):
        """Signed CloudEvents webhook of type ``customs.status`` carrying ``data``."""
        if correlation_id is None and isinstance(data, dict):
            correlation_id = (self.files.get(data.get("reference")) or {}).get("correlation_id")
        subject = data.get("reference") if isinstance(data, dict) else None
        return self.post_event(
            STATUS_TYPE,
            data,
            msg_id=msg_id,
            timestamp=timestamp,
            correlation_id=correlation_id,
            subject=subject if isinstance(subject, str) else None,
        )

    # auto mode ------------------------------------------------------------------------------
    def _schedule_auto(self, reference, version):
        if not self.auto:
            return
        due = time.monotonic() + self.accept_delay
        self._schedule(due, f"accept {reference} v{version}", self._auto_step, reference, version)

    def _auto_step(self, reference, version):
        """One step of the demo: submitted -> accepted -> (documents_required once, outside
        the EU) -> released. A newer version or a final status ends the chain."""
        with self._lock:
            file = self.files.get(reference)
            if not file or file["version"] != version:
                return None
            status = file["status"]
            latest = self.declarations[reference][-1]
        if status in ("released", "rejected", "cancelled", "inspection"):
            self._log("auto: %s v%s left as %s", reference, version, status)
            return None
        now = time.monotonic()
        if status == "submitted":
            result = self.accept(reference)
            self._schedule(
                now + self.release_delay, f"next {reference}", self._auto_step, reference, version
            )
            return result
        outside_eu = (latest.get("country_of_destination") or "") not in EU
        if status == "accepted" and outside_eu and not file["held"]:
            result = self.require_documents(reference)
            self._schedule(
                now + self.hold_delay, f"release {reference}", self._auto_step, reference, version
            )
            return result
        return self.release(reference, duties=self._demo_duties(latest))

    @staticmethod
    def _demo_duties(declaration):
        if declaration.get("direction") != "import":
            return []
        value = Decimal(str(declaration.get("total_value") or 0))
        currency = declaration.get("currency") or "EUR"
        duty = (value * DUTY_RATE).quantize(Decimal("0.01"))
        vat = ((value + duty) * VAT_RATE).quantize(Decimal("0.01"))
        return [
            {"type": "duty", "amount": float(duty), "currency": currency},
            {"type": "vat", "amount": float(vat), "currency": currency},
        ]

    # UN/EDIFACT over SFTP -------------------------------------------------------------------
    # ``settings`` is an SFTPSettings (logistics_integration_base.transport.sftp) with Odoo's
    # folder layout: ``outbound_dir`` where Odoo writes its CUSDEC files (picked up here),
    # ``inbound_dir`` where Odoo reads (the broker drops its CUSRES files there).

    def sftp_pickup_declarations(self, settings, remove=True, pattern="*"):
        """Take the CUSDEC files Odoo wrote in ``settings.outbound_dir``, oldest first, read
        them with :func:`parse_cusdec` into :attr:`declarations` (cancellations into
        :attr:`cancellations`), as the API would, and
        remove them (``remove``), as a broker does. Returns ``[(file name, reference,
        version, outcome)]``; outcome is the HTTP-like status (202, 409, 422) or
        ``"unreadable: ..."``."""
        pickup = dataclasses.replace(settings, inbound_dir=settings.outbound_dir, min_file_age=0)
        results = []
        with sftp_connection(pickup) as conn:
            for remote in conn.list_ready(pattern):
                data = conn.read(remote.name)
                try:
                    envelope, declaration = read_cusdec(data)
                except CusdecError as exc:
                    results.append((remote.name, None, None, f"unreadable: {exc}"))
                else:
                    if envelope["function"] == "cancellation":
                        status, _headers, _body = self._receive_cancel(
                            declaration, f"sftp:{remote.name}"
                        )
                    else:
                        status, _headers, _body = self._receive(
                            declaration, f"sftp:{remote.name}", envelope=envelope
                        )
                    results.append(
                        (remote.name, declaration["reference"], declaration["version"], status)
                    )
                if remove:
                    conn.sftp.remove(posixpath.join(pickup.inbound_dir or ".", remote.name))
        with self._lock:
            self.sftp_results += results
        self._log("sftp: picked up %d CUSDEC file(s)", len(results))
        return results

    def sftp_drop_cusres(self, settings, statuses, filename=None, recipient=None, profile="d96b"):
        """Drop one CUSRES interchange (a message per status) in ``settings.inbound_dir``,
        written as ``.part`` and renamed. A status may be a canonical dict or ``(reference,
        status)``; missing ``version``, ``broker_reference`` and ``event_time`` are taken
        from the broker's file (see :meth:`status_data`). Returns an ``SftpDrop``."""
        complete = []
        for status in statuses:
            if isinstance(status, (tuple, list)):
                status = self.status_data(*status)
            elif not {"version", "broker_reference", "event_time"} <= status.keys():
                filled = self.status_data(
                    status["reference"],
                    status["status"],
                    mrn=status.get("broker_reference"),
                    version=status.get("version"),
                    event_time=status.get("event_time"),
                )
                status = {**filled, **{k: v for k, v in status.items() if v is not None}}
            complete.append(status)
        reference = f"BRK{next(self._interchanges):07d}"
        partner = recipient or next(
            (
                self.files[s["reference"]].get("edifact_partner")
                for s in complete
                if s["reference"] in self.files
                and self.files[s["reference"]].get("edifact_partner")
            ),
            self.edifact_partner_id,
        )
        content = build_cusres(
            complete, reference, self.edifact_id, partner, dt.datetime.now(dt.UTC), profile
        )
        name = filename or f"CUSRES_{reference}.edi"
        path = sftp_drop(settings, name, content.encode("latin-1", errors="replace"))
        self._log("sftp: CUSRES %s dropped (%d status(es))", name, len(complete))
        return SftpDrop(path, name, content, complete)

    def sftp_cycle(self, settings):
        """One round of a file-based broker (demo): pick up Odoo's CUSDEC files, then answer
        each version received with one CUSRES: accepted, then released."""
        picked = self.sftp_pickup_declarations(settings)
        drops = []
        for _name, reference, _version, outcome in picked:
            if outcome == 202:
                latest = self.declarations[reference][-1]
                accepted = self.status_data(reference, "accepted")
                released = self.status_data(reference, "released", duties=self._demo_duties(latest))
                drops.append(self.sftp_drop_cusres(settings, [accepted, released]))
        return picked, drops

    def sftp_drop_file(self, settings, name, content):
        """Drop any content (a hand-made or damaged file) atomically."""
        return SftpDrop(sftp_drop(settings, name, content), name, content, None)


@functools.cache
def _validator(name):
    """JSON Schema validator of a canonical payload, when the module's schema is next to
    the simulators (this repository); None elsewhere."""
    path = pathlib.Path(__file__).resolve().parents[2] / "logistics_customs" / "schemas" / name
    if not path.is_file():
        return None
    from jsonschema import Draft202012Validator

    return Draft202012Validator(json.loads(path.read_text()))


def _declaration_validator():
    return _validator("customs.declaration.v1.json")


def _cancel_validator():
    return _validator("customs.cancel.v1.json")


def _problems(validator, data):
    """What breaks the schema in ``data`` (at most 10), or the minimum checks without it."""
    if validator is not None:
        return [
            f"data{''.join(f'[{p!r}]' for p in error.absolute_path)}: {error.message}"
            for error in sorted(validator.iter_errors(data), key=lambda e: [str(p) for p in e.path])
        ][:10]
    if not isinstance(data, dict) or not isinstance(data.get("reference"), str):
        return ["data.reference is required"]
    if not isinstance(data.get("reason"), str) or not data["reason"].strip():
        return ["data.reason is required"]
    return []


def main(argv=None):
    parser = cli_parser(
        "logistics_simulators.customs_broker",
        __doc__.split("\n")[0],
        "accept, hold and release by itself",
    )
    parser.add_argument("--accept-delay", type=float, default=1.0)
    parser.add_argument("--release-delay", type=float, default=2.0)
    parser.add_argument("--hold-delay", type=float, default=3.0)
    return run_cli(CustomsBrokerSimulator, parser.parse_args(argv), "customs-sim")


if __name__ == "__main__":
    sys.exit(main())
