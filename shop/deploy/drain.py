"""Before `make destroy` deletes the stack: every order whose workflow still runs, brought to an end.

Deleting a state machine does not stop its executions. An order awaiting approval would stay
AWAITING_APPROVAL in the Orders table the destroy keeps, its customer never told; a shipped one
waiting for its feedback email would keep the state machine DELETING until the wait ends. So,
while the stack still stands, each running execution is brought to an end by what it waits for:

- awaiting the owner's decision: cancelled through the owner's own cancel (shop/logic/owner.py,
  as the console and `shop order cancel` do it), so the customer gets the cancellation email and
  the decision's record says the owner cancelled; a decision recorded and not yet delivered (an
  AWS fault) is delivered instead, as the owner decided it;
- shipped and waiting for its feedback email: stopped (StopExecution), its history saying why;
  that email is never sent;
- between two steps (an email being sent, a status written, the cancellation path running): left
  to reach one of those waits or its end, which takes seconds. Stopping it there could cut a
  customer's email off halfway through the story (an order confirmed and never shipped or
  cancelled).

The executions are polled until none runs, up to a deadline; then the stack can go. Executions
are read from Step Functions, the one place that knows them all (an order per execution, named
after it).
"""

from __future__ import annotations

import enum
import time
from collections.abc import Callable
from dataclasses import dataclass

from shop.adapters.aws import error_code
from shop.adapters.stack import ShopResources
from shop.adapters.workflow import Workflow
from shop.deploy import Out, line
from shop.domain.approval import Decision
from shop.domain.errors import LinkRefused, NotDelivered
from shop.domain.executions import Execution
from shop.domain.status import OrderStatus
from shop.domain.workflow_contract import ExecutionStatus, State
from shop.domain.workflow_graph import CURRENT, current_state, state_marks
from shop.logic import owner
from shop.logic.clock import utc_now

# How long a destroy waits for the running orders to end: the steps between two waits take
# seconds, and a step's retries (2, 4, 8 s) under throttling well under a minute.
DRAIN_TIMEOUT_SECONDS = 120
POLL_INTERVAL_SECONDS = 1.0
# What a stopped execution's history says, and the owner's tools show.
STOP_ERROR = "StackDestroyed"


def stop_cause(stack_name: str) -> str:
    return (f"`make destroy` deleted the stack {stack_name} while this order waited for its feedback email: "
            "the email was not sent")


class Stage(enum.Enum):
    """Where a running order's workflow stands, as far as the destroy is concerned."""

    AWAITING_APPROVAL = "awaits approval"
    DECIDED = "has a decision recorded, not yet delivered"
    AWAITING_FEEDBACK = "shipped, waits for its feedback email"
    BETWEEN_STEPS = "is between two steps"


@dataclass(frozen=True)
class RunningOrder:
    order_id: str
    stage: Stage
    state: str | None  # the state its execution is in, as its history says

    def describe(self) -> str:
        at = f" ({self.state})" if self.stage is Stage.BETWEEN_STEPS and self.state else ""
        return f"{self.order_id} {self.stage.value}{at}"


def running_orders(shop: ShopResources) -> list[RunningOrder]:
    """Every order whose execution runs, newest first, with where it stands."""
    return [_where(execution.name, shop) for execution in _running(shop.workflow)]


def _running(workflow: Workflow) -> list[Execution]:
    try:
        return list(workflow.executions(status=ExecutionStatus.RUNNING))
    except Exception as error:
        if error_code(error) == "StateMachineDoesNotExist":  # deleted already: nothing runs on it
            return []
        raise


def _where(order_id: str, shop: ShopResources) -> RunningOrder:
    state = current_state(state_marks(shop.workflow.history(order_id), ExecutionStatus.RUNNING))
    if state == State.WAIT_BEFORE_FEEDBACK:
        return RunningOrder(order_id, Stage.AWAITING_FEEDBACK, state)
    if state == State.REQUEST_APPROVAL:
        order = shop.orders.get(order_id)
        # Decidable once its notification went out (until then the owner's tools refuse it too).
        if (order is not None and order.status == OrderStatus.AWAITING_APPROVAL and order.approval.task_token
                and order.approval.link_id):
            record = shop.decisions.get(order_id)
            if record is None:
                return RunningOrder(order_id, Stage.AWAITING_APPROVAL, state)
            if owner.delivery(record, {state: CURRENT}, ExecutionStatus.RUNNING) == owner.NOT_YET_DELIVERED:
                return RunningOrder(order_id, Stage.DECIDED, state)
    return RunningOrder(order_id, Stage.BETWEEN_STEPS, state)


