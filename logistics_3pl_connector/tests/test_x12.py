"""ANSI X12 004010 formats: realistic 940/945/846/997 documents, no database needed."""

import copy
import datetime as dt
import json
import pickle
import re
from pathlib import Path

from jsonschema import Draft202012Validator
from logistics_simulators import x12_partner

from odoo.tests import BaseCase, tagged

from ..formats import x12

SCHEMA_DIR = Path(__file__).resolve().parent.parent / "schemas"
ISO_UTC = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}Z$")

# A 3PL's shipping advice: line 1 shipped partially (8 of 10), line 2 complete from two lots.
SAMPLE_945 = (
    (
        "ISA*00*          *00*          *ZZ*RENO3PL        *ZZ*ACMEODOO       "
        "*240305*1812*U*00401*000004512*0*P*>~\n"
    )
    + """\
GS*SW*RENO3PL*ACMEODOO*20240305*1812*4512*X*004010~
ST*945*0001~
W06*F*WH/OUT/00042*20240305*SHP-88120~
N1*ST*Jane Doe~
N3*12 Main St*Suite 4~
N4*Reno*NV*89501*US~
N9*2I*1Z999AA10123456784~
G62*11*20240305*8*1745*UT~
W27*U*UPSN*GROUND~
LX*1~
N9*LI*1~
W12*CP*10*8*2*EA**VN*SKU-RED~
G69*Red widget, 12 pack~
LX*2~
N9*LI*2~
W12*CC*5*3*0*EA**VN*SKU-VAX~
N9*LT*LOT-A1**20251231~
W12*CC**2**EA**VN*SKU-VAX~
N9*LT*LOT-B7**20260115~
W03*13~
SE*20*0001~
GE*1*4512~
IEA*1*000004512~
"""
)

EXPECTED_945 = {
    "order_ref": "WH/OUT/00042",
    "shipment_ref": "SHP-88120",
    "shipped_at": "2024-03-05T17:45:00Z",
    "carrier": {"code": "UPSN", "service": "GROUND"},
    "tracking_ref": "1Z999AA10123456784",
    "complete": False,
    "lines": [
        {"line_ref": "1", "sku": "SKU-RED", "quantity": 8.0, "uom": "EA", "lots": []},
        {
            "line_ref": "2",
            "sku": "SKU-VAX",
            "quantity": 5.0,
            "uom": "EA",
            "lots": [
                {"lot": "LOT-A1", "quantity": 3.0, "expiration_date": "2025-12-31"},
                {"lot": "LOT-B7", "quantity": 2.0, "expiration_date": "2026-01-15"},
            ],
        },
    ],
}

# Nightly inventory advice with lots; DTM in Eastern time (21:00 EST = 02:00 UTC next day),
# an expiration DTM and an available quantity (QTY*33) that the mapping ignores, and the unit
# "LT" (litre) next to the product qualifier "LT" (lot).
SAMPLE_846 = (
    (
        "ISA*00*          *00*          *ZZ*RENO3PL        *ZZ*ACMEODOO       "
        "*240306*0215*U*00401*000004513*0*P*>~\n"
    )
    + """\
GS*IB*RENO3PL*ACMEODOO*20240306*0215*4513*X*004010~
ST*846*0001~
BIA*00*SI*INV-RNO1-20240306*20240306*0200~
DTM*007*20240305*2100*ET~
N1*WH*RENO DC*91*RNO1~
LIN*1*SK*SKU-RED~
QTY*17*240*EA~
LIN*2*SK*SKU-VAX*LT*LOT-A1~
QTY*17*57*EA~
DTM*036*20251231~
LIN*3*SK*SKU-VAX*LT*LOT-B7~
QTY*17*120*EA~
QTY*33*100*EA~
LIN*4*SK*SKU-OIL~
QTY*17*12.5*LT~
CTT*4*429.5~
SE*16*0001~
GE*1*4513~
IEA*1*000004513~
"""
)

EXPECTED_846 = {
    "snapshot_ref": "INV-RNO1-20240306",
    "warehouse_code": "RNO1",
    "as_of": "2024-03-06T02:00:00Z",
    "lines": [
        {"sku": "SKU-RED", "lot": None, "quantity": 240.0, "uom": "EA"},
        {"sku": "SKU-VAX", "lot": "LOT-A1", "quantity": 57.0, "uom": "EA"},
        {"sku": "SKU-VAX", "lot": "LOT-B7", "quantity": 120.0, "uom": "EA"},
        {"sku": "SKU-OIL", "lot": None, "quantity": 12.5, "uom": "LT"},
    ],
}

