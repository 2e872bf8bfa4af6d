"""A database from before superseding still lists failures a later success already solved:
the upgrade to 18.0.1.2.0 marks each superseded by the first success after it (dated by
it, its reason kept, a note in its chatter), tells the record it concerns, in the record's
company, and leaves alone what no success solved. Inbound events of an operation follow the
partner's event order: a processed status makes the failed ones from before it moot, not
the ones from after it."""

import uuid
from datetime import datetime
from unittest.mock import patch

from odoo.modules.migration import load_script
from odoo.modules.module import get_module_path

from ..tools import operations
from .common import LogisticsTransactionCase

SCRIPT = "migrations/18.0.1.2.0/end-migrate.py"


def run_upgrade_script(env, module, script):
    """The migration script ``script`` of ``module``, run as Odoo's upgrade runs it."""
    path = f"{get_module_path(module)}/{script}"
    load_script(path, f"{module}_{script.replace('/', '_')}").migrate(env.cr, "18.0.1.1.0")
    env.invalidate_all()


class TestSupersededUpgrade(LogisticsTransactionCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        for message_type, operation in (
            ("test.push", "test.push"),
            ("test.push.update", "test.push"),
            ("test.status", "test.status"),
        ):
            operations.register_operation(operation, message_type)
            cls.addClassCleanup(operations._OPERATION_OF.pop, message_type, None)
        cls.backend = cls._make_backend(name="Acme Fulfilment")
        cls.company_b = cls.env["res.company"].create({"name": "Northwind Logistics"})
        cls.backend_b = cls._make_backend(name="Northwind 3PL", company_id=cls.company_b.id)
        cls.customer = cls.env["res.partner"].create({"name": "Ada Lovelace"})
        cls.other_customer = cls.env["res.partner"].create({"name": "Grace Hopper"})
        cls.customer_b = cls.env["res.partner"].create(
            {"name": "Alan Turing", "company_id": cls.company_b.id}
        )

    def message(self, record, message_type, state, backend=None, **vals):
        return self.env["logistics.message"].create(
            dict(
                {
                    "backend_id": (backend or self.backend).id,
                    "direction": "out",
                    "message_type": message_type,
                    "idempotency_key": str(uuid.uuid4()),
                    "state": state,
                    "res_model": record._name,
                    "res_id": record.id,
                    "subject": record.display_name,
                    "error_message": "Refused: a phone number is required"
                    if state in ("failed", "dead")
                    else False,
                },
                **vals,
            )
        )

    def partner_class(self):
        """The class of ``res.partner`` in the registry: the hook told is spied on there."""
        return type(self.env["res.partner"])

    def upgrade(self):
        told = []

        def tell(record, message, by):
            told.append((record, message, by, record.env.company))

        with patch.object(
            self.partner_class(), "_logistics_on_message_superseded", tell, create=True
        ):
            run_upgrade_script(self.env, "logistics_integration_base", SCRIPT)
        return told

    def test_failures_a_later_success_solved_are_superseded_by_it(self):
        failed = self.message(self.customer, "test.push", "failed")
        dead = self.message(self.customer, "test.push.update", "dead")
        success = self.message(self.customer, "test.push.update", "sent")
        later_success = self.message(self.customer, "test.push", "acknowledged")
        failed_after = self.message(self.customer, "test.push", "failed")
        other_record = self.message(self.other_customer, "test.push", "failed")
        other_operation = self.message(self.customer, "test.status", "failed")
        call = self.message(self.customer, "test.push", "failed", is_call=True)
        success.done_at = datetime(2026, 11, 30, 9, 15)
        reason = failed.error_message

        told = self.upgrade()

        for solved in (failed, dead):
            self.assertEqual(solved.state, "superseded")
            self.assertEqual(solved.superseded_by_id, success, "the first success after it")
            self.assertEqual(solved.superseded_at, datetime(2026, 11, 30, 9, 15))
            self.assertEqual(solved.done_at, datetime(2026, 11, 30, 9, 15))
            self.assertIn(
                f"Superseded by {success.name}, which succeeded on 2026-11-30 09:15:00",
                solved.message_ids[0].body,
            )
        self.assertEqual(failed.error_message, reason, "the reason is kept")
        for untouched in (failed_after, other_record, other_operation, call):
            self.assertEqual(untouched.state, "failed")
            self.assertFalse(untouched.superseded_by_id)
        self.assertNotIn(later_success, (failed | dead).superseded_by_id)
        self.assertEqual(
            {(record, message, by) for record, message, by, _company in told},
            {(self.customer, failed, success), (self.customer, dead, success)},
            "the record each failure concerns is told, once",
        )

    def test_each_company_in_its_own_company_in_batches_and_once(self):
        failures = self.env["logistics.message"]
        for _i in range(3):
            failures |= self.message(self.customer, "test.push", "failed")
            failures_b = self.message(
                self.customer_b, "test.push", "failed", backend=self.backend_b
            )
            failures |= failures_b
        success = self.message(self.customer, "test.push", "sent")
        success_b = self.message(self.customer_b, "test.push", "sent", backend=self.backend_b)

        Message = self.env["logistics.message"]
        with patch.object(
            self.partner_class(), "_logistics_on_message_superseded", create=True
        ) as hook:
            hook.side_effect = lambda *args: None
            # the method the script calls, in batches of two
            self.assertEqual(Message._supersede_solved_failures(batch_size=2), 6)
        self.env.invalidate_all()
        self.assertEqual(set(failures.mapped("state")), {"superseded"})
        self.assertEqual(
            failures.filtered(lambda m: m.company_id == self.company_b).superseded_by_id,
            success_b,
        )
        self.assertEqual(
            failures.filtered(lambda m: m.company_id != self.company_b).superseded_by_id,
            success,
        )
        self.assertEqual(hook.call_count, 6)

        notes = {msg: len(msg.message_ids) for msg in failures}
        told = self.upgrade()
        self.assertEqual(told, [], "nothing left to supersede, nobody told twice")
        self.assertEqual({msg: len(msg.message_ids) for msg in failures}, notes)

        # the script, on a database where company B's failures are still open
        failed_b = self.message(self.customer_b, "test.push", "dead", backend=self.backend_b)
        solved_b = self.message(self.customer_b, "test.push", "sent", backend=self.backend_b)
        told = self.upgrade()
        self.assertEqual(failed_b.superseded_by_id, solved_b)
        self.assertEqual(told, [(self.customer_b, failed_b, solved_b, self.company_b)])

    def test_an_inbound_status_supersedes_the_failed_statuses_from_before_it(self):
        """A processed status states the record's whole state: a failed status the partner
        sent before it is moot, one sent after it still brings news (arrival order does
        not count: the partner's event time does)."""

        def status(state, event_time, sequence=0):
            return self.message(
                self.customer,
                "test.status",
                state,
                direction="in",
                event_time=event_time,
                sequence=sequence,
            )

        after = status("failed", datetime(2026, 12, 1, 10, 0))
        before = status("failed", datetime(2026, 12, 1, 8, 0))
        same_time_lower_sequence = status("failed", datetime(2026, 12, 1, 9, 0), 1)
        processed = status("processed", datetime(2026, 12, 1, 9, 0), 2)

        with patch.object(
            self.partner_class(), "_logistics_on_message_superseded", create=True
        ) as hook:
            hook.side_effect = lambda *args: None
            self.assertEqual(processed._supersede_earlier(), before | same_time_lower_sequence)
        self.assertEqual(after.state, "failed")
        self.assertEqual(before.superseded_by_id, processed)

        # the same on an upgraded database
        self.env["logistics.message"].browse((before | same_time_lower_sequence).ids).write(
            {"state": "failed", "superseded_by_id": False}
        )
        told = self.upgrade()
        self.assertEqual(
            {message for _record, message, _by, _company in told},
            {before, same_time_lower_sequence},
        )
        self.assertEqual(after.state, "failed", "it came after the processed status")
        self.assertEqual(before.superseded_by_id, processed)
