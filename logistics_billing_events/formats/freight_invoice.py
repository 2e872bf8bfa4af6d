"""The canonical freight invoice (``freight.invoice`` v1, ``schemas/freight.invoice.v1.json``):
its vocabulary and the checks every format shares.

Pure Python, no ORM. A carrier's or 3PL's invoice arrives as the canonical JSON (webhook), as
CSV (:mod:`.freight_csv`) or as an X12 210 (:mod:`.x12_210`); all three end up as the same
dict, checked the same way:

* ``currency`` is an active ISO 4217 code (:data:`CURRENCIES`: the list is built in, so a typo
  such as ``UDS`` is refused with the file position; whether the company has the currency
  active in Odoo is for the model to check);
* every charge ``code`` is one of :data:`CHARGE_CODES`;
* amounts carry at most 2 decimals, and the charges of all shipments add up to ``total``.

:func:`check_invoice` runs these checks on a canonical dict (the webhook's JSON, after schema
validation) and raises :class:`FreightInvoiceError` with a JSON pointer and, for totals, both
figures. The file parsers run the same checks themselves, with errors naming the segment and
element (X12) or the line and column (CSV).
"""

from decimal import Decimal, InvalidOperation

__all__ = [
    "CHARGE_CODES",
    "CURRENCIES",
    "MESSAGE_TYPE",
    "FreightInvoiceError",
    "as_amount",
    "as_weight",
    "check_invoice",
    "charges_total",
    "money",
]

MESSAGE_TYPE = "freight.invoice"

#: Canonical charge codes and what they bill (the schema's enum, in the same order).
CHARGE_CODES = {
    "freight": "Freight (line haul, base rate)",
    "fuel": "Fuel surcharge",
    "discount": "Discount (a negative amount)",
    "residential": "Residential delivery",
    "liftgate": "Liftgate service",
    "inside_delivery": "Inside delivery",
    "appointment": "Delivery appointment or notification",
    "redelivery": "Redelivery (another delivery attempt)",
    "waiting_time": "Waiting time (detention at pickup or delivery)",
    "special_handling": "Special handling (fragile, oversize, hazardous)",
    "address_correction": "Address correction",
    "storage": "Storage",
    "pick_pack": "Pick and pack (3PL fulfilment)",
    "receiving": "Receiving (3PL inbound handling)",
    "duty_tax": "Duties and taxes advanced",
    "other": "Other charge (see the description)",
}

#: Active ISO 4217 currency codes (funds, precious metals and test codes left out).
CURRENCIES = frozenset(
    """
    AED AFN ALL AMD ANG AOA ARS AUD AWG AZN BAM BBD BDT BGN BHD BIF BMD BND BOB BRL BSD BTN BWP
    BYN BZD CAD CDF CHF CLP CNY COP CRC CUP CVE CZK DJF DKK DOP DZD EGP ERN ETB EUR FJD FKP GBP
    GEL GHS GIP GMD GNF GTQ GYD HKD HNL HTG HUF IDR ILS INR IQD IRR ISK JMD JOD JPY KES KGS KHR
    KMF KPW KRW KWD KYD KZT LAK LBP LKR LRD LSL LYD MAD MDL MGA MKD MMK MNT MOP MRU MUR MVR MWK
    MXN MYR MZN NAD NGN NIO NOK NPR NZD OMR PAB PEN PGK PHP PKR PLN PYG QAR RON RSD RUB RWF SAR
    SBD SCR SDG SEK SGD SHP SLE SLL SOS SRD SSP STN SVC SYP SZL THB TJS TMT TND TOP TRY TTD TWD
    TZS UAH UGX USD UYU UZS VES VND VUV WST XAF XCD XOF XPF YER ZAR ZMW ZWL
    """.split()
)

CENT = Decimal("0.01")


class FreightInvoiceError(ValueError):
    """A canonical freight invoice is wrong; ``pointer`` is the JSON pointer of the field
    (``/shipments/0/charges/2/code``), ``str()`` starts with it."""

    def __init__(self, message, pointer=None):
        super().__init__(message)
        self.message = message
        self.pointer = pointer

    def __str__(self):
        return f"{self.pointer}: {self.message}" if self.pointer else str(self.message)

    def __reduce__(self):
        return (self.__class__, (self.message, self.pointer))


def money(value):
    """Amount (number or numeric text) -> ``Decimal`` with 2 decimals; ``ValueError`` when it
    is not a finite number or has more than 2 decimals."""
    if isinstance(value, bool) or value is None:
        raise ValueError(f"{value!r} is not an amount")
    try:
        number = Decimal(str(value).strip())
    except InvalidOperation:
        raise ValueError(f"{value!r} is not an amount") from None
    if not number.is_finite():
        raise ValueError(f"{value!r} is not an amount")
    if number != number.quantize(CENT):
        raise ValueError(f"{value!r} has more than 2 decimals")
    return number.quantize(CENT)


def as_amount(number):
    """``Decimal`` amount -> canonical JSON number (2 decimals)."""
    return float(number.quantize(CENT))


def as_weight(number):
    """``Decimal`` weight in kg -> canonical JSON number (rounded to 2 decimals)."""
    return float(number.quantize(CENT))


def charges_total(invoice):
    """Sum of the charge amounts of every shipment of a canonical invoice (``Decimal``)."""
    return sum(
        (
            money(charge.get("amount"))
            for shipment in invoice.get("shipments") or []
            for charge in shipment.get("charges") or []
        ),
        Decimal(0),
    )


def check_invoice(invoice):
    """Check a canonical invoice (already valid against the JSON schema): ISO currency, charge
    codes, amounts with 2 decimals, charges adding up to the total. Returns the invoice;
    raises :class:`FreightInvoiceError` naming the field."""
    currency = invoice.get("currency")
    if currency not in CURRENCIES:
        raise FreightInvoiceError(
            f"currency {currency!r} is not an ISO 4217 currency code (e.g. USD, EUR)",
            "/currency",
        )
    try:
        total = money(invoice.get("total"))
    except ValueError as error:
        raise FreightInvoiceError(f"invoice total: {error}", "/total") from None
    charges = Decimal(0)
    for s, shipment in enumerate(invoice.get("shipments") or []):
        for c, charge in enumerate(shipment.get("charges") or []):
            pointer = f"/shipments/{s}/charges/{c}"
            if charge.get("code") not in CHARGE_CODES:
                raise FreightInvoiceError(
                    f"unknown charge code {charge.get('code')!r} (known codes: "
                    f"{', '.join(CHARGE_CODES)})",
                    f"{pointer}/code",
                )
            try:
                charges += money(charge.get("amount"))
            except ValueError as error:
                raise FreightInvoiceError(f"charge amount: {error}", f"{pointer}/amount") from None
    if charges != total:
        raise FreightInvoiceError(
            f"invoice {invoice.get('invoice_number')}: the total is {total} but the charges "
            f"add up to {charges}",
            "/total",
        )
    return invoice
