"""Declarations sent to a customs broker over REST (CloudEvents, the generic provider) and
the statuses it posts back as signed webhooks into Odoo's real route: every status path,
holds in the exception queue with an activity, late statuses kept in the history only,
amendments, and statuses about a declaration Odoo does not know yet."""

from odoo.exceptions import UserError
from odoo.tests import tagged

from odoo.addons.logistics_integration_base.tests.common import (
    LogisticsHttpCase,
    run_jobs,
)
from odoo.addons.logistics_integration_base.tests.test_dashboard import action_records

from .common import CustomsFixture


@tagged("post_install", "-at_install")
class TestBrokerRest(CustomsFixture, LogisticsHttpCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.setup_rest_broker()

    def setUp(self):
        super().setUp()
        self.sim.reset()
        self.sim.webhook_url = self.base_url() + "/logistics/webhook/hanse-customs"

    def submitted(self, lines=None):
        delivery = self.delivery_of(self.sale(self.us_customer, lines or [(self.kettle, 2, 40.0)]))
        declaration = delivery.logistics_declaration_ids
        declaration.action_submit()
        run_jobs(self.env)
        return delivery, declaration

    def post(self, action, *args, **kwargs):
        response = getattr(self.sim, action)(*args, **kwargs)
        self.assertIn(response.status, (200, 202), response.text)
        run_jobs(self.env)
        return response

    def status_message(self, declaration, status):
        return (
            self.env["logistics.message"]
            .search(
                [
                    ("message_type", "=", "customs.status"),
                    ("res_model", "=", declaration._name),
                    ("res_id", "=", declaration.id),
                ]
            )
            .filtered(lambda m: m._get_payload()["status"] == status)
        )

    def test_sent_accepted_held_for_documents_then_released(self):
        delivery, declaration = self.submitted()
        self.assertEqual(declaration.state, "submitted")
        [received] = self.sim.declarations[declaration.name]
        self.assertEqual(received["version"], 1)
        self.assertEqual(received["lines"][0]["hs_code"], "85161080")
        self.assertEqual(received["exporter"]["eori"], "DE123456789012345")
        [sent] = self.env["logistics.message"].search(
            [("message_type", "=", "customs.declaration"), ("res_id", "=", declaration.id)]
        )
        self.assertEqual(sent.state, "sent")

        self.post("accept", declaration.name, mrn="26DE7K3Q9M2XW81B4C")
        self.assertEqual(declaration.state, "accepted")
        self.assertEqual(declaration.broker_reference, "26DE7K3Q9M2XW81B4C")

        self.post(
            "require_documents",
            declaration.name,
            documents=[{"code": "N954", "name": "Certificate of origin EUR.1"}],
            reason="Preferential origin claimed without proof",
        )
        self.assertEqual(declaration.state, "documents_required")
        self.assertIn("N954: Certificate of origin EUR.1", declaration.documents_requested)
        [hold] = self.status_message(declaration, "documents_required")
        self.assertEqual(hold.state, "failed", "a hold lands in the exception queue")
        self.assertIn(f"Customs hold {declaration.name} ({delivery.name})", hold.error_message)
        self.assertIn("Certificate of origin EUR.1", hold.error_message)
        [activity] = declaration.activity_ids
        self.assertEqual(activity.summary, "Customs: Documents required")
        self.assertIn("Certificate of origin EUR.1", activity.note)
        with self.assertRaisesRegex(
            UserError, "is waiting for customs release: customs ask for documents"
        ):
            self.validate(delivery)

        self.post("release", declaration.name)
        self.assertEqual(declaration.state, "released")
        self.assertFalse(declaration.activity_ids, "the to-do is closed by the release")
        self.assertEqual(hold.state, "ignored", "the hold leaves the exception queue")
        self.assertEqual(hold.ignore_reason, f"Customs released {declaration.name} afterwards.")
        self.assertEqual(
            declaration.event_ids.sorted("id").mapped("status"),
            ["accepted", "documents_required", "released"],
        )
        self.assertIn("Customs status from Hanse Customs: Released.", delivery.message_ids[0].body)
        self.assertIs(self.validate(delivery), True)

    def test_inspection_then_release_with_duties(self):
        _delivery, declaration = self.submitted()
        self.post("accept", declaration.name)
        self.post("inspect", declaration.name, reason="Physical inspection at Hamburg port")
        self.assertEqual(declaration.state, "inspection")
        self.assertEqual(declaration.hold_reason, "Physical inspection at Hamburg port")
        self.post(
            "release",
            declaration.name,
            duties=[
                {"type": "duty", "amount": 2.16, "currency": "EUR"},
                {"type": "vat", "amount": 15.61, "currency": "EUR"},
            ],
        )
        self.assertEqual(declaration.state, "released")
        self.assertEqual(
            sorted((d.duty_type, d.amount, d.currency_id.name) for d in declaration.duty_ids),
            [("duty", 2.16, "EUR"), ("vat", 15.61, "EUR")],
        )

    def test_a_late_status_is_history_only(self):
        _delivery, declaration = self.submitted()
        self.post("accept", declaration.name, mrn="26DE000000000000A1")
        self.post("release", declaration.name)
        self.post("accept", declaration.name, mrn="26DE000000000000A1")  # arrives late
        self.assertEqual(declaration.state, "released")
        late = declaration.event_ids.sorted("id")[-1]
        self.assertEqual((late.status, late.applied), ("accepted", False))
        self.assertIn("kept in the history, not applied", declaration.message_ids[0].body)

    def test_rejected_then_amended_and_released(self):
        _delivery, declaration = self.submitted()
        self.post(
            "reject",
            declaration.name,
            errors=[
                {"code": "E101", "text": "Tariff code not valid for kettles", "pointer": "line 1"}
            ],
            reason="Declaration rejected",
        )
        self.assertEqual(declaration.state, "rejected")
        self.assertIn(
            "E101 (line 1) Tariff code not valid for kettles", declaration.rejection_errors
        )
        [rejection] = self.status_message(declaration, "rejected")
        self.assertEqual(rejection.state, "failed")
        self.assertIn(
            "Correct the products or partners named, then press Amend", rejection.error_message
        )

        self.kettle.hs_code = "85161011"
        declaration.action_amend()
        run_jobs(self.env)
        self.assertEqual((declaration.version, declaration.state), (2, "submitted"))
        first, second = self.sim.declarations[declaration.name]
        self.assertEqual((first["version"], second["version"]), (1, 2))
        self.assertEqual(second["lines"][0]["hs_code"], "85161011")
        self.post("accept", declaration.name)
        self.post("release", declaration.name)
        self.assertEqual(declaration.state, "released")

    def test_dashboard_tiles_count_late_held_and_rejected_declarations(self):
        _d1, held = self.submitted()
        _d2, rejected = self.submitted()
        _d3, late = self.submitted()
        self.post("inspect", held.name, reason="X-ray")
        self.post("reject", rejected.name, errors=[{"text": "Unknown exporter"}])
        self.env.cr.execute(
            "UPDATE logistics_customs_declaration SET release_due_at = now() at time zone "
            "'UTC' - interval '1 hour' WHERE id = %s",
            [late.id],
        )
        self.broker.invalidate_recordset()
        self.assertEqual(
            (
                self.broker.tile_customs_late,
                self.broker.tile_customs_holds,
                self.broker.tile_customs_rejected,
            ),
            (1, 1, 1),
        )
        action = self.broker.with_context(
            logistics_tile="customs_holds"
        ).action_open_business_tile()
        self.assertEqual(action_records(self.env, action), held)
        for key, declaration in (("customs_late", late), ("customs_rejected", rejected)):
            action = self.broker.with_context(logistics_tile=key).action_open_business_tile()
            self.assertFalse(action["domain"], "its conditions are filters the user sees")
            self.assertEqual(action_records(self.env, action), declaration, key)
        self.assertGreater(held.release_due_at, held.submitted_at)

    def test_cancelled(self):
        _delivery, declaration = self.submitted()
        self.post("cancel", declaration.name)
        self.assertEqual(declaration.state, "cancelled")

    def test_a_status_for_an_unknown_declaration_waits_then_replays(self):
        delivery = self.delivery_of(self.sale(self.us_customer, [(self.kettle, 1, 40.0)]))
        declaration = delivery.logistics_declaration_ids
        # the broker answers about a reference before Odoo sent it (e.g. lodged by phone)
        response = self.sim.post_status(
            {
                "reference": declaration.name,
                "status": "accepted",
                "broker_reference": "26DE00000000000XYZ",
            }
        )
        self.assertEqual(response.status, 202, response.text)
        run_jobs(self.env)
        [waiting] = self.env["logistics.message"].search([("message_type", "=", "customs.status")])
        self.assertEqual(waiting.state, "failed")
        self.assertIn(
            f"declaration {declaration.name}, which Odoo does not know", waiting.error_message
        )
        self.assertEqual(declaration.state, "draft", "a draft is not known to the broker yet")
        self.assertFalse(declaration.event_ids)

        declaration.action_submit()
        run_jobs(self.env)
        self.assertEqual(waiting.state, "processed")
        self.assertEqual(declaration.state, "accepted")
        self.assertEqual(declaration.broker_reference, "26DE00000000000XYZ")
