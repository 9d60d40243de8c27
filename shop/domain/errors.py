"""Domain errors: each says what went wrong. What each answers (an HTTP status, a page's title)
is decided at the edge, in one place: shop/error_answers.py (and the CLI's exit codes in
shop/cli/main.py)."""

from __future__ import annotations


class ShopError(Exception):
    """Base of every error a caller can cause; `field` names the offending input when known."""

    def __init__(self, message: str, *, field: str | None = None):
        super().__init__(message)
        self.message = message
        self.field = field


class InvalidRequest(ShopError):
    """The request is malformed: bad JSON, wrong shape or types."""


class UnprocessableOrder(ShopError):
    """The request is well formed but cannot become an order, e.g. unknown product."""


class NotFound(ShopError):
    """The thing asked for does not exist."""


class InvalidCatalog(ShopError):
    """A catalog file that cannot be loaded."""


class TooBusy(ShopError):
    """No new order now: the account has as many open workflows as Step Functions lets it
    (ExecutionLimitExceeded; local mode sets that bound low, see the README). Trying later is the
    remedy."""


class LinkRefused(ShopError):
    """An approval link, or the owner's action, that cannot decide anything."""


class LinkForged(LinkRefused):
    """A link the shop did not sign as it is, or one replaced by a newer notification's."""


class LinkExpired(LinkRefused):
    """Too late: the link's or the order's deadline passed, or the order is gone."""


class AlreadyDecided(LinkRefused):
    """A decision is on record already, or the order no longer awaits one."""


class NotReady(LinkRefused):
    """Not yet: the order is still being received, or its owner's notification still being sent."""


class NotDelivered(LinkRefused):
    """The decision is recorded, but Step Functions could not be told (an AWS fault): the next
    click, from the same link or the owner's tools, delivers it. Nothing else can decide the order
    meanwhile."""


class ResendUnfinished(LinkRefused):
    """A resend that may have replaced the order's links without sending the new ones (an AWS fault
    after the change, or one whose answer was lost): the links sent before may no longer work, and
    resending again sends working ones."""


class DeliveryUnknown(NotDelivered):
    """The decision is recorded, and Step Functions was told, but its answer was lost (a timeout, a
    5xx): it may have taken the decision. The next click delivers it, or finds it was taken."""


class DecisionUnconfirmed(LinkRefused):
    """The conditional write that records the decision failed without saying whether it was
    written (its response lost, a timeout), and the record could not show it: the decision may be
    recorded. The next click shows it, or makes it."""