ORDER = {
    "order_ref": "WH/OUT/00042",
    "origin": "S00042",
    "warehouse_code": "RNO1",
    "requested_date": "2024-03-06",
    "carrier": {"code": "UPSN", "service": "GROUND"},
    "ship_to": {
        "name": "Jane Doe",
        "company": "Acme Corp",
        "street": "12 Main St",
        "street2": "Suite 4",
        "city": "Reno",
        "state_code": "NV",
        "zip": "89501",
        "country_code": "US",
        "email": "jane.doe@example.com",
        "phone": "+1 775 555 0100",
    },
    "lines": [
        {
            "line_ref": "1",
            "sku": "SKU-RED",
            "name": "Red widget, 12 pack",
            "quantity": 10.0,
            "uom": "EA",
            "lots": [],
        },
        {
            "line_ref": "2",
            "sku": "SKU-VAX",
            "name": "Vaccine cooler box with data logger and four gel packs, 24 litre",
            "quantity": 5.0,
            "uom": "EA",
            "lots": [
                {"lot": "LOT-A1", "quantity": 3.0, "expiration_date": "2025-12-31"},
                {"lot": "LOT-B7", "quantity": 1.5, "expiration_date": None},
            ],
        },
    ],
    "notes": "Deliver to dock 3.\nCall the receiver 30 minutes before arrival and ask for the "
    "night shift supervisor at gate B.",
}


def _envelope(**overrides):
    values = {
        "sender_qualifier": "ZZ",
        "sender_id": "ACMEODOO",
        "receiver_qualifier": "ZZ",
        "receiver_id": "RENO3PL",
        "interchange_control_number": 77,
        "group_control_number": 77,
        "date": dt.date(2024, 3, 5),
        "time": dt.time(19, 0),
    }
    values.update(overrides)
    return x12.Envelope(**values)


def _segments(text):
    """Segments of a builder output ('~' terminated, no line breaks)."""
    assert text.endswith("~")
    return text[:-1].split("~")


class X12Case(BaseCase):
    _validators = {}

    def assertValid(self, message_type, payload):
        """Validate against the JSON Schema (with FORMAT_CHECKER) and check date-times."""
        validator = self._validators.get(message_type)
        if validator is None:
            schema = json.loads((SCHEMA_DIR / f"{message_type}.v1.json").read_text())
            Draft202012Validator.check_schema(schema)
            validator = Draft202012Validator(
                schema, format_checker=Draft202012Validator.FORMAT_CHECKER
            )
            self._validators[message_type] = validator
        errors = sorted(validator.iter_errors(payload), key=lambda e: list(e.path))
        self.assertFalse(errors, [f"{'/'.join(map(str, e.path))}: {e.message}" for e in errors])
        # FORMAT_CHECKER has no date-time check without the optional rfc3339-validator.
        for key in ("shipped_at", "as_of", "received_at"):
            if key in payload:
                self.assertRegex(payload[key], ISO_UTC)

    def assertX12Error(self, text_or_callable, *fragments):
        with self.assertRaises(x12.X12ParseError) as caught:
            if callable(text_or_callable):
                text_or_callable()
            else:
                x12.parse_documents(text_or_callable)
        message = str(caught.exception)
        for fragment in fragments:
            self.assertIn(fragment, message)
        return caught.exception


