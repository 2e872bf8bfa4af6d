"""CSV formats for 3PL partners: realistic files, round trips, errors naming line and column."""

import copy
import json
import os
import re
import tempfile
import time
from pathlib import Path

from jsonschema import Draft202012Validator
from logistics_simulators import csv_partner

from odoo.tests import BaseCase, tagged

from ..formats import csv_format

SCHEMA_DIR = Path(__file__).resolve().parent.parent / "schemas"
ISO_UTC = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}Z$")

# As a 3PL sends it: byte-order mark, CRLF, an extra column we do not know, a quoted field
# with a comma and doubled quotes, local time with an offset, one row per lot.
SHIPMENTS_CSV = (
    "\ufefforder_ref,shipment_ref,shipped_at,carrier_code,service,tracking_ref,line_ref,sku,"
    "quantity,uom,lot,packer_note\r\n"
    "WH/OUT/00042,SHP-88120,2024-03-05T12:45:00-05:00,UPSN,GROUND,1Z999AA10123456784,1,"
    'SKU-RED,8,EA,,"Packed by ""Mike"", bay 4"\r\n'
    "WH/OUT/00042,SHP-88120,2024-03-05T12:45:00-05:00,UPSN,GROUND,1Z999AA10123456784,2,"
    "SKU-VAX,3,EA,LOT-A1,\r\n"
    "WH/OUT/00042,SHP-88120,2024-03-05T12:45:00-05:00,UPSN,GROUND,1Z999AA10123456784,2,"
    "SKU-VAX,2,EA,LOT-B7,\r\n"
    "WH/OUT/00043,SHP-88121,2024-03-05T13:10:00-05:00,FDEG,,794612345678,,SKU-OIL,12.5,LT,,\r\n"
)

EXPECTED_SHIPMENTS = [
    {
        "order_ref": "WH/OUT/00042",
        "shipment_ref": "SHP-88120",
        "shipped_at": "2024-03-05T17:45:00Z",
        "carrier": {"code": "UPSN", "service": "GROUND"},
        "tracking_ref": "1Z999AA10123456784",
        "complete": None,
        "lines": [
            {"line_ref": "1", "sku": "SKU-RED", "quantity": 8.0, "uom": "EA", "lots": []},
            {
                "line_ref": "2",
                "sku": "SKU-VAX",
                "quantity": 5.0,
                "uom": "EA",
                "lots": [
                    {"lot": "LOT-A1", "quantity": 3.0, "expiration_date": None},
                    {"lot": "LOT-B7", "quantity": 2.0, "expiration_date": None},
                ],
            },
        ],
    },
    {
        "order_ref": "WH/OUT/00043",
        "shipment_ref": "SHP-88121",
        "shipped_at": "2024-03-05T18:10:00Z",
        "carrier": {"code": "FDEG", "service": None},
        "tracking_ref": "794612345678",
        "complete": None,
        "lines": [{"line_ref": None, "sku": "SKU-OIL", "quantity": 12.5, "uom": "LT", "lots": []}],
    },
]

INVENTORY_CSV = """\
snapshot_ref,warehouse_code,as_of,sku,lot,quantity,uom
INV-RNO1-20240306,RNO1,2024-03-06T02:00:00Z,SKU-RED,,240,EA
INV-RNO1-20240306,RNO1,2024-03-06T02:00:00Z,SKU-VAX,LOT-A1,57,EA
INV-RNO1-20240306,RNO1,2024-03-06T02:00:00Z,SKU-VAX,LOT-B7,120,EA
INV-RNO1-20240306,RNO1,2024-03-06T02:00:00Z,SKU-OIL,,12.5,LT
INV-RNO1-20240306,RNO1,2024-03-06T02:00:00Z,SKU-DMG,,-3,
"""

