"""An X12 interchange is applied once, whatever its file is called: the 3PL resending the
same 945 (same ISA sender and control number) under another name creates a duplicate file
record and no second shipment; two different interchanges under the same file name are
both applied; an interchange control number reused with other content is not applied and
lands in the exception queue. Over the real SFTP server and the 3PL simulator."""

from logistics_simulators import x12_partner

from .common import run_jobs
from .test_sftp_exchange import SftpExchangeCase


class TestSftpInterchanges(SftpExchangeCase):
    def inbound(self):
        return self.env["logistics.message"].search(
            [("backend_id", "=", self.backend.id), ("direction", "=", "in")], order="id"
        )

    def shipped(self, qty=2):
        picking = self.make_delivery([(self.chair, qty)])
        run_jobs(self.env)
        return picking

    def test_the_same_945_under_another_name_ships_once(self):
        picking = self.shipped()
        drop = self.sim.sftp_drop_945(self.partner, picking.name, quantities={"CHAIR-1": 2})
        [first] = self.poll()
        self.assertEqual(first.state, "processed", first.error)
        run_jobs(self.env)
        self.assertEqual(picking.state, "done")

        # the 3PL sends the very same interchange again, under another file name
        self.sim.sftp_drop_file(self.partner, "945_resent_" + drop.name, drop.content)
        [again] = self.poll()
        run_jobs(self.env)
        self.assertFalse(again.message_ids, "no second message")
        self.assertEqual(len(self.inbound()), 1, "one shipment message")
        self.assertEqual(again.state, "duplicate")
        self.assertEqual(first.interchange_sender, "SIM3PL:ZZ")
        self.assertEqual(again.duplicate_of_id, first)
        self.assertEqual(again.interchange_control_number, first.interchange_control_number)
        self.assertEqual(again.interchange_sender, "SIM3PL:ZZ")
        self.assertEqual(again.content, drop.content, "the content is kept")
        self.assertIn("Same interchange (sender SIM3PL:ZZ, control reference", again.note)
        self.assertIn(first.name, again.note)
        self.assertFalse(again.ack_file, "nothing more to acknowledge")
        self.assertEqual(len(picking.logistics_shipment_ids), 1)
        self.assertFalse(picking.backorder_ids)
        self.assertIn("945_resent_" + drop.name, self.folder("in/archive"), "moved as processed")
        self.assertFalse(self.folder("in/error"))
        self.assertFalse(
            self.env["logistics.message"].search(
                [("backend_id", "=", self.backend.id), ("state", "in", ("failed", "dead"))]
            ),
            "nothing in the exception queue",
        )

    def test_the_same_846_twice_in_one_poll_applies_once(self):
        envelope = self.sim.sftp_envelope()
        drop = self.sim.sftp_drop_846(
            self.partner, "E3PL", {"CHAIR-1": 7}, snapshot_ref="INV-DUP", envelope=envelope
        )
        self.sim.sftp_drop_file(self.partner, "stock_copy.x12", drop.content)
        files = self.poll()
        self.assertEqual(sorted(files.mapped("state")), ["duplicate", "processed"])
        self.assertEqual(len(self.inbound()), 1)
        self.assertEqual(len(files.filtered("ack_file")), 1, "one 997")

    def test_two_interchanges_under_the_same_name_are_both_applied(self):
        first_picking, second_picking = self.shipped(), self.shipped()
        self.sim.sftp_drop_945(
            self.partner,
            first_picking.name,
            quantities={"CHAIR-1": 2},
            shipment_ref="SHP-A",
            filename="945_daily.x12",
        )
        [first] = self.poll()
        self.sim.sftp_drop_945(
            self.partner,
            second_picking.name,
            quantities={"CHAIR-1": 2},
            shipment_ref="SHP-B",
            filename="945_daily.x12",
        )
        [second] = self.poll()
        run_jobs(self.env)
        self.assertEqual((first.state, second.state), ("processed", "processed"), second.error)
        self.assertNotEqual(first.interchange_control_number, second.interchange_control_number)
        self.assertEqual(len(self.inbound()), 2)
        self.assertEqual((first_picking.state, second_picking.state), ("done", "done"))

    def test_a_control_number_reused_with_other_content_is_not_applied(self):
        picking = self.shipped(qty=5)
        envelope = self.sim.sftp_envelope()
        self.sim.sftp_drop_945(
            self.partner, picking.name, quantities={"CHAIR-1": 5}, envelope=envelope
        )
        [first] = self.poll()
        run_jobs(self.env)
        other = x12_partner.build_945(
            self.shipment(picking.name, quantity=1, shipment_ref="SHP-OTHER"), envelope
        )
        self.sim.sftp_drop_file(self.partner, "945_other.x12", other)
        [reused] = self.poll()
        run_jobs(self.env)
        self.assertEqual(reused.state, "error")
        self.assertIn(f"already received in file {first.name} with other content", reused.error)
        [failed] = reused.message_ids
        self.assertEqual(failed.state, "failed")
        self.assertIn("so it was not applied", failed.error_message)
        self.assertEqual(self.folder("in/error"), ["945_other.x12"])
        self.assertEqual(len(self.inbound().filtered(lambda m: m.state != "failed")), 1)
