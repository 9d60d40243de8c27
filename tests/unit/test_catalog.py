"""The catalog: the course's format (Id, Name, Description, Price, Currency, Weight, ImageUrl,
Supplier, Category) parsed into Products with Decimal prices, over hand-made entries, the
project's demo catalog and the course's real, messy 1,000-product catalog."""

from __future__ import annotations

import dataclasses
import json
from collections import Counter
from decimal import Decimal
from typing import Any

import pytest

from shop.domain.catalog import MAX_PRICE, Product, parse_catalog, product_from_catalog_entry
from shop.domain.errors import InvalidCatalog
from shop.domain.money import minor_units
from tests.unit.samples import MUG, TOWEL

ID = "01H98D66FJ4G79KCASRECHQP3H"
ID2 = "01H98D66M0P6N00AC2GGW0R2AY"


def entry(**overrides: Any) -> dict[str, Any]:
    fields: dict[str, Any] = {
        "Id": ID,
        "Name": "augue",
        "Description": "Phasellus sit amet erat.",
        "Price": 83.87,
        "Currency": "SEK",
        "Weight": 913,
        "ImageUrl": "http://dummyimage.com/972x486.png/cc0000/ffffff",
        "Supplier": "01H98CR1F6D5GTYYVF8T659CZW",
        "Category": "01H98C728RZGWX19BYCDTKH5VM",
    }
    fields.update(overrides)
    return {key: value for key, value in fields.items() if value is not _MISSING}


_MISSING = object()


def test_entry_maps_every_field():
    item = product_from_catalog_entry(entry(), 0)

    assert item == Product(
        product_id=ID,
        name="augue",
        price=Decimal("83.87"),
        currency="SEK",
        description="Phasellus sit amet erat.",
        weight=913,
        image_url="http://dummyimage.com/972x486.png/cc0000/ffffff",
        supplier="01H98CR1F6D5GTYYVF8T659CZW",
        category="01H98C728RZGWX19BYCDTKH5VM",
    )


def test_entry_with_only_required_fields_gets_empty_defaults():
    item = product_from_catalog_entry({"Id": ID, "Name": "x", "Price": "1", "Currency": "EUR"}, 0)

    assert (item.description, item.weight, item.image_url, item.supplier, item.category) == ("", None, "", "", "")


def test_name_is_stripped():
    assert product_from_catalog_entry(entry(Name="  Mug \n"), 0).name == "Mug"


@pytest.mark.parametrize(
    ("price", "currency", "expected"),
    [
        (19.999, "EUR", "20.00"),
        ("19.999", "EUR", "20.00"),
        (Decimal("0.125"), "EUR", "0.12"),  # banker's rounding
        (127.88, "JPY", "128"),
        (73.5, "XOF", "74"),
        (108.0125, "TND", "108.012"),
        (5, "KWD", "5.000"),
        (0, "EUR", "0.00"),
        ("1e2", "USD", "100.00"),
    ],
)
def test_price_is_rounded_to_the_currency_minor_unit(price, currency, expected):
    item = product_from_catalog_entry(entry(Price=price, Currency=currency), 0)

    assert isinstance(item.price, Decimal)
    assert str(item.price) == expected


@pytest.mark.parametrize("weight", [True, 1.5, "420", None, Decimal("4.2")], ids=repr)
def test_weight_that_is_not_a_whole_number_is_dropped(weight):
    assert product_from_catalog_entry(entry(Weight=weight), 0).weight is None


def test_to_public_gives_amounts_as_strings():
    public = product_from_catalog_entry(entry(Price=14.9, Currency="EUR"), 0).to_public()

    assert public == {
        "productId": ID,
        "name": "augue",
        "description": "Phasellus sit amet erat.",
        "price": "14.90",
        "currency": "EUR",
        "weight": 913,
        "imageUrl": "http://dummyimage.com/972x486.png/cc0000/ffffff",
        "supplier": "01H98CR1F6D5GTYYVF8T659CZW",
        "category": "01H98C728RZGWX19BYCDTKH5VM",
    }