EXPECTED_INVENTORY = {
    "snapshot_ref": "INV-RNO1-20240306",
    "warehouse_code": "RNO1",
    "as_of": "2024-03-06T02:00:00Z",
    "lines": [
        {"sku": "SKU-RED", "lot": None, "quantity": 240.0, "uom": "EA"},
        {"sku": "SKU-VAX", "lot": "LOT-A1", "quantity": 57.0, "uom": "EA"},
        {"sku": "SKU-VAX", "lot": "LOT-B7", "quantity": 120.0, "uom": "EA"},
        {"sku": "SKU-OIL", "lot": None, "quantity": 12.5, "uom": "LT"},
        {"sku": "SKU-DMG", "lot": None, "quantity": -3.0, "uom": None},
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
        "company": "Acme, Corp",
        "street": '12 "Old Mill" Road',
        "street2": None,
        "city": "Reno",
        "state_code": "NV",
        "zip": "89501",
        "country_code": "US",
        "email": "jane.doe@example.com",
        "phone": None,
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
            "name": "Vaccine cooler",
            "quantity": 5.0,
            "uom": "EA",
            "lot_tracking": "lot",
            "lots": [
                {"lot": "LOT-A1", "quantity": 3.0, "expiration_date": "2025-12-31"},
                {"lot": "LOT-B7", "quantity": 1.5, "expiration_date": None},
            ],
        },
    ],
    "notes": "Deliver to dock 3.\nCall 30 minutes before arrival.",
}

ORDER_2 = {
    "order_ref": "WH/OUT/00043",
    "origin": None,
    "warehouse_code": "RNO1",
    "requested_date": None,
    "carrier": None,
    "ship_to": {
        "name": "Pierre Martin",
        "company": None,
        "street": "1 rue de la Paix",
        "street2": "Bâtiment B",
        "city": "Paris",
        "state_code": None,
        "zip": "75002",
        "country_code": "FR",
        "email": None,
        "phone": "+33 1 23 45 67 89",
    },
    "lines": [
        {"line_ref": "7", "sku": "SKU-OIL", "name": None, "quantity": 2.5, "uom": "LT", "lots": []}
    ],
    "notes": None,
}


class CSVCase(BaseCase):
    _validators = {}

    def assertValid(self, message_type, payload):
        validator = self._validators.get(message_type)
        if validator is None:
            schema = json.loads((SCHEMA_DIR / f"{message_type}.v1.json").read_text())
            validator = Draft202012Validator(
                schema, format_checker=Draft202012Validator.FORMAT_CHECKER
            )
            self._validators[message_type] = validator
        errors = [
            f"{'/'.join(map(str, e.path))}: {e.message}" for e in validator.iter_errors(payload)
        ]
        self.assertFalse(errors, errors)
        # FORMAT_CHECKER has no date-time check without the optional rfc3339-validator.
        for key in ("shipped_at", "as_of"):
            if key in payload:
                self.assertRegex(payload[key], ISO_UTC)

    def assertCSVError(self, parse, text, line, column, fragment):
        with self.assertRaises(csv_format.CSVParseError) as caught:
            parse(text)
        error = caught.exception
        self.assertEqual((error.line, error.column), (line, column), str(error))
        self.assertIn(fragment, str(error))
        prefix = f"line {line}, column {column}: " if column else f"line {line}: "
        self.assertTrue(str(error).startswith(prefix), str(error))
        return error


