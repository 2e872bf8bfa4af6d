"""The transaction view of the order-to-cash order, and the step latency histograms."""

from prometheus_client.parser import text_string_to_metric_families

from odoo.exceptions import AccessError
from odoo.tests import new_test_user

from odoo.addons.logistics_integration_base.tools import metrics


class TransactionChecks:
    def assert_transaction(self, order, delivery, declaration, parcel, invoices, hold):
        """``invoices``: the customer invoice, then the freight invoices of the delivery."""
        invoice = invoices[0]
        env = self.env
        Message = env["logistics.message"]
        chain = Message.browse()
        for record in (delivery, declaration, parcel, *invoices):
            chain |= Message.search([("res_model", "=", record._name), ("res_id", "=", record.id)])
        chain = chain.sorted(lambda m: (m.create_date, m.id))
        types = set(chain.mapped("message_type"))
        for expected in (
            "customs.declaration",
            "customs.status",
            "order.release",
            "shipment.confirmed",
            "tracking.update",
            "invoice.posted",
            "freight.invoice",
        ):
            self.assertIn(expected, types)

        action = order.action_logistics_transaction()
        transaction = env[action["res_model"]].browse(action["res_id"])
        self.assertEqual(transaction.name, order.display_name)
        lines = transaction.line_ids.sorted("sequence")
        self.assertEqual(lines.message_id, chain, "every message of the chain, in order")
        self.assertEqual(lines.mapped("when"), sorted(lines.mapped("when")))
        by_message = {line.message_id: line for line in lines}
        release = chain.filtered(lambda m: m.message_type == "order.release")[:1]
        self.assertEqual(by_message[release].step, "Release to 3PL")
        self.assertEqual(by_message[release].backend_name, self.backend.name)
        self.assertTrue(all(line.latency for line in lines[1:]), "time since the previous")
        self.assertTrue(all(line.sla for line in lines), "each step's SLA")
        held = by_message[hold]
        self.assertIn("Certificate of origin", held.exception)
        self.assertTrue(held.resolution.startswith("Ignored: "), held.resolution)

        # the same timeline from the delivery, the declaration, the invoice and a message
        for record in (delivery, declaration, invoice, release):
            other = record.action_logistics_transaction()
            self.assertEqual(
                env[other["res_model"]].browse(other["res_id"]).line_ids.message_id,
                chain,
                record.display_name,
            )

        # read as the caller: a stock user opens the delivery's timeline (what they may not
        # read is left out, nothing refused); a user of another company cannot open it
        stock_user = new_test_user(
            env,
            login="o2c-stock-user",
            groups="stock.group_stock_user,logistics_integration_base.group_logistics_user",
        )
        seen = delivery.with_user(stock_user).action_logistics_transaction()
        seen_lines = env[seen["res_model"]].with_user(stock_user).browse(seen["res_id"]).line_ids
        self.assertLessEqual(seen_lines.message_id, chain)
        self.assertIn(release, seen_lines.message_id)
        other_company = env["res.company"].create({"name": "Elsewhere Ltd"})
        outsider = new_test_user(
            env,
            login="o2c-outsider",
            company_id=other_company.id,
            company_ids=[(6, 0, other_company.ids)],
            groups="stock.group_stock_user,logistics_integration_base.group_logistics_user",
        )
        for record in (delivery, release):
            with self.assertRaises(AccessError):
                record.with_user(outsider).action_logistics_transaction()

        # the step latencies, parsed as a Prometheus server reads them
        samples = {}
        for family in text_string_to_metric_families(metrics.exposition(env).decode()):
            if family.name == "logistics_step_latency_seconds":
                for sample in family.samples:
                    if sample.name.endswith("_count"):
                        labels = sample.labels
                        samples[(labels["from_step"], labels["to_step"])] = sample.value
        for pair in (
            ("released", "acknowledged"),
            ("acknowledged", "shipped"),
            ("released", "shipped"),
            ("shipped", "delivered"),
            ("released", "delivered"),
            ("delivered", "invoiced"),
            ("released", "invoiced"),
        ):
            self.assertGreaterEqual(
                samples.get(pair, 0),
                1,
                (pair, samples, [(m.message_type, m.state, m._logistics_steps()) for m in chain]),
            )
