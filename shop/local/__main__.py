"""`make run`: the whole shop on 127.0.0.1 until Ctrl-C."""

from __future__ import annotations

import signal
import sys
import threading

from shop.local import logs
from shop.local.runtime import LocalConfig, LocalShop


def main() -> None:
    logs.configure()
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
        logs.silence_emulator()
        shop.stop()
        print(shop.discarded_summary(), flush=True)
    # Exit 0: Ctrl-C is how the README says to stop the shop, and it stopped cleanly. Dying by the
    # signal (130) would make `make run` end in "make: *** [Makefile: run] Interrupt", an error it is not.


if __name__ == "__main__":
    main()