@tagged("standard", "at_install")  # explicit, so the tests also run outside odoo.addons
class TestShipmentsCSV(CSVCase):
    def test_parse_shipments(self):
        shipments = csv_format.parse_shipments_csv(SHIPMENTS_CSV)
        self.assertEqual(shipments, EXPECTED_SHIPMENTS)
        for shipment in shipments:
            self.assertValid("shipment.confirmed", shipment)

    def test_same_lot_from_two_bins_is_added_up(self):
        text = SHIPMENTS_CSV.replace(",2,EA,LOT-B7,", ",2,EA,LOT-A1,")
        (first, _second) = csv_format.parse_shipments_csv(text)
        self.assertEqual(
            first["lines"][1]["lots"], [{"lot": "LOT-A1", "quantity": 5.0, "expiration_date": None}]
        )
        self.assertEqual(first["lines"][1]["quantity"], 5.0)

    def test_bytes_and_file_input(self):
        self.assertEqual(
            csv_format.parse_shipments_csv(SHIPMENTS_CSV.encode("utf-8")), EXPECTED_SHIPMENTS
        )
        with tempfile.NamedTemporaryFile("w", suffix=".csv", delete=False, newline="") as handle:
            handle.write(SHIPMENTS_CSV.replace("\r\n", "\n"))
        try:
            with open(handle.name, encoding="utf-8-sig", newline="") as stream:
                self.assertEqual(csv_format.parse_shipments_csv(stream), EXPECTED_SHIPMENTS)
        finally:
            os.unlink(handle.name)

    def test_round_trip(self):
        text = csv_partner.build_shipments_csv(EXPECTED_SHIPMENTS)
        rows = text.split("\r\n")
        self.assertEqual(rows[0], ",".join(csv_format.SHIPMENT_COLUMNS))
        self.assertEqual(
            rows[1:],
            [
                "WH/OUT/00042,SHP-88120,2024-03-05T17:45:00Z,UPSN,GROUND,1Z999AA10123456784,1,"
                "SKU-RED,8,EA,",
                "WH/OUT/00042,SHP-88120,2024-03-05T17:45:00Z,UPSN,GROUND,1Z999AA10123456784,2,"
                "SKU-VAX,3,EA,LOT-A1",
                "WH/OUT/00042,SHP-88120,2024-03-05T17:45:00Z,UPSN,GROUND,1Z999AA10123456784,2,"
                "SKU-VAX,2,EA,LOT-B7",
                "WH/OUT/00043,SHP-88121,2024-03-05T18:10:00Z,FDEG,,794612345678,,SKU-OIL,12.5,LT,",
                "",
            ],
        )
        self.assertEqual(csv_format.parse_shipments_csv(text), EXPECTED_SHIPMENTS)

    def test_bad_rows(self):
        parse = csv_format.parse_shipments_csv
        header = ",".join(csv_format.SHIPMENT_COLUMNS) + "\r\n"
        row = "WH/OUT/1,SHP-1,2024-03-05T17:45:00Z,UPSN,GROUND,1Z1,1,SKU-1,{qty},EA,{lot}\r\n"
        self.assertCSVError(
            parse,
            header + row.format(qty="2", lot="") + row.format(qty="abc", lot=""),
            3,
            "quantity",
            "'abc' is not a number",
        )
        self.assertCSVError(
            parse, header + row.format(qty="1,5", lot=""), 2, None, "has 12 field(s)"
        )
        self.assertCSVError(
            parse, header + row.format(qty="-1", lot=""), 2, "quantity", "must be at least 0"
        )
        self.assertCSVError(
            parse, header + row.format(qty="0", lot="LOT-1"), 2, "quantity", "lot 'LOT-1'"
        )
        self.assertCSVError(
            parse,
            header
            + row.format(qty="1", lot="")
            + row.format(qty="1", lot="").replace("UPSN", "FDEG"),
            3,
            "carrier_code",
            "'FDEG' differs from 'UPSN' given on line 2",
        )
        self.assertCSVError(
            parse,
            header + row.format(qty="1", lot="").replace("2024-03-05T17:45:00Z", "05/03/2024"),
            2,
            "shipped_at",
            "'05/03/2024' is not an ISO 8601 date-time",
        )
        self.assertCSVError(
            parse,
            header + row.format(qty="1", lot="").replace("SHP-1", ""),
            2,
            "shipment_ref",
            "a value is required",
        )
        self.assertCSVError(
            parse,
            "order_ref,sku,quantity\r\nWH/OUT/1,SKU-1,1\r\n",
            1,
            "shipment_ref",
            "required column(s) missing from the header: shipment_ref",
        )
        self.assertCSVError(parse, header + 'WH/OUT/1,"SHP-1,2024\r\n', 2, None, "malformed CSV")
        self.assertCSVError(parse, "", 1, None, "the file is empty")
        self.assertCSVError(
            parse,
            header.encode() + "WH/OUT/1,SHP-1,,,,,,SKU-\u00e9,1,EA,\r\n".encode("latin-1"),
            2,
            None,
            "not UTF-8",
        )