def _count(orders: list[RunningOrder], stage: Stage, one: str, many: str) -> str:
    number = sum(order.stage is stage for order in orders)
    if not number:
        return ""
    return (one if number == 1 else many).format(n=number) + " "


def what_happens(orders: list[RunningOrder]) -> str:
    """The counts, for the destroy's question: what ending the running orders means for whom."""
    return "".join((
        _count(orders, Stage.AWAITING_APPROVAL,
               "1 order awaits approval: it will be cancelled and its customer told.",
               "{n} orders await approval: they will be cancelled and their customers told."),
        _count(orders, Stage.DECIDED,
               "1 order has a decision not yet delivered: it will be delivered as recorded.",
               "{n} orders have a decision not yet delivered: they will be delivered as recorded."),
        _count(orders, Stage.AWAITING_FEEDBACK,
               "1 shipped order waits for its feedback email: it will not go out.",
               "{n} shipped orders wait for their feedback email: they will not go out."),
        _count(orders, Stage.BETWEEN_STEPS,
               "1 order is between two steps: the destroy waits for it.",
               "{n} orders are between two steps: the destroy waits for them."),
    ))


def report(orders: list[RunningOrder], stack_name: str, out: Out) -> None:
    """Which orders still run, one line each."""
    runs = "1 order still runs" if len(orders) == 1 else f"{len(orders)} orders still run"
    out(line("note", f"{runs} in stack {stack_name}'s workflow:"))
    for order in orders:
        out(f"          {order.describe()}")


def drain(shop: ShopResources, *, stack_name: str, out: Out, timeout: float = DRAIN_TIMEOUT_SECONDS,
          interval: float = POLL_INTERVAL_SECONDS, clock: Callable[[], float] = time.monotonic,
          wait: Callable[[float], None] = time.sleep) -> list[RunningOrder]:
    """End every running order's workflow (see the module's docstring), and wait until none runs,
    for at most `timeout` seconds. Answers the orders still running at the deadline ([]: all ended)."""
    deadline = clock() + timeout
    done: set[tuple[str, Stage]] = set()  # what was done to which order: never twice
    waiting_for: set[str] = set()
    while True:
        running = running_orders(shop)
        if not running:
            return []
        if clock() >= deadline:
            return running
        for order in running:
            if (order.order_id, order.stage) in done:
                continue
            if order.stage is Stage.BETWEEN_STEPS:
                if order.order_id not in waiting_for:
                    out(line("do", f"{order.describe()}: waiting for it to reach a wait or its end"))
                    waiting_for.add(order.order_id)
                continue
            if _end(order, shop, stack_name=stack_name, out=out):
                done.add((order.order_id, order.stage))
        wait(interval)


def _end(order: RunningOrder, shop: ShopResources, *, stack_name: str, out: Out) -> bool:
    """Act on one order; False when it should be tried again at the next poll (an AWS fault)."""
    if order.stage is Stage.AWAITING_FEEDBACK:
        shop.workflow.stop(order.order_id, error=STOP_ERROR, cause=stop_cause(stack_name))
        out(line("ok", f"stopped {order.order_id}: shipped, its feedback email will not go out"))
        return True
    try:
        if order.stage is Stage.DECIDED:
            decided = owner.deliver(order.order_id, orders=shop.orders, decisions=shop.decisions,
                                    workflow=shop.workflow, now=utc_now())
            out(line("ok", f"delivered {order.order_id}'s recorded decision ({decided['decision']})"))
        else:
            owner.decide(order.order_id, Decision.CANCEL, orders=shop.orders, decisions=shop.decisions,
                         workflow=shop.workflow, now=utc_now())
            out(line("ok", f"cancelled {order.order_id}: its customer gets the cancellation email"))
        return True
    except NotDelivered as error:  # recorded, not passed on (an AWS fault): the next poll delivers it
        out(line("note", f"{order.order_id}: {error} (trying again)"))
        return False
    except LinkRefused as error:  # its deadline came first, or a decision elsewhere: it ends by itself
        out(line("note", f"{order.order_id}: {error}"))
        return True
