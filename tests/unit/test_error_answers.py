"""Where a domain error becomes an answer (shop/error_answers.py, the CLI's exit table): every
error the domain defines has its answer in each mapping, and the answers are the ones the order
API, the approval link's pages, the console and the CLI have always given."""

from __future__ import annotations

import inspect

import pytest

from shop.cli import api_client
from shop.cli.main import EXIT, EXIT_KIND_FOR_ERROR, exit_kind
from shop.domain import errors
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
from shop.error_answers import ANSWERS, Answer, answer_for, link_answer_for


def _domain_errors() -> list[type[ShopError]]:
    """ShopError and every subclass of it that shop/domain/errors.py defines, however deep."""
    found, stack = [], [ShopError]
    while stack:
        kind = stack.pop()
        if kind.__module__ == errors.__name__:
            found.append(kind)
        stack.extend(kind.__subclasses__())
    return found


DOMAIN_ERRORS = _domain_errors()


def test_the_walk_finds_every_error_class_the_module_defines():
    defined = {cls for _, cls in inspect.getmembers(errors, inspect.isclass)
               if issubclass(cls, ShopError) and cls.__module__ == errors.__name__}
    assert set(DOMAIN_ERRORS) == defined and {ShopError, LinkRefused, DeliveryUnknown} < defined


@pytest.mark.parametrize("kind", DOMAIN_ERRORS, ids=lambda kind: kind.__name__)
def test_every_domain_error_has_its_own_answer_in_each_mapping(kind):
    # Its own entry, not its parent's: a new error is a decision about what it answers.
    assert kind in ANSWERS, f"{kind.__name__} has no answer in shop/error_answers.py"
    assert kind in EXIT_KIND_FOR_ERROR, f"{kind.__name__} has no exit kind in shop/cli/main.py"
    assert EXIT_KIND_FOR_ERROR[kind] in EXIT and EXIT_KIND_FOR_ERROR[kind] != "ok"
    assert ANSWERS[kind].title and 400 <= ANSWERS[kind].status <= 599


@pytest.mark.parametrize("kind", DOMAIN_ERRORS, ids=lambda kind: kind.__name__)
def test_a_domain_error_says_what_went_wrong_and_nothing_of_http(kind):
    error = kind("what went wrong", field="orderId")
    assert (error.message, error.field) == ("what went wrong", "orderId")
    assert not any(hasattr(error, name) for name in ("status", "title", "retry_after"))


# What each surface answered before the mapping was one table: kept, value for value.
STATUS = {ShopError: 400, InvalidRequest: 400, UnprocessableOrder: 422, NotFound: 404, InvalidCatalog: 400,
          LinkRefused: 400, LinkForged: 403, LinkExpired: 410, AlreadyDecided: 409, NotReady: 409,
          NotDelivered: 503, DeliveryUnknown: 503, ResendUnfinished: 503, TooBusy: 503, DecisionUnconfirmed: 503}
LINK_PAGE = {
    InvalidRequest: Answer(400, "This link is incomplete"),
    LinkRefused: Answer(400, "This link cannot be used"),
    LinkForged: Answer(403, "This link is not valid"),
    LinkExpired: Answer(410, "This link has expired"),
    AlreadyDecided: Answer(409, "This order was already decided"),
    NotReady: Answer(409, "Not yet"),
    NotDelivered: Answer(503, "Your decision is recorded, not yet delivered", 10),
    DeliveryUnknown: Answer(503, "Your decision is recorded, its delivery not confirmed", 10),
    ResendUnfinished: Answer(503, "New links not sent", 10),
    DecisionUnconfirmed: Answer(503, "Your decision may be recorded", 10),
}
CONSOLE_PAGE = {NotFound: Answer(404, "No such order"), InvalidRequest: Answer(400, "Cannot show that")}
EXIT_KIND = {ShopError: "invalid", InvalidRequest: "invalid", UnprocessableOrder: "invalid", InvalidCatalog: "invalid",
             NotFound: "not_found", LinkRefused: "conflict", LinkForged: "conflict", LinkExpired: "conflict",
             AlreadyDecided: "conflict", NotReady: "conflict", NotDelivered: "failed", DeliveryUnknown: "failed",
             ResendUnfinished: "failed", TooBusy: "failed", DecisionUnconfirmed: "failed"}


@pytest.mark.parametrize("kind", DOMAIN_ERRORS, ids=lambda kind: kind.__name__)
def test_each_error_answers_as_it_always_did(kind):
    error = kind("x")
    assert answer_for(error).status == link_answer_for(error).status == STATUS[kind]
    # Trying again soon is the remedy: the decision is recorded (NotDelivered), or may be; the links resent.
    assert (answer_for(error).retry_after == 10) is issubclass(kind, NotDelivered | DecisionUnconfirmed | ResendUnfinished)
    assert (answer_for(error).retry_after == 60) is (kind is TooBusy)
    if kind in LINK_PAGE:
        assert link_answer_for(error) == LINK_PAGE[kind]
    if kind in CONSOLE_PAGE:
        assert answer_for(error) == CONSOLE_PAGE[kind]
    assert exit_kind(error) == EXIT_KIND[kind]


def test_a_subclass_made_elsewhere_answers_as_its_parent():
    class Stale(AlreadyDecided):
        pass

    assert answer_for(Stale("x")) == ANSWERS[AlreadyDecided] and exit_kind(Stale("x")) == "conflict"


def test_the_order_apis_statuses_come_back_as_the_errors_it_answers_them_for():
    for status, kind in api_client.ERROR_FOR_STATUS.items():
        if status != 413:  # the front's own refusal of a body too large, not an error of the shop's
            assert answer_for(kind).status == status
    # The exit kinds the CLI gave these statuses before they went through the domain's errors.
    assert {status: exit_kind(kind("x")) for status, kind in api_client.ERROR_FOR_STATUS.items()} == {
        400: "invalid", 404: "not_found", 409: "conflict", 413: "invalid", 422: "invalid"}
