"""Readable output for people; `--json` skips all of this and prints the result as it is.

Everything printed here may come from stored data a customer wrote (a name, an email): its control
characters are printed as visible escapes (`\\x1b`), never raw, or an order could set the owner's
window title, clear the screen or write the clipboard. `--json` needs nothing more: json.dumps
escapes every control character and every non-ASCII one (`\\u001b`, `\\u202e`).
"""

from __future__ import annotations

import argparse
from collections.abc import Sequence
from typing import Any

from shop.domain.approval import past_tense
from shop.domain.orders import PENDING_PAGE
from shop.domain.text import printable
from shop.rendering import format_utc


def _table(headers: Sequence[str], rows: Sequence[Sequence[Any]]) -> str:
    cells = [[str(value if value is not None else "") for value in row] for row in rows]
    widths = [max(len(header), *(len(row[i]) for row in cells)) if cells else len(header)
              for i, header in enumerate(headers)]
    lines = ["  ".join(h.ljust(w) for h, w in zip(headers, widths, strict=True)).rstrip()]
    lines += ["  ".join(c.ljust(w) for c, w in zip(row, widths, strict=True)).rstrip() for row in cells]
    return "\n".join(lines)


def _money(order: dict[str, Any]) -> str:
    return f"{order.get('total', '')} {order.get('currency', '')}".strip()


def _left(seconds: int | None) -> str:
    if seconds is None:
        return ""
    hours, rest = divmod(seconds, 3600)
    return f"{hours}h {rest // 60:02d}m" if hours else f"{rest // 60}m {rest % 60:02d}s"


def order_list(orders: list[dict[str, Any]]) -> str:
    if not orders:
        return "No orders."
    return _table(["ORDER", "STATUS", "CUSTOMER", "TOTAL", "PLACED"],
                  [[o["orderId"], o["status"], o["customerEmail"], _money(o), format_utc(o["createdAt"] or "")]
                   for o in orders])


def approvals_list(orders: list[dict[str, Any]]) -> str:
    if not orders:
        return "No orders are waiting for a decision."
    table = _table(["ORDER", "CUSTOMER", "TOTAL", "DECIDE BY", "LEFT", "NOTE"],
                   [[o["orderId"], o["customerEmail"], _money(o), format_utc(o["approvalDeadline"] or ""),
                     _left(o.get("secondsLeft")), _note(o)] for o in orders])
    if len(orders) >= PENDING_PAGE:
        table += f"\nThe {PENDING_PAGE} most urgent are shown; more may wait after them."
    return table


def _note(order: dict[str, Any]) -> str:
    decision = order.get("decision")
    if decision:
        return f"{past_tense(decision['decision'])}, {_DELIVERY[decision['delivery']]}"
    return "" if order.get("notified", True) else "notification being sent"


# How each state of a recorded decision reads; `pending` names the command that delivers it.
_DELIVERY = {"delivered": "delivered",
             "pending": "not yet delivered: `shop approvals deliver ID` delivers it",
             "missed": "not delivered before the deadline: the order timed out and was cancelled"}


def order_show(detail: dict[str, Any]) -> str:
    order, execution = detail["order"], detail["execution"]
    lines = [f"Order {order['orderId']}: {detail['status']}" + ("" if detail["live"] else " (deleted)")]
    if order.get("customerEmail"):
        lines.append(f"Customer: {order.get('customerName', '')} <{order['customerEmail']}>")
    if order.get("createdAt"):
        lines.append(f"Placed:   {format_utc(order['createdAt'])}")
    for item in order.get("items", []):
        lines.append(f"  {item['quantity']} x {item['name']}  {item['lineTotal']} {order.get('currency', '')}")
    if order.get("total"):
        lines.append(f"  Total: {_money(order)}")
    if detail["awaitingApproval"] and order.get("approvalDeadline"):
        lines.append(f"Awaiting your decision until {format_utc(order['approvalDeadline'])}")
    if detail["decision"]:
        decision = detail["decision"]
        state = "" if decision["delivery"] == "delivered" else f", {_DELIVERY[decision['delivery']]}"
        decided = f"{past_tense(decision['decision'])} at {format_utc(decision['decidedAt'])}"
        lines.append(f"Decision: {decided}{state}")
    if execution["status"]:
        where = f", at {execution['currentState']}" if execution["currentState"] else ""
        outcome = f", outcome {execution['outcome']}" if execution["outcome"] else ""
        lines.append(f"Workflow: {execution['status']}{where}{outcome}")
        lines.append("")
        lines.append(_table(["TIME", "EVENT", "STATE", "ERROR"],
                            [[format_utc(e["timestamp"]), e["type"], e.get("state", ""), e.get("error", "")]
                             for e in detail["events"]]))
    return "\n".join(lines)


def _decided(order: dict[str, Any]) -> str:
    what = {"APPROVED": "approved: it ships now",
            "REJECTED": "rejected: the customer is told and the order deleted",
            "CANCELLED": "cancelled: the customer is told and the order deleted"}
    return f"Order {order['orderId']} {what.get(order['status'], order['status'])}."


def _printable(value: Any) -> Any:
    """`value` with every string in it made printable, however deep."""
    if isinstance(value, str):
        return printable(value)
    if isinstance(value, dict):
        return {key: _printable(inner) for key, inner in value.items()}
    if isinstance(value, list | tuple):
        return [_printable(inner) for inner in value]
    return value


def text(args: argparse.Namespace, result: Any) -> str:
    """The readable form of a command's result."""
    result = _printable(result)
    command = f"{args.group} {args.command}"
    if command == "order place":
        return (f"Order {result['orderId']} placed: {_money(result)}, status {result['status']}.\n"
                "The customer gets a confirmation; the owner is asked to approve it.")
    if command == "order show":
        return order_show(result)
    if command == "order list":
        return order_list(result)
    if command == "approvals list":
        return approvals_list(result)
    if command == "approvals resend":
        return (f"Sent the owner new links for order {result['orderId']}; the earlier ones no longer work. "
                f"Decide by {format_utc(result['approvalDeadline'])}.")
    if command == "catalog load":
        return f"Loaded {result['loaded']} products into {result['table']}."
    return _decided(result)  # approve, reject, cancel
