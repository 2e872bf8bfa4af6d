"""UN/EDIFACT for customs brokers: the CUSDEC Odoo writes and the CUSRES it reads, no database
needed; and the customs broker simulator (its own EDIFACT, its REST API and webhooks, its
SFTP side) over real loopback servers."""

import base64
import copy
import datetime as dt
import hashlib
import hmac
import json
import pickle
import re
import uuid
from pathlib import Path

import requests
from jsonschema import Draft202012Validator
from logistics_simulators import customs_broker
from logistics_simulators.http_server import CuedHTTPServer
from logistics_simulators.sftp_server import SFTPTestServer
from logistics_simulators.waiting import wait_until

from odoo.tests import BaseCase, tagged

from odoo.addons.logistics_integration_base.transport import sftp

from ..formats import edifact

SCHEMA_DIR = Path(__file__).resolve().parent.parent / "schemas"
CLOUDEVENTS_SCHEMA = (
    Path(__file__).resolve().parents[2] / "logistics_integration_base" / "schemas"
) / "cloudevents.v1.json"
ISO_UTC = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}Z$")
PREPARED_AT = dt.datetime(2026, 3, 14, 9, 30, tzinfo=dt.timezone.utc)

# A machine-builder in Hamburg exports a press and spare valves to California by sea.
EXPORT = {
    "reference": "CD/2026/00017",
    "version": 1,
    "direction": "export",
    "transfer": "WH/OUT/00042",
    "order": "S00042",
    "exporter": {
        "name": "Nordwerk Maschinenbau GmbH & Co. KG (Werk Hamburg-Harburg)",
        "eori": "DE123456789012345",
        "street": "Schlachthofstraße 12",
        "city": "Hamburg",
        "zip": "21079",
        "country_code": "DE",
    },
    "importer": {
        "name": "Pacific Coast Fabrication Inc.",
        "eori": None,
        "street": "1200 Harbor Blvd",
        "city": "Long Beach",
        "zip": "90802",
        "country_code": "US",
    },
    "declarant": {
        "name": "Hanse Customs Brokers GmbH",
        "eori": "DE987654321000000",
        "street": "Am Sandtorkai 5",
        "city": "Hamburg",
        "zip": "20457",
        "country_code": "DE",
    },
    "incoterm": {"code": "FCA", "place": "Hamburg"},
    "currency": "USD",
    "exchange_rate": 0.9215,
    "transport_mode": "sea",
    "country_of_dispatch": "DE",
    "country_of_destination": "US",
    "packages": 3,
    "gross_weight_kg": 1250.5,
    "net_weight_kg": 1180,
    "total_value": 12500,
    "lines": [
        {
            "line": 1,
            "hs_code": "8462610000",
            "origin": "DE",
            "description": "Hydraulic press, 40 t, with control cabinet and safety light "
            "curtain (model HP-40)",
            "quantity": 1,
            "uom": "Units",
            "net_weight_kg": 1000,
            "gross_weight_kg": 1060,
            "value": 9000,
        },
        {
            "line": 2,
            "hs_code": "848180",
            "origin": "CN",
            "description": "Solenoid valves, spare parts",
            "quantity": 40,
            "uom": "Units",
            "net_weight_kg": 180,
            "gross_weight_kg": 190.5,
            "value": 3500,
        },
    ],
}

EXPORT_SEGMENTS = [
    "UNB+UNOC:3+ACMEODOO:ZZ+HANSEBRK:ZZ+260314:0930+CD000017",
    "UNH+1+CUSDEC:D:96B:UN",
    "BGM+830+CD/2026/00017+9",
    "LOC+35+DE",
    "LOC+28+US",
    "DTM+137:202603140930:203",
    "MEA+WT+G+KGM:1250.5",
    "MEA+WT+AAL+KGM:1180",
    "RFF+ABE:CD/2026/00017::1",
    "RFF+DQ:WH/OUT/00042",
    "RFF+VN:S00042",
    "TDT+11++1",
    "NAD+EX+DE123456789012345::ZZZ++Nordwerk Maschinenbau GmbH & Co. KG:(Werk "
    "Hamburg-Harburg)+Schlachthofstraße 12+Hamburg++21079+DE",
    "NAD+IM+++Pacific Coast Fabrication Inc.+1200 Harbor Blvd+Long Beach++90802+US",
    "NAD+DT+DE987654321000000::ZZZ++Hanse Customs Brokers GmbH+Am Sandtorkai 5+Hamburg++20457+DE",
    "TOD+6++FCA",
    "LOC+1+:::Hamburg",
    "MOA+39:12500:USD",
    "CUX+2:USD:9++0.9215",
    "UNS+D",
    "CST+1+8462610000:169",
    "FTX+AAA+++Hydraulic press, 40 t, with control cabinet and safety light curtain:(model HP-40)",
    "LOC+27+DE",
    "MEA+WT+AAL+KGM:1000",
    "MEA+WT+G+KGM:1060",
    "MEA+AAR++PCE:1",
    "MOA+38:9000:USD",
    "CST+2+848180:169",
    "FTX+AAA+++Solenoid valves, spare parts",
    "LOC+27+CN",
    "MEA+WT+AAL+KGM:180",
    "MEA+WT+G+KGM:190.5",
    "MEA+AAR++PCE:40",
    "MOA+38:3500:USD",
    "UNS+S",
    "CNT+11:3",
    "CNT+5:2",
    "UNT+37+1",
    "UNZ+1+CD000017",
]


def cusres(unb, *messages):
    """A broker's CUSRES interchange, one segment per line as many brokers write them: UNA,
    UNB whose preparation date/time and control reference are ``unb``, each message between
    its UNH and UNT (segments counted), UNZ. A message is the text of its segments, numbered
    from 1, or ``(message reference, text)``."""
    reference = unb.rsplit("+", 1)[1]
    text = f"UNA:+.? '\nUNB+UNOC:3+HANSEBRK:ZZ+ACMEODOO:ZZ+{unb}'\n"
    for number, message in enumerate(messages, 1):
        if isinstance(message, tuple):
            number, message = message
        count = len(message.splitlines()) + 2
        text += f"UNH+{number}+CUSRES:D:96B:UN'\n{message}UNT+{count}+{number}'\n"
    return text + f"UNZ+{len(messages)}+{reference}'\n"


