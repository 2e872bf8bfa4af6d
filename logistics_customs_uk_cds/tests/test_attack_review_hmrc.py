"""Attacks on HMRC's callback (the webhook route under the ``hmrc_cds`` scheme): XML that
tries to read the server's files or blow up its memory, a body too large, and a notification
pushed with another backend's registered token naming a declaration it does not speak for."""

import os
import tempfile
import time
import uuid

from conformance import read_bytes
from logistics_simulators.hmrc_cds import HmrcCdsSimulator

from odoo.tests import tagged

from odoo.addons.logistics_customs.tests.common import CustomsFixture
from odoo.addons.logistics_integration_base.tests.common import LogisticsHttpCase, run_jobs

TOKEN = "Basic YXR0YWNrLWE6cmVnaXN0ZXJlZA=="
THEIR_TOKEN = "Basic YXR0YWNrLWI6cmVnaXN0ZXJlZA=="


def notification(lrn, statement="Accepted", doctype=""):
    """A DMSACC as HMRC's samples write it, about ``lrn``, with a statement HMRC adds."""
    return f"""<?xml version="1.0" encoding="UTF-8"?>{doctype}
<MetaData>
  <WCODataModelVersionCode>3.6</WCODataModelVersionCode>
  <WCOTypeName>RES</WCOTypeName>
  <Response>
    <FunctionCode>01</FunctionCode>
    <IssueDateTime><DateTimeString formatCode="304">20191113172216Z</DateTimeString></IssueDateTime>
    <AdditionalInformation>
      <StatementDescription>{statement}</StatementDescription>
    </AdditionalInformation>
    <Declaration>
      <FunctionalReferenceID>{lrn}</FunctionalReferenceID>
      <ID>19GBCKKCQSXV2FGVA8</ID>
    </Declaration>
  </Response>
</MetaData>""".encode()


@tagged("post_install", "-at_install")
class TestHmrcCallbackAttacks(CustomsFixture, LogisticsHttpCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.sim = HmrcCdsSimulator(client_id="attack", client_secret="attack")
        cls.setup_customs(
            code="hmrc-attack-a",
            provider="hmrc_cds",
            webhook_scheme="hmrc_cds",
            webhook_secret=TOKEN,
        )
        cls.other = cls.env["res.company"].create({"name": "Thames Imports Ltd"})
        cls.theirs = cls._make_backend(
            name="Their HMRC CDS",
            code="hmrc-attack-b",
            kind="customs",
            provider="hmrc_cds",
            webhook_scheme="hmrc_cds",
            webhook_secret=THEIR_TOKEN,
            company_id=cls.other.id,
        )

    def push(self, code, body, token=TOKEN):
        return self.sim.push(
            self.base_url() + f"/logistics/webhook/{code}", token, body, str(uuid.uuid4())
        )

    def received(self, response):
        self.assertEqual(response.status_code, 202, response.text)
        run_jobs(self.env)
        return self.env["logistics.message"].browse(response.json()["message_id"])

    def sent_declaration(self):
        delivery = self.delivery_of(self.sale(self.us_customer, [(self.kettle, 1, 40.0)]))
        declaration = delivery.logistics_declaration_ids
        declaration.write({"state": "submitted"})  # as HMRC received it (DMSRCV)
        return declaration

    def test_an_external_entity_is_not_read(self):
        with tempfile.NamedTemporaryFile("w", suffix=".txt", delete=False) as secret:
            secret.write("XXE-MARKER-" + uuid.uuid4().hex)
        self.addCleanup(os.unlink, secret.name)
        with open(secret.name) as handle:
            marker = handle.read()
        doctype = f'\n<!DOCTYPE MetaData [<!ENTITY xxe SYSTEM "file://{secret.name}">]>'
        response = self.push("hmrc-attack-a", notification("LRN-X", "&xxe;", doctype))
        self.assertNotIn(marker, response.text)
        message = self.received(response)  # kept, the entity left unread
        self.assertNotIn(marker, str(message.sudo()._get_payload()))
        self.assertNotIn(marker, message.sudo().error_message or "")

    def test_nested_entities_are_not_expanded(self):
        entities = '<!ENTITY lol "lollollollollollollollollollol">' + "".join(
            f'<!ENTITY lol{n} "{("&lol%s;" % (n - 1 or "")) * 10}">' for n in range(1, 10)
        )
        doctype = f"\n<!DOCTYPE MetaData [{entities}]>"
        started = time.monotonic()
        response = self.push("hmrc-attack-a", notification("LRN-LOL", "&lol9;", doctype))
        self.assertLess(time.monotonic() - started, 10, "answered without expanding")
        self.assertEqual(response.status_code, 400, response.text)
        self.assertIn("entity reference loop", response.json()["error"])

    def test_a_body_above_the_limit_is_refused(self):
        padding = "x" * (self.broker.webhook_max_body_kb * 1024 + 1)
        response = self.push("hmrc-attack-a", notification("LRN-BIG", padding))
        self.assertEqual(response.status_code, 413, response.text)

    def test_another_backend_s_token_is_refused(self):
        response = self.push("hmrc-attack-a", notification("LRN-T"), token=THEIR_TOKEN)
        self.assertEqual(response.status_code, 401, response.text)
        self.assertNotIn(THEIR_TOKEN, response.text)
        self.assertNotIn(TOKEN, response.text)

    def test_another_company_s_backend_does_not_move_our_declaration(self):
        declaration = self.sent_declaration()
        message = self.received(
            self.push("hmrc-attack-b", notification(declaration.name), token=THEIR_TOKEN)
        )
        self.assertEqual(declaration.state, "submitted", "theirs does not speak for ours")
        self.assertFalse(declaration.broker_reference)
        self.assertEqual((message.state, message.error_category), ("failed", "business"))
        self.assertFalse(message.res_id)
        # ours, with our token, does
        self.received(self.push("hmrc-attack-a", notification(declaration.name)))
        self.assertEqual(declaration.state, "accepted")
        self.assertEqual(declaration.broker_reference, "19GBCKKCQSXV2FGVA8")

    def test_an_amount_that_is_not_a_number_is_refused_naming_the_element(self):
        body = read_bytes(
            "hmrc_cds",
            "examples",
            "annotated_XML_samples",
            "Example_DMS_notifications",
            "13_DMSTAX.xml",
        ).replace(b">270.00</PaymentAmount>", b">270,00</PaymentAmount>")
        response = self.push("hmrc-attack-a", body)
        self.assertEqual(response.status_code, 400, response.text)
        error = response.json()["error"]
        self.assertIn("DutyTaxFee/Payment/PaymentAmount", error)
        self.assertIn("'270,00'", error)
        self.assertEqual(response.json()["message_id"] > 0, True, "kept, not lost")
