"""Test helpers shared by the suite's modules."""

import base64
import json
import os
import time
import unittest
import uuid

from odoo import fields
from odoo.tests import HttpCase, TransactionCase

from odoo.addons.queue_job.exception import RetryableJobError
from odoo.addons.queue_job.job import Job

from ..transport import sftp

WEBHOOK_SECRET = "whsec_" + base64.b64encode(b"0123456789abcdef0123456789abcdef").decode()


def run_jobs(env, ignore_eta=True, max_rounds=50, model=None):
    """Run the queued jobs as queue_job's runner does (load, perform, set done), minus
    its commits: the test transaction stays isolated. Jobs queued by jobs run too, until
    none is left. ``ignore_eta`` fast-forwards time. Returns the results, in order."""
    results = []
    for _round in range(max_rounds):
        domain = [("state", "=", "pending")]
        if model:
            domain.append(("model_name", "=", model))
        if not ignore_eta:
            domain += ["|", ("eta", "=", False), ("eta", "<=", fields.Datetime.now())]
        records = env["queue.job"].sudo().search(domain, order="id")
        if not records:
            return results
        for record in records:
            job = Job.load(env, record.uuid)
            job.set_started()
            job.store()
            try:
                with env.cr.savepoint():
                    result = job.perform()
            except RetryableJobError as err:
                job.postpone(result=str(err), seconds=err.seconds)
                job.set_pending(reset_retry=False)
                job.store()
                continue
            job.set_done(result=result)
            job.store()
            env.flush_all()
            results.append(result)
    raise AssertionError("jobs keep queueing jobs: more than %d rounds" % max_rounds)


def sftp_backend_vals(server, username, password, **folders):
    """Backend values connecting over SFTP to ``server`` (a simulator's ``SFTPTestServer``)
    as ``username``; ``folders``: ``inbound_dir="in"``, ``archive_dir=...``."""
    vals = {
        "protocol": "sftp",
        "sftp_host": "127.0.0.1",
        "sftp_port": server.port,
        "sftp_username": username,
        "sftp_password": password,
        "sftp_host_key": server.host_key_line,
    }
    vals.update({f"sftp_{name}": value for name, value in folders.items()})
    return vals


def sftp_partner_settings(server, username, password, **folders):
    """A partner's own login on ``server`` (``SFTPSettings``); ``folders``: ``inbound_dir``,
    ``outbound_dir``... as the simulator using it expects them."""
    return sftp.SFTPSettings(
        host="127.0.0.1",
        port=server.port,
        username=username,
        password=password,
        host_key=server.host_key_line,
        **folders,
    )


class LogisticsCaseMixin:
    @classmethod
    def _make_backend(cls, **vals):
        values = {
            "name": "Test partner",
            "code": "test-" + uuid.uuid4().hex[:8],
            "kind": "3pl",
            "provider": "generic",
            "base_url": "http://127.0.0.1:9/none",
            "retry_max_attempts": 3,
            "retry_interval": 10,
            "circuit_threshold": 0,
            "timeout": 2.0,
            "webhook_secret": WEBHOOK_SECRET,
        }
        values.update(vals)
        return cls.env["logistics.backend"].create(values)

    def messages(self, backend, **domain):
        dom = [("backend_id", "=", backend.id)] + [(k, "=", v) for k, v in domain.items()]
        return self.env["logistics.message"].search(dom, order="id")

    def exception_queue(self):
        """What Logistics › Exceptions lists: its action's domain and default filter."""
        action = self.env.ref("logistics_integration_base.action_logistics_exceptions")
        self.assertIn("search_default_exceptions", action.context)
        return self.env["logistics.message"].search(
            [("is_call", "=", False), ("state", "in", ("failed", "dead"))]
        )


class LogisticsTransactionCase(LogisticsCaseMixin, TransactionCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        os.environ.setdefault("LOGISTICS_SECRET_KEY", "test-key")


class LogisticsHttpCase(LogisticsCaseMixin, HttpCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        os.environ.setdefault("LOGISTICS_SECRET_KEY", "test-key")

    def start_tour(self, url_path, tour_name, step_delay=None, **kwargs):
        """Odoo skips a browser test when it cannot start Chromium: here that is a failure,
        so that a machine without the browser never passes the suite without its tours."""
        try:
            return super().start_tour(url_path, tour_name, step_delay=step_delay, **kwargs)
        except unittest.SkipTest as exc:
            raise AssertionError(
                f"the browser test {tour_name} could not run ({exc}): setup/bootstrap.sh "
                "installs Chromium and websocket-client"
            ) from None

    def post_webhook(
        self,
        backend_code,
        body,
        headers=None,
        sign_with=WEBHOOK_SECRET,
        msg_id=None,
        timestamp=None,
        content_type="application/json",
    ):
        """POST to the real webhook route, signed with the Standard Webhooks library
        (an implementation independent of ours)."""
        from standardwebhooks.webhooks import Webhook

        raw = body if isinstance(body, bytes) else json.dumps(body).encode()
        hdrs = {"Content-Type": content_type}
        if sign_with:
            msg_id = msg_id or "msg_" + uuid.uuid4().hex
            ts = timestamp if timestamp is not None else int(time.time())
            from datetime import datetime, timezone

            signature = Webhook(sign_with).sign(
                msg_id, datetime.fromtimestamp(ts, tz=timezone.utc), raw.decode("utf-8", "replace")
            )
            hdrs.update(
                {"webhook-id": msg_id, "webhook-timestamp": str(ts), "webhook-signature": signature}
            )
        hdrs.update(headers or {})
        return self.url_open(f"/logistics/webhook/{backend_code}", data=raw, headers=hdrs)


def cloud_event(message_type, data, event_id=None, **extra):
    event = {
        "specversion": "1.0",
        "id": event_id or str(uuid.uuid4()),
        "source": "https://partner.example/events",
        "type": message_type,
        "time": "2026-11-22T10:00:00Z",
        "datacontenttype": "application/json",
        "data": data,
    }
    event.update(extra)
    return event
