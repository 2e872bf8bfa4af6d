"""EDIFACT customs responses against what UNECE published: the UN/EDIFACT D.96B directory
(CUSRES segment table, code lists 1001, 1225 and 7365), kept byte for byte in
``tests/conformance/edifact_customs/`` (see its SOURCES.md).

- the default status mapping is the directory's codes, under the directory's names;
- the parser reads a status where the segment table puts one (a GIS of the header, not the
  payment method GIS after a TAX) and a reference where the directory puts it (BGM 1004);
- the broker simulator's CUSRES, in both its code profiles, follows the segment table;
- through the real path (the SFTP poll of a real SFTP server, the queued message): a
  response in the directory's codes is applied; a response carrying a code the backend does
  not map fails in words, and once a customs manager maps the code, Retry applies it."""

import copy
import datetime as dt

from logistics_simulators.customs_broker import PROFILES, build_cusres
from pydifact.parser import Parser

from odoo.exceptions import AccessError
from odoo.tests import BaseCase, TransactionCase, new_test_user, tagged

from odoo.addons.logistics_integration_base.tests.common import run_jobs

from ..formats import edifact
from . import unedifact_directory as directory
from .common import EdifactSftpFixture
from .test_edifact import EXPORT, PREPARED_AT

ELEMENTS = {"gis": "7365", "bgm_document": "1001", "bgm_function": "1225"}


def message_tags(text):
    """[[tag, ...] per message (UNH..UNT)] of an interchange."""
    messages, current = [], None
    for segment in Parser().parse(text):
        if segment.tag == "UNH":
            current = []
        if current is not None:
            current.append(segment.tag)
        if segment.tag == "UNT":
            messages.append(current)
            current = None
    return messages


def every_status(reference="CD/2026/00040"):
    mrn = "26DE0A1B2C3D4E5F6G"

    def status(state, version=1, **extra):
        return {
            "reference": reference,
            "version": version,
            "status": state,
            "broker_reference": mrn if state not in ("submitted", "rejected") else None,
            "event_time": "2026-03-16T08:00:00Z",
            "reason": extra.pop("reason", None),
            "errors": extra.pop("errors", []),
            "documents_requested": extra.pop("documents_requested", []),
            "duties": extra.pop("duties", []),
        }

    return [
        status("submitted"),
        status("accepted"),
        status(
            "rejected",
            reason="2 errors",
            errors=[
                {"code": "E101", "text": "Origin unknown", "pointer": "/lines/1"},
                {"code": None, "text": "Declarant EORI not valid", "pointer": None},
            ],
        ),
        status(
            "documents_required",
            2,
            reason="Held",
            documents_requested=[
                {"code": "N954", "name": "EUR.1"},
                {"code": None, "name": "Packing list with the net mass of every package"},
            ],
        ),
        status("inspection", 2, reason="Scanner"),
        status(
            "released",
            2,
            duties=[
                {"type": "duty", "amount": 120.4, "currency": "EUR"},
                {"type": "vat", "amount": 640.0, "currency": "EUR"},
            ],
        ),
        status("cancelled", 2, reason="Shipment cancelled"),
    ]