@tagged("standard", "at_install")
class TestInventoryCSV(CSVCase):
    def test_parse_inventory(self):
        snapshot = csv_format.parse_inventory_csv(INVENTORY_CSV)
        self.assertEqual(snapshot, EXPECTED_INVENTORY)
        self.assertValid("inventory.snapshot", snapshot)

    def test_round_trip_and_empty_snapshot(self):
        text = csv_partner.build_inventory_csv(EXPECTED_INVENTORY)
        self.assertEqual(text.replace("\r\n", "\n"), INVENTORY_CSV)
        self.assertEqual(csv_format.parse_inventory_csv(text), EXPECTED_INVENTORY)
        empty = {"snapshot_ref": "INV-0", "warehouse_code": "RNO1", "lines": []}
        text = csv_partner.build_inventory_csv(empty)
        self.assertEqual(
            text, "snapshot_ref,warehouse_code,as_of,sku,lot,quantity,uom\r\nINV-0,RNO1,,,,,\r\n"
        )
        self.assertEqual(csv_format.parse_inventory_csv(text), empty)
        self.assertValid("inventory.snapshot", empty)

    def test_ten_thousand_lines(self):
        rows = ["snapshot_ref,warehouse_code,as_of,sku,lot,quantity,uom"]
        rows += [
            f"INV-BIG,RNO1,2024-03-06T02:00:00Z,SKU-{n:05d},{'L' + str(n) if n % 3 else ''},"
            f"{n % 500}.{n % 10},EA"
            for n in range(10_000)
        ]
        text = "\r\n".join(rows) + "\r\n"
        started = time.perf_counter()
        snapshot = csv_format.parse_inventory_csv(text)
        elapsed = time.perf_counter() - started
        self.assertEqual(len(snapshot["lines"]), 10_000)
        self.assertEqual(
            snapshot["lines"][9_999],
            {"sku": "SKU-09999", "lot": None, "quantity": 499.9, "uom": "EA"},
        )
        self.assertLess(elapsed, 5, "parsing 10,000 rows should take well under a second")
        self.assertValid("inventory.snapshot", snapshot)
        # Streaming from a file object (iterated line by line, never read whole).
        with tempfile.NamedTemporaryFile("w", suffix=".csv", delete=False, newline="") as handle:
            handle.write(text)
        try:
            with open(handle.name, encoding="utf-8-sig", newline="") as stream:
                self.assertEqual(csv_format.parse_inventory_csv(stream), snapshot)
        finally:
            os.unlink(handle.name)

    def test_bad_rows(self):
        parse = csv_format.parse_inventory_csv
        self.assertCSVError(
            parse,
            INVENTORY_CSV.replace("LOT-B7,120,", "LOT-B7,12O,"),
            4,
            "quantity",
            "'12O' is not a number",
        )
        self.assertCSVError(
            parse,
            INVENTORY_CSV.replace(
                "RNO1,2024-03-06T02:00:00Z,SKU-OIL", "LAS1,2024-03-06T02:00:00Z,SKU-OIL"
            ),
            5,
            "warehouse_code",
            "differs from 'RNO1' given on line 2",
        )
        self.assertCSVError(
            parse,
            INVENTORY_CSV.replace("2024-03-06T02:00:00Z,SKU-DMG", "2024-03-06T03:00:00Z,SKU-DMG"),
            6,
            "as_of",
            "'2024-03-06T03:00:00Z' differs from '2024-03-06T02:00:00Z' given on line 2",
        )
        # An empty as_of on a later row inherits the value of the first row.
        inherited = INVENTORY_CSV.replace("2024-03-06T02:00:00Z,SKU-DMG", ",SKU-DMG")
        self.assertEqual(parse(inherited), EXPECTED_INVENTORY)
        self.assertCSVError(
            parse,
            "snapshot_ref,warehouse_code,sku,quantity\r\n",
            2,
            None,
            "no data rows",
        )
        self.assertCSVError(
            parse,
            "snapshot_ref,warehouse_code,sku,sku,quantity\r\n",
            1,
            "sku",
            "duplicate column",
        )


