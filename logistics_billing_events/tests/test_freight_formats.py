"""Freight invoice formats: X12 210 and CSV read into the canonical freight.invoice, checked
against the JSON schema and against the partner simulator's independent writer. No database
needed."""

import copy
import datetime as dt
import json
import pickle
import re
from pathlib import Path

from jsonschema import Draft202012Validator
from logistics_simulators import freight_invoices

from odoo.tests import BaseCase, tagged

from odoo.addons.logistics_integration_base.formats.x12 import (
    ELEMENT_INVALID_CHARACTER,
    ELEMENT_INVALID_CODE,
    ELEMENT_MISSING,
    Envelope,
    X12BuildError,
    X12ParseError,
    build_997,
)

from ..formats import freight_csv, freight_invoice, x12_210

SCHEMA_PATH = Path(__file__).resolve().parent.parent / "schemas" / "freight.invoice.v1.json"

# A carrier's interchange with two freight bills. Set 1: an LTL shipment of 1,250 lb billed in
# USD (line haul without a special charge code, 60 % discount, fuel, liftgate, residential and
# appointment in one LX loop), with shipper, consignee and bill-to. Set 2: billed in CAD with
# weights in kilograms (gross and billed weights: the billed one counts), no N9*SI (the bill of
# lading is our reference), a tracking number, detention and redelivery.
SAMPLE_210 = (
    (
        "ISA*00*          *00*          *02*LTLX           *ZZ*ACMEODOO       "
        "*240311*0930*U*00401*000000731*0*P*>~\n"
    )
    + """\
GS*IM*LTLX*ACMEODOO*20240311*0930*731*X*004010~
ST*210*0001~
B3**INV-240311-07*PRO4471209*PP*L*20240311*43062****LTLX~
C3*USD~
N9*SI*WH/OUT/00042~
N9*BM*BOL-00042~
N9*PO*S00042~
G62*86*20240307~
N1*SH*Acme Distribution Reno~
N3*400 Logistics Way~
N4*Reno*NV*89502*US~
N1*CN*Jane Doe~
N3*12 Main St*Suite 4~
N4*Sacramento*CA*95814*US~
N1*BT*Acme Corp*91*ACME-7788~
N3*1 Market St~
N4*San Francisco*CA*94105*US~
LX*1~
L5*1*FURNITURE BOXED~
L0*1***1250*B***2*PLT**L~
L1*1*38.5*CW*48125~
L1*1***-28875****DSC****DISCOUNT 60 PCT~
LX*2~
L1*2***4312****FUE****FUEL SURCHARGE 22.4 PCT~
L1*2***7500****LFT~
L1*2***9500****RES~
L1*2***2500****APT~
L3*1250*B***43062*******L~
SE*28*0001~
ST*210*0002~
B3**INV-240311-08*PRO4471388*CC**20240311*32850****LTLX~
C3*CAD~
N9*BM*WH/OUT/00043~
N9*2I*LTLX4471388~
N1*CA*LTL Express Freight~
N1*ST*Northwind Traders~
N4*Toronto*ON*M5V 2T6*CA~
LX*1~
L0*1***420*G***1*PLT**K~
L0*1***450*B***1*PLT**K~
L1*1***20250~
LX*2~
L1*2***4500****DET****DETENTION 1.5 HR~
L1*2***8100****RCL~
L3*450*B***32850*******K~
SE*17*0002~
GE*2*731~
IEA*1*000000731~
"""
)


def _party(name, street=None, street2=None, city=None, state=None, zip_code=None, country=None):
    return {
        "code": None,
        "name": name,
        "street": street,
        "street2": street2,
        "city": city,
        "state_code": state,
        "zip": zip_code,
        "country_code": country,
    }


def _charge(code, description, amount, rate=None, quantity=None, **partner_code):
    """A canonical charge; an X12 210's carries ``partner_code`` (its L108 code or None)."""
    return dict(
        {
            "code": code,
            "description": description,
            "amount": amount,
            "quantity": quantity,
            "rate": rate,
        },
        **partner_code,
    )