@tagged("post_install", "-at_install")
class TestCusresAgainstTheDirectory(BaseCase):
    def test_default_codes_are_the_directory_codes_under_its_names(self):
        checked = 0
        for source, code, agency, _status, name in edifact.DEFAULT_STATUS_MAP:
            if agency:  # the suite's own mutually defined codes (ZZZ) are no list's
                self.assertEqual(agency, "ZZZ")
                continue
            published = directory.code_list(ELEMENTS[source])
            self.assertIn(code, published, f"{source} {code} is not a D.96B code")
            self.assertEqual(name, published[code], f"{source} {code}")
            checked += 1
        self.assertGreaterEqual(checked, 30)

    def test_the_statuses_the_directory_defines_are_all_read(self):
        """The 7365 codes the CUSRES directory text names as statuses of a declaration
        ('goods released, goods for examination, documents required', accepted, rejected)
        have a status by default."""
        defaults = edifact.default_status_map()
        published = directory.code_list("7365")
        for code in ("1", "2", "3", "4", "5", "6", "7", "9"):
            self.assertIsNotNone(defaults[("gis", code, "")], published[code])
        self.assertIn(
            "goods released, goods for examination, documents",
            directory.text("CUSRES_D.96B").replace("\n       ", " "),
        )

    def test_the_parser_reads_where_the_segment_table_puts_things(self):
        table = directory.segment_table("CUSRES")
        header = [item.tag for item in table if isinstance(item, directory.Segment)]
        self.assertEqual(header[:8], ["UNH", "BGM", "DTM", "FTX", "TDT", "LOC", "GIS", "EQD"])
        # a response as the directory lays it out: the status in the header GIS, the MRN
        # in segment group 3, the payment method GIS in segment group 5 (after TAX/MOA)
        text = (
            "UNB+UNOA:2+CUSTOMS:ZZ+ACMEODOO:ZZ+260316:0800+7'"
            "UNH+1+CUSRES:D:96B:UN'"
            "BGM+962+CD/2026/00040+11'"
            "DTM+137:20260316:102'"
            "LOC+22+DEHAM'"
            "GIS+4'"
            "RFF+ABT:26DE0A1B2C3D4E5F6G'"
            "TAX+5+CUD'"
            "MOA+161:120.40:EUR'"
            "GIS+1'"
            "UNT+10+1'"
            "UNZ+1+7'"
        )
        [tags] = message_tags(text)
        directory.check_structure(table, tags)
        [released] = edifact.parse_cusres(text)
        self.assertEqual(released["codes"][-1], {"source": "gis", "code": "4", "agency": None})
        self.assertEqual(len([c for c in released["codes"] if c["source"] == "gis"]), 1)
        self.assertEqual(
            (released["reference"], released["broker_reference"], released["status"]),
            ("CD/2026/00040", "26DE0A1B2C3D4E5F6G", "released"),
        )
        self.assertEqual(released["event_time"], "2026-03-16T00:00:00Z")
        self.assertEqual(released["duties"], [{"type": "duty", "amount": 120.4, "currency": "EUR"}])

    def test_duties_as_the_directory_groups_them(self):
        """Segment group 5 gives the declaration's duties (5283: 3 = total of each type, 4 =
        total of all: not a duty of its own); segment group 11 a goods item's, read (added
        up per type) only when the response gives no declaration totals."""
        table = directory.segment_table("CUSRES")
        self.assertEqual(directory.code_list("5283")["3"][:32], "Total of each duty, tax or fee t")
        self.assertEqual(directory.code_list("5153")["CUD"], "Customs duty")

        def response(*segments):
            body = ["BGM+962+CD/2026/00040+11", "GIS+4", *segments]
            return (
                "UNB+UNOA:2+CUSTOMS:ZZ+ACMEODOO:ZZ+260316:0800+8'UNH+1+CUSRES:D:96B:UN'"
                + "".join(f"{segment}'" for segment in body)
                + f"UNT+{len(body) + 2}+1'UNZ+1+8'"
            )

        items = ["DOC+960", "CST+1", "TAX+1+CUD", "MOA+161:70.25:EUR"]
        items += ["CST+2", "TAX+1+CUD", "MOA+161:50.15:EUR", "TAX+1+VAT", "MOA+161:9:EUR"]
        totals = ["TAX+3+CUD", "MOA+161:120.40:EUR", "TAX+4+TOT", "MOA+161:120.40:EUR"]
        for segments, expected in (
            (totals + items, [{"type": "duty", "amount": 120.4, "currency": "EUR"}]),
            (
                items,
                [
                    {"type": "duty", "amount": 120.4, "currency": "EUR"},
                    {"type": "vat", "amount": 9.0, "currency": "EUR"},
                ],
            ),
        ):
            text = response(*segments)
            [tags] = message_tags(text)
            directory.check_structure(table, tags)
            [released] = edifact.parse_cusres(text)
            self.assertEqual(released["duties"], expected)

    def test_what_the_syntax_allows_is_read_alike(self):
        """ISO 9735 leaves the service string advice optional, lets the UNA change the
        separators, and partners end segments with line breaks; UNOB syntax 4 and
        functional groups (UNG/UNE) are in use: all read to the same status."""
        segments = [
            "UNB+UNOB:4+CUSTOMS:ZZ+ACMEODOO:ZZ+20260316:0800+9",
            "UNG+CUSRES+CUSTOMS:ZZ+ACMEODOO:ZZ+20260316:0800+9+UN+D:96B",
            "UNH+1+CUSRES:D:96B:UN",
            "BGM+962+CD/2026/00040+11",
            "FTX+ACB+++Examination at gate 4?: bring the invoice?'s copy",
            "GIS+5",
            "RFF+ABT:26DE0A1B2C3D4E5F6G",
            "UNT+6+1",
            "UNE+1+9",
            "UNZ+1+9",
        ]
        plain = "'".join(segments) + "'"
        variants = {
            "no UNA": plain,
            "UNA": "UNA:+.? '" + plain,
            "CR/LF": "'\r\n".join(segments) + "'\r\n",
            "byte order mark": "\ufeff" + plain,
            # ':' and "'" are plain characters once '|' and '~' separate
            "other separators": "UNA|*.# ~"
            + "~".join(
                segment.replace("?:", "\0")
                .replace("?'", "\1")
                .replace("+", "*")
                .replace(":", "|")
                .replace("\0", ":")
                .replace("\1", "'")
                for segment in segments
            )
            + "~",
        }
        for name, text in variants.items():
            with self.subTest(name):
                [read] = edifact.parse_cusres(text.encode("utf-8") if "\ufeff" in text else text)
                self.assertEqual(read["status"], "inspection")
                self.assertEqual(read["reference"], "CD/2026/00040")
                self.assertEqual(read["reason"], "Examination at gate 4: bring the invoice's copy")

    def test_a_misplaced_segment_is_named(self):
        table = directory.segment_table("CUSRES")
        with self.assertRaisesRegex(AssertionError, r"found BGM \(segment 4 of the message\)"):
            directory.check_structure(table, ["UNH", "BGM", "GIS", "BGM", "UNT"])
        with self.assertRaisesRegex(AssertionError, "segment 4 of the message, GIS after UNT"):
            directory.check_structure(table, ["UNH", "BGM", "UNT", "GIS"])
        with self.assertRaisesRegex(AssertionError, "mandatory BGM"):
            directory.check_structure(table, ["UNH", "DTM", "UNT"])

    def test_the_broker_simulator_writes_what_the_segment_table_allows(self):
        table = directory.segment_table("CUSRES")
        statuses = every_status()
        for profile in PROFILES:
            text = build_cusres(
                statuses, "BRK0000001", "BROKERSIM", "ODOO", dt.datetime(2026, 3, 16), profile
            )
            messages = message_tags(text)
            self.assertEqual(len(messages), len(statuses))
            for status, tags in zip(statuses, messages, strict=True):
                with self.subTest(profile=profile, status=status["status"]):
                    directory.check_structure(table, tags)
            read = edifact.parse_cusres(text)
            self.assertEqual([r["status"] for r in read], [s["status"] for s in statuses])
            self.assertEqual(
                [r["broker_reference"] for r in read], [s["broker_reference"] for s in statuses]
            )
        # the directory's codes: what a response carries in the d96b profile
        [released] = edifact.parse_cusres(
            build_cusres([statuses[5]], "BRK2", "BROKERSIM", "ODOO", dt.datetime(2026, 3, 16))
        )
        for code in released["codes"]:
            self.assertIn(code["code"], directory.code_list(ELEMENTS[code["source"]]))


