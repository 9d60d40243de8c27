"""The shop's ids: products and orders are named by ULIDs (Crockford base32, 26 characters, no
I, L, O or U), as python-ulid makes them."""

from __future__ import annotations

import re
from typing import TypeGuard

ULID_PATTERN = r"[0-9A-HJKMNP-TV-Z]{26}"
# Used with fullmatch: no trailing newline slips in (as `$` would let it).
ULID = re.compile(ULID_PATTERN)


def is_ulid(value: object) -> TypeGuard[str]:
    return isinstance(value, str) and ULID.fullmatch(value) is not None