@tagged("standard", "at_install")  # explicit, so the tests also run outside odoo.addons
class TestX12Envelope(X12Case):
    def test_parse_interchange_envelope(self):
        interchange = x12.parse_interchange(SAMPLE_945)
        self.assertEqual(interchange.sender_qualifier, "ZZ")
        self.assertEqual(interchange.sender_id, "RENO3PL")
        self.assertEqual(interchange.receiver_id, "ACMEODOO")
        self.assertEqual(interchange.date, dt.date(2024, 3, 5))
        self.assertEqual(interchange.time, dt.time(18, 12))
        self.assertEqual(interchange.control_number, "000004512")
        self.assertEqual(interchange.usage_indicator, "P")
        self.assertEqual(interchange.separators, x12.Separators("*", ">", "~"))
        (group,) = interchange.groups
        self.assertEqual(
            (group.functional_id, group.sender, group.receiver, group.control_number),
            ("SW", "RENO3PL", "ACMEODOO", "4512"),
        )
        self.assertEqual((group.date, group.time), (dt.date(2024, 3, 5), dt.time(18, 12)))
        self.assertEqual(group.version, "004010")
        (ts,) = group.transaction_sets
        self.assertEqual((ts.code, ts.control_number), ("945", "0001"))
        self.assertEqual(len(ts.segments), 20)
        self.assertEqual(ts.segments[0], ["ST", "945", "0001"])
        self.assertEqual(ts.segments[10], ["W12", "CP", "10", "8", "2", "EA", "", "VN", "SKU-RED"])
        self.assertEqual(ts.segments[-1], ["SE", "20", "0001"])

    def test_bytes_crlf_and_other_separators(self):
        expected = x12.parse_documents(SAMPLE_846)
        crlf = SAMPLE_846.replace("\n", "\r\n").encode()
        self.assertEqual(x12.parse_documents(crlf), expected)
        # Element separator '|', composite ':', segments terminated by a line break.
        other = SAMPLE_846.replace("*", "|").replace(">", ":").replace("~\n", "\n")
        interchange = x12.parse_interchange(other)
        self.assertEqual(interchange.separators, x12.Separators("|", ":", "\n"))
        self.assertEqual(x12.parse_documents(other), expected)
        # All on one line, no line breaks at all.
        self.assertEqual(x12.parse_documents(SAMPLE_846.replace("\n", "")), expected)

    def test_interchange_control_number_mismatch(self):
        text = SAMPLE_945.replace("IEA*1*000004512~", "IEA*1*000004513~")
        error = self.assertX12Error(
            text,
            "segment IEA (position 24), element IEA02",
            "'000004513' does not match ISA13 '000004512'",
        )
        self.assertEqual((error.segment_id, error.element_position), ("IEA", 2))

    def test_group_control_number_mismatch(self):
        text = SAMPLE_945.replace("GE*1*4512~", "GE*1*4511~")
        self.assertX12Error(
            text, "segment GE (position 23), element GE02", "'4511' does not match GS06 '4512'"
        )

    def test_transaction_set_control_number_mismatch(self):
        text = SAMPLE_945.replace("SE*20*0001~", "SE*20*0002~")
        error = self.assertX12Error(
            text,
            "segment SE (position 20), element SE02",
            "'0002' does not match ST02 '0001'",
            "[transaction set 945, control number 0001]",
        )
        self.assertEqual(error.set_control_number, "0001")

    def test_segment_count_mismatch(self):
        text = SAMPLE_945.replace("SE*20*0001~", "SE*21*0001~")
        self.assertX12Error(
            text, "segment SE (position 20), element SE01", "declares 21 segment(s)", "contains 20"
        )

    def test_group_and_interchange_counts(self):
        self.assertX12Error(
            SAMPLE_945.replace("GE*1*4512~", "GE*2*4512~"),
            "segment GE (position 23), element GE01",
            "declares 2 transaction set(s) but contains 1",
        )
        self.assertX12Error(
            SAMPLE_945.replace("IEA*1*", "IEA*3*"),
            "segment IEA (position 24), element IEA01",
            "declares 3 functional group(s) but contains 1",
        )
        self.assertX12Error(
            SAMPLE_945.replace("GE*1*4512~", "GE*one*4512~"), "element GE01", "'one'"
        )

    def test_truncated_files(self):
        # Cut in the middle of a segment.
        cut = SAMPLE_945[: SAMPLE_945.index("W03*13") + 4]
        self.assertX12Error(
            cut, "segment W03 (position 21)", "ends in the middle of this segment", "truncated"
        )
        # Cut after a complete segment inside the transaction set.
        cut = SAMPLE_945[: SAMPLE_945.index("W03*13")]
        self.assertX12Error(cut, "segment SE:", "SE trailer is missing", "truncated")
        # Cut after GE: no IEA.
        cut = SAMPLE_945[: SAMPLE_945.index("IEA")]
        error = self.assertX12Error(
            cut, "segment IEA", "IEA trailer is missing", "GE at position 23"
        )
        self.assertEqual(error.segment_id, "IEA")
        # Cut inside the ISA header.
        self.assertX12Error(SAMPLE_945[:60], "segment ISA (position 1)", "truncated")
        self.assertX12Error("", "empty")
        self.assertX12Error("UNA:+.? 'UNB+UNOC:3", "must start with an ISA segment")

    def test_every_truncation_is_a_clear_error(self):
        """No prefix of a valid file may escape as IndexError, ValueError, KeyError..."""
        for text in (SAMPLE_945, SAMPLE_846):
            complete = text.rstrip()
            for length in range(len(complete) - 1):
                with self.assertRaises(x12.X12ParseError, msg=f"prefix of {length} characters"):
                    x12.parse_documents(complete[:length])
            x12.parse_documents(complete)

    def test_set_without_trailer_inside_group(self):
        text = SAMPLE_945.replace("SE*20*0001~\n", "")
        self.assertX12Error(text, "segment GE (position 22)", "has no SE trailer")

    def test_data_after_iea(self):
        self.assertX12Error(SAMPLE_945 + "GS*SW*X~", "unexpected data after the IEA")

    def test_error_pickles(self):
        error = self.assertX12Error(SAMPLE_945.replace("*8*2*EA", "*8x*2*EA"), "W1203")
        clone = pickle.loads(pickle.dumps(error))
        self.assertEqual(str(clone), str(error))
        self.assertEqual(clone.element_error_code, "6")


