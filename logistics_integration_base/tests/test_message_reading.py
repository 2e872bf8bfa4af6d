"""The exception queue reads as a person's: the type's label, what failed in one sentence,
the record and its customer, a refusal headed as one, the attempts counted as listed; Retry
says what it did; a state change reaches the open forms through Odoo's bus."""

import json
import os

from logistics_simulators.http_server import CuedHTTPServer
from lxml import etree

from odoo.tests import new_test_user, tagged

from odoo.addons.bus.models.bus import channel_with_db, dispatch, hashable, json_dump
from odoo.addons.bus.tests.common import WebsocketCase

from ..handlers import message_type_label
from ..tools.wording import first_sentence
from .common import LogisticsCaseMixin, LogisticsTransactionCase, run_jobs

REFUSAL = {"errors": {"message": ["is not accepted for this service level"]}}


@tagged("post_install", "-at_install")
class TestMessageReading(LogisticsTransactionCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.server = CuedHTTPServer().start()
        cls.addClassCleanup(cls.server.stop)
        cls.backend = cls._make_backend(
            name="Reading partner", base_url=cls.server.url("/events"), retry_max_attempts=1
        )
        cls.user = new_test_user(
            cls.env, "lgx_reader", groups="logistics_integration_base.group_logistics_user"
        )
        cls.customer = cls.env["res.partner"].create({"name": "Ms Reader's shop"})

    def setUp(self):
        super().setUp()
        self.server.reset()

    def refused(self, record=None):
        self.server.cue((400, {}, REFUSAL))
        msg = self.env["logistics.message"].browse(
            self.backend.send_message("integration.ping", {"message": "refused"})
        )
        if record:
            msg._link_record(record)
        run_jobs(self.env)
        self.assertEqual(msg.state, "failed")
        return msg

    def test_a_partner_refusal_reads_in_words(self):
        msg = self.refused()
        self.assertEqual(msg.error_category, "validation")
        self.assertEqual(msg.error_heading, "Refused by Reading partner")
        categories = dict(msg._fields["error_category"]._description_selection(self.env))
        self.assertEqual(categories["validation"], "Data to correct")
        self.assertNotIn("Validation", categories.values())
        # the list's reason: the first sentence, without the technical details below it
        self.assertTrue(msg.error_message.startswith(msg.error_summary), msg.error_summary)
        self.assertIn("is not accepted for this service level", msg.error_summary)
        self.assertNotIn("HTTP 400", msg.error_summary)
        self.assertNotIn("\n", msg.error_summary)

    def test_a_failure_not_refused_by_the_partner_is_headed_by_its_category(self):
        self.server.cue(503)
        msg = self.env["logistics.message"].browse(
            self.backend.send_message("integration.ping", {"message": "down"})
        )
        run_jobs(self.env)
        self.assertEqual((msg.state, msg.error_category), ("dead", "technical"))
        self.assertEqual(msg.error_heading, "Connection or system problem")
        # "Gave up after 1 attempts." alone says too little: the last error follows
        self.assertIn("Last error", msg.error_summary)

    def test_first_sentence(self):
        self.assertEqual(
            first_sentence(
                "Acme refused delivery WH/OUT/00002: a phone is required (ship_to.phone). "
                "Correct the contact of WH/OUT/00002, then press Retry.\n\nTechnical details: "
                "HTTP 400"
            ),
            "Acme refused delivery WH/OUT/00002: a phone is required (ship_to.phone).",
        )
        self.assertEqual(
            first_sentence("Invoice INV-1 needs a review before it is paid:\nWH/OUT/1: 10.18"),
            "Invoice INV-1 needs a review before it is paid",
        )
        self.assertEqual(
            first_sentence("Expected 10.18, invoiced 17.68 USD."),
            "Expected 10.18, invoiced 17.68 USD.",
        )
        long = first_sentence("word " * 100, limit=50)
        self.assertLessEqual(len(long), 50)
        self.assertTrue(long.endswith("…"))
        self.assertEqual(first_sentence(False), "")

    def test_the_type_reads_as_its_label(self):
        msg = self.refused()
        self.assertEqual(msg.type_label, "integration.ping")
        labels = dict(msg._fields["type_label"]._description_selection(self.env))
        self.assertEqual(labels["integration.ping"], "Connection check")
        self.assertEqual(message_type_label("integration.ping"), "Connection check")
        # a type nobody labelled shows its code
        self.assertEqual(message_type_label("nobody.labels.this"), "nobody.labels.this")
        # grouped by type, the exception queue shows the labels
        groups = self.env["logistics.message"].read_group(
            [("id", "=", msg.id)], ["type_label"], ["type_label"]
        )
        self.assertEqual(groups[0]["type_label"], "integration.ping")

    def test_record_and_customer_beside_the_reason(self):
        msg = self.refused(record=self.customer)
        self.assertEqual(msg.record_name, self.customer.display_name)
        # a record with no partner_id of its own: nothing shown, not an error
        self.assertFalse(msg.partner_id)
        company = self.env.company
        other = self.refused(record=company)
        self.assertEqual(other.record_name, company.name)
        self.assertEqual(other.partner_id, company.partner_id)
        self.assertEqual(
            self.env["logistics.message"].search([("partner_id", "=", company.partner_id.id)]),
            other,
        )

    def test_the_exception_list_shows_reason_record_and_customer_not_the_group(self):
        action = self.env.ref("logistics_integration_base.action_logistics_exceptions")
        view = self.env.ref("logistics_integration_base.view_logistics_exception_list")
        self.assertIn("'search_default_group_backend': 1", action.context)
        arch = etree.fromstring(self.env["logistics.message"].get_view(view.id, "list")["arch"])
        shown = [
            f.get("name")
            for f in arch.iter("field")
            if f.get("optional") != "hide" and f.get("column_invisible") not in ("1", "True")
        ]
        for name in ("type_label", "record_name", "partner_id", "error_summary", "state"):
            self.assertIn(name, shown)
        # grouped by partner backend: no column repeating it, nor the subject naming it
        for name in ("backend_id", "subject", "message_type"):
            self.assertNotIn(name, shown)

    def test_the_form_hides_empty_fields_and_counts_attempts_as_listed(self):
        view = self.env.ref("logistics_integration_base.view_logistics_message_form")
        arch = etree.fromstring(self.env["logistics.message"].get_view(view.id, "form")["arch"])
        fields_in_sheet = {f.get("name"): f for f in arch.xpath("//sheet/group/group/field")}
        for name in ("external_id", "event_time", "next_retry_at", "done_at", "http_status"):
            self.assertEqual(fields_in_sheet[name].get("invisible"), f"not {name}")
        self.assertEqual(fields_in_sheet["sla_breached"].get("invisible"), "not sla_breached")
        self.assertIn("attempts == attempt_count", fields_in_sheet["attempts"].get("invisible"))
        self.assertTrue(arch.xpath("//div[hasclass('alert-danger')]//field[@name='error_heading']"))

        msg = self.refused()
        self.assertEqual((msg.attempts, msg.attempt_count, len(msg.attempt_ids)), (1, 1, 1))
        self.server.cue((400, {}, REFUSAL))
        msg.action_retry()
        run_jobs(self.env)
        # the retry budget starts again; the attempts made are those listed
        self.assertEqual((msg.attempts, msg.attempt_count, len(msg.attempt_ids)), (1, 2, 2))

    def test_retry_says_what_it_did(self):
        msg = self.refused()
        action = msg.with_user(self.user).action_retry()
        self.assertEqual(action["tag"], "display_notification")
        self.assertEqual(action["params"]["type"], "success")
        self.assertIn(msg.name, action["params"]["message"])
        self.assertIn("Reading partner", action["params"]["message"])
        self.assertEqual(action["params"]["next"]["tag"], "soft_reload")
        self.server.cue((400, {}, REFUSAL), (400, {}, REFUSAL))
        run_jobs(self.env)
        two = msg | self.refused()
        action = two.with_user(self.user).action_retry()
        self.assertIn("2 messages are queued again", action["params"]["message"])

    def test_a_state_change_is_sent_on_the_company_bus_channel(self):
        msg = self.refused()
        self.env.cr.precommit.run()
        channel = json_dump(
            channel_with_db(self.env.cr.dbname, (msg.company_id, "logistics.message"))
        )
        notices = self.env["bus.bus"].sudo().search([("channel", "=", channel)])
        payloads = [json.loads(n.message) for n in notices]
        self.assertTrue(payloads, "the job's state change was announced")
        self.assertEqual({p["type"] for p in payloads}, {"logistics.message/state"})
        self.assertIn(
            {"id": msg.id, "state": "failed", "res_model": False, "res_id": 0},
            [item for p in payloads for item in p["payload"]],
        )
        # only ids, states and the record: never the reason nor the payload
        self.assertNotIn("not accepted", notices[-1].message)


@tagged("post_install", "-at_install")
class TestOpenFormsFollowTheBus(LogisticsCaseMixin, WebsocketCase):
    """A web client of a logistics user hears, over its real websocket, that a message of
    its company changed state (the form open on it, or on its record, then reloads); a user
    outside the logistics groups is not subscribed."""

    def test_a_logistics_user_hears_the_state_changes_of_its_company(self):
        os.environ.setdefault("LOGISTICS_SECRET_KEY", "test-key")
        new_test_user(
            self.env,
            "lgx_listener",
            password="lgx_listener_pw!",
            groups="base.group_user,logistics_integration_base.group_logistics_user",
        )
        new_test_user(self.env, "lgx_outsider", password="lgx_outsider_pw!")
        channel = (self.env.company, "logistics.message")
        key = hashable(channel_with_db(self.env.registry.db_name, channel))
        # (each sign-in ends the previous test session: the outsider first)
        outsider = self.websocket_connect(
            cookie=f"session_id={self.authenticate('lgx_outsider', 'lgx_outsider_pw!').sid};"
        )
        self.subscribe(outsider, [], self.env["bus.bus"]._bus_last_id())
        self.assertFalse(dispatch._channels_to_ws.get(key), "not a logistics user")
        listener = self.websocket_connect(
            cookie=f"session_id={self.authenticate('lgx_listener', 'lgx_listener_pw!').sid};"
        )
        self.subscribe(listener, [], self.env["bus.bus"]._bus_last_id())
        self.assertEqual(len(dispatch._channels_to_ws.get(key, ())), 1, "the listener")

        backend = self._make_backend(retry_max_attempts=1, company_id=self.env.company.id)
        msg = self.env["logistics.message"].browse(
            backend.send_message("integration.ping", {"message": "nobody answers"})
        )
        run_jobs(self.env)
        self.assertEqual(msg.state, "dead")
        self.trigger_notification_dispatching([channel])
        notices = json.loads(listener.recv())
        states = [
            item
            for notice in notices
            if notice["message"]["type"] == "logistics.message/state"
            for item in notice["message"]["payload"]
        ]
        self.assertIn(msg.id, [item["id"] for item in states])
        self.assertEqual([item["state"] for item in states if item["id"] == msg.id][-1], "dead")


@tagged("post_install", "-at_install")
class TestMessageListsElsewhere(LogisticsTransactionCase):
    def test_lists_of_messages_on_other_forms_show_the_label(self):
        for model, view in (
            ("logistics.sftp.file", "logistics_integration_base.view_logistics_sftp_file_form"),
            (
                "logistics.message.edit.payload",
                "logistics_integration_base.view_logistics_message_edit_payload_form",
            ),
        ):
            arch = etree.fromstring(self.env[model].get_view(self.env.ref(view).id, "form")["arch"])
            names = {f.get("name"): f for f in arch.iter("field")}
            self.assertIn("type_label", names, view)
            if "message_type" in names:
                self.assertEqual(names["message_type"].get("optional"), "hide", view)
