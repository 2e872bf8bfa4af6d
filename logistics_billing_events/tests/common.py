"""Service products with a sales tax, a chart of accounts, billing rules and a billing
system on a real HTTP server on loopback."""

import json

from logistics_simulators.http_server import CuedHTTPServer
from logistics_simulators.sftp_server import SFTPTestServer

from odoo.addons.logistics_integration_base.tests.common import (
    run_jobs,
    sftp_backend_vals,
    sftp_partner_settings,
)


def ensure_chart_of_accounts(env, company):
    """A fresh test database may have no chart of accounts: the generic one, once."""
    if not env["account.journal"].search(
        [("type", "=", "sale"), ("company_id", "=", company.id)], limit=1
    ):
        env["account.chart.template"].try_loading("generic_coa", company, install_demo=False)


class BillingMixin:
    @classmethod
    def setup_billing(cls):
        env = cls.env
        company = env.company
        ensure_chart_of_accounts(env, company)
        cls.tax = env["account.tax"].create(
            {
                "name": "Logistics services 10%",
                "amount": 10.0,
                "amount_type": "percent",
                "type_tax_use": "sale",
                "company_id": company.id,
            }
        )
        cls.tax_export = env["account.tax"].create(
            {
                "name": "Export services 0%",
                "amount": 0.0,
                "amount_type": "percent",
                "type_tax_use": "sale",
                "company_id": company.id,
            }
        )
        Product = env["product.product"]

        def service(name, code):
            return Product.create(
                {
                    "name": name,
                    "default_code": code,
                    "type": "service",
                    "taxes_id": [(6, 0, cls.tax.ids)],
                }
            )

        cls.delivery_fee = service("Delivery fee", "SRV-DELIVERY")
        cls.fuel_fee = service("Freight surcharge", "SRV-FREIGHT")
        cls.weight_fee = service("Delivery by weight", "SRV-KG")
        cls.pick_order = service("Pick & pack per order", "SRV-PICK-ORDER")
        cls.pick_unit = service("Pick & pack per unit", "SRV-PICK-UNIT")
        cls.pick_line = service("Pick & pack per line", "SRV-PICK-LINE")
        cls.receiving = service("Receiving per line", "SRV-RECEIVE")
        cls.accessorial = service("Accessorial charges", "SRV-ACC")

        cls.billing_http = CuedHTTPServer(default_status=202).start()
        cls.addClassCleanup(cls.billing_http.stop)
        cls.billing = cls._make_backend(
            name="Ledgerly",
            code="ledgerly",
            kind="billing",
            provider="generic",
            base_url=cls.billing_http.url("/events"),
        )

    @classmethod
    def rule(cls, name, milestone, product, basis="fixed", price=0.0, **vals):
        return cls.env["logistics.billing.rule"].create(
            dict(
                {
                    "name": name,
                    "milestone": milestone,
                    "product_id": product.id,
                    "price_basis": basis,
                    "price": price,
                },
                **vals,
            )
        )

    def freight_files(self, invoices_for, vendor, product, **vals):
        """A backend of the provider *Freight invoice files* on a fresh SFTP server (stopped
        after the test): ``(backend, the partner's login writing into its inbound folder,
        the server)``."""
        server = SFTPTestServer(
            users={"odoo": {"password": "odoo-pw"}, "partner": {"password": "partner-pw"}}
        ).start()
        self.addCleanup(server.stop)
        backend = self._make_backend(
            name=f"{invoices_for.name} invoice files",
            code=f"{invoices_for.code}-files",
            kind=invoices_for.kind,
            provider="freight_files",
            freight_partner_backend_id=invoices_for.id,
            freight_vendor_id=vendor.id,
            freight_product_id=product.id,
            **sftp_backend_vals(
                server,
                "odoo",
                "odoo-pw",
                inbound_dir="invoices",
                outbound_dir="out",
                archive_dir="invoices/archive",
                error_dir="invoices/error",
            ),
            **vals,
        )
        # the partner writes where Odoo reads
        partner = sftp_partner_settings(server, "partner", "partner-pw", outbound_dir="invoices")
        return backend, partner, server

    def events(self, **domain):
        return self.env["logistics.billing.event"].search(
            [(key, "=", value) for key, value in domain.items()], order="id"
        )

    def sent_to_billing(self, message_type=None):
        """CloudEvents the billing system received (after the send jobs ran)."""
        run_jobs(self.env)
        events = [json.loads(request.body) for request in self.billing_http.requests]
        return [e for e in events if message_type is None or e["type"] == message_type]
