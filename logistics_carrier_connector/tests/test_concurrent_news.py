"""The same tracking news applied by two transactions at the same moment: the second one
meets the first one's rows on the timeline's unique key once the first commits. It is
"already applied": processed as a duplicate, never an exception.

The fixture is committed (two real transactions must see it), in a company of its own, and
removed afterwards."""

import threading
import uuid

from odoo import SUPERUSER_ID, api
from odoo.modules.registry import Registry
from odoo.tests import TransactionCase, tagged
from odoo.tests.common import get_db_name

from odoo.addons.logistics_integration_base.tests.concurrency import DEADLINE, new_env, race
from odoo.addons.queue_job.exception import RetryableJobError

NEWS = {
    "tracking_number": "1ZCONCURRENT0001",
    "status": "in_transit",
    "events": [
        {
            "time": "2026-11-20T08:00:00Z",
            "milestone": "picked_up",
            "carrier_status": "pre_transit",
        },
        {
            "time": "2026-11-20T18:30:00Z",
            "milestone": "in_transit",
            "carrier_status": "in_transit",
        },
    ],
}


@tagged("post_install", "-at_install")
class TestConcurrentTrackingNews(TransactionCase):
    @classmethod
    def setUpClass(cls):
        cls.db_registry = Registry(get_db_name())
        with cls.db_registry.cursor() as cr:
            env = api.Environment(cr, SUPERUSER_ID, {})
            company = env["res.company"].create({"name": f"Concurrent news {uuid.uuid4().hex[:6]}"})
            warehouse = env["stock.warehouse"].search([("company_id", "=", company.id)], limit=1)
            env = env(context={"allowed_company_ids": company.ids})
            backend = env["logistics.backend"].create(
                {
                    "name": "Racing carrier",
                    "code": f"racing-{uuid.uuid4().hex[:6]}",
                    "kind": "carrier",
                    "provider": "generic",
                    "company_id": company.id,
                }
            )
            picking_type = warehouse.out_type_id
            picking = env["stock.picking"].create(
                {
                    "picking_type_id": picking_type.id,
                    "location_id": picking_type.default_location_src_id.id,
                    "location_dest_id": env.ref("stock.stock_location_customers").id,
                    "company_id": company.id,
                }
            )
            parcel = env["logistics.carrier.parcel"].create(
                {
                    "picking_id": picking.id,
                    "backend_id": backend.id,
                    "tracking_number": NEWS["tracking_number"],
                }
            )
            cls.ids = {
                "company": company.id,
                "backend": backend.id,
                "picking": picking.id,
                "parcel": parcel.id,
            }
        cls.addClassCleanup(cls._drop_committed)
        super().setUpClass()

    def setUp(self):
        super().setUp()
        self._drop_messages()

    @classmethod
    def _drop_messages(cls):
        ids = cls.ids
        with cls.db_registry.cursor() as cr:
            cr.execute(
                "DELETE FROM queue_job WHERE model_name = 'logistics.message' AND id IN "
                "(SELECT job_id FROM logistics_message WHERE backend_id = %s)",
                [ids["backend"]],
            )
            cr.execute(
                "DELETE FROM mail_message WHERE (model = 'logistics.message' AND res_id IN "
                "(SELECT id FROM logistics_message WHERE backend_id = %(b)s)) "
                "OR (model = 'stock.picking' AND res_id = %(p)s)",
                {"b": ids["backend"], "p": ids["picking"]},
            )
            cr.execute(
                "DELETE FROM logistics_carrier_tracking_event WHERE parcel_id = %s", [ids["parcel"]]
            )
            cr.execute("DELETE FROM logistics_message WHERE backend_id = %s", [ids["backend"]])

    @classmethod
    def _drop_committed(cls):
        ids = cls.ids
        cls._drop_messages()
        with cls.db_registry.cursor() as cr:
            cr.execute("DELETE FROM logistics_carrier_parcel WHERE id = %s", [ids["parcel"]])
            cr.execute("DELETE FROM stock_picking WHERE id = %s", [ids["picking"]])
            cr.execute("DELETE FROM logistics_backend WHERE id = %s", [ids["backend"]])

    def store_news(self, count, news=NEWS):
        """``count`` deliveries of the same news (each its own webhook id), committed."""
        with self.db_registry.cursor() as cr:
            env = api.Environment(cr, SUPERUSER_ID, {})
            Message = env["logistics.message"]
            backend = env["logistics.backend"].browse(self.ids["backend"])
            _all, new = Message._store_inbound(
                backend,
                [
                    {
                        "idempotency_key": f"race-{uuid.uuid4()}",
                        "message_type": "tracking.update",
                        "payload": news,
                        "company_id": self.ids["company"],
                    }
                    for _i in range(count)
                ],
            )
            return new.ids

    def process(self, message_id, cr):
        env = new_env(self.db_registry, cr, {"allowed_company_ids": [self.ids["company"]]})
        return self.apply(env, message_id)

    @staticmethod
    def apply(env, message_id):
        result = env["logistics.message"].browse(message_id)._job_process()
        env.flush_all()  # as the job runner does before it commits
        return result

    def states(self):
        with self.db_registry.cursor() as cr:
            cr.execute(
                "SELECT state, count(*) FROM logistics_message WHERE backend_id = %s "
                "GROUP BY state",
                [self.ids["backend"]],
            )
            states = dict(cr.fetchall())
            cr.execute(
                "SELECT count(*) FROM logistics_carrier_tracking_event WHERE parcel_id = %s",
                [self.ids["parcel"]],
            )
            return states, cr.fetchone()[0]

    def run_as_the_runner(self, message_id, attempts=5):
        """Process a message as queue_job would: a job meeting another transaction's rows
        asks to run again (``RetryableJobError``), its transaction rolled back, and runs
        again in a new one."""
        for _attempt in range(attempts):
            with self.db_registry.cursor() as cr:
                try:
                    return self.process(message_id, cr)
                except RetryableJobError:
                    cr.rollback()
        self.fail(f"message {message_id} never applied")

    def race(self, first_id, second_id):
        """The first message applied and held uncommitted while the second one reaches the
        same rows and waits; then the first commits. Returns what the second one's job did:
        ``{"retry": error}`` or ``{"result": summary}``."""
        outcome = race(
            self.db_registry,
            lambda env: self.apply(env, first_id),
            lambda env: self.apply(env, second_id),
            context={"allowed_company_ids": [self.ids["company"]]},
            what="the second delivery waiting for the first one's rows",
        )
        if isinstance(outcome.get("error"), RetryableJobError):
            return {"retry": outcome["error"]}
        self.assertNotIn("error", outcome)
        return outcome

    def test_the_second_of_two_simultaneous_deliveries_is_a_duplicate(self):
        first_id, second_id = self.store_news(2)
        outcome = self.race(first_id, second_id)
        # its transaction saw none of the first one's rows: it runs again in a new one
        self.assertIn("retry", outcome)
        self.assertIn("applied at the same moment", str(outcome["retry"]))
        self.assertEqual(self.states(), ({"processed": 1, "received": 1}, 2))
        summary = self.run_as_the_runner(second_id)
        self.assertIn("0 new event(s)", summary)
        states, events = self.states()
        self.assertEqual(states, {"processed": 2}, "no exception for the duplicate")
        self.assertEqual(events, 2, "the timeline holds each event once")

    def test_news_that_shares_an_event_with_a_concurrent_one_is_applied_whole(self):
        """Two different updates at once, the second one also carrying the delivery: the
        shared event makes it meet the first one's rows, and what is new in it (the
        delivery and its signer) is still applied."""
        first_id = self.store_news(1)[0]
        delivered = dict(
            NEWS,
            status="delivered",
            signed_by="Ann Receiver",
            events=[
                *NEWS["events"],
                {
                    "time": "2026-11-21T09:15:00Z",
                    "milestone": "delivered",
                    "carrier_status": "delivered",
                },
            ],
        )
        second_id = self.store_news(1, news=delivered)[0]
        self.assertIn("retry", self.race(first_id, second_id))
        self.run_as_the_runner(second_id)
        states, events = self.states()
        self.assertEqual(states, {"processed": 2})
        self.assertEqual(events, 3, "the delivery is on the timeline")
        with self.db_registry.cursor() as cr:
            cr.execute(
                "SELECT tracking_state, pod_signed_by FROM logistics_carrier_parcel WHERE id = %s",
                [self.ids["parcel"]],
            )
            self.assertEqual(cr.fetchone(), ("delivered", "Ann Receiver"))

    def test_five_at_once(self):
        ids = self.store_news(5)
        barrier = threading.Barrier(len(ids))
        errors, results = [], []

        def run(message_id):
            try:
                barrier.wait(DEADLINE)
                results.append(self.run_as_the_runner(message_id))
            except Exception as exc:
                errors.append(exc)

        threads = [threading.Thread(target=run, args=(i,)) for i in ids]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(DEADLINE)
        self.assertFalse(errors)
        states, events = self.states()
        self.assertEqual(states, {"processed": 5}, results)
        self.assertEqual(events, 2)
