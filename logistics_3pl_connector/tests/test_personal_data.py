"""Personal data in messages: stored masked for users outside the personal-data group, the
clear values in fields only that group reads, so that no ORM path (read, search, read_group,
copy_data, exports, an action's context, errors, attempts) hands them out; erased after the
backend's retention for personal data."""

import json
import uuid
import xmlrpc.client
from datetime import timedelta

from logistics_simulators.http_server import CuedHTTPServer

import odoo
from odoo import fields
from odoo.exceptions import AccessError, UserError
from odoo.tests import new_test_user, tagged

from odoo.addons.logistics_integration_base.tests.common import LogisticsHttpCase, cloud_event

from .common import ThreePLFixture, run_jobs

GROUPS = (
    "logistics_integration_base.group_logistics_user,stock.group_stock_user,base.group_allow_export"
)
MASK = "•••"


@tagged("post_install", "-at_install")
class TestPersonalData(ThreePLFixture, LogisticsHttpCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.setup_3pl()
        cls.password = "pd-" + uuid.uuid4().hex
        cls.operator = new_test_user(
            cls.env, "lgx_pd_operator", groups=GROUPS, password=cls.password
        )
        cls.privacy_officer = new_test_user(
            cls.env,
            "lgx_pd_officer",
            groups=GROUPS + ",logistics_integration_base.group_logistics_personal_data",
            password=cls.password,
        )

    def rpc(self, user, model, method, *args, **kwargs):
        self.env.flush_all()  # the server reads this test's transaction
        port = odoo.tools.config["http_port"]
        proxy = xmlrpc.client.ServerProxy(f"http://127.0.0.1:{port}/xmlrpc/2/object")
        return proxy.execute_kw(
            self.env.cr.dbname, user.id, self.password, model, method, list(args), kwargs
        )

    def released(self):
        picking = self.make_delivery([(self.chair, 1)])
        run_jobs(self.env)
        message = picking.logistics_release_message_id
        self.assertEqual(message.state, "sent")
        return message

    def test_operator_without_the_group_sees_personal_fields_masked_over_rpc(self):
        message = self.released()
        [row] = self.rpc(
            self.operator,
            "logistics.message",
            "read",
            [message.id],
            ["payload", "raw_payload", "subject"],
        )
        payload = json.loads(row["payload"])
        ship_to = payload["ship_to"]
        for key in ("name", "street", "city", "zip", "email", "phone"):
            self.assertEqual(ship_to[key], MASK, key)
        self.assertEqual(ship_to["country_code"], "US", "not personal: kept")
        self.assertEqual(payload["lines"][0]["sku"], "CHAIR-1")
        raw = json.loads(row["raw_payload"])  # the CloudEvent as sent: masked by field names
        self.assertEqual(raw["data"]["ship_to"]["name"], MASK)
        self.assertEqual(raw["data"]["order_ref"], payload["order_ref"])
        self.assertNotIn("Jane Buyer", row["payload"] + row["raw_payload"])
        self.assertNotIn("+1 555 0100", row["payload"] + row["raw_payload"])
        # the same message, for someone granted the group
        [row] = self.rpc(
            self.privacy_officer,
            "logistics.message",
            "read",
            [message.id],
            ["payload", "payload_personal"],
        )
        self.assertEqual(json.loads(row["payload"])["ship_to"]["name"], MASK)
        self.assertEqual(json.loads(row["payload_personal"])["ship_to"]["name"], "Jane Buyer")
        # and the integration itself still sends the clear data
        self.assertEqual(self.sim.orders[message.record_ref.name]["ship_to"]["name"], "Jane Buyer")

    def test_export_and_list_reads_are_masked(self):
        message = self.released()
        exported = self.rpc(
            self.operator, "logistics.message", "export_data", [message.id], ["payload"]
        )["datas"][0][0]
        self.assertNotIn("Jane Buyer", exported)
        self.assertEqual(json.loads(exported)["ship_to"]["phone"], MASK)
        listed = self.rpc(
            self.operator,
            "logistics.message",
            "web_search_read",
            [("id", "=", message.id)],
            {"payload": {}, "raw_payload": {}},
        )["records"][0]
        self.assertNotIn("Jane Buyer", listed["payload"] + listed["raw_payload"])
        exported = self.rpc(
            self.privacy_officer,
            "logistics.message",
            "export_data",
            [message.id],
            ["payload_personal"],
        )["datas"][0][0]
        self.assertIn("Jane Buyer", exported)

    def test_personal_data_is_erased_after_the_backends_retention(self):
        old, recent = self.released(), self.released()
        pending = self.make_delivery([(self.desk, 1)]).logistics_release_message_id
        self.backend.personal_data_days = 30
        self.env.cr.execute(
            "UPDATE logistics_message SET done_at = %s WHERE id IN %s",
            [fields.Datetime.now() - timedelta(days=31), (old.id, pending.id)],
        )
        self.env.invalidate_all()
        self.assertEqual(self.env["logistics.message"]._cron_erase_personal_data(), 1)
        self.assertTrue(old.personal_data_erased)
        data = json.loads(old.payload)
        self.assertEqual(data["ship_to"]["name"], "[erased]")
        self.assertEqual(data["lines"][0]["sku"], "CHAIR-1", "the business content stays")
        self.assertFalse(old.raw_payload)
        self.assertFalse(old.raw_headers)
        self.assertEqual(old.state, "sent", "the record and its audit trail stay")
        self.assertTrue(old.attempt_ids)
        self.assertFalse(recent.personal_data_erased)
        self.assertIn("Jane Buyer", recent._clear_text("payload"))
        self.assertNotIn("Jane Buyer", recent.payload)
        self.assertEqual(pending.state, "pending")
        self.assertFalse(pending.personal_data_erased, "unfinished: kept")
        self.assertEqual(self.env["logistics.message"]._cron_erase_personal_data(), 0)

    # every ORM path, as an operator outside the group over XML-RPC ---------------------------
    def assertRefused(self, call):
        with self.assertRaises(xmlrpc.client.Fault) as caught:
            call()
        self.assertIn("not have enough rights", caught.exception.faultString)

    def assertNoPersonal(self, value, where):
        text = json.dumps(value, default=str, ensure_ascii=False)
        for clear in ("Jane Buyer", "+1 555 0100", "jane@example.com", "1 Main St"):
            self.assertNotIn(clear, text, f"{clear} leaks through {where}")

    def test_no_orm_path_hands_out_personal_values(self):
        message = self.released()
        op = self.operator
        M = "logistics.message"
        dom = [("id", "=", message.id)]
        # read and search_read without naming fields: the clear fields are not there. The
        # Customer column names the delivery's contact as the operator reads it on the
        # delivery itself (res.partner's own access rules): no more than they already see
        [row] = self.rpc(op, M, "read", [message.id])
        self.assertNotIn("payload_personal", row)
        customer = row.pop("partner_id")
        [contact] = self.rpc(op, "res.partner", "read", [customer[0]], ["display_name"])
        self.assertEqual(customer[1], contact["display_name"])
        self.assertNoPersonal(row, "read")
        [row] = self.rpc(op, M, "search_read", dom)
        row.pop("partner_id")
        self.assertNoPersonal(row, "search_read")
        # naming a clear field is refused, in reads, searches, groups and orders
        self.assertRefused(lambda: self.rpc(op, M, "read", [message.id], ["payload_personal"]))
        self.assertRefused(
            lambda: self.rpc(op, M, "search", [("payload_personal", "ilike", "555")])
        )
        self.assertRefused(
            lambda: self.rpc(op, M, "read_group", dom, ["payload_personal:array_agg"], [])
        )
        self.assertRefused(
            lambda: self.rpc(op, M, "web_read_group", dom, ["id:count"], ["raw_payload_personal"])
        )
        self.assertRefused(
            lambda: self.rpc(op, M, "search", dom, order="response_payload_personal")
        )
        # the readable texts hold no personal value to group by, aggregate or search
        grouped = self.rpc(op, M, "read_group", dom, ["payload:max", "raw_payload:array_agg"], [])
        self.assertNoPersonal(grouped, "read_group aggregates")
        grouped = self.rpc(op, M, "web_read_group", dom, ["id:count"], ["payload"])
        self.assertNoPersonal(grouped, "web_read_group by payload")
        grouped = self.rpc(op, M, "read_group", dom, ["id:count"], ["raw_payload"], lazy=False)
        self.assertNoPersonal(grouped, "read_group by raw body")
        for fragment in ("555 01", "Jane", "jane@"):
            for field in ("payload", "raw_payload"):
                found = self.rpc(
                    op, M, "search", [("id", "=", message.id), (field, "ilike", fragment)]
                )
                self.assertEqual(found, [], f"{field} ilike {fragment}")
        # copy_data and exports
        self.assertNoPersonal(self.rpc(op, M, "copy_data", [message.id]), "copy_data")
        exported = self.rpc(
            op, M, "export_data", [message.id], ["payload", "raw_payload", "error_message"]
        )
        self.assertNoPersonal(exported, "export_data")
        self.assertRefused(
            lambda: self.rpc(op, M, "export_data", [message.id], ["payload_personal"])
        )
        # the form's description of the fields: the clear ones are not offered
        described = self.rpc(op, M, "fields_get", [], ["string"])
        self.assertNotIn("payload_personal", described)
        # someone granted the group reads the clear values
        [row] = self.rpc(self.privacy_officer, M, "read", [message.id], ["payload_personal"])
        self.assertEqual(json.loads(row["payload_personal"])["ship_to"]["phone"], "+1 555 0100")

    def test_the_administrator_reads_masked_until_granted_the_group(self):
        message = self.released()
        admin = self.env.ref("base.user_admin")
        self.assertFalse(
            admin.has_group("logistics_integration_base.group_logistics_personal_data")
        )
        payload = json.loads(message.with_user(admin).read(["payload"])[0]["payload"])
        self.assertEqual(payload["ship_to"]["name"], MASK)

    def test_edit_payload_action_and_save_by_a_manager_outside_the_group(self):
        manager = new_test_user(
            self.env,
            "lgx_pd_manager",
            groups="logistics_integration_base.group_logistics_manager,stock.group_stock_user",
        )
        picking = self.make_delivery([(self.chair, 1)], confirm=False)
        payload = self.released()._get_payload()
        payload["order_ref"] = picking.name
        with CuedHTTPServer() as server:
            server.cue((400, {}, {"detail": "quantity too low"}))
            backend = self._make_backend(name="Strict 3PL", base_url=server.url("/events"))
            message = backend._send_message("order.release", payload, record=picking)
            run_jobs(self.env)
            self.assertEqual(message.state, "failed")
            action = message.with_user(manager).action_open_edit_payload()
            shown = action["context"]["default_payload"]
            self.assertNoPersonal(shown, "the edit action's context")
            # the manager corrects a quantity in the masked payload; the recipient stays whole
            edited = json.loads(shown)
            edited["lines"][0]["quantity"] = 2.0
            revision = message.with_user(manager)._edit_payload_and_retry(json.dumps(edited))
            self.assertEqual(revision.replaces_id, message, "a new revision, with a new key")
            run_jobs(self.env)
            self.assertEqual(revision.state, "sent")
            sent = server.requests[-1].json()["data"]
        self.assertEqual(sent["ship_to"]["name"], "Jane Buyer")
        self.assertEqual(sent["ship_to"]["phone"], "+1 555 0100")
        self.assertEqual(sent["lines"][0]["quantity"], 2.0)
        self.assertNoPersonal(message.payload, "the stored payload")
        self.assertNoPersonal(revision.payload, "the revision's stored payload")
        self.assertNoPersonal(
            "".join(revision.message_ids.mapped("body")), "the revision's chatter"
        )

    def test_a_partner_refusal_echoing_the_data_is_masked(self):
        picking = self.make_delivery([(self.chair, 1)], confirm=False)
        payload = self.released()._get_payload()
        payload["order_ref"] = picking.name
        with CuedHTTPServer() as server:
            echo = {
                "type": "about:blank",
                "title": "Invalid order",
                "errors": [
                    {
                        "pointer": "#/ship_to/phone",
                        "detail": "'+1 555 0100' is not a number we can dial",
                    },
                    {"pointer": "#/ship_to/name", "detail": "Jane Buyer is on a blocked list"},
                ],
            }
            server.cue((422, {}, echo))
            backend = self._make_backend(name="Echoing 3PL", base_url=server.url("/events"))
            message = backend._send_message("order.release", payload, record=picking)
            run_jobs(self.env)
        self.assertEqual(message.state, "failed")
        self.assertIn("is not a number we can dial (ship_to.phone)", message.error_message)
        op = self.operator
        [row] = self.rpc(
            op, "logistics.message", "read", [message.id], ["error_message", "response_payload"]
        )
        self.assertNoPersonal(row, "the reason and the answer")
        attempts = self.rpc(
            op,
            "logistics.message.attempt",
            "search_read",
            [("message_id", "=", message.id)],
            ["error", "job_result"],
        )
        self.assertTrue(attempts)
        self.assertNoPersonal(attempts, "the attempts")
        self.assertNoPersonal(message.job_id.sudo().result or "", "the job's result")

    def test_an_event_refused_at_intake_is_stored_masked(self):
        data = {
            # personal values under the schema's field names, one of them a list
            "order_ref": {"phone": ["+1 555 0100"], "name": "Jane Buyer"},
            "shipment_ref": "SH-1",
            "lines": [],
        }
        resp = self.post_webhook(
            self.backend.code, json.dumps(cloud_event("shipment.confirmed", data)).encode()
        )
        self.assertEqual(resp.status_code, 422)
        message = self.env["logistics.message"].browse(resp.json()["message_id"])
        self.assertEqual(message.state, "failed")
        self.assertIn(
            "+1 555 0100", message._clear_text("payload") or message._clear_text("raw_payload")
        )
        [row] = self.rpc(
            self.operator,
            "logistics.message",
            "read",
            [message.id],
            ["payload", "raw_payload", "error_message"],
        )
        self.assertNoPersonal(row, "an event refused at intake")

    def test_a_manager_cannot_rewrite_the_integrations_texts_to_probe_the_masking(self):
        """Written guesses would come back masked where one is right: the texts a partner
        sent, answered or caused are the integration's own, refused to everyone else."""
        manager = new_test_user(
            self.env, "lgx_pd_prober", groups="logistics_integration_base.group_logistics_manager"
        )
        message = self.released()
        for field in ("error_message", "raw_payload", "response_payload", "payload_personal"):
            with self.assertRaises(AccessError, msg=field):
                message.with_user(manager).write({field: "+1 555 0100\n+1 555 0101"})

    def test_a_plain_write_of_the_masked_payload_keeps_the_clear_values(self):
        """A manager outside the group writing back the payload as read (a quantity
        corrected over RPC) keeps the values left masked: the 3PL still gets the recipient."""
        manager = new_test_user(
            self.env, "lgx_pd_writer", groups="logistics_integration_base.group_logistics_manager"
        )
        message = self.released()
        data = json.loads(message.with_user(manager).read(["payload"])[0]["payload"])
        self.assertEqual(data["ship_to"]["phone"], MASK)
        data["lines"][0]["quantity"] = 3.0
        message.with_user(manager).write({"payload": json.dumps(data)})
        clear = message._get_payload()
        self.assertEqual(clear["ship_to"]["phone"], "+1 555 0100")
        self.assertEqual(clear["ship_to"]["name"], "Jane Buyer")
        self.assertEqual(clear["lines"][0]["quantity"], 3.0)
        # adding or removing items that hold masked values would move them: refused
        data["lines"].append(dict(data["lines"][0], line_ref="extra"))
        data["ship_to"] = [data["ship_to"], data["ship_to"]]
        with self.assertRaisesRegex(UserError, "personal data you cannot see"):
            message.with_user(manager).write({"payload": json.dumps(data)})

    def test_partner_words_in_another_spelling_and_its_own_field_names_are_masked(self):
        picking = self.make_delivery([(self.chair, 1)], confirm=False)
        payload = self.released()._get_payload()
        payload["order_ref"] = picking.name
        with CuedHTTPServer() as server:
            answer = {
                "title": "Invalid order",
                "detail": "+15550100 is not reachable; 1 MAIN ST not found for JANE BUYER",
                "recipient": {"phone_number": "+1-555-0100", "address1": "1 Main St"},
            }
            server.cue((422, {}, answer))
            backend = self._make_backend(name="Spelling 3PL", base_url=server.url("/events"))
            message = backend._send_message("order.release", payload, record=picking)
            run_jobs(self.env)
        self.assertEqual(message.state, "failed")
        [row] = self.rpc(
            self.operator,
            "logistics.message",
            "read",
            [message.id],
            ["error_message", "response_payload", "raw_payload"],
        )
        for text in (row["error_message"], row["response_payload"] or ""):
            for clear in ("5550100", "555-0100", "MAIN ST", "JANE BUYER", "1 Main St"):
                self.assertNotIn(clear, text)
        attempts = self.rpc(
            self.operator,
            "logistics.message.attempt",
            "search_read",
            [("message_id", "=", message.id)],
            ["error", "job_result"],
        )
        self.assertNotIn("JANE BUYER", json.dumps(attempts))

    def test_values_found_by_field_name_are_erased_and_restored_by_field_name(self):
        data = {
            "order_ref": {"phone": "+1 555 0100", "name": "Jane Buyer"},
            "shipment_ref": "SH-2",
            "lines": [{"name": "Chair", "quantity": 1}],
        }
        resp = self.post_webhook(
            self.backend.code, json.dumps(cloud_event("shipment.confirmed", data)).encode()
        )
        message = self.env["logistics.message"].browse(resp.json()["message_id"])
        shown = json.loads(message.payload)
        self.assertEqual(shown["lines"][0]["name"], MASK, "masked by field name")
        # what a manager outside the group edits keeps every value masked the same way
        shown["shipment_ref"] = "SH-2B"
        restored = json.loads(message._restore_masked(json.dumps(shown)))
        self.assertEqual(restored["lines"][0]["name"], "Chair")
        self.assertEqual(restored["order_ref"]["phone"], "+1 555 0100")
        # the erasure reaches values found by field name too
        message.with_user(self.operator).action_ignore("Test data")
        self.backend.personal_data_days = 1
        self.env.flush_all()
        self.env.cr.execute(
            "UPDATE logistics_message SET done_at = now() - interval '2 days' WHERE id = %s",
            [message.id],
        )
        self.env.invalidate_all()
        self.env["logistics.message"]._cron_erase_personal_data()
        self.assertTrue(message.personal_data_erased)
        self.assertFalse(message.sudo().payload_personal)
        self.assertNotIn("+1 555 0100", message._clear_text("payload"))
        self.assertIn("[erased]", message.payload)

    def test_partner_files_are_read_by_the_group_only(self):
        sftp_file = self.env["logistics.sftp.file"].create(
            {
                "backend_id": self.backend.id,
                "name": "945_0001.x12",
                "checksum": "0" * 64,
                "content": "N1*ST*Jane Buyer~N3*1 Main St~",
            }
        )
        self.assertRefused(
            lambda: self.rpc(
                self.operator, "logistics.sftp.file", "read", [sftp_file.id], ["content"]
            )
        )
        self.assertRefused(
            lambda: self.rpc(
                self.operator, "logistics.sftp.file", "search", [("content", "ilike", "Jane")]
            )
        )
        [row] = self.rpc(self.operator, "logistics.sftp.file", "read", [sftp_file.id])
        self.assertNotIn("content", row)
        [row] = self.rpc(
            self.privacy_officer, "logistics.sftp.file", "read", [sftp_file.id], ["content"]
        )
        self.assertIn("Jane Buyer", row["content"])
