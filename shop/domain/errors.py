"""Domain errors. Handlers map each kind to one HTTP status in one place."""

from __future__ import annotations


class ShopError(Exception):
    """Base of every error a caller can cause; `field` names the offending input when known."""

    def __init__(self, message: str, *, field: str | None = None):
        super().__init__(message)
        self.message = message
        self.field = field


class InvalidRequest(ShopError):
    """The request is malformed: bad JSON, wrong shape or types (HTTP 400)."""


class UnprocessableOrder(ShopError):
    """The request is well formed but cannot become an order, e.g. unknown product (HTTP 422)."""


class NotFound(ShopError):
    """The thing asked for does not exist (HTTP 404)."""


class InvalidCatalog(ShopError):
    """A catalog file that cannot be loaded."""


class LinkRefused(ShopError):
    """An approval link that cannot decide anything. `status` is the HTTP status to answer."""

    status = 400
    title = "This link cannot be used"


class LinkForged(LinkRefused):
    status = 403
    title = "This link is not valid"


class LinkExpired(LinkRefused):
    status = 410
    title = "This link has expired"


class AlreadyDecided(LinkRefused):
    status = 409
    title = "This order was already decided"


class NotReady(LinkRefused):
    """Not yet: the order is still being received, or its owner's notification still being sent."""

    status = 409
    title = "Not yet"


class NotDelivered(LinkRefused):
    """The decision is recorded, but Step Functions could not be told (an AWS fault): the next
    click, from the same link or the owner's tools, delivers it. Nothing else can decide the order
    meanwhile. 503, since trying again is the remedy."""

    status = 503
    title = "Your decision is recorded, not yet delivered"
    retry_after = 10  # seconds; a failed delivery gives its claim back at once


class DeliveryUnknown(NotDelivered):
    """The decision is recorded, and Step Functions was told, but its answer was lost (a timeout, a
    5xx): it may have taken the decision. The next click delivers it, or finds it was taken."""

    title = "Your decision is recorded, its delivery not confirmed"
