"""The carrier's and the 3PL's side of the freight invoice files: the X12 210 and the CSV that
the billing module reads (``logistics_billing_events.formats.x12_210`` and ``.freight_csv``
document the profiles; ``logistics_billing_events/readme/FORMATS.md`` has examples).

Written from the profile, not with the billing module's code, so that a test reading these
files checks the parsers against an independent writer. Used by the tests, by a freight
invoicing partner simulator and by the demo::

    build_210(invoices, envelope, set_control_number=1, *, weight_unit="L") -> str
    build_csv(invoices) -> str

``invoices`` are canonical ``freight.invoice`` dicts (one dict is accepted too); a charge's
``partner_code`` (``ENS``, ``GST``...) is written as its L108 code, else the code of
:data:`L108_CODES`. The shape of what ``build_210`` writes is checked against 210s carriers
sent (``tests/conformance/x12/210/``). The writers do not check totals: an invoice whose
``total`` is not the sum of its charges is written as given, which is how the tests make a
carrier's wrong invoice.
"""

import csv
import io
from collections.abc import Mapping
from decimal import Decimal

from odoo.addons.logistics_integration_base.formats.common import (
    format_number,
    parse_date,
    require,
    to_decimal,
)
from odoo.addons.logistics_integration_base.formats.x12 import X12BuildError, build_interchange
from odoo.addons.logistics_integration_base.formats.x12.segments import x12_date

__all__ = ["CSV_COLUMNS", "L108_CODES", "build_210", "build_csv"]

#: Canonical charge code -> the special charge code (L108) a carrier writes. 3PL charges
#: (pick_pack, receiving) have none: 3PLs invoice them in CSV.
L108_CODES = {
    "freight": "400",
    "fuel": "FUE",
    "discount": "DSC",
    "residential": "RES",
    "liftgate": "LFT",
    "inside_delivery": "IDL",
    "appointment": "APT",
    "redelivery": "RCL",
    "waiting_time": "DET",
    "special_handling": "690",
    "address_correction": "020",
    "storage": "SRG",
    "duty_tax": "315",
    "other": "999",
}
_B304 = {None: "PP", "prepaid": "PP", "collect": "CC", "third_party": "TP"}
_KG_PER_UNIT = {"L": Decimal("0.45359237"), "K": Decimal(1)}

CSV_COLUMNS = (
    "invoice_number",
    "invoice_date",
    "currency",
    "invoice_total",
    "partner_code",
    "partner_name",
    "shipment_ref",
    "tracking_number",
    "pro_number",
    "weight_kg",
    "charge_code",
    "description",
    "amount",
    "quantity",
    "rate",
)


def _need(mapping, key, what):
    return require(mapping, key, what, X12BuildError)


def _cents(value, what):
    """Amount -> X12 N2 text (whole cents, implied decimal point)."""
    amount = to_decimal(value, what, X12BuildError)
    cents = amount * 100
    if cents != cents.to_integral_value():
        raise X12BuildError(f"{what} {value!r} has more than 2 decimals")
    return str(int(cents))


def _as_list(invoices):
    return [invoices] if isinstance(invoices, Mapping) else list(invoices)


def _party(entity, party, what):
    if not party:
        return []
    name = party.get("name")
    code = party.get("code")
    if not (name or code):
        raise X12BuildError(f"{what} needs a name or a code")
    segments = [["N1", entity, name, "91" if code else None, code]]
    if party.get("street") or party.get("street2"):
        segments.append(["N3", party.get("street"), party.get("street2")])
    if any(party.get(key) for key in ("city", "state_code", "zip", "country_code")):
        segments.append(
            [
                "N4",
                party.get("city"),
                party.get("state_code"),
                party.get("zip"),
                party.get("country_code"),
            ]
        )
    return segments


def _weight(weight_kg, unit):
    weight = to_decimal(weight_kg, "weight_kg", X12BuildError) / _KG_PER_UNIT[unit]
    return format_number(weight.quantize(Decimal("0.01")))


