"""Approved billing events become draft customer invoices per customer and month, with the
product's taxes through the fiscal position; posting, resetting to draft, cancelling and
reversing tell the billing system (a real HTTP server on loopback) and free the events
when the invoice no longer bills them. Amounts, taxes and journal items are checked."""

from datetime import datetime

from odoo import Command, fields
from odoo.exceptions import UserError
from odoo.tests import TransactionCase

from odoo.addons.logistics_integration_base.tests.common import LogisticsCaseMixin

from .common import BillingMixin


class TestInvoicing(BillingMixin, LogisticsCaseMixin, TransactionCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.setup_billing()
        cls.rule("Pick & pack per order", "shipped", cls.pick_order, "fixed", 2.0)
        cls.rule("Pick & pack per unit", "shipped", cls.pick_unit, "per_unit", 0.35)
        Partner = cls.env["res.partner"]
        cls.acme = Partner.create({"name": "Acme Retail", "is_company": True})
        cls.bolt = Partner.create({"name": "Bolt Stores", "is_company": True})
        cls.export_position = cls.env["account.fiscal.position"].create(
            {
                "name": "Export customers",
                "tax_ids": [
                    Command.create({"tax_src_id": cls.tax.id, "tax_dest_id": cls.tax_export.id})
                ],
            }
        )
        cls.overseas = Partner.create(
            {
                "name": "Overseas Trading",
                "is_company": True,
                "property_account_position_id": cls.export_position.id,
            }
        )

    def setUp(self):
        super().setUp()
        self.billing_http.reset()

    def milestone(self, partner, key, units, when="2026-11-10 10:00:00"):
        return self.env["logistics.billing.event"]._logistics_record_milestone(
            "shipped",
            f"shipped:test:{key}",
            self.env.company,
            partner,
            {"units": units, "lines": 1},
            fields.Datetime.to_datetime(when),
            description=f"shipment {key}",
        )

    def lines_of(self, move):
        return move.invoice_line_ids.sorted("sequence")

    # grouping -----------------------------------------------------------------------------
    def test_one_invoice_per_customer_and_month_one_line_per_event(self):
        a1 = self.milestone(self.acme, "A1", 4)
        a2 = self.milestone(self.acme, "A2", 2, when="2026-11-20 10:00:00")
        a3 = self.milestone(self.acme, "A3", 1, when="2026-10-31 23:00:00")
        b1 = self.milestone(self.bolt, "B1", 10)
        moves = (a1 | a2 | a3 | b1)._logistics_invoice()
        self.assertEqual(len(moves), 3, "Acme November, Acme October, Bolt November")
        acme_nov = moves.filtered(
            lambda m: m.partner_id == self.acme and "2026-11" in m.invoice_origin
        )
        self.assertEqual(acme_nov.move_type, "out_invoice")
        self.assertEqual(acme_nov.state, "draft")
        lines = self.lines_of(acme_nov)
        self.assertEqual(len(lines), 4, "two events per shipment, a line each")
        self.assertEqual(
            sorted(
                (line.product_id.default_code, line.quantity, line.price_unit) for line in lines
            ),
            [
                ("SRV-PICK-ORDER", 1.0, 2.0),
                ("SRV-PICK-ORDER", 1.0, 2.0),
                ("SRV-PICK-UNIT", 2.0, 0.35),
                ("SRV-PICK-UNIT", 4.0, 0.35),
            ],
        )
        for line in lines:
            self.assertEqual(line.tax_ids, self.tax, "the product's tax")
            [event] = line.logistics_billing_event_ids
            self.assertEqual(event.invoice_id, acme_nov)
            self.assertEqual(event.state, "draft_invoice")
            self.assertIn(event.name, line.name)
        # 2 + 2 + 1.40 + 0.70 = 6.10 untaxed, 0.61 tax
        self.assertAlmostEqual(acme_nov.amount_untaxed, 6.10)
        self.assertAlmostEqual(acme_nov.amount_tax, 0.61)
        self.assertAlmostEqual(acme_nov.amount_total, 6.71)
        self.assertEqual(acme_nov.logistics_billing_event_count, 4)
        # nothing is invoiced twice
        self.assertFalse((a1 | a2)._logistics_invoice())

    def test_grouped_per_service_and_price(self):
        self.acme.logistics_billing_grouping = "product"
        events = self.milestone(self.acme, "A1", 4) | self.milestone(self.acme, "A2", 6)
        move = events._logistics_invoice()
        lines = self.lines_of(move)
        self.assertEqual(
            sorted(
                (line.product_id.default_code, line.quantity, line.price_unit) for line in lines
            ),
            [("SRV-PICK-ORDER", 2.0, 2.0), ("SRV-PICK-UNIT", 10.0, 0.35)],
        )
        unit_line = lines.filtered(lambda li: li.product_id == self.pick_unit)
        self.assertEqual(len(unit_line.logistics_billing_event_ids), 2)
        self.assertIn("(2 milestones)", unit_line.name)
        self.assertAlmostEqual(move.amount_untaxed, 7.5)

    def test_fiscal_position_maps_the_taxes_and_the_journal_items_balance(self):
        move = self.milestone(self.overseas, "O1", 10)._logistics_invoice()
        self.assertEqual(move.fiscal_position_id, self.export_position)
        self.assertEqual(self.lines_of(move).tax_ids, self.tax_export)
        move.action_post()
        self.assertEqual(move.state, "posted")
        self.assertAlmostEqual(move.amount_total, 5.5)
        receivable = move.line_ids.filtered(lambda li: li.display_type == "payment_term")
        self.assertEqual(receivable.account_id, self.overseas.property_account_receivable_id)
        self.assertAlmostEqual(receivable.debit, 5.5)
        income = move.line_ids.filtered(lambda li: li.display_type == "product")
        self.assertAlmostEqual(sum(income.mapped("credit")), 5.5)
        self.assertEqual(income.account_id.account_type, "income")
        self.assertAlmostEqual(
            sum(move.line_ids.mapped("debit")), sum(move.line_ids.mapped("credit"))
        )

    def test_posting_tells_the_billing_system_with_amounts_lines_and_events(self):
        events = self.milestone(self.acme, "A1", 4)
        move = events._logistics_invoice()
        self.assertFalse(self.sent_to_billing(), "a draft is not news")
        move.action_post()
        self.assertEqual(set(events.mapped("state")), {"invoiced"})
        tax_line = move.line_ids.filtered(lambda li: li.display_type == "tax")
        self.assertAlmostEqual(tax_line.credit, 0.34)
        self.assertEqual(tax_line.tax_line_id, self.tax)
        receivable = move.line_ids.filtered(lambda li: li.display_type == "payment_term")
        self.assertAlmostEqual(receivable.debit, 3.74)
        [event] = self.sent_to_billing("invoice.posted")
        data = event["data"]
        self.assertEqual(data["invoice_number"], move.name)
        self.assertEqual(data["customer"]["name"], "Acme Retail")
        self.assertEqual(
            (data["amount_untaxed"], data["amount_tax"], data["amount_total"]), (3.4, 0.34, 3.74)
        )
        self.assertEqual(
            sorted((line["product"], line["subtotal"], line["taxes"]) for line in data["lines"]),
            [
                ("SRV-PICK-ORDER", 2.0, ["Logistics services 10%"]),
                ("SRV-PICK-UNIT", 1.4, ["Logistics services 10%"]),
            ],
        )
        self.assertEqual(
            sorted(e["reference"] for e in data["events"]), sorted(events.mapped("name"))
        )
        self.assertIn("invoice.posted sent to Ledgerly", move.message_ids[0].body)
        message = self.env["logistics.message"].search(
            [("message_type", "=", "invoice.posted"), ("res_id", "=", move.id)]
        )
        self.assertEqual(message.state, "sent")

    def test_reset_to_draft_keeps_the_events_on_the_draft_and_says_so(self):
        events = self.milestone(self.acme, "A1", 4)
        move = events._logistics_invoice()
        move.action_post()
        move.button_draft()
        self.assertEqual(set(events.mapped("state")), {"draft_invoice"})
        self.assertEqual(events.invoice_id, move)
        self.assertFalse(events._logistics_invoice(), "still billed by the draft")
        move.action_post()
        types = [e["type"] for e in self.sent_to_billing()]
        self.assertEqual(types, ["invoice.posted", "invoice.reset", "invoice.posted"])

    def test_cancelling_frees_the_events_for_the_next_invoice(self):
        events = self.milestone(self.acme, "A1", 4)
        move = events._logistics_invoice()
        move.action_post()
        move.button_cancel()
        self.assertEqual(move.state, "cancel")
        self.assertEqual(set(events.mapped("state")), {"approved"})
        self.assertFalse(events.invoice_line_id)
        self.assertIn(
            f"Invoice {move.name} was cancelled: billable again.", events[0].message_ids[0].body
        )
        [cancelled] = self.sent_to_billing("invoice.cancelled")
        self.assertEqual(cancelled["data"]["invoice_number"], move.name)
        self.assertEqual(len(cancelled["data"]["events"]), 2)
        self.assertFalse(self.sent_to_billing("invoice.reset"), "a cancellation, not a reset")
        again = events._logistics_invoice()
        self.assertNotEqual(again, move)
        self.assertEqual(events.invoice_id, again)

    # cancelling, whatever the path ------------------------------------------------------------
    def released_notes(self, events):
        """The 'billable again' notes of each event's chatter."""
        return [
            len(event.message_ids.filtered(lambda m: "billable again" in (m.body or "")))
            for event in events
        ]

    def test_reset_to_draft_then_cancel_tells_the_billing_system_once(self):
        """The ordinary way to cancel a posted invoice in Odoo 18: Reset to draft, then
        Cancel. The billing system heard of the post and the reset: it hears of the end."""
        events = self.milestone(self.acme, "A1", 4)
        move = events._logistics_invoice()
        move.action_post()
        move.button_draft()
        move.button_cancel()
        self.assertEqual(move.state, "cancel")
        self.assertEqual(set(events.mapped("state")), {"approved"})
        self.assertFalse(events.invoice_line_id)
        self.assertEqual(self.released_notes(events), [1, 1], "billable again once")
        types = [e["type"] for e in self.sent_to_billing()]
        self.assertEqual(types, ["invoice.posted", "invoice.reset", "invoice.cancelled"])
        [cancelled] = self.sent_to_billing("invoice.cancelled")
        self.assertEqual(cancelled["data"]["invoice_number"], move.name)
        self.assertEqual(
            sorted(e["reference"] for e in cancelled["data"]["events"]),
            sorted(events.mapped("name")),
        )
        self.assertEqual(move.logistics_billing_told, "cancelled")
        # a new invoice bills them; the cancelled one cannot be cancelled again
        again = events._logistics_invoice()
        self.assertEqual(events.invoice_id, again)
        with self.assertRaises(UserError):
            move.button_cancel()
        self.assertEqual(len(self.sent_to_billing("invoice.cancelled")), 1)

    def test_cancelling_straight_from_posted_tells_it_once_without_a_reset(self):
        events = self.milestone(self.acme, "A1", 4)
        move = events._logistics_invoice()
        move.action_post()
        move.button_cancel()
        types = [e["type"] for e in self.sent_to_billing()]
        self.assertEqual(types, ["invoice.posted", "invoice.cancelled"])
        self.assertEqual(self.released_notes(events), [1, 1])

    def test_any_path_to_cancelled_tells_the_billing_system(self):
        """Code writing the state (a localisation, a module cancelling entries) is a
        cancellation too: the events of a posted invoice are freed and it is told."""
        events = self.milestone(self.acme, "A1", 4)
        move = events._logistics_invoice()
        move.action_post()
        move.write({"state": "cancel"})
        self.assertEqual(set(events.mapped("state")), {"approved"})
        self.assertEqual(
            [e["type"] for e in self.sent_to_billing()], ["invoice.posted", "invoice.cancelled"]
        )
        # and a reset draft whose lines were deleted before cancelling: it knew of the
        # reset, it hears of the cancellation (with no event left on it)
        other = self.milestone(self.bolt, "B1", 2)
        draft = other._logistics_invoice()
        draft.action_post()
        draft.button_draft()
        draft.write(
            {"invoice_line_ids": [Command.delete(line.id) for line in draft.invoice_line_ids]}
        )
        self.assertEqual(set(other.mapped("state")), {"approved"})
        draft.button_cancel()
        [cancelled] = [
            e
            for e in self.sent_to_billing("invoice.cancelled")
            if e["data"]["invoice_number"] == draft.name
        ]
        self.assertEqual(cancelled["data"]["events"], [])
        self.assertEqual(self.released_notes(other), [1, 1])

    def test_cancelling_a_draft_never_posted_tells_nothing(self):
        """The billing system was never told of a draft: nothing to cancel there, but the
        events are billable again (once)."""
        events = self.milestone(self.acme, "A1", 4)
        move = events._logistics_invoice()
        move.button_cancel()
        self.assertEqual(move.state, "cancel")
        self.assertEqual(set(events.mapped("state")), {"approved"})
        self.assertEqual(self.released_notes(events), [1, 1])
        self.assertFalse(self.sent_to_billing())
        self.assertFalse(move.logistics_billing_told)
        # its events are billable again: resetting it would bill them twice
        with self.assertRaisesRegex(UserError, "would bill them twice"):
            move.button_draft()
        self.assertEqual(self.released_notes(events), [1, 1])
        self.assertFalse(self.sent_to_billing())

    def test_a_cancelled_invoice_whose_events_were_freed_is_not_reset(self):
        """Cancelled, its events invoiced again on a new invoice: resetting and posting the
        cancelled one again would bill the customer twice; it is refused in words."""
        events = self.milestone(self.acme, "A1", 4)
        move = events._logistics_invoice()
        move.action_post()
        move.button_draft()
        move.button_cancel()
        self.assertTrue(move.logistics_billing_released)
        again = events._logistics_invoice()
        self.assertNotEqual(again, move)
        self.assertEqual(again.logistics_billing_event_ids, events)
        with self.assertRaisesRegex(UserError, "billable again"):
            move.button_draft()
        self.assertEqual(move.state, "cancel")
        # an invoice cancelled without events to free is reset as Odoo allows
        plain = self.env["account.move"].create(
            {
                "move_type": "out_invoice",
                "partner_id": self.acme.id,
                "invoice_line_ids": [Command.create({"name": "Manual", "price_unit": 5.0})],
            }
        )
        plain.button_cancel()
        plain.button_draft()
        self.assertEqual(plain.state, "draft")

    def test_an_accountant_without_logistics_rights_resets_and_cancels(self):
        """Cancelling an invoice is an accountant's act: it works without any logistics
        group, the events are freed and the billing system told all the same."""
        accountant = self.env["res.users"].create(
            {
                "name": "Accountant",
                "login": "accountant-no-logistics",
                "email": "accountant@example.com",
                "groups_id": [Command.set([self.env.ref("account.group_account_invoice").id])],
            }
        )
        events = self.milestone(self.acme, "A1", 4)
        move = events._logistics_invoice()
        move.action_post()
        as_accountant = move.with_user(accountant)
        self.assertEqual(
            as_accountant.read(["logistics_billing_event_count"])[0][
                "logistics_billing_event_count"
            ],
            2,
        )
        as_accountant.button_draft()
        as_accountant.button_cancel()
        self.assertEqual(set(events.mapped("state")), {"approved"})
        self.assertEqual(
            [e["type"] for e in self.sent_to_billing()],
            ["invoice.posted", "invoice.reset", "invoice.cancelled"],
        )

    def test_reversing_frees_the_events_and_names_the_credit_note(self):
        events = self.milestone(self.acme, "A1", 4)
        move = events._logistics_invoice()
        move.action_post()
        reversal = (
            self.env["account.move.reversal"]
            .with_context(active_model="account.move", active_ids=move.ids)
            .create({"reason": "Billed twice", "journal_id": move.journal_id.id})
        )
        reversal.refund_moves()
        credit_note = move.reversal_move_ids
        self.assertEqual(credit_note.move_type, "out_refund")
        self.assertAlmostEqual(credit_note.amount_total, move.amount_total)
        self.assertEqual(set(events.mapped("state")), {"approved"})
        [reversed_] = self.sent_to_billing("invoice.reversed")
        self.assertEqual(reversed_["data"]["invoice_number"], move.name)
        self.assertIsNone(reversed_["data"]["credit_note"], "a draft credit note has no number")
        self.assertIn("reversed (draft credit note): billable again", events[0].message_ids[0].body)
        self.assertEqual(len(reversed_["data"]["events"]), 2)

    def test_deleting_a_draft_line_or_invoice_frees_its_events(self):
        events = self.milestone(self.acme, "A1", 4)
        move = events._logistics_invoice()
        unit_line = self.lines_of(move).filtered(lambda li: li.product_id == self.pick_unit)
        move.write({"invoice_line_ids": [Command.delete(unit_line.id)]})
        unit_event = events.filtered(lambda e: e.product_id == self.pick_unit)
        self.assertEqual((unit_event.state, unit_event.invoice_line_id.id), ("approved", False))
        move.unlink()
        self.assertEqual(set(events.mapped("state")), {"approved"})

    def test_only_approved_events_are_invoiced_and_the_price_is_frozen_on_an_invoice(self):
        self.env["logistics.billing.rule"].search([]).write({"requires_approval": True})
        events = self.milestone(self.acme, "A1", 4)
        self.assertEqual(set(events.mapped("state")), {"to_approve"})
        with self.assertRaisesRegex(UserError, "None of the selected events is billable"):
            events.action_invoice()
        events.action_approve()
        action = events.action_invoice()
        move = self.env["account.move"].search(action["domain"])
        self.assertEqual(move.partner_id, self.acme)
        with self.assertRaisesRegex(UserError, "keeps its quantity, price and description"):
            events[0].price_unit = 99.0

    def test_the_cron_invoices_past_months_only(self):
        today = fields.Date.context_today(self.env.user)
        start_of_month = datetime(today.year, today.month, 1)
        last_month = fields.Datetime.subtract(start_of_month, days=3)
        past = self.milestone(self.acme, "P1", 1, when=fields.Datetime.to_string(last_month))
        now = fields.Datetime.to_string(fields.Datetime.now())
        current = self.milestone(self.acme, "C1", 1, when=now)
        self.assertEqual(self.env["logistics.billing.event"]._cron_invoice(), 1)
        self.assertEqual(set(past.mapped("state")), {"draft_invoice"})
        self.assertEqual(set(current.mapped("state")), {"approved"}, "the month is not over")

    def test_other_companies_do_not_see_the_events(self):
        events = self.milestone(self.acme, "A1", 4)
        other = self.env["res.company"].create({"name": "Other Logistics Co"})
        user = self.env["res.users"].create(
            {
                "name": "Other biller",
                "login": "other-biller",
                "company_id": other.id,
                "company_ids": [Command.set(other.ids)],
                "groups_id": [
                    Command.link(self.env.ref("logistics_billing_events.group_billing_user").id)
                ],
            }
        )
        Event = self.env["logistics.billing.event"].with_user(user)
        self.assertFalse(Event.search([("id", "in", events.ids)]))
        Rule = self.env["logistics.billing.rule"].with_user(user)
        self.assertFalse(Rule.search([]))
