"""X12 210s carriers sent, as published in open-source X12 projects' test data
(``tests/conformance/x12/210/``, origins and licences in ``tests/conformance/x12/SOURCES.md``),
replayed through the freight-invoice intake: each file dropped byte for byte on the real SFTP
server a *Freight invoice files* backend polls, its invoices recorded and audited; and the
partner simulator's 210 checked against their structure."""

import os

from conformance import material, read_bytes
from logistics_simulators.freight_invoices import L108_CODES, build_210

from odoo.tests import TransactionCase, tagged

from odoo.addons.logistics_integration_base.formats.x12 import Envelope, parse_interchange
from odoo.addons.logistics_integration_base.tests.common import run_jobs
from odoo.addons.logistics_integration_base.transport import sftp

from ..formats import x12_210
from .test_freight_audit import FreightAuditFixture

CN_USD = "oopfactory_CN_FreightInvoiceSample1.txt"
CN_CAD = "oopfactory_CN_FreightInvoiceSample2.txt"
SCHENKER = "oopfactory_DBSchenker_SampleMotorFreightDetailsAndInvoice.txt"
LTL = "indice_210-MGCTLYST-SAMPLE.EDI"
XPO = "staedi_ts210_80char.edi"
SAMPLES = (CN_USD, CN_CAD, SCHENKER, LTL, XPO)

#: What each readable sample bills, read by hand from the file: (number, date, currency,
#: total, shipment reference, PRO, weight in kg, [(canonical code, carrier's code, amount)]).
EXPECTED = {
    CN_USD: (
        "28066945",
        "2006-06-28",
        "USD",
        2754.33,
        "291226",
        "291226",
        84821.77,  # L3: 187,000 lb net (no L0 weight is billed)
        [("freight", None, 2510.0), ("other", "ENS", 244.33)],
    ),
    CN_CAD: (
        "28061234",
        "2006-06-28",
        "CAD",
        2083.6,
        "102141",
        "102141",
        16776.57,  # 36,986 lb
        [("freight", None, 1705.0), ("other", "ENS", 244.33), ("other", "GST", 134.27)],
    ),
    LTL: (
        "09851270",
        "2016-07-07",
        "USD",
        659.4,
        "75027674",  # no N9: the shipment is named by the PRO of B303
        "75027674",
        3578.39,  # 7,889 lb gross
        [
            ("freight", None, 3636.04),
            ("other", "CUS", 15.0),
            ("fuel", "FUE", 26.27),
            ("discount", "DSC", -3017.91),
        ],
    ),
    XPO: (
        "699751522",
        "2018-09-14",
        "USD",
        124.17,
        "134982",
        "134982",
        607.81,  # 1,340 lb gross
        [("freight", None, 561.86), ("discount", "DSC", -449.49), ("fuel", "FUE", 11.8)],
    ),
}


def segment_ids(text):
    """The segment ids of every transaction set of an interchange, in order of appearance."""
    seen = []
    for ts in parse_interchange(text).transaction_sets:
        for segment in ts.segments:
            if segment[0] not in seen:
                seen.append(segment[0])
    return seen


