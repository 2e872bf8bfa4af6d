import os
import shutil
import tempfile

from logistics_simulators import x12_partner
from logistics_simulators.sftp_server import SFTPTestServer
from logistics_simulators.threepl import sftp_drop, sftp_drop_945

from odoo.tests import TransactionCase

from odoo.addons.logistics_integration_base.transport import sftp

from ..formats import x12
from .common import ThreePLFixture, run_jobs


class SftpCase(ThreePLFixture, TransactionCase):
    file_format = "x12"

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.root = tempfile.mkdtemp(prefix="lgx-sftp-")
        cls.server = SFTPTestServer(cls.root, users={"acme": {"password": "s3cret"}})
        cls.server.start()
        cls.addClassCleanup(cls.server.stop)
        cls.setup_3pl(code=f"sftp-{cls.file_format}", protocol="sftp")
        cls.backend.write(
            {
                "sftp_host": "127.0.0.1",
                "sftp_port": cls.server.port,
                "sftp_username": "acme",
                "sftp_password": "s3cret",
                "sftp_host_key": cls.server.host_key_line,
                "file_format": cls.file_format,
                "x12_sender_id": "ODOO",
                "x12_receiver_id": "ACME3PL",
            }
        )
        # the 3PL's view of the same server: it drops into Odoo's inbound folder
        cls.partner_side = sftp.SFTPSettings(
            host="127.0.0.1",
            port=cls.server.port,
            username="acme",
            password="s3cret",
            host_key=cls.server.host_key_line,
            inbound_dir="inbound",
            outbound_dir="inbound",
        )

    def setUp(self):
        super().setUp()
        # the database is rolled back after each test; the server's folders are emptied
        for entry in os.listdir(self.root):
            shutil.rmtree(os.path.join(self.root, entry), ignore_errors=True)

    def folder(self, name):
        path = os.path.join(self.root, name)
        return sorted(os.listdir(path)) if os.path.isdir(path) else []

    def read(self, folder, name):
        with open(os.path.join(self.root, folder, name), encoding="utf-8") as fh:
            return fh.read()

    def envelope(self, number=7001):
        return x12.Envelope(
            sender_qualifier="ZZ",
            sender_id="ACME3PL",
            receiver_qualifier="ZZ",
            receiver_id="ODOO",
            interchange_control_number=number,
            group_control_number=number,
        )


