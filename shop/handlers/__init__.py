"""Lambda entry points. Each parses its event, calls `shop.logic`, and shapes the response."""

# The correlation id of the state machine's Lambda steps: the order id, in the `order` every step's
# payload carries (shop/infra/workflow.py); the workflow's execution is named after it too.
ORDER_ID_PATH = "order.orderId"