# One CUSRES per status, as a broker writes them.
ACCEPTED = cusres(
    "260314:0942+HB26031400071",
    """\
BGM+962+26DE4F7A91C03B2E81+9'
DTM+137:202603140941:203'
GIS+ACC::ZZZ'
RFF+ABE:CD/2026/00017::1'
NAD+DT+DE987654321000000::ZZZ++Hanse Customs Brokers GmbH'
""",
)

REJECTED = cusres(
    "260314:1004+HB26031400072",
    """\
BGM+962++9'
DTM+137:202603141003:203'
FTX+ACB+++Declaration not accepted by customs office DE004851 (Hamburg-Waltershof)?: 2:errors'
GIS+REJ::ZZZ'
RFF+ABE:CD/2026/00017::1'
ERP+2'
RFF+LI:1'
ERC+R0712::ZZZ'
FTX+AAO+++Commodity code 8462610000 requires the additional code Y900 (dual-use?::not listed)'
ERP+2'
RFF+LI:2'
ERC+R0455::ZZZ'
FTX+AAO+++Net mass 180 kg exceeds gross mass?; check item 2'
""",
)

DOCUMENTS_REQUIRED = cusres(
    "260314:1121+HB26031400073",
    (
        "7731",
        """\
BGM+962+26DE4F7A91C03B2E81+9'
DTM+137:202603141120:203'
FTX+ACB+++Held for documentary check?: proof of preferential origin and the'
FTX+ACB+++signed commercial invoice are required before release'
GIS+DOC::ZZZ'
RFF+ABE:CD/2026/00017::2'
DOC+N954::ZZZ:Movement certificate EUR.1'
DOC+N935::ZZZ'
FTX+DOC+++Invoice on the basis of which the customs value is declared, signed by the:exporter'
""",
    ),
)

INSPECTION = cusres(
    "260314:1305+HB26031400074",
    """\
BGM+962+26DE4F7A91C03B2E81+9'
DTM+137:202603141304:203'
FTX+ACB+++Physical examination ordered (risk profile 7)?::present the goods at gate 4'
GIS+INS::ZZZ'
RFF+ABE:CD/2026/00017::2'
""",
)

# Released import: duty and import VAT; seconds in the date (format 204), CRLF line ends.
RELEASED = cusres(
    "260314:1547+HB26031400075",
    """\
BGM+962+26DE9K2M4P7Q1R8T5W+9'
DTM+137:20260314154612:204'
GIS+REL::ZZZ'
RFF+ABE:CD/2026/00021::1'
TAX+5+CUD'
MOA+161:562.50:EUR'
TAX+7+VAT'
MOA+161:2481.88:EUR'
TAX+6+OTH'
MOA+161:35:EUR'
""",
).replace("\n", "\r\n")

CANCELLED = cusres(
    "260314:1710+HB26031400076",
    """\
BGM+962+26DE4F7A91C03B2E81+9'
DTM+137:202603141709:203'
FTX+ACB+++Declaration invalidated at the declarant?'s request (shipment cancelled)'
GIS+CAN::ZZZ'
RFF+ABE:CD/2026/00017::2'
""",
)

TWO_MESSAGES = cusres(
    "260314:0815+HB26031500001",
    """\
BGM+962+26DE1A2B3C4D5E6F7G+9'
DTM+137:202603150810:203'
GIS+ACC::ZZZ'
RFF+ABE:CD/2026/00022::1'
""",
    """\
BGM+962+26DE1A2B3C4D5E6F7G+9'
DTM+137:202603150814:203'
GIS+REL::ZZZ'
RFF+ABE:CD/2026/00022::1'
""",
)


# the second message names no declaration: no RFF+ABE, an empty BGM 1004
_head, _tail = TWO_MESSAGES.rsplit("BGM+962+26DE1A2B3C4D5E6F7G+9'", 1)
_tail = _tail.replace("RFF+ABE:CD/2026/00022::1'\n", "").replace("UNT+6+2", "UNT+5+2")
SECOND_WITHOUT_REFERENCE = _head + "BGM+962++9'" + _tail


def status(reference, version, state, broker_reference, event_time, **extra):
    return {
        "reference": reference,
        "version": version,
        "status": state,
        "broker_reference": broker_reference,
        "event_time": event_time,
        "reason": None,
        "errors": [],
        "documents_requested": [],
        "duties": [],
        **extra,
    }


EXPORT_MRN = "26DE4F7A91C03B2E81"


def export_status(version, state, event_time, broker_reference=EXPORT_MRN, **extra):
    """Canonical status of the export declaration CD/2026/00017 (the CUSRES fixtures')."""
    return status("CD/2026/00017", version, state, broker_reference, event_time, **extra)


def without(text, segment):
    """``text`` without the segment line starting ``segment``, the UNT of its message counting
    one segment less."""
    start = text.index("\n" + segment) + 1
    end = text.index("\n", start) + 1
    unt = re.compile(r"UNT\+(\d+)").search(text, end)
    return text[:start] + text[end : unt.start()] + f"UNT+{int(unt[1]) - 1}" + text[unt.end() :]


def segments(text):
    """Segments of an interchange written by ``build_cusdec`` (UNA checked and left out),
    without their terminator; released characters stay released."""
    assert text.startswith("UNA:+.? '"), text[:20]
    body = text[len("UNA:+.? '") :]
    found = re.findall(r"(?:\?.|[^'?])+'", body)
    assert "".join(found) == body, "the interchange is not a sequence of segments"
    return [s[:-1] for s in found]


