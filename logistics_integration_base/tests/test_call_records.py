"""A partner call that fails inside a request that then rolls back (the shipping wizard's
Get rate raising its error) keeps its record, its attempt and the circuit breaker's count:
they are written in a transaction of their own, so the next request fails fast instead of
waiting for the partner's timeout again."""

import os
import threading
import time

from logistics_simulators.http_server import CuedHTTPServer

from odoo import SUPERUSER_ID, api
from odoo.modules.registry import Registry
from odoo.tests import TransactionCase, tagged
from odoo.tests.common import get_db_name

from ..exceptions import TransportError


@tagged("post_install", "-at_install")
class TestCallRecordsOutliveTheRequest(TransactionCase):
    """The backend is committed before the test's transaction starts: the call's record is
    written by another transaction, as in production, and read back from one."""

    @classmethod
    def setUpClass(cls):
        os.environ.setdefault("LOGISTICS_SECRET_KEY", "test-key")
        cls.server = CuedHTTPServer(hang_seconds=3.0).start()
        cls.addClassCleanup(cls.server.stop)
        with Registry(get_db_name()).cursor() as cr:
            env = api.Environment(cr, SUPERUSER_ID, {})
            backend = env["logistics.backend"].create(
                {
                    "name": "Slow carrier",
                    "code": "slow-carrier-calls",
                    "kind": "carrier",
                    "provider": "generic",
                    "base_url": cls.server.url("/calls"),
                    "timeout": 0.5,
                    "circuit_threshold": 1,
                    "circuit_cooldown": 600,
                }
            )
            cls.backend_id = backend.id
        cls.addClassCleanup(cls._drop_committed)
        super().setUpClass()

    @classmethod
    def _drop_committed(cls):
        cls._drop_committed_messages()
        with Registry(get_db_name()).cursor() as cr:
            cr.execute(
                "DELETE FROM logistics_backend_circuit WHERE backend_id = %s", [cls.backend_id]
            )
            cr.execute("DELETE FROM logistics_backend WHERE id = %s", [cls.backend_id])

    @classmethod
    def _drop_committed_messages(cls):
        with Registry(get_db_name()).cursor() as cr:
            cr.execute(
                "DELETE FROM mail_message WHERE (model = 'logistics.backend' AND res_id = %s) "
                "OR (model = 'logistics.message' AND res_id IN "
                "(SELECT id FROM logistics_message WHERE backend_id = %s))",
                [cls.backend_id, cls.backend_id],
            )
            cr.execute("DELETE FROM logistics_message WHERE backend_id = %s", [cls.backend_id])

    def setUp(self):
        super().setUp()
        self.server.reset()
        self._drop_committed_messages()
        with self.registry.cursor() as cr:
            cr.execute(
                "DELETE FROM logistics_backend_circuit WHERE backend_id = %s", [self.backend_id]
            )

    def backend(self):
        # this test works on committed data: what is written apart is committed apart
        return (
            self.env["logistics.backend"]
            .with_context(logistics_commit_apart=True)
            .browse(self.backend_id)
        )

    def committed(self, query, params):
        """What another transaction (the next request) reads."""
        with self.registry.cursor() as cr:
            cr.execute(query, params)
            return cr.fetchall()

    def test_a_timeout_in_a_rolled_back_request_is_kept_and_opens_the_circuit(self):
        backend = self.backend()
        self.server.cue("hang")
        # the request: it records the partner it rates for, calls, and fails; all it wrote
        # is rolled back
        with self.assertRaises(TransportError) as caught:
            with self.env.cr.savepoint():
                partner = self.env["res.partner"].create({"name": "Rolled back customer"})
                backend._call("integration.ping", {"message": "rate?"}, record=partner)
        self.assertFalse(partner.exists())
        rows = self.committed(
            "SELECT id, state, error_category, is_call, res_model, duration_ms "
            "FROM logistics_message WHERE backend_id = %s",
            [self.backend_id],
        )
        self.assertEqual(len(rows), 1, "the failed call is recorded once")
        message_id, state, category, is_call, res_model, duration_ms = rows[0]
        self.assertEqual(
            (state, category, is_call, res_model), ("failed", "technical", True, "res.partner")
        )
        self.assertGreaterEqual(duration_ms, 400)
        self.assertEqual(caught.exception.message_id, message_id)
        attempts = self.committed(
            "SELECT outcome FROM logistics_message_attempt WHERE message_id = %s", [message_id]
        )
        self.assertEqual(attempts, [("failed",)])
        [(failures, open_until)] = self.committed(
            "SELECT failures, open_until FROM logistics_backend_circuit WHERE backend_id = %s",
            [self.backend_id],
        )
        self.assertEqual(failures, 1)
        self.assertTrue(open_until)
        # the next request fails at once, without asking the partner again
        asked = len(self.server.requests)
        with self.registry.cursor() as cr:
            env = api.Environment(cr, SUPERUSER_ID, {})
            started = time.monotonic()
            with self.assertRaisesRegex(TransportError, "circuit open"):
                env["logistics.backend"].with_context(logistics_commit_apart=True).browse(
                    self.backend_id
                )._call("integration.ping", {"message": "rate again?"})
            self.assertLess(time.monotonic() - started, 0.5, "no wait for the timeout")
        self.assertEqual(len(self.server.requests), asked)

    def test_a_refusal_is_kept_without_counting_as_an_outage(self):
        backend = self.backend()
        self.server.cue((422, {}, {"errors": {"message": ["not a question we answer"]}}))
        with self.assertRaises(TransportError):
            with self.env.cr.savepoint():
                backend._call("integration.ping", {"message": "rate?"})
        rows = self.committed(
            "SELECT state, error_category, http_status, response_payload FROM logistics_message "
            "WHERE backend_id = %s ORDER BY id DESC LIMIT 1",
            [self.backend_id],
        )
        self.assertEqual(rows[0][:3], ("failed", "validation", 422))
        self.assertIn("not a question we answer", rows[0][3])
        [(failures,)] = self.committed(
            "SELECT COALESCE(max(failures), 0) FROM logistics_backend_circuit "
            "WHERE backend_id = %s",
            [self.backend_id],
        )
        self.assertEqual(failures, 0, "the partner answered: no outage")

    def test_a_successful_call_is_recorded_in_the_callers_transaction(self):
        backend = self.backend()
        self.server.cue((200, {}, {"id": "quote-1", "price": 8.5}))
        result = backend._call("integration.ping", {"message": "rate?"})
        message = self.env["logistics.message"].browse(result.message_id)
        self.assertEqual((message.state, message.external_id), ("acknowledged", "quote-1"))
        self.assertEqual(message.attempt_ids.outcome, "done")

    def test_a_success_then_a_failure_in_one_request_neither_waits_nor_conflicts(self):
        """The breaker's count lives in a table of its own, updated atomically apart: the
        request's own writes (a success resetting the breaker) never make the failure wait
        for a lock or fail on a concurrent update."""
        backend = self.backend()
        self.server.cue((200, {}, {"id": "quote-1", "price": 8.5}), 503)
        backend._call("integration.ping", {"message": "first"})
        started = time.monotonic()
        with self.assertRaises(TransportError):
            backend._call("integration.ping", {"message": "second"})
        self.assertLess(time.monotonic() - started, 1.5, "no wait for a lock")
        [(failures,)] = self.committed(
            "SELECT failures FROM logistics_backend_circuit WHERE backend_id = %s",
            [self.backend_id],
        )
        self.assertEqual(failures, 1)
        # and the request can still write its backend (no concurrent update to fail on)
        backend.sudo().write({"name": "Slow carrier, checked"})
        backend.env.flush_all()

    def test_failures_counted_at_the_same_moment_all_count(self):
        """Two workers counting a failure at once: both counted (one atomic update each,
        never a count read and written back)."""
        barrier = threading.Barrier(2)
        errors = []

        def count_one():
            try:
                with self.registry.cursor() as cr:
                    cr.transaction = cr.transaction or api.Transaction(self.registry)
                    env = api.Environment(cr, SUPERUSER_ID, {"logistics_commit_apart": True})
                    backend = env["logistics.backend"].browse(self.backend_id)
                    backend.circuit_threshold  # noqa: B018 (read before the race)
                    barrier.wait(10)
                    backend._circuit_record_failure()
            except Exception as exc:
                errors.append(exc)

        threads = [threading.Thread(target=count_one) for _i in range(2)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(30)
        self.assertFalse(errors)
        [(failures,)] = self.committed(
            "SELECT failures FROM logistics_backend_circuit WHERE backend_id = %s",
            [self.backend_id],
        )
        self.assertEqual(failures, 2)