EXPECTED_210 = [
    {
        "invoice_number": "INV-240311-07",
        "invoice_date": "2024-03-11",
        "currency": "USD",
        "total": 430.62,
        "payment_method": "prepaid",
        "partner": {"code": "LTLX", "name": None},
        "bill_to": dict(
            _party("Acme Corp", "1 Market St", None, "San Francisco", "CA", "94105", "US"),
            code="ACME-7788",
        ),
        "pro_number": "PRO4471209",
        "shipments": [
            {
                "shipment_ref": "WH/OUT/00042",
                "tracking_number": None,
                "pro_number": "PRO4471209",
                "bill_of_lading": "BOL-00042",
                "po_number": "S00042",
                "weight_kg": 566.99,  # 1,250 lb
                "shipper": _party(
                    "Acme Distribution Reno", "400 Logistics Way", None, "Reno", "NV", "89502", "US"
                ),
                "consignee": _party(
                    "Jane Doe", "12 Main St", "Suite 4", "Sacramento", "CA", "95814", "US"
                ),
                "charges": [
                    _charge("freight", "Freight", 481.25, rate=38.5, partner_code=None),
                    _charge("discount", "DISCOUNT 60 PCT", -288.75, partner_code="DSC"),
                    _charge("fuel", "FUEL SURCHARGE 22.4 PCT", 43.12, partner_code="FUE"),
                    _charge(
                        "liftgate",
                        "Lift gate service at pickup or delivery",
                        75.0,
                        partner_code="LFT",
                    ),
                    _charge("residential", "Residential delivery", 95.0, partner_code="RES"),
                    _charge("appointment", "Appointment (notification)", 25.0, partner_code="APT"),
                ],
            }
        ],
    },
    {
        "invoice_number": "INV-240311-08",
        "invoice_date": "2024-03-11",
        "currency": "CAD",
        "total": 328.5,
        "payment_method": "collect",
        "partner": {"code": "LTLX", "name": "LTL Express Freight"},
        "bill_to": None,
        "pro_number": "PRO4471388",
        "shipments": [
            {
                "shipment_ref": "WH/OUT/00043",
                "tracking_number": "LTLX4471388",
                "pro_number": "PRO4471388",
                "bill_of_lading": "WH/OUT/00043",
                "po_number": None,
                "weight_kg": 450.0,
                "shipper": None,
                "consignee": _party(
                    "Northwind Traders", None, None, "Toronto", "ON", "M5V 2T6", "CA"
                ),
                "charges": [
                    _charge("freight", "Freight", 202.5, partner_code=None),
                    _charge("waiting_time", "DETENTION 1.5 HR", 45.0, partner_code="DET"),
                    _charge("redelivery", "Redelivery", 81.0, partner_code="RCL"),
                ],
            }
        ],
    },
]

# A 3PL's monthly invoice (fulfilment, receiving, storage and an account fee not tied to any
# shipment) and a carrier's freight bill in the same file, as the partners drop them.
SAMPLE_CSV = """\
invoice_number,invoice_date,currency,invoice_total,partner_code,partner_name,shipment_ref,\
tracking_number,pro_number,weight_kg,charge_code,description,amount,quantity,rate
RNO-2024-03,2024-03-31,USD,1418.30,RENO3PL,Reno 3PL,WH/OUT/00042,1Z999AA10123456784,,2.4,\
pick_pack,"Pick and pack, 3 lines",4.50,3,1.50
RNO-2024-03,2024-03-31,USD,1418.30,,,WH/OUT/00042,,,,special_handling,Fragile wrap,6,,
RNO-2024-03,2024-03-31,USD,1418.30,,,WH/IN/00007,,,,receiving,Receiving 2 pallets,84.00,2,42
RNO-2024-03,2024-03-31,USD,1418.30,,,,,,,Storage,March storage (40 pallet positions),1200.00,40,30
RNO-2024-03,2024-03-31,USD,1418.30,,,,,,,other,Monthly account fee,123.80,,
INV-240311-09,2024-03-11,USD,187.45,LTLX,LTL Express Freight,WH/OUT/00044,,PRO4471501,310.5,\
freight,Line haul,150.00,,
INV-240311-09,2024-03-11,USD,187.45,LTLX,,WH/OUT/00044,,,,fuel,,33.60,,
INV-240311-09,2024-03-11,USD,187.45,,,WH/OUT/00044,,PRO4471501,,address_correction,,18.00,,
INV-240311-09,2024-03-11,USD,187.45,,,WH/OUT/00044,,,,discount,Contract discount,-14.15,,
"""


def _csv_shipment(ref=None, tracking=None, pro=None, weight=None, charges=()):
    return {
        "shipment_ref": ref,
        "tracking_number": tracking,
        "pro_number": pro,
        "bill_of_lading": None,
        "po_number": None,
        "weight_kg": weight,
        "shipper": None,
        "consignee": None,
        "charges": list(charges),
    }


EXPECTED_CSV = [
    {
        "invoice_number": "RNO-2024-03",
        "invoice_date": "2024-03-31",
        "currency": "USD",
        "total": 1418.3,
        "payment_method": None,
        "partner": {"code": "RENO3PL", "name": "Reno 3PL"},
        "bill_to": None,
        "pro_number": None,
        "shipments": [
            _csv_shipment(
                "WH/OUT/00042",
                "1Z999AA10123456784",
                weight=2.4,
                charges=[
                    _charge("pick_pack", "Pick and pack, 3 lines", 4.5, rate=1.5, quantity=3.0),
                    _charge("special_handling", "Fragile wrap", 6.0),
                ],
            ),
            _csv_shipment(
                "WH/IN/00007",
                charges=[
                    _charge("receiving", "Receiving 2 pallets", 84.0, rate=42.0, quantity=2.0)
                ],
            ),
            _csv_shipment(
                charges=[
                    _charge(
                        "storage",
                        "March storage (40 pallet positions)",
                        1200.0,
                        rate=30.0,
                        quantity=40.0,
                    ),
                    _charge("other", "Monthly account fee", 123.8),
                ]
            ),
        ],
    },
    {
        "invoice_number": "INV-240311-09",
        "invoice_date": "2024-03-11",
        "currency": "USD",
        "total": 187.45,
        "payment_method": None,
        "partner": {"code": "LTLX", "name": "LTL Express Freight"},
        "bill_to": None,
        "pro_number": None,
        "shipments": [
            _csv_shipment(
                "WH/OUT/00044",
                pro="PRO4471501",
                weight=310.5,
                charges=[
                    _charge("freight", "Line haul", 150.0),
                    _charge("fuel", None, 33.6),
                    _charge("address_correction", None, 18.0),
                    _charge("discount", "Contract discount", -14.15),
                ],
            )
        ],
    },
]


