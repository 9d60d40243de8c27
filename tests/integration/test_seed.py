"""The seed command against moto: loads the course's messy catalog, refuses a broken file."""

from __future__ import annotations

import json

import boto3
import pytest
from moto import mock_aws

from shop.adapters.tables import ProductsTable
from shop.seed import main
from tests.support import COURSE_CATALOG, DEMO_CATALOG


@pytest.fixture
def table():
    with mock_aws():
        boto3.client("dynamodb").create_table(
            TableName="products",
            KeySchema=[{"AttributeName": "productId", "KeyType": "HASH"}],
            AttributeDefinitions=[{"AttributeName": "productId", "AttributeType": "S"}],
            BillingMode="PAY_PER_REQUEST",
        )
        yield ProductsTable("products")


@pytest.mark.skipif(not COURSE_CATALOG.exists(), reason=f"the course catalog is not at {COURSE_CATALOG}")
def test_the_course_catalog_loads_with_exact_prices(table, capsys):
    assert main([str(COURSE_CATALOG), "--table", "products"]) == 0
    assert "loaded 1000 products" in capsys.readouterr().out
    products = {p.product_id: p for p in table.scan()}
    assert len(products) == 1000
    first = json.loads(COURSE_CATALOG.read_text())[0]
    assert str(products[first["Id"]].price) == f"{first['Price']:.2f}"
    assert products[first["Id"]].currency == first["Currency"]


def test_a_broken_catalog_is_refused_and_nothing_is_written(table, tmp_path, capsys):
    broken = tmp_path / "catalog.json"
    broken.write_text(json.dumps([{"Id": "01JDF12740C1HB5QE4DT9TWB3R", "Name": "ok", "Price": 1, "Currency": "EUR"},
                                  {"Id": "nope", "Name": "bad", "Price": 1, "Currency": "EUR"}]))
    assert main([str(broken), "--table", "products"]) == 2
    assert "[1]: Id must be a ULID" in capsys.readouterr().err
    assert list(table.scan()) == []


def test_an_unknown_stack_is_a_clear_error(table):
    with pytest.raises(SystemExit, match="stack NoSuchStack not found"):
        main([str(DEMO_CATALOG), "--stack", "NoSuchStack"])
