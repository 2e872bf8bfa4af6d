"""A declaration the broker did not take (the REST broker simulator on loopback refuses it for
an unknown EORI): the declaration and its delivery say so; the operator corrects the party
and presses Send again on the declaration. The version goes in a new message under a key of
its own; once the broker takes it, the refused message is *superseded*: it leaves the
exception queue, and Retry on it is refused in words."""

from lxml import etree

from odoo.exceptions import AccessError, UserError
from odoo.tests import TransactionCase, new_test_user, tagged

from odoo.addons.logistics_integration_base.tests.common import run_jobs

from .common import UNKNOWN_EORI, CustomsFixture


@tagged("post_install", "-at_install")
class TestDeclarationSentAgain(CustomsFixture, TransactionCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.setup_rest_broker()

    def setUp(self):
        super().setUp()
        self.sim.reset()

    def declaration_messages(self, declaration):
        return self.env["logistics.message"].search(
            [
                ("res_model", "=", declaration._name),
                ("res_id", "=", declaration.id),
                ("message_type", "=", "customs.declaration"),
            ],
            order="id",
        )

    def refused(self):
        self.sim.fail_next(400, body=UNKNOWN_EORI)
        delivery = self.delivery_of(self.sale(self.us_customer, [(self.kettle, 2, 40.0)]))
        declaration = delivery.logistics_declaration_ids
        declaration.action_submit()
        run_jobs(self.env)
        [refused] = self.declaration_messages(declaration)
        self.assertEqual(refused.state, "failed")
        self.assertEqual(declaration.state, "submitted")
        self.assertNotIn(declaration.name, self.sim.declarations, "customs never saw it")
        return delivery, declaration, refused

    def test_sent_again_after_the_fix_supersedes_the_refused_message(self):
        delivery, declaration, refused = self.refused()
        # the declaration and its delivery say the broker did not take it
        self.assertTrue(declaration.send_failed)
        self.assertIn("importer.eori", declaration.send_error)
        self.assertIn(refused, self.exception_queue())
        self.assertTrue(delivery.logistics_customs_held)
        self.assertIn(f"{self.broker.name} did not take it", delivery.logistics_customs_next)
        self.assertIn("press Send again on the declaration", delivery.logistics_customs_next)

        self.us_customer.logistics_eori = "US000000654321"
        declaration.action_send_again()

        [_refused, again] = self.declaration_messages(declaration)
        self.assertEqual(again.idempotency_key, f"customs:{declaration.id}:v1-s2")
        self.assertEqual(again._get_payload()["importer"]["eori"], "US000000654321")
        self.assertEqual(refused.state, "failed", "superseded once the new one went through")
        self.assertIn(
            f"Version 1 sent to {self.broker.name} ({again.name})", self.chatter(declaration)
        )
        run_jobs(self.env)

        self.assertEqual(again.state, "sent", again.error_message)
        self.assertEqual(refused.state, "superseded")
        self.assertEqual(refused.superseded_by_id, again)
        self.assertNotIn(refused, self.exception_queue())
        self.assertIn("importer.eori", refused.error_message, "its reason is kept")
        [received] = self.sim.declarations[declaration.name]
        self.assertEqual(received["importer"]["eori"], "US000000654321")
        declaration.invalidate_recordset()
        self.assertFalse(declaration.send_failed)
        delivery.invalidate_recordset()
        self.assertIn(f"{self.broker.name} has it", delivery.logistics_customs_next)

        with self.assertRaises(UserError) as caught:
            refused.action_retry()
        self.assertIn(
            f"{refused.name} was superseded by {again.name}, which succeeded on",
            str(caught.exception),
        )
        self.assertIn("nothing to retry", str(caught.exception))
        self.assertEqual(refused.state, "superseded")

        # customs release it: the goods move
        declaration._logistics_apply_status(
            self.sim.status_data(declaration.name, "released"), None
        )
        self.assertEqual(declaration.state, "released")

    def test_retry_of_the_refused_message_once_sent_again_is_refused(self):
        _delivery, declaration, refused = self.refused()
        self.us_customer.logistics_eori = "US000000654321"
        declaration.action_send_again()
        again = self.declaration_messages(declaration)[-1]
        with self.assertRaises(UserError) as caught:
            refused.action_retry()  # before the broker answered the one sent again
        self.assertIn(
            f"{declaration.name} was sent to {self.broker.name} again since, by {again.name}",
            str(caught.exception),
        )
        self.assertFalse(refused.replaced_by_id)

    def test_send_again_only_for_a_version_the_broker_did_not_take(self):
        delivery = self.delivery_of(self.sale(self.us_customer, [(self.kettle, 1, 40.0)]))
        declaration = delivery.logistics_declaration_ids
        declaration.action_submit()
        run_jobs(self.env)
        self.assertFalse(declaration.send_failed)
        with self.assertRaises(UserError) as caught:
            declaration.action_send_again()
        self.assertIn("nothing to send again", str(caught.exception))
        self.assertEqual(len(self.declaration_messages(declaration)), 1)

        arch = etree.fromstring(self.env[declaration._name].get_view(view_type="form")["arch"])
        [button] = arch.xpath("//header/button[@name='action_send_again']")
        self.assertEqual(button.get("invisible"), "not send_failed")
        [banner] = arch.xpath("//div[.//field[@name='send_error']]")
        self.assertEqual(banner.get("invisible"), "not send_failed")

    def test_send_again_reads_the_declaration_as_the_caller(self):
        """Over RPC: another company's stock user may neither send the declaration again
        nor read whether the broker took it; a stock user of its company may."""
        _delivery, declaration, refused = self.refused()
        other = self.env["res.company"].create({"name": "Other Co"})
        outsider = new_test_user(
            self.env,
            login="customs_outsider",
            groups="stock.group_stock_user",
            company_id=other.id,
            company_ids=[(6, 0, other.ids)],
        )
        with self.assertRaises(AccessError):
            declaration.with_user(outsider).action_send_again()
        with self.assertRaises(AccessError):
            declaration.with_user(outsider).read(["send_failed", "send_error"])
        self.assertEqual(self.declaration_messages(declaration), refused, "nothing sent")

        clerk = new_test_user(
            self.env, login="customs_clerk_again", groups="stock.group_stock_user"
        )
        self.us_customer.logistics_eori = "US000000654321"
        declaration.with_user(clerk).action_send_again()
        self.assertEqual(len(self.declaration_messages(declaration)), 2)

    def chatter(self, record):
        return "\n".join(record.message_ids.mapped("body"))