def _fix_counts(text):
    """Recompute SE01 (segments ST..SE) of every set of a sample edited line by line."""
    lines, start = [], None
    for line in text.splitlines(keepends=True):
        if line.startswith("ST*"):
            start = len(lines)
        elif line.startswith("SE*") and start is not None:
            count = len(lines) - start + 1
            line = re.sub(r"^SE\*\d+\*", f"SE*{count}*", line)
        lines.append(line)
    return "".join(lines)


def _variant(old, new, text=SAMPLE_210):
    """The sample with ``old`` (a unique piece of text) replaced, segment counts fixed."""
    assert text.count(old) == 1, old
    return _fix_counts(text.replace(old, new))


def _envelope(**overrides):
    values = {
        "sender_qualifier": "02",
        "sender_id": "LTLX",
        "receiver_qualifier": "ZZ",
        "receiver_id": "ACMEODOO",
        "interchange_control_number": 812,
        "group_control_number": 812,
        "date": dt.date(2024, 3, 12),
        "time": dt.time(6, 0),
    }
    values.update(overrides)
    return Envelope(**values)


def _csv_variant(old, new, text=SAMPLE_CSV):
    assert text.count(old) >= 1, old
    return text.replace(old, new, 1)


@tagged("standard", "at_install")  # explicit, so the tests also run outside odoo.addons
class TestFreightFormats(BaseCase):
    _validator = None

    @classmethod
    def validator(cls):
        if cls._validator is None:
            schema = json.loads(SCHEMA_PATH.read_text())
            Draft202012Validator.check_schema(schema)
            cls._validator = Draft202012Validator(
                schema, format_checker=Draft202012Validator.FORMAT_CHECKER
            )
        return cls._validator

    def assertValid(self, invoices):
        for invoice in invoices:
            errors = sorted(self.validator().iter_errors(invoice), key=lambda e: list(e.path))
            self.assertFalse(errors, [f"{'/'.join(map(str, e.path))}: {e.message}" for e in errors])
            freight_invoice.check_invoice(invoice)

    def parse(self, text):
        interchange, invoices = x12_210.parse_210_interchange(text)
        self.assertValid(invoices)
        return invoices

    def assertX12Error(self, text, *fragments):
        with self.assertRaises(X12ParseError) as caught:
            x12_210.parse_210_interchange(text)
        message = str(caught.exception)
        for fragment in fragments:
            self.assertIn(fragment, message)
        return caught.exception

    def assertCSVError(self, text, *fragments):
        with self.assertRaises(freight_csv.CSVParseError) as caught:
            freight_csv.parse_invoices_csv(text)
        message = str(caught.exception)
        for fragment in fragments:
            self.assertIn(fragment, message)
        return caught.exception

    # schema --------------------------------------------------------------------------------
    def test_schema_and_vocabulary(self):
        schema = self.validator().schema
        self.assertEqual(schema["$id"], "urn:logistics:schema:freight.invoice:v1")
        self.assertFalse(schema["additionalProperties"])
        charge = schema["properties"]["shipments"]["items"]["properties"]["charges"]["items"]
        self.assertEqual(charge["properties"]["code"]["enum"], list(freight_invoice.CHARGE_CODES))
        for code in freight_invoice.CHARGE_CODES:
            self.assertIn(code, schema["description"])
        # Every X12 code maps to a canonical code, and what the simulator writes reads back.
        for canonical, _meaning in x12_210.SPECIAL_CHARGES.values():
            self.assertIn(canonical, freight_invoice.CHARGE_CODES)
        for canonical, code in freight_invoices.L108_CODES.items():
            self.assertEqual(x12_210.SPECIAL_CHARGES[code][0], canonical)
        # A payload with an unknown field or a charge code outside the vocabulary is invalid.
        invoice = copy.deepcopy(EXPECTED_210[0])
        invoice["shipments"][0]["charges"][0]["code"] = "lunch"
        self.assertTrue(list(self.validator().iter_errors(invoice)))
        invoice = dict(EXPECTED_210[0], carrier="LTLX")
        self.assertTrue(list(self.validator().iter_errors(invoice)))
        # The consignee's address is personal data.
        consignee = schema["properties"]["shipments"]["items"]["properties"]["consignee"]
        self.assertTrue(consignee["properties"]["name"]["x-personal"])

    def test_check_invoice_json(self):
        """The webhook's JSON gets the same checks as the files (JSON pointer, both figures)."""
        invoice = copy.deepcopy(EXPECTED_210[0])
        self.assertIs(freight_invoice.check_invoice(invoice), invoice)
        invoice["total"] = 440.62
        with self.assertRaises(freight_invoice.FreightInvoiceError) as caught:
            freight_invoice.check_invoice(invoice)
        self.assertEqual(caught.exception.pointer, "/total")
        self.assertIn("the total is 440.62 but the charges add up to 430.62", str(caught.exception))
        invoice = dict(copy.deepcopy(EXPECTED_210[0]), currency="UDS")
        with self.assertRaises(freight_invoice.FreightInvoiceError) as caught:
            freight_invoice.check_invoice(invoice)
        self.assertEqual(str(caught.exception)[:10], "/currency:")
        invoice = copy.deepcopy(EXPECTED_210[0])
        invoice["shipments"][0]["charges"][2]["code"] = "lunch"
        with self.assertRaises(freight_invoice.FreightInvoiceError) as caught:
            freight_invoice.check_invoice(invoice)
        self.assertEqual(caught.exception.pointer, "/shipments/0/charges/2/code")
        invoice = copy.deepcopy(EXPECTED_210[0])
        invoice["shipments"][0]["charges"][2]["amount"] = 43.125
        with self.assertRaises(freight_invoice.FreightInvoiceError) as caught:
            freight_invoice.check_invoice(invoice)
        self.assertIn("more than 2 decimals", str(caught.exception))
        error = pickle.loads(pickle.dumps(caught.exception))
        self.assertEqual(error.pointer, "/shipments/0/charges/2/amount")

    # X12 210 -------------------------------------------------------------------------------
    def test_parse_210(self):
        interchange, invoices = x12_210.parse_210_interchange(SAMPLE_210)
        self.assertEqual((interchange.sender_qualifier, interchange.sender_id), ("02", "LTLX"))
        self.assertEqual(interchange.control_number, "000000731")
        (group,) = interchange.groups
        self.assertEqual((group.functional_id, group.control_number), ("IM", "731"))
        self.assertEqual([ts.control_number for ts in group.transaction_sets], ["0001", "0002"])
        self.assertEqual(invoices, EXPECTED_210)
        self.assertValid(invoices)
        # Bytes with CRLF line ends, other separators, no line breaks: the same invoices.
        self.assertEqual(self.parse(SAMPLE_210.replace("\n", "\r\n").encode()), EXPECTED_210)
        other = SAMPLE_210.replace("*", "|").replace(">", "^")
        self.assertEqual(self.parse(other), EXPECTED_210)
        self.assertEqual(self.parse(SAMPLE_210.replace("\n", "")), EXPECTED_210)
        # An already parsed interchange is accepted.
        self.assertEqual(x12_210.parse_210_interchange(interchange)[1], EXPECTED_210)

    def test_weights(self):
        def weight(text):
            return self.parse(text)[0]["shipments"][0]["weight_kg"]

        # Pounds to kilograms (L011 = L), kilograms as they are, other weight units.
        self.assertEqual(weight(SAMPLE_210), 566.99)
        self.assertEqual(weight(_variant("1250*B***2*PLT**L~", "1250*B***2*PLT**K~")), 1250.0)
        self.assertEqual(weight(_variant("1250*B***2*PLT**L~", "20000*B***2*PLT**O~")), 566.99)
        self.assertEqual(weight(_variant("1250*B***2*PLT**L~", "0.625*B***2*PLT**S~")), 566.99)
        # No L011: the B3 weight unit (B305), else pounds.
        self.assertEqual(weight(_variant("1250*B***2*PLT**L~", "1250*B***2*PLT~")), 566.99)
        text = _variant("1250*B***2*PLT**L~", "1250*B***2*PLT~")
        self.assertEqual(weight(_variant("*PP*L*", "*PP*K*", text)), 1250.0)
        self.assertEqual(weight(_variant("*PP*L*", "*PP**", text)), 566.99)
        # The billed weight wins over the gross weight; without a billed weight, all L0 add up.
        text = _variant("L0*1***1250*B***2*PLT**L~", "L0*1***600*G******L~\nL0*2***650*G******L~")
        self.assertEqual(weight(text), 566.99)
        # Without L0, the L3 weight (its L312 unit).
        text = _variant("L0*1***1250*B***2*PLT**L~\n", "")
        self.assertEqual(weight(text), 566.99)
        self.assertEqual(
            weight(_variant("L3*1250*B***43062*******L~", "L3*****43062~", text)), None
        )
        # Errors name the element.
        self.assertX12Error(
            _variant("1250*B***2*PLT**L~", "1250*B***2*PLT**M~"),
            "segment L0 (position 19), element L011",
            "weight unit 'M' is not a weight unit",
        )
        self.assertX12Error(
            _variant("*PP*L*", "*PP*X*"), "segment B3 (position 2), element B305", "'X'"
        )
        self.assertX12Error(
            _variant("L0*1***1250*", "L0*1***-1250*"),
            "segment L0 (position 19), element L004",
            "must not be negative",
        )
        self.assertX12Error(
            _variant("L0*1***1250*", "L0*1***12S0*"),
            "segment L0 (position 19), element L004",
            "weight '12S0' is not a number",
        )

    def test_line_items_and_charge_codes(self):
        """Several LX loops and several L1 per loop; every special charge code of the profile;
        L112 is the description, else the code's meaning."""
        amounts = {code: 100 + n for n, code in enumerate(x12_210.SPECIAL_CHARGES)}
        lines = []
        for n, code in enumerate(amounts, start=1):
            if n % 3 == 1:
                lines.append(f"LX*{n}~")
            described = f"****{code} ON PRO" if n % 2 else ""
            lines.append(f"L1*{n}***{amounts[code]}****{code}{described}~")
        total = sum(amounts.values())
        body = "\n".join(lines) + "\n"
        start = SAMPLE_210.index("LX*1~")
        end = SAMPLE_210.index("L3*1250")
        text = SAMPLE_210[:start] + body + SAMPLE_210[end:]
        text = text.replace("*43062", f"*{total}")
        invoice = self.parse(_fix_counts(text))[0]
        charges = invoice["shipments"][0]["charges"]
        self.assertEqual(len(charges), len(x12_210.SPECIAL_CHARGES))
        for n, (code, charge) in enumerate(zip(amounts, charges, strict=True), start=1):
            canonical, meaning = x12_210.SPECIAL_CHARGES[code]
            self.assertEqual(charge["code"], canonical)
            self.assertEqual(charge["amount"], amounts[code] / 100)
            self.assertEqual(charge["description"], f"{code} ON PRO" if n % 2 else meaning)
        self.assertEqual(invoice["total"], total / 100)
        self.assertEqual(invoice["shipments"][0]["weight_kg"], 566.99)  # the L3 weight

    def test_round_trip_simulator_210(self):
        """What the carrier simulator writes (written from the profile) reads back unchanged."""
        invoices = copy.deepcopy(EXPECTED_210)
        invoices[1]["shipments"][0]["consignee"]["code"] = "NW-TOR"
        invoices[1]["bill_to"] = dict(_party("Acme Canada"), code="ACME-CA")
        text = freight_invoices.build_210(invoices, _envelope(), set_control_number=17)
        self.assertTrue(text.startswith("ISA*00*"))
        self.assertIn("GS*IM*LTLX*ACMEODOO*20240312*0600*812*X*004010~ST*210*0017~", text)
        self.assertIn("B3**INV-240311-07*PRO4471209*PP*L*20240311*43062****LTLX~", text)
        self.assertIn("L1*2***-28875****DSC****DISCOUNT 60 PCT~", text)
        self.assertIn("L3*1250*B***43062*******L~", text)
        parsed = self.parse(text)
        # The writer has no "no code" line haul: it writes 400 where the sample has no L108.
        for invoice in invoices:
            invoice["shipments"][0]["charges"][0]["partner_code"] = "400"
        self.assertEqual(parsed, invoices)
        # Weights in kilograms.
        parsed = self.parse(freight_invoices.build_210(invoices, _envelope(), weight_unit="K"))
        self.assertEqual(parsed, invoices)
        # One invoice as a dict; a 3PL charge code or two shipments cannot be written.
        self.assertEqual(
            self.parse(freight_invoices.build_210(invoices[1], _envelope())), invoices[1:]
        )
        bad = copy.deepcopy(invoices[1])
        bad["shipments"][0]["charges"][0]["code"] = "pick_pack"
        with self.assertRaises(X12BuildError):
            freight_invoices.build_210(bad, _envelope())
        bad = copy.deepcopy(invoices[1])
        bad["shipments"].append(bad["shipments"][0])
        with self.assertRaises(X12BuildError):
            freight_invoices.build_210(bad, _envelope())

    def test_totals_must_add_up(self):
        # L3 against its L1 charges: both figures and the L3 position.
        error = self.assertX12Error(
            _variant("L3*1250*B***43062*", "L3*1250*B***51240*"),
            "segment L3 (position 27), element L305: L3 total 512.40 but the L1 charges add up "
            "to 430.62 [transaction set 210, control number 0001]",
        )
        self.assertEqual((error.segment_id, error.segment_position), ("L3", 27))
        self.assertEqual((error.element_position, error.bad_value), (5, "51240"))
        self.assertEqual(error.group_control_number, "731")
        # B3 amount due against the L3 total.
        self.assertX12Error(
            _variant("20240311*43062*", "20240311*43162*"),
            "segment B3 (position 2), element B307",
            "net amount due 431.62 but the L3 total is 430.62",
        )
        # A wrong invoice as a carrier writes it: the total says 500.00.
        invoice = copy.deepcopy(EXPECTED_210[1])
        invoice["total"] = 500.0
        self.assertX12Error(
            freight_invoices.build_210(invoice, _envelope()),
            "segment L3 (position 18), element L305",
            "L3 total 500.00 but the L1 charges add up to 328.50",
        )

    def test_unknown_charge_code(self):
        """An open code list: a code the profile does not map is kept with its code (as
        'other', described by L112, else by its meaning, else by the code); only a value
        that is not a code is an error."""
        invoice = self.parse(
            _variant(
                "L1*2***7500****LFT~\nL1*2***9500****RES~",
                "L1*2***7500****XYZ~\nL1*2***9500****ENS****ENERGY 19.8 PCT~",
            )
        )[0]
        charges = invoice["shipments"][0]["charges"]
        self.assertEqual(
            charges[3], _charge("other", "Special charge XYZ", 75.0, partner_code="XYZ")
        )
        self.assertEqual(charges[4], _charge("other", "ENERGY 19.8 PCT", 95.0, partner_code="ENS"))
        self.assertEqual(invoice["total"], 430.62)
        self.assertFalse(list(self.validator().iter_errors(invoice)))
        self.assertIs(freight_invoice.check_invoice(invoice), invoice)
        error = self.assertX12Error(
            _variant("L1*2***7500****LFT~", "L1*2***7500****LIFT~"),
            "segment L1 (position 24), element L108",
            "special charge code 'LIFT' is not a code (1 to 3 capital letters or digits",
            "[transaction set 210, control number 0001]",
        )
        self.assertEqual(error.element_error_code, ELEMENT_INVALID_CODE)
        self.assertEqual(error.bad_value, "LIFT")

    def test_bad_amounts(self):
        error = self.assertX12Error(
            _variant("L1*1*38.5*CW*48125~", "L1*1*38.5*CW*481.25~"),
            "segment L1 (position 20), element L104",
            "charge '481.25' is not an X12 N2 amount",
            "51240 means 512.40",
        )
        self.assertEqual(error.element_error_code, ELEMENT_INVALID_CHARACTER)
        self.assertX12Error(
            _variant("L1*1*38.5*CW*48125~", "L1*1*38.5*CW~"),
            "segment L1 (position 20), element L104",
            "charge is missing",
        )
        self.assertX12Error(
            _variant("20240311*43062*", "20240311*USD430*"),
            "segment B3 (position 2), element B307",
            "net amount due 'USD430'",
        )
        self.assertX12Error(
            _variant("L3*1250*B***43062*", "L3*1250*B****"),
            "segment L3 (position 27), element L305",
            "total charges is missing",
        )
        self.assertX12Error(
            _variant("L1*1*38.5*CW*", "L1*1*3B.5*CW*"),
            "segment L1 (position 20), element L102",
            "freight rate '3B.5' is not a number",
        )

    def test_missing_segments(self):
        error = self.assertX12Error(
            _variant("B3**INV-240311-07*PRO4471209*PP*L*20240311*43062****LTLX~\n", ""),
            "segment B3: the B3 beginning segment for carrier's invoice is missing",
        )
        self.assertEqual(error.segment_error_code, "3")
        self.assertX12Error(
            _variant("L3*1250*B***43062*******L~\n", ""),
            "segment L3: the L3 total weight and charges segment is missing",
        )
        start = SAMPLE_210.index("LX*1~")
        end = SAMPLE_210.index("L3*1250")
        text = _fix_counts(SAMPLE_210[:start] + SAMPLE_210[end:])
        self.assertX12Error(text, "segment L1:", "no L1 rate and charges segment")
        error = self.assertX12Error(
            _variant("B3**INV-240311-07*", "B3***"),
            "segment B3 (position 2), element B302",
            "invoice number is missing",
        )
        self.assertEqual(error.element_error_code, ELEMENT_MISSING)
        self.assertX12Error(
            _variant("*PP*L*20240311*", "*PP*L*20240231*"),
            "segment B3 (position 2), element B306",
            "invoice date '20240231' is not a valid date",
        )
        self.assertX12Error(
            _variant("C3*USD~", "C3*USD~\nB3**INV-2*PRO2*PP**20240311*1****LTLX~"),
            "segment B3 (position 4)",
            "a second B3 segment",
        )

    def test_currency(self):
        # No C3: US dollars.
        invoice = self.parse(_variant("C3*USD~\n", ""))[0]
        self.assertEqual(invoice["currency"], "USD")
        error = self.assertX12Error(
            _variant("C3*USD~", "C3*UDS~"),
            "segment C3 (position 3), element C301",
            "currency code 'UDS' is not an ISO 4217 currency code",
        )
        self.assertEqual(error.element_error_code, ELEMENT_INVALID_CODE)
        self.assertX12Error(_variant("C3*USD~", "C3*usd~"), "element C301", "'usd'")
        self.assertX12Error(_variant("C3*USD~", "C3~"), "element C301", "currency code is missing")

    def test_references_and_parties(self):
        # One shipment per set: a second, different N9*SI is refused.
        self.assertX12Error(
            _variant("N9*PO*S00042~", "N9*PO*S00042~\nN9*SI*WH/OUT/00099~"),
            "segment N9 (position 7), element N902",
            "differs from 'WH/OUT/00042' (position 4)",
        )
        # The carrier's PRO in N9*CN for the shipment, B303 stays the invoice's.
        invoice = self.parse(_variant("N9*PO*S00042~", "N9*PO*S00042~\nN9*CN*PRO-X~"))[0]
        self.assertEqual(invoice["pro_number"], "PRO4471209")
        self.assertEqual(invoice["shipments"][0]["pro_number"], "PRO-X")
        # Without SI nor BM the shipment is found by its PRO or tracking number.
        text = _variant("N9*SI*WH/OUT/00042~\nN9*BM*BOL-00042~\n", "")
        shipment = self.parse(text)[0]["shipments"][0]
        self.assertIsNone(shipment["shipment_ref"])
        self.assertEqual(shipment["pro_number"], "PRO4471209")
        # Ship-from / ship-to are the fallbacks of shipper / consignee; unknown payment codes.
        text = _variant("N1*SH*Acme", "N1*SF*Acme")
        self.assertEqual(
            self.parse(text)[0]["shipments"][0]["shipper"]["name"], "Acme Distribution Reno"
        )
        self.assertEqual(
            self.parse(_variant("*PP*L*", "*TP*L*"))[0]["payment_method"], "third_party"
        )
        self.assertEqual(self.parse(_variant("*PP*L*", "*NC*L*"))[0]["payment_method"], "other")

    def test_envelope_errors_and_truncation(self):
        self.assertX12Error(
            SAMPLE_210.replace("GE*2*731~", "GE*1*731~"),
            "segment GE (position 48), element GE01",
            "declares 1 transaction set(s) but contains 2",
        )
        self.assertX12Error(SAMPLE_210.replace("SE*28*0001~", "SE*27*0001~"), "declares 27")
        cut = SAMPLE_210[: SAMPLE_210.index("L3*1250") + 6]
        self.assertX12Error(cut, "segment L3", "ends in the middle of this segment", "truncated")
        cut = SAMPLE_210[: SAMPLE_210.index("ST*210*0002")]
        self.assertX12Error(cut, "GE trailer is missing", "truncated")
        self.assertX12Error("", "empty")
        # Any prefix of the file is a clear X12 error, never an IndexError or a wrong invoice.
        complete = SAMPLE_210.rstrip()
        for length in range(0, len(complete) - 1, 7):
            with self.assertRaises(X12ParseError, msg=f"prefix of {length} characters"):
                x12_210.parse_210_interchange(complete[:length])
        # Another transaction set in the file.
        text = SAMPLE_210.replace("ST*210*0002~", "ST*214*0002~")
        error = self.assertX12Error(text, "transaction set '214' is not supported (supported: 210)")
        self.assertEqual(error.set_control_number, "0002")

    def test_one_bad_invoice_does_not_stop_the_others(self):
        text = _variant("L1*2***8100****RCL~", "L1*2***8100****RD-~")
        with self.assertRaises(X12ParseError):
            x12_210.parse_210_interchange(text)
        interchange, results = x12_210.parse_210_sets(text)
        (ts1, invoice1, error1), (ts2, invoice2, error2) = results
        self.assertEqual((ts1.control_number, invoice1, error1), ("0001", EXPECTED_210[0], None))
        self.assertEqual((ts2.control_number, invoice2), ("0002", None))
        self.assertIn("segment L1 (position 15), element L108", str(error2))
        self.assertEqual(error2.group_control_number, "731")
        # The 997 accepts the first set and rejects the second.
        ack = build_997(interchange, errors=[error2], envelope=_envelope(sender_id="ACMEODOO"))
        self.assertIn("AK2*210*0001~AK5*A~AK2*210*0002~AK3*L1*15**8~AK4*8**7*RD-~AK5*R", ack)
        self.assertIn("AK9*P*2*2*1~", ack)
        # Envelope errors still stop the file; another transaction set is an error entry.
        with self.assertRaises(X12ParseError):
            x12_210.parse_210_sets(SAMPLE_210.replace("SE*17*0002~", "SE*16*0002~"))
        text = SAMPLE_210.replace("ST*210*0002~", "ST*214*0002~")
        _interchange, results = x12_210.parse_210_sets(text)
        self.assertEqual(results[0][1], EXPECTED_210[0])
        self.assertIn("transaction set '214' is not supported", str(results[1][2]))

    def test_readme_examples(self):
        """The examples of readme/FORMATS.md are the samples of these tests."""
        readme = (SCHEMA_PATH.parent.parent / "readme" / "FORMATS.md").read_text()
        blocks = re.findall(r"```[a-z]*\n(.*?)```", readme, re.S)
        x12_example = next(block for block in blocks if block.startswith("ISA*"))
        self.assertEqual(self.parse(x12_example), EXPECTED_210)
        csv_example = next(block for block in blocks if block.startswith("invoice_number,"))
        self.assertEqual(freight_csv.parse_invoices_csv(csv_example), EXPECTED_CSV)

    # CSV -----------------------------------------------------------------------------------
    def test_parse_csv(self):
        invoices = freight_csv.parse_invoices_csv(SAMPLE_CSV)
        self.assertEqual(invoices, EXPECTED_CSV)
        self.assertValid(invoices)
        # Bytes with a byte-order mark and CRLF, columns in another order, an unknown column.
        data = ("\ufeff" + SAMPLE_CSV.replace("\n", "\r\n")).encode()
        self.assertEqual(freight_csv.parse_invoices_csv(data), EXPECTED_CSV)
        minimal = (
            "Amount,Charge_Code,Invoice_Total,Currency,Invoice_Date,Invoice_Number,Note\n"
            "12.5,fuel,12.50,EUR,2024-04-02,F-1,x\n"
        )
        (invoice,) = freight_csv.parse_invoices_csv(minimal)
        self.assertEqual(
            invoice["shipments"], [_csv_shipment(charges=[_charge("fuel", None, 12.5)])]
        )
        self.assertValid([invoice])

    def test_round_trip_simulator_csv(self):
        invoices = EXPECTED_CSV + EXPECTED_210
        text = freight_invoices.build_csv(invoices)
        parsed = freight_csv.parse_invoices_csv(text)
        expected = copy.deepcopy(invoices)
        for invoice in expected[2:]:  # what the CSV layout cannot carry
            invoice.update(payment_method=None, bill_to=None, pro_number=None)
            for shipment in invoice["shipments"]:
                shipment.update(bill_of_lading=None, po_number=None, shipper=None, consignee=None)
                for charge in shipment["charges"]:
                    del charge["partner_code"]  # a 210's own codes
        self.assertEqual(parsed, expected)
        self.assertValid(parsed)

    def test_csv_errors_name_line_and_column(self):
        header = SAMPLE_CSV.splitlines(keepends=True)[0]
        cases = [
            # (text, fragments)
            (header.replace(",amount,", ",price,"), ("line 1, column amount", "required column")),
            ("", ("line 1", "empty")),
            (header, ("line 2", "no data rows")),
            (
                _csv_variant(
                    "\nRNO-2024-03,2024-03-31,USD,1418.30,,,WH/OUT",
                    "\n,2024-03-31,USD,1418.30,,,WH/OUT",
                ),
                ("line 3, column invoice_number", "a value is required"),
            ),
            (
                _csv_variant("2024-03-31", "31/03/2024"),
                ("line 2, column invoice_date", "'31/03/2024' is not a date"),
            ),
            (_csv_variant("2024-03-31", "2024-02-30"), ("line 2, column invoice_date",)),
            (_csv_variant("USD", "UDS"), ("line 2, column currency", "'UDS' is not an ISO 4217")),
            (_csv_variant("USD", "usd"), ("line 2, column currency",)),
            (
                _csv_variant(",receiving,", ",pallet_fee,"),
                ("line 4, column charge_code", "unknown charge code 'pallet_fee'", "pick_pack"),
            ),
            (
                _csv_variant(",Fragile wrap,6,", ",Fragile wrap,six,"),
                ("line 3, column amount", "'six' is not a number"),
            ),
            (
                _csv_variant(",Fragile wrap,6,", ",Fragile wrap,6.005,"),
                ("line 3, column amount", "'6.005' has more than 2 decimals"),
            ),
            (
                _csv_variant(",Fragile wrap,6,", ",Fragile wrap,,"),
                ("line 3, column amount", "required"),
            ),
            (
                _csv_variant(
                    "USD,1418.30,,,WH/OUT/00042,,,,special", "USD,1418.40,,,WH/OUT/00042,,,,special"
                ),
                (
                    "line 3, column invoice_total",
                    "'1418.40' differs from '1418.30' given on line 2",
                ),
            ),
            (
                _csv_variant(
                    "USD,1418.30,,,WH/OUT/00042,,,,special", "USD,,,,WH/OUT/00042,,,,special"
                ),
                ("line 3, column invoice_total", "a number is required"),
            ),
            (
                _csv_variant(",,,WH/OUT/00042,,,,special", ",,Reno Three,WH/OUT/00042,,,,special"),
                ("line 3, column partner_name", "differs from 'Reno 3PL' given on line 2"),
            ),
            (
                _csv_variant("WH/OUT/00042,,,,special", "WH/OUT/00042,1Z000,,,special"),
                ("line 3, column tracking_number", "differs from '1Z999AA10123456784'"),
            ),
            (_csv_variant(",2.4,", ",-2.4,"), ("line 2, column weight_kg", "must be at least 0")),
            (_csv_variant(",84.00,2,42", ",84.00,two,42"), ("line 4, column quantity", "'two'")),
            (
                _csv_variant(",Fragile wrap,6,,", ",Fragile wrap,6,,,"),
                ("line 3:", "the row has 16 field(s)"),
            ),
        ]
        for text, fragments in cases:
            with self.subTest(fragments[0]):
                self.assertCSVError(text, *fragments)

    def test_csv_totals_must_add_up(self):
        text = SAMPLE_CSV.replace("1418.30", "1428.30")
        error = self.assertCSVError(
            text,
            "line 2, column invoice_total: invoice RNO-2024-03 total 1428.30 but the charges "
            "add up to 1418.30 (lines 2, 3, 4, 5, 6)",
        )
        self.assertEqual((error.line, error.column, error.value), (2, "invoice_total", "1428.30"))
        # The second invoice's rows start on line 7.
        text = SAMPLE_CSV.replace("187.45", "178.45")
        self.assertCSVError(
            text, "line 7, column invoice_total", "total 178.45", "add up to 187.45"
        )
        # A wrong invoice as a 3PL writes it.
        invoice = copy.deepcopy(EXPECTED_CSV[1])
        invoice["total"] = 200
        self.assertCSVError(
            freight_invoices.build_csv([invoice]),
            "line 2, column invoice_total",
            "total 200.00 but the charges add up to 187.45",
        )
