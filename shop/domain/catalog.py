"""The product catalog: parsing the course's catalog format into clean products."""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from shop.domain.errors import InvalidCatalog
from shop.domain.ids import is_ulid
from shop.domain.money import round_amount, to_decimal
from shop.domain.text import forbidden_character

_CURRENCY = re.compile(r"[A-Z]{3}")
MAX_PRICE = Decimal("1e12")


@dataclass(frozen=True)
class Product:
    product_id: str
    name: str
    price: Decimal
    currency: str
    description: str = ""
    weight: int | None = None
    image_url: str = ""
    supplier: str = ""
    category: str = ""

    def to_public(self) -> dict[str, Any]:
        """The product as the API shows it; amounts as strings so no client parses a float."""
        return {
            "productId": self.product_id,
            "name": self.name,
            "description": self.description,
            "price": str(self.price),
            "currency": self.currency,
            "weight": self.weight,
            "imageUrl": self.image_url,
            "supplier": self.supplier,
            "category": self.category,
        }


def product_from_catalog_entry(entry: Any, position: int) -> Product:
    """One entry of a catalog file (`Id`, `Name`, `Price`, `Currency`, ...) as a Product.

    Prices keep their currency's minor unit (banker's rounding), so `19.999 EUR` is `20.00 EUR`
    everywhere: in the table, the API and the emails.
    """
    where = f"[{position}]"
    if not isinstance(entry, dict):
        raise InvalidCatalog(f"catalog entry {where} is not an object", field=where)
    product_id = entry.get("Id")
    if not is_ulid(product_id):
        raise InvalidCatalog(f"catalog entry {where}: Id must be a ULID", field=f"{where}.Id")
    name = entry.get("Name")
    if not isinstance(name, str) or not name.strip():
        raise InvalidCatalog(f"catalog entry {where}: Name is required", field=f"{where}.Name")
    currency = entry.get("Currency")
    if not isinstance(currency, str) or not _CURRENCY.fullmatch(currency):
        raise InvalidCatalog(
            f"catalog entry {where}: Currency must be a 3-letter code", field=f"{where}.Currency"
        )
    try:
        price = to_decimal(entry.get("Price"))
    except ValueError as error:
        raise InvalidCatalog(f"catalog entry {where}: {error}", field=f"{where}.Price") from None
    if price < 0 or price >= MAX_PRICE:
        raise InvalidCatalog(f"catalog entry {where}: Price must be from 0 to {MAX_PRICE:,}", field=f"{where}.Price")
    for key in ("Name", "Supplier", "Category", "ImageUrl", "Description"):
        # Shown to people: a product's name in every email, the owner's notification, the console
        # and the CLI. Only a description may run over several lines.
        text = str(entry.get(key) or "")
        problem = forbidden_character(text.strip() if key == "Name" else text, multiline=key == "Description")
        if problem:
            kind = "text" if key == "Description" else "one line of text"
            raise InvalidCatalog(f"catalog entry {where}: {key} must be {kind} without control characters, "
                                 f"but it contains {problem}", field=f"{where}.{key}")
    weight = entry.get("Weight")
    return Product(
        product_id=product_id,
        name=name.strip(),
        price=round_amount(price, currency),
        currency=currency,
        description=str(entry.get("Description") or ""),
        weight=weight if isinstance(weight, int) and not isinstance(weight, bool) else None,
        image_url=str(entry.get("ImageUrl") or ""),
        supplier=str(entry.get("Supplier") or ""),
        category=str(entry.get("Category") or ""),
    )


def parse_catalog(text: str) -> list[Product]:
    """A whole catalog file. Numbers are read as Decimal so no price passes through a float."""
    try:
        entries = json.loads(text, parse_float=Decimal)
    except json.JSONDecodeError as error:
        raise InvalidCatalog(f"catalog is not valid JSON: {error}") from None
    if not isinstance(entries, list):
        raise InvalidCatalog("catalog must be a JSON list of products")
    products = [product_from_catalog_entry(entry, i) for i, entry in enumerate(entries)]
    seen: set[str] = set()
    for i, product in enumerate(products):
        if product.product_id in seen:
            raise InvalidCatalog(f"catalog entry [{i}]: duplicate Id", field=f"[{i}].Id")
        seen.add(product.product_id)
    return products
