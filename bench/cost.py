"""Item 5: what an order costs on AWS, counted from the synthesized state machine definition.

The definition is read from the template (cdk.out/OrderShop.template.json): its `Fn::Join` is
resolved with a placeholder for every reference (`Ref X` -> `X`, `Fn::GetAtt [X, Arn]` -> `X`), so
each Lambda task names the logical id of its function, whose `Handler` the template gives.

Each path is walked from `StartAt`, following `Next`, and at RequestApproval the catcher for the
path's outcome (approved: the task succeeds; rejected: `OrderRejected`; timed out:
`States.Timeout`), until a state with `End` (or a Succeed/Fail state). Counted on the way:

- state transitions, as AWS bills Standard workflows: "Step Functions counts a state transition
  each time a step of your workflow is executed", retries included (none on these happy paths).
  Convention used: one transition per state entered (so a path of N states is N transitions); the
  execution's start is not counted separately. `transitions_if_start_counted` gives N + 1 for
  whoever uses the other convention;
- Lambda invocations: Task states whose Resource is `arn:aws:states:::lambda:invoke[...]`;
- emails (SES) and SNS messages: from what each invoked handler sends (`HANDLER_EFFECTS`, one
  line per handler, read from its code);
- DynamoDB direct integrations (`arn:aws:states:::dynamodb:*`): one write request unit each
  (items are < 1 KB).

Outside the state machine, every order also costs: API Gateway (HTTP API) for POST /orders, the
order API Lambda, and on the approved/rejected paths two approval-callback Lambda invocations
(the owner opens the page, then presses the button); their DynamoDB reads and writes are counted
from the code too. The timed-out path has no callback.

The one-Lambda-per-step design is the same state machine with every Task state a Lambda
invocation (the DynamoDB updates and the delete become Lambdas that make the same write); same
transitions, same emails and messages.

Prices: us-east-1 list prices, on-demand, without free tiers, Savings Plans or volume tiers;
`PRICES` says which, and when they were taken.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

PRICES_TAKEN = "2026-11-24"
PRICES_NOTE = (
    f"us-east-1 list prices as known on {PRICES_TAKEN}, cross-checked against stored copies of the "
    "AWS pricing pages; not re-verified live (no network access from the bench machine). On-demand, "
    "no free tier, no Savings Plans or volume tiers."
)
PRICES: dict[str, dict[str, Any]] = {
    "stepfunctions_standard_transition": {"usd": 0.025 / 1000, "unit": "state transition",
                                          "list": "Step Functions Standard: $0.025 per 1,000 state transitions"},
    "lambda_request": {"usd": 0.20 / 1_000_000, "unit": "request", "list": "Lambda: $0.20 per 1M requests"},
    "lambda_gb_second_arm64": {"usd": 0.0000133334, "unit": "GB-second", "list": "Lambda duration, arm64: $0.0000133334 per GB-s"},
    "lambda_gb_second_x86_64": {"usd": 0.0000166667, "unit": "GB-second", "list": "Lambda duration, x86_64: $0.0000166667 per GB-s"},
    "ses_email": {"usd": 0.10 / 1000, "unit": "email", "list": "SES: $0.10 per 1,000 emails"},
    "sns_publish": {"usd": 0.50 / 1_000_000, "unit": "publish request", "list": "SNS publish: $0.50 per 1M requests"},
    "sns_email_delivery": {"usd": 2.00 / 100_000, "unit": "email notification",
                           "list": "SNS email delivery: $2.00 per 100,000 notifications"},
    "dynamodb_write_request_unit": {"usd": 0.625 / 1_000_000, "unit": "WRU",
                                    "list": "DynamoDB on-demand: $0.625 per million write request units"},
    "dynamodb_read_request_unit": {"usd": 0.125 / 1_000_000, "unit": "RRU",
                                   "list": "DynamoDB on-demand: $0.125 per million read request units"},
    "apigateway_http_request": {"usd": 1.00 / 1_000_000, "unit": "request",
                                "list": "API Gateway HTTP API: $1.00 per million requests (first 300M)"},
}
# Lambda duration is not in the definition: an assumption, stated in the output.
ASSUMED_LAMBDA_MS = 100
ORDERS = 1000

# What one invocation of each handler sends and writes (read from shop/logic and shop/adapters).
HANDLER_EFFECTS: dict[str, dict[str, int]] = {
    # send_customer_email: one SES SendEmail
    "shop.handlers.customer_email.lambda_handler": {"ses_emails": 1},
    # request_approval: OrdersTable.mark_awaiting_approval (UpdateItem) + one SNS Publish, delivered
    # to the owner's email subscription
    "shop.handlers.approval_request.lambda_handler": {"sns_publishes": 1, "sns_email_deliveries": 1,
                                                      "dynamodb_writes": 1},
    # placing an order: ProductsTable.get_many (BatchGetItem, consistent, 1 item) + OrdersTable.put_new
    "shop.handlers.order_api.lambda_handler": {"dynamodb_reads": 1, "dynamodb_writes": 1},
}
# The approval callback, per decided order: GET (the page: two consistent GetItem), then POST
# (GetItem decision + order, PutItem decision, UpdateItem order, SendTask*, UpdateItem decision).
CALLBACK_INVOCATIONS = 2
CALLBACK_EFFECTS = {"dynamodb_reads": 4, "dynamodb_writes": 3}

PATHS = {
    # outcome -> the error RequestApproval ends with (None: it succeeds)
    "approved": None,
    "rejected": "OrderRejected",
    "timed_out": "States.Timeout",
}
MAX_STEPS = 100


class DefinitionError(Exception):
    pass


def _placeholder(part: Any) -> str:
    if isinstance(part, str):
        return part
    if "Ref" in part:
        return "aws" if part["Ref"] == "AWS::Partition" else str(part["Ref"])
    if "Fn::GetAtt" in part:
        target = part["Fn::GetAtt"]
        return str(target[0] if isinstance(target, list) else target.split(".")[0])
    raise DefinitionError(f"cannot resolve {part!r} in the definition")


def state_machine(template: dict[str, Any]) -> tuple[dict[str, Any], dict[str, Any]]:
    """The (only) state machine's definition, references replaced by logical ids, and its
    resource's properties."""
    machines = [r for r in template["Resources"].values() if r["Type"] == "AWS::StepFunctions::StateMachine"]
    if len(machines) != 1:
        raise DefinitionError(f"expected one state machine, found {len(machines)}")
    definition = machines[0]["Properties"]["DefinitionString"]
    if isinstance(definition, dict):
        separator, parts = definition["Fn::Join"]
        definition = separator.join(_placeholder(part) for part in parts)
    return json.loads(definition), machines[0]["Properties"]


