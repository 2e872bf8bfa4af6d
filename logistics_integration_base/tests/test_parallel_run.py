"""The parallel run's comparison, in words (``tools/parallel_run.py``, no ORM)."""

from odoo.tests import BaseCase

from ..tools import parallel_run

TYPE = "test.parallel.order"
parallel_run.register_comparison(
    TYPE,
    key="ref",
    lines="items",
    line_key="sku",
    line_label="SKU",
    labels={"items.qty": "quantity", "to.zip": "postcode"},
    ignore=("items.number",),
)
PERSONAL = {("to", "street"), ("items", "[]", "note")}


def order(**changes):
    doc = {
        "ref": "WH/OUT/00042",
        "to": {"street": "1 Main St", "zip": "12345"},
        "items": [
            {"number": "1", "sku": "MUG-01", "qty": 5, "note": "gift for Jane"},
            {"number": "2", "sku": "CUP-02", "qty": 1.0},
        ],
    }
    doc.update(changes)
    return doc


class TestParallelRunComparison(BaseCase):
    def diff(self, legacy, suite=None):
        return parallel_run.differences(TYPE, suite or order(), legacy, PERSONAL)

    def test_same_document_in_another_form_matches(self):
        legacy = order(
            items=[  # other line numbers, another order, 1 for 1.0, blanks, empty for None
                {"number": "20", "sku": "CUP-02", "qty": 1},
                {"number": "10", "sku": " MUG-01 ", "qty": 5.0, "note": "gift for Jane "},
            ],
            extra=None,
        )
        self.assertEqual(self.diff(legacy), [])

    def test_each_difference_in_words(self):
        legacy = order(
            to={"street": "1 Main Street", "zip": "12346"},
            items=[
                {"sku": "MUG-01", "qty": 4, "note": "gift for John"},
                {"sku": "SAUCER-03", "qty": 1},
            ],
        )
        self.assertEqual(
            self.diff(legacy),
            [
                # a personal value is named, never written
                "to street differs on WH/OUT/00042",
                "postcode 12345 vs 12346 on WH/OUT/00042",
                "SKU CUP-02 only in the suite's message on WH/OUT/00042",
                "note differs for SKU MUG-01 on WH/OUT/00042",
                "quantity 5 vs 4 for SKU MUG-01 on WH/OUT/00042",
                "SKU SAUCER-03 only in the legacy output on WH/OUT/00042",
            ],
        )

    def test_keys_and_readers(self):
        self.assertEqual(parallel_run.business_key(TYPE, {"ref": " A-1 "}), "A-1")
        self.assertIsNone(parallel_run.business_key(TYPE, {"ref": ""}))
        self.assertIsNone(parallel_run.business_key("unknown.type", {"ref": "A"}))
        copy = b'{"type": "test.parallel.order", "data": {"ref": "A-1"}}'
        self.assertEqual(parallel_run.read_legacy("a.json", copy), [(TYPE, {"ref": "A-1"}, None)])
        copy = (
            b'[{"type": "test.parallel.order", "data": {"ref": "A-2"}, '
            b'"dataschema": "urn:logistics:schema:test.parallel.order:v3"}]'
        )
        self.assertEqual(parallel_run.read_legacy("b.json", copy), [(TYPE, {"ref": "A-2"}, 3)])
        with self.assertRaisesRegex(ValueError, "not one the parallel run reads"):
            parallel_run.read_legacy("a.bin", b"\x00\x01")
        with self.assertRaisesRegex(ValueError, "CloudEvents"):
            parallel_run.read_legacy("a.json", b'{"ref": "A-1"}')
