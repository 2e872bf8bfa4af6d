"""X12 with 3PLs against what trading partners really sent (``tests/conformance/x12/``, see
its SOURCES.md): published 945s and 846s dropped on the real SFTP server and polled, booked
to the right figures or refused with the segment and element named; units of measure and
lots as a 3PL writes them; the 3PL simulator's files and our 940s checked against the
published files' structure."""

from conformance import read_bytes
from logistics_simulators import x12_partner

from odoo.addons.logistics_integration_base.formats.x12.envelope import _isa_separators
from odoo.addons.logistics_integration_base.formats.x12.segments import element, tokenize

from ..formats import inbound_files
from .common import run_jobs
from .test_sftp_exchange import SftpExchangeCase


def published(folder, name):
    return read_bytes("x12", folder, name)


def segments_of(data):
    """The segments of a published file as its sender wrote them (read with the separators
    its ISA declares, without validating the envelope: some are refused, see the tests)."""
    text = data.decode("utf-8-sig").lstrip()
    separators = _isa_separators(text)
    if separators.segment not in "\r\n":
        text = text.replace("\r", "").replace("\n", "")
    return tokenize(text, separators)


CODE, NUMBER, ANY = r"^[A-Z0-9]{2}$", r"^-?\d+(\.\d+)?$", r"."
PUBLISHED_945 = (
    ("945", "945_oopfactory_inter-americanproducts.txt"),
    ("945", "945_x12-types_waqe.x12"),
)
PUBLISHED_846 = (
    ("846", "846_oopfactory_example1.txt"),
    ("846", "846_oopfactory_example2.txt"),
)
PUBLISHED_940 = (
    ("940", "940_ediengine_940.OK.edi"),
    ("940", "940_oopfactory_simplot.txt"),
)


