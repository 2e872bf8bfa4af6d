"""Freight invoices as CSV (carriers and 3PLs dropping files over SFTP), read into canonical
``freight.invoice`` dicts.

Pure Python, no ORM. The file conventions are those of the 3PL connector's CSV layouts
(``logistics_3pl_connector.formats.csv_format``, whose reader and :class:`CSVParseError` this
module reuses): UTF-8 (a byte-order mark is accepted), comma separated, RFC 4180 quoting, any
line end; the first row is the header, columns are matched by name (case-insensitive, any
order), unknown columns are ignored, optional columns may be left out, blank lines are
skipped. A bad row raises :class:`CSVParseError` whose ``str()`` names the line (1 = the
header) and the column: ``line 7, column amount: '12,50' is not a number (use digits and a
dot, e.g. 12 or 2.5)``. The partner's side (writing the file) is in the repository's
``tests/logistics_simulators/freight_invoices.py``.

One row per charge
==================

Rows are grouped per ``invoice_number`` into invoices (in file order), then per shipment:
per ``shipment_ref``, or per ``tracking_number`` when it is empty, or per ``pro_number`` when
both are; rows with none of the three are charges not tied to a shipment (monthly storage...),
grouped into one shipment whose references are all ``None``.

====================  ========  ==============================================================
Column                Required  Canonical field
====================  ========  ==============================================================
invoice_number        yes       ``invoice_number``
invoice_date          yes       ``invoice_date`` (YYYY-MM-DD), the same on every row
currency              yes       ``currency``: ISO 4217 code in capitals (USD, EUR...), the same
                                on every row
invoice_total         yes       ``total``: amount due, at most 2 decimals, the same on every
                                row; must equal the sum of the invoice's ``amount`` column
partner_code                    ``partner.code`` (the carrier's SCAC, the 3PL's code)
partner_name                    ``partner.name``
shipment_ref                    ``shipments[].shipment_ref``: our delivery or order reference
tracking_number                 ``shipments[].tracking_number``
pro_number                      ``shipments[].pro_number``
weight_kg                       ``shipments[].weight_kg``: billed weight in kg (>= 0)
charge_code           yes       ``charges[].code``, one of the canonical codes (any case):
                                freight, fuel, discount, residential, liftgate,
                                inside_delivery, appointment, redelivery, waiting_time,
                                special_handling, address_correction, storage, pick_pack,
                                receiving, duty_tax, other
description                     ``charges[].description``
amount                yes       ``charges[].amount``: at most 2 decimals, negative for a
                                discount or credit
quantity                        ``charges[].quantity``
rate                            ``charges[].rate``
====================  ========  ==============================================================

Invoice columns (partner_code, partner_name) and shipment columns (tracking_number, pro_number,
weight_kg) may be left empty after the first row of their invoice or shipment; a different
value is an error naming both lines. The invoice total is checked once all rows are read; a
mismatch is reported on the invoice's first line, column invoice_total, with both figures:
``line 2, column invoice_total: invoice INV-1 total 512.40 but the charges add up to 498.40
(lines 2, 3, 4)``. Keys the layout cannot carry (``payment_method``, ``bill_to``,
``bill_of_lading``, ``po_number``, ``shipper``, ``consignee``, invoice ``pro_number``) are
``None``.

Public API::

    parse_invoices_csv(text) -> list[dict]      # canonical freight.invoice dicts
"""

import datetime as dt
from decimal import Decimal

from odoo.addons.logistics_3pl_connector.formats.csv_format import (
    CSVParseError,
    _number,
    _required,
    _rows,
    _Values,
)

from .freight_invoice import CHARGE_CODES, CURRENCIES, as_amount, as_weight

__all__ = [
    "COLUMNS",
    "REQUIRED",
    "CSVParseError",
    "parse_invoices_csv",
]

