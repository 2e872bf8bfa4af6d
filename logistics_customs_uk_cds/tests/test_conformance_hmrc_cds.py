"""HMRC's Customs Declaration Service, against what HMRC published (tests/conformance/hmrc_cds):

* the declarations the suite builds (export, import, amendment, cancellation) go through the
  submit job over HTTP to a loopback stand-in for HMRC that checks the documented headers and
  the OAuth 2.0 bearer token and validates the body against HMRC's XSDs;
* every sample notification HMRC published (448 files) is pushed into Odoo's callback route
  over HTTP with the documented ``Authorization`` and ``X-Conversation-ID`` headers and read
  into its canonical status;
* a declaration's life is replayed from HMRC's samples (their LRN set to the declaration's).
"""

import os
import re

import yaml
from conformance import material, read_bytes
from logistics_simulators.hmrc_cds import (
    MEDIA_TYPE,
    HmrcCdsSimulator,
    error_response,
    load_schema,
    schema_problems,
)
from lxml import etree

from odoo.exceptions import ValidationError
from odoo.tests import tagged

from odoo.addons.logistics_customs.tests.common import CustomsFixture
from odoo.addons.logistics_integration_base.tests.common import LogisticsHttpCase, run_jobs

TOKEN = "Basic Y2RzLWNsaWVudDpyZWdpc3RlcmVkLXRva2Vu"  # registered with the callback URL
NS = {"d": "urn:wco:datamodel:WCO:DEC-DMS:2"}
SAMPLES = material("hmrc_cds", "examples", "annotated_XML_samples")
EXAMPLES = ("Example_DMS_notifications",)
#: HMRC's end-to-end service guide (guide/notifications.html.md.erb): DMS code -> name, and the
#: canonical status the suite gives each notification
GUIDE = {
    "01": ("DMSACC", "accepted"),
    "02": ("DMSRCV", "submitted"),
    "03": ("DMSREJ", "rejected"),
    "05": ("DMSCTL", "inspection"),
    "06": ("DMSDOC", "documents_required"),
    "07": ("DMSRES", "accepted"),
    "08": ("DMSROG", "released"),
    "09": ("DMSCLE", "released"),
    "10": ("DMSINV", "cancelled"),
    "11": ("DMSREQ", "accepted"),
    "13": ("DMSTAX", "accepted"),
    "14": ("DMSCPI", "documents_required"),
    "15": ("DMSCPR", "documents_required"),
    "16": ("DMSEOG", "released"),
    "18": ("DMSGER", "released"),
}


def published_notifications():
    """Every sample notification HMRC published: (path relative to the samples, bytes)."""
    found = []
    for folder, _dirs, files in os.walk(SAMPLES):
        for name in sorted(files):
            path = os.path.join(folder, name)
            with open(path, "rb") as handle:
                body = handle.read()
            if b"<WCOTypeName>RES" in body[:600] or b"RES-DMS" in body[:600]:
                found.append((os.path.relpath(path, SAMPLES), body))
    return sorted(found)


def local(root, *names):
    """Elements under ``root`` by local names (HMRC's samples carry no namespaces)."""
    nodes = [root]
    for name in names:
        nodes = [
            c
            for n in nodes
            for c in n
            if isinstance(c.tag, str) and etree.QName(c).localname == name
        ]
    return nodes


def with_lrn(body, lrn):
    """A published notification about the declaration ``lrn``: only its
    Response/Declaration/FunctionalReferenceID changes."""
    root = etree.fromstring(body)
    [node] = local(root, "Response", "Declaration", "FunctionalReferenceID")
    node.text = lrn
    return etree.tostring(root, xml_declaration=True, encoding="UTF-8")


