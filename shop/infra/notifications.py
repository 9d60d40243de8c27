"""The owner's notification topic, with the owner's email subscribed."""

from __future__ import annotations

from aws_cdk import aws_sns as sns
from aws_cdk import aws_sns_subscriptions as subscriptions
from constructs import Construct


class OwnerNotifications(Construct):
    def __init__(self, scope: Construct, construct_id: str, *, owner_email: str) -> None:
        super().__init__(scope, construct_id)
        self.topic = sns.Topic(
            self, "Topic", display_name="Shop: orders awaiting approval", enforce_ssl=True
        )
        self.topic.add_subscription(subscriptions.EmailSubscription(owner_email))
