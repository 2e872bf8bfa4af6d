"""The tracking poll asks each carrier backend on its own: one carrier down never rolls
back the news of the others, never keeps the carriers after it from being asked, and never
makes the cron fail; the failure is on the backend (a banner on its form, its chatter)."""

from datetime import datetime, timedelta

from logistics_simulators.easypost import EasyPostSimulator

from odoo.tests import tagged

from odoo.addons.logistics_integration_base.tests.common import LogisticsHttpCase, run_jobs

from .common import API_KEY, CarrierFixture


def at(hours):
    return (datetime(2026, 11, 30, 8, 0) + timedelta(hours=hours)).strftime("%Y-%m-%dT%H:%M:%SZ")


@tagged("post_install", "-at_install")
class TestTrackingPollIsolation(CarrierFixture, LogisticsHttpCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.setup_carrier()
        cls.carriers = []
        # three carrier backends, polled in name order: the middle one will be down
        for name in ("Carrier 1 Alpha", "Carrier 2 Bravo", "Carrier 3 Charlie"):
            sim = EasyPostSimulator(api_key=API_KEY).start()
            cls.addClassCleanup(sim.stop)
            backend = cls._make_backend(
                name=name,
                code=name.lower().replace(" ", "-"),
                kind="carrier",
                provider="easypost",
                base_url=sim.url("/v2"),
                api_key=API_KEY,
                timeout=3.0,
                circuit_threshold=0,
            )
            method = cls.method.copy(
                {"name": f"{name} Priority", "logistics_backend_id": backend.id}
            )
            cls.carriers.append((sim, backend, method))
        # only these three are polled here
        cls.backend.active = False

    def setUp(self):
        super().setUp()
        for sim, _backend, _method in self.carriers:
            sim.reset()

    def booked_parcel(self, method):
        picking = self.make_delivery([(self.kettle, 1)], carrier=method)
        self.validate(picking)
        return picking.logistics_parcel_ids

    def test_a_carrier_down_leaves_the_others_news_applied(self):
        parcels = [self.booked_parcel(method) for _sim, _b, method in self.carriers]
        for (sim, _backend, _method), parcel in zip(self.carriers, parcels, strict=True):
            sim.advance(parcel.tracking_number, "in_transit", at(1), city="Newark")
        bravo_sim, bravo, _method = self.carriers[1]
        bravo_sim.fail_next(503, message="maintenance")

        polled = self.env["logistics.backend"]._cron_poll_carrier_tracking()  # never raises
        self.assertEqual(polled, 2, "the two carriers that answered")
        run_jobs(self.env)
        alpha_parcel, bravo_parcel, charlie_parcel = parcels
        self.assertEqual(alpha_parcel.tracking_state, "in_transit", "before the failing one")
        self.assertEqual(charlie_parcel.tracking_state, "in_transit", "after the failing one")
        self.assertFalse(bravo_parcel.tracking_state)
        charlie_sim = self.carriers[2][0]
        self.assertTrue(
            any(r.path.startswith("/v2/trackers/") for r in charlie_sim.requests),
            "the carrier after the failing one was asked",
        )
        # the operator sees it on the backend: a banner and one chatter line
        self.assertIn("503", bravo.carrier_last_poll_error)
        self.assertTrue(bravo.carrier_last_poll_at)
        failed_posts = bravo.message_ids.filtered(lambda m: "tracking news failed" in m.body)
        self.assertEqual(len(failed_posts), 1)
        self.assertFalse(self.carriers[0][1].carrier_last_poll_error)

        # down again at the next poll: no second line; back: said once, error cleared
        bravo_sim.fail_next(503, message="maintenance")
        self.env["logistics.backend"]._cron_poll_carrier_tracking()
        self.assertEqual(
            len(bravo.message_ids.filtered(lambda m: "tracking news failed" in m.body)), 1
        )
        self.assertEqual(self.env["logistics.backend"]._cron_poll_carrier_tracking(), 3)
        run_jobs(self.env)
        self.assertEqual(bravo_parcel.tracking_state, "in_transit")
        self.assertFalse(bravo.carrier_last_poll_error)
        self.assertTrue(any("works again" in m.body for m in bravo.message_ids))

    def test_the_first_carrier_answering_an_error_page_stops_nothing(self):
        parcels = [self.booked_parcel(method) for _sim, _b, method in self.carriers]
        for (sim, _backend, _method), parcel in zip(self.carriers, parcels, strict=True):
            sim.advance(parcel.tracking_number, "out_for_delivery", at(2))
        self.carriers[0][0].server.cue((500, {}, b"<html>Internal Server Error</html>"))
        self.assertEqual(self.env["logistics.backend"]._cron_poll_carrier_tracking(), 2)
        run_jobs(self.env)
        self.assertEqual(
            [p.tracking_state for p in parcels], [False, "out_for_delivery", "out_for_delivery"]
        )
        self.assertIn("500", self.carriers[0][1].carrier_last_poll_error)
