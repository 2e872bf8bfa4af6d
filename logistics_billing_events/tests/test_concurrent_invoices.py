"""The same freight invoice delivered twice at the same moment (two webhook ids, two
workers): the second transaction meets the first one's invoice on the unique key
(backend, number, copy) once the first commits. It waits and tries again, then reads the
invoice the first one recorded; never a technical exception, never a second invoice.

The fixture is committed (two real transactions must see it) and removed afterwards."""

import uuid

from odoo import SUPERUSER_ID, api
from odoo.modules.registry import Registry
from odoo.tests import TransactionCase, tagged
from odoo.tests.common import get_db_name

from odoo.addons.logistics_integration_base.tests.concurrency import new_env, race

INVOICE = {
    "invoice_number": "RACE-0001",
    "invoice_date": "2026-11-30",
    "currency": "USD",
    "total": 12.5,
    "shipments": [
        {"shipment_ref": "NOT/KNOWN/0001", "charges": [{"code": "freight", "amount": 12.5}]}
    ],
}


@tagged("post_install", "-at_install")
class TestConcurrentFreightInvoices(TransactionCase):
    @classmethod
    def setUpClass(cls):
        cls.db_registry = Registry(get_db_name())
        with cls.db_registry.cursor() as cr:
            # the jobs queued for its messages (processed here by hand) are removed too
            cr.execute("SELECT COALESCE(max(id), 0) FROM queue_job")
            cls.last_job_id = cr.fetchone()[0]
            env = api.Environment(cr, SUPERUSER_ID, {})
            backend = env["logistics.backend"].create(
                {
                    "name": "Racing invoicer",
                    "code": f"racing-invoices-{uuid.uuid4().hex[:6]}",
                    "kind": "carrier",
                    "provider": "generic",
                    "base_url": "http://127.0.0.1:9/none",
                }
            )
            cls.backend_id = backend.id
            cls.company_id = backend.company_id.id
        cls.addClassCleanup(cls._drop_committed)
        super().setUpClass()

    @classmethod
    def _drop_committed(cls):
        with cls.db_registry.cursor() as cr:
            env = api.Environment(cr, SUPERUSER_ID, {})
            env["logistics.freight.invoice"].search([("backend_id", "=", cls.backend_id)]).unlink()
            cr.execute(
                "DELETE FROM queue_job WHERE model_name = 'logistics.message' AND id > %s",
                [cls.last_job_id],
            )
            cr.execute(
                "DELETE FROM mail_message WHERE model = 'logistics.message' AND res_id IN "
                "(SELECT id FROM logistics_message WHERE backend_id = %s)",
                [cls.backend_id],
            )
            cr.execute("DELETE FROM logistics_message WHERE backend_id = %s", [cls.backend_id])
            cr.execute(
                "DELETE FROM logistics_metric_counter WHERE backend_id = %s", [cls.backend_id]
            )
            cr.execute("DELETE FROM logistics_backend WHERE id = %s", [cls.backend_id])

    def store_twice(self):
        with self.db_registry.cursor() as cr:
            env = api.Environment(cr, SUPERUSER_ID, {})
            backend = env["logistics.backend"].browse(self.backend_id)
            _all, new = env["logistics.message"]._store_inbound(
                backend,
                [
                    {
                        "idempotency_key": f"race-{uuid.uuid4()}",
                        "message_type": "freight.invoice",
                        "payload": INVOICE,
                        "company_id": self.company_id,
                    }
                    for _i in range(2)
                ],
            )
            return new.ids

    def process(self, message_id, cr):
        env = new_env(self.db_registry, cr, {"allowed_company_ids": [self.company_id]})
        return self.apply(env, message_id)

    @staticmethod
    def apply(env, message_id):
        result = env["logistics.message"].browse(message_id)._job_process()
        env.flush_all()
        return result

    def committed(self):
        with self.db_registry.cursor() as cr:
            cr.execute(
                "SELECT id, state, error_category, error_message FROM logistics_message "
                "WHERE backend_id = %s ORDER BY id",
                [self.backend_id],
            )
            messages = cr.fetchall()
            cr.execute(
                "SELECT name, copy_number, state FROM logistics_freight_invoice "
                "WHERE backend_id = %s",
                [self.backend_id],
            )
            return messages, cr.fetchall()

    def test_the_same_invoice_twice_at_once_is_recorded_once(self):
        first_id, second_id = self.store_twice()
        # the second copy meets the first one's uncommitted invoice, waits, then goes on
        outcome = race(
            self.db_registry,
            lambda env: self.apply(env, first_id),
            lambda env: self.apply(env, second_id),
            context={"allowed_company_ids": [self.company_id]},
            what="the second copy waiting for the first one's invoice",
        )
        self.assertNotIn("error", outcome)
        self.assertTrue(outcome["result"].startswith("retry in"), outcome["result"])
        messages, invoices = self.committed()
        self.assertEqual(invoices, [("RACE-0001", 0, "to_review")])
        second = {m[0]: m[1:] for m in messages}[second_id]
        self.assertEqual(second[:2], ("received", "business"), "tried again, no exception")
        self.assertIn("Another copy of invoice RACE-0001", second[2])

        # its next try reads the invoice the first one recorded: the one to review
        with self.db_registry.cursor() as cr:  # committed when the block ends
            self.process(second_id, cr)
        messages, invoices = self.committed()
        self.assertEqual(invoices, [("RACE-0001", 0, "to_review")])
        states = {m[0]: m[1:3] for m in messages}
        self.assertEqual(states[second_id], ("failed", "business"), "the copy to review")
        self.assertEqual(states[first_id][0], "ignored", "the earlier copy leaves the queue")
