from logistics_simulators.easypost import EasyPostSimulator

from odoo.tests import TransactionCase

from odoo.addons.logistics_3pl_connector.tests.common import ThreePLFixture, run_jobs

KEY = "EZTK_follow"


class TestFollow3plShipments(ThreePLFixture, TransactionCase):
    """A 3PL ships with UPS and reports the tracking number: the carrier backend following
    UPS registers a tracker, and polling fills the delivery's timeline."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.setup_3pl()
        cls.carrier_sim = EasyPostSimulator(api_key=KEY).start()
        cls.addClassCleanup(cls.carrier_sim.stop)
        cls.carrier_backend = cls._make_backend(
            name="Tracking account",
            code="tracking-account",
            kind="carrier",
            provider="easypost",
            base_url=cls.carrier_sim.url("/v2"),
            api_key=KEY,
            carrier_followed_codes="UPS, FedEx",
        )

    def setUp(self):
        super().setUp()
        self.carrier_sim.reset()

    def ship(self, picking, tracking, carrier="UPS"):
        return self.process_inbound(
            "shipment.confirmed",
            {
                "order_ref": picking.name,
                "shipment_ref": "SHP-" + tracking,
                "shipped_at": "2026-11-30T15:00:00Z",
                "carrier": {"code": carrier, "service": "GROUND"},
                "tracking_ref": tracking,
                "lines": [{"sku": "CHAIR-1", "quantity": 1}],
            },
        )

    def test_a_3pl_shipment_is_followed_and_its_timeline_fills(self):
        picking = self.make_delivery([(self.chair, 1)])
        run_jobs(self.env)
        self.assertEqual(self.ship(picking, "1ZFOLLOW1").state, "processed")
        parcel = self.env["logistics.carrier.parcel"].search(
            [("tracking_number", "=", "1ZFOLLOW1")]
        )
        self.assertEqual((parcel.state, parcel.backend_id), ("followed", self.carrier_backend))
        self.assertEqual(parcel.picking_id, picking)
        self.assertEqual(parcel.tracker_ref, self.carrier_sim.trackers["1ZFOLLOW1"]["id"])
        self.carrier_sim.advance("1ZFOLLOW1", "in_transit", "2026-11-30T20:00:00Z", city="Memphis")
        self.env["logistics.backend"]._cron_poll_carrier_tracking()
        run_jobs(self.env)
        self.assertEqual(parcel.tracking_state, "in_transit")
        self.assertEqual(parcel.event_ids.location, "Memphis, US")

    def test_carriers_nobody_follows_are_left_alone(self):
        picking = self.make_delivery([(self.chair, 1)])
        run_jobs(self.env)
        self.ship(picking, "DHL-1", carrier="DHL")
        self.assertFalse(
            self.env["logistics.carrier.parcel"].search([("tracking_number", "=", "DHL-1")])
        )
        self.assertFalse(self.carrier_sim.requests)

    def test_a_carrier_down_at_shipment_time_is_asked_again_by_the_cron(self):
        picking = self.make_delivery([(self.chair, 1)])
        run_jobs(self.env)
        self.carrier_sim.fail_next(503)
        self.assertEqual(self.ship(picking, "1ZLATER").state, "processed", "the shipment applies")
        parcel = self.env["logistics.carrier.parcel"].search([("tracking_number", "=", "1ZLATER")])
        self.assertFalse(parcel.tracker_ref)
        self.env["logistics.backend"]._cron_poll_carrier_tracking()
        self.assertTrue(parcel.tracker_ref)
