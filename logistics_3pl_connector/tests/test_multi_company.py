"""Multi-company isolation of the suite's records: every model of the suite that carries a
stored company has a global record rule on it, and a user of another company neither finds
nor reads those records over XML-RPC."""

import os
import uuid
import xmlrpc.client

import odoo
from odoo import fields
from odoo.modules.module import get_module_path
from odoo.tests import new_test_user, tagged

from odoo.addons.logistics_integration_base.tests.common import LogisticsHttpCase

SUITE_PREFIX = "logistics_"
USER_GROUPS = "logistics_integration_base.group_logistics_user,stock.group_stock_user"


def _test_only(module):
    """Test-only addons (``tests/addons/``) are not part of the product."""
    path = get_module_path(module, display_warning=False) or ""
    return os.sep + os.path.join("tests", "addons") + os.sep in path


def company_models(env, product_only=False):
    """Models defined by a suite module (not merely extended by one) with a stored
    ``company_id``, transient and abstract models excluded; ``product_only`` leaves out
    those of test-only addons."""
    names = []
    for name in env.registry:
        model = env[name]
        if model._transient or model._abstract:
            continue
        module = model._original_module or ""
        if not module.startswith(SUITE_PREFIX) or (product_only and _test_only(module)):
            continue
        field = model._fields.get("company_id")
        if field is not None and field.store:
            names.append(name)
    return sorted(names)


