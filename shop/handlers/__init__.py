"""Lambda entry points. Each parses its event, calls `shop.logic`, and shapes the response."""
