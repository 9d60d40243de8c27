"""The local shop's access log, without query strings.

The approval links carry the task token and their signature in the query string, and werkzeug's
access log writes the request's path with its query (at INFO, which tests and a developer's own
logging show). So the line keeps the method, the path and the status, and says only that a query
was there.
"""

from __future__ import annotations

from werkzeug.serving import WSGIRequestHandler


def without_query(target: str) -> str:
    """`/approval-callback/?token=...` -> `/approval-callback/?...`; also inside a whole request
    line (`GET /x?y HTTP/1.1`), which werkzeug logs when it could not parse one."""
    head, question, tail = target.partition("?")
    if not question:
        return target
    _, space, version = tail.rpartition(" ")
    return f"{head}?...{space}{version}" if space else f"{head}?..."


class QuerylessRequestHandler(WSGIRequestHandler):
    def log_request(self, code: int | str = "-", size: int | str = "-") -> None:
        # The request's environ was built from the path already; only the log line reads it now.
        if hasattr(self, "path"):
            self.path = without_query(self.path)
        self.requestline = without_query(getattr(self, "requestline", ""))
        super().log_request(code, size)