def _body_210(invoice, weight_unit):
    if not isinstance(invoice, Mapping):
        raise X12BuildError("invoice must be a dict (canonical freight.invoice)")
    shipments = invoice.get("shipments") or []
    if len(shipments) != 1:
        raise X12BuildError(
            f"a 210 invoices one shipment, invoice {invoice.get('invoice_number')!r} has "
            f"{len(shipments)}: write one invoice per shipment"
        )
    shipment = shipments[0]
    if invoice.get("payment_method") not in _B304:
        raise X12BuildError(f"payment_method {invoice.get('payment_method')!r} has no B304 code")
    day = parse_date(_need(invoice, "invoice_date", "invoice_date"), "invoice_date", X12BuildError)
    total = _cents(invoice.get("total"), "total")
    weight = None
    if shipment.get("weight_kg") is not None:
        weight = _weight(shipment["weight_kg"], weight_unit)
    partner = invoice.get("partner") or {}
    segments = [
        [
            "B3",
            None,
            _need(invoice, "invoice_number", "invoice_number"),
            invoice.get("pro_number") or shipment.get("pro_number"),
            _B304[invoice.get("payment_method")],
            weight_unit if weight else None,
            x12_date(day),
            total,
            None,
            None,
            None,
            partner.get("code"),
        ],
        ["C3", _need(invoice, "currency", "currency")],
    ]
    for qualifier, key in (
        ("SI", "shipment_ref"),
        ("BM", "bill_of_lading"),
        ("PO", "po_number"),
        ("CN", "pro_number"),
        ("2I", "tracking_number"),
    ):
        if shipment.get(key):
            segments.append(["N9", qualifier, shipment[key]])
    if partner.get("name"):
        segments.append(["N1", "CA", partner["name"]])
    segments += _party("SH", shipment.get("shipper"), "shipper")
    segments += _party("CN", shipment.get("consignee"), "consignee")
    segments += _party("BT", invoice.get("bill_to"), "bill_to")
    charges = shipment.get("charges") or []
    if not charges:
        raise X12BuildError("the shipment has no charges")
    for n, charge in enumerate(charges, start=1):
        what = f"charges[{n - 1}]"
        code = _need(charge, "code", f"{what}.code")
        if code not in L108_CODES:
            raise X12BuildError(f"{what}: charge code {code!r} has no 210 special charge code")
        segments.append(["LX", str(n)])
        if n == 1 and weight:
            segments.append(["L0", "1", None, None, weight, "B", *[None] * 5, weight_unit])
        rate = charge.get("rate")
        segments.append(
            [
                "L1",
                str(n),
                format_number(to_decimal(rate, f"{what}.rate", X12BuildError))
                if rate is not None
                else None,
                ("CW" if code == "freight" else "FR") if rate is not None else None,
                _cents(charge.get("amount"), f"{what}.amount"),
                None,
                None,
                None,
                # the carrier's own code when the invoice names one (ENS, GST...)
                charge.get("partner_code") or L108_CODES[code],
                None,
                None,
                None,
                charge.get("description"),
            ]
        )
    segments.append(
        [
            "L3",
            weight,
            "B" if weight else None,
            None,
            None,
            total,
            *[None] * 6,
            weight_unit if weight else None,
        ]
    )
    return segments


def build_210(invoices, envelope, set_control_number=1, *, weight_unit="L"):
    """Canonical ``freight.invoice`` dicts -> 210 interchange (functional group IM), one
    transaction set per invoice (each invoice has exactly one shipment). Weights are written
    in pounds (``weight_unit="L"``) or kilograms (``"K"``)."""
    if weight_unit not in _KG_PER_UNIT:
        raise X12BuildError(f"weight_unit must be L or K, got {weight_unit!r}")
    bodies = [("210", _body_210(invoice, weight_unit)) for invoice in _as_list(invoices)]
    if not bodies:
        raise X12BuildError("no invoice to write")
    return build_interchange(envelope, "IM", bodies, set_control_number)


def _text(value):
    if value is None:
        return ""
    if isinstance(value, float | int | Decimal) and not isinstance(value, bool):
        return format_number(Decimal(str(value)))
    return str(value)


def _amount(value):
    return format(Decimal(str(value)).quantize(Decimal("0.01")), "f")


def build_csv(invoices):
    """Canonical ``freight.invoice`` dicts -> freight invoices CSV text (one row per charge,
    the invoice and shipment columns repeated on every row)."""
    buffer = io.StringIO(newline="")
    writer = csv.writer(buffer, lineterminator="\r\n", quoting=csv.QUOTE_MINIMAL)
    writer.writerow(CSV_COLUMNS)
    for invoice in _as_list(invoices):
        partner = invoice.get("partner") or {}
        head = [
            invoice["invoice_number"],
            invoice["invoice_date"],
            invoice["currency"],
            _amount(invoice["total"]),
            partner.get("code"),
            partner.get("name"),
        ]
        for shipment in invoice.get("shipments") or []:
            ship = [
                shipment.get("shipment_ref"),
                shipment.get("tracking_number"),
                shipment.get("pro_number"),
                shipment.get("weight_kg"),
            ]
            for charge in shipment.get("charges") or []:
                row = [
                    charge["code"],
                    charge.get("description"),
                    _amount(charge["amount"]),
                    charge.get("quantity"),
                    charge.get("rate"),
                ]
                writer.writerow([_text(value) for value in head + ship + row])
    return buffer.getvalue()
