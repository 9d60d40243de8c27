"""What `make run` prints besides its banner: the shop's own log lines, and nothing of the libraries
it runs on. botocore's "Found credentials in environment variables." reads as if your real AWS keys
had been picked up; moto's and werkzeug's lines are the emulator talking to itself."""

from __future__ import annotations

import logging

# The shop's own loggers: its modules (`shop.*`) at INFO. The functions' Powertools loggers are
# named after their services and write through handlers of their own, so the root level leaves
# them alone.
SHOP = "shop"
# The emulator, which ends every execution it still runs when the shop stops: what it says then
# (each task failed with ShopStopped, each Wait interrupted) is about its own threads, not orders.
MOTO = "moto"
# Named explicitly, not left to the root's level: werkzeug raises its own logger to INFO when it
# finds it unset, and would print every request, approval links with their tokens included.
LIBRARIES = ("werkzeug", "botocore", "boto3", "urllib3", MOTO)


def configure() -> None:
    """Everyone else's loggers say only warnings and errors; the shop's say what it does."""
    logging.basicConfig(level=logging.WARNING, format="%(message)s")
    logging.getLogger(SHOP).setLevel(logging.INFO)
    for name in LIBRARIES:
        logging.getLogger(name).setLevel(logging.WARNING)


def silence_emulator() -> None:
    """From now until the process ends: the shop is stopping and says itself what it discarded."""
    logging.getLogger(MOTO).setLevel(logging.CRITICAL + 1)
