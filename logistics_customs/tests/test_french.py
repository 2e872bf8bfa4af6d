"""The suite in French, through Odoo's translation chain: the modules' i18n/fr.po loaded as
Odoo loads them, an operator whose language is French, and what that operator reads in
French — the reason of an exception in the queue, the customs banner of a held delivery and
its refusal to validate, the commercial invoice."""

from lxml import etree
from lxml import html as lxml_html

from odoo import fields
from odoo.exceptions import UserError
from odoo.tests import TransactionCase, new_test_user

from odoo.addons.logistics_integration_base.tests.common import run_jobs

from .common import CustomsFixture
from .test_commercial_invoice import REPORT, words

MODULES = ["logistics_integration_base", "logistics_customs"]


class TestFrench(CustomsFixture, TransactionCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.setup_customs()
        cls.env["res.lang"]._activate_lang("fr_FR")
        cls.env["ir.module.module"]._load_module_terms(MODULES, ["fr_FR"], overwrite=True)
        cls.operator = new_test_user(
            cls.env,
            login="operatrice_douane",
            name="Camille Martin",
            lang="fr_FR",
            groups="stock.group_stock_user,logistics_integration_base.group_logistics_user",
        )

    def as_operator(self, records):
        """``records`` as the operator reads them in the web client: the operator's user,
        with the context of the operator's preferences (language, time zone)."""
        preferences = self.operator.with_user(self.operator).context_get()
        self.assertEqual(preferences["lang"], "fr_FR")
        return records.with_user(self.operator).with_context(**preferences)

    def export(self):
        delivery = self.delivery_of(self.sale(self.us_customer, [(self.kettle, 2, 40.0)]))
        return delivery, delivery.logistics_declaration_ids

    def test_an_exception_reason_is_read_in_french(self):
        delivery, declaration = self.export()
        declaration.sudo().write({"state": "submitted", "submitted_at": fields.Datetime.now()})
        # customs hold the goods until they see a certificate: the broker says so
        [status], _new = self.env["logistics.message"]._store_inbound(
            self.broker,
            [
                {
                    "idempotency_key": "hold-fr-1",
                    "message_type": "customs.status",
                    "company_id": self.broker.company_id.id,
                    "payload": {
                        "reference": declaration.name,
                        "status": "documents_required",
                        "documents_requested": [
                            {"code": "N954", "name": "Certificate of origin EUR.1"}
                        ],
                    },
                }
            ],
        )
        run_jobs(self.env)
        self.assertEqual(status.state, "failed", "the hold waits for someone in the queue")

        # the French operator opens it in the exception queue and presses Retry
        seen = self.as_operator(status)
        done = seen.action_retry()
        self.assertEqual(done["params"]["title"], "Nouvel essai lancé")
        self.assertIn(
            f"{status.name} de {self.broker.name} est mis en file pour être appliqué à nouveau",
            done["params"]["message"],
        )
        run_jobs(self.env)
        seen.invalidate_recordset()
        self.assertEqual(seen.state, "failed")
        expected = (
            f"Retenue douanière {declaration.name} ({delivery.name}) jusqu'à réception de : "
            f"N954: Certificate of origin EUR.1. Envoyez-les à {self.broker.name} ; les "
            "marchandises partent dès que la douane les libère."
        )
        self.assertEqual(seen.error_message, expected)
        self.assertEqual(
            seen.error_summary,
            expected.split(". ", 1)[0] + ".",
            "the queue's 'What failed' column",
        )
        self.assertEqual(seen.error_heading, "Règle métier")
        self.assertNotIn("until they receive", seen.error_message)
        labels = seen.fields_get(["error_summary", "error_category"], ["string", "selection"])
        self.assertEqual(labels["error_summary"]["string"], "Ce qui a échoué")
        self.assertIn(("validation", "Données à corriger"), labels["error_category"]["selection"])

    def test_the_customs_banner_of_a_held_delivery_is_in_french(self):
        delivery, declaration = self.export()
        seen = self.as_operator(delivery)
        self.assertTrue(seen.logistics_customs_held)
        self.assertEqual(
            seen.logistics_customs_why,
            f"Sa déclaration en douane {declaration.name} n'est pas encore envoyée au "
            "commissionnaire en douane.",
        )
        self.assertEqual(
            seen.logistics_customs_next,
            "Complétez la déclaration et cliquez sur Envoyer au commissionnaire : le transfert "
            "pourra être validé dès que la douane l'aura libérée.",
        )

        arch = etree.fromstring(seen.get_views([(False, "form")])["views"]["form"]["arch"])
        [banner] = arch.xpath("//div[@name='logistics_customs_banner']")
        self.assertEqual(words(banner.findtext("strong")), "Retenue par la douane.")
        [button] = banner.xpath(".//button[@name='action_logistics_customs_declaration']")
        self.assertEqual(button.get("string"), "Ouvrir la déclaration")
        banner_text = etree.tostring(banner, encoding="unicode")
        self.assertNotIn("Held by customs", banner_text)
        self.assertNotIn("Open the declaration", banner_text)

        # and Validate refuses in French, saying what to do
        for move in seen.move_ids:
            move.quantity = move.product_uom_qty
        with self.assertRaises(UserError) as caught:
            seen.button_validate()
        self.assertIn(
            f"{delivery.name} ne peut pas être validé : sa déclaration en douane "
            f"{declaration.name} n'est pas encore envoyée au commissionnaire en douane. "
            "Complétez la déclaration",
            str(caught.exception),
        )
        self.assertNotIn("cannot be validated", str(caught.exception))

    def test_the_commercial_invoice_is_printed_in_french(self):
        order = self.sale(self.us_customer, [(self.kettle, 3, 40.0), (self.toaster, 1, 30.0)])
        declaration = self.delivery_of(order).logistics_declaration_ids
        report = self.as_operator(self.env["ir.actions.report"]).with_context(lang="fr_FR")
        content, _content_type = report._render_qweb_html(REPORT, declaration.ids)
        page = lxml_html.fromstring(content)
        text = words(page.text_content())
        self.assertEqual(words(page.xpath("//h2")[0].text_content()), "Facture commerciale")
        for french in (
            "Exportateur (vendeur)",
            "Importateur (acheteur)",
            "Déclarant",
            "Taux de change",
            "Valeur totale",
            "Nous déclarons que les informations figurant sur cette facture sont exactes et "
            "sincères",
            "Lieu et date",
        ):
            self.assertIn(french, text)
        for english in ("Exporter (seller)", "Importer (buyer)", "Total value in", "We declare"):
            self.assertNotIn(english, text)
        self.assertEqual(
            report._get_report_from_name("logistics_customs.report_commercial_invoice").name,
            "Facture commerciale",
        )