class EdifactCase(BaseCase):
    _validators = {}

    def assertValid(self, schema_name, payload):
        """Validate against the module's JSON Schema (with FORMAT_CHECKER)."""
        validator = self._validators.get(schema_name)
        if validator is None:
            schema = json.loads((SCHEMA_DIR / f"{schema_name}.v1.json").read_text())
            Draft202012Validator.check_schema(schema)
            validator = Draft202012Validator(
                schema, format_checker=Draft202012Validator.FORMAT_CHECKER
            )
            self._validators[schema_name] = validator
        errors = sorted(validator.iter_errors(payload), key=lambda e: [str(p) for p in e.path])
        self.assertFalse(errors, [f"{'/'.join(map(str, e.path))}: {e.message}" for e in errors])
        if payload.get("event_time") is not None:
            self.assertRegex(payload["event_time"], ISO_UTC)

    def assertEdifactError(self, text, segment, position, *fragments):
        with self.assertRaises(edifact.EdifactError) as caught:
            edifact.parse_cusres(text)
        error = caught.exception
        self.assertEqual((error.segment, error.position), (segment, position), str(error))
        for fragment in fragments:
            self.assertIn(fragment, str(error))
        return error

    def assertEdifactErrors(self, cases):
        """:meth:`assertEdifactError` for each ``(text, segment, position, fragment)``."""
        for text, segment, position, fragment in cases:
            with self.subTest(fragment=fragment):
                self.assertEdifactError(text, segment, position, fragment)

    def build(self, payload=EXPORT, ref="CD000017", prepared_at=PREPARED_AT):
        return edifact.build_cusdec(payload, ref, "ACMEODOO", "HANSEBRK", prepared_at)


