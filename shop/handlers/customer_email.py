"""Workflow step: send the customer one of the order emails.

Event: {"template": "order_received" | "shipment_confirmed" | "shipment_cancelled" |
"feedback_request", "order": {...}, "outcome": "REJECTED" | "TIMED_OUT" | "CANCELLED" (cancellations only)}.
"""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools import Logger
from aws_lambda_powertools.utilities.typing import LambdaContext

from shop.adapters.aws import retryable_when_transient
from shop.adapters.messaging import send_email
from shop.handlers import ORDER_ID_PATH
from shop.logic.notifications import send_customer_email
from shop.settings import Env, SettingsNeeding

logger = Logger(service="customer-email")
# Its function's settings, checked at its cold start: a variable missing here fails then, by name.
runtime_settings = SettingsNeeding(Env.SENDER_EMAIL)


# The correlation id: the order id, which also names the workflow's execution.
@logger.inject_lambda_context(clear_state=True, correlation_id_path=ORDER_ID_PATH)
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, str]:
    order = event["order"]
    logger.append_keys(order_id=order.get("orderId"), template=event.get("template"))
    with retryable_when_transient():
        message_id = send_customer_email(
            event["template"],
            order,
            sender=runtime_settings().sender_email,
            send_email=send_email,
            outcome=event.get("outcome"),
        )
    logger.info("customer emailed")
    return {"messageId": message_id}