class TestSftpFilesX12(SftpCase):
    def test_release_is_a_940_written_atomically(self):
        picking = self.make_delivery([(self.chair, 3)])
        run_jobs(self.env)
        msg = picking.logistics_release_message_id
        self.assertEqual(msg.state, "sent", msg.error_message)
        [name] = self.folder("outbound")
        self.assertTrue(name.startswith("940_") and name.endswith(".x12"), name)
        order = x12.parse_documents(self.read("outbound", name))[0][1]
        self.assertEqual(order["order_ref"], picking.name)
        self.assertEqual([(ln["sku"], ln["quantity"]) for ln in order["lines"]], [("CHAIR-1", 3)])
        self.assertFalse([n for n in self.folder("outbound") if n.endswith(".part")])
        # control numbers increase and are never reused
        first = x12.parse_interchange(self.read("outbound", name)).control_number
        picking.action_cancel()
        run_jobs(self.env)
        names = self.folder("outbound")
        self.assertEqual(len(names), 2)
        cancel = self.read("outbound", [n for n in names if n != name][0])
        self.assertIn("~W05*C*", cancel)
        self.assertGreater(int(x12.parse_interchange(cancel).control_number), int(first))

    def test_refused_host_key_fails_as_auth_and_uploads_nothing(self):
        other = SFTPTestServer(tempfile.mkdtemp(prefix="lgx-other-"))
        other.start()
        self.addCleanup(other.stop)
        self.backend.sftp_host_key = other.host_key_line  # not the key this server shows
        picking = self.make_delivery([(self.chair, 1)])
        run_jobs(self.env)
        msg = picking.logistics_release_message_id
        self.assertEqual((msg.state, msg.error_category), ("failed", "auth"))
        self.assertIn("SHA256:", msg.error_message)
        self.assertFalse(self.folder("outbound"))
        action = self.backend.action_test_connection()
        self.assertEqual(action["params"]["type"], "danger")

    def test_945_from_the_simulator_ships_the_delivery_and_gets_a_997(self):
        picking = self.make_delivery([(self.chair, 5)])
        run_jobs(self.env)
        shipment = {
            "order_ref": picking.name,
            "shipment_ref": "SHP-X1",
            "shipped_at": "2026-11-22T12:00:00Z",
            "tracking_ref": "1ZX12",
            "carrier": {"code": "UPSN", "service": "GROUND"},
            "lines": [{"sku": "CHAIR-1", "quantity": 3, "uom": "EA"}],
        }
        sftp_drop_945(
            self.partner_side, shipment, self.envelope(7001), ordered_quantities={"CHAIR-1": 5}
        )
        files = self.backend._sftp_poll()
        self.assertEqual(files.state, "processed", files.error)
        self.assertEqual(self.folder("archive"), ["945_SHP-X1.x12"])
        self.assertEqual(files.message_ids.message_type, "shipment.confirmed")
        run_jobs(self.env)
        self.assertEqual(files.message_ids.state, "processed", files.message_ids.error_message)
        self.assertEqual(picking.state, "done")
        self.assertEqual(picking.logistics_tracking_ref, "1ZX12")
        self.assertEqual(picking.backorder_ids.move_ids.product_uom_qty, 2)
        [ack_name] = [n for n in self.folder("outbound") if n.startswith("997_")]
        ack = x12.parse_interchange(self.read("outbound", ack_name))
        segments = ack.groups[0].transaction_sets[0].segments
        ak1 = next(s for s in segments if s[0] == "AK1")
        ak9 = next(s for s in segments if s[0] == "AK9")
        self.assertEqual(ak1[1:3], ["SW", "7001"])
        self.assertEqual(ak9[1], "A")

    def test_same_file_twice_is_processed_once(self):
        picking = self.make_delivery([(self.chair, 2)])
        run_jobs(self.env)
        shipment = {
            "order_ref": picking.name,
            "shipment_ref": "SHP-X2",
            "lines": [{"sku": "CHAIR-1", "quantity": 2}],
        }
        _path, content = sftp_drop_945(self.partner_side, shipment, self.envelope(7002))
        self.assertEqual(len(self.backend._sftp_poll()), 1)
        sftp_drop(self.partner_side, "945_SHP-X2.x12", content)  # dropped again
        self.assertFalse(self.backend._sftp_poll())
        self.assertEqual(
            self.env["logistics.message"].search_count(
                [("backend_id", "=", self.backend.id), ("direction", "=", "in")]
            ),
            1,
        )

    def test_half_written_file_waits_until_renamed(self):
        picking = self.make_delivery([(self.chair, 2)])
        run_jobs(self.env)
        shipment = {
            "order_ref": picking.name,
            "shipment_ref": "SHP-X3",
            "lines": [{"sku": "CHAIR-1", "quantity": 2}],
        }
        content = x12_partner.build_945(shipment, self.envelope(7003))
        sftp_drop(self.partner_side, "945_SHP-X3.x12", content, half_written=True)
        self.assertFalse(self.backend._sftp_poll(), "a .part upload is not picked up")
        self.assertEqual(self.folder("inbound"), ["945_SHP-X3.x12.part"])
        sftp_drop(self.partner_side, "945_SHP-X3.x12", content)
        self.assertEqual(self.backend._sftp_poll().state, "processed")

    def test_846_becomes_an_inventory_snapshot_message(self):
        snapshot = {
            "snapshot_ref": "INV-1",
            "warehouse_code": "E3PL",
            "as_of": "2026-11-22T06:00:00Z",
            "lines": [{"sku": "CHAIR-1", "quantity": 100, "uom": "EA"}],
        }
        sftp_drop(
            self.partner_side, "846_INV-1.x12", x12_partner.build_846(snapshot, self.envelope(7004))
        )
        files = self.backend._sftp_poll()
        self.assertEqual(files.message_ids.message_type, "inventory.snapshot")
        run_jobs(self.env)
        self.assertEqual(files.message_ids.state, "processed", files.message_ids.error_message)

    def test_broken_file_is_kept_with_segment_and_element_and_rejected_by_997(self):
        picking = self.make_delivery([(self.chair, 2)])
        run_jobs(self.env)
        shipment = {
            "order_ref": picking.name,
            "shipment_ref": "SHP-X5",
            "lines": [{"sku": "CHAIR-1", "quantity": 2}],
        }
        content = x12_partner.build_945(shipment, self.envelope(7005))
        broken = content.replace("W12*CC**2*", "W12*CC**two*", 1)
        self.assertNotEqual(broken, content)
        sftp_drop(self.partner_side, "945_bad.x12", broken)
        files = self.backend._sftp_poll()
        self.assertEqual(files.state, "error")
        self.assertEqual(self.folder("error"), ["945_bad.x12"])
        self.assertEqual(files.content, broken)
        [msg] = files.message_ids
        self.assertEqual((msg.state, msg.error_category), ("failed", "validation"))
        self.assertIn("segment W12", msg.error_message)
        self.assertIn("element W1203", msg.error_message)
        [ack_name] = [n for n in self.folder("outbound") if n.startswith("997_")]
        segments = (
            x12.parse_interchange(self.read("outbound", ack_name))
            .groups[0]
            .transaction_sets[0]
            .segments
        )
        self.assertEqual(next(s for s in segments if s[0] == "AK9")[1], "R")
        self.assertTrue(any(s[0] == "AK3" for s in segments))

    def test_truncated_file_goes_to_the_error_queue(self):
        sftp_drop(self.partner_side, "945_cut.x12", "ISA*00*          *00*      ")
        files = self.backend._sftp_poll()
        self.assertEqual(files.state, "error")
        self.assertIn("ISA", files.message_ids.error_message)

    def test_connection_failure_is_reported_on_the_backend(self):
        self.backend.sftp_port = 9
        self.env["logistics.backend"]._cron_poll_sftp()
        notes = self.env["mail.message"].search(
            [("model", "=", "logistics.backend"), ("res_id", "=", self.backend.id)]
        )
        self.assertIn("Polling the SFTP server failed", " ".join(notes.mapped("body")))


