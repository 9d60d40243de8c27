"""Where a domain error becomes an answer: its HTTP status, its page's title, and when to come back.

The domain's errors (shop/domain/errors.py) say only what went wrong. This table says what each
one answers, for the order API, the approval link's pages and the owner's console alike; the
CLI turns the same errors into exit codes in its own one table (`EXIT_KIND_FOR_ERROR` in
shop/cli/main.py). tests/unit/test_error_answers.py checks that every error has its answer.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from shop.domain.errors import (
    AlreadyDecided,
    DecisionUnconfirmed,
    DeliveryUnknown,
    InvalidCatalog,
    InvalidRequest,
    LinkExpired,
    LinkForged,
    LinkRefused,
    NotDelivered,
    NotFound,
    NotReady,
    ResendUnfinished,
    ShopError,
    TooBusy,
    UnprocessableOrder,
)


@dataclass(frozen=True)
class Answer:
    status: int  # the HTTP status
    title: str  # the page's title (the order API answers JSON, without one)
    retry_after: int | None = None  # seconds, sent as Retry-After: trying again is the remedy


# Recorded, not delivered: a failed delivery gives its claim back at once, so the next click soon
# delivers it. 503, since trying again is the remedy.
_DELIVER_AGAIN_SECONDS = 10
# Too many open workflows: orders leave the approval wait within the approval timeout at most.
_BUSY_RETRY_SECONDS = 60

ANSWERS: dict[type[ShopError], Answer] = {
    ShopError: Answer(400, "Cannot show that"),
    # Malformed: bad JSON, wrong shape or types, an unknown status filter.
    InvalidRequest: Answer(400, "Cannot show that"),
    # Well formed, but it cannot become an order (an unknown product, mixed currencies).
    UnprocessableOrder: Answer(422, "Cannot take that order"),
    NotFound: Answer(404, "No such order"),
    InvalidCatalog: Answer(400, "Cannot load that catalog"),
    TooBusy: Answer(503, "The shop is busy", _BUSY_RETRY_SECONDS),
    LinkRefused: Answer(400, "This link cannot be used"),
    LinkForged: Answer(403, "This link is not valid"),
    LinkExpired: Answer(410, "This link has expired"),
    AlreadyDecided: Answer(409, "This order was already decided"),
    NotReady: Answer(409, "Not yet"),
    NotDelivered: Answer(503, "Your decision is recorded, not yet delivered", _DELIVER_AGAIN_SECONDS),
    DeliveryUnknown: Answer(503, "Your decision is recorded, its delivery not confirmed", _DELIVER_AGAIN_SECONDS),
    # The old links may be dead and the new ones unsent: resending again is the remedy.
    ResendUnfinished: Answer(503, "New links not sent", _DELIVER_AGAIN_SECONDS),
    DecisionUnconfirmed: Answer(503, "Your decision may be recorded", _DELIVER_AGAIN_SECONDS),
}

# On the approval link's page a malformed request is a link cut short (a mail client broke it).
_LINK_TITLES: dict[type[ShopError], str] = {InvalidRequest: "This link is incomplete"}


def _nearest(error: ShopError | type[ShopError], table: Mapping[type[ShopError], object]) -> type[ShopError]:
    kind = error if isinstance(error, type) else type(error)
    # The nearest class in the table: a subclass made outside shop/domain/errors.py (tests do)
    # answers as its parent.
    return next(base for base in kind.__mro__ if base in table)


def answer_for(error: ShopError | type[ShopError]) -> Answer:
    """What an error answers, on the order API and in the owner's console."""
    return ANSWERS[_nearest(error, ANSWERS)]


def link_answer_for(error: ShopError | type[ShopError]) -> Answer:
    """What an error answers on the approval link's pages: the same status, the link's own title."""
    answer = answer_for(error)
    kind = _nearest(error, ANSWERS)
    return Answer(answer.status, _LINK_TITLES.get(kind, answer.title), answer.retry_after)
