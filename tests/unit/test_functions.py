"""Each function runs as itself in local mode: its own environment and its own container."""

from __future__ import annotations

import json
import os
import threading
import time

import pytest

from shop import container
from shop.local import environment
from shop.local.functions import Functions, FunctionTimedOut, LocalFunction, lambda_environment
from shop.settings import Env, MissingSetting, RuntimeSettings, SettingsNeeding, runtime_settings
from tests.support import poll


@pytest.fixture
def per_function_environ():
    with environment.per_function():
        yield


def test_a_function_sees_only_its_own_environment_and_the_process_keeps_its_own(per_function_environ):
    os.environ["SHOP_TEST_PROCESS_ONLY"] = "process"
    try:
        variables = {"ORDERS_TABLE_NAME": "orders"}
        seen_elsewhere: list[str | None] = []
        with environment.of_function(variables):
            assert os.environ.get("SHOP_TEST_PROCESS_ONLY") is None
            assert os.environ["ORDERS_TABLE_NAME"] == "orders" and dict(os.environ) == variables
            os.environ["WRITTEN_BY_THE_FUNCTION"] = "1"
            other = threading.Thread(target=lambda: seen_elsewhere.append(os.environ.get("ORDERS_TABLE_NAME")))
            other.start()
            other.join()
        assert seen_elsewhere == [None]  # another thread never sees a function's environment
        assert variables["WRITTEN_BY_THE_FUNCTION"] == "1"
        assert "WRITTEN_BY_THE_FUNCTION" not in os.environ and os.environ["SHOP_TEST_PROCESS_ONLY"] == "process"
    finally:
        del os.environ["SHOP_TEST_PROCESS_ONLY"]


def test_the_process_environment_class_is_restored():
    before = type(os.environ)
    with environment.per_function():
        assert type(os.environ) is not before
    assert type(os.environ) is before


def _function(name: str, handler: str, variables: dict[str, str]) -> LocalFunction:
    return LocalFunction(name=name, handler=f"shop.handlers.{handler}.lambda_handler", role_arn="role",
                         environment=lambda_environment(name, handler, variables, runtime="python3.13",
                                                        memory_mb=128, credentials={}))


def test_a_handler_reading_a_variable_of_another_function_fails(per_function_environ, monkeypatch):
    # The order API's variables leak into the process (as they did when every function shared it)...
    monkeypatch.setenv(Env.SENDER_EMAIL, "leaked@shop.test")
    functions = Functions()
    # ...but the email function is given the order API's variables only, not its own SENDER_EMAIL.
    functions.add(_function("CustomerEmail", "customer_email", {Env.ORDERS_TABLE: "orders"}))
    functions.cold_start()
    with pytest.raises(MissingSetting, match=Env.SENDER_EMAIL):
        functions.invoke("CustomerEmail", {"template": "order_received", "order": {"orderId": "01J"}})


def test_settings_are_read_once_per_container_and_a_cold_start_reads_them_again(per_function_environ):
    functions = Functions()
    variables = {Env.ORDERS_TABLE: "first"}
    with container.running_as("A"), environment.of_function(variables):
        assert runtime_settings().orders_table == "first"
        variables[Env.ORDERS_TABLE] = "second"
        assert runtime_settings().orders_table == "first"  # the same container keeps what it read
    with container.running_as("B"), environment.of_function({Env.ORDERS_TABLE: "other"}):
        assert runtime_settings().orders_table == "other"  # another function, another container
    functions.cold_start()
    with container.running_as("A"), environment.of_function(variables):
        assert runtime_settings().orders_table == "second"


def test_a_missing_or_malformed_setting_names_its_variable():
    settings = RuntimeSettings({Env.APPROVAL_TIMEOUT: "60"})
    assert settings.approval_timeout_seconds == 60
    with pytest.raises(MissingSetting, match=Env.ORDERS_TABLE):
        _ = settings.orders_table


@pytest.mark.parametrize(("environ", "named"), [
    ({Env.ORDERS_TABLE: "orders", Env.APPROVAL_TIMEOUT: "ten"}, f"{Env.APPROVAL_TIMEOUT} is malformed"),
    ({Env.ORDERS_TABLE: "orders", Env.FEEDBACK_DELAY: "-5"}, f"{Env.FEEDBACK_DELAY} is malformed"),
    ({Env.ORDERS_TABLE: " "}, f"{Env.ORDERS_TABLE} is not"),  # given, but empty
    ({Env.ORDERS_TABLE: "orders"}, f"{Env.SENDER_EMAIL} is not"),  # needed, not given
])
def test_settings_fail_when_made_naming_a_malformed_empty_or_needed_variable(environ, named):
    # Made at the cold start: the function fails there, before reading any setting or calling AWS.
    with pytest.raises(MissingSetting, match=named):
        RuntimeSettings(environ, needs={Env.ORDERS_TABLE, Env.SENDER_EMAIL} if "SENDER" in named else ())


def test_a_handler_needing_a_variable_it_was_not_given_fails_at_its_cold_start(per_function_environ):
    needing = SettingsNeeding(Env.ORDERS_TABLE, Env.SENDER_EMAIL)
    with (container.running_as("A"), environment.of_function({Env.ORDERS_TABLE: "orders"}),
          pytest.raises(MissingSetting, match=Env.SENDER_EMAIL)):
        needing()
    with container.running_as("B"), environment.of_function({Env.ORDERS_TABLE: "o", Env.SENDER_EMAIL: "s@shop.test"}):
        assert (needing().orders_table, needing().sender_email) == ("o", "s@shop.test")