class TestConformanceX12(SftpExchangeCase):
    # helpers ---------------------------------------------------------------------------------
    def drop_published(self, folder, name):
        self.sim.sftp_drop_file(self.partner, name, published(folder, name))
        [record] = self.poll()
        return record

    def assertRefused(self, record, *fragments):
        """The file is kept in the error folder, its message in the exception queue with an
        error naming the segment and element."""
        self.assertEqual(record.state, "error")
        self.assertIn(record.name.rsplit("/", 1)[-1], self.folder("in/error"))
        [msg] = record.message_ids
        self.assertEqual((msg.state, msg.error_category), ("failed", "validation"))
        for fragment in fragments:
            self.assertIn(fragment, msg.error_message)
        return msg

    def inventory_setup(self, **vals):
        self.backend.write(dict({"x12_inventory_warehouse_id": self.warehouse.id}, **vals))

    def reconciliation(self, ref):
        return self.env["logistics.inventory.reconciliation"].search(
            [("backend_id", "=", self.backend.id), ("snapshot_ref", "=", ref)]
        )

    def ship_945(self, picking, lines, shipment_ref="SHP-CA-1", **build):
        shipment = {
            "order_ref": picking.name,
            "shipment_ref": shipment_ref,
            "shipped_at": "2026-11-22T12:00:00Z",
            "carrier": {"code": "UPSN", "service": "GROUND"},
            "lines": lines,
        }
        content = x12_partner.build_945(shipment, self.sim.sftp_envelope(), **build)
        self.sim.sftp_drop_file(self.partner, f"945_{shipment_ref}.x12", content)
        [record] = self.poll()
        self.assertEqual(record.state, "processed", record.message_ids.mapped("error_message"))
        run_jobs(self.env)
        [msg] = record.message_ids
        return msg

    # 846 ------------------------------------------------------------------------------------
    def test_846_with_other_quantity_qualifiers_and_no_warehouse_party(self):
        """Sanmina's 846 (OopFactory sample): '~' elements, '}' terminators, CR/LF,
        indentation, a byte-order mark; no N1*WH (N1*ST and N1*SE only); on-hand quantities
        under QTY*34 with the unit in a UIT segment; BP product id."""
        product = self.env["product.product"].create(
            {"name": "Sanmina board", "default_code": "46L5055", "is_storable": True}
        )
        # As the backend comes: qualifier 17, warehouse from N1*WH. Refused in plain words.
        record = self.drop_published("846", "846_oopfactory_example1.txt")
        msg = self.assertRefused(
            record,
            "segment LIN (position 7)",
            "no on-hand quantity (QTY*17) for SKU '46L5055'",
            "34, QH, QB, 87",
        )
        self.assertEqual(msg.message_type, "inventory.snapshot")
        self.assertFalse(self.reconciliation("10353"))
        self.assertEqual(product.qty_available, 0)

    def test_846_read_with_the_backends_qualifiers_and_warehouse(self):
        """The same 846, the backend configured for this 3PL: on hand is QTY*34, its
        advices name no warehouse (they count the backend's)."""
        product = self.env["product.product"].create(
            {"name": "Sanmina board", "default_code": "46L5055", "is_storable": True}
        )
        self.inventory_setup(x12_onhand_qualifiers="17, 34")
        record = self.drop_published("846", "846_oopfactory_example1.txt")
        self.assertEqual(record.state, "processed")
        run_jobs(self.env)
        [msg] = record.message_ids
        self.assertEqual(msg.state, "processed", msg.error_message)
        recon = self.reconciliation("10353")
        self.assertEqual(recon.warehouse_id, self.warehouse)
        self.assertEqual(str(recon.as_of), "2004-08-11 23:00:00")  # DTM*007 ... 2300 GM
        [line] = recon.line_ids.filtered(lambda ln: ln.product_id == product)
        self.assertEqual((line.sku, line.partner_qty, line.odoo_qty), ("46L5055", 5250, 0))
        _interchange, ack = self.read_997(record.ack_file)
        self.assertEqual(ack["status"], "accepted")

    def test_846_missing_its_on_hand_quantity_names_the_item(self):
        """An 846 published with two segment terminators missing (OopFactory Example2, '~'
        elements and '*' terminators): the third item's QTY*17 is swallowed by a REF, so the
        advice cannot be read as a full count; refused naming the LIN and what it carries."""
        self.inventory_setup()
        record = self.drop_published("846", "846_oopfactory_example2.txt")
        self.assertRefused(
            record,
            "segment LIN (position 11)",
            "no on-hand quantity (QTY*17) for SKU 'H316L0750040'",
            "qualifiers (QTY01) 63",
        )
        self.assertFalse(self.reconciliation("20030828234648"))
        self.assertEqual(len(self.acks_written()), 1, "a 997 rejecting it")
        _interchange, ack = self.read_997(self.acks_written()[0])
        self.assertEqual(ack["status"], "rejected")

    def test_846_in_an_unknown_unit_reconciles_nothing(self):
        self.inventory_setup()
        snapshot = {
            "snapshot_ref": "INV-PL",
            "warehouse_code": "E3PL",
            "lines": [
                {"sku": "CHAIR-1", "lot": None, "quantity": 2, "uom": "PL"},
                {"sku": "DESK-1", "lot": None, "quantity": 50, "uom": "EA"},
            ],
        }
        content = x12_partner.build_846(snapshot, self.sim.sftp_envelope())
        self.sim.sftp_drop_file(self.partner, "846_pl.x12", content)
        [record] = self.poll()
        run_jobs(self.env)
        [msg] = record.message_ids
        self.assertEqual((msg.state, msg.error_category), ("failed", "business"))
        self.assertIn(
            "counts 1 item(s) in units Odoo cannot convert (CHAIR-1 in PL)", msg.error_message
        )
        self.assertIn("add a packaging named PL", msg.error_message)
        self.assertFalse(self.reconciliation("INV-PL"), "nothing compared nor applied")

        # a pallet of the chair holds 40: Retry counts 80 chairs
        self.env["product.packaging"].create(
            {"name": "Pallet", "product_id": self.chair.id, "qty": 40}
        )
        msg.action_retry()
        run_jobs(self.env)
        self.assertEqual(msg.state, "processed", msg.error_message)
        line = self.reconciliation("INV-PL").line_ids.filtered(
            lambda ln: ln.product_id == self.chair
        )
        self.assertEqual((line.partner_qty, line.odoo_qty), (80, 100))

    def test_846_lots_of_a_product_without_lot_tracking_are_counted_and_reported(self):
        self.inventory_setup()
        snapshot = {
            "snapshot_ref": "INV-LOTS",
            "warehouse_code": "E3PL",
            "lines": [
                {"sku": "CHAIR-1", "lot": "40550", "quantity": 60, "uom": "EA"},
                {"sku": "CHAIR-1", "lot": "40551", "quantity": 40, "uom": "EA"},
                {"sku": "SERUM-1", "lot": "L-100", "quantity": 30, "uom": "EA"},
            ],
        }
        content = x12_partner.build_846(snapshot, self.sim.sftp_envelope())
        self.sim.sftp_drop_file(self.partner, "846_lots.x12", content)
        [record] = self.poll()
        run_jobs(self.env)
        self.assertEqual(record.message_ids.state, "processed", record.message_ids.error_message)
        recon = self.reconciliation("INV-LOTS")
        chair = recon.line_ids.filtered(lambda ln: ln.product_id == self.chair)
        self.assertEqual((chair.partner_qty, chair.odoo_qty), (100, 100))
        self.assertFalse(chair.lot_id)
        self.assertFalse(self.env["stock.lot"].search([("product_id", "=", self.chair.id)]))
        serum = recon.line_ids.filtered(lambda ln: ln.product_id == self.serum)
        self.assertEqual((serum.lot_id.name, serum.partner_qty), ("L-100", 30))
        notes = " ".join(recon.message_ids.mapped("body"))
        self.assertIn("not tracked by lot", notes)
        self.assertIn("CHAIR-1 40550, CHAIR-1 40551", notes)

    # 945 ------------------------------------------------------------------------------------
    def test_published_945s_are_refused_naming_segment_and_element(self):
        # Inter-American Products (OopFactory sample): GS has an extra element, GS04 = '000'
        record = self.drop_published("945", "945_oopfactory_inter-americanproducts.txt")
        self.assertRefused(record, "segment GS (position 2), element GS04", "'000'")
        # WAQE's 945 (x12-types sample): an ISA whose padded elements were trimmed is read,
        # but SE01 declares 12 segments where the set has 16
        record = self.drop_published("945", "945_x12-types_waqe.x12")
        msg = self.assertRefused(
            record,
            "segment SE (position 16), element SE01",
            "declares 12 segment(s) but contains 16",
        )
        self.assertEqual(msg.message_type, "shipment.confirmed")

    def test_945_in_cases_is_booked_in_units(self):
        """Two LX loops of 72 CA for the same order line (as J.R. Simplot's 945 sample): 144
        cases of 12 are 1,728 units, not 144."""
        self.env["product.packaging"].create({"name": "CA", "product_id": self.chair.id, "qty": 12})
        self.env["stock.quant"]._update_available_quantity(self.chair, self.stock_location, 1700)
        picking = self.make_delivery([(self.chair, 1728)])
        run_jobs(self.env)
        move = picking.move_ids
        lines = [
            {"line_ref": str(move.id), "sku": "CHAIR-1", "quantity": 72, "uom": "CA"},
            {"line_ref": str(move.id), "sku": "CHAIR-1", "quantity": 72, "uom": "CA"},
        ]
        msg = self.ship_945(picking, lines)
        self.assertEqual(msg.state, "processed", msg.error_message)
        self.assertEqual(picking.state, "done")
        self.assertEqual(move.quantity, 1728)
        self.assertFalse(picking.backorder_ids)

    def test_a_3pl_counting_in_cases_gets_940s_in_cases_and_is_read_in_cases(self):
        """The product mapping names the packaging the 3PL counts in: whole cases go out as
        CA (W0102), the rest in units; its 945s in CA, or without a unit, are cases."""
        case = self.env["product.packaging"].create(
            {"name": "Case", "product_id": self.chair.id, "qty": 12}
        )
        self.env["logistics.product.mapping"].create(
            {
                "backend_id": self.backend.id,
                "product_id": self.chair.id,
                "partner_sku": "CHAIR-1",
                "partner_packaging_id": case.id,
            }
        )
        in_cases = self.make_delivery([(self.chair, 24)])
        in_units = self.make_delivery([(self.chair, 7)])
        run_jobs(self.env)
        w01 = {}
        for name in self.folder("out"):
            segments = segments_of(self.read_file("out", name).encode())
            order = next(s[2] for s in segments if s[0] == "W05")
            w01[order] = next(s[1:6] for s in segments if s[0] == "W01")
        self.assertEqual(w01[in_cases.name], ["2", "CA", "", "VN", "CHAIR-1"])
        self.assertEqual(w01[in_units.name], ["7", "EA", "", "VN", "CHAIR-1"])

        # the 3PL ships as ordered: 2 CA (the simulator echoes the 940's unit)
        self.sim.sftp_pickup_orders(self.partner)
        drop = self.sim.sftp_drop_945(self.partner, in_cases.name, quantities={"CHAIR-1": 2})
        [record] = self.poll().filtered(lambda r: r.name.endswith(drop.name))
        run_jobs(self.env)
        self.assertEqual(record.message_ids.state, "processed", record.message_ids.error_message)
        self.assertEqual(in_cases.state, "done")
        self.assertEqual(in_cases.move_ids.quantity, 24)
        # a 945 without a unit counts in the mapped packaging too
        move = in_units.move_ids
        line = {"line_ref": str(move.id), "sku": "CHAIR-1", "quantity": 0.5, "uom": None}
        msg = self.ship_945(in_units, [line], shipment_ref="SHP-HALF")
        self.assertEqual(msg.state, "processed", msg.error_message)
        self.assertEqual(move.quantity, 6)

    def test_945_in_an_unknown_unit_is_refused_in_plain_words(self):
        picking = self.make_delivery([(self.chair, 24)])
        run_jobs(self.env)
        lines = [{"line_ref": None, "sku": "CHAIR-1", "quantity": 2, "uom": "CA"}]
        msg = self.ship_945(picking, lines)
        self.assertEqual((msg.state, msg.error_category), ("failed", "business"))
        self.assertIn(
            "Line 1: 3PL Acme Fulfilment counts [CHAIR-1] Chair in 'CA', which is neither a "
            "unit of its category (DZ, EA)",
            msg.error_message,
        )
        self.assertIn(
            "nor one of its packagings (none): add a packaging named CA", msg.error_message
        )
        self.assertNotEqual(picking.state, "done", "nothing booked")

        self.env["product.packaging"].create(
            {"name": "Case", "product_id": self.chair.id, "qty": 12}
        )
        msg.action_retry()
        run_jobs(self.env)
        self.assertEqual(msg.state, "processed", msg.error_message)
        self.assertEqual(picking.state, "done")
        self.assertEqual(picking.move_ids.quantity, 24)

    def test_945_lots_of_a_product_without_lot_tracking_are_kept_and_reported(self):
        picking = self.make_delivery([(self.chair, 3)])
        run_jobs(self.env)
        lines = [
            {
                "line_ref": None,
                "sku": "CHAIR-1",
                "quantity": 3,
                "uom": "EA",
                "lots": [{"lot": "40550", "quantity": 3}],
            }
        ]
        msg = self.ship_945(picking, lines)
        self.assertEqual(msg.state, "processed", msg.error_message)
        self.assertEqual(picking.state, "done")
        self.assertEqual(picking.move_ids.quantity, 3)
        self.assertFalse(
            self.env["stock.lot"].search([("product_id", "=", self.chair.id)]),
            "no lot created on a product without lot tracking",
        )
        self.assertIn("40550", msg._get_payload()["lines"][0]["lots"][0]["lot"], "kept")
        notes = picking.message_ids.mapped("body")
        self.assertTrue(
            any("not tracked by lot" in (body or "") and "40550" in body for body in notes), notes
        )

    # 940 and 997 ----------------------------------------------------------------------------
    def test_published_940s_read_to_their_figures_or_refused(self):
        # EdiEngine's 940 (line feed as segment terminator, no terminator after IEA)
        result = inbound_files.read_file(
            "940.OK.edi", published("940", "940_ediengine_940.OK.edi"), x12_expected=True
        )
        self.assertIsNone(result.error)
        [(message_type, order, _raw)] = result.documents
        self.assertEqual(message_type, "order.release")
        self.assertEqual((order["order_ref"], order["warehouse_code"]), ("538686", "0000000000140"))
        self.assertEqual(
            [(ln["sku"], ln["quantity"], ln["uom"]) for ln in order["lines"]],
            [("000100", 12, "CA"), ("000200", 32, "CA"), ("000300", 12, "CA")],
        )
        self.assertEqual(order["notes"], "SHIP ON CHEP PALLETS")
        # J.R. Simplot's 940 (OopFactory sample): GE02 is not GS06
        result = inbound_files.read_file(
            "simplot.txt", published("940", "940_oopfactory_simplot.txt"), x12_expected=True
        )
        self.assertIn(
            "segment GE (position 30), element GE02: group control number '940001777' does not "
            "match GS06 '177818711'",
            str(result.error),
        )

    def test_published_997_is_read_and_matched_to_our_files(self):
        """staedi's 997 (a 005010 acknowledgement with AK3/AK4 errors) read by the SFTP poll;
        its group 1 is not a file of ours, which its note says."""
        record = self.drop_published("997", "997_staedi_simple997.edi")
        self.assertEqual(record.state, "processed")
        self.assertIn("997 for group HC 000001: no file of ours", record.note)
        self.assertFalse(record.ack_file, "a 997 is not acknowledged")

    # structure of the simulator's files and of our 940s ------------------------------------
    def test_simulator_945_has_the_published_structure(self):
        content = x12_partner.build_945(
            {
                "order_ref": "SO1",
                "shipment_ref": "SHP1",
                "shipped_at": "2026-11-22T12:00:00Z",
                "tracking_ref": "1Z1",
                "carrier": {"code": "UPSN", "service": "GROUND"},
                "lines": [
                    {"line_ref": "1", "sku": "A", "quantity": 2, "uom": "CA", "lots": []},
                    {
                        "line_ref": "2",
                        "sku": "B",
                        "quantity": 3,
                        "uom": "EA",
                        "lots": [{"lot": "L1", "quantity": 3}],
                    },
                ],
            },
            self.sim.sftp_envelope(),
            ordered_quantities={"1": 2, "2": 4},
        )
        ours = segments_of(content.encode())
        self.assertWrittenByPublishers(ours, PUBLISHED_945)
        for folder, name in PUBLISHED_945:
            theirs = segments_of(published(folder, name))
            self.assertStructure(theirs, ours, "SW", "945", "W06", "W03", name)
            # W1201 status, W1203 units shipped, W1207/W1208 product id
            self.assertLayout(theirs + ours, "W12", {1: CODE, 3: NUMBER, 7: CODE, 8: ANY})
        simulated = [s for s in ours if s[0] == "W12"]
        self.assertEqual([s[5] for s in simulated], ["CA", "EA"], "W1205 unit")

    def test_simulator_846_has_the_published_structure(self):
        content = x12_partner.build_846(
            {
                "snapshot_ref": "INV1",
                "warehouse_code": "E3PL",
                "as_of": "2026-11-22T12:00:00Z",
                "lines": [{"sku": "A", "lot": None, "quantity": 5, "uom": "EA"}],
            },
            self.sim.sftp_envelope(),
        )
        ours = segments_of(content.encode())
        # CTT: the published 846s lost theirs (one to a missing terminator)
        self.assertWrittenByPublishers(ours, PUBLISHED_846, {"CTT"})
        for folder, name in PUBLISHED_846:
            theirs = segments_of(published(folder, name))
            self.assertStructure(theirs, ours, "IB", "846", "BIA", None, name)
            for segments in (theirs, ours):
                for index, segment in enumerate(segments):
                    if segment[0] == "LIN":
                        # LIN: an optional number, then qualifier/id pairs; QTY01 qualifier,
                        # QTY02 number, the unit in QTY03 or a UIT
                        self.assertRegex(segment[2], r"^[A-Z0-9]{2}$", segment)
                        self.assertTrue(segment[3], segment)
                    if segment[0] == "QTY":
                        self.assertRegex(segment[2], r"^-?\d+(\.\d+)?$", segment)
                        following = segments[index + 1]
                        self.assertTrue(
                            (len(segment) > 3 and segment[3]) or following[0] == "UIT", segment
                        )

    def test_our_940_has_the_published_structure(self):
        picking = self.make_delivery([(self.chair, 3)])
        run_jobs(self.env)
        [name] = [n for n in self.folder("out") if n.startswith("940_")]
        ours = segments_of(self.read_file("out", name).encode())
        self.assertEqual(picking.logistics_release_message_id.state, "sent")
        # N2 and PER (ship-to company and contact) are ours only
        self.assertWrittenByPublishers(ours, PUBLISHED_940, {"N2", "PER"})
        for folder, published_name in PUBLISHED_940:
            theirs = segments_of(published(folder, published_name))
            self.assertStructure(theirs, ours, "OW", "940", "W05", "W76", published_name)
            # W0101 quantity, W0102 unit, W0104/W0105 product id
            self.assertLayout(theirs + ours, "W01", {1: NUMBER, 2: CODE, 4: CODE, 5: ANY})

    def assertStructure(self, theirs, ours, functional_id, code, first, last, name):
        """Envelope and set frame alike: ISA, GS with the functional id, ST of the set, its
        beginning segment first and (when given) its totals segment last."""
        for segments, who in ((theirs, name), (ours, "ours")):
            ids = [s[0] for s in segments]
            self.assertEqual(ids[:3], ["ISA", "GS", "ST"], who)
            self.assertEqual(segments[1][1], functional_id, who)
            self.assertEqual(segments[2][1], code, who)
            self.assertEqual(ids[3], first, who)
            se = len(ids) - 1 - ids[::-1].index("SE")
            if last:
                self.assertEqual(ids[se - 1], last, who)
            self.assertEqual(ids[-2:], ["GE", "IEA"], who)

    def assertLayout(self, segments, segment_id, layout):
        """Every ``segment_id`` segment holds, at each position of ``layout``, a value
        matching its pattern."""
        for segment in [s for s in segments if s[0] == segment_id]:
            for position, pattern in layout.items():
                self.assertRegex(element(segment, position), pattern, segment)

    def assertWrittenByPublishers(self, ours, files, extra=frozenset()):
        """Every segment the suite writes is one the publishers write (``extra`` aside)."""
        theirs = set()
        for folder, name in files:
            theirs |= {s[0] for s in segments_of(published(folder, name))}
        self.assertLessEqual({s[0] for s in ours} - set(extra), theirs)
