import base64
import contextlib
import json
from datetime import timedelta

from logistics_simulators.http_server import CuedHTTPServer

from odoo import fields
from odoo.tests import tagged

from ..transport import http as transport_http
from .common import LogisticsTransactionCase, run_jobs

PING = {"message": "hello"}


class OutboundCase(LogisticsTransactionCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.server = CuedHTTPServer().start()
        cls.addClassCleanup(cls.server.stop)
        cls.backend = cls._make_backend(base_url=cls.server.url("/events"))

    def setUp(self):
        super().setUp()
        self.server.reset()

    def send(self, payload=PING, message_type="integration.ping", backend=None, **kw):
        backend = backend or self.backend
        return self.env["logistics.message"].browse(
            backend.send_message(message_type, payload, **kw)
        )


class TestOutbound(OutboundCase):
    def test_send_message_queues_a_job_in_the_same_transaction(self):
        msg = self.send()
        self.assertEqual(msg.state, "pending")
        self.assertEqual(msg.direction, "out")
        self.assertTrue(msg.job_id, "the job is written with the message (outbox)")
        self.assertEqual(msg.job_id.state, "pending")
        self.assertEqual(msg.job_id.channel, "root.logistics.3pl")
        self.assertEqual(msg.job_id.method_name, "_job_send")
        self.assertFalse(self.server.requests, "nothing is sent before the job runs")

    def test_rolled_back_transaction_sends_nothing(self):
        before = self.env["queue.job"].search_count([])
        with contextlib.suppress(RuntimeError), self.env.cr.savepoint():
            self.send()
            raise RuntimeError("business change failed")
        self.assertFalse(self.messages(self.backend))
        self.assertEqual(self.env["queue.job"].search_count([]), before)
        run_jobs(self.env)
        self.assertFalse(self.server.requests)

    def test_generic_provider_posts_cloudevent(self):
        msg = self.send(correlation_id="corr-42")
        run_jobs(self.env)
        self.assertEqual(msg.state, "sent")
        self.assertEqual(msg.attempts, 1)
        self.assertEqual(msg.job_id.state, "done")
        [req] = self.server.requests
        self.assertEqual(req.method, "POST")
        self.assertEqual(req.path, "/events")
        self.assertEqual(req.headers["Idempotency-Key"], msg.idempotency_key)
        self.assertEqual(req.headers["X-Correlation-ID"], "corr-42")
        self.assertTrue(req.headers["Content-Type"].startswith("application/cloudevents+json"))
        event = req.json()
        self.assertEqual(event["specversion"], "1.0")
        self.assertEqual(event["type"], "integration.ping")
        self.assertEqual(event["id"], msg.idempotency_key)
        self.assertEqual(event["data"], PING)
        self.assertEqual(event["correlationid"], "corr-42")
        self.assertEqual(event["dataschema"], "urn:logistics:schema:integration.ping:v1")
        # the envelope we send validates against our own CloudEvents schema
        self.env["logistics.message"]._schema_registry().validate_envelope(event)

    def test_503_then_200_retries_with_same_idempotency_key(self):
        self.server.cue(503, 503)
        msg = self.send()
        run_jobs(self.env)
        self.assertEqual(msg.state, "sent")
        self.assertEqual(msg.attempts, 3)
        keys = {r.headers["Idempotency-Key"] for r in self.server.requests}
        self.assertEqual(len(self.server.requests), 3)
        self.assertEqual(keys, {msg.idempotency_key})
        self.assertIn("sent", msg.job_id.result)

    def test_every_attempt_is_recorded_with_its_answer_and_job(self):
        self.server.cue(503, 503)
        msg = self.send()
        run_jobs(self.env)
        attempts = msg.attempt_ids.sorted("number")
        self.assertEqual(
            [(a.number, a.outcome, a.http_status) for a in attempts],
            [(1, "retry", 503), (2, "retry", 503), (3, "done", 200)],
        )
        self.assertIn("Attempt 1 of 3 failed", attempts[0].error)
        self.assertIn("HTTP 503", attempts[0].error)
        self.assertFalse(attempts[2].error)
        self.assertEqual(len(attempts.job_id), 3, "each attempt names the job that ran it")
        self.assertEqual(set(attempts.job_id.mapped("state")), {"done"})
        self.assertTrue(all(a.duration_ms >= 0 and a.started_at for a in attempts))
        self.assertEqual(attempts[2].job_result, "sent: HTTP 200")

    def test_attempts_show_a_failure_the_job_reports_as_done(self):
        self.server.cue(503, 502, 500)
        msg = self.send()
        run_jobs(self.env)
        last = msg.attempt_ids.sorted("number")[-1]
        self.assertEqual((last.number, last.outcome, last.http_status), (3, "dead", 500))
        self.assertIn("Gave up after 3 attempts", last.error)
        self.assertEqual(last.job_id.state, "done", "the queue shows Done, the attempt does not")
        # a retry by hand starts a new budget, the history goes on
        msg.action_retry()
        run_jobs(self.env)
        self.assertEqual(msg.attempts, 1)
        self.assertEqual(
            [(a.number, a.outcome) for a in msg.attempt_ids.sorted("number")][3:],
            [(4, "done")],
        )

    def test_a_held_message_spends_no_attempt(self):
        self.backend.write({"circuit_open_until": fields.Datetime.now() + timedelta(minutes=5)})
        msg = self.send()
        run_jobs(self.env, ignore_eta=False)
        self.assertEqual(msg.state, "pending")
        self.assertFalse(msg.attempt_ids)

    def test_backoff_grows_from_retry_interval(self):
        self.server.cue(503)
        msg = self.send()
        before = fields.Datetime.now()
        run_jobs(self.env, ignore_eta=False)  # only due jobs: the retry waits
        self.assertEqual(msg.state, "pending")
        self.assertEqual(msg.attempts, 1)
        self.assertIn("Attempt 1 of 3 failed", msg.error_message)
        self.assertIn("HTTP 503", msg.error_message)
        self.assertGreaterEqual(msg.next_retry_at, before + timedelta(seconds=9))
        self.assertEqual(
            msg.job_id.eta.replace(microsecond=0), msg.next_retry_at.replace(microsecond=0)
        )
        self.assertEqual(self.backend._retry_delay(1), 10)
        self.assertEqual(self.backend._retry_delay(3), 40)
        self.backend.retry_max_interval = 25
        self.assertEqual(self.backend._retry_delay(3), 25)

    def test_429_honours_retry_after(self):
        self.server.cue((429, {"Retry-After": "120"}))
        msg = self.send()
        now = fields.Datetime.now()
        run_jobs(self.env, ignore_eta=False)
        self.assertEqual(msg.state, "pending")
        self.assertEqual(msg.http_status, 429)
        self.assertGreaterEqual(msg.next_retry_at, now + timedelta(seconds=119))
        run_jobs(self.env)  # time passes
        self.assertEqual(msg.state, "sent")

    def test_exhausted_retries_go_dead(self):
        self.server.cue(503, 502, 500)
        msg = self.send()
        run_jobs(self.env)
        self.assertEqual(msg.state, "dead")
        self.assertEqual(msg.attempts, 3)
        self.assertEqual(msg.error_category, "technical")
        self.assertIn("Gave up after 3 attempts", msg.error_message)
        self.assertIn("HTTP 500", msg.error_message)
        self.assertEqual(msg.job_id.state, "done", "the job itself ended cleanly")
        exceptions = self.env["logistics.message"].search([("state", "in", ("failed", "dead"))])
        self.assertIn(msg, exceptions)

    def test_400_fails_at_once(self):
        self.server.cue((400, {}, {"errors": {"ship_to.zip": ["is required"]}}))
        msg = self.send()
        run_jobs(self.env)
        self.assertEqual(msg.state, "failed")
        self.assertEqual(msg.attempts, 1)
        self.assertEqual(len(self.server.requests), 1)
        self.assertEqual(msg.error_category, "validation")
        self.assertIn("HTTP 400", msg.error_message)
        self.assertIn("ship_to.zip", msg.error_message)

    def test_401_is_an_auth_failure(self):
        self.server.cue(401)
        msg = self.send()
        run_jobs(self.env)
        self.assertEqual((msg.state, msg.error_category), ("failed", "auth"))

    def test_404_is_a_business_failure(self):
        self.server.cue(404)
        msg = self.send()
        run_jobs(self.env)
        self.assertEqual((msg.state, msg.error_category), ("failed", "business"))

    def test_timeout_is_retried(self):
        # Odoo's test harness raises any client timeout under 10 s to 10 s, so the
        # server holds the answer for longer than that.
        self.backend.timeout = 0.5
        self.server.hang_seconds = 10.5
        self.server.cue("hang")
        msg = self.send()
        run_jobs(self.env)
        self.assertEqual(msg.state, "sent")
        self.assertEqual(msg.attempts, 2)

    def test_connection_refused_goes_dead_with_reason(self):
        backend = self._make_backend(
            base_url="http://127.0.0.1:9/nothing-listens", retry_max_attempts=2
        )
        msg = self.send(backend=backend)
        run_jobs(self.env)
        self.assertEqual(msg.state, "dead")
        self.assertIn(
            "Nothing answers at 127.0.0.1:9 — is the partner's server up, and is the URL right?",
            msg.error_message,
        )
        self.assertIn(
            "Technical details: POST http://127.0.0.1:9/nothing-listens: connection refused",
            msg.error_message,
        )

    def test_invalid_payload_is_kept_as_validation_failure(self):
        msg = self.send(payload={"message": 42})
        self.assertEqual(msg.state, "failed")
        self.assertEqual(msg.error_category, "validation")
        self.assertIn("data.message", msg.error_message)
        self.assertFalse(msg.job_id)

    def test_same_idempotency_key_sends_once(self):
        first = self.send(idempotency_key="order-1-release")
        second = self.send(idempotency_key="order-1-release")
        self.assertEqual(first, second)
        run_jobs(self.env)
        self.assertEqual(len(self.server.requests), 1)

    def test_already_sent_job_is_a_noop(self):
        msg = self.send()
        run_jobs(self.env)
        self.assertIn("nothing to do", msg._job_send())
        self.assertEqual(len(self.server.requests), 1)

    def test_related_record_is_linked(self):
        partner = self.env["res.partner"].create({"name": "Consignee"})
        msg = self.send(res_model="res.partner", res_id=partner.id)
        self.assertEqual(msg.record_ref, partner)
        self.assertEqual(msg.subject, "Consignee")


class TestCircuitBreaker(OutboundCase):
    def test_open_circuit_holds_messages_without_spending_attempts(self):
        self.backend.write(
            {"circuit_threshold": 2, "circuit_cooldown": 600, "retry_max_attempts": 5}
        )
        self.server.cue(503, 503)
        first = self.send()
        run_jobs(self.env, ignore_eta=False)
        second = self.send()
        run_jobs(self.env, ignore_eta=False)
        self.assertEqual(self.backend.circuit_failures, 2)
        self.assertEqual(self.backend.circuit_state, "open")
        requests_before = len(self.server.requests)
        third = self.send()
        run_jobs(self.env, ignore_eta=False)
        self.assertEqual(len(self.server.requests), requests_before, "nothing sent while open")
        self.assertEqual(third.state, "pending")
        self.assertEqual(third.attempts, 0)
        self.assertEqual(third.next_retry_at, self.backend.circuit_open_until)
        self.assertEqual(third.job_id.eta, self.backend.circuit_open_until)
        # cool-down over: the held messages go out and the circuit closes
        self.backend.circuit_open_until = fields.Datetime.now() - timedelta(seconds=1)
        run_jobs(self.env)
        self.assertEqual((first + second + third).mapped("state"), ["sent"] * 3)
        self.assertEqual(self.backend.circuit_state, "closed")
        self.assertEqual(self.backend.circuit_failures, 0)


class TestAuthentication(OutboundCase):
    def test_basic(self):
        self.backend.write(
            {"auth_type": "basic", "auth_username": "odoo", "auth_password": "s3cret"}
        )
        self.send()
        run_jobs(self.env)
        expected = "Basic " + base64.b64encode(b"odoo:s3cret").decode()
        self.assertEqual(self.server.requests[0].headers["Authorization"], expected)

    def test_bearer(self):
        self.backend.write({"auth_type": "bearer", "auth_token": "tok-1"})
        self.send()
        run_jobs(self.env)
        self.assertEqual(self.server.requests[0].headers["Authorization"], "Bearer tok-1")

    def test_api_key_header(self):
        self.backend.write(
            {"auth_type": "api_key", "api_key_header": "X-Partner-Key", "api_key": "k-9"}
        )
        self.send()
        run_jobs(self.env)
        self.assertEqual(self.server.requests[0].headers["X-Partner-Key"], "k-9")

    def test_oauth2_client_credentials_token_is_cached_and_refreshed(self):
        issued = []
        revoked = set()

        def handler(req):
            if req.path == "/token":
                body = dict(p.split("=") for p in req.body.decode().split("&"))
                assert body["grant_type"] == "client_credentials", body
                assert (
                    req.headers["Authorization"]
                    == "Basic " + base64.b64encode(b"client-1:cs-1").decode()
                )
                token = f"at-{len(issued) + 1}"
                issued.append(token)
                return 200, {}, {"access_token": token, "token_type": "Bearer", "expires_in": 3600}
            token = req.headers.get("Authorization", "").removeprefix("Bearer ")
            if token not in issued or token in revoked:
                return 401, {}, {"error": "invalid_token"}
            return 200, {}, {"id": "ok"}

        self.server.handler = handler
        self.addCleanup(setattr, self.server, "handler", None)
        self.backend.write(
            {
                "auth_type": "oauth2",
                "oauth_token_url": self.server.url("/token"),
                "oauth_client_id": "client-1",
                "oauth_client_secret": "cs-1",
                "oauth_scope": "orders",
            }
        )
        transport_http._token_cache.clear()
        m1, m2 = self.send(), self.send()
        run_jobs(self.env)
        self.assertEqual((m1.state, m2.state), ("sent", "sent"))
        self.assertEqual(issued, ["at-1"], "one token for both sends")
        revoked.add("at-1")  # the partner revokes it early: a 401 triggers one refresh
        m3 = self.send()
        run_jobs(self.env)
        self.assertEqual(m3.state, "sent")
        self.assertEqual(issued, ["at-1", "at-2"])

    def test_oauth2_bad_client_is_an_auth_failure(self):
        self.server.handler = lambda req: (401, {}, {"error": "invalid_client"})
        self.addCleanup(setattr, self.server, "handler", None)
        self.backend.write(
            {
                "auth_type": "oauth2",
                "oauth_token_url": self.server.url("/token"),
                "oauth_client_id": "nobody",
                "oauth_client_secret": "wrong",
            }
        )
        transport_http._token_cache.clear()
        msg = self.send()
        run_jobs(self.env)
        self.assertEqual((msg.state, msg.error_category), ("failed", "auth"))
        self.assertIn("OAuth2 token endpoint", msg.error_message)


class TestConnectionButton(OutboundCase):
    def test_success(self):
        action = self.backend.action_test_connection()
        self.assertEqual(action["params"]["type"], "success")
        self.assertIn(
            "HTTP 200 from GET " + self.server.url("/events"), action["params"]["message"]
        )

    def test_exact_failure(self):
        self.server.cue((403, {}, {"error": "key revoked"}))
        action = self.backend.action_test_connection()
        self.assertEqual(action["params"]["type"], "danger")
        self.assertIn("HTTP 403", action["params"]["message"])
        self.assertIn("key revoked", action["params"]["message"])

    def test_refused(self):
        backend = self._make_backend(base_url="http://127.0.0.1:9/")
        action = backend.action_test_connection()
        self.assertEqual(action["params"]["type"], "danger")
        self.assertTrue(
            action["params"]["message"].startswith("Nothing answers at 127.0.0.1:9 — "),
            action["params"]["message"],
        )


class TestRpc(OutboundCase):
    def test_send_message_over_jsonrpc_shape(self):
        # send_message takes only JSON-serialisable arguments and returns an int id
        msg_id = self.backend.send_message("integration.ping", json.loads('{"message": "rpc"}'))
        self.assertIsInstance(msg_id, int)


class WorkerCrash(Exception):
    """Stands for a worker killed after the partner answered, before the commit."""


class TestCrashRecovery(OutboundCase):
    def test_job_interrupted_after_send_is_replayed_with_the_same_key(self):
        from odoo.addons.queue_job.job import Job

        msg = self.send()
        job = Job.load(self.env, msg.job_id.uuid)
        with self.assertRaises(WorkerCrash):
            with self.env.cr.savepoint():
                job.perform()
                self.assertEqual(msg.state, "sent")
                raise WorkerCrash()
        self.env.invalidate_all()
        # nothing of the interrupted attempt was committed: the job is still to run
        self.assertEqual((msg.state, msg.attempts), ("pending", 0))
        self.assertEqual(msg.job_id.state, "pending")
        run_jobs(self.env)  # queue_job requeues it; it runs again
        self.assertEqual((msg.state, msg.attempts), ("sent", 1))
        self.assertEqual(len(self.server.requests), 2)
        self.assertEqual(
            {r.headers["Idempotency-Key"] for r in self.server.requests}, {msg.idempotency_key}
        )


@tagged("post_install", "-at_install")
class TestRefusalWording(LogisticsTransactionCase):
    """A partner's refusal is read in business words whatever the record: partner, what,
    the partner's reasons with their fields, what to do; technical details below."""

    def _refused(self, status, body):
        with CuedHTTPServer() as server:
            server.cue((status, {}, body))
            backend = self._make_backend(name="Demo 3PL", base_url=server.url("/events"))
            partner = self.env["res.partner"].create({"name": "Jane Buyer"})
            message = backend._send_message("integration.ping", {"message": "hi"}, record=partner)
            run_jobs(self.env)
        return message

    def test_field_map(self):
        message = self._refused(422, {"errors": {"message": ["is too long for us"]}})
        reason, technical = message.error_message.split("\n\n")
        self.assertEqual(
            reason,
            "Demo 3PL refused Jane Buyer: is too long for us (message). Correct the data it "
            "names, then press Edit payload and retry (or send it again from the record).",
        )
        self.assertIn("Technical details: HTTP 422", technical)

    def test_problem_pointer_names_the_field(self):
        message = self._refused(
            422,
            {
                "type": "https://example.net/validation-error",
                "title": "Invalid",
                "errors": [{"detail": "is too long for us", "pointer": "#/message"}],
            },
        )
        reason = message.error_message.split("\n\n")[0]
        self.assertIn("is too long for us (message).", reason)
        self.assertIn("Correct the data it names", reason)

    def test_refusal_naming_no_field_says_so(self):
        # a problem without field names must not send the operator to "the data it names"
        message = self._refused(
            422, {"type": "about:blank", "title": "Invalid", "detail": "rejected by rules"}
        )
        reason = message.error_message.split("\n\n")[0]
        self.assertEqual(
            reason,
            "Demo 3PL refused Jane Buyer: rejected by rules. It did not say which field: "
            "compare the record with what Demo 3PL expects, correct it, then send it again "
            "from the record.",
        )

    def test_credentials_refused(self):
        message = self._refused(403, {"error": "forbidden", "error_description": "key revoked"})
        self.assertEqual(message.error_category, "auth")
        self.assertTrue(
            message.error_message.startswith(
                "Demo 3PL refused Jane Buyer: forbidden: key revoked. Check the credentials "
                "of backend Demo 3PL, then press Retry."
            ),
            message.error_message,
        )
