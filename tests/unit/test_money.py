"""Money as Decimal: exact conversion from JSON values, banker's rounding to ISO 4217 minor units,
and the `1,234.50 EUR` format people read."""

from __future__ import annotations

from decimal import Decimal

import pytest

from shop.domain.money import format_amount, minor_units, round_amount, to_decimal


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        (0.1, "0.1"),  # via repr: not 0.1000000000000000055511151231257827...
        (14.9, "14.9"),
        (83.87, "83.87"),
        (1e-7, "1E-7"),
        (1e22, "1E+22"),
        (-2.5, "-2.5"),
        (0, "0"),
        (10, "10"),
        (2**70, str(2**70)),
        ("19.999", "19.999"),
        ("1e3", "1E+3"),
        (Decimal("1.50"), "1.50"),
    ],
)
def test_to_decimal_is_exact(value, expected):
    amount = to_decimal(value)

    assert isinstance(amount, Decimal)
    assert str(amount) == expected


def test_to_decimal_of_a_float_is_its_shortest_repr_not_its_binary_value():
    assert to_decimal(0.1) == Decimal("0.1")
    assert to_decimal(0.1) != Decimal(0.1)
    assert to_decimal(0.1) + to_decimal(0.2) == Decimal("0.3")


@pytest.mark.parametrize(
    "value",
    [
        True,
        False,
        None,
        float("nan"),
        float("inf"),
        float("-inf"),
        "NaN",
        "nan",
        "sNaN",
        "Infinity",
        "-inf",
        "",
        "   ",
        "abc",
        "1,5",
        "12 EUR",
        "0x10",
        [1],
        {"amount": 1},
        object(),
    ],
    ids=repr,
)
def test_to_decimal_rejects_what_is_not_a_finite_amount(value):
    with pytest.raises(ValueError):
        to_decimal(value)


@pytest.mark.parametrize(
    ("currency", "units"),
    [("EUR", 2), ("USD", 2), ("JPY", 0), ("KRW", 0), ("CLP", 0), ("KWD", 3), ("BHD", 3), ("TND", 3),
     ("XYZ", 2)],
)
def test_minor_units_follow_iso_4217_with_two_as_default(currency, units):
    assert minor_units(currency) == units


@pytest.mark.parametrize(
    ("amount", "currency", "expected"),
    [
        # Half-even: ties go to the even neighbour.
        ("0.125", "EUR", "0.12"),
        ("0.135", "EUR", "0.14"),
        ("0.005", "USD", "0.00"),
        ("0.015", "USD", "0.02"),
        ("2.5", "JPY", "2"),
        ("3.5", "JPY", "4"),
        ("-2.5", "JPY", "-2"),
        ("1.0005", "KWD", "1.000"),
        ("1.0015", "KWD", "1.002"),
        # Not ties: ordinary rounding.
        ("19.999", "EUR", "20.00"),
        ("127.88", "JPY", "128"),
        ("1.23456", "BHD", "1.235"),
        # Padding to the minor unit.
        ("7", "EUR", "7.00"),
        ("7", "KWD", "7.000"),
        ("1E+3", "EUR", "1000.00"),
        ("14.90", "JPY", "15"),
        # A negative amount that rounds to zero is zero, not "-0.00".
        ("-0.001", "EUR", "0.00"),
        ("-0", "JPY", "0"),
        ("-0.0004", "KWD", "0.000"),
    ],
)
def test_round_amount_rounds_half_even_to_the_minor_unit(amount, currency, expected):
    rounded = round_amount(Decimal(amount), currency)

    assert str(rounded) == expected  # value and exponent: `7.00`, not `7`
    assert rounded.as_tuple().exponent == -minor_units(currency)


@pytest.mark.parametrize(
    ("amount", "currency", "expected"),
    [
        ("1234.5", "EUR", "1,234.50 EUR"),
        ("1234.5", "JPY", "1,234 JPY"),  # half-even: 1234.5 -> 1234
        ("1235.5", "JPY", "1,236 JPY"),
        ("1234567.891", "KWD", "1,234,567.891 KWD"),
        ("999.995", "EUR", "1,000.00 EUR"),
        ("0", "EUR", "0.00 EUR"),
        ("0.5", "USD", "0.50 USD"),
        ("-1234.5", "EUR", "-1,234.50 EUR"),
        ("-0.004", "EUR", "0.00 EUR"),  # never "-0.00"
    ],
)
def test_format_amount(amount, currency, expected):
    assert format_amount(Decimal(amount), currency) == expected
