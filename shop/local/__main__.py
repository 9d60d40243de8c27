"""`make run`: the whole shop on 127.0.0.1 until Ctrl-C."""

from __future__ import annotations

import logging
import signal
import sys
import threading

from shop.local.runtime import LocalConfig, LocalShop


def main() -> None:
    logging.basicConfig(level=logging.INFO, format="%(message)s")
    logging.getLogger("werkzeug").setLevel(logging.WARNING)
    # Every function's session finds its local credentials in its environment; saying so each time
    # reads as if your real AWS keys had been picked up.
    logging.getLogger("botocore.credentials").setLevel(logging.WARNING)
    config = LocalConfig.from_environment()
    stopping = threading.Event()
    # Both set explicitly: a shell that starts us in the background hands us SIGINT ignored.
    for signum in (signal.SIGINT, signal.SIGTERM):
        signal.signal(signum, lambda *_: stopping.set())
    try:
        shop = LocalShop(config).start()
    except OSError as error:
        sys.exit(f"could not start: {error} (is PORT={config.port} free? set PORT=...)")
    print(shop.banner(), flush=True)
    try:
        stopping.wait()
    finally:
        print("stopping...", flush=True)
        shop.stop()


if __name__ == "__main__":
    main()
