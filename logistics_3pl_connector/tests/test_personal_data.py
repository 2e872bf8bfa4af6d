"""Personal data in messages: masked for users outside the personal-data group over RPC,
in lists and exports; erased after the backend's retention for personal data."""

import json
import uuid
import xmlrpc.client
from datetime import timedelta

import odoo
from odoo import fields
from odoo.tests import new_test_user, tagged

from odoo.addons.logistics_integration_base.tests.common import LogisticsHttpCase

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
            self.privacy_officer, "logistics.message", "read", [message.id], ["payload"]
        )
        self.assertEqual(json.loads(row["payload"])["ship_to"]["name"], "Jane Buyer")
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
            self.privacy_officer, "logistics.message", "export_data", [message.id], ["payload"]
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
        self.assertIn("Jane Buyer", recent.payload)
        self.assertEqual(pending.state, "pending")
        self.assertFalse(pending.personal_data_erased, "unfinished: kept")
        self.assertEqual(self.env["logistics.message"]._cron_erase_personal_data(), 0)