@tagged("standard", "at_install")
class TestX12945(X12Case):
    def test_parse_945(self):
        ((message_type, payload),) = x12.parse_documents(SAMPLE_945)
        self.assertEqual(message_type, "shipment.confirmed")
        self.assertEqual(payload, EXPECTED_945)
        self.assertValid("shipment.confirmed", payload)

    def test_complete_only_when_every_w12_is_cc(self):
        text = SAMPLE_945.replace("W12*CP*10*8*2*EA", "W12*CC*10*10*0*EA").replace(
            "W03*13~", "W03*15~"
        )
        ((_type, payload),) = x12.parse_documents(text)
        self.assertTrue(payload["complete"])
        self.assertEqual(payload["lines"][0]["quantity"], 10.0)
        self.assertValid("shipment.confirmed", payload)

    def test_non_numeric_quantity_names_segment_and_element(self):
        text = SAMPLE_945.replace("W12*CP*10*8*2*EA", "W12*CP*10*abc*2*EA")
        error = self.assertX12Error(
            text,
            "segment W12 (position 11), element W1203: quantity shipped 'abc' is not a number",
            "[transaction set 945, control number 0001]",
        )
        self.assertEqual(
            (error.segment_id, error.segment_position, error.element_position),
            ("W12", 11, 3),
        )
        self.assertEqual((error.element_error_code, error.bad_value), ("6", "abc"))

    def test_other_element_errors(self):
        self.assertX12Error(
            SAMPLE_945.replace("G62*11*20240305", "G62*11*20240231"),
            "segment G62 (position 7), element G6202",
            "'20240231' is not a valid date",
        )
        self.assertX12Error(
            SAMPLE_945.replace("*8*1745*UT", "*8*2561*UT"),
            "segment G62 (position 7), element G6204",
            "not a valid time",
        )
        self.assertX12Error(
            SAMPLE_945.replace("W12*CC**2**EA**VN*SKU-VAX", "W12*CC**2**EA**VN*SKU-OTHER"),
            "segment W12 (position 17), element W1208",
            "differs from SKU 'SKU-VAX'",
        )
        self.assertX12Error(
            SAMPLE_945.replace("W06*F*WH/OUT/00042*", "W06*F**"),
            "segment W06 (position 2), element W0602",
            "depositor order number is missing",
        )
        self.assertX12Error(
            SAMPLE_945.replace("N9*LT*LOT-B7**20260115~", "N9*LT*LOT-B7**20261315~"),
            "segment N9 (position 18), element N904",
        )

    def test_build_945_round_trip(self):
        envelope = _envelope(sender_id="RENO3PL", receiver_id="ACMEODOO")
        text = x12_partner.build_945(
            EXPECTED_945, envelope, ordered_quantities={"1": 10, "2": 5}, ship_to=ORDER["ship_to"]
        )
        segments = _segments(text)
        self.assertEqual(len(segments[0]) + 1, 106)
        self.assertIn("W06*F*WH/OUT/00042*20240305*SHP-88120", segments)
        self.assertIn("N1*ST*Jane Doe", segments)
        self.assertIn("N9*2I*1Z999AA10123456784", segments)
        self.assertIn("G62*11*20240305*8*1745*UT", segments)
        self.assertIn("W27*M*UPSN*GROUND", segments)
        start = segments.index("LX*1")
        self.assertEqual(
            segments[start : start + 10],
            [
                "LX*1",
                "N9*LI*1",
                "W12*CP*10*8*2*EA**VN*SKU-RED",
                "LX*2",
                "N9*LI*2",
                "W12*CC*5*3*0*EA**VN*SKU-VAX",
                "N9*LT*LOT-A1**20251231",
                "W12*CC**2**EA**VN*SKU-VAX",
                "N9*LT*LOT-B7**20260115",
                "W03*13",
            ],
        )
        ((_type, payload),) = x12.parse_documents(text)
        self.assertEqual(payload, EXPECTED_945)

    def test_build_945_without_ordered_quantities(self):
        shipment = copy.deepcopy(EXPECTED_945)
        shipment["complete"] = True
        shipment["lines"][0]["lots"] = [{"lot": "R-1", "quantity": 5, "expiration_date": None}]
        text = x12_partner.build_945(shipment, _envelope())
        segments = _segments(text)
        self.assertIn("W12*CC**5**EA**VN*SKU-RED", segments)
        self.assertIn("W12*CC**3**EA**VN*SKU-RED", segments)  # the part without a lot
        ((_type, payload),) = x12.parse_documents(text)
        self.assertEqual(payload, shipment)
        self.assertValid("shipment.confirmed", payload)

    def test_lots_exceeding_quantity_refused(self):
        shipment = copy.deepcopy(EXPECTED_945)
        shipment["lines"][1]["quantity"] = 4
        with self.assertRaisesRegex(x12.X12BuildError, "exceed the line quantity"):
            x12_partner.build_945(shipment, _envelope())

    def test_tolerant_945_variants(self):
        """One LX per lot repeating the line reference, W1209 lot, N9*BM shipment id."""
        text = (
            "ISA*00*          *00*          *ZZ*RENO3PL        *ZZ*ACMEODOO       "
            "*240305*1812*U*00401*000004514*0*P*>~"
            "GS*SW*RENO3PL*ACMEODOO*20240305*1812*4514*X*004010~"
            "ST*945*0007~"
            "W06*N*WH/OUT/00043*20240305~"
            "N9*BM*BOL-7781~"
            "LX*1~N9*LI*10~W12*CC*4*3*1*CA**VN*SKU-1*A17~"
            "LX*2~N9*LI*10~W12*CC**1**CA**VN*SKU-1*A18~"
            "LX*3~W12*CC*2*2*0*EA**SK*SKU-2~"
            "SE*12*0007~GE*1*4514~IEA*1*000004514~"
        )
        ((_type, payload),) = x12.parse_documents(text)
        self.assertEqual(payload["shipment_ref"], "BOL-7781")
        self.assertNotIn(
            "shipped_at", x12.parse_documents(text.replace("*20240305~N9", "~N9"))[0][1]
        )
        self.assertEqual(payload["shipped_at"], "2024-03-05T00:00:00Z")
        self.assertIsNone(payload["carrier"])
        self.assertEqual(
            payload["lines"],
            [
                {
                    "line_ref": "10",
                    "sku": "SKU-1",
                    "quantity": 4.0,
                    "uom": "CA",
                    "lots": [
                        {"lot": "A17", "quantity": 3.0, "expiration_date": None},
                        {"lot": "A18", "quantity": 1.0, "expiration_date": None},
                    ],
                },
                {"line_ref": None, "sku": "SKU-2", "quantity": 2.0, "uom": "EA", "lots": []},
            ],
        )
        self.assertValid("shipment.confirmed", payload)


