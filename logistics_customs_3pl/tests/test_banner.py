"""A 3PL delivery customs hold has one banner on its form, which says both things: why customs
hold it, and what that means at the 3PL (its release waits for customs, or the 3PL has the
order on customs hold until an order update lifts it). The 3PL's own banner and the customs
banner still show alone where only one of them applies.

The form is read as its user gets it (``get_view``: every module's view applied, the user's
groups), and each banner's ``invisible`` condition is evaluated on the delivery's values, as
the web client does."""

import ast

from lxml import etree

from odoo.tests import TransactionCase
from odoo.tools.safe_eval import safe_eval

from odoo.addons.logistics_integration_base.tests.common import run_jobs

from .common import ExportFixture

BANNERS = "//div[contains(concat(' ', normalize-space(@class), ' '), ' alert ')]"
REFUSAL = {"errors": {"ship_to.phone": ["a delivery phone number is required"]}}


def _visible(node, record):
    """Whether ``node`` of the form shows for ``record``: neither it nor a parent invisible."""
    while node is not None:
        expr = node.get("invisible")
        if expr and _evaluate(expr, record):
            return False
        node = node.getparent()
    return True


def _evaluate(expr, record):
    """A view's condition on ``record``'s values (a many2one reads as its id, as in the web
    client)."""
    names = {
        n.id for n in ast.walk(ast.parse(expr.strip(), mode="eval")) if isinstance(n, ast.Name)
    }
    values = {}
    for name in names:
        value = record[name]
        if hasattr(value, "_name"):
            value = value.id if record._fields[name].type == "many2one" else value.ids
        values[name] = value
    return bool(safe_eval(expr, values))


class BannerMixin:
    def visible_banners(self, picking):
        """The banners the form of ``picking`` shows: [(css class, name, text)]."""
        picking.invalidate_recordset()
        arch = etree.fromstring(self.env["stock.picking"].get_view(view_type="form")["arch"])
        return [
            (
                " ".join(c for c in node.get("class").split() if c.startswith("alert-")),
                node.get("name"),
                " ".join(" ".join(node.itertext()).split()),
            )
            for node in arch.xpath(BANNERS)
            if _visible(node, picking)
        ]

    def customs_banner_only(self, picking):
        [(css, name, _text)] = self.visible_banners(picking)
        self.assertEqual((css, name), ("alert-warning", "logistics_customs_banner"))
        return picking.logistics_customs_why, picking.logistics_customs_next

    def customs_say(self, declaration, status, **data):
        declaration.sudo().state = "accepted"
        declaration._logistics_apply_status(
            {"reference": declaration.name, "status": status, **data}, None
        )


class TestOneBannerOnHold(BannerMixin, ExportFixture, TransactionCase):
    """A 3PL that takes such deliveries at once, with a customs hold."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.setup_export(customs_release_policy="flag")

    def test_released_on_customs_hold_one_banner_says_both(self):
        picking = self.make_delivery([(self.chair, 2)], partner=self.canadian)
        run_jobs(self.env)
        declaration = picking.logistics_declaration_ids
        self.assertEqual(
            (picking.logistics_state, picking.logistics_customs_hold), ("released", "held")
        )

        why, next_step = self.customs_banner_only(picking)
        self.assertEqual(
            why,
            f"Its customs declaration {declaration.name} is not sent to the customs broker "
            "yet. 3PL Acme Fulfilment has the order on customs hold: it keeps the goods.",
        )
        self.assertEqual(
            next_step,
            "Complete the declaration and press Send to broker: an order update lets 3PL "
            "Acme Fulfilment ship it once customs release it.",
        )

        # customs ask for documents: what to do, then what the 3PL does
        self.customs_say(
            declaration,
            "documents_required",
            reason="Proof of origin required",
            documents_requested=[{"code": "N954", "name": "Certificate of origin EUR.1"}],
        )
        why, next_step = self.customs_banner_only(picking)
        self.assertIn("customs ask for documents", why)
        self.assertIn("Certificate of origin EUR.1", next_step)
        self.assertTrue(
            next_step.endswith("Then an order update lets 3PL Acme Fulfilment ship it."),
            next_step,
        )

        # customs release it: the hold is lifted, no banner is left
        declaration._logistics_apply_status(
            {"reference": declaration.name, "status": "released"}, None
        )
        run_jobs(self.env)
        self.assertEqual(picking.logistics_customs_hold, "cleared")
        self.assertEqual(self.visible_banners(picking), [])

    def test_a_refused_release_keeps_the_3pls_banner(self):
        self.sim.fail_next(400, body=REFUSAL)
        domestic = self.make_delivery([(self.chair, 1)])
        run_jobs(self.env)
        self.assertEqual(domestic.logistics_state, "failed")
        [(css, _name, text)] = self.visible_banners(domestic)
        self.assertEqual(css, "alert-danger")
        self.assertTrue(text.startswith("Not released:"), text)


class TestOneBannerWaiting(BannerMixin, ExportFixture, TransactionCase):
    """A 3PL whose deliveries wait for customs before they are released."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.setup_export()

    def test_waiting_for_customs_the_banner_says_the_release_waits(self):
        picking = self.make_delivery([(self.chair, 1)], partner=self.canadian)
        run_jobs(self.env)
        declaration = picking.logistics_declaration_ids
        self.assertEqual(picking.logistics_state, "none")
        self.assertNotIn(picking.name, self.sim.orders)

        declaration.sudo().state = "submitted"
        why, next_step = self.customs_banner_only(picking)
        self.assertEqual(
            why,
            f"Its customs declaration {declaration.name} is waiting for customs release. Its "
            "release to 3PL Acme Fulfilment waits for customs.",
        )
        self.assertEqual(
            next_step,
            f"{self.broker.name} has it; it is released to 3PL Acme Fulfilment once customs "
            "release it. Nothing to do until then.",
        )
        self.assertNotIn("validated", next_step, "the 3PL's confirmation validates it")

    def test_a_delivery_of_our_own_warehouse_keeps_the_customs_banner(self):
        own = self.env["stock.warehouse"].search(
            [("company_id", "=", self.env.company.id), ("logistics_backend_id", "=", False)],
            limit=1,
        )
        own.partner_id = self.env.company.partner_id
        env = self.env
        env["stock.quant"]._update_available_quantity(self.chair, own.lot_stock_id, 5)
        ours = self.make_delivery([(self.chair, 1)], partner=self.canadian, warehouse=own)
        self.assertFalse(ours.logistics_backend_id, "no 3PL runs that warehouse")
        declaration = ours.logistics_declaration_ids
        self.assertTrue(declaration, "an export across a customs border")
        why, next_step = self.customs_banner_only(ours)
        self.assertEqual(
            why,
            f"Its customs declaration {declaration.name} is not sent to the customs broker yet.",
        )
        self.assertEqual(
            next_step,
            "Complete the declaration and press Send to broker: the transfer can be validated "
            "once customs release it.",
        )
