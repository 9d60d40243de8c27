"""After the deploy: what the owner must do, what we do for them, and how to place a first order."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

from shop import stack_outputs
from shop.deploy import ROOT, Out, line
from shop.samples import SES_SIMULATOR_SUCCESS, place_order_curl, sample_order_body

DEFAULT_CATALOG = ROOT / "data" / "demo-catalog.json"
# What SNS lists in place of a subscription's ARN until its endpoint confirms it.
PENDING_CONFIRMATION = "PendingConfirmation"


def owner_subscription(sns: Any, topic_arn: str, owner_email: str | None, out: Out) -> bool:
    """Say whether the owner's email subscription is confirmed; True when it is."""
    subscriptions = []
    for page in sns.get_paginator("list_subscriptions_by_topic").paginate(TopicArn=topic_arn):
        subscriptions += [s for s in page["Subscriptions"] if s["Protocol"] == "email"]
    if owner_email:
        subscriptions = [s for s in subscriptions if s["Endpoint"].lower() == owner_email.lower()] or subscriptions
    if not subscriptions:
        out(line("fail", f"the owner topic {topic_arn} has no email subscription: the approval links reach nobody"))
        return False
    confirmed = True
    for subscription in subscriptions:
        address = subscription["Endpoint"]
        if subscription["SubscriptionArn"] == PENDING_CONFIRMATION:
            confirmed = False
            out(line("do", f"confirm the owner's subscription: AWS Notifications emailed {address} "
                           "\"AWS Notification - Subscription Confirmation\"; click \"Confirm subscription\" "
                           "in it, or the approval links never reach you (the link expires after 3 days)"))
        else:
            out(line("ok", f"{address} is subscribed to the owner's notifications"))
    return confirmed


def load_catalog_if_empty(dynamodb: Any, table_name: str, catalog: Path, out: Out) -> str | None:
    """Load `catalog` into an empty products table; answer a product id to order (None: no product)."""
    from shop.adapters.tables import ProductsTable
    from shop.domain.catalog import parse_catalog

    table = ProductsTable(table_name, dynamodb=dynamodb)
    first = next(table.scan(), None)
    if first is not None:
        out(line("ok", f"the catalog has products already (`make seed FILE=...` loads another file into {table_name})"))
        return first.product_id
    products = parse_catalog(catalog.read_text())
    count = table.put_all(products)
    out(line("ok", f"the catalog was empty: loaded {count} products from {_shown(catalog)} into {table_name} "
                   "(`make seed FILE=...` loads yours)"))
    return products[0].product_id if products else None


def _shown(path: Path) -> str:
    try:
        return str(path.resolve().relative_to(ROOT))
    except ValueError:
        return str(path)


def place_order_hint(api_url: str, product_id: str | None, sandbox: bool | None, out: Out) -> str:
    """The curl that places an order; answers it."""
    # The simulator accepts mail even in the sandbox and bounces nothing back to the sender.
    curl = place_order_curl(api_url, sample_order_body(product_id or "PRODUCT_ID", customer_email=SES_SIMULATOR_SUCCESS))
    out("")
    out(f"  The shop's API: {api_url}")
    out("  Place an order (its emails go to SES's mailbox simulator; put your own address as customerEmail to "
        "read them" + (", once SES verified it: the account is in the SES sandbox" if sandbox else "") + "):")
    out(f"  {curl}")
    out("  The owner's notification then brings the approve and reject links.")
    return curl


def next_steps(
    outputs: Mapping[str, str],
    *,
    sns: Any,
    dynamodb: Any,
    owner_email: str | None = None,
    sandbox: bool | None = None,
    catalog: Path = DEFAULT_CATALOG,
    out: Out = print,
) -> bool:
    """Everything after the deploy; True when nothing is left for the owner to do but order."""
    out("")
    out("Next steps:")
    confirmed = owner_subscription(sns, outputs[stack_outputs.OWNER_TOPIC_ARN], owner_email, out)
    product_id = load_catalog_if_empty(dynamodb, outputs[stack_outputs.PRODUCTS_TABLE], catalog, out)
    place_order_hint(outputs[stack_outputs.API_URL], product_id, sandbox, out)
    return confirmed