class TestSftpFilesCsv(SftpCase):
    file_format = "csv"

    def test_release_as_csv_and_shipment_csv_back(self):
        from logistics_simulators import csv_partner

        picking = self.make_delivery([(self.desk, 2)])
        run_jobs(self.env)
        [name] = self.folder("outbound")
        self.assertTrue(name.startswith("order_") and name.endswith(".csv"))
        [order] = csv_partner.parse_orders_csv(self.read("outbound", name))
        self.assertEqual(order["order_ref"], picking.name)
        csv_text = csv_partner.build_shipments_csv(
            [
                {
                    "order_ref": picking.name,
                    "shipment_ref": "SHP-C1",
                    "shipped_at": "2026-11-22T12:00:00Z",
                    "tracking_ref": "1ZCSV",
                    "lines": [{"sku": "DESK-1", "quantity": 2}],
                }
            ]
        )
        sftp_drop(self.partner_side, "shipment_SHP-C1.csv", csv_text)
        files = self.backend._sftp_poll()
        self.assertEqual(files.state, "processed", files.error)
        run_jobs(self.env)
        self.assertEqual(picking.state, "done")
        self.assertFalse([n for n in self.folder("outbound") if n.startswith("997")])

    def test_key_auth(self):
        import paramiko

        key = paramiko.ECDSAKey.generate()
        self.server.add_user("keyuser", public_keys=[key])
        import io

        buf = io.StringIO()
        key.write_private_key(buf)
        self.backend.write({"sftp_username": "keyuser", "sftp_private_key": buf.getvalue()})
        self.backend.invalidate_recordset()
        action = self.backend.action_test_connection()
        self.assertEqual(action["params"]["type"], "success", action["params"]["message"])