@tagged("standard", "at_install")
class TestX12846(X12Case):
    def test_parse_846(self):
        ((message_type, payload),) = x12.parse_documents(SAMPLE_846)
        self.assertEqual(message_type, "inventory.snapshot")
        self.assertEqual(payload, EXPECTED_846)
        self.assertValid("inventory.snapshot", payload)

    def test_846_errors(self):
        self.assertX12Error(
            SAMPLE_846.replace("QTY*17*57*EA", "QTY*17*5,7*EA"),
            "segment QTY (position 8), element QTY02: quantity on hand '5,7' is not a number",
            "[transaction set 846, control number 0001]",
        )
        self.assertX12Error(
            SAMPLE_846.replace("CTT*4*", "CTT*5*"),
            "segment CTT (position 15), element CTT01",
            "declares 5 line item(s)",
        )
        self.assertX12Error(
            SAMPLE_846.replace("LIN*4*SK*SKU-OIL~\nQTY*17*12.5*LT~", "LIN*4*SK*SKU-OIL~\nX1*1~"),
            "segment LIN (position 13)",
            "no on-hand quantity (QTY*17) for SKU 'SKU-OIL'",
        )
        self.assertX12Error(
            SAMPLE_846.replace("DTM*007*20240305*2100*ET", "DTM*007*20240305*2100*XX"),
            "segment DTM (position 3), element DTM04",
        )

    def test_846_round_trip(self):
        text = x12_partner.build_846(EXPECTED_846, _envelope(), set_control_number=31)
        segments = _segments(text)
        self.assertEqual(
            segments[2:13],
            [
                "ST*846*0031",
                "BIA*00*SI*INV-RNO1-20240306*20240306*0200",
                "DTM*007*20240306*0200*UT",
                "N1*WH**91*RNO1",
                "LIN*1*SK*SKU-RED",
                "QTY*17*240*EA",
                "LIN*2*SK*SKU-VAX*LT*LOT-A1",
                "QTY*17*57*EA",
                "LIN*3*SK*SKU-VAX*LT*LOT-B7",
                "QTY*17*120*EA",
                "LIN*4*SK*SKU-OIL",
            ],
        )
        self.assertEqual(segments[-4:-2], ["CTT*4*429.5", "SE*14*0031"])
        self.assertEqual(x12.parse_documents(text), [("inventory.snapshot", EXPECTED_846)])

    def test_846_negative_and_empty(self):
        snapshot = {
            "snapshot_ref": "ADJ-1",
            "warehouse_code": "RNO1",
            "lines": [{"sku": "SKU-RED", "lot": None, "quantity": -2, "uom": None}],
        }
        ((_type, payload),) = x12.parse_documents(x12_partner.build_846(snapshot, _envelope()))
        self.assertEqual(payload["lines"], snapshot["lines"])
        self.assertEqual(payload["as_of"], "2024-03-05T19:00:00Z")  # BIA04/BIA05 fallback
        self.assertValid("inventory.snapshot", payload)
        empty = dict(snapshot, lines=[])
        ((_type, payload),) = x12.parse_documents(x12_partner.build_846(empty, _envelope()))
        self.assertEqual(payload["lines"], [])
        self.assertValid("inventory.snapshot", payload)