@tagged("post_install", "-at_install")
class TestMultiCompany(LogisticsHttpCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        env = cls.env
        cls.company_a = env.company
        cls.company_b = env["res.company"].create({"name": "Logistics Company B"})
        cls.password_a = "mc-a-" + uuid.uuid4().hex
        cls.password_b = "mc-b-" + uuid.uuid4().hex
        cls.user_a = new_test_user(
            env,
            "lgx_mc_a",
            groups=USER_GROUPS,
            password=cls.password_a,
            company_id=cls.company_a.id,
            company_ids=[(6, 0, cls.company_a.ids)],
        )
        cls.user_b = new_test_user(
            env,
            "lgx_mc_b",
            groups=USER_GROUPS,
            password=cls.password_b,
            company_id=cls.company_b.id,
            company_ids=[(6, 0, cls.company_b.ids)],
        )
        cls.records_a = cls._make_company_records(cls.company_a)

    @classmethod
    def _make_company_records(cls, company):
        """One real record of each company-bound model of the suite, for ``company``."""
        env = cls.env
        suffix = uuid.uuid4().hex[:8]
        warehouse = env["stock.warehouse"].search([("company_id", "=", company.id)], limit=1)
        backend = cls._make_backend(name=f"3PL of {company.name}", company_id=company.id)
        message = env["logistics.message"].create(
            {
                "backend_id": backend.id,
                "direction": "in",
                "message_type": "integration.ping",
                "idempotency_key": "mc-" + suffix,
                "state": "received",
                "payload": '{"message": "company A only"}',
            }
        )
        product = env["product.product"].create(
            {"name": "MC Chair", "default_code": "MC-" + suffix, "is_storable": True}
        )
        picking_type = warehouse.out_type_id
        picking = env["stock.picking"].create(
            {
                "picking_type_id": picking_type.id,
                "company_id": company.id,
                "location_id": warehouse.lot_stock_id.id,
                "location_dest_id": env.ref("stock.stock_location_customers").id,
            }
        )
        shipment = env["logistics.shipment"].create(
            {
                "backend_id": backend.id,
                "picking_id": picking.id,
                "shipment_ref": "SHIP-" + suffix,
                "message_id": message.id,
            }
        )
        mapping = env["logistics.product.mapping"].create(
            {"backend_id": backend.id, "product_id": product.id, "partner_sku": "P-" + suffix}
        )
        reconciliation = env["logistics.inventory.reconciliation"].create(
            {
                "name": "Snapshot " + suffix,
                "backend_id": backend.id,
                "warehouse_id": warehouse.id,
                "location_id": warehouse.lot_stock_id.id,
                "snapshot_ref": "SNAP-" + suffix,
                "as_of": fields.Datetime.now(),
                "company_id": company.id,
                "message_id": message.id,
            }
        )
        line = env["logistics.inventory.reconciliation.line"].create(
            {
                "reconciliation_id": reconciliation.id,
                "company_id": company.id,
                "product_id": product.id,
                "sku": "P-" + suffix,
                "odoo_qty": 3.0,
                "partner_qty": 2.0,
                "difference": -1.0,
                "state": "to_approve",
            }
        )
        sftp_file = env["logistics.sftp.file"].create(
            {
                "backend_id": backend.id,
                "name": f"945_{suffix}.csv",
                "checksum": uuid.uuid4().hex,
                "size": 10,
                "file_format": "csv",
            }
        )
        attempt = env["logistics.message.attempt"].create(
            {
                "message_id": message.id,
                "number": 1,
                "started_at": fields.Datetime.now(),
                "outcome": "failed",
            }
        )
        pair = env["logistics.parallel.pair"].create(
            {
                "backend_id": backend.id,
                "message_type": "order.release",
                "business_key": "MC-" + suffix,
                "result": "legacy_only",
            }
        )
        change = env["logistics.backend.mode.change"].create(
            {"backend_id": backend.id, "from_mode": "live", "to_mode": "shadow", "user_id": 1}
        )
        pin = env["logistics.backend.schema.pin"].create(
            {"backend_id": backend.id, "message_type": "order.release", "version": 1}
        )
        records = {
            r._name: r
            for r in (
                backend,
                message,
                attempt,
                shipment,
                mapping,
                reconciliation,
                line,
                sftp_file,
                pair,
                change,
                pin,
            )
        }
        # the suite's other modules, when installed in the same database
        if "logistics.carrier.parcel" in env:
            parcel = env["logistics.carrier.parcel"].create(
                {
                    "picking_id": picking.id,
                    "backend_id": backend.id,
                    "tracking_number": "TRK-" + suffix,
                    "shipment_ref": "shp_" + suffix,
                }
            )
            records[parcel._name] = parcel
            event = env["logistics.carrier.tracking.event"].create(
                {
                    "parcel_id": parcel.id,
                    "event_time": fields.Datetime.now(),
                    "milestone": "in_transit",
                    "carrier_status": "in_transit",
                }
            )
            records[event._name] = event
        if "logistics.customs.declaration" in env:
            declaration = env["logistics.customs.declaration"].create(
                {
                    "picking_id": picking.id,
                    "company_id": company.id,
                    "direction": "export",
                    "currency_id": company.currency_id.id,
                    "line_ids": [(0, 0, {"hs_code": "851610", "quantity": 1.0})],
                    "event_ids": [(0, 0, {"status": "submitted", "version": 1})],
                    "duty_ids": [
                        (
                            0,
                            0,
                            {
                                "duty_type": "duty",
                                "amount": 1.0,
                                "currency_id": company.currency_id.id,
                            },
                        )
                    ],
                }
            )
            records[declaration._name] = declaration
            for relation in ("line_ids", "event_ids", "duty_ids"):
                records[declaration[relation]._name] = declaration[relation]
            status_code = env["logistics.customs.status.map"].create(
                {"backend_id": backend.id, "source": "gis", "code": "MC", "status": "released"}
            )
            records[status_code._name] = status_code
        if "logistics.billing.event" in env:
            service = env["product.product"].create({"name": "MC service", "type": "service"})
            customer = env["res.partner"].create({"name": "MC customer " + suffix})
            rule = env["logistics.billing.rule"].create(
                {
                    "name": "MC rule " + suffix,
                    "company_id": company.id,
                    "milestone": "shipped",
                    "product_id": service.id,
                    "price": 1.0,
                }
            )
            billing_event = env["logistics.billing.event"].create(
                {
                    "company_id": company.id,
                    "partner_id": customer.id,
                    "rule_id": rule.id,
                    "product_id": service.id,
                    "milestone": "shipped",
                    "milestone_key": "mc:" + suffix,
                    "date": fields.Datetime.now(),
                    "description": "MC shipment",
                    "currency_id": company.currency_id.id,
                }
            )
            rate = env["logistics.freight.rate"].create(
                {"backend_id": backend.id, "charge_code": "freight", "price": 1.0}
            )
            freight = env["logistics.freight.invoice"].create(
                {
                    "name": "INV-" + suffix,
                    "backend_id": backend.id,
                    "company_id": company.id,
                    "currency_id": company.currency_id.id,
                    "line_ids": [(0, 0, {"shipment_ref": "SHIP-" + suffix})],
                }
            )
            snapshot = env["logistics.storage.snapshot"].create(
                {
                    "date": fields.Date.today(),
                    "warehouse_id": warehouse.id,
                    "owner_id": customer.id,
                    "company_id": company.id,
                }
            )
            for record in (rule, billing_event, rate, freight, freight.line_ids, snapshot):
                records[record._name] = record
        for record in records.values():
            assert record.company_id == company, f"{record._name} not of {company.name}"
        return records

    # helpers ----------------------------------------------------------------------------------
    def _rpc(self):
        port = odoo.tools.config["http_port"]
        return xmlrpc.client.ServerProxy(f"http://127.0.0.1:{port}/xmlrpc/2/object")

    def _call(self, user, password, model, method, *args, **kwargs):
        # The server reads this test's transaction: what the ORM holds must be in it.
        self.env.flush_all()
        db = self.env.cr.dbname
        return self._rpc().execute_kw(db, user.id, password, model, method, list(args), kwargs)

    # tests ------------------------------------------------------------------------------------
    def test_every_company_model_has_a_global_company_rule(self):
        models = company_models(self.env)
        # Guards the listing itself: these models carry a company today.
        self.assertIn("logistics.backend", models)
        self.assertIn("logistics.shipment", models)
        Rule = self.env["ir.rule"].sudo()
        missing = []
        for name in models:
            rules = Rule.search(
                [
                    ("model_id.model", "=", name),
                    ("global", "=", True),
                    ("active", "=", True),
                    ("perm_read", "=", True),
                ]
            )
            if not any("company_id" in (rule.domain_force or "") for rule in rules):
                missing.append(name)
        self.assertFalse(
            missing,
            "Models of the suite with a company but no active global record rule on "
            "company_id (add one to the module's security/security.xml): " + ", ".join(missing),
        )

    def test_other_company_user_sees_nothing_over_xmlrpc(self):
        models = company_models(self.env, product_only=True)
        self.assertEqual(
            sorted(self.records_a),
            models,
            "Each company-bound model of the suite needs a record in this test's fixture",
        )
        for name, record in self.records_a.items():
            domain = [("id", "=", record.id)]
            with self.subTest(model=name):
                # Company A's user sees the record: the checks below are not vacuous.
                self.assertEqual(
                    self._call(self.user_a, self.password_a, name, "search_count", domain), 1
                )
                read = self._call(
                    self.user_a, self.password_a, name, "read", [record.id], fields=["company_id"]
                )
                self.assertEqual(read[0]["company_id"][0], self.company_a.id)

                # Company B's user neither finds nor reads it.
                self.assertEqual(
                    self._call(self.user_b, self.password_b, name, "search_count", domain), 0
                )
                self.assertEqual(
                    self._call(self.user_b, self.password_b, name, "search_read", domain), []
                )
                with self.assertRaises(xmlrpc.client.Fault) as caught:
                    self._call(
                        self.user_b, self.password_b, name, "read", [record.id], ["company_id"]
                    )
                # 4: Odoo's XML-RPC fault code for an AccessError (not a failed login).
                self.assertEqual(caught.exception.faultCode, 4, caught.exception.faultString)