@tagged("standard", "at_install")  # explicit, so the tests also run outside odoo.addons
class TestEdifact(EdifactCase):
    # CUSDEC --------------------------------------------------------------------------------
    def test_cusdec_export_segment_by_segment(self):
        text = self.build()
        self.assertTrue(text.startswith("UNA:+.? 'UNB+"), "UNA then UNB, no line breaks")
        self.assertNotIn("\n", text)
        found = segments(text)
        self.assertEqual(found, EXPORT_SEGMENTS)
        # UNT counts UNH..UNT, UNZ the messages; both carry their opening reference.
        unh, unt = found.index("UNH+1+CUSDEC:D:96B:UN"), found.index("UNT+37+1")
        self.assertEqual(unt - unh + 1, 37)
        self.assertEqual(found[-1], "UNZ+1+CD000017")
        # UNOC is ISO 8859-1: the file encodes as Latin-1 (ß stays ß).
        self.assertIn("Schlachthofstraße".encode("latin-1"), text.encode("latin-1"))

    def test_cusdec_dates_are_utc(self):
        berlin = dt.timezone(dt.timedelta(hours=1))
        text = self.build(prepared_at=dt.datetime(2026, 3, 14, 10, 30, tzinfo=berlin))
        self.assertIn("+260314:0930+", text)
        self.assertIn("DTM+137:202603140930:203'", text)
        naive = self.build(prepared_at=dt.datetime(2026, 3, 14, 9, 30))
        self.assertEqual(naive, self.build())

    def test_cusdec_escapes_separators_and_release_character(self):
        payload = copy.deepcopy(EXPORT)
        payload["importer"]["name"] = "O'Neil + Sons: Tools? Ltd"
        payload["importer"]["street"] = "Pier 4, Berth 'C'"
        payload["lines"][1]["description"] = 'Valves 1/2" (3:1 ratio) + seals?'
        payload["transfer"] = "WH/OUT/00042+A"
        text = self.build(payload)
        found = segments(text)
        self.assertIn(
            "NAD+IM+++O?'Neil ?+ Sons?: Tools?? Ltd+Pier 4, Berth ?'C?'+Long Beach++90802+US",
            found,
        )
        self.assertIn('FTX+AAA+++Valves 1/2" (3?:1 ratio) ?+ seals??', found)
        self.assertIn("RFF+DQ:WH/OUT/00042?+A", found)
        self.assertIn("UNT+37+1", found, "escaping adds no segment")
        # The broker reads the values back unchanged.
        declaration = customs_broker.parse_cusdec(text)
        self.assertEqual(declaration["importer"]["name"], "O'Neil + Sons: Tools? Ltd")
        self.assertEqual(declaration["importer"]["street"], "Pier 4, Berth 'C'")
        self.assertEqual(declaration["lines"][1]["description"], payload["lines"][1]["description"])
        self.assertEqual(declaration["transfer"], "WH/OUT/00042+A")

    def test_cusdec_amendment_is_a_replacement(self):
        payload = copy.deepcopy(EXPORT)
        payload.update(version=2, packages=4, gross_weight_kg=1262.5)
        found = segments(self.build(payload, ref="CD000018"))
        self.assertEqual(found[2], "BGM+830+CD/2026/00017+5", "5 = replacement")
        self.assertIn("RFF+ABE:CD/2026/00017::2", found)
        self.assertIn("MEA+WT+G+KGM:1262.5", found)
        self.assertIn("CNT+11:4", found)
        self.assertEqual(found[-1], "UNZ+1+CD000018")
        self.assertEqual(customs_broker.parse_cusdec(self.build(payload))["version"], 2)

    def test_cusdec_cancellation_is_function_1(self):
        cancellation = {
            "reference": "CD/2026/00017",
            "version": 2,
            "direction": "export",
            "broker_reference": "26DE7K3Q9M2XW81B4C",
            "reason": "Order withdrawn by the customer: the goods stay in Hamburg",
        }
        self.assertValid("customs.cancel", cancellation)
        text = edifact.build_cusdec_cancellation(
            cancellation, "CD000019", "ACMEODOO", "HANSEBRK", PREPARED_AT
        )
        found = segments(text)
        self.assertEqual(
            found[2:9],
            [
                "BGM+830+CD/2026/00017+1",
                f"DTM+137:{PREPARED_AT:%Y%m%d%H%M}:203",
                "FTX+ACB+++Order withdrawn by the customer?: the goods stay in Hamburg",
                "RFF+ABE:CD/2026/00017::2",
                "RFF+AAE:26DE7K3Q9M2XW81B4C",
                "UNS+D",
                "UNS+S",
            ],
        )
        self.assertEqual(found[-2], "UNT+9+1")
        self.assertEqual(found[-1], "UNZ+1+CD000019")
        # the broker reads it back with its own parser
        envelope, read = customs_broker.read_cusdec(text)
        self.assertEqual(envelope["function"], "cancellation")
        self.assertEqual(read, cancellation)
        # before customs registered it: no MRN; an import is a 929
        cancellation.update(broker_reference=None, direction="import")
        found = segments(
            edifact.build_cusdec_cancellation(
                cancellation, "CD000020", "ACMEODOO", "HANSEBRK", PREPARED_AT
            )
        )
        self.assertIn("BGM+929+CD/2026/00017+1", found)
        self.assertFalse([s for s in found if s.startswith("RFF+AAE")])
        with self.assertRaisesRegex(edifact.EdifactError, "reason is missing"):
            edifact.build_cusdec_cancellation(
                dict(cancellation, reason=""), "CD000021", "ACMEODOO", "HANSEBRK", PREPARED_AT
            )

    def test_interchange_sender_and_reference_name_the_interchange(self):
        text = self.build()
        self.assertEqual(edifact.interchange_reference(text), "CD000017")
        self.assertEqual(edifact.interchange_sender(text), "ACMEODOO:ZZ")
        self.assertEqual(edifact.interchange_sender(text.encode("latin-1")), "ACMEODOO:ZZ")
        self.assertIsNone(edifact.interchange_sender("not an interchange"))
        self.assertIsNone(edifact.interchange_sender(b""))

    def test_cusdec_import_with_optional_parts_left_out(self):
        payload = copy.deepcopy(EXPORT)
        payload.update(
            reference="CD/2026/00021",
            direction="import",
            order="P00107",
            transfer=None,
            declarant=None,
            incoterm=None,
            exchange_rate=None,
            transport_mode=None,
            country_of_dispatch="CN",
            country_of_destination="DE",
        )
        found = segments(self.build(payload))
        self.assertEqual(found[2], "BGM+929+CD/2026/00021+9", "929 = import declaration")
        self.assertIn("RFF+ON:P00107", found)
        self.assertIn("CUX+2:USD:9", found, "no rate of exchange")
        for tag in ("NAD+DT", "TDT", "TOD", "LOC+1+", "RFF+DQ"):
            self.assertFalse([s for s in found if s.startswith(tag)], tag)
        self.assertEqual(found[-2], f"UNT+{len(found) - 2}+1")

    def test_cusdec_round_trip_through_the_broker(self):
        declaration = customs_broker.parse_cusdec(self.build())
        expected = copy.deepcopy(EXPORT)
        for line in expected["lines"]:
            line["uom"] = "PCE"  # UN/ECE Rec. 20 code of Odoo's "Units"
        self.assertEqual(declaration, expected)
        self.assertValid("customs.declaration", declaration)
        envelope, _declaration = customs_broker.read_cusdec(self.build().encode("latin-1"))
        self.assertEqual(
            envelope,
            {
                "sender": "ACMEODOO",
                "recipient": "HANSEBRK",
                "reference": "CD000017",
                "message": "1",
                "function": "original",
            },
        )

    def test_cusdec_text_outside_latin1_is_transliterated(self):
        payload = copy.deepcopy(EXPORT)
        payload["importer"].update(name="Łódź Trade Œuvre Sp. z o.o. – 東京", country_code="PL")
        payload["lines"][0]["description"] = "Press\nwith\tcabinet, 20 €"
        text = self.build(payload)
        text.encode("latin-1")  # nothing outside ISO 8859-1
        self.assertIn("NAD+IM+++Lódz Trade OEuvre Sp. z o.o. - ????+", text)  # ? is released
        self.assertIn("FTX+AAA+++Press with cabinet, 20 EUR'", text)

    def test_cusdec_long_texts_split_at_spaces(self):
        payload = copy.deepcopy(EXPORT)
        description = " ".join(["Stainless steel hydraulic cylinder, double acting"] * 9)
        payload["lines"][0]["description"] = description
        found = segments(self.build(payload))
        item_1 = found[found.index("CST+1+8462610000:169") : found.index("CST+2+848180:169")]
        ftx = [s for s in item_1 if s.startswith("FTX+AAA")]
        self.assertEqual(len(ftx), 2, "5 x 70 characters per FTX, then another")
        for segment in ftx:
            for piece in segment.removeprefix("FTX+AAA+++").split(":"):
                self.assertLessEqual(len(piece), 70)
        declaration = customs_broker.parse_cusdec(self.build(payload))
        self.assertEqual(declaration["lines"][0]["description"], description)

    def test_cusdec_refuses_what_it_cannot_write(self):
        cases = [
            (lambda p: p["lines"][1].pop("hs_code"), "CST", "lines[1].hs_code is missing"),
            (lambda p: p.update(version=0), "BGM", "version must be a whole number"),
            (lambda p: p.update(direction="transit"), "BGM", "direction must be"),
            (lambda p: p.update(lines=[]), "CST", "no lines"),
            (lambda p: p["lines"][0].update(value="n/a"), "MOA", "lines[0].value"),
            (lambda p: p.update(transport_mode="pipeline"), "TDT", "pipeline"),
            (lambda p: p["exporter"].pop("name"), "NAD", "exporter.name"),
        ]
        for change, segment, fragment in cases:
            payload = copy.deepcopy(EXPORT)
            change(payload)
            with self.assertRaises(edifact.EdifactError, msg=fragment) as caught:
                self.build(payload)
            self.assertEqual(caught.exception.segment, segment, str(caught.exception))
            self.assertIn(fragment, str(caught.exception))
        with self.assertRaises(edifact.EdifactError) as caught:
            self.build(ref="CD0000170000000")
        self.assertEqual(caught.exception.segment, "UNB")
        self.assertIn("longer than 14", str(caught.exception))

    # CUSRES --------------------------------------------------------------------------------
    def assertParses(self, text, expected):
        """The statuses of ``text`` as ``expected`` says them (the codes they were read from
        are checked by the tests of codes)."""
        result = edifact.parse_cusres(text)
        for item in result:
            self.assertValid("customs.status", item)
            self.assertTrue(item.pop("codes"), "a response says its status with codes")
        self.assertEqual(result, expected)
        return result

    def test_cusres_accepted_with_mrn(self):
        self.assertParses(ACCEPTED, [export_status(1, "accepted", "2026-03-14T09:41:00Z")])

    def test_cusres_rejected_with_errors_on_lines(self):
        reason = (
            "Declaration not accepted by customs office DE004851 (Hamburg-Waltershof): 2 errors"
        )
        errors = [
            {
                "code": "R0712",
                "text": "Commodity code 8462610000 requires the additional code "
                "Y900 (dual-use: not listed)",
                "pointer": "/lines/0",
            },
            {
                "code": "R0455",
                "text": "Net mass 180 kg exceeds gross mass; check item 2",
                "pointer": "/lines/1",
            },
        ]
        rejected = export_status(
            1, "rejected", "2026-03-14T10:03:00Z", None, reason=reason, errors=errors
        )
        [result] = self.assertParses(REJECTED, [rejected])
        self.assertIsNone(result["broker_reference"], "no MRN for a rejected declaration")

    def test_cusres_documents_required(self):
        reason = (
            "Held for documentary check: proof of preferential origin and the signed commercial "
            "invoice are required before release"
        )
        documents = [
            {"code": "N954", "name": "Movement certificate EUR.1"},
            {
                "code": "N935",
                "name": "Invoice on the basis of which the customs value is declared, signed by "
                "the exporter",
            },
        ]
        held = export_status(
            2,
            "documents_required",
            "2026-03-14T11:20:00Z",
            reason=reason,
            documents_requested=documents,
        )
        self.assertParses(DOCUMENTS_REQUIRED, [held])

    def test_cusres_inspection(self):
        reason = "Physical examination ordered (risk profile 7): present the goods at gate 4"
        inspection = export_status(2, "inspection", "2026-03-14T13:04:00Z", reason=reason)
        self.assertParses(INSPECTION, [inspection])

    def test_cusres_released_with_duties(self):
        mrn = "26DE9K2M4P7Q1R8T5W"
        duties = [
            {"type": "duty", "amount": 562.5, "currency": "EUR"},
            {"type": "vat", "amount": 2481.88, "currency": "EUR"},
            {"type": "fee", "amount": 35.0, "currency": "EUR"},
        ]
        expected = [
            status("CD/2026/00021", 1, "released", mrn, "2026-03-14T15:46:12Z", duties=duties)
        ]
        self.assertParses(RELEASED, expected)
        # Bytes as read from the file; a comma as decimal mark is read too.
        self.assertParses(RELEASED.encode("latin-1"), expected)
        self.assertParses(RELEASED.replace("161:562.50", "161:562,50"), expected)

    def test_cusres_cancelled(self):
        reason = "Declaration invalidated at the declarant's request (shipment cancelled)"
        cancelled = export_status(2, "cancelled", "2026-03-14T17:09:00Z", reason=reason)
        self.assertParses(CANCELLED, [cancelled])

    def test_cusres_two_messages_in_one_interchange(self):
        reference, mrn = "CD/2026/00022", "26DE1A2B3C4D5E6F7G"
        accepted = status(reference, 1, "accepted", mrn, "2026-03-15T08:10:00Z")
        released = status(reference, 1, "released", mrn, "2026-03-15T08:14:00Z")
        self.assertParses(TWO_MESSAGES, [accepted, released])

    def test_broker_cusres_round_trip(self):
        statuses = [
            status("CD/2026/00030", 1, "submitted", None, "2026-03-16T08:00:00Z"),
            status("CD/2026/00030", 1, "accepted", "26DE0A1B2C3D4E5F6G", "2026-03-16T08:01:00Z"),
            status(
                "CD/2026/00030",
                1,
                "rejected",
                None,
                "2026-03-16T08:02:30Z",
                reason="2 errors: see below",
                errors=[
                    {"code": "E101", "text": "Origin 'XX' unknown", "pointer": "/lines/3"},
                    {"code": None, "text": "Declarant EORI not valid: DE+0?", "pointer": None},
                ],
            ),
            status(
                "CD/2026/00030",
                2,
                "documents_required",
                "26DE0A1B2C3D4E5F6G",
                "2026-03-16T09:00:00Z",
                reason="Held",
                documents_requested=[
                    {"code": "N954", "name": "EUR.1"},
                    {"code": None, "name": "Packing list with the net mass of every package"},
                ],
            ),
            status(
                "CD/2026/00030",
                2,
                "inspection",
                "26DE0A1B2C3D4E5F6G",
                "2026-03-16T09:30:00Z",
                reason="Scanner",
            ),
            status(
                "CD/2026/00030",
                2,
                "released",
                "26DE0A1B2C3D4E5F6G",
                "2026-03-16T10:00:00Z",
                duties=[
                    {"type": "duty", "amount": 120.4, "currency": "EUR"},
                    {"type": "vat", "amount": 640.0, "currency": "EUR"},
                    {"type": "excise", "amount": 12.0, "currency": "EUR"},
                    {"type": "fee", "amount": 25.0, "currency": "EUR"},
                ],
            ),
            status("CD/2026/00030", 2, "cancelled", "26DE0A1B2C3D4E5F6G", "2026-03-16T11:00:00Z"),
        ]
        text = customs_broker.build_cusres(
            statuses, "BRK0000001", "BROKERSIM", "ODOO", dt.datetime(2026, 3, 16, 11, 5)
        )
        self.assertIn("UNB+UNOC:3+BROKERSIM:ZZ+ODOO:ZZ+260316:1105+BRK0000001'", text)
        self.assertTrue(text.endswith("UNZ+7+BRK0000001'"))
        self.assertIn("ERP+2'RFF+LI:4'ERC+E101::ZZZ'FTX+AAO+++Origin ?'XX?' unknown'", text)
        self.assertParses(text, statuses)

    # errors --------------------------------------------------------------------------------
    def test_garbage_is_an_error(self):
        error = self.assertEdifactError(
            "%PDF-1.7 this is not an interchange", None, 1, "unreadable", "Unexpected end"
        )
        self.assertIsInstance(error.__cause__, Exception, "pydifact's exception is kept")
        self.assertEdifactError(b"\x00\x01\x02garbage'", None, 1, "not a segment tag")
        # A damaged segment in the middle: the position of the one that cannot be read.
        broken = ACCEPTED.replace("GIS+ACC::ZZZ'", "gis+ACC::ZZZ'")
        self.assertEdifactError(broken, None, 5, "unreadable after the DTM segment", "'gis'")
        self.assertEdifactError("", None, None, "empty")
        self.assertEdifactError("ABC+1'", "ABC", 1, "begins with UNB")

    def test_status_codes_read_by_a_mapping(self):
        """The codes a response says its status with are kept as sent; the status is what
        the mapping makes of them: the D.96B defaults, or a backend's own."""
        [accepted] = edifact.parse_cusres(ACCEPTED)
        self.assertEqual(
            accepted["codes"],
            [
                {"source": "bgm_document", "code": "962", "agency": None},
                {"source": "bgm_function", "code": "9", "agency": None},
                {"source": "gis", "code": "ACC", "agency": "ZZZ"},
            ],
        )
        # a code the mapping does not know: no status, the codes kept to be read later
        text = ACCEPTED.replace("GIS+ACC::ZZZ'", "GIS+XYZ::ZZZ'")
        [unknown] = edifact.parse_cusres(text)
        self.assertValid("customs.status", unknown)
        self.assertIsNone(unknown["status"])
        self.assertEqual(unknown["codes"][-1], {"source": "gis", "code": "XYZ", "agency": "ZZZ"})
        self.assertEqual(
            edifact.resolve_status(unknown["codes"]),
            (None, [{"source": "gis", "code": "XYZ", "agency": "ZZZ"}]),
        )
        self.assertEqual(
            edifact.describe_code(unknown["codes"][-1]),
            "GIS processing indicator (7365) 'XYZ' (agency ZZZ)",
        )
        # a status left to the mapping only with the codes it is read from
        for payload in ({"reference": "CD/1", "status": None}, {**unknown, "codes": []}):
            with self.assertRaises(AssertionError, msg=payload):
                self.assertValid("customs.status", payload)
        # the same file under a backend's mapping that knows it
        mapping = {**edifact.default_status_map(), ("gis", "XYZ", "ZZZ"): "inspection"}
        [held] = edifact.parse_cusres(text, mapping)
        self.assertEqual(held["status"], "inspection")
        # 6 (UN/ECE) is the UN/EDIFACT list as no agency is; a national list is not
        self.assertEqual(edifact.status_key("gis", " 4 ", "6"), ("gis", "4", ""))
        self.assertEqual(
            edifact.resolve_status([{"source": "gis", "code": "4", "agency": "6"}]),
            ("released", []),
        )
        national = [{"source": "gis", "code": "4", "agency": "ZZZ"}]
        self.assertEqual(edifact.resolve_status(national), (None, national))

    def test_the_strongest_of_several_statuses_wins(self):
        def codes(*pairs):
            return [{"source": s, "code": c, "agency": None} for s, c in pairs]

        cases = [
            (codes(("gis", "1"), ("gis", "4")), "released"),  # accepted and released
            (codes(("gis", "4"), ("gis", "5")), "inspection"),  # a hold over a release
            (codes(("bgm_document", "963"), ("gis", "1")), "rejected"),  # error response
            (codes(("bgm_function", "1"), ("gis", "1")), "cancelled"),
            (codes(("bgm_document", "932")), "released"),  # customs delivery note
            (codes(("bgm_document", "962"), ("gis", "23")), None),  # informs only
            ([], None),
        ]
        for given, expected in cases:
            self.assertEqual(edifact.resolve_status(given), (expected, []), given)
        # D.96B: the directory's codes in the message, the reference in BGM 1004 (the
        # number of the message answered), the MRN in RFF+ABT (customs declaration number)
        text = ACCEPTED.replace("BGM+962+26DE4F7A91C03B2E81+9'", "BGM+932+CD/2026/00017+11'")
        text = text.replace("GIS+ACC::ZZZ'", "GIS+4'").replace(
            "RFF+ABE:CD/2026/00017::1'", "RFF+ABT:26DE4F7A91C03B2E81'"
        )
        [released] = edifact.parse_cusres(text)
        self.assertEqual(
            (released["reference"], released["version"], released["status"]),
            ("CD/2026/00017", None, "released"),
        )
        self.assertEqual(released["broker_reference"], "26DE4F7A91C03B2E81")

    def test_missing_mandatory_segments(self):
        self.assertEdifactErrors(
            [
                (without(ACCEPTED, "BGM+"), "BGM", 2, "mandatory BGM segment is missing"),
                (
                    without(REJECTED, "RFF+ABE"),
                    "RFF",
                    2,
                    "declaration reference (RFF+ABE, or BGM 1004)",
                ),
                # in the second message of an interchange: its own UNH
                (SECOND_WITHOUT_REFERENCE, "RFF", 8, "declaration reference"),
                (
                    without(ACCEPTED, "GIS+").replace("BGM+962+26DE4F7A91C03B2E81+9'", "BGM'"),
                    "GIS",
                    2,
                    "the response says no status",
                ),
            ]
        )

    def test_non_numeric_amount(self):
        text = RELEASED.replace("MOA+161:2481.88:EUR", "MOA+161:2.481,88:EUR")
        self.assertEdifactError(text, "MOA", 10, "amount '2.481,88' is not a number")
        text = RELEASED.replace("MOA+161:562.50:EUR", "MOA+161:EUR:562.50")
        self.assertEdifactError(text, "MOA", 8, "amount 'EUR' is not a number")
        text = RELEASED.replace("MOA+161:35:EUR", "MOA+161:35")
        self.assertEdifactError(text, "MOA", 12, "currency '' is not an ISO 4217 code")
        text = without(RELEASED, "MOA+161:35:EUR")
        self.assertEdifactError(text, "TAX", 11, "without its MOA+161 amount")

    def test_other_errors_name_their_segment(self):
        cases = [
            (ACCEPTED.replace("CUSRES:D:96B:UN", "CUSDEC:D:96B:UN"), "UNH", 2, "not a CUSRES"),
            (ACCEPTED.replace("UNT+7+1", "UNT+8+1"), "UNT", 8, "UNT counts '8' segments"),
            (ACCEPTED.replace("UNT+7+1", "UNT+7+2"), "UNT", 8, "not the UNH one"),
            (ACCEPTED.replace("UNZ+1+", "UNZ+2+"), "UNZ", 9, "the interchange holds 1"),
            (ACCEPTED.replace("UNZ+1+HB26031400071", "UNZ+1+HB1"), "UNZ", 9, "not the UNB one"),
            (ACCEPTED.split("UNZ")[0], "UNT", 8, "not UNZ: the file is incomplete"),
            (ACCEPTED.split("UNT")[0] + "UNZ+1+HB26031400071'", "UNH", 2, "has no UNT"),
            (ACCEPTED.replace("::1'", "::v1'"), "RFF", 6, "version 'v1' is not a whole"),
            (ACCEPTED.replace(":203'", ":303'"), "DTM", 4, "format '303'"),
            (ACCEPTED.replace("202603140941", "202613140941"), "DTM", 4, "not a date/time"),
            (RELEASED.replace("TAX+6+OTH", "TAX+7+XXX"), "TAX", 11, "unknown duty/tax/fee 7+XXX"),
        ]
        self.assertEdifactErrors(cases)

    def test_error_pickles(self):
        error = self.assertEdifactError(ACCEPTED.replace("::1'", "::v1'"), "RFF", 6)
        clone = pickle.loads(pickle.dumps(error))
        self.assertEqual((str(clone), clone.segment, clone.position), (str(error), "RFF", 6))
        self.assertIsInstance(clone, ValueError)


