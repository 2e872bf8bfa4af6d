"""Values every file format shares: numbers, dates and date-times, addresses, order lines
split by lot.

Canonical payloads carry numbers as JSON numbers (or numeric strings), dates as
``YYYY-MM-DD`` and date-times as ISO 8601 strings; files carry them as text. These helpers
are the one conversion between the two, used by the X12 and CSV codecs alike.

Helpers that refuse a value take the exception class to raise (``error``), so that each
format keeps raising its own error (``X12BuildError``, ``CSVBuildError``...).
"""

import datetime as dt
import re
from collections.abc import Mapping
from decimal import Decimal, InvalidOperation

__all__ = [
    "ADDRESS_FIELDS",
    "ADDRESS_REQUIRED",
    "COUNTRY_CODE",
    "UTC",
    "as_utc",
    "format_number",
    "fromisoformat",
    "iso_utc",
    "parse_date",
    "parse_datetime",
    "require",
    "split_lots",
    "to_decimal",
]

UTC = dt.timezone.utc

#: Keys of a canonical address (``ship_to``...), in the order the file layouts list them.
ADDRESS_FIELDS = (
    "name",
    "company",
    "street",
    "street2",
    "city",
    "state_code",
    "zip",
    "country_code",
    "email",
    "phone",
)
#: Keys a canonical address cannot do without.
ADDRESS_REQUIRED = ("name", "street", "city", "zip", "country_code")
#: ISO 3166-1 alpha-2 country code, upper case.
COUNTRY_CODE = re.compile(r"^[A-Z]{2}$")


# numbers -------------------------------------------------------------------------------------
def to_decimal(value, what, error=ValueError):
    """Canonical number (int, float, Decimal or numeric text) -> finite ``Decimal``; raises
    ``error`` naming ``what`` otherwise (booleans and ``None`` are not numbers)."""
    if isinstance(value, bool) or value is None:
        raise error(f"{what} must be a number, got {value!r}")
    try:
        number = Decimal(str(value).strip())
    except InvalidOperation:
        raise error(f"{what} must be a number, got {value!r}") from None
    if not number.is_finite():
        raise error(f"{what} must be a finite number, got {value!r}")
    return number


def format_number(number):
    """``Decimal`` -> shortest plain text: ``12``, ``2.5``, ``-3``, ``0`` (no exponent, no
    trailing zeros)."""
    number = number.normalize()
    if number == 0:
        return "0"
    if number.as_tuple().exponent > 0:
        number = number.quantize(Decimal(1))
    return format(number, "f")


# dates and date-times --------------------------------------------------------------------------
def fromisoformat(value):
    """``datetime.fromisoformat`` accepting a trailing ``Z`` also on Python 3.10."""
    value = str(value).strip()
    if value[-1:] in ("Z", "z"):
        value = value[:-1] + "+00:00"
    return dt.datetime.fromisoformat(value)


def as_utc(moment):
    """Aware UTC datetime; a naive one is taken as UTC."""
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return moment.astimezone(UTC)


def iso_utc(moment):
    """Datetime -> canonical ``YYYY-MM-DDTHH:MM:SSZ`` (naive means UTC)."""
    return as_utc(moment).strftime("%Y-%m-%dT%H:%M:%SZ")


def parse_datetime(value, what, error=ValueError):
    """Canonical date-time (ISO 8601 text, datetime or date) -> aware UTC datetime. No offset
    means UTC; a bare date means midnight UTC."""
    if isinstance(value, dt.datetime):
        moment = value
    elif isinstance(value, dt.date):
        moment = dt.datetime.combine(value, dt.time())
    elif isinstance(value, str) and value.strip():
        try:
            moment = fromisoformat(value.strip())
        except ValueError:
            raise error(f"{what} {value!r} is not an ISO 8601 date-time") from None
    else:
        raise error(f"{what} {value!r} is not an ISO 8601 date-time")
    return as_utc(moment)


def parse_date(value, what, error=ValueError):
    """Canonical date (``YYYY-MM-DD`` text, date or datetime) -> date."""
    if isinstance(value, dt.datetime):
        return value.date()
    if isinstance(value, dt.date):
        return value
    try:
        return dt.date.fromisoformat(str(value).strip())
    except ValueError:
        raise error(f"{what} {value!r} is not an ISO date (YYYY-MM-DD)") from None


# payloads ------------------------------------------------------------------------------------
def require(mapping, key, what, error=ValueError):
    """``mapping[key]``, refusing a missing, ``None`` or blank value with ``error``."""
    value = mapping.get(key) if isinstance(mapping, Mapping) else None
    if value is None or (isinstance(value, str) and not value.strip()):
        raise error(f"{what} is required")
    return value


def split_lots(line, what, error=ValueError):
    """The quantity of a canonical order line and its parts, ``(quantity, [(lot dict or None,
    quantity)])``: one part per lot, then the quantity no lot holds (the whole quantity when
    there are no lots). Refuses, with ``error``, lots without a name and lot quantities
    exceeding the line quantity."""
    quantity = to_decimal(line.get("quantity"), f"{what}.quantity", error)
    parts, assigned = [], Decimal(0)
    for n, lot in enumerate(line.get("lots") or []):
        lot_quantity = to_decimal(lot.get("quantity"), f"{what}.lots[{n}].quantity", error)
        require(lot, "lot", f"{what}.lots[{n}].lot", error)
        assigned += lot_quantity
        parts.append((lot, lot_quantity))
    if assigned > quantity:
        raise error(
            f"{what}: the lot quantities ({format_number(assigned)}) exceed the line quantity "
            f"({format_number(quantity)})"
        )
    if quantity - assigned > 0 or not parts:
        parts.append((None, quantity - assigned))
    return quantity, parts
