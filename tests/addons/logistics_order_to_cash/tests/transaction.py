"""The transaction view of the order-to-cash order, and the step latency histograms."""

from logistics_simulators.waiting import wait_until
from prometheus_client.parser import text_string_to_metric_families

from odoo.exceptions import AccessError
from odoo.tests import new_test_user

from odoo.addons.logistics_integration_base.tools import metrics, otel


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

    def assert_one_trace(self, order, receiver, hold):
        """With the OpenTelemetry export on (``receiver``: the local OTLP collector), every
        message of the order's chain, whichever partner, is a span of one trace: the trace
        of the correlation id of its first message, under one transaction span. A freight
        invoice covers the shipments of several orders: it is a trace of its own."""
        self.env.cr.postcommit.run()  # what the commits of the chain would have run
        self.assertTrue(otel.force_flush(10))
        messages = order._logistics_transaction_messages()
        chain = messages.filtered("attempt_ids")  # sent, processed or called: a span each
        ours = chain.filtered(lambda m: m.message_type != "freight.invoice")
        spans = wait_until(
            lambda: (
                {s.attributes.get("logistics.message.id") for s in receiver.spans} >= set(chain.ids)
                and receiver.spans
            ),
            what="a span for every message of the chain",
        )
        trace_id, transaction_span_id = otel.trace_ids(messages[0].correlation_id)
        trace = [s for s in spans if s.trace_id == f"{trace_id:032x}"]
        by_message = {}
        for span in trace:
            by_message.setdefault(span.attributes.get("logistics.message.id"), []).append(span)
        self.assertLessEqual(set(ours.ids), set(by_message), "one trace for the order")
        self.assertLessEqual(set(by_message) - {None}, set(chain.ids))
        self.assertGreaterEqual(
            len({m.backend_id for m in ours}), 4, "3PL, broker, carrier, billing system"
        )
        (transaction,) = by_message[None]
        self.assertEqual(transaction.name, "transaction")
        self.assertEqual(transaction.span_id, f"{transaction_span_id:016x}")
        self.assertEqual(
            {s.parent_span_id for s in trace if s is not transaction}, {transaction.span_id}
        )
        self.assertTrue(all(s.failed for s in by_message[hold.id]), "the customs hold")
        steps = {e[1]["logistics.step"] for s in trace for e in s.events}
        self.assertEqual({"released", "acknowledged", "shipped", "delivered", "invoiced"}, steps)