@tagged("standard", "at_install")
class TestX12940(X12Case):
    def test_940_round_trip(self):
        self.assertValid("order.release", ORDER)
        text = x12.build_940(ORDER, _envelope(), set_control_number=5)
        segments = _segments(text)
        self.assertEqual(
            segments[0],
            "ISA*00*          *00*          *ZZ*ACMEODOO       *ZZ*RENO3PL        "
            "*240305*1900*U*00401*000000077*0*P*>",
        )
        self.assertEqual(len(segments[0]) + 1, 106)
        self.assertEqual(segments[1], "GS*OW*ACMEODOO*RENO3PL*20240305*1900*77*X*004010")
        self.assertEqual(
            segments[2:13],
            [
                "ST*940*0005",
                "W05*N*WH/OUT/00042*S00042",
                "N1*ST*Jane Doe",
                "N2*Acme Corp",
                "N3*12 Main St*Suite 4",
                "N4*Reno*NV*89501*US",
                "PER*IC*Jane Doe*TE*+1 775 555 0100*EM*jane.doe@example.com",
                "N1*WH**91*RNO1",
                "G62*10*20240306",
                "NTE*WHI*Deliver to dock 3.",
                "NTE*WHI*Call the receiver 30 minutes before arrival and ask for the night shift",
            ],
        )
        self.assertEqual(segments[13], "NTE*ADD*supervisor at gate B.")
        self.assertIn("W66*PP*M***GROUND*****UPSN", segments)
        start = segments.index("LX*1")
        self.assertEqual(
            segments[start : start + 18],
            [
                "LX*1",
                "W01*10*EA**VN*SKU-RED",
                "G69*Red widget, 12 pack",
                "N9*LI*1",
                "LX*2",
                "W01*3*EA**VN*SKU-VAX",
                "G69*Vaccine cooler box with data logger and four",
                "G69*gel packs, 24 litre",
                "N9*LI*2",
                "N9*LT*LOT-A1**20251231",
                "W01*1.5*EA**VN*SKU-VAX",
                "G69*Vaccine cooler box with data logger and four",
                "G69*gel packs, 24 litre",
                "N9*LI*2",
                "N9*LT*LOT-B7",
                "W01*0.5*EA**VN*SKU-VAX",
                "G69*Vaccine cooler box with data logger and four",
                "G69*gel packs, 24 litre",
            ],
        )
        self.assertEqual(
            segments[-4:], ["W76*15", f"SE*{len(segments) - 4}*0005", "GE*1*77", "IEA*1*000000077"]
        )
        interchange = x12.parse_interchange(text)
        (ts,) = interchange.transaction_sets
        parsed = x12.parse_940(ts)
        self.assertEqual(parsed, ORDER)
        self.assertValid("order.release", parsed)

    def test_940_minimal_round_trip(self):
        order = {
            "order_ref": "WH/OUT/7",
            "warehouse_code": "RNO1",
            "ship_to": {
                "name": "Bob",
                "street": "1 Rue de la Paix",
                "city": "Paris",
                "zip": "75002",
                "country_code": "FR",
            },
            "lines": [{"line_ref": "L1", "sku": "SKU-1", "quantity": 1, "uom": "EA"}],
        }
        ((message_type, parsed),) = x12.parse_documents(x12.build_940(order, _envelope()))
        self.assertEqual(message_type, "order.release")
        # The keys the minimal order has come back unchanged; the others are empty.
        expected = {
            "order_ref": "WH/OUT/7",
            "origin": None,
            "warehouse_code": "RNO1",
            "requested_date": None,
            "carrier": None,
            "ship_to": dict(
                order["ship_to"],
                company=None,
                street2=None,
                state_code=None,
                email=None,
                phone=None,
            ),
            "lines": [dict(order["lines"][0], name=None, lots=[])],
            "notes": None,
        }
        self.assertEqual(parsed, expected)
        self.assertValid("order.release", parsed)

    def test_build_refuses_delimiters_and_bad_envelopes(self):
        order = copy.deepcopy(ORDER)
        order["ship_to"]["street"] = "12 Main St * Rear"
        with self.assertRaisesRegex(x12.X12BuildError, r"element N301: value '12 Main St \* Rear'"):
            x12.build_940(order, _envelope())
        order = copy.deepcopy(ORDER)
        del order["lines"][0]["sku"]
        with self.assertRaisesRegex(x12.X12BuildError, r"lines\[0\]\.sku is required"):
            x12.build_940(order, _envelope())
        with self.assertRaisesRegex(x12.X12BuildError, "sender_id must be 1 to 15"):
            _envelope(sender_id="A-VERY-LONG-SENDER-ID")
        with self.assertRaisesRegex(x12.X12BuildError, "interchange_control_number"):
            _envelope(interchange_control_number=1_000_000_000)

    def test_envelope_defaults_to_now(self):
        envelope = x12.Envelope("ZZ", "ACMEODOO", "ZZ", "RENO3PL", 1, 1)
        today = dt.datetime.now(dt.timezone.utc).date()
        self.assertLessEqual(abs((envelope.date - today).days), 1)
        text = x12.build_940(ORDER, envelope)
        self.assertEqual(x12.parse_interchange(text).date, envelope.date)

    def test_parse_940_without_lx(self):
        text = (
            "ISA*00*          *00*          *ZZ*ACMEODOO       *ZZ*RENO3PL        "
            "*240305*1900*U*00401*000000078*0*P*>~"
            "GS*OW*ACMEODOO*RENO3PL*20240305*1900*78*X*004010~"
            "ST*940*0001~W05*N*SO-9~N1*ST*ACME STORE 12~N3*400 Elm St~N4*Dallas*TX*75201~"
            "N1*WH*RENO DC*91*RNO1~W66*CC*U~"
            "W01*2*CA**VN*SKU-1~W01*6*EA**UP*012345678905~W76*8~"
            "SE*11*0001~GE*1*78~IEA*1*000000078~"
        )
        ((_type, parsed),) = x12.parse_documents(text)
        self.assertEqual(parsed["ship_to"]["country_code"], "US")  # N404 absent
        self.assertEqual(
            [(line["line_ref"], line["sku"], line["quantity"]) for line in parsed["lines"]],
            [("1", "SKU-1", 2.0), ("2", "012345678905", 6.0)],
        )
        self.assertValid("order.release", parsed)

    def test_wrong_transaction_set(self):
        interchange = x12.parse_interchange(SAMPLE_945)
        self.assertX12Error(
            lambda: x12.parse_940(interchange.transaction_sets[0]),
            "segment ST (position 1), element ST01",
            "expected a 940 transaction set",
        )
        text = SAMPLE_945.replace("ST*945*", "ST*810*")
        self.assertX12Error(text, "transaction set '810' is not supported")
        cancel = x12.build_940(ORDER, _envelope()).replace("W05*N*", "W05*C*")
        self.assertX12Error(cancel, "segment W05 (position 2), element W0501", "cancels")