@tagged("standard", "at_install")
class TestOrdersCSV(CSVCase):
    def test_round_trip(self):
        for order in (ORDER, ORDER_2):
            self.assertValid("order.release", order)
        text = csv_format.build_orders_csv([ORDER, ORDER_2])
        self.assertTrue(text.startswith(",".join(csv_format.ORDER_COLUMNS) + "\r\n"))
        self.assertIn(
            'WH/OUT/00042,S00042,RNO1,2024-03-06,UPSN,GROUND,Jane Doe,"Acme, Corp",'
            '"12 ""Old Mill"" Road",,Reno,NV,89501,US,jane.doe@example.com,,'
            '"Deliver to dock 3.\nCall 30 minutes before arrival.",'
            "2,SKU-VAX,Vaccine cooler,3,EA,lot,LOT-A1,2025-12-31\r\n",
            text,
        )
        # One row per lot plus one for the quantity without lot (5 - 3 - 1.5).
        self.assertIn("2,SKU-VAX,Vaccine cooler,0.5,EA,lot,,\r\n", text)
        parsed = csv_partner.parse_orders_csv(text)
        self.assertEqual(parsed, [ORDER, ORDER_2])
        for order in parsed:
            self.assertValid("order.release", order)

    def test_hand_written_file(self):
        """Columns in another order, optional columns only on the first row of an order."""
        text = (
            "sku,quantity,uom,line_ref,order_ref,warehouse_code,ship_to_name,ship_to_street,"
            "ship_to_city,ship_to_zip,ship_to_country_code,notes\n"
            'SKU-1,2,EA,1,SO-9,RNO1,Bob,1 Elm St,Dallas,75201,US,"fragile, keep upright"\n'
            "SKU-2,1,EA,2,SO-9,RNO1,Bob,1 Elm St,Dallas,75201,US,\n"
            "SKU-1,3,EA,1,SO-9,RNO1,Bob,1 Elm St,Dallas,75201,US,\n"
        )
        (order,) = csv_partner.parse_orders_csv(text)
        self.assertEqual(order["notes"], "fragile, keep upright")
        self.assertEqual(
            [(line["line_ref"], line["sku"], line["quantity"]) for line in order["lines"]],
            [("1", "SKU-1", 5.0), ("2", "SKU-2", 1.0)],
        )
        self.assertValid("order.release", order)

    def test_bad_rows(self):
        parse = csv_partner.parse_orders_csv
        text = csv_format.build_orders_csv([ORDER])
        # The quoted notes span two physical lines: the third row starts on line 6.
        self.assertEqual(len(csv_partner.parse_orders_csv(text)[0]["lines"]), 2)
        third_row_line = 6
        rows = text.split("\r\n")
        rows[3] = rows[3].replace(",1.5,EA,lot,LOT-B7", ",three,EA,lot,LOT-B7")
        self.assertCSVError(
            parse, "\r\n".join(rows), third_row_line, "quantity", "'three' is not a number"
        )
        order = copy.deepcopy(ORDER)
        order["ship_to"]["country_code"] = "USA"
        self.assertCSVError(
            parse,
            csv_format.build_orders_csv([order]),
            2,
            "ship_to_country_code",
            "'USA' is not a 2-letter",
        )
        rows = text.split("\r\n")
        rows[-2] = rows[-2].replace(",SKU-VAX,", ",SKU-VAX2,")
        self.assertCSVError(
            parse, "\r\n".join(rows), 8, "sku", "'SKU-VAX2' differs from 'SKU-VAX' given on line 4"
        )
        self.assertCSVError(
            parse,
            text.replace("2024-03-06", "2024-02-30"),
            2,
            "requested_date",
            "'2024-02-30' is not a date",
        )
        self.assertCSVError(
            parse, text.replace(",lot,LOT-B7,", ",batch,LOT-B7,"), 6, "lot_tracking", "'batch'"
        )

    def test_build_errors(self):
        order = copy.deepcopy(ORDER)
        order["lines"][1]["quantity"] = 4
        with self.assertRaisesRegex(csv_format.CSVBuildError, "exceed the line quantity"):
            csv_format.build_orders_csv([order])
        order = copy.deepcopy(ORDER)
        del order["ship_to"]["city"]
        with self.assertRaisesRegex(csv_format.CSVBuildError, r"orders\[0\]\.ship_to\.city"):
            csv_format.build_orders_csv([order])
