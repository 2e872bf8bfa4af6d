"""A carrier web service in the classic SOAP shape, on loopback, for the carrier connector:
document/literal SOAP 1.1 built with ``spyne``, requests validated against the schema
(``lxml`` validator), operations ``getRates``, ``processShipment``, ``track`` and
``deleteShipment``. The connector ships this service's WSDL
(``logistics_carrier_connector/wsdl/carrier_ws_v1.wsdl``; ``python -m
logistics_simulators.soap_carrier --wsdl`` prints it) and talks to it with ``zeep``.

    sim = SoapCarrierSimulator(account_key="ACME-KEY").start()
    sim.url()                  # the service address for the backend
    sim.fault_next("Server.Unavailable", "maintenance")   # the next call answers a fault
    sim.hang_next(seconds=4)   # the next call answers late
    sim.lose_next_answer(seconds=12)  # the next booking is made, its answer comes too late

The service takes no reference or idempotency key for a booking and has no operation
listing an account's shipments (as many classic carrier web services): a booking whose
answer was lost cannot be found again by the client. ``shipments`` holds what it booked.

Faults: ``Client.Auth`` (wrong account key), ``Client.Address`` (an address the carrier
cannot deliver to: a zip of ``00000``), ``Client.Service`` (unknown service code),
``Server.*`` (the carrier's trouble).
"""

import base64
import logging
import sys
import threading
import time
import uuid
from decimal import Decimal as D
from socketserver import ThreadingMixIn
from wsgiref.simple_server import WSGIRequestHandler, WSGIServer, make_server

from spyne import (
    Application,
    Array,
    ComplexModel,
    Decimal,
    Fault,
    Integer,
    ServiceBase,
    Unicode,
    rpc,
)
from spyne.interface.wsdl import Wsdl11
from spyne.protocol.soap import Soap11
from spyne.server.wsgi import WsgiApplication

from .documents import pdf_label, zpl_label

NS = "urn:logistics:carrier:ws:v1"
# spyne logs every fault it answers with a traceback: the faults here are cued on purpose
logging.getLogger("spyne").setLevel(logging.CRITICAL)
SERVICES = {"EXPRESS": (14.0, 1.2, 1), "ECONOMY": (6.0, 0.6, 4)}


class Address(ComplexModel):
    __namespace__ = NS
    _type_info = [
        ("name", Unicode(min_occurs=1, nillable=False)),
        ("street", Unicode(min_occurs=1, nillable=False)),
        ("city", Unicode(min_occurs=1, nillable=False)),
        ("zip", Unicode(min_occurs=1, nillable=False)),
        ("country", Unicode(min_occurs=1, nillable=False, min_len=2, max_len=2)),
        ("phone", Unicode),
    ]


class Package(ComplexModel):
    __namespace__ = NS
    _type_info = [
        ("ref", Unicode(min_occurs=1, nillable=False)),
        ("weightKg", Decimal(min_occurs=1, nillable=False)),
    ]


class Rate(ComplexModel):
    __namespace__ = NS
    _type_info = [
        ("service", Unicode),
        ("amount", Decimal),
        ("currency", Unicode),
        ("days", Integer),
    ]


class ParcelResult(ComplexModel):
    __namespace__ = NS
    _type_info = [
        ("ref", Unicode),
        ("trackingNumber", Unicode),
        ("amount", Decimal),
        ("labelFormat", Unicode),
        ("labelBase64", Unicode),
    ]


class ShipmentResult(ComplexModel):
    __namespace__ = NS
    _type_info = [
        ("shipmentId", Unicode),
        ("totalAmount", Decimal),
        ("currency", Unicode),
        ("parcels", Array(ParcelResult)),
    ]


class TrackEvent(ComplexModel):
    __namespace__ = NS
    _type_info = [
        ("time", Unicode),
        ("code", Unicode),
        ("description", Unicode),
        ("location", Unicode),
    ]


class TrackResult(ComplexModel):
    __namespace__ = NS
    _type_info = [
        ("trackingNumber", Unicode),
        ("status", Unicode),
        ("events", Array(TrackEvent)),
    ]


_sims = {}  # the one simulator each spyne application answers for


def _sim(ctx):
    return _sims[id(ctx.app)]


