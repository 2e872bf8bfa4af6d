"""Declarations sent to a customs broker as UN/EDIFACT files over SFTP, and its CUSRES
answers read back: a real SFTP server on loopback, the broker simulator on the other side
(reading our CUSDEC with its own parser, writing CUSRES with its own builder), the
backend's poll and the queued inbound messages. Every status path, amendments as
replacement CUSDECs, control references from the database sequence, files processed once,
an unreadable file kept in the error folder with the segment and its position, and a
response about a declaration Odoo has not sent yet that replays once it is sent."""

import datetime as dt
import os
import uuid

from logistics_simulators.customs_broker import (
    build_cusres,
    read_cusdec,
)

from odoo import SUPERUSER_ID, api
from odoo.exceptions import UserError, ValidationError
from odoo.modules.registry import Registry
from odoo.tests import TransactionCase, tagged
from odoo.tests.common import get_db_name

from odoo.addons.logistics_integration_base.tests.common import (
    run_jobs,
)
from odoo.addons.logistics_integration_base.tests.concurrency import race
from odoo.addons.logistics_integration_base.transport import sftp

from .common import EdifactSftpFixture


def utc_now_dt():
    return dt.datetime.now(dt.UTC)


class TestEdifactOverSftp(EdifactSftpFixture, TransactionCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.setup_edifact_sftp()

    def setUp(self):
        super().setUp()
        self.empty_sftp_folders()

    # helpers ------------------------------------------------------------------------------
    def folder(self, name):
        path = os.path.join(self.root, name)
        return sorted(e for e in os.listdir(path) if os.path.isfile(os.path.join(path, e)))

    def server_file(self, folder, name):
        with open(os.path.join(self.root, folder, name), "rb") as fh:
            return fh.read()

    def submitted(self, lines=None, partner=None):
        delivery = self.delivery_of(
            self.sale(partner or self.us_customer, lines or [(self.kettle, 2, 40.0)])
        )
        declaration = delivery.logistics_declaration_ids
        declaration.action_submit()
        run_jobs(self.env)
        return delivery, declaration

    def answer(self, *statuses, filename=None):
        """The broker picks up what Odoo wrote, answers with one CUSRES interchange; Odoo
        polls and processes the statuses."""
        self.sim.sftp_pickup_declarations(self.partner)
        drop = self.sim.sftp_drop_cusres(self.partner, list(statuses), filename=filename)
        files = self.broker._sftp_poll()
        run_jobs(self.env)
        return drop, files

    def status_messages(self, declaration):
        return self.env["logistics.message"].search(
            [
                ("message_type", "=", "customs.status"),
                ("res_model", "=", declaration._name),
                ("res_id", "=", declaration.id),
            ],
            order="id",
        )

    # outbound -----------------------------------------------------------------------------
    def test_declaration_is_a_cusdec_file_with_a_control_reference_from_the_sequence(self):
        _delivery, declaration = self.submitted()
        [message] = self.env["logistics.message"].search(
            [("message_type", "=", "customs.declaration"), ("res_id", "=", declaration.id)]
        )
        self.assertEqual(message.state, "sent")
        expected = f"CUSDEC_{declaration.name.replace('/', '-')}_v1_{message.id}.edi"
        self.assertEqual(self.folder("to_broker"), [expected], "no .part file left behind")
        self.assertEqual(message.sftp_remote_path, f"to_broker/{expected}")
        content = self.server_file("to_broker", expected)
        envelope, received = read_cusdec(content)
        self.assertEqual(envelope["sender"], "DE123456789012345", "the company's EORI")
        self.assertEqual(envelope["recipient"], "HANSEBRK")
        first_ref = int(envelope["reference"])
        self.assertEqual(self.broker.interchange_next_number, first_ref + 1)
        self.assertEqual(received["reference"], declaration.name)
        self.assertEqual(received["version"], 1)
        self.assertEqual(received["direction"], "export")
        self.assertEqual(received["exporter"]["eori"], "DE123456789012345")
        self.assertEqual(received["lines"][0]["hs_code"], "85161080")
        self.assertEqual(received["lines"][0]["quantity"], 2)
        self.assertIn(b"BGM+830+" + declaration.name.encode() + b"+9'", content)
        self.assertIn(b"MOA+39:80:USD'", content)

        _delivery2, second = self.submitted([(self.toaster, 1, 30.0)])
        [name2] = [n for n in self.folder("to_broker") if n != expected]
        envelope2, _ = read_cusdec(self.server_file("to_broker", name2))
        self.assertEqual(int(envelope2["reference"]), first_ref + 1, "the next control number")
        self.assertIn(second.name.replace("/", "-"), name2)

        # the broker reads both with its own parser
        picked = self.sim.sftp_pickup_declarations(self.partner)
        self.assertEqual(
            sorted((ref, version, outcome) for _n, ref, version, outcome in picked),
            sorted([(declaration.name, 1, 202), (second.name, 1, 202)]),
        )
        self.assertFalse(self.folder("to_broker"), "the broker took its files")

    def test_control_references_only_go_up(self):
        self.broker.interchange_next_number = 123456789
        self.assertEqual(self.broker._interchange_next_number(), 123456789)
        with self.assertRaisesRegex(ValidationError, "never go back"):
            self.broker.interchange_next_number = 5
        with self.assertRaisesRegex(ValidationError, "go up to 999999999"):
            self.broker.interchange_next_number = 10**9
        with self.assertRaisesRegex(ValidationError, "EDIFACT recipient id"):
            self.broker.edifact_recipient_id = "HANSE+BRK"

    def test_a_declaration_that_cannot_be_written_fails_with_the_reason(self):
        self.broker.company_id.partner_id.logistics_eori = False
        self.broker.edifact_sender_id = False
        delivery = self.delivery_of(self.sale(self.us_customer, [(self.kettle, 1, 40.0)]))
        declaration = delivery.logistics_declaration_ids
        self.assertIn("No EORI number", declaration.missing_data)
        with self.assertRaisesRegex(UserError, "cannot be sent yet"):
            declaration.action_submit()
        self.assertFalse(self.folder("to_broker"))

    # statuses -----------------------------------------------------------------------------
    def test_accepted_held_for_documents_amended_then_released_with_duties(self):
        delivery, declaration = self.submitted()
        drop, files = self.answer(
            (declaration.name, "accepted"),
            {
                "reference": declaration.name,
                "status": "documents_required",
                "reason": "Preferential origin claimed without proof",
                "documents_requested": [{"code": "N954", "name": "Certificate of origin EUR.1"}],
            },
        )
        self.assertEqual(files.state, "processed")
        self.assertEqual(files.file_format, "edifact")
        self.assertEqual(files.interchange_control_number, drop.name[len("CUSRES_") : -4])
        self.assertEqual(self.folder("from_broker/archive"), [drop.name])
        self.assertFalse(self.folder("from_broker"), "moved out of the inbound folder")
        self.assertEqual(len(files.message_ids), 2, "one message per CUSRES")

        mrn = self.sim.files[declaration.name]["mrn"]
        self.assertEqual(declaration.broker_reference, mrn)
        self.assertEqual(declaration.state, "documents_required")
        self.assertIn("N954: Certificate of origin EUR.1", declaration.documents_requested)
        accepted, hold = self.status_messages(declaration)
        self.assertEqual(accepted.state, "processed")
        self.assertEqual(hold.state, "failed", "a hold lands in the exception queue")
        self.assertIn(f"Customs hold {declaration.name} ({delivery.name})", hold.error_message)
        self.assertEqual(hold.sftp_file_id, files)
        [activity] = declaration.activity_ids
        self.assertIn("Certificate of origin EUR.1", activity.note)
        with self.assertRaisesRegex(UserError, "is waiting for customs release"):
            self.validate(delivery)

        declaration.action_amend()
        run_jobs(self.env)
        self.assertEqual((declaration.version, declaration.state), (2, "submitted"))
        [amendment] = self.folder("to_broker")
        self.assertIn("_v2_", amendment)
        self.assertIn(b"+5'", self.server_file("to_broker", amendment).split(b"BGM+", 1)[1][:60])
        _drop, files = self.answer(
            (declaration.name, "accepted"),
            {
                "reference": declaration.name,
                "status": "released",
                "duties": [
                    {"type": "duty", "amount": 2.16, "currency": "EUR"},
                    {"type": "vat", "amount": 15.61, "currency": "EUR"},
                ],
            },
        )
        self.assertEqual(
            [v for _n, _r, v, _o in self.sim.sftp_results], [1, 2], "version 2 replaced 1"
        )
        self.assertEqual(declaration.state, "released")
        self.assertEqual(
            sorted((d.duty_type, d.amount, d.currency_id.name) for d in declaration.duty_ids),
            [("duty", 2.16, "EUR"), ("vat", 15.61, "EUR")],
        )
        self.assertEqual(hold.state, "ignored", "the release closes the hold")
        self.assertFalse(declaration.activity_ids)
        self.assertEqual(
            declaration.event_ids.sorted("id").mapped("status"),
            ["accepted", "documents_required", "accepted", "released"],
        )
        self.assertIs(self.validate(delivery), True)

    def test_inspection_then_release(self):
        _delivery, declaration = self.submitted()
        self.answer(
            (declaration.name, "accepted"),
            {"reference": declaration.name, "status": "inspection", "reason": "X-ray at Hamburg"},
        )
        self.assertEqual(declaration.state, "inspection")
        self.assertEqual(declaration.hold_reason, "X-ray at Hamburg")
        self.answer((declaration.name, "released"))
        self.assertEqual(declaration.state, "released")

    def test_rejected_with_error_codes_then_amended_and_released(self):
        _delivery, declaration = self.submitted([(self.kettle, 1, 40.0), (self.toaster, 2, 30.0)])
        self.answer(
            {
                "reference": declaration.name,
                "status": "rejected",
                "reason": "Declaration rejected",
                "errors": [
                    {"code": "E101", "text": "Tariff code not valid", "pointer": "/lines/1"}
                ],
            }
        )
        self.assertEqual(declaration.state, "rejected")
        self.assertIn("E101", declaration.rejection_errors)
        self.assertIn("Tariff code not valid", declaration.rejection_errors)
        # the error points at the second goods item (ERP+2'RFF+LI:2): named as the operator
        # reads it, with its commodity code and description
        toaster = declaration.line_ids[1]
        self.assertIn(
            f"E101 (goods item 2: {toaster.hs_code} {toaster.description}) Tariff code not valid",
            declaration.rejection_errors,
        )
        [rejection] = self.status_messages(declaration)
        self.assertEqual(rejection.state, "failed")
        self.assertEqual(rejection._get_payload()["errors"][0]["pointer"], "/lines/1")

        self.toaster.categ_id.logistics_hs_code = "851672"
        declaration.action_amend()
        run_jobs(self.env)
        self.sim.sftp_pickup_declarations(self.partner)
        second = self.sim.declarations[declaration.name][-1]
        self.assertEqual(second["version"], 2)
        self.assertIn("851672", [line["hs_code"] for line in second["lines"]])
        self.answer((declaration.name, "accepted"), (declaration.name, "released"))
        self.assertEqual(declaration.state, "released")

    def test_cancelled(self):
        _delivery, declaration = self.submitted()
        self.answer((declaration.name, "accepted"), (declaration.name, "cancelled"))
        self.assertEqual(declaration.state, "cancelled")

    def test_a_late_accepted_after_released_is_history_only(self):
        _delivery, declaration = self.submitted()
        self.answer((declaration.name, "accepted"), (declaration.name, "released"))
        mrn = declaration.broker_reference
        self.answer({"reference": declaration.name, "status": "accepted", "version": 1})
        self.assertEqual(declaration.state, "released")
        self.assertEqual(declaration.broker_reference, mrn)
        late = declaration.event_ids.sorted("id")[-1]
        self.assertEqual((late.status, late.applied), ("accepted", False))

    # bad input ----------------------------------------------------------------------------
    def test_an_unreadable_file_is_kept_in_the_error_folder_with_segment_and_position(self):
        _delivery, declaration = self.submitted()
        self.sim.sftp_pickup_declarations(self.partner)
        good = self.sim.sftp_drop_cusres(self.partner, [(declaration.name, "accepted")])
        self.broker._sftp_poll()  # the good one is archived
        # the same interchange with a declaration version that is not a number
        ref = f"RFF+ABE:{declaration.name}::1"
        broken = good.content.replace(f"{ref}'", f"{ref.replace('::1', '::v1')}'")
        self.assertNotEqual(broken, good.content)
        self.sim.sftp_drop_file(self.partner, "CUSRES_broken.edi", broken.encode("latin-1"))
        truncated = good.content[: good.content.index("UNT+")]
        self.sim.sftp_drop_file(self.partner, "CUSRES_cut.edi", truncated.encode("latin-1"))
        files = self.broker._sftp_poll()
        run_jobs(self.env)
        self.assertEqual(files.mapped("state"), ["error", "error"])
        self.assertEqual(self.folder("from_broker/error"), ["CUSRES_broken.edi", "CUSRES_cut.edi"])
        self.assertEqual(self.folder("from_broker/archive"), [good.name])
        by_name = {f.name: f for f in files}
        broken_file = by_name["CUSRES_broken.edi"]
        bad = ref.replace("::1", "::v1")
        position = broken.split("'").index(bad) + (0 if broken.startswith("UNA") else 1)
        self.assertIn(f"segment RFF (segment {position})", broken_file.error)
        self.assertEqual(broken_file.content, broken)
        [failed] = broken_file.message_ids
        self.assertEqual((failed.state, failed.message_type), ("failed", "customs.status"))
        self.assertIn(
            "File CUSRES_broken.edi from Hanse Customs could not be read", failed.error_message
        )
        self.assertIn(f"segment RFF (segment {position})", failed.error_message)
        self.assertIn("kept in the error folder 'from_broker/error'", failed.error_message)
        self.assertIn("Ask Hanse Customs to send a corrected file", failed.error_message)
        cut_file = by_name["CUSRES_cut.edi"]
        self.assertIn("UNZ", cut_file.error, "the incomplete interchange names what is missing")
        self.assertEqual(declaration.state, "accepted", "nothing of a broken file is applied")
        self.assertEqual(declaration.event_ids.mapped("status"), ["accepted"])

    def test_the_same_file_twice_is_processed_once(self):
        _delivery, declaration = self.submitted()
        drop, files = self.answer((declaration.name, "accepted"))
        self.sim.sftp_drop_file(self.partner, drop.name, drop.content.encode("latin-1"))
        again = self.broker._sftp_poll()
        run_jobs(self.env)
        self.assertFalse(again, "no new file record")
        self.assertEqual(files.duplicate_count, 1)
        self.assertEqual(len(self.status_messages(declaration)), 1)
        self.assertEqual(len(declaration.event_ids), 1)

    def test_the_same_interchange_under_another_name_is_applied_once(self):
        delivery, declaration = self.submitted()
        drop, first = self.answer(
            {
                "reference": declaration.name,
                "status": "documents_required",
                "documents_requested": [{"code": "N954", "name": "Certificate of origin"}],
            }
        )
        self.assertEqual(first.state, "processed")
        # the broker sends the very same interchange again, under another name
        self.sim.sftp_drop_file(self.partner, "RESENT_" + drop.name, drop.content.encode("latin-1"))
        [again] = self.broker._sftp_poll()
        run_jobs(self.env)
        # applied once: one history event, one activity, one entry in the exception queue
        self.assertEqual(declaration.event_ids.mapped("status"), ["documents_required"])
        self.assertEqual(len(declaration.activity_ids), 1)
        [hold] = self.env["logistics.message"].search(
            [("backend_id", "=", self.broker.id), ("state", "in", ("failed", "dead"))]
        )
        self.assertEqual(hold.sftp_file_id, first)
        self.assertEqual(len(self.status_messages(declaration)), 1)
        self.assertEqual(again.state, "duplicate")
        self.assertEqual(again.duplicate_of_id, first)
        self.assertEqual(
            (again.interchange_sender, again.interchange_control_number),
            ("BROKERSIM:ZZ", first.interchange_control_number),
        )
        self.assertIn(f"as file {drop.name} received on", again.note)
        self.assertEqual(again.content, drop.content, "kept")
        self.assertFalse(again.message_ids)
        self.assertEqual(
            self.folder("from_broker/archive"), sorted([drop.name, "RESENT_" + drop.name])
        )
        self.assertFalse(self.folder("from_broker/error"))
        with self.assertRaisesRegex(UserError, "is waiting for customs release"):
            self.validate(delivery)

    def test_two_interchanges_under_the_same_file_name_are_both_applied(self):
        _delivery, declaration = self.submitted()
        _drop, first = self.answer((declaration.name, "accepted"), filename="CUSRES_daily.edi")
        _drop, second = self.answer((declaration.name, "released"), filename="CUSRES_daily.edi")
        self.assertEqual((first.state, second.state), ("processed", "processed"))
        self.assertNotEqual(first.interchange_control_number, second.interchange_control_number)
        self.assertEqual(declaration.state, "released")
        self.assertEqual(
            declaration.event_ids.sorted("id").mapped("status"), ["accepted", "released"]
        )

    def test_an_interchange_reference_reused_with_other_content_is_not_applied(self):
        _delivery, declaration = self.submitted()
        drop, first = self.answer((declaration.name, "accepted"))
        reference = first.interchange_control_number
        released = self.sim.status_data(declaration.name, "released")
        content = build_cusres(
            [released], reference, self.sim.edifact_id, "DE123456789012345", utc_now_dt()
        )
        self.sim.sftp_drop_file(self.partner, "CUSRES_other.edi", content.encode("latin-1"))
        [reused] = self.broker._sftp_poll()
        run_jobs(self.env)
        self.assertEqual(reused.state, "error")
        self.assertIn(f"already received in file {drop.name} with other content", reused.error)
        [failed] = reused.message_ids
        self.assertEqual((failed.state, failed.message_type), ("failed", "customs.status"))
        self.assertEqual(self.folder("from_broker/error"), ["CUSRES_other.edi"])
        self.assertEqual(declaration.state, "accepted", "not applied")

    # cancellation -----------------------------------------------------------------------------
    def test_a_customs_manager_cancellation_is_a_cusdec_of_function_1(self):
        delivery, declaration = self.submitted()
        self.answer((declaration.name, "accepted"))
        mrn = declaration.broker_reference
        self.env["logistics.customs.cancel"].create(
            {"declaration_id": declaration.id, "reason": "Order withdrawn by the customer"}
        ).action_confirm()
        run_jobs(self.env)
        [sent] = self.env["logistics.message"].search(
            [("message_type", "=", "customs.cancel"), ("res_id", "=", declaration.id)]
        )
        self.assertEqual(sent.state, "sent", sent.error_message)
        [name] = self.folder("to_broker")
        self.assertEqual(name, f"CUSDEC_{declaration.name.replace('/', '-')}_cancel_{sent.id}.edi")
        content = self.server_file("to_broker", name)
        self.assertIn(b"BGM+830+" + declaration.name.encode() + b"+1'", content)
        self.assertIn(b"RFF+AAE:" + mrn.encode() + b"'", content)
        envelope, cancellation = read_cusdec(content)
        self.assertEqual(envelope["function"], "cancellation")
        self.assertEqual(envelope["recipient"], "HANSEBRK")
        # the broker reads it with its own parser
        [picked] = self.sim.sftp_pickup_declarations(self.partner)
        self.assertEqual(picked[1:], (declaration.name, 1, 202))
        self.assertEqual(
            self.sim.cancellations[declaration.name],
            [
                {
                    "reference": declaration.name,
                    "version": 1,
                    "direction": "export",
                    "broker_reference": mrn,
                    "reason": "Order withdrawn by the customer",
                }
            ],
        )
        self.assertEqual(cancellation, self.sim.cancellations[declaration.name][0])
        with self.assertRaisesRegex(UserError, "was cancelled"):
            self.validate(delivery)

    def test_a_response_before_the_declaration_was_sent_replays_once_it_is(self):
        delivery = self.delivery_of(self.sale(self.us_customer, [(self.kettle, 1, 40.0)]))
        declaration = delivery.logistics_declaration_ids
        self.sim.sftp_drop_cusres(
            self.partner,
            [
                {
                    "reference": declaration.name,
                    "status": "accepted",
                    "version": 1,
                    "broker_reference": "26DE00000000000XYZ",
                }
            ],
        )
        self.broker._sftp_poll()
        run_jobs(self.env)
        [waiting] = self.env["logistics.message"].search(
            [("message_type", "=", "customs.status"), ("backend_id", "=", self.broker.id)]
        )
        self.assertEqual(waiting.state, "failed")
        self.assertIn(f"declaration {declaration.name}, which Odoo", waiting.error_message)
        self.assertEqual(declaration.state, "draft")

        declaration.action_submit()
        run_jobs(self.env)
        self.assertEqual(waiting.state, "processed")
        self.assertEqual(declaration.state, "accepted")
        self.assertEqual(declaration.broker_reference, "26DE00000000000XYZ")


@tagged("post_install", "-at_install")
class TestConcurrentInterchanges(TransactionCase):
    """The same CUSRES interchange under two file names, read by two polls at the same
    moment (two transactions, each with its own cursor): the second one meets the first
    one's claim on the interchange once it commits and records a duplicate -- one file
    applies it, no exception. The backend is committed (both transactions must see it),
    archived so that nothing else uses it, and removed afterwards."""

    @classmethod
    def setUpClass(cls):
        cls.db_registry = Registry(get_db_name())
        with cls.db_registry.cursor() as cr:
            env = api.Environment(cr, SUPERUSER_ID, {})
            backend = env["logistics.backend"].create(
                {
                    "name": "Racing broker",
                    "code": f"racing-broker-{uuid.uuid4().hex[:6]}",
                    "kind": "customs",
                    "provider": "edifact",
                    "protocol": "sftp",
                    "active": False,
                }
            )
            cls.backend_id = backend.id
            cls.sequence_id = backend.interchange_sequence_id.id
        cls.addClassCleanup(cls._drop_committed)
        super().setUpClass()
        status = {
            "reference": "CD/2026/99901",
            "version": 1,
            "status": "accepted",
            "broker_reference": "26DE0000000000RACE",
            "event_time": "2026-03-14T10:00:00Z",
            "reason": None,
            "errors": [],
            "documents_requested": [],
            "duties": [],
        }
        cls.content = build_cusres(
            [status], "RACE0001", "BROKERSIM", "ODOO", dt.datetime(2026, 3, 14, 10, 0)
        ).encode("latin-1")

    @classmethod
    def _drop_committed(cls):
        with cls.db_registry.cursor() as cr:
            cr.execute(
                "DELETE FROM queue_job WHERE id IN (SELECT job_id FROM logistics_message "
                "WHERE backend_id = %s)",
                [cls.backend_id],
            )
            cr.execute(
                "DELETE FROM mail_message WHERE model = 'logistics.message' AND res_id IN "
                "(SELECT id FROM logistics_message WHERE backend_id = %s)",
                [cls.backend_id],
            )
            cr.execute(
                "DELETE FROM mail_followers WHERE res_model = 'logistics.message' AND res_id IN "
                "(SELECT id FROM logistics_message WHERE backend_id = %s)",
                [cls.backend_id],
            )
            cr.execute("DELETE FROM logistics_message WHERE backend_id = %s", [cls.backend_id])
            cr.execute("DELETE FROM logistics_sftp_file WHERE backend_id = %s", [cls.backend_id])
            cr.execute(
                "DELETE FROM mail_message WHERE model = 'logistics.backend' AND res_id = %s",
                [cls.backend_id],
            )
            cr.execute("DELETE FROM logistics_backend WHERE id = %s", [cls.backend_id])
            cr.execute("DELETE FROM ir_sequence WHERE id = %s", [cls.sequence_id])

    def receive(self, env, name):
        """A poll recording the file ``name`` (not committed)."""
        backend = env["logistics.backend"].with_context(active_test=False).browse(self.backend_id)
        record = env["logistics.sftp.file"]._receive(
            backend, name, self.content, sftp.file_checksum(self.content)
        )
        return record.state

    def test_two_polls_reading_the_same_interchange_at_once_apply_it_once(self):
        first = {}

        def first_poll(env):
            first["state"] = self.receive(env, "CUSRES_RACE.edi")

        # the second poll meets the first one's uncommitted claim, waits, then goes on
        outcome = race(
            self.db_registry,
            first_poll,
            lambda env: self.receive(env, "CUSRES_RACE_copy.edi"),
            what="the second poll waiting for the first one's claim",
        )
        self.assertEqual(first["state"], "processed")
        self.assertNotIn("error", outcome)
        self.assertEqual(outcome["result"], "duplicate")
        with self.db_registry.cursor() as cr:
            cr.execute(
                "SELECT name, state, interchange_key IS NOT NULL, note FROM logistics_sftp_file "
                "WHERE backend_id = %s ORDER BY id",
                [self.backend_id],
            )
            files = cr.fetchall()
            cr.execute(
                "SELECT state, count(*) FROM logistics_message WHERE backend_id = %s "
                "GROUP BY state",
                [self.backend_id],
            )
            messages = dict(cr.fetchall())
        (first_name, first_state, first_claim, _note), (_name, state, claim, note) = files
        self.assertEqual(
            (first_name, first_state, first_claim), ("CUSRES_RACE.edi", "processed", True)
        )
        self.assertEqual((state, claim), ("duplicate", False))
        self.assertIn("received at the same moment: not applied again", note)
        self.assertEqual(messages, {"received": 1}, "one message, nothing failed")
