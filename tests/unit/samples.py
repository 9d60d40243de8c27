"""Sample data for the unit tests: catalog paths, product ids, a valid order body, products."""

from __future__ import annotations

import copy
from decimal import Decimal
from pathlib import Path
from typing import Any

from shop.domain.catalog import Product

ROOT = Path(__file__).resolve().parents[2]
DEMO_CATALOG = ROOT / "data" / "demo-catalog.json"
COURSE_CATALOG = ROOT.parent / "shared" / "data" / "course-catalog" / "products.json"

MUG = "01JDF12740C1HB5QE4DT9TWB3R"  # "Stoneware mug", 14.90 EUR in the demo catalog
TOWEL = "01JDF12838RKB0TXYJAKACR44J"  # "Linen tea towel", 9.50 EUR in the demo catalog

# Ids for products the tests build themselves (valid ULIDs, not in any catalog file).
P1 = "01JDF1000000000000000000P1"
P2 = "01JDF1000000000000000000P2"
P3 = "01JDF1000000000000000000P3"

_VALID_BODY: dict[str, Any] = {
    "customerEmail": "ada@example.com",
    "customerName": "Ada Lovelace",
    "shippingAddress": {
        "country": "United Kingdom",
        "city": "London",
        "county": "Greater London",
        "streetAddress": "12 St James Square",
    },
    "items": [{"productId": MUG, "quantity": 2}],
}


def valid_body() -> dict[str, Any]:
    """A fresh, valid order request body that a test may change freely."""
    return copy.deepcopy(_VALID_BODY)


def product(product_id: str, name: str, price: str, currency: str = "EUR") -> Product:
    """A product built directly, so a test controls the exact (even unrounded) price."""
    return Product(product_id=product_id, name=name, price=Decimal(price), currency=currency)
