"""`make run`'s program as a user starts it: a separate process, its banner, Ctrl-C."""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
import threading

import requests

from tests.support import order_body, poll


def test_the_local_shop_starts_serves_and_stops_on_ctrl_c(synthesized):
    env = {**os.environ, "PORT": "0", "AWS_PORT": "0", "SHOP_TEMPLATE": str(synthesized.template_path),
           "APPROVAL_TIMEOUT": "30", "FEEDBACK_DELAY": "1", "PYTHONUNBUFFERED": "1"}
    process = subprocess.Popen([sys.executable, "-m", "shop.local"], env=env, stdout=subprocess.PIPE,
                               stderr=subprocess.STDOUT, text=True)
    lines: list[str] = []
    reader = threading.Thread(target=lambda: lines.extend(iter(process.stdout.readline, "")), daemon=True)
    reader.start()
    try:
        banner = poll(lambda: next((line for line in lines if "Shop:" in line), None), timeout=60, what="the banner")
        url = re.search(r"http://127\.0\.0\.1:\d+", banner).group(0)
        output = "".join(lines)
        assert f"{url}/outbox" in output and "curl -s -X POST" in output and "--endpoint-url http://127.0.0.1:" in output
        assert "approval timeout 30s, feedback delay 1s, 8 products" in output

        response = requests.post(f"{url}/orders", json=order_body(), timeout=10)
        assert response.status_code == 201
        poll(lambda: len(requests.get(f"{url}/outbox.json", timeout=10).json()) == 2, what="two messages")
    finally:
        process.send_signal(signal.SIGINT)
        try:
            code = process.wait(timeout=30)
        finally:
            if process.poll() is None:
                process.kill()
    reader.join(timeout=5)
    assert code == 0, "".join(lines)
    assert "stopping..." in "".join(lines)
    assert "Traceback" not in "".join(lines)
