"""moto keeps sent emails and notifications without timestamps, per backend: copy each message into
the outbox as it is sent, so people and tests read one list in order."""

from __future__ import annotations

from functools import wraps
from typing import Any

from shop.local.outbox import Outbox
from shop.local.patches import Patch


def patches(outbox: Outbox) -> list[Patch]:
    def wrap_send_email(send_email: Any) -> Any:
        @wraps(send_email)
        def recording_send_email(self, source, subject, body, destinations):
            message = send_email(self, source, subject, body, destinations)
            recipients = [address for addresses in destinations.values() for address in addresses]
            outbox.record(channel="email", to=recipients, subject=subject, body=body)
            return message

        return recording_send_email

    def wrap_publish(publish: Any) -> Any:
        @wraps(publish)
        def recording_publish(self, message, subject=None, *args, **kwargs):
            message_id = publish(self, message, subject, *args, **kwargs)
            subscriptions, _ = self.sns_backend.list_subscriptions_by_topic(topic_arn=self.arn)
            recipients = [s.endpoint for s in subscriptions] or [self.arn]
            outbox.record(channel="sns", to=recipients, subject=subject or "", body=message)
            return message_id

        return recording_publish

    return [
        Patch("moto.ses.models:SESBackend", "send_email", wrap_send_email),
        Patch("moto.sns.models:Topic", "publish", wrap_publish),
    ]
