"""SFTP file exchange end to end, against a real SFTP server on loopback (paramiko) and the
3PL simulator dropping and picking up files on it: no mocks.

Odoo logs in as ``odoo``, the simulated 3PL as ``threepl``; both see the same folders:
``in`` (the 3PL drops, Odoo reads; processed files go to ``in/archive``, unreadable ones to
``in/error``) and ``out`` (Odoo writes its 940s/CSV orders and its 997s)."""

import contextlib
import io
import os
import shutil
import socket
import tempfile

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ed25519
from logistics_simulators import csv_partner, x12_partner
from logistics_simulators.sftp_server import SFTPTestServer, generate_key

from odoo.exceptions import ValidationError
from odoo.tests import TransactionCase

from odoo.addons.logistics_integration_base.transport import sftp

from ..formats import x12
from .common import ThreePLFixture, run_jobs

ODOO_PASSWORD = "odoo-s3cret"
THREEPL_PASSWORD = "3pl-s3cret"


def free_port():
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class SftpExchangeCase(ThreePLFixture, TransactionCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        os.environ.setdefault("LOGISTICS_SECRET_KEY", "test-key")
        cls.root = tempfile.mkdtemp(prefix="lgx-sftp-exchange-")
        cls.addClassCleanup(shutil.rmtree, cls.root, True)
        cls.server = SFTPTestServer(
            cls.root,
            users={
                "odoo": {"password": ODOO_PASSWORD},
                "threepl": {"password": THREEPL_PASSWORD},
            },
        )
        cls.server.start()
        cls.addClassCleanup(cls.server.stop)
        cls.setup_3pl(code="sftp-exchange", protocol="sftp")
        cls.backend.write(
            {
                "sftp_host": "127.0.0.1",
                "sftp_port": cls.server.port,
                "sftp_username": "odoo",
                "sftp_password": ODOO_PASSWORD,
                "sftp_host_key": cls.server.host_key_line,
                "sftp_inbound_dir": "in",
                "sftp_outbound_dir": "out",
                "sftp_archive_dir": "in/archive",
                "sftp_error_dir": "in/error",
                "file_format": "x12",
                "x12_sender_id": "ODOO",
                "x12_receiver_id": "SIM3PL",
            }
        )
        # the 3PL's login on the same server, with Odoo's folder layout
        cls.partner = sftp.SFTPSettings(
            host="127.0.0.1",
            port=cls.server.port,
            username="threepl",
            password=THREEPL_PASSWORD,
            host_key=cls.server.host_key_line,
            inbound_dir="in",
            outbound_dir="out",
        )

    def setUp(self):
        super().setUp()
        # the database is rolled back after each test; the server's folders are emptied
        for entry in os.listdir(self.root):
            shutil.rmtree(os.path.join(self.root, entry), ignore_errors=True)
        for folder in ("in/archive", "in/error", "out"):  # as the 3PL set the server up
            os.makedirs(os.path.join(self.root, folder))
        self.sim.orders.clear()
        self.sim.sftp_acks.clear()

    # helpers ------------------------------------------------------------------------------
    def folder(self, name):
        """Files (not folders) of a server folder."""
        path = os.path.join(self.root, name)
        if not os.path.isdir(path):
            return []
        return sorted(e for e in os.listdir(path) if os.path.isfile(os.path.join(path, e)))

    def read_file(self, folder, name):
        with open(os.path.join(self.root, folder, name), encoding="utf-8") as fh:
            return fh.read()

    def poll(self):
        return self.backend._sftp_poll()

    def acks_written(self):
        return [name for name in self.folder("out") if name.startswith("997_")]

    def read_997(self, name):
        interchange = x12.parse_interchange(self.read_file("out", name))
        [ts] = interchange.transaction_sets
        return interchange, x12.parse_997(ts)

    def shipment(self, order_ref, quantity=2, shipment_ref="SHP-T1"):
        return {
            "order_ref": order_ref,
            "shipment_ref": shipment_ref,
            "shipped_at": "2026-11-22T12:00:00Z",
            "tracking_ref": "1ZTEST",
            "carrier": {"code": "UPSN", "service": "GROUND"},
            "lines": [{"line_ref": "1", "sku": "CHAIR-1", "quantity": quantity, "uom": "EA"}],
        }


class TestSftpExchange(SftpExchangeCase):
    """One class (``TEST_TAGS=/logistics_3pl_connector:TestSftpExchange``); the backend
    speaks X12, the CSV tests switch it to CSV."""

    # outbound -------------------------------------------------------------------------------
    def test_release_is_a_940_written_atomically_and_a_retry_overwrites_it(self):
        picking = self.make_delivery([(self.chair, 3), (self.desk, 1)])
        release = picking.logistics_release_message_id
        run_jobs(self.env)
        self.assertEqual(release.state, "sent", release.error_message)
        expected = f"940_{picking.name.replace('/', '-')}_{release.id}.x12"
        self.assertEqual(self.folder("out"), [expected])

        text = self.read_file("out", expected)
        interchange = x12.parse_interchange(text)
        [ts] = interchange.transaction_sets
        order = x12.parse_940(ts)
        payload = release._get_payload()
        for key in ("order_ref", "origin", "warehouse_code"):
            self.assertEqual(order[key], payload[key], key)
        for key in ("name", "street", "city", "state_code", "zip", "country_code"):
            self.assertEqual(order["ship_to"][key], payload["ship_to"][key], key)
        self.assertEqual(
            [(ln["line_ref"], ln["sku"], ln["quantity"], ln["uom"]) for ln in order["lines"]],
            [(ln["line_ref"], ln["sku"], ln["quantity"], ln["uom"]) for ln in payload["lines"]],
        )
        self.assertEqual(next(s for s in ts.segments if s[0] == "W05")[1], "N")
        self.assertEqual(
            (interchange.sender_id, interchange.receiver_id, interchange.groups[0].functional_id),
            ("ODOO", "SIM3PL", "OW"),
        )
        self.assertEqual(int(interchange.control_number), release.x12_control_number)
        self.assertEqual(release.sftp_remote_path, f"out/{expected}")
        self.assertEqual(release._clear_text("raw_payload"), text)
        self.assertFalse(picking.logistics_external_id, "a file path is not the 3PL's order id")
        self.assertIn(("odoo", "password", True), [a[:3] for a in self.server.auth_attempts])

        # written under a temporary name, then renamed: never open under the final name
        final, temp = f"/out/{expected}", f"/out/{expected}.part"
        ops = [(e.op, e.path, e.arg) for e in self.server.events if e.path in (final, temp)]
        self.assertEqual(ops[0][:2], ("open", temp))
        self.assertIn(("posix_rename", temp, final), ops)
        self.assertFalse([op for op in ops if op[1] == final and op[0] in ("open", "write")])

        # a retry of the same message replaces its file (new control number), no duplicate
        release.sudo().write({"state": "pending"})
        release._enqueue()
        run_jobs(self.env)
        self.assertEqual(self.folder("out"), [expected])
        again = x12.parse_interchange(self.read_file("out", expected))
        self.assertGreater(int(again.control_number), int(interchange.control_number))
        self.assertEqual(release.x12_control_number, int(again.control_number))

    def test_update_and_cancel_are_940s_with_purpose_codes_and_rising_control_numbers(self):
        picking = self.make_delivery([(self.chair, 2)])
        run_jobs(self.env)
        picking.move_ids.product_uom_qty = 5
        run_jobs(self.env)
        picking.action_cancel()
        run_jobs(self.env)
        messages = self.env["logistics.message"].search(
            [("res_model", "=", "stock.picking"), ("res_id", "=", picking.id)], order="id"
        )
        self.assertEqual(
            [(m.message_type, m.state) for m in messages],
            [("order.release", "sent"), ("order.update", "sent"), ("order.cancel", "sent")],
            messages.mapped("error_message"),
        )
        files = []
        for message in messages:
            name = message.sftp_remote_path.split("/")[-1]
            interchange = x12.parse_interchange(self.read_file("out", name))
            [ts] = interchange.transaction_sets
            w05 = next(s for s in ts.segments if s[0] == "W05")
            quantity = sum(float(s[1]) for s in ts.segments if s[0] == "W01")
            files.append((w05[1], w05[2], quantity, int(interchange.control_number)))
        self.assertEqual(
            [f[:3] for f in files],
            [("N", picking.name, 2), ("R", picking.name, 5), ("C", picking.name, 5)],
        )
        numbers = [f[3] for f in files]
        self.assertEqual(numbers, sorted(set(numbers)), "control numbers rise, never repeat")
        self.assertEqual(len(self.folder("out")), 3, "one file per message, none replaced")
        # the simulated 3PL applies them in order
        outcome = self.sim.sftp_pickup_orders(self.partner)
        self.assertEqual(
            [(kind, ref, status) for _name, kind, ref, status in outcome],
            [
                ("order.release", picking.name, 202),
                ("order.update", picking.name, 202),
                ("order.cancel", picking.name, 202),
            ],
        )
        self.assertEqual(self.sim.orders[picking.name]["status"], "cancelled")

    def test_control_numbers_are_never_reused_even_after_a_rollback(self):
        with contextlib.suppress(RuntimeError), self.env.cr.savepoint():
            first = self.backend._x12_next_control_number()
            raise RuntimeError("the job failed after uploading its file")
        second = self.backend._x12_next_control_number()
        self.assertGreater(second, first)
        # moved forward (e.g. to continue a partner's numbering), never back
        self.backend.interchange_next_number = second + 100
        self.assertEqual(self.backend._x12_next_control_number(), second + 100)
        with self.assertRaisesRegex(ValidationError, "never go back"):
            self.backend.interchange_next_number = second

    # host key and authentication -------------------------------------------------------------
    def test_refused_host_key_fails_as_auth_and_nothing_is_sent(self):
        other = generate_key()
        self.backend.sftp_host_key = f"{other.get_name()} {other.get_base64()}"
        attempts = len(self.server.auth_attempts)
        picking = self.make_delivery([(self.chair, 1)])
        run_jobs(self.env)
        release = picking.logistics_release_message_id
        self.assertEqual((release.state, release.error_category), ("failed", "auth"))
        self.assertIn("host key of 127.0.0.1", release.error_message)
        self.assertIn(sftp.fingerprint(self.server.host_key), release.error_message)
        self.assertIn(sftp.fingerprint(other), release.error_message)
        self.assertEqual(len(self.server.auth_attempts), attempts, "no credentials were sent")
        self.assertFalse(self.folder("out"))

        action = self.backend.action_test_connection()
        self.assertEqual(action["params"]["type"], "danger")
        self.assertIn(sftp.fingerprint(self.server.host_key), action["params"]["message"])

        # no key configured: refused as well; Test connection shows the key offered
        self.backend.sftp_host_key = False
        message = self.backend.action_test_connection()["params"]["message"]
        self.assertIn("no host key configured", message)
        self.assertIn(self.server.host_key_line, message)
        self.assertEqual(len(self.server.auth_attempts), attempts)

    def test_password_and_private_key_authentication(self):
        self.assertEqual(
            self.backend.action_test_connection()["params"]["type"], "success", "password"
        )
        # an Ed25519 key in OpenSSH format, protected by a passphrase
        key = ed25519.Ed25519PrivateKey.generate()
        text = key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.OpenSSH,
            serialization.BestAvailableEncryption(b"open sesame"),
        ).decode()
        self.server.add_user("keyonly", public_keys=[sftp.load_private_key(text, "open sesame")])
        self.backend.write(
            {
                "sftp_username": "keyonly",
                "sftp_private_key": text,
                "sftp_private_key_passphrase": "open sesame",
            }
        )
        self.assertFalse(self.backend.sftp_private_key, "secrets are write-only")
        self.assertTrue(self.backend.sftp_private_key_set)
        self.assertTrue(self.backend.sftp_private_key_passphrase_set)
        stored = (
            self.env["logistics.backend.secret"]
            .sudo()
            .search([("backend_id", "=", self.backend.id), ("key", "=", "sftp_private_key")])
        )
        self.assertNotIn("OPENSSH", stored.value, "stored encrypted")

        picking = self.make_delivery([(self.chair, 1)])
        run_jobs(self.env)
        self.assertEqual(picking.logistics_release_message_id.state, "sent")
        self.assertEqual(self.server.auth_attempts[-1][:3], ("keyonly", "publickey", True))

        # refused credentials: an auth failure, not retried
        self.backend.write({"sftp_username": "odoo", "sftp_password": "wrong"})
        self.backend.sudo()._set_secret("sftp_private_key", False)
        picking = self.make_delivery([(self.desk, 1)])
        run_jobs(self.env)
        release = picking.logistics_release_message_id
        self.assertEqual((release.state, release.error_category), ("failed", "auth"))
        self.assertIn("authentication failed", release.error_message)

    def test_ecdsa_key_in_pem_without_passphrase(self):
        key = generate_key("ecdsa")
        self.server.add_user("ecdsa-only", public_keys=[key])
        text = io.StringIO()
        key.write_private_key(text)  # traditional PEM, not encrypted
        self.backend.write({"sftp_username": "ecdsa-only", "sftp_private_key": text.getvalue()})
        self.backend.invalidate_recordset()
        action = self.backend.action_test_connection()
        self.assertEqual(action["params"]["type"], "success", action["params"]["message"])
        self.assertEqual(self.server.auth_attempts[-1][:3], ("ecdsa-only", "publickey", True))

    # inbound --------------------------------------------------------------------------------
    def test_945_ships_the_delivery_with_a_backorder_and_997s_go_both_ways(self):
        picking = self.make_delivery([(self.chair, 5), (self.desk, 2)])
        run_jobs(self.env)
        release = picking.logistics_release_message_id
        self.assertEqual(
            [o[1:] for o in self.sim.sftp_pickup_orders(self.partner)],
            [("order.release", picking.name, 202)],
        )
        drop = self.sim.sftp_drop_945(
            self.partner, picking.name, quantities={"CHAIR-1": 3, "DESK-1": 2}, tracking_ref="1ZSF"
        )
        files = self.poll()
        self.assertEqual(len(files), 2, files.mapped("name"))  # the 945 and the 3PL's 997
        shipment_file = files.filtered(lambda f: f.name == drop.name)
        ack_file = files - shipment_file
        self.assertEqual(files.mapped("state"), ["processed", "processed"], files.mapped("error"))

        # the 3PL's 997 acknowledged our 940
        self.assertEqual(release.state, "acknowledged")
        self.assertIn("accepted", ack_file.note)
        self.assertFalse(ack_file.message_ids)
        self.assertFalse(ack_file.ack_file, "997s are not acknowledged")

        [msg] = shipment_file.message_ids
        self.assertEqual((msg.message_type, msg.state), ("shipment.confirmed", "received"))
        self.assertEqual(msg.idempotency_key, f"sftp:{drop.name}:{shipment_file.checksum}:0")
        self.assertEqual(msg.external_id, drop.payload["shipment_ref"])
        self.assertTrue(msg.job_id)
        self.assertEqual(self.folder("in/archive"), sorted([drop.name, ack_file.name]))
        self.assertFalse(self.folder("in"))

        run_jobs(self.env)
        self.assertEqual(msg.state, "processed", msg.error_message)
        self.assertEqual(picking.state, "done")
        self.assertEqual(picking.logistics_tracking_ref, "1ZSF")
        backorder = picking.backorder_ids
        self.assertEqual(
            [(m.product_id, m.product_uom_qty) for m in backorder.move_ids], [(self.chair, 2)]
        )

        # our 997 for the 945, with the 3PL's group and set control numbers
        [ack_name] = self.acks_written()
        self.assertEqual(shipment_file.ack_file, ack_name)
        self.assertTrue(shipment_file.ack_sent_at)
        received = x12.parse_interchange(drop.content)
        interchange, ack = self.read_997(ack_name)
        self.assertEqual((ack["functional_id"], ack["status"]), ("SW", "accepted"))
        self.assertEqual(ack["group_control_number"], received.groups[0].control_number)
        self.assertEqual(
            [(s["code"], s["control_number"], s["status"]) for s in ack["transaction_sets"]],
            [("945", received.transaction_sets[0].control_number, "accepted")],
        )
        self.assertEqual((ack["sets_included"], ack["sets_accepted"]), (1, 1))
        self.assertEqual((interchange.sender_id, interchange.receiver_id), ("ODOO", "SIM3PL"))
        self.assertEqual(int(interchange.control_number), shipment_file.ack_control_number)
        self.assertGreater(shipment_file.ack_control_number, release.x12_control_number)
        # the 3PL collects it
        self.sim.sftp_pickup_orders(self.partner)
        self.assertEqual(self.sim.sftp_acks[-1][1][0]["status"], "accepted")

    def test_simulator_cycle_ships_what_it_picked_up(self):
        picking = self.make_delivery([(self.desk, 2)])
        run_jobs(self.env)
        picked, drops = self.sim.sftp_cycle(self.partner)
        self.assertEqual([p[1:] for p in picked], [("order.release", picking.name, 202)])
        self.assertEqual([d.name[:4] for d in drops], ["945_"])
        self.assertEqual(len(self.poll()), 2)  # the 945 and the 997 for our 940
        run_jobs(self.env)
        self.assertEqual(picking.state, "done")
        self.assertEqual(picking.logistics_release_message_id.state, "acknowledged")
        self.assertEqual(self.sim.sftp_cycle(self.partner)[1], [], "shipped once")

    def test_846_becomes_an_inventory_snapshot_message(self):
        drop = self.sim.sftp_drop_846(
            self.partner, "E3PL", {"CHAIR-1": 120, "DESK-1": 50}, snapshot_ref="INV-SFTP-1"
        )
        [record] = self.poll()
        self.assertEqual(record.state, "processed", record.error)
        [msg] = record.message_ids
        self.assertEqual(
            (msg.message_type, msg.state, msg.external_id),
            ("inventory.snapshot", "received", "INV-SFTP-1"),
        )
        data = msg._get_payload()
        self.assertEqual(data["warehouse_code"], "E3PL")
        self.assertEqual(
            sorted((ln["sku"], ln["quantity"]) for ln in data["lines"]),
            [("CHAIR-1", 120), ("DESK-1", 50)],
        )
        self.assertTrue(msg.job_id, "queued for processing")
        _interchange, ack = self.read_997(record.ack_file)
        received = x12.parse_interchange(drop.content)
        self.assertEqual(
            (ack["functional_id"], ack["group_control_number"], ack["status"]),
            ("IB", received.groups[0].control_number, "accepted"),
        )
        run_jobs(self.env)
        self.assertEqual(msg.state, "processed", msg.error_message)

    def test_same_file_polled_twice_is_processed_once(self):
        picking = self.make_delivery([(self.chair, 2)])
        run_jobs(self.env)
        drop = self.sim.sftp_drop_945(self.partner, picking.name, quantities={"CHAIR-1": 2})
        [record] = self.poll()
        self.sim.sftp_drop_file(self.partner, drop.name, drop.content)  # sent again
        self.assertFalse(self.poll(), "a file seen before creates nothing")
        self.assertFalse(self.poll())
        self.assertEqual(record.duplicate_count, 1)
        inbound = self.env["logistics.message"].search(
            [("backend_id", "=", self.backend.id), ("direction", "=", "in")]
        )
        self.assertEqual(len(inbound), 1)
        archived = self.folder("in/archive")
        self.assertEqual(len(archived), 2, archived)  # moved away both times, never lost
        self.assertIn(drop.name, archived)
        self.assertEqual(len(self.acks_written()), 1, "one 997")
        self.assertFalse(self.folder("in"))

    def test_half_written_file_is_ignored_until_renamed(self):
        picking = self.make_delivery([(self.chair, 2)])
        run_jobs(self.env)
        content = x12_partner.build_945(self.shipment(picking.name), self.sim.sftp_envelope())
        self.sim.sftp_drop_half_written(self.partner, "945_HALF.x12", content)
        self.assertFalse(self.poll())
        self.assertEqual(self.folder("in"), ["945_HALF.x12.part"])
        self.assertFalse(self.env["logistics.sftp.file"].search([]))
        self.sim.sftp_drop_file(self.partner, "945_HALF.x12", content)  # upload completes
        [record] = self.poll()
        self.assertEqual((record.name, record.state), ("945_HALF.x12", "processed"))
        self.assertFalse(self.folder("in"))

        # a file written in place waits until it is old enough
        self.backend.sftp_min_file_age = 3600
        other = x12_partner.build_945(
            self.shipment(picking.name, shipment_ref="SHP-T2"), self.sim.sftp_envelope()
        )
        self.sim.sftp_drop_file(self.partner, "945_YOUNG.x12", other)
        self.assertFalse(self.poll())
        self.assertEqual(self.folder("in"), ["945_YOUNG.x12"])
        self.backend.sftp_min_file_age = 0
        self.assertEqual(self.poll().name, "945_YOUNG.x12")

    def test_wrong_quantity_lands_in_the_exception_queue_with_a_rejecting_997(self):
        content = x12_partner.build_945(self.shipment("E3PL/OUT/99999"), self.sim.sftp_envelope())
        broken = content.replace("W12*CC**2**EA", "W12*CC**2X**EA", 1)
        self.assertNotEqual(broken, content)
        received = x12.parse_interchange(broken)
        [ts] = received.transaction_sets
        w12_position = next(i for i, s in enumerate(ts.segments, 1) if s[0] == "W12")

        self.sim.sftp_drop_file(self.partner, "945_BROKEN.x12", broken)
        [record] = self.poll()
        self.assertEqual(record.state, "error")
        self.assertEqual(record.content, broken)
        self.assertEqual(self.folder("in/error"), ["945_BROKEN.x12"])
        self.assertFalse(self.folder("in/archive"))
        self.assertFalse(self.folder("in"))
        [msg] = record.message_ids
        self.assertEqual(
            (msg.state, msg.error_category, msg.message_type),
            ("failed", "validation", "shipment.confirmed"),
        )
        self.assertIn(f"segment W12 (position {w12_position}), element W1203", msg.error_message)
        self.assertIn("945_BROKEN.x12", msg.error_message)
        self.assertIn("A 997 rejecting it was sent back", msg.error_message)
        self.assertIn(
            msg, self.env["logistics.message"].search([("state", "in", ("failed", "dead"))])
        )

        _interchange, ack = self.read_997(record.ack_file)
        self.assertEqual(
            (ack["functional_id"], ack["group_control_number"], ack["status"]),
            ("SW", received.groups[0].control_number, "rejected"),
        )
        self.assertEqual((ack["sets_received"], ack["sets_accepted"]), (1, 0))
        [answer] = ack["transaction_sets"]
        self.assertEqual(
            (answer["code"], answer["control_number"], answer["status"]),
            ("945", ts.control_number, "rejected"),
        )
        [error] = answer["errors"]
        self.assertEqual(
            (
                error["segment_id"],
                error["segment_position"],
                error["element_position"],
                error["element_error_code"],
                error["bad_value"],
            ),
            ("W12", w12_position, 3, "6", "2X"),
        )

    def test_truncated_file_is_kept_and_reported_without_a_997(self):
        content = x12_partner.build_945(self.shipment("E3PL/OUT/99999"), self.sim.sftp_envelope())
        cut = content[: len(content) - 40]
        self.sim.sftp_drop_file(self.partner, "945_CUT.x12", cut)
        [record] = self.poll()
        self.assertEqual(record.state, "error")
        self.assertEqual(self.folder("in/error"), ["945_CUT.x12"])
        [msg] = record.message_ids
        self.assertEqual((msg.state, msg.error_category), ("failed", "validation"))
        self.assertIn("truncated", msg.error_message)
        self.assertRegex(msg.error_message, r"segment \w+ \(position \d+\)")
        self.assertFalse(record.ack_file, "no envelope, nothing to acknowledge")
        self.assertFalse(self.acks_written())

    def test_file_cut_inside_its_isa_header_goes_to_the_error_queue(self):
        self.sim.sftp_drop_file(self.partner, "945_ISA.x12", "ISA*00*          *00*      ")
        [record] = self.poll()
        self.assertEqual(record.state, "error")
        self.assertEqual(self.folder("in/error"), ["945_ISA.x12"])
        self.assertIn("ISA", record.message_ids.error_message)

    def test_a_997_rejecting_our_940_fails_the_release(self):
        picking = self.make_delivery([(self.chair, 1)])
        run_jobs(self.env)
        release = picking.logistics_release_message_id
        outcome = self.sim.sftp_pickup_orders(self.partner, reject={picking.name})
        self.assertEqual(outcome[0][1:], ("order.release", picking.name, "rejected"))
        self.poll()
        self.assertEqual((release.state, release.error_category), ("failed", "validation"))
        self.assertIn("rejected the file", release.error_message)
        self.assertIn(
            "segment W05 (position 2), element 2: invalid code value", release.error_message
        )

    def test_connection_failure_is_logged_and_reported_on_the_backend_once(self):
        port = self.backend.sftp_port
        self.backend.sftp_port = free_port()

        def posts(text):
            notes = self.env["mail.message"].search(
                [("model", "=", "logistics.backend"), ("res_id", "=", self.backend.id)]
            )
            return [body for body in notes.mapped("body") if text in (body or "")]

        logger = "odoo.addons.logistics_integration_base.models.logistics_backend_sftp"
        with self.assertLogs(logger, "WARNING") as logs:
            self.env["logistics.backend"]._cron_poll_sftp()  # does not raise
            self.env["logistics.backend"]._cron_poll_sftp()
        self.assertIn("connection refused", logs.output[0])
        self.assertIn("connection refused", self.backend.sftp_last_poll_error)
        self.assertEqual(len(posts("Polling the SFTP server failed")), 1, "reported once")
        self.backend.sftp_port = port
        self.env["logistics.backend"]._cron_poll_sftp()
        self.assertFalse(self.backend.sftp_last_poll_error)
        self.assertEqual(len(posts("works again")), 1)

    # CSV --------------------------------------------------------------------------------------
    def test_release_is_a_csv_order_file_read_back_by_the_3pl(self):
        self.backend.file_format = "csv"
        picking = self.make_delivery([(self.desk, 2), (self.chair, 1)])
        release = picking.logistics_release_message_id
        run_jobs(self.env)
        self.assertEqual(release.state, "sent", release.error_message)
        expected = f"order_{picking.name.replace('/', '-')}_{release.id}.csv"
        self.assertEqual(self.folder("out"), [expected])
        self.assertFalse(release.x12_control_number)
        [order] = csv_partner.parse_orders_csv(self.read_file("out", expected))
        payload = release._get_payload()
        self.assertEqual(order["order_ref"], payload["order_ref"])
        self.assertEqual(order["ship_to"]["zip"], payload["ship_to"]["zip"])
        self.assertEqual(
            [(ln["sku"], ln["quantity"]) for ln in order["lines"]],
            [(ln["sku"], ln["quantity"]) for ln in payload["lines"]],
        )
        outcome = self.sim.sftp_pickup_orders(self.partner)
        self.assertEqual([o[1:] for o in outcome], [("order.release", picking.name, 202)])
        self.assertFalse(self.folder("in"), "no 997 for CSV")

    def test_shipment_and_inventory_csv_files_become_messages(self):
        self.backend.file_format = "csv"
        picking = self.make_delivery([(self.desk, 3)])
        run_jobs(self.env)
        self.sim.sftp_pickup_orders(self.partner)
        shipped = self.sim.sftp_drop_shipment_csv(
            self.partner, picking.name, quantities={"DESK-1": 1}, tracking_ref="1ZCSV"
        )
        stock = self.sim.sftp_drop_inventory_csv(self.partner, "E3PL", {"DESK-1": 47})
        files = self.poll()
        self.assertEqual(files.mapped("state"), ["processed", "processed"], files.mapped("error"))
        by_name = {f.name: f.message_ids for f in files}
        self.assertEqual(by_name[shipped.name].message_type, "shipment.confirmed")
        self.assertEqual(by_name[stock.name].message_type, "inventory.snapshot")
        self.assertFalse(any(files.mapped("ack_file")))
        self.assertFalse(self.acks_written())
        by_name[shipped.name]._job_process()
        self.assertEqual(
            by_name[shipped.name].state, "processed", by_name[shipped.name].error_message
        )
        self.assertEqual(picking.state, "done")
        self.assertEqual(picking.backorder_ids.move_ids.product_uom_qty, 2)

    def test_broken_csv_names_line_and_column(self):
        self.backend.file_format = "csv"
        text = "order_ref,shipment_ref,sku,quantity\r\nE3PL/OUT/1,SHP-9,DESK-1,abc\r\n"
        self.sim.sftp_drop_file(self.partner, "shipment_SHP-9.csv", text)
        [record] = self.poll()
        self.assertEqual(record.state, "error")
        self.assertEqual(self.folder("in/error"), ["shipment_SHP-9.csv"])
        [msg] = record.message_ids
        self.assertEqual(
            (msg.state, msg.error_category, msg.message_type),
            ("failed", "validation", "shipment.confirmed"),
        )
        self.assertIn("line 2, column quantity", msg.error_message)
        self.assertFalse(self.acks_written())