COLUMNS = (
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
REQUIRED = ("invoice_number", "invoice_date", "currency", "invoice_total", "charge_code", "amount")

_CENT = Decimal("0.01")


def _money(row, line, column):
    number = _number(row, line, column)
    if number != number.quantize(_CENT):
        raise CSVParseError(
            f"{row[column]!r} has more than 2 decimals (amounts are in currency units with "
            "at most 2 decimals, e.g. 512.40)",
            line,
            column,
            row[column],
        )
    return number.quantize(_CENT)


def _optional_number(row, line, column, minimum=None):
    if not row.get(column):
        return None
    return _number(row, line, column, minimum=minimum)


def _date(row, line, column):
    value = _required(row, line, column)
    try:
        if len(value) != 10:
            raise ValueError
        return dt.date.fromisoformat(value).isoformat()
    except ValueError:
        raise CSVParseError(f"{value!r} is not a date (YYYY-MM-DD)", line, column, value) from None


def _currency(row, line, column):
    value = _required(row, line, column)
    if value not in CURRENCIES:
        raise CSVParseError(
            f"{value!r} is not an ISO 4217 currency code in capitals (e.g. USD, EUR)",
            line,
            column,
            value,
        )
    return value


def _charge_code(row, line, column):
    value = _required(row, line, column)
    code = value.lower()
    if code not in CHARGE_CODES:
        raise CSVParseError(
            f"unknown charge code {value!r} (known codes: {', '.join(CHARGE_CODES)})",
            line,
            column,
            value,
        )
    return code


def _shipment_key(row):
    for column in ("shipment_ref", "tracking_number", "pro_number"):
        if row.get(column):
            return column, row[column]
    return None


def parse_invoices_csv(text):
    """Freight invoices CSV (``str``, ``bytes`` or an iterable of lines) -> list of canonical
    ``freight.invoice`` dicts, one per ``invoice_number``, in file order."""
    invoices = {}
    for line, row in _rows(text, COLUMNS, REQUIRED):
        number = _required(row, line, "invoice_number")
        invoice = invoices.get(number)
        if invoice is None:
            invoice = invoices[number] = {
                "values": _Values(f"invoice {number!r}"),
                "lines": [],
                "charges": Decimal(0),
                "shipments": {},
            }
        invoice["lines"].append(line)
        values = invoice["values"]
        values.set("invoice_date", _date(row, line, "invoice_date"), line)
        values.set("currency", _currency(row, line, "currency"), line)
        values.set("invoice_total", format(_money(row, line, "invoice_total"), "f"), line)
        for column in ("partner_code", "partner_name"):
            values.set(column, row.get(column, ""), line)

        key = _shipment_key(row)
        shipment = invoice["shipments"].get(key)
        if shipment is None:
            what = f"{key[0]} {key[1]!r}" if key else "charges without a shipment reference"
            shipment = invoice["shipments"][key] = {"values": _Values(what), "charges": []}
        shipment_values = shipment["values"]
        for column in ("shipment_ref", "tracking_number", "pro_number"):
            shipment_values.set(column, row.get(column, ""), line)
        weight = _optional_number(row, line, "weight_kg", minimum=0)
        if weight is not None:
            shipment_values.set("weight_kg", format(weight.normalize(), "f"), line)

        code = _charge_code(row, line, "charge_code")
        amount = _money(row, line, "amount")
        quantity = _optional_number(row, line, "quantity")
        rate = _optional_number(row, line, "rate")
        invoice["charges"] += amount
        shipment["charges"].append(
            {
                "code": code,
                "description": row.get("description") or None,
                "amount": as_amount(amount),
                "quantity": float(quantity) if quantity is not None else None,
                "rate": float(rate) if rate is not None else None,
            }
        )

    if not invoices:
        raise CSVParseError("the file has a header but no data rows", 2)
    return [_invoice(number, invoice) for number, invoice in invoices.items()]


def _invoice(number, invoice):
    values = invoice["values"]
    total = Decimal(values.get("invoice_total"))
    if invoice["charges"] != total:
        lines = invoice["lines"]
        shown = ", ".join(str(n) for n in lines[:10]) + (", ..." if len(lines) > 10 else "")
        raise CSVParseError(
            f"invoice {number} total {total:.2f} but the charges add up to "
            f"{invoice['charges']:.2f} (lines {shown})",
            lines[0],
            "invoice_total",
            format(total, ".2f"),
        )
    partner = None
    if values.get("partner_code") or values.get("partner_name"):
        partner = {"code": values.get("partner_code"), "name": values.get("partner_name")}
    shipments = []
    for shipment in invoice["shipments"].values():
        shipment_values = shipment["values"]
        weight = shipment_values.get("weight_kg")
        shipments.append(
            {
                "shipment_ref": shipment_values.get("shipment_ref"),
                "tracking_number": shipment_values.get("tracking_number"),
                "pro_number": shipment_values.get("pro_number"),
                "bill_of_lading": None,
                "po_number": None,
                "weight_kg": as_weight(Decimal(weight)) if weight is not None else None,
                "shipper": None,
                "consignee": None,
                "charges": shipment["charges"],
            }
        )
    return {
        "invoice_number": number,
        "invoice_date": values.get("invoice_date"),
        "currency": values.get("currency"),
        "total": as_amount(total),
        "payment_method": None,
        "partner": partner,
        "bill_to": None,
        "pro_number": None,
        "shipments": shipments,
    }
