"""The commercial invoice of a customs declaration: printed from the declaration as a PDF a
customs officer recognises, and attached to the declaration with every version sent."""

import base64
import io
import re
from datetime import timedelta
from unittest.mock import patch

from lxml import html as lxml_html

from odoo import fields
from odoo.tests import HttpCase, TransactionCase, tagged
from odoo.tools import format_date
from odoo.tools.pdf import PdfFileReader

from .common import CustomsFixture

REPORT = "logistics_customs.action_report_commercial_invoice"
# a 2x2 PNG, red
LOGO = base64.b64encode(
    bytes.fromhex(
        "89504e470d0a1a0a0000000d4948445200000002000000020802000000fdd49a73"
        "0000001049444154789c63f8cfc000440c100a001fee03fd8b5f14d40000000049"
        "454e44ae426082"
    )
)


def words(text):
    """Text with its runs of white space (non-breaking ones too) made single spaces."""
    return re.sub(r"\s+", " ", (text or "").replace("\xa0", " ")).strip()


class CommercialInvoiceCase(CustomsFixture):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.setup_customs()

    def declaration_for_us(self):
        """Three kettles, two XL kettles (one HS code, from China) and a toaster (another,
        from Germany) sold to Philadelphia."""
        order = self.sale(
            self.us_customer,
            [(self.kettle, 3, 40.0), (self.kettle_xl, 2, 55.0), (self.toaster, 1, 30.0)],
        )
        order.client_order_ref = "PO-MO-7781"
        return self.delivery_of(order).logistics_declaration_ids

    def invoices(self, declaration):
        return self.env["ir.attachment"].search(
            [("res_model", "=", declaration._name), ("res_id", "=", declaration.id)], order="id"
        )


