"""Money as Decimal, rounded to each currency's minor unit. Never a binary float."""

from __future__ import annotations

from decimal import ROUND_HALF_EVEN, Decimal, InvalidOperation

# ISO 4217 minor units for the currencies that do not use two decimals. Everything else: 2.
_MINOR_UNITS = {
    "BIF": 0, "CLP": 0, "DJF": 0, "GNF": 0, "ISK": 0, "JPY": 0, "KMF": 0, "KRW": 0, "PYG": 0,
    "RWF": 0, "UGX": 0, "UYI": 0, "VND": 0, "VUV": 0, "XAF": 0, "XOF": 0, "XPF": 0,
    "BHD": 3, "IQD": 3, "JOD": 3, "KWD": 3, "LYD": 3, "OMR": 3, "TND": 3,
}


def minor_units(currency: str) -> int:
    return _MINOR_UNITS.get(currency, 2)


def to_decimal(value: object) -> Decimal:
    """Exact decimal from a JSON number or string; floats go through their shortest repr."""
    if isinstance(value, bool):
        raise ValueError("a boolean is not an amount")
    if isinstance(value, float):
        value = repr(value)
    try:
        amount = Decimal(str(value))
    except (InvalidOperation, TypeError) as error:
        raise ValueError(f"not an amount: {value!r}") from error
    if not amount.is_finite():
        raise ValueError(f"not an amount: {value!r}")
    return amount


def round_amount(amount: Decimal, currency: str) -> Decimal:
    """Round half-even (banker's rounding) to the currency's minor unit; never "-0.00"."""
    rounded = amount.quantize(Decimal(1).scaleb(-minor_units(currency)), rounding=ROUND_HALF_EVEN)
    return abs(rounded) if rounded.is_zero() else rounded


def format_amount(amount: Decimal, currency: str) -> str:
    """`1234.5`, `EUR` -> `1,234.50 EUR`: for people, in emails and pages."""
    return f"{round_amount(amount, currency):,} {currency}"
