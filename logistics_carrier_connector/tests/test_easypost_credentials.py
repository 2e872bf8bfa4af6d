"""EasyPost as EasyPost behaves: labels and customs forms live on a storage bucket (another
origin) that refuses credentials, as S3 does, and must never receive the API key; webhook
secrets are NFKD-normalised before the HMAC, as EasyPost and its official clients do."""

import unicodedata
from datetime import datetime

import requests
from logistics_simulators.easypost import EasyPostSimulator, sign

from odoo.tests import tagged

from odoo.addons.logistics_integration_base.tests.common import (
    LogisticsHttpCase,
    LogisticsTransactionCase,
    run_jobs,
)
from odoo.addons.logistics_integration_base.tests.test_credentials_origin import (
    assert_adapters_use_the_transport,
)

from .common import API_KEY, CarrierFixture

COMPOSED = unicodedata.normalize("NFC", "sécret-webhook")  # é as one code point
DECOMPOSED = unicodedata.normalize("NFD", "sécret-webhook")  # e + combining acute accent


@tagged("post_install", "-at_install")
class TestLabelsOnABucket(CarrierFixture, LogisticsTransactionCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.setup_carrier()
        # the carrier's files on a bucket of their own, another origin than the API
        cls.sim = EasyPostSimulator(api_key=API_KEY, bucket=True).start()
        cls.addClassCleanup(cls.sim.stop)
        cls.backend.base_url = cls.sim.url("/v2")

    def test_label_and_forms_come_from_the_bucket_without_credentials(self):
        self.customer.write(
            {
                "country_id": self.env.ref("base.ca").id,
                "city": "Ottawa",
                "zip": "K1A 0B1",
                "state_id": False,
            }
        )
        picking = self.make_delivery([(self.kettle, 1)])
        self.validate(picking)
        [parcel] = picking.logistics_parcel_ids
        self.assertTrue(self.label_bytes(parcel).startswith(b"%PDF"))
        self.assertEqual(len(parcel.document_ids), 1, "the commercial invoice is kept")
        self.assertEqual(self.sim.refunds, [], "nothing was refunded")
        self.assertEqual(len(self.sim.bought()), 1)
        [shipment] = self.sim.bought()
        self.assertEqual(
            sorted(r.path for r in self.sim.bucket.requests),
            [f"/forms/{shipment['id']}.pdf", f"/labels/{shipment['id']}.pdf"],
        )
        for req in self.sim.bucket.requests:
            self.assertNotIn("Authorization", req.headers, req)
            self.assertNotIn(API_KEY, str(req.headers), req)
        # the API itself was called with the key, every time
        self.assertTrue(self.sim.requests)
        for req in self.sim.requests:
            self.assertTrue(req.headers.get("Authorization", "").startswith("Basic "), req)
        # the bucket behaves as S3 does: credentials are refused
        refused = requests.get(
            shipment["postage_label"]["label_url"], auth=(API_KEY, ""), timeout=10
        )
        self.assertEqual(refused.status_code, 400)
        self.assertIn("Unsupported Authorization Type", refused.text)

    def test_a_zpl_label_from_the_bucket(self):
        self.backend.carrier_label_format = "ZPL"
        picking = self.make_delivery([(self.kettle, 1)])
        self.validate(picking)
        self.assertTrue(self.label_bytes(picking.logistics_parcel_ids).startswith(b"^XA"))
        self.assertEqual(len(self.sim.bucket.requests), 1)
        self.assertNotIn("Authorization", self.sim.bucket.requests[0].headers)

    def test_every_adapter_goes_through_the_transport(self):
        assert_adapters_use_the_transport(self, expected={"easypost", "classic_soap", "generic"})


@tagged("post_install", "-at_install")
class TestWebhookSecretNormalised(CarrierFixture, LogisticsHttpCase):
    """A webhook secret with non-ASCII characters, kept on the backend as the person typed
    it (composed or decomposed), accepts what EasyPost signs."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.setup_carrier(webhook_scheme="easypost_hmac", webhook_secret=COMPOSED)

    def post(self, backend, event, secret):
        return self.post_easypost_event(event, secret, backend)

    def unknown_news(self):
        """A ``tracker.updated`` event about a parcel Odoo did not book (accepted, then
        kept as ignored)."""
        return self.sim.event(
            self.sim._new_tracker("9400999", "USPS", "in_transit")["tracking_code"]
        )

    def test_the_signer_normalises_as_easypost_does(self):
        self.assertNotEqual(COMPOSED, DECOMPOSED)
        body = b'{"id": "evt_1"}'
        self.assertEqual(sign(COMPOSED, body), sign(DECOMPOSED, body))

    def test_news_signed_with_a_non_ascii_secret_is_accepted_and_applied(self):
        picking = self.make_delivery([(self.kettle, 1)])
        self.validate(picking)
        parcel = picking.logistics_parcel_ids
        event = self.sim.advance(
            parcel.tracking_number, "in_transit", datetime(2026, 11, 30, 9).isoformat() + "Z"
        )
        answer = self.post(self.backend, event, DECOMPOSED)
        self.assertEqual(answer.status_code, 202, answer.text)
        run_jobs(self.env)
        self.assertEqual(parcel.tracking_state, "in_transit")

    def test_either_form_kept_on_the_backend_accepts_the_signature(self):
        for stored in (COMPOSED, DECOMPOSED, "ﬁle-sécret"):  # "ﬁ": a compatibility ligature
            with self.subTest(stored=ascii(stored)):
                backend = self._make_backend(
                    kind="carrier",
                    provider="easypost",
                    base_url=self.sim.url("/v2"),
                    api_key=API_KEY,
                    webhook_scheme="easypost_hmac",
                    webhook_secret=stored,
                )
                event = self.unknown_news()
                for signed_with in {stored, unicodedata.normalize("NFKD", stored)}:
                    answer = self.post(backend, event, signed_with)
                    self.assertEqual(answer.status_code, 202, answer.text)

    def test_a_wrong_secret_is_still_refused(self):
        event = self.unknown_news()
        for wrong in ("secret-webhook", "sécret-webhook ", "sècret-webhook", ""):
            with self.subTest(wrong=ascii(wrong)):
                answer = self.post(self.backend, event, wrong)
                self.assertEqual(answer.status_code, 401, answer.text)