@tagged("post_install", "-at_install")
class TestX12210Conformance(FreightAuditFixture, TransactionCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.env.ref("base.CAD").active = True

    def drop_and_poll(self, names):
        files, carrier, server = self.freight_files(self.backend, self.vendor, self.freight_cost)
        with sftp.SFTPConnection(carrier) as conn:
            conn.ensure_dirs()
            for name in names:
                conn.put_atomic(name, read_bytes("x12", "210", name))
        received = files._sftp_poll()
        run_jobs(self.env)
        return files, {f.name: f for f in received}, server

    def test_real_210s_over_sftp_are_recorded_to_their_figures(self):
        """Byte-order mark, CR/LF, indentation, 80-column wrapping, several segments on a
        line, the '.' terminator: every readable file gives its invoice to the cent; the one
        whose envelope is wrong is refused naming the segment and element, and kept."""
        files, received, server = self.drop_and_poll(SAMPLES)
        self.assertEqual(set(received), set(SAMPLES))
        Invoice = self.env["logistics.freight.invoice"]
        for name, expected in EXPECTED.items():
            number, day, currency, total, ref, pro, weight, charges = expected
            self.assertEqual(received[name].file_format, "x12", name)
            self.assertEqual(received[name].state, "processed", received[name].error)
            invoice = Invoice.search([("backend_id", "=", files.id), ("name", "=", number)])
            self.assertEqual(len(invoice), 1, name)
            self.assertEqual(str(invoice.invoice_date), day, name)
            self.assertEqual(invoice.currency_id.name, currency, name)
            self.assertAlmostEqual(invoice.total, total, places=2, msg=name)
            line = invoice.line_ids
            self.assertEqual(len(line), 1, name)
            self.assertEqual(line.shipment_ref, ref, name)
            self.assertAlmostEqual(line.weight_kg, weight, places=2, msg=name)
            self.assertAlmostEqual(line.invoiced, total, places=2, msg=name)
            self.assertEqual(
                [(c["code"], c["partner_code"], c["amount"]) for c in line.charges_data],
                charges,
                name,
            )
            [message] = received[name].message_ids
            self.assertEqual(message.message_type, "freight.invoice")
            self.assertEqual(message.external_id, number)
            self.assertIn(pro, message._get_payload()["pro_number"])
            # none of these shipments is one of ours: each waits for a review, none is lost
            self.assertEqual(invoice.state, "to_review", name)
            self.assertIn(f"Shipment {ref} is not one Odoo knows", invoice.issues)
            self.assertEqual(message.state, "failed")
        # the envelope that is wrong: the file is refused whole, named, and kept
        refused = received[SCHENKER]
        self.assertEqual(refused.state, "error")
        self.assertIn("segment GS (position 2), element GS04", refused.error)
        self.assertIn("'1994033' is not a valid date", refused.error)
        self.assertEqual(os.listdir(os.path.join(server.root, "invoices/error")), [SCHENKER])
        self.assertEqual(
            sorted(os.listdir(os.path.join(server.root, "invoices/archive"))),
            sorted(EXPECTED),
        )
        self.assertEqual(
            read_bytes("x12", "210", SCHENKER),
            open(os.path.join(server.root, "invoices/error", SCHENKER), "rb").read(),
        )

    def test_db_schenker_charges_once_its_envelope_is_right(self):
        """The refused DB Schenker file, its envelope corrected in memory (GS04 a date, GE02
        the GS06 it closes: the only changes): the '.' terminator, a YYMMDD invoice date and
        the 490 and 405 codes read to 46.40."""
        data = read_bytes("x12", "210", SCHENKER)
        self.assertEqual((data.count(b"*1994033*"), data.count(b"GE*1*24.")), (1, 1))
        _interchange, [invoice] = x12_210.parse_210_interchange(
            data.replace(b"*1994033*", b"*19940330*").replace(b"GE*1*24.", b"GE*1*1.")
        )
        self.assertEqual(
            (invoice["invoice_number"], invoice["invoice_date"], invoice["currency"]),
            ("210028835", "2003-09-03", "USD"),
        )
        self.assertEqual((invoice["total"], invoice["payment_method"]), (46.4, "collect"))
        [shipment] = invoice["shipments"]
        self.assertEqual((shipment["pro_number"], shipment["weight_kg"]), ("084125T1", 16.33))
        self.assertEqual(
            [
                (c["code"], c["partner_code"], c["description"], c["amount"])
                for c in shipment["charges"]
            ],
            [
                ("other", "490", "Minimum air transportation charge", 45.0),
                ("fuel", "405", "FUEL SURCHARGE", 1.4),
            ],
        )
        self.assertEqual(invoice["partner"], {"code": "SIFF", "name": None})

    def test_unknown_charge_codes_are_accessorials_to_approve(self):
        """CN's ENS and GST, the LTL carrier's CUS: kept with their codes, the invoice held
        for a billing user (not rejected); accepting it pays every charge as sent."""
        _files, _received, _server = self.drop_and_poll([CN_CAD, LTL])
        Invoice = self.env["logistics.freight.invoice"]
        cad = Invoice.search([("name", "=", "28061234")])
        self.assertEqual(cad.state, "to_review")
        self.assertIn("need approval", cad.issues)
        self.assertIn("ENS Energy surcharge (fuel adjustment factor) 244.33 CAD", cad.issues)
        self.assertIn("GST Goods and services tax 134.27 CAD", cad.issues)
        self.assertIn("ENS: 244.33", cad.line_ids.charges)
        ltl = Invoice.search([("name", "=", "09851270")])
        self.assertIn("CUS Customs charge 15.00 USD", ltl.issues)
        self.assertNotIn("FUE", ltl.issues, "a code the profile knows needs no approval")
        self.assertIn("ENS", cad.message_id.error_message)
        cad.action_accept()
        self.assertEqual(cad.state, "billed")
        bill = cad.move_id
        self.assertEqual(bill.currency_id.name, "CAD")
        self.assertAlmostEqual(bill.amount_total, 2083.6, places=2)
        self.assertEqual(
            sorted(bill.invoice_line_ids.mapped("price_unit")), [134.27, 244.33, 1705.0]
        )
        self.assertTrue(any("GST" in name for name in bill.invoice_line_ids.mapped("name")))
        self.assertEqual(cad.message_id.state, "ignored")

    def test_the_simulators_210_has_the_shape_carriers_send(self):
        """The simulator writes the segments, element positions and code kinds the
        published 210s use: B3 with its invoice number, PRO, payment method, date and net
        amount in whole cents, N9 references, N1 parties, LX/L0/L1 lading and charges (the
        charge in L104, its code in L108), L3 totals; every code it writes is one a carrier
        sends or the profile maps, and what it writes reads back."""
        published = {}
        for name in EXPECTED:
            for ts in parse_interchange(read_bytes("x12", "210", name)).transaction_sets:
                for segment in ts.segments:
                    published.setdefault(segment[0], []).append(segment)
        invoice = {
            "invoice_number": "SIM-1",
            "invoice_date": "2026-11-30",
            "currency": "CAD",
            "total": 2083.6,
            "payment_method": "prepaid",
            "partner": {"code": "CNRU", "name": "Canadian National"},
            "pro_number": "102141",
            "shipments": [
                {
                    "shipment_ref": "102141",
                    "pro_number": "102141",
                    "weight_kg": 16776.57,
                    "charges": [
                        {"code": "freight", "amount": 1705.0, "rate": 1705.0},
                        {"code": "other", "partner_code": "ENS", "amount": 244.33},
                        {"code": "other", "partner_code": "GST", "amount": 134.27},
                    ],
                }
            ],
        }
        text = build_210(invoice, Envelope("02", "CN", "ZZ", "ODOO", 340, 340))
        written = {}
        for ts in parse_interchange(text).transaction_sets:
            for segment in ts.segments:
                written.setdefault(segment[0], []).append(segment)
        self.assertLessEqual(set(written), set(published), "segments carriers do not send")
        for segment_id, positions in {
            "B3": (2, 3, 4, 6, 7),
            "L1": (1, 4),
            "L3": (1, 2, 5),
            "L0": (1, 4, 5),
        }.items():
            for position in positions:
                self.assertTrue(
                    all(len(s) > position and s[position] for s in written[segment_id]),
                    f"{segment_id}{position:02d} is empty where carriers fill it",
                )
                self.assertTrue(
                    any(len(s) > position and s[position] for s in published[segment_id]),
                    f"{segment_id}{position:02d} is filled where carriers leave it empty",
                )
        # amounts are whole cents (N2), as in every published B307, L104 and L305
        for segment_id, position in (("B3", 7), ("L1", 4), ("L3", 5)):
            for source in (published, written):
                for segment in source[segment_id]:
                    self.assertRegex(segment[position], r"^-?\d+$", segment)
        self.assertEqual(written["B3"][0][7], "208360")
        self.assertEqual([s[8] for s in written["L1"]], ["400", "ENS", "GST"])
        # the codes it writes are codes carriers send or the profile maps
        sent = {s[8] for s in published["L1"] if len(s) > 8 and s[8]}
        self.assertLessEqual({"ENS", "GST", "FUE", "DSC"}, sent)
        for code in L108_CODES.values():
            self.assertIn(code, x12_210.SPECIAL_CHARGES)
        _interchange, [parsed] = x12_210.parse_210_interchange(text)
        self.assertEqual(
            [
                (c["code"], c["partner_code"], c["amount"])
                for c in parsed["shipments"][0]["charges"]
            ],
            [("freight", "400", 1705.0), ("other", "ENS", 244.33), ("other", "GST", 134.27)],
        )
        self.assertEqual(parsed["total"], 2083.6)
        self.assertTrue(material("x12", "SOURCES.md").read_text().count("210/"))
