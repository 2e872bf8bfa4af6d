"""Per-backend rate limit: sends are spaced to the partner's published rate, and messages
wait for a slot instead of failing."""

from logistics_simulators.http_server import CuedHTTPServer

from odoo.tests import tagged

from .common import LogisticsTransactionCase, run_jobs


@tagged("post_install", "-at_install")
class TestRateLimit(LogisticsTransactionCase):
    def test_sends_are_spaced_to_the_partners_rate(self):
        with CuedHTTPServer() as server:
            backend = self._make_backend(
                base_url=server.url("/events"), rate_limit=4, rate_limit_period="second"
            )
            messages = [
                backend._send_message("integration.ping", {"message": f"m{i}"}) for i in range(10)
            ]
            run_jobs(self.env, ignore_eta=False)
            self.assertEqual({m.state for m in messages}, {"sent"})
            self.assertEqual({m.attempts for m in messages}, {1})
            arrivals = sorted(r.received_at for r in server.requests)
        self.assertEqual(len(arrivals), 10)
        # 4 per second: slots a quarter of a second apart, so the ten requests span 2.25 s
        # and the 5th request after any request comes about a second later. Arrivals are
        # read by the server's threads: on a busy machine one arrival may be late by a few
        # tenths, which shortens one gap, so the bounds leave that room — unlimited, the
        # ten requests would arrive within a few hundredths of a second.
        gaps = [arrivals[i + 4] - arrivals[i] for i in range(len(arrivals) - 4)]
        self.assertGreaterEqual(min(gaps), 0.5, gaps)
        self.assertGreaterEqual(sorted(gaps)[len(gaps) // 2], 0.9, gaps)
        self.assertGreaterEqual(arrivals[-1] - arrivals[0], 1.9, arrivals)

    def test_messages_wait_for_a_slot_instead_of_failing(self):
        with CuedHTTPServer() as server:
            backend = self._make_backend(
                base_url=server.url("/events"), rate_limit=1, rate_limit_period="minute"
            )
            first = backend._send_message("integration.ping", {"message": "first"})
            second = backend._send_message("integration.ping", {"message": "second"})
            run_jobs(self.env, ignore_eta=False)
            self.assertEqual(len(server.requests), 1)
        self.assertEqual(first.state, "sent")
        # the next slot is a minute away: held with its job due then, no attempt spent
        self.assertEqual((second.state, second.attempts), ("pending", 0))
        self.assertTrue(second.next_retry_at)
        self.assertEqual(second.job_id.state, "pending")
        self.assertGreater(second.job_id.eta, first.done_at)
        self.assertFalse(second.error_message)

    def test_no_limit_takes_no_slot(self):
        backend = self._make_backend(rate_limit=0)
        self.assertEqual(backend._rate_limit_wait(), 0)
        self.env.cr.execute(
            "SELECT count(*) FROM logistics_backend_rate WHERE backend_id = %s", [backend.id]
        )
        self.assertEqual(self.env.cr.fetchone()[0], 0)
