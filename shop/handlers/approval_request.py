"""Workflow step (.waitForTaskToken): send the owner the approve and reject links.

Event: {"taskToken": "...", "order": {...}, "approvalTimeoutSeconds": 86400,
"waitingSince": "2026-11-24T12:00:00.123Z"} (the state's entered time, from which the task's
timeout counts). The event is never logged: its task token lets anyone who holds it decide the order.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from aws_lambda_powertools import Logger
from aws_lambda_powertools.utilities.typing import LambdaContext

from shop.adapters.aws import retryable_when_transient
from shop.adapters.messaging import publish_notification
from shop.adapters.secrets import signing_key
from shop.adapters.tables import OrdersTable
from shop.handlers import ORDER_ID_PATH
from shop.logic.notifications import request_approval
from shop.settings import Env, SettingsNeeding

logger = Logger(service="approval-request")
# Its function's settings, checked at its cold start: a variable missing here fails then, by name.
runtime_settings = SettingsNeeding(Env.ORDERS_TABLE, Env.OWNER_TOPIC_ARN, Env.APPROVAL_URL, Env.LINK_SIGNING_SECRET)


# The correlation id: the order id, which also names the workflow's execution.
@logger.inject_lambda_context(clear_state=True, correlation_id_path=ORDER_ID_PATH)
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, str | None]:
    order = event["order"]
    logger.append_keys(order_id=order.get("orderId"))
    settings = runtime_settings()
    with retryable_when_transient():
        message_id = request_approval(
            order,
            event["taskToken"],
            timeout_seconds=int(event["approvalTimeoutSeconds"]),
            approval_url=settings.approval_url,
            topic_arn=settings.owner_topic_arn,
            key=signing_key(settings.link_signing_secret),
            orders=OrdersTable(settings.orders_table),
            publish=publish_notification,
            waiting_since=datetime.fromisoformat(event["waitingSince"]),
        )
    if message_id is None:  # a retried step, after the owner decided: asking again would mislead
        logger.info("order decided already; the owner is not asked again")
    else:
        logger.info("owner asked for a decision")
    return {"messageId": message_id}