@tagged("post_install", "-at_install")
class TestCusdecAgainstTheDirectory(BaseCase):
    """Every CUSDEC the suite writes follows the CUSDEC D.96B segment table: an export with
    everything, an import amendment with only what is mandatory, a cancellation."""

    def test_every_cusdec_follows_the_segment_table(self):
        table = directory.segment_table("CUSDEC")
        bare = copy.deepcopy(EXPORT)
        bare.update(direction="import", version=2, declarant=None, incoterm=None)
        for key in ("transfer", "order", "transport_mode", "exchange_rate"):
            bare.pop(key, None)
        bare["lines"][0]["uom"] = "bundle of seven"  # no UN/ECE code: C62 (one)
        cancellation = {
            "reference": "CD/2026/00017",
            "version": 2,
            "direction": "export",
            "broker_reference": "26DE7K3Q9M2XW81B4C",
            "reason": "Order withdrawn by the customer",
        }
        texts = {
            "export": edifact.build_cusdec(EXPORT, "1", "ACMEODOO", "HANSEBRK", PREPARED_AT),
            "import amendment": edifact.build_cusdec(
                bare, "2", "ACMEODOO", "HANSEBRK", PREPARED_AT
            ),
            "cancellation": edifact.build_cusdec_cancellation(
                cancellation, "3", "ACMEODOO", "HANSEBRK", PREPARED_AT
            ),
        }
        for name, text in texts.items():
            with self.subTest(name):
                [tags] = message_tags(text)
                directory.check_structure(table, tags)
        self.assertIn("CST+1+8462610000:169'", texts["export"])  # 1131 169: HS
        self.assertEqual(directory.code_list("1131")["169"], "Harmonized system")
        self.assertEqual(directory.code_list("6311")["AAR"], "1st specified tariff quantity")
        self.assertIn("MEA+AAR++C62:1'", texts["import amendment"])