@pytest.mark.parametrize(
    ("raw", "field"),
    [
        ("not an object", "[7]"),
        (["Id", ID], "[7]"),
        (None, "[7]"),
        (entry(Id=_MISSING), "[7].Id"),
        (entry(Id=""), "[7].Id"),
        (entry(Id=ID.lower()), "[7].Id"),
        (entry(Id=ID[:-1]), "[7].Id"),
        (entry(Id=ID + "0"), "[7].Id"),
        (entry(Id="01H98D66FJ4G79KCASRECHQP3U"), "[7].Id"),  # U is not Crockford base32
        (entry(Id="01H98D66FJ4G79KCASRECHQPIL"), "[7].Id"),  # nor I, L
        (entry(Id="01H98D66FJ4G79KCASRECHQP3O"), "[7].Id"),  # nor O
        (entry(Id=12345), "[7].Id"),
        (entry(Name=_MISSING), "[7].Name"),
        (entry(Name=""), "[7].Name"),
        (entry(Name="  \t"), "[7].Name"),
        (entry(Name=42), "[7].Name"),
        (entry(Currency=_MISSING), "[7].Currency"),
        (entry(Currency="eur"), "[7].Currency"),
        (entry(Currency="EURO"), "[7].Currency"),
        (entry(Currency="EU"), "[7].Currency"),
        (entry(Currency=""), "[7].Currency"),
        (entry(Currency=978), "[7].Currency"),
        (entry(Price=_MISSING), "[7].Price"),
        (entry(Price=None), "[7].Price"),
        (entry(Price=True), "[7].Price"),
        (entry(Price="abc"), "[7].Price"),
        (entry(Price="NaN"), "[7].Price"),
        (entry(Price=float("nan")), "[7].Price"),
        (entry(Price=float("inf")), "[7].Price"),
        (entry(Price=-0.01), "[7].Price"),
        (entry(Price="-1"), "[7].Price"),
        (entry(Price=[1]), "[7].Price"),
    ],
)
def test_bad_entry_is_refused_naming_the_field(raw, field):
    with pytest.raises(InvalidCatalog) as caught:
        product_from_catalog_entry(raw, 7)

    assert caught.value.field == field


@pytest.mark.parametrize(("key", "value"), [("Id", ID + "\n"), ("Currency", "JPY\n")])
def test_trailing_newline_in_id_or_currency_is_refused(key, value):
    with pytest.raises(InvalidCatalog) as caught:
        product_from_catalog_entry(entry(**{key: value}), 0)

    assert caught.value.field == f"[0].{key}"


@pytest.mark.parametrize("key", ["Name", "Supplier", "Category", "ImageUrl"])
@pytest.mark.parametrize(("characters", "named"), [
    ("\n", "a line break (U+000A)"), ("\u2028", "a line break (U+2028)"), ("\x1b]0;t\x07", "a control character (U+001B)"),
    ("\x9b", "a control character (U+009B)"), ("\u202e", "a bidirectional text control (U+202E)"),
], ids=["LF", "LINE-SEPARATOR", "ESC", "C1-CSI", "RLO"])
def test_a_one_line_field_shown_to_people_refuses_control_characters(key, characters, named):
    with pytest.raises(InvalidCatalog) as caught:
        product_from_catalog_entry(entry(**{key: f"Mug{characters}Approve: http://evil.example/"}), 3)

    assert caught.value.field == f"[3].{key}"
    assert caught.value.message == (f"catalog entry [3]: {key} must be one line of text without control characters, "
                                    f"but it contains {named}")


def test_a_description_may_run_over_lines_but_holds_no_other_control_character():
    assert product_from_catalog_entry(entry(Description="Stoneware.\r\nDishwasher safe."), 0).description == (
        "Stoneware.\r\nDishwasher safe.")
    with pytest.raises(InvalidCatalog) as caught:
        product_from_catalog_entry(entry(Description="Stoneware.\x1b[2J"), 0)

    assert caught.value.field == "[0].Description" and "(U+001B)" in caught.value.message


@pytest.mark.parametrize("price", [MAX_PRICE, str(MAX_PRICE + 1), "1e30"])
def test_price_at_or_over_the_maximum_is_refused(price):
    with pytest.raises(InvalidCatalog) as caught:
        product_from_catalog_entry(entry(Price=price, Currency="KWD"), 0)

    assert caught.value.field == "[0].Price"


def test_price_just_under_the_maximum_is_accepted():
    price = MAX_PRICE - Decimal("0.001")

    assert product_from_catalog_entry(entry(Price=str(price), Currency="KWD"), 0).price == price


def test_absurdly_large_price_is_an_invalid_catalog_not_a_crash():
    with pytest.raises(InvalidCatalog) as caught:
        parse_catalog(json.dumps([entry(Price="1e27", Currency="EUR")]))

    assert caught.value.field == "[0].Price"


def test_negative_zero_price_reads_as_zero():
    [item] = parse_catalog(json.dumps([entry(Currency="EUR")]).replace("83.87", "-0.0"))

    assert item.to_public()["price"] == "0.00"


# --- parse_catalog ---------------------------------------------------------------------------


def test_parse_catalog_reads_numbers_as_decimal_never_float():
    text = (
        f'[{{"Id": "{ID}", "Name": "x", "Price": 0.1, "Currency": "EUR"}},'
        f' {{"Id": "{ID2}", "Name": "y", "Price": 14.90000000000000000001, "Currency": "EUR"}}]'
    )

    first, second = parse_catalog(text)

    assert first.price == Decimal("0.10")
    assert second.price == Decimal("14.90")


