"""Interface versions per partner: two 3PLs, one pinned to order.release v1 and one on v2,
each sent its version over real HTTP; a v1 order.ack converted up and applied; a missing
converter refused in words; the warning before a deprecated version retires; who may see
and change the pins."""

from datetime import date

import psycopg2

from odoo import Command
from odoo.exceptions import AccessError, ValidationError
from odoo.tests import new_test_user, tagged
from odoo.tools import mute_logger

from odoo.addons.logistics_integration_base.tests.common import (
    LogisticsHttpCase,
    cloud_event,
    run_jobs,
)
from odoo.addons.logistics_integration_base.tools import versions

from .common import ThreePLFixture

V1 = "urn:logistics:schema:order.release:v1"
V2 = "urn:logistics:schema:order.release:v2"


@tagged("post_install", "-at_install")
class TestInterfaceVersions(ThreePLFixture, LogisticsHttpCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.setup_3pl(code="acme-versions")  # speaks order.release v1
        cls.backend.schema_pin_ids = [
            Command.create({"message_type": "order.release", "version": 1})
        ]
        cls.pin = cls.backend.schema_pin_ids
        cls.warehouse_b = cls.env["stock.warehouse"].create({"name": "3PL West", "code": "W3PL"})
        cls.backend_b = cls._make_backend(  # no pin: the latest version, v2
            name="Bolt Logistics",
            code="bolt-versions",
            base_url=cls.sim.url("/events"),
            release_trigger="assigned",
        )
        cls.warehouse_b.logistics_backend_id = cls.backend_b
        cls.env["stock.quant"]._update_available_quantity(
            cls.chair, cls.warehouse_b.lot_stock_id, 100
        )

    def setUp(self):
        super().setUp()
        self.sim.webhook_url = self.base_url() + "/logistics/webhook/acme-versions"

    def urgent_delivery(self, warehouse, qty):
        picking = self.make_delivery([(self.chair, qty)], warehouse=warehouse, confirm=False)
        picking.priority = "1"
        picking.action_confirm()
        self.run_release_jobs()
        return picking

    def wire_release(self, order_ref):
        """The envelopes of the release of ``order_ref`` as the 3PL received them."""
        bodies = [
            r.json()
            for r in self.sim.requests
            if r.method == "POST" and r.path.startswith("/events")
        ]
        found = [
            b
            for b in bodies
            if b["type"] == "order.release" and b["data"]["order_ref"] == order_ref
        ]
        self.assertTrue(found, f"a release of {order_ref} on the wire: {bodies}")
        return found

    def release_of(self, picking):
        return self.env["logistics.message"].search(
            [
                ("res_model", "=", "stock.picking"),
                ("res_id", "=", picking.id),
                ("message_type", "=", "order.release"),
            ]
        )

    def test_each_partner_is_sent_its_version(self):
        on_v1 = self.urgent_delivery(self.warehouse, 2)
        on_v2 = self.urgent_delivery(self.warehouse_b, 3)
        run_jobs(self.env)
        registry = self.env["logistics.message"]._schema_registry()

        (sent_v1,) = self.wire_release(on_v1.name)
        self.assertEqual(sent_v1["dataschema"], V1)
        self.assertNotIn("priority", sent_v1["data"])
        registry.validate("order.release", sent_v1["data"], version=1)
        message = self.release_of(on_v1)
        self.assertEqual((message.state, message.schema_version), ("sent", 1))
        self.assertEqual(message._get_payload(), sent_v1["data"], "stored as sent")

        (sent_v2,) = self.wire_release(on_v2.name)
        self.assertEqual(sent_v2["dataschema"], V2)
        self.assertEqual(sent_v2["data"]["priority"], "urgent")
        registry.validate("order.release", sent_v2["data"], version=2)
        message = self.release_of(on_v2)
        self.assertEqual((message.state, message.schema_version), ("sent", 2))
        self.assertEqual(message._get_payload(), sent_v2["data"])

        # both 3PLs took their order
        self.assertIn(on_v1.name, self.sim.orders)
        self.assertIn(on_v2.name, self.sim.orders)

    def test_operator_retry_resends_in_the_pinned_version(self):
        self.sim.fail_next(400)
        picking = self.urgent_delivery(self.warehouse, 1)
        run_jobs(self.env)
        message = self.release_of(picking)
        self.assertEqual((message.state, message.schema_version), ("failed", 1))
        message.action_retry()  # rebuilt in v2, converted to v1: the same payload
        run_jobs(self.env)
        self.assertFalse(message.replaced_by_id, "not a new revision: nothing changed")
        self.assertEqual(message.state, "sent")
        refused, resent = self.wire_release(picking.name)
        self.assertEqual(resent, refused, "the same envelope, in the pinned version")
        self.assertEqual(resent["dataschema"], V1)
        self.assertNotIn("priority", resent["data"])

    def test_v1_ack_is_converted_up_and_applied(self):
        picking = self.make_delivery([(self.chair, 2)])
        run_jobs(self.env)
        status, answer = self.sim.acknowledge(
            picking.name, accepted=False, reason="SKU CHAIR-1 is unknown here"
        )
        self.assertEqual(status, 202, answer)
        run_jobs(self.env)
        ack = self.messages(self.backend, direction="in", message_type="order.ack")
        self.assertEqual(ack.schema_version, 1)
        self.assertEqual(ack._get_payload()["reason"], "SKU CHAIR-1 is unknown here", "as received")
        self.assertEqual(picking.logistics_state, "rejected")
        self.assertEqual(picking.logistics_reject_reason, "SKU CHAIR-1 is unknown here")

    def test_v2_ack_applied_as_sent(self):
        self.sim.webhook_url = self.base_url() + "/logistics/webhook/bolt-versions"
        picking = self.make_delivery([(self.chair, 2)], warehouse=self.warehouse_b)
        run_jobs(self.env)
        ack = {
            "order_ref": picking.name,
            "status": "rejected",
            "reasons": [
                {"code": "SKU", "line_ref": "1", "text": "unknown SKU"},
                {"text": "no street number"},
            ],
        }
        event = cloud_event("order.ack", ack, dataschema="urn:logistics:schema:order.ack:v2")
        answer = self.post_webhook("bolt-versions", event)
        self.assertEqual(answer.status_code, 202, answer.text)
        run_jobs(self.env)
        self.assertEqual(picking.logistics_reject_reason, "1: unknown SKU; no street number")
        # the same body declared v1 breaks v1's schema: refused with the field named
        event = cloud_event("order.ack", ack, dataschema="urn:logistics:schema:order.ack:v1")
        answer = self.post_webhook("bolt-versions", event)
        self.assertEqual(answer.status_code, 422, answer.text)

    def test_missing_converter_is_refused_in_words(self):
        down = versions._converters.pop(("order.release", 2, 1))
        self.addCleanup(versions._converters.__setitem__, ("order.release", 2, 1), down)
        picking = self.make_delivery([(self.chair, 1)])
        run_jobs(self.env)
        message = self.release_of(picking)
        self.assertEqual((message.state, message.error_category), ("failed", "validation"))
        for words in ("Acme Fulfilment", "version 1 of order.release", "version 2 to version 1"):
            self.assertIn(words, message.error_message)
        self.assertIn(message, self.exception_queue())
        self.assertNotIn(picking.name, self.sim.orders, "nothing sent in a version not spoken")

    def test_deprecated_version_warns_once(self):
        self.assertEqual(self.pin.deprecated_on, date(2027, 6, 30))
        self.assertEqual(
            (self.backend.tile_deprecated_versions, self.backend_b.tile_deprecated_versions), (1, 0)
        )
        Backend = self.env["logistics.backend"]
        warning = self.env.ref("mail.mail_activity_data_warning")

        def warnings(backend):
            return self.env["mail.activity"].search(
                [
                    ("res_model", "=", "logistics.backend"),
                    ("res_id", "=", backend.id),
                    ("activity_type_id", "=", warning.id),
                ]
            )

        Backend._cron_warn_deprecated_versions(today=date(2027, 5, 1))  # 60 days before
        self.assertFalse(warnings(self.backend))
        Backend._cron_warn_deprecated_versions(today=date(2027, 6, 1))
        activity = warnings(self.backend)
        self.assertEqual(len(activity), 1)
        self.assertEqual(activity.date_deadline, date(2027, 6, 30))
        self.assertIn("order.release version 1 retires on 2027-06-30", activity.summary)
        self.assertTrue(
            activity.user_id.has_group("logistics_integration_base.group_logistics_manager")
        )
        Backend._cron_warn_deprecated_versions(today=date(2027, 6, 2))
        self.assertEqual(len(warnings(self.backend)), 1, "no duplicate on the next run")
        self.assertFalse(warnings(self.backend_b), "v2 is not deprecated")
        # moving on to v2 ends the warning's cause; going back to v1 warns again
        self.pin.version = 2
        self.assertFalse(self.pin.deprecated_on)
        self.assertEqual(self.backend.tile_deprecated_versions, 0)
        self.pin.version = 1
        Backend._cron_warn_deprecated_versions(today=date(2027, 6, 3))
        self.assertEqual(len(warnings(self.backend)), 2)

    def test_pins_are_checked(self):
        with self.assertRaises(ValidationError):
            self.pin.version = 3
        with (
            self.assertRaises(psycopg2.errors.UniqueViolation),
            mute_logger("odoo.sql_db"),
            self.cr.savepoint(),
        ):
            self.env["logistics.backend.schema.pin"].create(
                {"backend_id": self.backend.id, "message_type": "order.release", "version": 2}
            )

    def test_who_sees_and_changes_pins(self):
        user = new_test_user(
            self.env, "lgx_pin_user", groups="logistics_integration_base.group_logistics_user"
        )
        Pin = self.env["logistics.backend.schema.pin"]
        self.assertEqual(Pin.with_user(user).search([("id", "=", self.pin.id)]), self.pin)
        with self.assertRaises(AccessError):
            self.pin.with_user(user).version = 2
        with self.assertRaises(AccessError):
            Pin.with_user(user).create(
                {"backend_id": self.backend_b.id, "message_type": "order.ack", "version": 1}
            )
        with self.assertRaises(AccessError):
            self.pin.with_user(user).unlink()

        other = self.env["res.company"].create({"name": "Versions Company B"})
        manager_b = new_test_user(
            self.env,
            "lgx_pin_manager_b",
            groups="logistics_integration_base.group_logistics_manager",
            company_id=other.id,
            company_ids=[Command.set(other.ids)],
        )
        self.assertFalse(Pin.with_user(manager_b).search([]))
        with self.assertRaises(AccessError):
            self.pin.with_user(manager_b).read(["version"])
        with self.assertRaises(AccessError):
            self.pin.with_user(manager_b).version = 2

        manager = new_test_user(
            self.env, "lgx_pin_manager", groups="logistics_integration_base.group_logistics_manager"
        )
        self.pin.with_user(manager).version = 2
        self.assertEqual(self.backend._schema_version_for("order.release"), 2)