class TestCommercialInvoice(CommercialInvoiceCase, TransactionCase):
    def test_the_invoice_lists_parties_terms_every_line_and_totals(self):
        declaration = self.declaration_for_us()
        kettles, toasters = declaration.line_ids.sorted("sequence")
        content, content_type = self.env["ir.actions.report"]._render_qweb_html(
            REPORT, declaration.ids
        )
        self.assertEqual(content_type, "html")
        page = lxml_html.fromstring(content)

        def cell(row, name):
            [td] = row.xpath(f"td[@name='{name}']")
            return words(td.text_content())

        rows = page.xpath("//table[@name='goods']/tbody/tr")
        self.assertEqual(len(rows), 2, "one row per declaration line")
        for row, line, expected in (
            (
                rows[0],
                kettles,
                {
                    "hs_code": "85161080",
                    "description": "Electric kettles, stainless steel; Kettle XL",
                    "origin": "CN",
                    "quantity": "5.00",
                    "uom": "Units",
                    "net_weight": "6.20",
                    "gross_weight": "6.80",
                },
            ),
            (
                rows[1],
                toasters,
                {
                    "hs_code": "851679",
                    "description": "Toaster",
                    "origin": "DE",
                    "quantity": "1.00",
                    "uom": "Units",
                    "net_weight": "2.00",
                    "gross_weight": "2.00",
                },
            ),
        ):
            self.assertEqual(row.get("data-hs-code"), line.hs_code)
            for name, value in expected.items():
                self.assertEqual(cell(row, name), value, f"{line.hs_code}: {name}")
        self.assertIn("230.00", cell(rows[0], "value"))
        self.assertIn("30.00", cell(rows[1], "value"))

        text = words(page.text_content())
        self.assertIn(f"Invoice no. {declaration.name}-1", text)
        self.assertIn(f"Customs declaration {declaration.name}, version 1", text)
        self.assertIn(f"Order reference {declaration.picking_id.sale_id.name}", text)
        self.assertIn("Customer reference: PO-MO-7781", text)
        self.assertIn(f"Transfer: {declaration.picking_id.name}", text)
        exporter = words(page.xpath("//div[@name='exporter']")[0].text_content())
        self.assertIn(self.company.partner_id.name, exporter)
        self.assertIn("Hafenstrasse 5", exporter)
        self.assertIn("EORI: DE123456789012345", exporter)
        importer = words(page.xpath("//div[@name='importer']")[0].text_content())
        self.assertIn("Maple & Oak Retail Inc.", importer)
        self.assertIn("200 Market St", importer)
        self.assertIn("EORI: US000000123456", importer)
        declarant = words(page.xpath("//div[@name='declarant']")[0].text_content())
        self.assertIn("Hanse Customs Brokers GmbH", declarant)
        self.assertIn("EORI: DE987654321000000", declarant)
        [terms] = page.xpath("//table[@name='terms']/tbody/tr")
        self.assertEqual(cell(terms, "incoterm"), "DAP Philadelphia")
        self.assertEqual(cell(terms, "currency"), declaration.currency_id.name)
        self.assertEqual(cell(terms, "transport_mode"), "Road")
        self.assertEqual(cell(terms, "country_dispatch"), "Germany")
        self.assertEqual(cell(terms, "country_destination"), "United States")
        totals = {
            td.get("name"): words(td.text_content())
            for td in page.xpath("//div[@name='totals']//td[@name]")
        }
        self.assertEqual(totals["package_count"], "1")
        self.assertEqual(totals["total_net_weight"], "8.20")
        self.assertEqual(totals["total_gross_weight"], "8.80")
        self.assertIn("260.00", totals["total_value"])
        self.assertIn("We declare that the information on this invoice is true and correct", text)
        self.assertIn("Signature", text)

    def test_the_exchange_rate_is_shown_for_a_foreign_currency(self):
        eur = self.env.ref("base.EUR")
        eur.active = True
        if self.company.currency_id == eur:
            self.skipTest("the test company must not keep its books in EUR")
        self.env["res.currency.rate"].create({"currency_id": eur.id, "rate": 0.8})
        order = self.sale(self.us_customer, [(self.kettle, 1, 40.0)], currency=eur)
        declaration = self.delivery_of(order).logistics_declaration_ids
        content, _content_type = self.env["ir.actions.report"]._render_qweb_html(
            REPORT, declaration.ids
        )
        page = lxml_html.fromstring(content)
        company_currency = self.company.currency_id.name
        today = fields.Date.context_today(declaration)
        self.assertEqual(declaration.exchange_rate_date, today)
        [rate] = page.xpath("//td[@name='exchange_rate']")
        [day] = rate.xpath("div[@name='exchange_rate_date']")
        self.assertEqual(
            words(rate.text_content()),
            f"1 EUR = 1.250000 {company_currency} {words(day.text_content())}",
        )
        self.assertEqual(words(day.text_content()), f"rate of {format_date(self.env, today)}")
        # the total in both currencies, the rate beside it
        [total] = page.xpath("//td[@name='total_value']")
        self.assertIn("40.00", words(total.text_content()))
        self.assertIn("€", words(total.text_content()))
        [converted] = page.xpath("//td[@name='total_value_company']")
        self.assertIn("50.00", words(converted.text_content()))
        self.assertIn(self.company.currency_id.symbol, words(converted.text_content()))
        [label] = page.xpath("//div[@name='total_value_rate']")
        self.assertEqual(words(label.text_content()), f"at 1 EUR = 1.250000 {company_currency}")

    def test_the_rate_is_of_the_day_the_goods_were_declared(self):
        """A rate published after the declaration does not change its invoice; a declaration
        prepared before the day was kept prints the rate of the day it was sent."""
        eur = self.env.ref("base.EUR")
        eur.active = True
        if self.company.currency_id == eur:
            self.skipTest("the test company must not keep its books in EUR")
        today = fields.Date.context_today(self.env.user)
        self.env["res.currency.rate"].create(
            {"currency_id": eur.id, "rate": 0.5, "name": today - timedelta(days=10)}
        )
        rate_today = self.env["res.currency.rate"].create(
            {"currency_id": eur.id, "rate": 0.8, "name": today}
        )
        order = self.sale(self.us_customer, [(self.kettle, 1, 40.0)], currency=eur)
        declaration = self.delivery_of(order).logistics_declaration_ids
        self.assertEqual(declaration._logistics_invoice_exchange(), (1.25, today))
        rate_today.rate = 0.4
        self.assertEqual(declaration._logistics_invoice_exchange(), (1.25, today))

        # the system sent it five days ago, before the day of the rate was kept
        declaration.sudo().write(
            {
                "exchange_rate": 0.0,
                "exchange_rate_date": False,
                "submitted_at": fields.Datetime.now() - timedelta(days=5),
            }
        )
        rate, day = declaration._logistics_invoice_exchange()
        self.assertEqual(day, today - timedelta(days=5))
        self.assertAlmostEqual(rate, 2.0, places=6)

    def test_the_company_currency_prints_a_rate_of_one(self):
        declaration = self.declaration_for_us()
        self.assertEqual(declaration.currency_id, self.company.currency_id)
        content, _content_type = self.env["ir.actions.report"]._render_qweb_html(
            REPORT, declaration.ids
        )
        page = lxml_html.fromstring(content)
        [rate] = page.xpath("//td[@name='exchange_rate']")
        name = self.company.currency_id.name
        self.assertIn(f"1 {name} = 1.000000 {name}", words(rate.text_content()))
        self.assertFalse(page.xpath("//td[@name='total_value_company']"))

    def test_the_letterhead_is_in_the_body(self):
        """wkhtmltopdf 0.12.6 without the patched Qt ignores the header Odoo hands it
        apart: the company's logo, name, address, VAT and EORI are in the page itself."""
        self.company.write({"logo": LOGO, "vat": "DE811907980"})
        declaration = self.declaration_for_us()
        content, _content_type = self.env["ir.actions.report"]._render_qweb_html(
            REPORT, declaration.ids
        )
        page = lxml_html.fromstring(content)
        self.assertFalse(page.xpath("//div[contains(@class, 'header')]"), "no header apart")
        [article] = page.xpath("//div[contains(@class, 'article')]")
        [letterhead] = article.xpath(".//div[@name='company']")
        [logo] = letterhead.xpath(".//img")
        self.assertTrue(self.company.logo)
        self.assertEqual(logo.get("src"), f"data:image/png;base64,{self.company.logo.decode()}")
        self.assertEqual(logo.get("alt"), self.company.name)
        text = words(letterhead.text_content())
        self.assertIn(self.company.name, text)
        self.assertIn("Hafenstrasse 5", text)
        self.assertIn("20457 Hamburg", text)
        self.assertIn("VAT: DE811907980", text)
        self.assertIn("EORI: DE123456789012345", text)

    def test_each_version_sent_keeps_its_invoice(self):
        declaration = self.declaration_for_us()
        declaration.action_submit()
        [first] = self.invoices(declaration)
        reference = declaration.name.replace("/", "-")
        self.assertRegex(reference, r"^CD-\d{4}-\d{5}$")
        self.assertEqual(first.name, f"Commercial invoice {reference} v1.pdf")
        sent = declaration.message_ids.filtered(lambda m: "Version 1 sent to" in (m.body or ""))
        self.assertEqual(sent.attachment_ids, first, "the invoice is on the chatter message")

        declaration._logistics_apply_status(
            {"status": "rejected", "reason": "Goods description too vague"}, None
        )
        self.kettle.logistics_customs_description = "Electric kettles with thermostat"
        declaration.action_amend()
        self.assertEqual((declaration.state, declaration.version), ("submitted", 2))
        first_again, second = self.invoices(declaration)
        self.assertEqual(first_again, first, "the invoice of version 1 is kept")
        self.assertEqual(second.name, f"Commercial invoice {reference} v2.pdf")
        # each invoice shows its own version, as it was sent (Odoo's test mode prints HTML)
        self.assertEqual(first.mimetype, "text/html")
        v1 = words(lxml_html.fromstring(first.raw).text_content())
        v2 = words(lxml_html.fromstring(second.raw).text_content())
        self.assertIn(f"{declaration.name}-1", v1)
        self.assertIn("Electric kettles, stainless steel; Kettle XL", v1)
        self.assertIn(f"{declaration.name}-2", v2)
        self.assertIn("Electric kettles with thermostat; Kettle XL", v2)
        self.assertNotIn("stainless steel", v2)


