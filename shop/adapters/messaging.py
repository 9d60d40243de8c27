"""Outgoing messages: customer emails through SES, owner notifications through SNS."""

from __future__ import annotations

from typing import Any

from shop.adapters.aws import client


def send_email(*, sender: str, to: str, subject: str, html: str, ses: Any = None) -> str:
    """Send one HTML email; returns the SES message id."""
    response = (ses or client("ses")).send_email(
        Source=sender,
        Destination={"ToAddresses": [to]},
        Message={
            "Subject": {"Data": subject, "Charset": "UTF-8"},
            "Body": {"Html": {"Data": html, "Charset": "UTF-8"}},
        },
    )
    return response["MessageId"]


def publish_notification(*, topic_arn: str, subject: str, message: str, sns: Any = None) -> str:
    """Publish to the owner's topic; SNS subjects are limited to 100 characters."""
    response = (sns or client("sns")).publish(
        TopicArn=topic_arn, Subject=subject[:100], Message=message
    )
    return response["MessageId"]