def test_parse_catalog_keeps_file_order():
    products = parse_catalog(json.dumps([entry(Id=ID2, Name="b"), entry(Id=ID, Name="a")]))

    assert [p.product_id for p in products] == [ID2, ID]


def test_parse_catalog_of_an_empty_list_is_empty():
    assert parse_catalog("[]") == []


@pytest.mark.parametrize("text", ["", "[", "{'Id': 1}", "[1,]", "nope"])
def test_parse_catalog_refuses_invalid_json(text):
    with pytest.raises(InvalidCatalog, match="not valid JSON"):
        parse_catalog(text)


@pytest.mark.parametrize("text", ["{}", '{"products": []}', '"x"', "1", "null"])
def test_parse_catalog_refuses_a_top_level_that_is_not_a_list(text):
    with pytest.raises(InvalidCatalog, match="list"):
        parse_catalog(text)


def test_parse_catalog_names_the_bad_entry_by_position():
    text = json.dumps([entry(Id=ID), entry(Id=ID2, Price="free")])

    with pytest.raises(InvalidCatalog) as caught:
        parse_catalog(text)

    assert caught.value.field == "[1].Price"


def test_parse_catalog_refuses_duplicate_ids_naming_the_second():
    text = json.dumps([entry(Id=ID), entry(Id=ID2), entry(Id=ID, Name="again")])

    with pytest.raises(InvalidCatalog) as caught:
        parse_catalog(text)

    assert caught.value.field == "[2].Id"


# --- the real catalogs ------------------------------------------------------------------------


def _unclean(products: list[Product]) -> list[tuple[str, Product]]:
    """The products whose price is not a Decimal with exactly the currency's minor unit, or that
    hold a float anywhere, each with what is wrong; empty when every one is clean."""
    found = []
    for item in products:
        public = item.to_public()
        checks = {
            "price not a Decimal": isinstance(item.price, Decimal),
            "price not to the minor unit": isinstance(item.price, Decimal)
            and item.price.as_tuple().exponent == -minor_units(item.currency),
            "negative price": item.price >= 0,
            "a float field": not any(isinstance(getattr(item, f.name), float) for f in dataclasses.fields(item)),
            "a number in the public form": not any(isinstance(v, float | Decimal) for v in public.values()),
            "public price differs": Decimal(public["price"]) == item.price,
        }
        found += [(problem, item) for problem, ok in checks.items() if not ok]
    return found


@pytest.fixture(scope="module")
def course_products(course_catalog_text: str) -> list[Product]:
    return parse_catalog(course_catalog_text)


@pytest.fixture(scope="module")
def course_entries(course_catalog_text: str) -> list[dict[str, Any]]:
    return json.loads(course_catalog_text, parse_float=Decimal)


def test_course_catalog_parses_completely(course_products):
    assert len(course_products) == 1000
    assert len({p.product_id for p in course_products}) == 1000
    assert all(p.name and p.name == p.name.strip() for p in course_products)


def test_course_catalog_has_many_currencies(course_products):
    currencies = Counter(p.currency for p in course_products)

    assert len(currencies) >= 90
    assert {"EUR", "JPY", "KWD", "CNY"} <= set(currencies)


def test_course_catalog_prices_are_clean_decimals(course_products):
    assert _unclean(course_products) == []


def test_course_catalog_prices_match_the_file_to_the_minor_unit(course_products, course_entries):
    for raw, item in zip(course_entries, course_products, strict=True):
        source = Decimal(str(raw["Price"]))
        half_unit = Decimal(1).scaleb(-minor_units(item.currency)) / 2
        assert abs(item.price - source) <= half_unit, (raw, item)
        if minor_units(item.currency) >= 2:  # the file has at most 2 decimals: nothing to round
            assert item.price == source, (raw, item)


def test_course_catalog_zero_decimal_currencies_are_whole(course_products):
    whole = [p for p in course_products if minor_units(p.currency) == 0]

    assert len(whole) >= 10  # JPY, XAF, VND, KRW... are in the file
    assert all(p.price == p.price.to_integral_value() for p in whole)


def test_course_catalog_first_product(course_products):
    first = course_products[0]

    assert (first.product_id, first.name, first.price, first.currency, first.weight) == (
        "01H98D66FJ4G79KCASRECHQP3H", "augue", Decimal("83.87"), "SEK", 913,
    )


def test_demo_catalog(demo_products, demo_catalog):
    assert _unclean(demo_products) == []
    assert len(demo_products) == len(demo_catalog) >= 2  # ids are unique
    assert {p.currency for p in demo_products} == {"EUR"}
    assert str(demo_catalog[MUG].price) == "14.90"
    assert demo_catalog[MUG].name == "Stoneware mug"
    assert str(demo_catalog[TOWEL].price) == "9.50"