def _lambda_target(state: dict[str, Any]) -> str | None:
    """The logical id of the function a Lambda task invokes, or None for other states."""
    if state.get("Type") != "Task" or not re.match(r"arn:aws:states:::lambda:invoke", state.get("Resource", "")):
        return None
    return str(state.get("Parameters", {}).get("FunctionName", "")).split(":")[0]


def _is_dynamodb(state: dict[str, Any]) -> bool:
    return state.get("Type") == "Task" and state.get("Resource", "").startswith("arn:aws:states:::dynamodb:")


def walk(definition: dict[str, Any], error_at_wait: str | None) -> list[str]:
    """The states entered on one path: the task waiting for a token ends with `error_at_wait`
    (or succeeds when None); every other task succeeds."""
    states, name, path = definition["States"], definition["StartAt"], []
    for _ in range(MAX_STEPS):
        state = states[name]
        path.append(name)
        if state.get("End") or state["Type"] in ("Succeed", "Fail"):
            return path
        if error_at_wait and ".waitForTaskToken" in state.get("Resource", ""):
            catcher = next((c for c in state.get("Catch", []) if error_at_wait in c["ErrorEquals"]), None)
            if catcher is None:
                raise DefinitionError(f"{name} does not catch {error_at_wait}")
            name = catcher["Next"]
        elif state["Type"] == "Choice":
            raise DefinitionError(f"Choice state {name}: this walker only follows linear paths")
        else:
            name = state["Next"]
    raise DefinitionError(f"no end after {MAX_STEPS} states")


@dataclass
class PathCount:
    states: list[str]
    transitions: int = 0
    lambda_invocations: int = 0
    lambda_by_state: list[str] = field(default_factory=list)
    ses_emails: int = 0
    sns_publishes: int = 0
    sns_email_deliveries: int = 0
    dynamodb_integrations: int = 0
    dynamodb_writes: int = 0
    dynamodb_reads: int = 0


def count_path(definition: dict[str, Any], handlers: dict[str, str], error_at_wait: str | None,
               *, lambda_per_step: bool = False) -> PathCount:
    """Count one path. `handlers`: function logical id -> its Handler. With `lambda_per_step`,
    every Task state is a Lambda invocation (DynamoDB tasks become Lambdas doing the same write)."""
    path = walk(definition, error_at_wait)
    count = PathCount(states=path, transitions=len(path))
    for name in path:
        state = definition["States"][name]
        target = _lambda_target(state)
        if target is not None:
            handler = handlers.get(target)
            if handler is None:
                raise DefinitionError(f"{name} invokes {target}, which is not a function of the template")
            count.lambda_invocations += 1
            count.lambda_by_state.append(name)
            for key, value in HANDLER_EFFECTS.get(handler, {}).items():
                setattr(count, key, getattr(count, key) + value)
        elif _is_dynamodb(state):
            count.dynamodb_writes += 1  # updateItem / deleteItem / putItem: one write each
            if lambda_per_step:
                count.lambda_invocations += 1
                count.lambda_by_state.append(name)
            else:
                count.dynamodb_integrations += 1
        elif state["Type"] == "Task":
            if not lambda_per_step:
                raise DefinitionError(f"{name}: unknown task resource {state.get('Resource')}")
            count.lambda_invocations += 1
            count.lambda_by_state.append(name)
    return count


