from logistics_simulators.easypost import FOLLOW_STEPS, EasyPostSimulator
from logistics_simulators.waiting import wait_until

from odoo.tests import tagged

from odoo.addons.logistics_3pl_connector.tests.common import ThreePLFixture
from odoo.addons.logistics_integration_base.tests.common import LogisticsHttpCase, run_jobs

KEY = "EZTK_follow_news"
HOOK_SECRET = "follow-news-webhook-secret"


@tagged("post_install", "-at_install")
class TestFollowedParcelNews(ThreePLFixture, LogisticsHttpCase):
    """A parcel a 3PL ships is followed with the carrier backend: the carrier (the
    simulator in auto tracking, as the demo runs it) moves the tracker Odoo registered and
    sends each step by a signed webhook into Odoo's route, and the parcel's timeline fills
    to delivered. A followed parcel has no price of its own: it shows a dash."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.setup_3pl()
        cls.carrier_sim = EasyPostSimulator(api_key=KEY, step_delay=0.1).start()
        cls.addClassCleanup(cls.carrier_sim.stop)
        cls.carrier_backend = cls._make_backend(
            name="Tracking account",
            code="tracking-news",
            kind="carrier",
            provider="easypost",
            base_url=cls.carrier_sim.url("/v2"),
            api_key=KEY,
            carrier_followed_codes="UPS",
            webhook_scheme="easypost_hmac",
            webhook_secret=HOOK_SECRET,
        )

    def setUp(self):
        super().setUp()
        self.carrier_sim.reset()
        self.carrier_sim.webhook_url = self.base_url() + "/logistics/webhook/tracking-news"
        self.carrier_sim.webhook_secret = HOOK_SECRET
        # the trackers wait while this test's transaction registers them
        self.carrier_sim.hold_tracking()
        self.addCleanup(self.carrier_sim.release_tracking)

    def test_the_carrier_sends_a_followed_parcels_news_until_delivered(self):
        picking = self.make_delivery([(self.chair, 1)])
        run_jobs(self.env)
        shipped = self.process_inbound(
            "shipment.confirmed",
            {
                "order_ref": picking.name,
                "shipment_ref": "SHP-1ZNEWS1",
                "shipped_at": "2026-11-30T15:00:00Z",
                "carrier": {"code": "UPS", "service": "GROUND"},
                "tracking_ref": "1ZNEWS1",
                "lines": [{"sku": "CHAIR-1", "quantity": 1}],
            },
        )
        self.assertEqual(shipped.state, "processed")
        parcel = picking.logistics_parcel_ids
        self.assertEqual(parcel.state, "followed")
        self.assertEqual(parcel.tracker_ref, self.carrier_sim.trackers["1ZNEWS1"]["id"])
        self.assertEqual(parcel.price_display, "\u2014", "a followed parcel has no price")
        self.carrier_sim.release_tracking()
        sent = wait_until(
            lambda: (
                len(self.carrier_sim.webhooks) >= len(FOLLOW_STEPS)
                and list(self.carrier_sim.webhooks)
            ),
            what="the carrier's news of the followed parcel",
        )
        self.assertEqual(
            sent,
            [("1ZNEWS1", status, 202) for status, _city in FOLLOW_STEPS],
            "each step reached Odoo's webhook route and was accepted",
        )
        run_jobs(self.env)
        parcel.invalidate_recordset()
        self.assertEqual(
            sorted(e.milestone for e in parcel.event_ids),
            ["delivered", "in_transit", "out_for_delivery"],
        )
        self.assertEqual(parcel.tracking_state, "delivered")
        self.assertEqual(parcel.sudo().pod_signed_by, "J. DOE")
        self.assertEqual(parcel.price_display, "\u2014")