@tagged("post_install", "-at_install")
class TestCusresCodesThroughSftp(EdifactSftpFixture, TransactionCase):
    """A broker whose guide says its statuses in its own code list: the response is read
    from the real SFTP server, waits in the exception queue in words, and is applied on
    Retry once a customs manager has mapped the code."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.setup_edifact_sftp()
        cls.customs_manager = new_test_user(
            cls.env,
            login="customs-codes-manager",
            groups="stock.group_stock_user,logistics_customs.group_customs_manager",
        )
        cls.logistics_user = new_test_user(
            cls.env,
            login="customs-codes-user",
            groups="stock.group_stock_user,logistics_integration_base.group_logistics_user",
        )

    def setUp(self):
        super().setUp()
        self.empty_sftp_folders()

    def submitted(self):
        delivery = self.delivery_of(self.sale(self.us_customer, [(self.kettle, 2, 40.0)]))
        declaration = delivery.logistics_declaration_ids
        declaration.action_submit()
        run_jobs(self.env)
        self.sim.sftp_pickup_declarations(self.partner)
        return declaration

    def test_an_edifact_backend_starts_with_the_directory_codes(self):
        rows = self.broker.customs_status_map_ids
        self.assertEqual(len(rows), len(edifact.DEFAULT_STATUS_MAP))
        self.assertEqual(rows._as_map(), edifact.default_status_map())
        released = rows.filtered(lambda r: (r.source, r.code) == ("gis", "4"))
        self.assertEqual((released.status, released.name), ("released", "Goods released"))
        # a line changed and one removed: the defaults add back only what is missing
        released.status = "accepted"
        rows.filtered(lambda r: (r.source, r.code) == ("gis", "5")).unlink()
        self.broker.with_user(self.customs_manager).action_customs_status_map_defaults()
        rows = self.broker.customs_status_map_ids
        self.assertEqual(len(rows), len(edifact.DEFAULT_STATUS_MAP))
        self.assertEqual(released.status, "accepted", "what a customs manager said is kept")

    def test_another_company_s_codes_are_not_seen(self):
        other = self.env["res.company"].create({"name": "Nordwerk Austria GmbH"})
        theirs = self._make_backend(
            name="Vienna broker", kind="customs", provider="edifact", company_id=other.id
        )
        self.assertEqual(len(theirs.customs_status_map_ids), len(edifact.DEFAULT_STATUS_MAP))
        self.assertEqual(set(theirs.customs_status_map_ids.mapped("company_id")), {other})
        Codes = self.env["logistics.customs.status.map"].with_user(self.customs_manager)
        seen = Codes.search([("code", "=", "4")])
        self.assertEqual(seen.backend_id, self.broker, "only the user's company's backend")
        with self.assertRaises(AccessError):
            Codes.browse(theirs.customs_status_map_ids[:1].id).read(["status"])

    def test_directory_codes_are_applied_through_the_sftp_poll(self):
        declaration = self.submitted()
        drop = self.sim.sftp_drop_cusres(
            self.partner, [(declaration.name, "accepted"), (declaration.name, "released")]
        )
        self.assertIn(f"BGM+962+{declaration.name}+29'", drop.content)
        self.assertIn("GIS+4'", drop.content)
        files = self.broker._sftp_poll()
        run_jobs(self.env)
        self.assertEqual(files.mapped("state"), ["processed"])
        self.assertEqual(declaration.state, "released")
        self.assertEqual(declaration.event_ids.mapped("status"), ["accepted", "released"])
        self.assertRegex(declaration.broker_reference, r"^\d{2}DE[A-Z0-9]{14}$")

    def test_an_unmapped_code_waits_in_words_and_is_applied_on_retry(self):
        declaration = self.submitted()
        # the broker's guide says "released" with its own list: GIS 1, agency ZZZ
        text = build_cusres(
            [self.sim.status_data(declaration.name, "released")],
            "BRK0000042",
            self.sim.edifact_id,
            self.sim.files[declaration.name].get("edifact_partner") or "ODOO",
            dt.datetime.now(dt.UTC),
        )
        self.assertIn("GIS+4'", text)
        text = text.replace("GIS+4'", "GIS+1:120:ZZZ'")
        self.sim.sftp_drop_file(self.partner, "CUSRES_national.edi", text.encode("latin-1"))
        files = self.broker._sftp_poll()
        run_jobs(self.env)
        self.assertEqual(files.state, "processed", "the file is read: nothing of it is lost")
        [message] = files.message_ids
        self.assertEqual((message.state, message.error_category), ("failed", "business"))
        for words in (
            "Customs broker Hanse Customs",
            f"declaration {declaration.name}",
            "GIS processing indicator (7365) '1' (agency ZZZ)",
            "Add the code to the backend's Customs response codes",
            "then press Retry",
        ):
            self.assertIn(words, message.error_message)
        self.assertEqual(declaration.state, "submitted", "nothing applied")
        self.assertIn("GIS processing indicator (7365) '1' (agency ZZZ)", message.subject)

        # a logistics user may read the codes, not change them
        with self.assertRaises(AccessError):
            self.env["logistics.customs.status.map"].with_user(self.logistics_user).create(
                {"backend_id": self.broker.id, "code": "1", "agency": "ZZZ", "status": "released"}
            )
        self.env["logistics.customs.status.map"].with_user(self.customs_manager).create(
            {
                "backend_id": self.broker.id,
                "source": "gis",
                "code": " 1 ",
                "agency": "ZZZ",
                "status": "released",
                "name": "Released (the broker's list)",
            }
        )
        message.with_user(self.customs_manager).action_retry()
        run_jobs(self.env)
        self.assertEqual(message.state, "processed", message.error_message)
        self.assertEqual(declaration.state, "released")