# The simulator --------------------------------------------------------------------------------
SECRET = "whsec_" + base64.b64encode(b"logistics-customs-broker-test-key").decode()
TOKEN = "pat_test_customs_token"


def signature_ok(request, secret=SECRET):
    """Standard Webhooks check, written from the spec (not with the library that signs)."""
    headers = {k.lower(): v for k, v in request.headers.items()}
    key = base64.b64decode(secret.removeprefix("whsec_"))
    signed = f"{headers['webhook-id']}.{headers['webhook-timestamp']}.".encode() + request.body
    expected = base64.b64encode(hmac.new(key, signed, hashlib.sha256).digest()).decode()
    offered = [s.split(",", 1)[1] for s in headers["webhook-signature"].split() if "," in s]
    return any(hmac.compare_digest(expected, s) for s in offered)


def declaration_event(payload, event_id=None):
    return {
        "specversion": "1.0",
        "id": event_id or str(uuid.uuid4()),
        "source": "urn:odoo:test",
        "type": "customs.declaration",
        "time": "2026-03-14T09:30:00Z",
        "datacontenttype": "application/json",
        "dataschema": "urn:logistics:schema:customs.declaration:v1",
        "data": payload,
    }


@tagged("standard", "at_install")
class TestCustomsBrokerSimulator(EdifactCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.odoo = CuedHTTPServer(default_status=202).start()
        cls.addClassCleanup(cls.odoo.stop)
        cls.cloudevents = Draft202012Validator(json.loads(CLOUDEVENTS_SCHEMA.read_text()))

    def setUp(self):
        super().setUp()
        self.odoo.reset()
        self.sim = customs_broker.CustomsBrokerSimulator(
            webhook_url=self.odoo.url("/logistics/webhook/customs"),
            secret=SECRET,
            api_token=TOKEN,
        ).start()
        self.addCleanup(self.sim.stop)

    def post(self, event, key=None, token=TOKEN, content_type="application/cloudevents+json"):
        headers = {"Content-Type": content_type, "Authorization": f"Bearer {token}"}
        if key:
            headers["Idempotency-Key"] = key
        return requests.post(
            self.sim.url("/declarations"), data=json.dumps(event), headers=headers, timeout=10
        )

    def webhook(self, request):
        """The CloudEvent of a status webhook, checked: signature, envelope, canonical data."""
        self.assertTrue(signature_ok(request), "signed with the shared secret")
        event = request.json()
        self.assertFalse(list(self.cloudevents.iter_errors(event)))
        self.assertEqual(event["type"], "customs.status")
        self.assertValid("customs.status", event["data"])
        return event

    def test_declarations_are_received_once(self):
        answer = self.post(declaration_event(EXPORT), key="decl-17-v1")
        self.assertEqual(answer.status_code, 202, answer.text)
        body = answer.json()
        self.assertRegex(body["id"], r"^BRK-\d{6}$")
        self.assertEqual(
            body,
            {"id": body["id"], "reference": "CD/2026/00017", "version": 1, "status": "submitted"},
        )
        again = self.post(declaration_event(EXPORT), key="decl-17-v1")
        self.assertEqual((again.status_code, again.json()), (202, body))
        self.assertEqual(again.headers["Idempotent-Replayed"], "true")
        self.assertEqual(len(self.sim.declarations["CD/2026/00017"]), 1, "no second declaration")
        # same version under another key: a conflict; the same key for other data: refused
        self.assertEqual(self.post(declaration_event(EXPORT), key="other").status_code, 409)
        amended = {**EXPORT, "version": 2}
        self.assertEqual(self.post(declaration_event(amended), key="decl-17-v1").status_code, 422)
        second = self.post(declaration_event(amended), key="decl-17-v2")
        self.assertEqual(second.json()["id"], body["id"], "one broker file per declaration")
        self.assertEqual([p["version"] for p in self.sim.declarations["CD/2026/00017"]], [1, 2])
        # refusals
        self.assertEqual(self.post(declaration_event(EXPORT), token="wrong").status_code, 401)
        self.assertEqual(
            self.post(declaration_event(EXPORT), content_type="text/plain").status_code, 415
        )
        invalid = copy.deepcopy(EXPORT)
        invalid.update(reference="CD/2026/00099")
        invalid["lines"][0]["hs_code"] = "8462"
        refused = self.post(declaration_event(invalid))
        self.assertEqual(refused.status_code, 422)
        self.assertIn("['lines'][0]['hs_code']", refused.json()["detail"])
        wrong_type = {**declaration_event(EXPORT), "type": "order.release"}
        self.assertEqual(self.post(wrong_type).status_code, 400)
        self.sim.fail_next(503, times=1)
        self.assertEqual(self.post(declaration_event(invalid)).status_code, 503)
        self.assertNotIn("CD/2026/00099", self.sim.declarations)
        state = requests.get(self.sim.url(f"/declarations/{body['id']}"), timeout=10).json()
        self.assertEqual(state, {"error": "unauthorized", "detail": state["detail"]})

    def test_status_webhooks(self):
        self.post(declaration_event(EXPORT))
        reference = "CD/2026/00017"
        responses = [
            self.sim.accept(reference),
            self.sim.require_documents(reference),
            self.sim.inspect(reference, reason="Scanner image unclear"),
            self.sim.release(reference, duties=[{"type": "fee", "amount": 35, "currency": "EUR"}]),
            self.sim.reject(
                reference,
                errors=[
                    {"code": "R0455", "text": "Net mass exceeds gross mass", "pointer": "/lines/1"}
                ],
            ),
            self.sim.cancel(reference),
        ]
        self.assertEqual([r.status for r in responses], [202] * 6)
        events = [self.webhook(request) for request in self.odoo.requests]
        data = [event["data"] for event in events]
        self.assertEqual(
            [d["status"] for d in data],
            ["accepted", "documents_required", "inspection", "released", "rejected", "cancelled"],
        )
        mrn = data[0]["broker_reference"]
        self.assertRegex(mrn, r"^\d{2}DE[A-Z0-9]{14}$")
        self.assertEqual({d["broker_reference"] for d in data}, {mrn}, "the MRN stays")
        self.assertEqual({d["version"] for d in data}, {1})
        self.assertEqual(data[1]["documents_requested"][0]["code"], "N954")
        self.assertEqual(data[2]["reason"], "Scanner image unclear")
        self.assertEqual(data[3]["duties"], [{"type": "fee", "amount": 35, "currency": "EUR"}])
        self.assertEqual(data[4]["errors"][0]["pointer"], "/lines/1")
        self.assertEqual(events[0]["subject"], reference)
        state = requests.get(
            self.sim.url("/declarations/CD%2F2026%2F00017"),
            headers={"Authorization": f"Bearer {TOKEN}"},
            timeout=10,
        ).json()
        self.assertEqual(
            (state["status"], state["mrn"], state["versions"]), ("cancelled", mrn, [1])
        )
        # arbitrary payloads, for tests of Odoo's refusals
        self.assertEqual(self.sim.post_status({"reference": "X", "status": "lost"}).status, 202)
        self.assertEqual(self.odoo.requests[-1].json()["data"]["status"], "lost")

    def test_auto_mode_holds_outside_the_eu_once(self):
        self.sim.auto = True
        self.sim.accept_delay = self.sim.release_delay = 0.01
        self.sim.hold_delay = 600  # the held declaration waits for its amendment
        self.post(declaration_event(EXPORT))  # to the US
        to_austria = {**EXPORT, "reference": "CD/2026/00018", "country_of_destination": "AT"}
        self.post(declaration_event(to_austria))

        def statuses():
            found = {}
            for request in list(self.odoo.requests):
                data = request.json()["data"]
                found.setdefault(data["reference"], []).append((data["version"], data["status"]))
            return found

        wait_until(lambda: len(self.odoo.requests) >= 4, what="four status webhooks")
        self.assertEqual(
            statuses(),
            {
                "CD/2026/00017": [(1, "accepted"), (1, "documents_required")],
                "CD/2026/00018": [(1, "accepted"), (1, "released")],
            },
        )
        # Odoo amends the held declaration: accepted and released, no second hold
        self.post(declaration_event({**EXPORT, "version": 2}))
        wait_until(lambda: len(self.odoo.requests) >= 6, what="the amendment's webhooks")
        self.assertEqual(
            statuses()["CD/2026/00017"],
            [(1, "accepted"), (1, "documents_required"), (2, "accepted"), (2, "released")],
        )
        for request in self.odoo.requests:
            self.webhook(request)
        [held] = [
            r.json()["data"]
            for r in self.odoo.requests
            if r.json()["data"]["status"] == "documents_required"
        ]
        self.assertEqual(held["documents_requested"][0]["code"], "N954")
        self.assertTrue(held["reason"])

    def test_edifact_over_sftp(self):
        server = SFTPTestServer(None, users={"odoo": {"password": "pw"}}).start()
        self.addCleanup(server.stop)
        settings = sftp.SFTPSettings(
            host=server.host,
            port=server.port,
            username="odoo",
            password="pw",
            host_key=server.host_key_line,
            inbound_dir="/from_broker",
            outbound_dir="/to_broker",
            archive_dir="/from_broker/archive",
            error_dir="/from_broker/error",
        )
        with sftp.SFTPConnection(settings) as conn:  # Odoo's side
            conn.ensure_dirs()
            conn.put_atomic("CUSDEC_CD000017.edi", self.build().encode("latin-1"))
            conn.put_atomic("CUSDEC_broken.edi", b"UNA:+.? 'UNB+UNOC:3+ACMEODOO")
        picked = self.sim.sftp_pickup_declarations(settings)
        self.assertEqual(picked[0], ("CUSDEC_CD000017.edi", "CD/2026/00017", 1, 202))
        self.assertEqual(picked[1][:3], ("CUSDEC_broken.edi", None, None))
        self.assertIn("unreadable", picked[1][3])
        self.assertEqual(self.sim.declarations["CD/2026/00017"][0]["exporter"], EXPORT["exporter"])
        drop = self.sim.sftp_drop_cusres(
            settings,
            [
                ("CD/2026/00017", "accepted"),
                {
                    "reference": "CD/2026/00017",
                    "status": "documents_required",
                    "documents_requested": [{"code": "N954", "name": "EUR.1"}],
                },
            ],
        )
        with sftp.SFTPConnection(settings) as conn:
            self.assertFalse(conn.sftp.listdir("/to_broker"), "the broker took its files")
            self.assertEqual([f.name for f in conn.list_ready()], [drop.name])
            content = conn.read(drop.name)
        self.assertEqual(content, drop.content.encode("latin-1"))
        self.assertIn(b"UNB+UNOC:3+BROKERSIM:ZZ+ACMEODOO:ZZ+", content, "answers the sender")
        accepted, held = edifact.parse_cusres(content)
        self.assertEqual((accepted["status"], held["status"]), ("accepted", "documents_required"))
        self.assertEqual(accepted["version"], 1)
        self.assertRegex(accepted["broker_reference"], r"^\d{2}DE[A-Z0-9]{14}$")
        self.assertEqual(held["broker_reference"], accepted["broker_reference"])
        self.assertEqual(held["documents_requested"], [{"code": "N954", "name": "EUR.1"}])
        damaged = self.sim.sftp_drop_file(settings, "CUSRES_damaged.edi", content[:-40])
        with sftp.SFTPConnection(settings) as conn:
            with self.assertRaises(edifact.EdifactError):
                edifact.parse_cusres(conn.read(damaged.name))
