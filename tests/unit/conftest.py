"""Fixtures shared by the unit tests: the demo and course catalogs, and a valid order body.

Everything here is pure data; no unit test touches AWS, the network or the clock.
"""

from __future__ import annotations

from typing import Any

import pytest

from shop.domain.catalog import Product, parse_catalog
from tests.support import COURSE_CATALOG, DEMO_CATALOG
from tests.unit.samples import valid_body


@pytest.fixture
def body() -> dict[str, Any]:
    """A fresh, valid order request body that a test may change freely."""
    return valid_body()


@pytest.fixture(scope="session")
def demo_products() -> list[Product]:
    return parse_catalog(DEMO_CATALOG.read_text(encoding="utf-8"))


@pytest.fixture(scope="session")
def demo_catalog(demo_products: list[Product]) -> dict[str, Product]:
    return {item.product_id: item for item in demo_products}


@pytest.fixture(scope="session")
def course_catalog_text() -> str:
    if not COURSE_CATALOG.is_file():
        pytest.skip(f"course catalog not found at {COURSE_CATALOG}")
    return COURSE_CATALOG.read_text(encoding="utf-8")
