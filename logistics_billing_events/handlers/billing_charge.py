"""``billing.charge``: an accessorial a partner reports (waiting time, re-delivery, special
handling...). It becomes a billing event waiting for approval, once per charge id."""

from odoo.addons.logistics_integration_base.exceptions import BusinessError
from odoo.addons.logistics_integration_base.handlers import MessageHandler, register_handler
from odoo.addons.logistics_integration_base.tools.canonical import to_naive_utc


@register_handler("billing.charge")
class BillingChargeHandler(MessageHandler):
    schemas = ("billing.charge.v1",)
    out_of_order = "fail"

    def find_record(self, data):
        return self.env["stock.picking"]._logistics_billing_find_shipment(
            data.get("shipment_ref"),
            data.get("tracking_number"),
            company=self.backend.company_id or None,
        )

    def missing_reason(self, data):
        return self.env._(
            "%(backend)s reports a %(code)s charge (%(amount)s %(currency)s) for shipment "
            "%(ref)s, which Odoo does not know. Check the reference with the partner; once "
            "the shipment exists (or the payload is corrected), press Retry.",
            backend=self.backend.name,
            code=data["code"],
            amount=data["amount"],
            currency=data["currency"],
            ref=data.get("shipment_ref") or data.get("tracking_number"),
        )

    def process(self, data, record):
        picking = record
        self.link(picking)
        currency = (
            self.env["res.currency"]
            .with_context(active_test=False)
            .search([("name", "=", data["currency"])], limit=1)
        )
        if not currency:
            raise BusinessError(
                self.env._(
                    "%(backend)s reports charge %(id)s in %(currency)s, a currency Odoo does "
                    "not know. Activate it (Accounting › Configuration › Currencies) and press "
                    "Retry, or correct the payload.",
                    backend=self.backend.name,
                    id=data["charge_id"],
                    currency=data["currency"],
                )
            )
        events = self.env["logistics.billing.event"]._logistics_record_milestone(
            "accessorial",
            f"accessorial:{self.backend.id}:{data['charge_id']}",
            picking.company_id,
            picking.partner_id,
            {"amount": data["amount"], "units": data.get("quantity") or 1.0},
            to_naive_utc(data.get("occurred_at")),
            source=picking,
            picking=picking,
            backend=self.backend,
            message=self.message,
            description=data.get("description") or data["code"],
            charge_code=data["code"],
            currency=currency,
            waits_because=self.env._(
                "an accessorial reported by %s is reviewed before it is billed",
                self.backend.name,
            ),
        )
        existing = self.env["logistics.billing.event"].search_count(
            [("milestone_key", "=", f"accessorial:{self.backend.id}:{data['charge_id']}")]
        )
        if not events and not existing:
            raise BusinessError(
                self.env._(
                    "No billing rule bills %(code)s charges to %(customer)s: add one under "
                    "Logistics › Billing › Rules, then press Retry.",
                    code=data["code"],
                    customer=picking.partner_id.commercial_partner_id.display_name,
                )
            )
        return self.env._(
            "%(count)s billing event(s) for charge %(id)s of %(picking)s",
            count=len(events),
            id=data["charge_id"],
            picking=picking.name,
        )