@tagged("post_install", "-at_install")
class TestCommercialInvoicePdf(CommercialInvoiceCase, HttpCase):
    """Real PDFs, printed by wkhtmltopdf (installed by setup/bootstrap.sh). wkhtmltopdf
    loads the report's styles from Odoo's web server: an HttpCase lets the server answer
    within the test's transaction (in a TransactionCase, the server would wait for the
    test's locks while the test waits for wkhtmltopdf)."""

    def pdf_text(self, content):
        reader = PdfFileReader(io.BytesIO(content))
        return words(" ".join(page.extract_text() for page in reader.pages))

    def test_the_pdf_names_the_declaration_its_codes_parties_and_total(self):
        self.company.write({"logo": LOGO, "vat": "DE811907980"})
        declaration = self.declaration_for_us()
        content, content_type = (
            self.env["ir.actions.report"]
            .with_context(force_report_rendering=True)
            ._render_qweb_pdf(REPORT, declaration.ids)
        )
        self.assertEqual(content_type, "pdf")
        self.assertTrue(content.startswith(b"%PDF-"), content[:40])
        text = self.pdf_text(content)
        self.assertIn("Commercial invoice", text)
        # the letterhead is printed by this wkhtmltopdf (it ignores a header apart): the
        # company's VAT number is in the letterhead only, and its logo is drawn
        self.assertIn(self.company.name, text)
        self.assertIn("VAT: DE811907980", text)
        reader = PdfFileReader(io.BytesIO(content))
        resources = reader.pages[0]["/Resources"].get_object()
        images = [
            xobject
            for xobject in (
                ref.get_object() for ref in resources.get("/XObject", {}).get_object().values()
            )
            if xobject.get("/Subtype") == "/Image"
        ]
        self.assertTrue(images, "the logo is drawn on the first page")
        self.assertIn(f"1 {self.company.currency_id.name} = 1.000000", text)
        self.assertIn(declaration.name, text)
        for code in ("85161080", "851679", "DE123456789012345", "US000000123456"):
            self.assertIn(code, text)
        self.assertIn("260.00", text)

    def test_a_sent_version_has_its_pdf_attached(self):
        declaration = self.declaration_for_us()
        declaration.with_context(force_report_rendering=True).action_submit()
        [invoice] = self.invoices(declaration)
        self.assertEqual(invoice.mimetype, "application/pdf")
        self.assertTrue(invoice.raw.startswith(b"%PDF-"))
        self.assertIn(f"{declaration.name}-1", self.pdf_text(invoice.raw))

    def test_no_pdf_engine_does_not_stop_the_sending(self):
        declaration = self.declaration_for_us()
        Report = type(self.env["ir.actions.report"])
        with patch.object(Report, "get_wkhtmltopdf_state", return_value="install"):
            declaration.with_context(force_report_rendering=True).action_submit()
        self.assertEqual(declaration.state, "submitted")
        self.assertFalse(self.invoices(declaration))
        self.assertTrue(
            declaration.message_ids.filtered(
                lambda m: (
                    "The commercial invoice of version 1 could not be printed: Unable "
                    "to find Wkhtmltopdf on this system." in (m.body or "")
                )
            )
        )
