"""The main lists of the suite, as the web client receives them (``get_views``, every
inheriting view applied): the columns a person reads a row by (the record, the partner, the
state, the amount) are shown and never an optional column hidden by default; secondary
columns are optional, so that no more columns than a screen holds are shown at first and
the key ones are not cut off; an amount is shown with its currency."""

from lxml import etree

from odoo.tests import TransactionCase, tagged

#: columns a screen shows without cutting the key ones off (the rest: optional)
MOST_COLUMNS = 9

#: main list view: (key columns, amount column whose currency must be in the list)
MAIN_LISTS = {
    "logistics_integration_base.view_logistics_message_list": (
        ["name", "type_label", "record_name", "partner_id", "backend_id", "state"],
        None,
    ),
    "logistics_integration_base.view_logistics_exception_list": (
        ["name", "type_label", "record_name", "partner_id", "error_summary", "state"],
        None,
    ),
    "logistics_integration_base.view_logistics_backend_list": (
        ["name", "kind", "circuit_summary", "count_pending", "count_exceptions"],
        None,
    ),
    "logistics_integration_base.view_logistics_message_attempt_list": (
        ["started_at", "message_id", "outcome", "error"],
        None,
    ),
    "logistics_integration_base.view_logistics_sftp_file_list": (
        ["create_date", "backend_id", "name", "state"],
        None,
    ),
    "logistics_3pl_connector.view_logistics_inventory_reconciliation_list": (
        ["name", "backend_id", "to_approve_count", "state"],
        None,
    ),
    "logistics_3pl_connector.view_logistics_inventory_reconciliation_line_list": (
        ["product_id", "odoo_qty", "partner_qty", "difference", "state"],
        None,
    ),
    "logistics_carrier_connector.view_logistics_carrier_parcel_list": (
        ["tracking_number", "picking_id", "backend_id", "service", "price_display", "state"],
        None,
    ),
    "logistics_carrier_connector.view_logistics_carrier_tracking_event_list": (
        ["event_time", "parcel_id", "milestone", "description"],
        None,
    ),
    "logistics_customs.view_customs_declaration_list": (
        ["name", "picking_id", "partner_id", "backend_id", "total_value", "state"],
        "total_value",
    ),
    "logistics_billing_events.view_logistics_billing_event_list": (
        ["name", "partner_id", "milestone", "amount", "state"],
        "amount",
    ),
    "logistics_billing_events.view_logistics_freight_invoice_list": (
        ["name", "backend_id", "total", "variance", "state"],
        "variance",
    ),
}


@tagged("post_install", "-at_install")
class TestListColumns(TransactionCase):
    def columns(self, xmlid):
        """The list's columns as the web client receives them: ``{name: node}``."""
        view = self.env.ref(xmlid)
        Model = self.env[view.model]
        arch = Model.get_views([(view.id, "list")])["views"]["list"]["arch"]
        root = etree.fromstring(arch)
        return Model, {node.get("name"): node for node in root.xpath("/list/field")}

    @staticmethod
    def shown(node):
        hidden = (node.get("column_invisible") or "").strip() in ("1", "True", "true")
        return not hidden and node.get("optional") != "hide"

    def test_key_columns_are_shown_and_the_rest_optional(self):
        checked = 0
        for xmlid, (keys, amount) in MAIN_LISTS.items():
            view = self.env.ref(xmlid, raise_if_not_found=False)
            if not view or view.model not in self.env:
                continue  # its module is not installed
            checked += 1
            with self.subTest(list=xmlid):
                Model, columns = self.columns(xmlid)
                for name in keys:
                    self.assertIn(name, columns, "a key column is in the list")
                    self.assertTrue(self.shown(columns[name]), f"{name}: shown by default")
                shown = [name for name, node in columns.items() if self.shown(node)]
                self.assertLessEqual(
                    len(shown), MOST_COLUMNS, f"columns shown at first: {', '.join(shown)}"
                )
                if amount:
                    currency = Model._fields[amount].get_currency_field(Model)
                    self.assertIn(currency, columns, "the amount's currency is in the list")
        self.assertGreaterEqual(checked, 5)
