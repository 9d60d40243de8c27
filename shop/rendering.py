"""Jinja2 rendering of every email, notification and page, from `templates/`.

Autoescape is on for `.html`, so customer text (a name like `<script>`) shows as text. Plain-text
templates (`.txt`, the owner's SNS notification) are not HTML and are not escaped; customer text
goes through `quoted` there (shop/domain/text.py). A template declares its subject with
`{% set subject = ... %}`; one render yields subject and body.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from functools import lru_cache
from pathlib import Path
from typing import Any

from shop.domain.money import format_amount
from shop.domain.status import OrderStatus
from shop.domain.text import printable, quoted
from shop.domain.workflow_contract import Outcome

# `templates/` sits beside the `shop` package, in the repository and in the Lambda bundle alike.
TEMPLATES_DIR = Path(__file__).resolve().parent.parent / "templates"


@dataclass(frozen=True)
class Rendered:
    subject: str
    body: str


def format_utc(moment: str) -> str:
    """`2026-11-24T16:13:46Z` -> `2026-11-24 16:13:46 UTC`, for people."""
    return moment.replace("T", " ").removesuffix("Z") + " UTC" if moment.endswith("Z") else moment


@lru_cache(maxsize=1)
def environment():
    from jinja2 import Environment, FileSystemLoader, StrictUndefined, select_autoescape

    env = Environment(
        loader=FileSystemLoader(TEMPLATES_DIR),
        autoescape=select_autoescape(enabled_extensions=("html",), default_for_string=False),
        undefined=StrictUndefined,  # a typo in a template fails the test, not the customer
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
    )
    env.filters["money"] = lambda amount, currency: format_amount(Decimal(str(amount)), currency)
    env.filters["utc"] = format_utc
    env.filters["quoted"] = quoted
    env.filters["printable"] = printable
    # Templates compare with the workflow's names, never with string literals of their own.
    env.globals["Outcome"] = Outcome
    env.globals["OrderStatus"] = OrderStatus
    return env


def render(name: str, **context: Any) -> Rendered:
    """Render `templates/<name>`; the subject is '' for templates that declare none."""
    module = environment().get_template(name).make_module(context)
    return Rendered(subject=str(getattr(module, "subject", "")).strip(), body=str(module))