@tagged("standard", "at_install")
class TestX12997(X12Case):
    def test_997_accepted(self):
        interchange = x12.parse_interchange(SAMPLE_945)
        text = x12.build_997(interchange, envelope=_envelope(interchange_control_number=78))
        self.assertEqual(
            _segments(text),
            [
                "ISA*00*          *00*          *ZZ*ACMEODOO       *ZZ*RENO3PL        "
                "*240305*1900*U*00401*000000078*0*P*>",
                "GS*FA*ACMEODOO*RENO3PL*20240305*1900*77*X*004010",
                "ST*997*0001",
                "AK1*SW*4512",
                "AK2*945*0001",
                "AK5*A",
                "AK9*A*1*1*1",
                "SE*6*0001",
                "GE*1*77",
                "IEA*1*000000078",
            ],
        )
        ((message_type, ack),) = x12.parse_documents(text)
        self.assertEqual(message_type, "functional.ack")
        self.assertEqual(ack["status"], "accepted")
        self.assertEqual(ack["transaction_sets"][0]["control_number"], "0001")

    def test_997_with_element_error(self):
        # an element left out before W1206: the UPC lands in W1207, read as a qualifier
        bad = SAMPLE_945.replace("W12*CP*10*8*2*EA", "W12*CP*10*abc*2*EA")
        interchange = x12.parse_interchange(bad)  # the envelope itself is fine
        with self.assertRaises(x12.X12ParseError) as caught:
            x12.parse_945(interchange.transaction_sets[0])
        text = x12.build_997(interchange, errors=[caught.exception], envelope=_envelope())
        self.assertEqual(
            _segments(text)[2:11],
            [
                "ST*997*0001",
                "AK1*SW*4512",
                "AK2*945*0001",
                "AK3*W12*11**8",
                "AK4*3**6*abc",
                "AK5*R*5",
                "AK9*R*1*1*0",
                "SE*8*0001",
                "GE*1*77",
            ],
        )
        ((_type, ack),) = x12.parse_documents(text)
        self.assertEqual(ack["status"], "rejected")
        self.assertEqual(
            ack["transaction_sets"][0]["errors"],
            [
                {
                    "segment_id": "W12",
                    "segment_position": 11,
                    "segment_error_code": "8",
                    "element_position": 3,
                    "element_error_code": "6",
                    "bad_value": "abc",
                }
            ],
        )

    def test_997_for_several_groups_and_sets(self):
        # One interchange with a 945 group (two sets) and an 846 group.
        body_945 = SAMPLE_945.split("ST*945*0001~\n")[1].split("SE*20*0001~")[0]
        second = body_945.replace("SHP-88120", "SHP-88121")
        body_846 = SAMPLE_846.split("ST*846*0001~\n")[1].split("SE*16*0001~")[0]
        text = (
            SAMPLE_945.split("GS*")[0]
            + "GS*SW*RENO3PL*ACMEODOO*20240305*1812*4512*X*004010~\n"
            + f"ST*945*0001~\n{body_945}SE*20*0001~\n"
            + f"ST*945*0002~\n{second}SE*20*0002~\n"
            + "GE*2*4512~\n"
            + "GS*IB*RENO3PL*ACMEODOO*20240306*0215*4513*X*004010~\n"
            + f"ST*846*0001~\n{body_846}SE*16*0001~\n"
            + "GE*1*4513~\n"
            + "IEA*2*000004512~\n"
        )
        documents = x12.parse_documents(text)
        self.assertEqual(
            [message_type for message_type, _payload in documents],
            ["shipment.confirmed", "shipment.confirmed", "inventory.snapshot"],
        )
        self.assertEqual(documents[1][1]["shipment_ref"], "SHP-88121")
        interchange = x12.parse_interchange(text)
        errors = {
            ("4512", "0002"): [
                {
                    "segment_id": "W06",
                    "segment_position": 2,
                    "element_position": 4,
                    "element_error_code": "7",
                    "bad_value": "SHP-88121",
                }
            ]
        }
        ack = x12.build_997(interchange, errors=errors, envelope=_envelope(), set_control_number=9)
        self.assertEqual(
            _segments(ack)[2:-2],
            [
                "ST*997*0009",
                "AK1*SW*4512",
                "AK2*945*0001",
                "AK5*A",
                "AK2*945*0002",
                "AK3*W06*2**8",
                "AK4*4**7*SHP-88121",
                "AK5*R*5",
                "AK9*P*2*2*1",
                "SE*10*0009",
                "ST*997*0010",
                "AK1*IB*4513",
                "AK2*846*0001",
                "AK5*A",
                "AK9*A*1*1*1",
                "SE*6*0010",
            ],
        )
        self.assertEqual(_segments(ack)[-2:], ["GE*2*77", "IEA*1*000000077"])
        rejected = x12.build_997(interchange, accepted=False, envelope=_envelope())
        self.assertIn("AK9*R*2*2*0", _segments(rejected))
        self.assertIn("AK9*R*1*1*0", _segments(rejected))

    def test_997_default_envelope_replies_to_sender(self):
        interchange = x12.parse_interchange(SAMPLE_846)
        reply = x12.parse_interchange(x12.build_997(interchange))
        self.assertEqual((reply.sender_id, reply.receiver_id), ("ACMEODOO", "RENO3PL"))
        self.assertEqual(reply.groups[0].functional_id, "FA")


