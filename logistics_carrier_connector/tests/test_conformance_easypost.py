"""EasyPost as EasyPost published it: the official clients' recorded cassettes and webhook
fixtures (``tests/conformance/easypost``, see its SOURCES.md) replayed through the real
paths — the delivery method rating a sale order, a delivery validated and booked, a
shipment cancelled, the tracking cron, and signed events posted over HTTP to the webhook
route. See ``easypost_recordings.py`` for how the recordings are replayed."""

import base64
import json
import unicodedata

from conformance import read_bytes

from odoo.tests import tagged
from odoo.tests.common import _super_send

from odoo.addons.logistics_carrier_connector.adapters.easypost import sign
from odoo.addons.logistics_integration_base.tests.common import (
    LogisticsHttpCase,
    LogisticsTransactionCase,
    run_jobs,
)

from .common import CarrierFixture
from .easypost_recordings import API, LABEL_FILES, label_file, replay, replaying, responses

FIXTURES = json.loads(read_bytes("easypost", "fixtures", "client-library-fixtures.json"))
#: the published webhook secret (non-ASCII) and the signature of the published event
SECRET = FIXTURES["webhooks"]["secret"]
SIGNATURE = FIXTURES["webhooks"]["hmac_signature"]


def published_event_body():
    """The published ``tracker.updated`` event, as the clients' tests sign it: the file's
    JSON without its final newline (``json.dumps(..., separators=(",", ":"))`` of it)."""
    return read_bytes("easypost", "fixtures", "event-body.json").rstrip(b"\n")


class RecordedCarrier(CarrierFixture):
    """A carrier backend whose base URL is EasyPost's own (the recordings' host), with the
    service the recordings bought (USPS GroundAdvantage)."""

    @classmethod
    def _request_handler(cls, s, r, /, **kw):
        """Odoo's tests refuse requests to other hosts; while a published recording
        replays, vcrpy answers them instead (and fails on one it has not recorded)."""
        if replaying():
            return _super_send(s, r, **kw)
        return super()._request_handler(s, r, **kw)

    @classmethod
    def setup_recorded_carrier(cls, **backend_vals):
        cls.setup_carrier(**backend_vals)
        cls.backend.base_url = API
        cls.method.logistics_service_code = "GroundAdvantage"

    def make_order(self, lines):
        return self.env["sale.order"].create(
            {
                "partner_id": self.customer.id,
                "warehouse_id": self.warehouse.id,
                "order_line": [
                    (0, 0, {"product_id": product.id, "product_uom_qty": qty})
                    for product, qty in lines
                ],
            }
        )

    def recorded_parcel(self, shipment, state="booked"):
        """A delivery with the parcel a recording bought (its shipment id, tracking code,
        tracker and price), as a booking would have kept it."""
        picking = self.make_delivery([(self.kettle, 1)])
        picking.carrier_tracking_ref = shipment["tracking_code"]
        return self.env["logistics.carrier.parcel"].create(
            {
                "picking_id": picking.id,
                "backend_id": self.backend.id,
                "carrier_id": self.method.id,
                "package_name": "Bulk Content",
                "shipment_ref": shipment["id"],
                "tracking_number": shipment["tracking_code"],
                "tracker_ref": (shipment.get("tracker") or {}).get("id"),
                "service": "USPS GroundAdvantage",
                "price": float(shipment["selected_rate"]["rate"]),
                "currency": shipment["selected_rate"]["currency"],
                "state": state,
            }
        )


