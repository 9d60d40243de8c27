"""Speed and threads (found by `make bench`): what moto redoes for every execution, done once.

Profiled under `make bench` (py-spy, GIL holder): per order, moto re-parsed the state machine's
definition with ANTLR at the start of every execution (~25 ms of CPU, and ~400 kB kept for the
execution's lifetime, i.e. while it waits for the owner) and built a new JSONPath parser (PLY
tables) for every path it evaluated. The cached versions behave the same: the parsed program is
read-only during evaluation (each execution's state lives in its own Environment), and JSONPath
expressions are immutable. (The boto3 clients it built for every task are cached by
stepfunctions_clients.py.)
Threads: each execution ran its program in a second thread only to join it with the machine's
TimeoutSeconds; without one (ours), the execution's own thread now runs it: an order waiting for
its approval holds 2 threads instead of 3.
"""

from __future__ import annotations

import functools
import logging
import threading
from typing import Any

from shop.local.patches import Patch

_PROGRAM_CACHE_SIZE = 16
_PARSER = "moto.stepfunctions.parser.asl"


def _heap_keys_primed(program: Any) -> Any:
    """Give every component of a shared program its heap key now: moto assigns it lazily on first
    use, which two executions sharing the program could otherwise race on (a retry counter read
    under one key and written under another)."""
    from moto.stepfunctions.parser.asl.component.component import Component
    from moto.stepfunctions.parser.asl.component.eval_component import EvalComponent

    seen: set[int] = set()
    pending = [program]
    while pending:
        value = pending.pop()
        if id(value) in seen:
            continue
        seen.add(id(value))
        if isinstance(value, EvalComponent):
            _ = value.heap_key
        if isinstance(value, Component):
            pending.extend(vars(value).values())
        elif isinstance(value, (list, tuple, set, frozenset)):
            pending.extend(value)
        elif isinstance(value, dict):
            pending.extend(value.values())
    return program


def patches() -> list[Patch]:
    lock = threading.Lock()
    programs: dict[str, Any] = {}

    def wrap_entrypoint(_parse_each_time: Any) -> Any:
        from moto.stepfunctions.parser.asl.parse.asl_parser import AmazonStateLanguageParser

        def cached_entrypoint(self) -> Any:
            definition = self._evaluation_details.state_machine_details.definition
            with lock:
                program = programs.get(definition)
                if program is None:
                    if len(programs) >= _PROGRAM_CACHE_SIZE:
                        programs.clear()
                    program = programs[definition] = _heap_keys_primed(
                        AmazonStateLanguageParser.parse(definition)[0])
            return program

        return cached_entrypoint

    def wrap_program_eval(threaded_program_eval: Any) -> Any:
        from moto.stepfunctions.parser.asl.component.program.program import Program

        def program_eval(self, env: Any) -> None:
            if self.timeout_seconds is not None and self.timeout_seconds.timeout_seconds is not None:
                threaded_program_eval(self, env)  # the machine has a timeout: moto's thread enforces it
                return
            env.next_state_name = self.start_at.start_at_name
            try:
                super(Program, self).eval(env)
            except Exception:  # what ending moto's worker thread with an exception did: log, carry on
                logging.getLogger(__name__).exception("state machine program failed")

        return program_eval

    def memoized(parse: Any) -> Any:
        return functools.lru_cache(maxsize=1024)(parse)

    return [
        Patch("moto.stepfunctions.parser.backend.execution_worker:ExecutionWorker",
              "_get_evaluation_entrypoint", wrap_entrypoint),
        Patch(f"{_PARSER}.component.program.program:Program", "eval", wrap_program_eval),
        Patch(f"{_PARSER}.utils.json_path", "parse", memoized),
        Patch(f"{_PARSER}.component.common.path.result_path", "parse", memoized),
    ]