@tagged("standard", "at_install")
class TestX12AsPartnersSendIt(X12Case):
    """Layouts seen in files trading partners published (``tests/conformance/x12/``)."""

    def test_trimmed_isa_and_unterminated_iea(self):
        expected = x12.parse_documents(SAMPLE_945)
        isa, rest = SAMPLE_945.split("~", 1)
        trimmed = " ".join(isa.split()).replace("* ", "*") + "~" + rest
        self.assertLess(len(trimmed.split("~", 1)[0]), 105)
        self.assertEqual(x12.parse_documents(trimmed), expected)
        self.assertEqual(x12.parse_documents(SAMPLE_945.rstrip().rstrip("~")), expected)
        # an IEA cut inside is still caught by its own checks
        self.assertX12Error(SAMPLE_945.rstrip()[:-3], "segment IEA", "IEA02")

    def test_product_id_qualifier_that_is_not_a_code(self):
        # W1206 (U.P.C. case code) filled: the product id is still W1207/W1208
        text = SAMPLE_945.replace(
            "W12*CP*10*8*2*EA**VN*SKU-RED~", "W12*CP*10*8*2*EA*007117901645*UK*SKU-RED~"
        )
        self.assertEqual(x12.parse_documents(text)[0][1]["lines"][0]["sku"], "SKU-RED")
        # an element left out before W1206: the UPC lands in W1207, read as a qualifier
        bad = SAMPLE_945.replace("W12*CP*10*8*2*EA**VN*SKU-RED~", "W12*CP*10*8*2*EA**0071179*UK~")
        self.assertX12Error(
            bad,
            "segment W12 (position 11), element W1207: product ID qualifier '0071179' is not a "
            "qualifier code",
        )

    def test_846_qualifiers_units_in_uit_and_warehouse_from_the_backend(self):
        text = SAMPLE_846.replace("N1*WH*RENO DC*91*RNO1~\n", "N1*SF*RENO 3PL~\n").replace(
            "QTY*17*240*EA~", "QTY*33*200~\nUIT*CA~\nQTY*02*5~\nQTY*17*240~\nUIT*EA~"
        )
        text = text.replace("SE*16*", "SE*20*")
        self.assertX12Error(text, "segment N1", "no warehouse party (N1 with N101 = WH)")
        options = x12.InventoryOptions(quantity_qualifiers=("33", "17"), warehouse_code="E3PL")
        ((_type, payload),) = x12.parse_documents(text, options)
        self.assertEqual(payload["warehouse_code"], "E3PL")
        self.assertEqual(
            payload["lines"][0], {"sku": "SKU-RED", "lot": None, "quantity": 200.0, "uom": "CA"}
        )
        self.assertEqual(payload["lines"][1]["quantity"], 57.0, "17 where 33 is absent")
        options = x12.InventoryOptions(warehouse_entities=("SF",))
        ((_type, payload),) = x12.parse_documents(text, options)
        self.assertEqual(payload["warehouse_code"], "RENO 3PL")
        self.assertEqual(payload["lines"][0]["uom"], "EA", "the UIT after QTY*17")
