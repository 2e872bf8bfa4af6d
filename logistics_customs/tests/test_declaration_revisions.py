"""A declaration the broker refused for a party's data: the operator fixes the party and
presses Retry; the declaration is rebuilt and sent as a new revision under a new key, and
becomes the declaration's *Last version sent*. A declaration that moved on is not resent."""

import json

from odoo.exceptions import UserError
from odoo.tests import TransactionCase, tagged

from odoo.addons.logistics_integration_base.tests.common import run_jobs

from .common import UNKNOWN_EORI, CustomsFixture


@tagged("post_install", "-at_install")
class TestDeclarationRevisions(CustomsFixture, TransactionCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.setup_rest_broker()

    def setUp(self):
        super().setUp()
        self.sim.reset()

    def refused(self):
        self.sim.fail_next(400, body=UNKNOWN_EORI)
        delivery = self.delivery_of(self.sale(self.us_customer, [(self.kettle, 2, 40.0)]))
        declaration = delivery.logistics_declaration_ids
        declaration.action_submit()
        run_jobs(self.env)
        [message] = self.env["logistics.message"].search(
            [("message_type", "=", "customs.declaration"), ("res_id", "=", declaration.id)]
        )
        self.assertEqual(message.state, "failed")
        self.assertEqual(declaration.state, "submitted")
        return declaration, message

    def test_retry_after_the_importer_was_fixed_sends_a_revision(self):
        declaration, message = self.refused()
        self.us_customer.logistics_eori = "US000000654321"

        message.action_retry()

        revision = message.replaced_by_id
        self.assertEqual(revision.idempotency_key, f"{message.idempotency_key}-r2")
        self.assertEqual(revision.replaces_id, message)
        self.assertEqual(revision._get_payload()["importer"]["eori"], "US000000654321")
        self.assertEqual(
            json.loads(declaration.submitted_payload)["importer"]["eori"], "US000000654321"
        )
        self.assertTrue(
            revision.message_ids.filtered(lambda m: "importer.eori" in (m.body or "")),
            "the chatter names what changed",
        )
        run_jobs(self.env)
        self.assertEqual(revision.state, "sent")
        [received] = self.sim.declarations[declaration.name]
        self.assertEqual(received["importer"]["eori"], "US000000654321")

    def test_an_amended_declaration_does_not_resend_its_earlier_version(self):
        declaration, message = self.refused()
        declaration.sudo().version += 1  # amended since: version 2 is what counts now
        with self.assertRaises(UserError) as caught:
            message.action_retry()
        self.assertIn(declaration.name, str(caught.exception))
        self.assertIn("amended", str(caught.exception))
        self.assertFalse(message.replaced_by_id)