@tagged("post_install", "-at_install")
class TestEasyPostRecordings(RecordedCarrier, LogisticsTransactionCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.setup_recorded_carrier(carrier_followed_codes="USPS")

    def test_rate_from_the_recorded_shipment(self):
        [recorded] = responses("test_shipment_create.yaml", "POST", "/v2/shipments")
        [ground] = [r for r in recorded["rates"] if r["service"] == "GroundAdvantage"]
        self.assertIsInstance(ground["rate"], str, "EasyPost sends amounts as strings")
        order = self.make_order([(self.kettle, 1)])
        with replay("test_shipment_create.yaml") as cassette:
            result = self.method.rate_shipment(order)
        self.assertEqual(cassette.play_count, 1)
        self.assertTrue(result["success"], result)
        self.assertEqual(result["price"], float(ground["rate"]))  # 6.07 USD
        [call] = self.calls(order, "carrier.rate")
        self.assertEqual(call.state, "acknowledged")
        self.assertIn(f'"price": {float(ground["rate"])}', call.response_payload)

    def test_recorded_refusal_reads_in_business_words(self):
        order = self.make_order([(self.kettle, 1)])
        with replay("test_error.yaml"):
            result = self.method.rate_shipment(order)
        self.assertFalse(result["success"])
        self.assertIn(
            "Carrier Parcel Co refused: cannot be blank (shipment)", result["error_message"]
        )

    def test_booking_buys_converts_the_label_and_fetches_it_without_credentials(self):
        """A recorded purchase: created, bought with the rate of the method's service, its
        PNG label converted to ZPL (``GET /shipments/{id}/label?file_format=ZPL``), the ZPL
        fetched from EasyPost's S3 bucket without the API key (the bucket refuses
        credentials). The shipment list asked for first (the booking's reference) answers
        other shipments: EasyPost ignores that filter, the connector does not."""
        self.backend.carrier_label_format = "ZPL"
        create, bought, converted = responses("test_shipment_convert_label.yaml")
        zpl_url = converted["postage_label"]["label_zpl_url"]
        self.assertIsNone(bought["postage_label"]["label_zpl_url"], "made in PNG first")
        picking = self.make_delivery([(self.kettle, 1)])
        with replay(
            "test_shipment_convert_label.yaml",
            "test_shipment_all.yaml",
            extra=label_file(zpl_url),
        ) as cassette:
            self.validate(picking)
        [parcel] = picking.logistics_parcel_ids
        self.assertEqual(parcel.shipment_ref, bought["id"])
        self.assertEqual(parcel.tracking_number, bought["tracking_code"])
        self.assertEqual(parcel.tracker_ref, bought["tracker"]["id"])
        self.assertEqual(parcel.price, float(bought["selected_rate"]["rate"]))
        self.assertEqual(parcel.currency, "USD")
        self.assertEqual(picking.carrier_tracking_ref, bought["tracking_code"])
        self.assertEqual(base64.b64decode(parcel.label_attachment_id.datas), LABEL_FILES["zpl"])
        played = [cassette.requests[i] for i, n in cassette.play_counts.items() if n]
        self.assertEqual(
            [(r.method, r.path) for r in played],
            [
                ("GET", "/v2/shipments"),  # bought before under the reference? (ignored filter)
                ("POST", "/v2/shipments"),
                ("POST", f"/v2/shipments/{create['id']}/buy"),
                ("GET", f"/v2/shipments/{create['id']}/label"),
                ("GET", zpl_url.split(".com", 1)[1]),  # without credentials
            ],
        )

    def test_void_requested_then_refused_by_the_carrier_seen_by_polling(self):
        """Cancel: EasyPost answers ``refund_status: submitted`` (recorded): the parcel
        shows Void requested. The cron then lists the account's refunds (recorded by
        easypost-go): the one ``rejected`` puts its parcel back to Booked and tells who
        asked; one still ``submitted`` stays requested."""
        [_created, refunded] = responses("test_shipment_refund.yaml")
        self.assertEqual(refunded["refund_status"], "submitted")
        parcel = self.recorded_parcel(refunded)
        picking = parcel.picking_id
        with replay("test_shipment_refund.yaml") as cassette:
            picking.cancel_shipment()
        self.assertEqual(cassette.play_count, 1)
        self.assertEqual(parcel.state, "void_requested")
        self.assertTrue(parcel.void_requested_at)
        self.assertEqual(parcel.void_requested_by, self.env.user)
        self.assertFalse(picking.carrier_tracking_ref)
        self.assertTrue(any("(Void requested)" in m.body for m in picking.message_ids))

        [listed] = responses("TestRefundAll.yaml")
        by_status = {}
        for refund in listed["refunds"]:
            by_status.setdefault(refund["status"], refund)
        rejected = self.recorded_parcel(
            self.as_shipment(by_status["rejected"]), state="void_requested"
        )
        waiting = self.recorded_parcel(
            self.as_shipment(by_status["submitted"]), state="void_requested"
        )
        (rejected | waiting).void_requested_at = "2024-07-26 20:00:00"
        with replay("TestRefundAll.yaml") as cassette:
            self.env["logistics.backend"]._cron_poll_carrier_tracking()
        self.assertEqual(cassette.play_count, 1)
        run_jobs(self.env)
        self.assertEqual(rejected.state, "booked")
        self.assertEqual(rejected.picking_id.carrier_tracking_ref, rejected.tracking_number)
        [activity] = rejected.picking_id.activity_ids
        self.assertIn("refused to void parcel", activity.summary)
        self.assertIn(
            "its label is still valid and is billed", rejected.picking_id.message_ids[0].body
        )
        self.assertEqual(waiting.state, "void_requested")
        self.assertEqual(parcel.state, "void_requested", "not in the recorded list: still asked")

    @staticmethod
    def as_shipment(refund):
        """The shipment a recorded Refund names, as far as the refund tells."""
        return {
            "id": refund["shipment_id"],
            "tracking_code": refund["tracking_code"],
            "selected_rate": {"rate": "0.00", "currency": "USD"},
        }

    def test_a_parcel_followed_then_polled_from_the_recorded_tracker(self):
        created, polled = responses("test_tracker_retrieve.yaml")
        picking = self.make_delivery([(self.kettle, 1)])
        with replay("test_tracker_retrieve.yaml") as cassette:
            parcel = self.env["logistics.carrier.parcel"]._logistics_follow(
                picking, created["tracking_code"], "USPS"
            )
            self.assertEqual(parcel.tracker_ref, created["id"])
            self.env["logistics.backend"]._cron_poll_carrier_tracking()
        self.assertEqual(cassette.play_count, 2)
        run_jobs(self.env)
        self.assertEqual(len(parcel.event_ids), len(polled["tracking_details"]))
        self.assertEqual(parcel.tracking_state, "label_created")
        self.assertEqual(
            sorted(e.description for e in parcel.event_ids),
            sorted(d["message"] for d in polled["tracking_details"]),
        )
        self.assertIn("HOUSTON, TX", [e.location for e in parcel.event_ids])


@tagged("post_install", "-at_install")
class TestEasyPostPublishedWebhooks(RecordedCarrier, LogisticsHttpCase):
    """Events posted over HTTP to the webhook route, signed as the official clients'
    fixtures sign them: the published secret ``sécret`` (non-ASCII) and signature."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.setup_recorded_carrier(webhook_scheme="easypost_hmac", webhook_secret=SECRET)

    def post(self, body, signature):
        return self.post_easypost(body, signature)

    def test_the_published_event_with_its_published_signature(self):
        body = published_event_body()
        event = json.loads(body)
        tracker = event["result"]
        parcel = self.recorded_parcel(
            {
                "id": "shp_recorded_1",
                "tracking_code": tracker["tracking_code"],
                "tracker": {"id": tracker["id"]},
                "selected_rate": {"rate": "0.00", "currency": "USD"},
            }
        )
        answer = self.post(body, SIGNATURE)
        self.assertEqual(answer.status_code, 202, answer.text)
        run_jobs(self.env)
        self.assertEqual(parcel.tracking_state, "in_transit")
        self.assertEqual(len(parcel.event_ids), len(tracker["tracking_details"]))
        self.assertIn("ORLANDO, FL, US", [e.location for e in parcel.event_ids])
        # the carrier's estimate, as the customer lives it (carrier_detail's local date)
        self.assertEqual(str(parcel.estimated_delivery), "2024-08-05")
        news = self.env["logistics.message"].search(
            [("backend_id", "=", self.backend.id), ("message_type", "=", "tracking.update")]
        )
        self.assertEqual(set(news.mapped("state")), {"processed"})
        self.assertEqual(news.schema_version, 2)
        self.assertEqual(news._get_payload()["estimated_delivery"], "2024-08-05")

    def test_the_secret_typed_decomposed_still_accepts_it_and_a_wrong_one_refuses(self):
        for secret, status in ((unicodedata.normalize("NFD", SECRET), 202), ("secret", 401)):
            with self.subTest(secret=ascii(secret)):
                self.backend = self._make_backend(
                    kind="carrier",
                    provider="easypost",
                    base_url=API,
                    webhook_scheme="easypost_hmac",
                    webhook_secret=secret,
                )
                answer = self.post(published_event_body(), SIGNATURE)
                self.assertEqual(answer.status_code, status, answer.text)

    def test_void_requested_then_refunded_by_the_refund_successful_event(self):
        """Cancel (recorded: ``submitted``), then EasyPost's ``refund.successful`` event,
        posted to the route: the parcel is voided. No client publishes such an event: it
        is the published event's envelope with a recorded Refund object as its result
        (easypost-go's), naming the recorded shipment, in the status EasyPost documents
        for a refund done (``refunded``); signed with the published secret."""
        [_created, submitted] = responses("test_shipment_refund.yaml")
        parcel = self.recorded_parcel(submitted)
        with replay("test_shipment_refund.yaml"):
            parcel.picking_id.cancel_shipment()
        self.assertEqual(parcel.state, "void_requested")

        [listed] = responses("TestRefundAll.yaml")
        refund = dict(
            listed["refunds"][0],
            shipment_id=submitted["id"],
            tracking_code=submitted["tracking_code"],
            status="refunded",
        )
        event = dict(
            json.loads(published_event_body()),
            id="evt_refund_conformance",
            description="refund.successful",
            previous_attributes={"status": "submitted"},
            result=refund,
        )
        body = json.dumps(event, separators=(",", ":")).encode()
        answer = self.post(body, sign(SECRET, body))
        self.assertEqual(answer.status_code, 202, answer.text)
        run_jobs(self.env)
        self.assertEqual(parcel.state, "voided")
        self.assertIn("refunded the postage", parcel.picking_id.message_ids[0].body)
        # the same event again (EasyPost delivers at least once): nothing moves
        self.assertEqual(self.post(body, sign(SECRET, body)).status_code, 202)
        run_jobs(self.env)
        self.assertEqual(parcel.state, "voided")