@tagged("post_install", "-at_install")
class TestHmrcCdsConformance(CustomsFixture, LogisticsHttpCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.sim = HmrcCdsSimulator(client_id="cds-client", client_secret="cds-secret").start()
        cls.addClassCleanup(cls.sim.stop)
        cls.setup_customs(
            code="hmrc-cds",
            provider="hmrc_cds",
            base_url=cls.sim.url("/customs/declarations/"),
            auth_type="oauth2",
            oauth_token_url=cls.sim.url("/oauth/token"),
            oauth_client_id="cds-client",
            oauth_client_secret="cds-secret",
            oauth_client_auth="body",
            oauth_scope="write:customs-declaration",
            webhook_scheme="hmrc_cds",
            webhook_secret=TOKEN,
            cds_badge_identifier="ABC123",
            cds_submitter_identifier="GB123456789000",
            cds_goods_location="DVRDOVDVR",
            cds_exit_office="GB000040",
        )
        cls.submit_schema = load_schema("submit")
        cls.cancel_schema = load_schema("cancel")

    def setUp(self):
        super().setUp()
        self.sim.reset()
        self.callback = self.base_url() + "/logistics/webhook/hmrc-cds"

    # helpers --------------------------------------------------------------------------------
    def submitted_export(self):
        delivery = self.delivery_of(self.sale(self.us_customer, [(self.kettle, 2, 40.0)]))
        declaration = delivery.logistics_declaration_ids
        declaration.action_submit()
        run_jobs(self.env)
        return delivery, declaration

    def push(self, body, conversation=None, token=TOKEN):
        return self.sim.push(self.callback, token, body, conversation)

    def notify(self, declaration, sample, conversation=None):
        body = with_lrn(
            read_bytes("hmrc_cds", "examples", "annotated_XML_samples", *sample), declaration.name
        )
        response = self.push(body, conversation)
        self.assertEqual(response.status_code, 202, response.text)
        run_jobs(self.env)
        return self.env["logistics.message"].browse(response.json()["message_id"])

    def accepted_then_cancelled(self):
        """A declaration HMRC accepted (DMSACC), then cancelled by a customs manager."""
        _delivery, declaration = self.submitted_export()
        self.notify(declaration, (*EXAMPLES, "01_DMSACC.xml"))
        self.env.user.groups_id |= self.env.ref("logistics_customs.group_customs_manager")
        declaration._logistics_cancel_at_broker("Customer cancelled the order")
        run_jobs(self.env)
        return declaration

    def sent(self, declaration):
        return self.env["logistics.message"].search(
            [("direction", "=", "out"), ("res_id", "=", declaration.id)], order="id"
        )

    # declarations out -------------------------------------------------------------------------
    def test_export_declaration_is_valid_against_hmrc_xsd_and_sent_as_documented(self):
        _delivery, declaration = self.submitted_export()
        self.assertFalse(self.sim.refused)
        [request] = self.sim.submissions
        self.assertEqual(request["path"], "/customs/declarations/")
        headers = request["headers"]
        self.assertEqual(headers["accept"], MEDIA_TYPE)
        self.assertEqual(headers["content-type"], "application/xml; charset=UTF-8")
        self.assertRegex(headers["authorization"], r"^Bearer [0-9a-f]{32}$")
        self.assertEqual(headers["x-badge-identifier"], "ABC123")
        self.assertEqual(headers["x-submitter-identifier"], "GB123456789000")
        self.assertEqual(schema_problems(self.submit_schema, request["body"]), [])
        root = etree.fromstring(request["body"])
        self.assertEqual(root.findtext("d:Declaration/d:FunctionCode", namespaces=NS), "9")
        self.assertEqual(root.findtext("d:Declaration/d:TypeCode", namespaces=NS), "EXD")
        self.assertEqual(
            root.findtext("d:Declaration/d:FunctionalReferenceID", namespaces=NS),
            declaration.name,
        )
        self.assertEqual(
            root.findtext("d:Declaration/d:Exporter/d:ID", namespaces=NS), "DE123456789012345"
        )
        item = "d:Declaration/d:GoodsShipment/d:GovernmentAgencyGoodsItem/d:Commodity/"
        self.assertEqual(root.findtext(item + "d:Classification/d:ID", namespaces=NS), "85161080")
        [message] = self.sent(declaration)
        self.assertEqual(message.state, "sent")
        self.assertEqual(message.external_id, request["conversation_id"])

    def test_import_declaration_is_valid_against_hmrc_xsd(self):
        order = self.env["purchase.order"].create(
            {
                "partner_id": self.cn_supplier.id,
                "order_line": [
                    (0, 0, {"product_id": self.kettle.id, "product_qty": 5, "price_unit": 18.0})
                ],
            }
        )
        order.button_confirm()
        declaration = order.picking_ids.logistics_declaration_ids
        self.assertEqual(declaration.direction, "import")
        declaration.action_submit()
        run_jobs(self.env)
        self.assertFalse(self.sim.refused)
        [request] = self.sim.submissions
        self.assertEqual(schema_problems(self.submit_schema, request["body"]), [])
        root = etree.fromstring(request["body"])
        self.assertEqual(root.findtext("d:Declaration/d:TypeCode", namespaces=NS), "IMD")
        self.assertEqual(
            root.findtext("d:Declaration/d:Exporter/d:Name", namespaces=NS),
            "Shenzhen Appliance Co.",
        )
        self.assertEqual(
            root.findtext("d:Declaration/d:GoodsShipment/d:Importer/d:ID", namespaces=NS),
            "DE123456789012345",
        )

    def test_hmrc_refusing_the_body_puts_the_declaration_in_the_exception_queue(self):
        self.broker.cds_exit_office = "GB0000400000000000"  # 18: DE 5/12 is an..17
        _delivery, declaration = self.submitted_export()
        [refused] = self.sim.refused
        self.assertEqual(refused["status"], 400)
        [message] = self.sent(declaration)
        self.assertIn(message.state, ("failed", "dead"))
        self.assertEqual(message.error_category, "validation")
        self.assertIn("maxLength", message.error_message)

    def test_hmrc_refuses_what_its_api_definition_says_it_refuses(self):
        """The stand-in answers as HMRC's API definition documents (its error example)."""
        import requests

        url = self.sim.url("/customs/declarations/")
        body = read_bytes(
            "hmrc_cds", "examples", "annotated_XML_samples", "TT_EX010a", "TT_EX010a.xml"
        )
        answer = requests.post(url, data=body, headers={"Accept": "application/json"}, timeout=10)
        self.assertEqual(answer.status_code, 406)
        answer = requests.post(
            url,
            data=body,
            headers={"Accept": MEDIA_TYPE, "Content-Type": "application/xml; charset=UTF-8"},
            timeout=10,
        )
        self.assertEqual(answer.status_code, 401)
        definition = yaml.safe_load(read_bytes("hmrc_cds", "application.yaml"))
        example = definition["components"]["examples"]["BadRequestExample"]["value"]

        def shape(xml):
            return [etree.QName(e).localname for e in etree.fromstring(xml).iter()]

        ours = error_response("BAD_REQUEST", "x", [("xml_validation_error", "y")])
        self.assertEqual(shape(ours), shape(example.encode()))
        for sample in (
            ("TT_EX010a", "TT_EX010a.xml"),
            ("TT_EX011a", "TT_EX011a.xml"),
            ("TT_IM001a", "Step1_TT_IM001a.xml"),
            ("TT_EX009a", "Step5_TT_EX009a_Amendment.xml"),
        ):
            body = read_bytes("hmrc_cds", "examples", "annotated_XML_samples", *sample)
            self.assertEqual(schema_problems(self.submit_schema, body), [], sample)
        cancel = read_bytes(
            "hmrc_cds",
            "examples",
            "annotated_XML_samples",
            "TT_EX010a",
            "TT_EX010a_Cancellation.xml",
        )
        self.assertEqual(schema_problems(self.cancel_schema, cancel), [])

    # notifications in ---------------------------------------------------------------------------
    def test_every_published_notification_is_read_into_its_canonical_status(self):
        samples = published_notifications()
        self.assertEqual(len(samples), 448)
        seen = set()
        for index, (path, body) in enumerate(samples):
            root = etree.fromstring(body)
            code = local(root, "Response", "FunctionCode")[0].text.strip()
            name, status = GUIDE[code]
            lrn = local(root, "Response", "Declaration", "FunctionalReferenceID")[0].text.strip()
            mrn = local(root, "Response", "Declaration", "ID")[0].text.strip()
            response = self.push(body, conversation=f"00000000-0000-4000-8000-{index:012d}")
            self.assertEqual(response.status_code, 202, f"{path}: {response.text}")
            message = self.env["logistics.message"].browse(response.json()["message_id"])
            data = message._get_payload()
            self.assertEqual(message.message_type, "customs.status", path)
            self.assertEqual(data["status"], status, path)
            self.assertEqual(data["reference"], lrn, path)
            self.assertEqual(data["broker_reference"], mrn, path)
            self.assertTrue(data["reason"].endswith(".") and name in data["reason"], path)
            seen.add(name)
        self.assertEqual(seen, {name for name, _status in GUIDE.values()})

    def test_the_callback_takes_only_the_registered_token(self):
        body = read_bytes(
            "hmrc_cds", "examples", "annotated_XML_samples", *EXAMPLES, "01_DMSACC.xml"
        )
        self.assertEqual(self.push(body, token="Basic d3Jvbmc6dG9rZW4=").status_code, 401)
        self.assertEqual(self.push(body, token="").status_code, 401)
        first = self.push(body, conversation="0f1e2d3c-4b5a-4978-8675-a4b3c2d1e0f9")
        again = self.push(body, conversation="0f1e2d3c-4b5a-4978-8675-a4b3c2d1e0f9")
        self.assertEqual((first.status_code, again.status_code), (202, 202))
        self.assertIs(again.json()["duplicate"], True, "HMRC pushing it again applies it once")
        broken = self.push(b"<MetaData><Response><FunctionCode>01</Function", token=TOKEN)
        self.assertEqual(broken.status_code, 400)
        self.assertIn("not well-formed XML", broken.json()["error"])

    def test_a_declaration_lives_through_hmrc_notifications(self):
        delivery, declaration = self.submitted_export()
        [message] = self.sent(declaration)
        conversation = message.external_id
        self.notify(declaration, (*EXAMPLES, "02_DMSRCV.xml"), conversation)
        self.assertEqual(declaration.state, "submitted")
        self.notify(declaration, (*EXAMPLES, "01_DMSACC.xml"), conversation)
        self.assertEqual(declaration.state, "accepted")
        self.assertEqual(declaration.broker_reference, "19GBCKKCQSXV2FGVA8")
        self.notify(declaration, (*EXAMPLES, "06_DMSDOC.xml"), conversation)
        self.assertEqual(declaration.state, "documents_required")
        self.assertIn("ACA:", declaration.documents_requested)
        self.assertIn("2026-09-11", declaration.documents_requested)
        self.notify(declaration, (*EXAMPLES, "09_DMSCLE.xml"), conversation)
        self.assertEqual(declaration.state, "released")
        self.notify(declaration, (*EXAMPLES, "16_DMSEOG.xml"), conversation)
        self.assertEqual(declaration.state, "released")
        exit_event = declaration.event_ids.sorted("id")[-1]
        self.assertIn("The goods exited the UK (DMSEOG). office of exit GB000041.", exit_event.note)
        self.assertEqual(str(declaration.cds_exited_at), "2019-11-13 17:24:08")
        self.assertIn("office of exit GB000041", declaration.cds_exit_note)
        self.assertIs(self.validate(delivery), True)
        statuses = self.env["logistics.message"].search(
            [("direction", "=", "in"), ("res_id", "=", declaration.id)]
        )
        self.assertEqual(set(statuses.mapped("correlation_id")), {conversation})

    def test_rejection_with_error_pointers_then_declared_anew(self):
        _delivery, declaration = self.submitted_export()
        self.notify(declaration, (*EXAMPLES, "03_DMSREJ.xml"))
        self.assertEqual(declaration.state, "rejected")
        self.assertIn(
            "CDS12005 (42A/17C#R144) HMRC validation rule CDS12005 at 42A/17C#R144",
            declaration.rejection_errors,
        )
        [message] = self.notify(
            declaration, ("TT_IM014a", "Example_Notifications", "01_DMSREJ.xml")
        )
        errors = message._get_payload()["errors"]
        self.assertEqual(
            [(e["code"], e["pointer"]) for e in errors],
            [("CDS12016", "42A#023"), ("CDS12077", "/lines/0"), ("CDS12077", "/lines/0")],
        )
        self.assertEqual(
            errors[1]["text"], "HMRC validation rule CDS12077 at 42A/67A/68A[1]/70A[1]#166"
        )
        declaration.action_amend()
        run_jobs(self.env)
        first, second = self.sim.submissions
        self.assertEqual(second["path"], "/customs/declarations/", "never accepted: declared anew")
        root = etree.fromstring(second["body"])
        self.assertEqual(
            root.findtext("d:Declaration/d:FunctionalReferenceID", namespaces=NS),
            f"{declaration.name}-V2",
        )
        self.assertEqual(schema_problems(self.submit_schema, second["body"]), [])
        # HMRC's notifications about the new LRN speak of version 2
        body = with_lrn(
            read_bytes("hmrc_cds", "examples", "annotated_XML_samples", *EXAMPLES, "01_DMSACC.xml"),
            f"{declaration.name}-V2",
        )
        self.assertEqual(self.push(body).status_code, 202)
        run_jobs(self.env)
        self.assertEqual((declaration.version, declaration.state), (2, "accepted"))

    def test_amendment_of_an_accepted_declaration_is_a_cor_naming_its_mrn(self):
        _delivery, declaration = self.submitted_export()
        self.notify(declaration, (*EXAMPLES, "01_DMSACC.xml"))
        self.notify(declaration, (*EXAMPLES, "05_DMSCTL.xml"))
        self.assertEqual(declaration.state, "inspection")
        declaration.action_amend()
        run_jobs(self.env)
        amendment = self.sim.submissions[-1]
        self.assertEqual(amendment["path"], "/customs/declarations/amend")
        self.assertEqual(schema_problems(self.submit_schema, amendment["body"]), [])
        root = etree.fromstring(amendment["body"])
        self.assertEqual(
            [
                root.findtext(f"d:Declaration/d:{tag}", namespaces=NS)
                for tag in ("FunctionCode", "ID", "TypeCode")
            ],
            ["13", declaration.broker_reference, "COR"],
        )

    def test_cancellation_request_then_hmrc_invalidates(self):
        declaration = self.accepted_then_cancelled()
        request = self.sim.submissions[-1]
        self.assertEqual(request["path"], "/customs/declarations/cancellation-requests")
        self.assertEqual(schema_problems(self.cancel_schema, request["body"]), [])
        root = etree.fromstring(request["body"])
        self.assertEqual(root.findtext("d:Declaration/d:TypeCode", namespaces=NS), "INV")
        self.assertEqual(
            root.findtext(
                "d:Declaration/d:AdditionalInformation/d:StatementDescription", namespaces=NS
            ),
            "Customer cancelled the order",
        )
        self.notify(declaration, ("TT_EX010a", "Example_Notifications", "04_DMSREQ.xml"))
        self.notify(declaration, (*EXAMPLES, "10_DMSINV.xml"))
        self.assertEqual(declaration.state, "cancelled")
        events = declaration.event_ids.sorted("id")
        self.assertIn(
            "HMRC granted the amendment or cancellation request (DMSREQ).", events[-2].note
        )
        self.assertTrue(re.search(r"DMSINV", events[-1].note))

    def test_duties_hmrc_assessed_are_recorded(self):
        _delivery, declaration = self.submitted_export()
        self.notify(declaration, (*EXAMPLES, "01_DMSACC.xml"))
        self.notify(declaration, ("TT_IM001a", "Example_Notifications", "02_DMSTAX.xml"))
        self.assertEqual(declaration.state, "accepted")
        self.assertEqual(
            sorted((d.duty_type, d.amount, d.currency_id.name) for d in declaration.duty_ids),
            [("duty", 20.0, "GBP"), ("vat", 204.0, "GBP")],
        )

    def test_badge_and_submitter_identifiers_are_checked_as_hmrc_issues_them(self):
        vals = {"kind": "customs", "provider": "hmrc_cds"}
        with self.assertRaisesRegex(ValidationError, "Badge identifier must be 6 to 12 capital"):
            self._make_backend(**vals, cds_badge_identifier="abc")
        with self.assertRaisesRegex(ValidationError, "Submitter EORI must be at most 17"):
            self._make_backend(**vals, cds_submitter_identifier="GB 123")

    def test_test_connection_obtains_an_hmrc_access_token(self):
        action = self.broker.action_test_connection()
        self.assertIn("issued an access token to client cds-client", str(action))
        self.broker.oauth_client_secret = "not-the-secret"
        action = self.broker.action_test_connection()
        self.assertIn("401", str(action))

    def test_cancellation_before_hmrc_answered_waits_for_its_mrn(self):
        _delivery, declaration = self.submitted_export()
        self.env.user.groups_id |= self.env.ref("logistics_customs.group_customs_manager")
        declaration._logistics_cancel_at_broker("Ordered twice")
        run_jobs(self.env)
        cancel = self.sent(declaration).filtered(lambda m: m.message_type == "customs.cancel")
        self.assertEqual((cancel.state, cancel.error_category), ("failed", "business"))
        self.assertIn(
            f"HMRC has not answered declaration {declaration.name} yet", cancel.error_message
        )
        # HMRC's first notification arrives after the cancellation here: history only, its
        # MRN is what the cancellation request names
        self.notify(declaration, (*EXAMPLES, "02_DMSRCV.xml"))
        self.assertFalse(declaration.broker_reference)
        cancel._retry("HMRC answered")
        run_jobs(self.env)
        self.assertEqual(cancel.state, "sent")
        root = etree.fromstring(self.sim.submissions[-1]["body"])
        self.assertEqual(root.findtext("d:Declaration/d:ID", namespaces=NS), "19GBCKKCQSXV2FGVA8")

    def test_the_demo_stand_in_answers_with_hmrc_samples(self):
        delivery, declaration = self.submitted_export()
        [request] = self.sim.submissions
        self.sim.callback_url, self.sim.callback_token, self.sim.delay = self.callback, TOKEN, 0
        self.sim._answer("submit", request["body"], request["conversation_id"])
        run_jobs(self.env)
        self.assertEqual(declaration.state, "released")
        self.assertRegex(declaration.broker_reference, r"^\d{2}GB[A-Z0-9]{14}$")
        self.assertEqual(
            declaration.event_ids.sorted("id").mapped("status"),
            ["submitted", "accepted", "released"],
        )
        self.assertIs(self.validate(delivery), True)

    def test_a_denied_cancellation_request_needs_someone(self):
        """HMRC's DMSREQ sample, its answer 39 (granted) read as 41 (denied)."""
        declaration = self.accepted_then_cancelled()
        sample = read_bytes(
            "hmrc_cds",
            "examples",
            "annotated_XML_samples",
            "TT_EX010a",
            "Example_Notifications",
            "04_DMSREQ.xml",
        )
        body = with_lrn(
            sample.replace(b"<NameCode>39</NameCode>", b"<NameCode>41</NameCode>"), declaration.name
        )
        response = self.push(body)
        self.assertEqual(response.status_code, 202, response.text)
        run_jobs(self.env)
        message = self.env["logistics.message"].browse(response.json()["message_id"])
        self.assertEqual(message.subject, f"DMSREQ denied {declaration.name}")
        self.assertEqual(message.state, "failed", "in the exception queue")
        self.assertIn(
            f"HMRC denied the amendment or cancellation request of {declaration.name}",
            message.error_message,
        )
        self.assertIn("HMRC denied a request", declaration.activity_ids.mapped("summary"))