def _functions(template: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {lid: r["Properties"] for lid, r in template["Resources"].items() if r["Type"] == "AWS::Lambda::Function"}


def price_orders(count: PathCount, *, outcome: str, memory_mb: int, architecture: str,
                 orders: int = ORDERS) -> dict[str, Any]:
    """The cost of `orders` orders taking this path, line by line, in USD."""
    p = {key: value["usd"] for key, value in PRICES.items()}
    gb_second = p[f"lambda_gb_second_{architecture}"]
    duration = memory_mb / 1024 * ASSUMED_LAMBDA_MS / 1000 * gb_second
    # Outside the state machine: the POST /orders request and its Lambda; the callback if decided.
    outside_invocations = 1 + (CALLBACK_INVOCATIONS if outcome != "timed_out" else 0)
    outside_reads = HANDLER_EFFECTS["shop.handlers.order_api.lambda_handler"]["dynamodb_reads"] + (
        CALLBACK_EFFECTS["dynamodb_reads"] if outcome != "timed_out" else 0)
    outside_writes = HANDLER_EFFECTS["shop.handlers.order_api.lambda_handler"]["dynamodb_writes"] + (
        CALLBACK_EFFECTS["dynamodb_writes"] if outcome != "timed_out" else 0)
    invocations = count.lambda_invocations + outside_invocations
    lines = {
        "step_functions_transitions": count.transitions * p["stepfunctions_standard_transition"],
        "lambda_requests": invocations * p["lambda_request"],
        "lambda_duration": invocations * duration,
        "ses_emails": count.ses_emails * p["ses_email"],
        "sns_publishes": count.sns_publishes * p["sns_publish"],
        "sns_email_deliveries": count.sns_email_deliveries * p["sns_email_delivery"],
        "dynamodb_writes": (count.dynamodb_writes + outside_writes) * p["dynamodb_write_request_unit"],
        "dynamodb_reads": outside_reads * p["dynamodb_read_request_unit"],
        "api_gateway_requests": 1 * p["apigateway_http_request"],
    }
    lines = {key: value * orders for key, value in lines.items()}
    return {
        "orders": orders,
        "lambda_invocations_per_order_incl_api_and_callback": invocations,
        "lines_usd": lines,
        "total_usd": sum(lines.values()),
        "state_machine_only_usd": orders * (
            count.transitions * p["stepfunctions_standard_transition"]
            + count.lambda_invocations * (p["lambda_request"] + duration)),
    }


def analyse(template_path: Path) -> dict[str, Any]:
    template = json.loads(Path(template_path).read_text())
    definition, _ = state_machine(template)
    functions = _functions(template)
    handlers = {lid: props["Handler"] for lid, props in functions.items()}
    memory = {props.get("MemorySize", 128) for props in functions.values()}
    architectures = {tuple(props.get("Architectures", ["x86_64"])) for props in functions.values()}
    if len(memory) != 1 or len(architectures) != 1:
        raise DefinitionError(f"functions differ in memory {memory} or architecture {architectures}")
    memory_mb, (architecture,) = memory.pop(), architectures.pop()
    designs: dict[str, Any] = {}
    for design, per_step in (("as_built", False), ("one_lambda_per_step", True)):
        designs[design] = {}
        for outcome, error in PATHS.items():
            count = count_path(definition, handlers, error, lambda_per_step=per_step)
            designs[design][outcome] = {
                "states": count.states,
                "transitions": count.transitions,
                "transitions_if_start_counted": count.transitions + 1,
                "lambda_invocations": count.lambda_invocations,
                "lambda_states": count.lambda_by_state,
                "ses_emails": count.ses_emails,
                "sns_publishes": count.sns_publishes,
                "sns_email_deliveries": count.sns_email_deliveries,
                "dynamodb_direct_integrations": count.dynamodb_integrations,
                "dynamodb_writes_by_workflow": count.dynamodb_writes,
                "cost": price_orders(count, outcome=outcome, memory_mb=memory_mb, architecture=architecture),
            }
    return {
        "template": str(template_path),
        "transition_convention": "one transition per state entered (retries would add one each); "
                                 "the execution start is not counted separately",
        "lambda_memory_mb": memory_mb,
        "lambda_architecture": architecture,
        "assumed_lambda_duration_ms": ASSUMED_LAMBDA_MS,
        "prices": PRICES,
        "prices_taken": PRICES_TAKEN,
        "prices_note": PRICES_NOTE,
        "orders_priced": ORDERS,
        "designs": designs,
    }
