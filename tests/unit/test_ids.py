"""Issue 13, item 5: the ULID pattern is written once (shop/domain/ids.py) and fits what
python-ulid makes, which names the orders; the catalog, the order schema and the owner's tools use it."""

from __future__ import annotations

import pytest
from ulid import ULID

from shop.domain.ids import is_ulid


def test_the_ids_python_ulid_makes_are_ulids():
    assert all(is_ulid(str(ULID())) for _ in range(100))


@pytest.mark.parametrize("value", [
    "01jdf12740c1hb5qe4dt9twb3r",  # lower case
    "01JDF12740C1HB5QE4DT9TWB3U",  # U is not Crockford base32
    "01JDF12740C1HB5QE4DT9TWB3R\n",  # a trailing newline, which `$` would let through
    "01JDF12740C1HB5QE4DT9TWB3", "", None, 1,
])
def test_anything_else_is_not(value):
    assert not is_ulid(value)
