"""Sample data for the unit tests: product ids, a valid order body, products."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from shop.domain.catalog import Product
from tests.support import order_body

MUG = "01JDF12740C1HB5QE4DT9TWB3R"  # "Stoneware mug", 14.90 EUR in the demo catalog
TOWEL = "01JDF12838RKB0TXYJAKACR44J"  # "Linen tea towel", 9.50 EUR in the demo catalog

# Ids for products the tests build themselves (valid ULIDs, not in any catalog file).
P1 = "01JDF1000000000000000000P1"
P2 = "01JDF1000000000000000000P2"
P3 = "01JDF1000000000000000000P3"

def valid_body() -> dict[str, Any]:
    """A fresh, valid order request body that a test may change freely."""
    return order_body()  # a fresh dict each call, the same sample the other test levels use


def product(product_id: str, name: str, price: str, currency: str = "EUR") -> Product:
    """A product built directly, so a test controls the exact (even unrounded) price."""
    return Product(product_id=product_id, name=name, price=Decimal(price), currency=currency)