class CarrierWebService(ServiceBase):
    @rpc(
        Unicode(min_occurs=1, nillable=False),
        Address.customize(min_occurs=1, nillable=False),
        Address.customize(min_occurs=1, nillable=False),
        Array(Package, min_occurs=1, nillable=False),
        _returns=Array(Rate),
    )
    def getRates(ctx, accountKey, shipFrom, shipTo, packages):
        sim = _sim(ctx)
        sim._enter(ctx, accountKey, shipTo)
        weight = sum(p.weightKg for p in packages)
        return [
            Rate(
                service=code,
                amount=sim.price(code, weight, len(packages)),
                currency="EUR",
                days=days,
            )
            for code, (_b, _k, days) in SERVICES.items()
        ]

    @rpc(
        Unicode(min_occurs=1, nillable=False),
        Unicode(min_occurs=1, nillable=False),
        Address.customize(min_occurs=1, nillable=False),
        Address.customize(min_occurs=1, nillable=False),
        Array(Package, min_occurs=1, nillable=False),
        Unicode(min_occurs=1, nillable=False),
        _returns=ShipmentResult,
    )
    def processShipment(ctx, accountKey, serviceCode, shipFrom, shipTo, packages, labelFormat):
        sim = _sim(ctx)
        sim._enter(ctx, accountKey, shipTo)
        if serviceCode not in SERVICES:
            raise Fault("Client.Service", f"unknown service {serviceCode}")
        shipment_id = f"SOAP-{uuid.uuid4().hex[:10].upper()}"
        parcels = []
        for package in packages:
            number = f"CW{uuid.uuid4().int % 10**12:012d}"
            label = pdf_label("ACME", number) if labelFormat == "PDF" else zpl_label(number)
            parcels.append(
                ParcelResult(
                    ref=package.ref,
                    trackingNumber=number,
                    amount=sim.price(serviceCode, package.weightKg, 1),
                    labelFormat=labelFormat,
                    labelBase64=base64.b64encode(label).decode(),
                )
            )
            sim.tracking[number] = {"status": "MANIFESTED", "events": []}
        sim.shipments[shipment_id] = [p.trackingNumber for p in parcels]
        sim._answer_late()  # booked: the answer may still be lost on the way
        return ShipmentResult(
            shipmentId=shipment_id,
            totalAmount=sum(p.amount for p in parcels),
            currency="EUR",
            parcels=parcels,
        )

    @rpc(
        Unicode(min_occurs=1, nillable=False),
        Unicode(min_occurs=1, nillable=False),
        _returns=TrackResult,
    )
    def track(ctx, accountKey, trackingNumber):
        sim = _sim(ctx)
        sim._enter(ctx, accountKey)
        info = sim.tracking.get(trackingNumber)
        if info is None:
            raise Fault("Client.Tracking", f"unknown tracking number {trackingNumber}")
        return TrackResult(
            trackingNumber=trackingNumber,
            status=info["status"],
            events=[TrackEvent(**event) for event in info["events"]],
        )

    @rpc(
        Unicode(min_occurs=1, nillable=False),
        Unicode(min_occurs=1, nillable=False),
        _returns=Unicode,
    )
    def deleteShipment(ctx, accountKey, shipmentId):
        sim = _sim(ctx)
        sim._enter(ctx, accountKey)
        if shipmentId not in sim.shipments:
            raise Fault("Client.Shipment", f"unknown shipment {shipmentId}")
        sim.deleted.append(shipmentId)
        return "DELETED"


def build_application():
    return Application(
        [CarrierWebService],
        tns=NS,
        name="CarrierWebService",
        in_protocol=Soap11(validator="lxml"),
        out_protocol=Soap11(),
    )


def wsdl(address="http://localhost/carrier-ws"):
    app = build_application()
    app.transport = "http://schemas.xmlsoap.org/soap/http"  # as the WSGI server sets it
    document = Wsdl11(app.interface)
    document.build_interface_document(address)
    return document.get_interface_document()


class _ThreadingWSGIServer(ThreadingMixIn, WSGIServer):
    daemon_threads = True


class _QuietHandler(WSGIRequestHandler):
    def log_message(self, *args):
        pass


class SoapCarrierSimulator:
    def __init__(self, account_key="SOAP-TEST-KEY", port=0):
        self.account_key = account_key
        self.app = build_application()
        _sims[id(self.app)] = self
        self.shipments = {}
        self.deleted = []
        self.tracking = {}
        self.calls = []  # operation names, in order
        self._faults = []
        self._hang = []
        self._late = []  # seconds to wait after booking, before answering
        self._lock = threading.Lock()
        self.httpd = make_server(
            "127.0.0.1",
            port,
            WsgiApplication(self.app),
            server_class=_ThreadingWSGIServer,
            handler_class=_QuietHandler,
        )

    def start(self):
        threading.Thread(target=self.httpd.serve_forever, daemon=True).start()
        return self

    def stop(self):
        self.httpd.shutdown()
        self.httpd.server_close()

    def url(self):
        return f"http://127.0.0.1:{self.httpd.server_address[1]}/carrier-ws"

    def reset(self):
        with self._lock:
            self.shipments.clear()
            self.deleted.clear()
            self.tracking.clear()
            self.calls.clear()
            self._faults.clear()
            self._hang.clear()
            self._late.clear()

    def fault_next(self, code, message):
        with self._lock:
            self._faults.append((code, message))

    def hang_next(self, seconds):
        with self._lock:
            self._hang.append(seconds)

    def lose_next_answer(self, seconds):
        """The next ``processShipment`` books the shipment at once, then answers only after
        ``seconds`` (longer than the client waits): booked, but the client never knows."""
        with self._lock:
            self._late.append(seconds)

    def _answer_late(self):
        with self._lock:
            late = self._late.pop(0) if self._late else None
        if late:
            time.sleep(late)

    def price(self, code, weight_kg, packages):
        base, per_kg, _days = SERVICES[code]
        return (D(str(base)) * packages + D(str(per_kg)) * D(str(weight_kg))).quantize(D("0.01"))

    def advance(self, tracking_number, code, when, description=None, location=None):
        info = self.tracking[tracking_number]
        info["events"].append(
            {"time": when, "code": code, "description": description or code, "location": location}
        )
        info["events"].sort(key=lambda e: e["time"])
        info["status"] = info["events"][-1]["code"]

    def _enter(self, ctx, account_key, ship_to=None):
        with self._lock:
            self.calls.append(ctx.method_request_string.split("}")[-1])
            fault = self._faults.pop(0) if self._faults else None
            hang = self._hang.pop(0) if self._hang else None
        if hang:
            time.sleep(hang)
        if fault:
            raise Fault(*fault)
        if account_key != self.account_key:
            raise Fault("Client.Auth", "the account key is not valid")
        if ship_to is not None and ship_to.zip == "00000":
            raise Fault("Client.Address", f"we do not deliver to {ship_to.zip} {ship_to.city}")


if __name__ == "__main__" and "--wsdl" in sys.argv:
    sys.stdout.write(wsdl().decode() + "\n")
