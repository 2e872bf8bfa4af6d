from datetime import datetime, timedelta

from logistics_simulators.easypost import webhook_body
from lxml import etree

from odoo import fields
from odoo.exceptions import AccessError
from odoo.tests import new_test_user, tagged

from odoo.addons.logistics_integration_base.tests.common import LogisticsHttpCase, run_jobs
from odoo.addons.logistics_integration_base.tests.test_dashboard import action_records

from .common import CarrierFixture

SECRET = "easypost-webhook-secret"


def at(hours):
    """An event time, ``hours`` after a fixed morning (ISO 8601, UTC)."""
    return (datetime(2026, 11, 30, 8, 0) + timedelta(hours=hours)).strftime("%Y-%m-%dT%H:%M:%SZ")


@tagged("post_install", "-at_install")
class TestTracking(CarrierFixture, LogisticsHttpCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.setup_carrier(webhook_scheme="easypost_hmac", webhook_secret=SECRET)

    def booked_parcel(self):
        picking = self.make_delivery([(self.kettle, 1)])
        for move in picking.move_ids:
            move.quantity = move.product_uom_qty
        self.assertIs(picking.button_validate(), True)
        parcel = picking.logistics_parcel_ids
        self.assertTrue(parcel.tracker_ref)
        return parcel

    def post(self, event, secret=SECRET):
        return self.post_easypost_event(event, secret)

    def news(self, parcel, status, hours, **kw):
        """The carrier's news, delivered by a signed webhook, then processed."""
        event = self.sim.advance(parcel.tracking_number, status, at(hours), **kw)
        answer = self.post(event)
        self.assertEqual(answer.status_code, 202, answer.text)
        run_jobs(self.env)
        return answer.json()

    def timeline(self, parcel):
        return [
            (e.milestone, e.carrier_status) for e in parcel.event_ids.sorted(lambda e: e.event_time)
        ]

    def test_signed_webhooks_fill_the_timeline(self):
        parcel = self.booked_parcel()
        self.news(parcel, "in_transit", 1, city="Newark")
        self.news(parcel, "out_for_delivery", 20, city="Springfield")
        self.assertEqual(
            self.timeline(parcel),
            [("in_transit", "in_transit"), ("out_for_delivery", "out_for_delivery")],
        )
        self.assertEqual(parcel.tracking_state, "out_for_delivery")
        self.assertEqual(parcel.event_ids.sorted("event_time")[0].location, "Newark, US")
        message = self.env["logistics.message"].search(
            [("message_type", "=", "tracking.update")], order="id desc", limit=1
        )
        self.assertEqual((message.state, message.record_ref), ("processed", parcel.picking_id))

    def test_the_estimated_delivery_of_the_latest_news(self):
        parcel = self.booked_parcel()
        earlier = self.sim.advance(
            parcel.tracking_number, "in_transit", at(1), estimated_delivery="2026-12-03"
        )
        self.assertEqual(self.post(earlier).status_code, 202)
        run_jobs(self.env)
        self.assertEqual(str(parcel.estimated_delivery), "2026-12-03")
        self.news(parcel, "in_transit", 5, city="Newark", estimated_delivery="2026-12-04")
        self.assertEqual(str(parcel.estimated_delivery), "2026-12-04")
        # the first webhook, delivered again late under another id: its older estimate
        # does not come back
        late = dict(earlier, id="evt_late_copy")
        self.assertEqual(self.post(late).status_code, 202)
        run_jobs(self.env)
        self.assertEqual(str(parcel.estimated_delivery), "2026-12-04")

    def test_the_same_news_twice_is_one_line(self):
        parcel = self.booked_parcel()
        event = self.sim.advance(parcel.tracking_number, "in_transit", at(1))
        self.assertFalse(self.post(event).json()["duplicate"])
        self.assertTrue(self.post(event).json()["duplicate"], "same event id: stored once")
        run_jobs(self.env)
        self.news(parcel, "in_transit", 1)  # a new event carrying the same detail again
        self.assertEqual(len(parcel.event_ids), 1)

    def test_late_news_never_moves_a_delivered_parcel_back(self):
        parcel = self.booked_parcel()
        self.news(parcel, "delivered", 30, signed_by="A. RECEIVER")
        self.assertEqual(parcel.tracking_state, "delivered")
        # the scan of the evening before arrives after the delivery
        self.news(parcel, "in_transit", 10)
        self.assertEqual(parcel.tracking_state, "delivered")
        self.assertEqual([m for m, _c in self.timeline(parcel)], ["in_transit", "delivered"])
        self.assertEqual(parcel.pod_signed_by, "A. RECEIVER")
        self.assertFalse(parcel.pod_url, "EasyPost's trackers carry no proof-of-delivery URL")
        self.assertEqual(parcel.delivered_at, fields.Datetime.to_datetime("2026-12-01 14:00:00"))
        # who signed is personal data: read by the personal-data group only
        operator = new_test_user(
            self.env,
            "lgx_pod_reader",
            groups="logistics_integration_base.group_logistics_user,stock.group_stock_user",
        )
        with self.assertRaises(AccessError):
            parcel.with_user(operator).read(["pod_signed_by"])
        with self.assertRaises(AccessError):
            self.env["logistics.carrier.parcel"].with_user(operator).search(
                [("pod_signed_by", "ilike", "RECEIVER")]
            )
        self.assertNotIn("pod_signed_by", parcel.with_user(operator).read()[0])

    def test_exception_schedules_an_activity_and_unknown_codes_are_kept(self):
        parcel = self.booked_parcel()
        self.news(parcel, "failure", 5, message="Delivery attempted: no access", city="Springfield")
        activity = parcel.picking_id.activity_ids
        self.assertEqual(len(activity), 1)
        self.assertIn("Delivery attempted: no access", activity.summary)
        self.news(parcel, "weather_delay", 6)
        unknown = parcel.event_ids.filtered(lambda e: e.carrier_status == "weather_delay")
        self.assertEqual((unknown.milestone, unknown.mapped), ("exception", False))
        listed = self.env["logistics.carrier.tracking.event"].search([("mapped", "=", False)])
        self.assertIn(unknown, listed)

    def test_news_of_a_parcel_odoo_does_not_know_is_ignored_with_the_reason(self):
        event = self.sim.event(
            self.sim._new_tracker("9400999", "USPS", "in_transit")["tracking_code"]
        )
        answer = self.post(event)
        self.assertEqual(answer.status_code, 202)
        run_jobs(self.env)
        message = self.env["logistics.message"].browse(answer.json()["message_id"])
        self.assertEqual(message.state, "ignored")
        self.assertIn("tracking number 9400999 is not a parcel Odoo booked", message.ignore_reason)

    def test_bad_signature_is_refused(self):
        parcel = self.booked_parcel()
        event = self.sim.advance(parcel.tracking_number, "in_transit", at(1))
        self.assertEqual(self.post(event, secret="not-the-secret").status_code, 401)
        answer = self.post_easypost(webhook_body(event))
        self.assertEqual(answer.status_code, 401)
        self.assertIn("missing X-Hmac-Signature", answer.text)

    def test_polling_reads_trackers_once_and_stops_when_done_or_silent(self):
        Backend = self.env["logistics.backend"]
        moving, done, silent = self.booked_parcel(), self.booked_parcel(), self.booked_parcel()
        self.sim.advance(moving.tracking_number, "in_transit", at(1))
        self.sim.advance(done.tracking_number, "delivered", at(2))
        self.env.cr.execute(
            "UPDATE logistics_carrier_parcel SET create_date = %s WHERE id = %s",
            [fields.Datetime.now() - timedelta(days=31), silent.id],
        )
        silent.invalidate_recordset()
        self.assertEqual(Backend._cron_poll_carrier_tracking(), 2, "the silent one stops")
        self.assertTrue(silent.tracking_stopped)
        run_jobs(self.env)
        self.assertEqual(moving.tracking_state, "in_transit")
        self.assertEqual(done.tracking_state, "delivered")
        messages = self.env["logistics.message"].search_count(
            [("message_type", "=", "tracking.update")]
        )
        # nothing new: polled again, stored once; the delivered parcel stops being polled
        self.assertEqual(Backend._cron_poll_carrier_tracking(), 1)
        self.assertTrue(done.tracking_stopped)
        self.assertEqual(
            self.env["logistics.message"].search_count([("message_type", "=", "tracking.update")]),
            messages,
        )
        payload = (
            self.env["logistics.message"]
            .search([("message_type", "=", "tracking.update")], limit=1)
            ._get_payload()
        )
        self.assertIn(payload["tracking_number"], (moving.tracking_number, done.tracking_number))

    def test_dashboard_tiles_open_the_parcels_behind_them(self):
        troubled, quiet, fine = self.booked_parcel(), self.booked_parcel(), self.booked_parcel()
        self.news(troubled, "failure", 1, message="Address not found")
        self.news(quiet, "in_transit", 1)
        self.news(fine, "in_transit", 2)
        old = fields.Datetime.now() - timedelta(days=4)
        self.env["logistics.carrier.tracking.event"].search(
            [("parcel_id", "=", quiet.id)]
        ).event_time = old
        self.env.cr.execute(
            "UPDATE logistics_carrier_parcel SET create_date = %s WHERE id IN %s",
            [old, tuple((troubled | quiet | fine).ids)],
        )
        (troubled | quiet | fine).invalidate_recordset()
        fine.event_ids.event_time = fields.Datetime.now()
        backend = self.backend
        backend.invalidate_recordset()
        self.assertEqual(
            (backend.tile_tracking_exceptions, backend.tile_silent, backend.tile_never_scanned),
            (1, 1, 0),
        )

        def opened(key):
            action = backend.with_context(logistics_tile=key).action_open_business_tile()
            return action_records(self.env, action)

        self.assertEqual(opened("tracking_exceptions"), troubled)
        self.assertEqual(opened("silent"), quiet)
        unscanned = self.booked_parcel()
        self.env.cr.execute(
            "UPDATE logistics_carrier_parcel SET create_date = %s WHERE id = %s",
            [old, unscanned.id],
        )
        unscanned.invalidate_recordset()
        self.assertEqual(opened("never_scanned"), unscanned)

    # delivery exceptions resolved by later news ---------------------------------------------
    def closed_notes(self, picking):
        """What the chatter says of the activities marked done on ``picking``."""
        done = picking.message_ids.filtered(
            lambda m: m.mail_activity_type_id and "Closed by the carrier" in (m.body or "")
        )
        return [str(m.body) for m in done]

    def test_a_later_milestone_closes_the_exception_activity_by_webhook(self):
        parcel = self.booked_parcel()
        picking = parcel.picking_id
        self.news(parcel, "out_for_delivery", 1, city="Springfield")
        self.news(
            parcel, "failure", 2, message="Delivery attempted: nobody home", city="Springfield"
        )
        tracking_activity = picking.activity_ids
        self.assertEqual(len(tracking_activity), 1)
        self.assertEqual(tracking_activity.logistics_tracking_event_id.milestone, "exception")
        # someone's own activity about the same delivery is theirs to close
        own = picking.activity_schedule(
            "mail.mail_activity_data_todo",
            summary="Call the customer about a second delivery slot",
            user_id=self.env.ref("base.user_admin").id,
        )
        self.news(parcel, "delivered", 5, city="Springfield", signed_by="A. RECEIVER")
        self.assertEqual(picking.activity_ids, own, "the user's own activity stays open")
        [note] = self.closed_notes(picking)
        self.assertIn("Delivery exception for parcel", note)
        self.assertIn(f"parcel {parcel.tracking_number} reached \u201cDelivered\u201d", note)
        self.assertIn("Springfield, US", note)
        self.assertNotIn("RECEIVER", note, "who signed is personal data, not in the note")

    def test_a_later_milestone_closes_the_exception_activity_by_polling(self):
        Backend = self.env["logistics.backend"]
        parcel = self.booked_parcel()
        picking = parcel.picking_id
        self.sim.advance(parcel.tracking_number, "failure", at(1), message="Address not found")
        Backend._cron_poll_carrier_tracking()
        run_jobs(self.env)
        self.assertEqual(len(picking.activity_ids), 1)
        self.assertIn("Address not found", picking.activity_ids.summary)
        # news about a moment before the exception resolves nothing
        self.sim.advance(parcel.tracking_number, "in_transit", at(0), city="Newark")
        Backend._cron_poll_carrier_tracking()
        run_jobs(self.env)
        self.assertEqual(len(picking.activity_ids), 1, "the exception is still open")
        self.assertFalse(self.closed_notes(picking))
        self.sim.advance(parcel.tracking_number, "out_for_delivery", at(8), city="Springfield")
        Backend._cron_poll_carrier_tracking()
        run_jobs(self.env)
        self.assertFalse(picking.activity_ids)
        [note] = self.closed_notes(picking)
        self.assertIn("reached \u201cOut for delivery\u201d (Springfield, US", note)

    def test_an_exception_already_resolved_when_it_arrives_schedules_nothing(self):
        parcel = self.booked_parcel()
        self.news(parcel, "delivered", 10, city="Springfield")
        self.news(parcel, "failure", 3, message="Delivery attempted: nobody home")
        self.assertEqual([e.milestone for e in parcel.event_ids].count("exception"), 1)
        self.assertFalse(parcel.picking_id.activity_ids)

    def test_a_second_exception_after_the_first_is_resolved_opens_again(self):
        parcel = self.booked_parcel()
        picking = parcel.picking_id
        self.news(parcel, "failure", 1, message="Address not found")
        self.news(parcel, "in_transit", 2, city="Newark")
        self.assertFalse(picking.activity_ids)
        self.news(parcel, "failure", 3, message="Damaged in transit")
        self.assertEqual(len(picking.activity_ids), 1)
        self.assertIn("Damaged in transit", picking.activity_ids.summary)
        self.assertEqual(len(self.closed_notes(picking)), 1)

    def test_a_price_reads_with_its_currency_and_a_followed_parcel_shows_a_dash(self):
        booked = self.booked_parcel()
        self.assertEqual(booked.price_display, f"{booked.price:.2f} {booked.currency}")
        yen = self.booked_parcel()
        yen.sudo().write({"price": 1500.0, "currency": "JPY"})  # a currency without cents
        self.assertEqual(yen.price_display, "1,500 JPY")
        self.backend.carrier_followed_codes = "UPS"
        followed = self.env["logistics.carrier.parcel"]._logistics_follow(
            self.make_delivery([(self.kettle, 1)]), "1ZDASH1", "UPS"
        )
        self.assertEqual((followed.state, followed.price), ("followed", 0.0))
        self.assertEqual(followed.price_display, "\u2014")
        # what the screens load: the price as text, never the bare figure (0.00 for a
        # followed parcel)
        Parcel = self.env["logistics.carrier.parcel"]
        for model, view_type, path in (
            (Parcel, "list", "."),
            (Parcel, "form", "."),
            (self.env["stock.picking"], "form", ".//field[@name='logistics_parcel_ids']"),
        ):
            arch = etree.fromstring(
                model.get_views([(False, view_type)])["views"][view_type]["arch"]
            )
            where = arch.find(path)
            self.assertIsNotNone(where.find(".//field[@name='price_display']"), (model, view_type))
            self.assertIsNone(where.find(".//field[@name='price']"), (model, view_type))
        [row] = Parcel.web_search_read(
            [("id", "=", followed.id)], {"price_display": {}, "state": {}}
        )["records"]
        self.assertEqual(row["price_display"], "\u2014")
