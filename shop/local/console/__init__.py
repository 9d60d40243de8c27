"""The owner's console of local mode; see `app.py`."""

from shop.local.console.app import PREFIX, Console

__all__ = ["PREFIX", "Console"]