def test_a_handler_can_only_need_the_shops_variables():
    with pytest.raises(ValueError, match="ORDERS_TABLE"):
        SettingsNeeding("ORDERS_TABLE")  # the attribute's name, not the variable's


def test_lambda_gives_a_function_its_runtime_variables_and_credentials():
    variables = lambda_environment("Fn", "shop.handlers.x.lambda_handler", {"MINE": "1"}, runtime="python3.13",
                                   memory_mb=256, credentials={"AWS_ACCESS_KEY_ID": "ASIAEXAMPLE"})
    assert variables["MINE"] == "1" and variables["AWS_ACCESS_KEY_ID"] == "ASIAEXAMPLE"
    assert variables["AWS_LAMBDA_FUNCTION_NAME"] == "Fn" and variables["AWS_LAMBDA_FUNCTION_MEMORY_SIZE"] == "256"
    assert variables["AWS_REGION"] == variables["AWS_DEFAULT_REGION"] == "us-east-1"
    assert variables["AWS_EXECUTION_ENV"] == "AWS_Lambda_python3.13"  # the function's Runtime


def test_an_invocation_past_its_timeout_answers_lambdas_timeout_error_and_is_abandoned(monkeypatch):
    # Issue 18, item 1: a delivery must not outlive its function, as it does not on AWS.
    release, finished = threading.Event(), threading.Event()

    def handler(event, context):
        release.wait(timeout=30)  # a call slower than the function's timeout
        finished.set()
        return {"statusCode": 200}

    monkeypatch.setattr("shop.local.functions.load_handler", lambda path: handler)
    functions = Functions()
    functions.add(LocalFunction(name="Slow", handler="shop.handlers.slow.lambda_handler", role_arn="arn:role",
                                timeout_seconds=1))

    with pytest.raises(FunctionTimedOut) as timed_out:
        functions.invoke("Slow", {})

    assert timed_out.value.error_type == "Sandbox.Timedout"
    assert str(timed_out.value).endswith(" Error: Task timed out after 1.00 seconds")
    assert not finished.is_set()  # the caller was answered at the deadline, not when the handler ended
    release.set()


def test_an_invocation_within_its_timeout_answers_its_result_or_its_error(monkeypatch):
    answers = iter([{"statusCode": 200}, ValueError("bad")])

    def handler(event, context):
        answer = next(answers)
        if isinstance(answer, Exception):
            raise answer
        return {**answer, "function": os.environ["AWS_LAMBDA_FUNCTION_NAME"]}

    monkeypatch.setattr("shop.local.functions.load_handler", lambda path: handler)
    functions = Functions()
    functions.add(LocalFunction(name="Quick", handler="shop.handlers.quick.lambda_handler", role_arn="arn:role",
                                environment={"AWS_LAMBDA_FUNCTION_NAME": "Quick"}))
    with environment.per_function():
        assert functions.invoke("Quick", {}) == {"statusCode": 200, "function": "Quick"}
        with pytest.raises(ValueError, match="bad"):
            functions.invoke("Quick", {})


def test_a_timed_out_invocation_reaches_a_state_machine_as_lambdas_own_error_type():
    from shop.local.patches import lambda_invoke

    def invoke(name, event):
        raise FunctionTimedOut(name, "req-1", 10)

    wrap = lambda_invoke.patches(invoke)[0]
    payload, errored, _ = wrap.wrap(None)(type("Fn", (), {"function_name": "Cb"})(), {})

    assert errored and json.loads(payload)["errorType"] == "Sandbox.Timedout"
    assert json.loads(payload)["errorMessage"] == "RequestId: req-1 Error: Task timed out after 10.00 seconds"


def test_with_lambda_timeouts_off_an_invocation_past_its_timeout_runs_to_its_end(monkeypatch):
    """`LAMBDA_TIMEOUTS=off` (the bench's bursts stretch wall time in one shared process)."""
    started, release = threading.Event(), threading.Event()

    def handler(event, context):
        started.set()
        release.wait(timeout=30)
        return {"statusCode": 200}

    monkeypatch.setattr("shop.local.functions.load_handler", lambda path: handler)
    functions = Functions(timeouts=False)
    functions.add(LocalFunction(name="Slow", handler="shop.handlers.slow.lambda_handler", role_arn="arn:role",
                                timeout_seconds=1))
    answers: list[object] = []
    caller = threading.Thread(target=lambda: answers.append(functions.invoke("Slow", {})))
    caller.start()
    assert started.wait(timeout=30)
    begun = time.monotonic()
    # Past its 1 s timeout by the time the caller is checked: still waiting for the handler.
    poll(lambda: caller.is_alive() and not answers and time.monotonic() - begun > 1.5, what="the timeout to pass")
    release.set()
    caller.join(timeout=30)
    assert answers == [{"statusCode": 200}]


def test_lambda_timeouts_is_a_switch_of_local_modes_configuration():
    from shop.local.runtime import LocalConfig

    assert LocalConfig.from_environment({}).lambda_timeouts is True
    assert LocalConfig.from_environment({"LAMBDA_TIMEOUTS": "off"}).lambda_timeouts is False
    with pytest.raises(SystemExit, match="LAMBDA_TIMEOUTS must be on or off"):
        LocalConfig.from_environment({"LAMBDA_TIMEOUTS": "sometimes"})
