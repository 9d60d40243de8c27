"""Local mode: the whole shop on 127.0.0.1, AWS emulated by moto, the CDK template deployed into it.

- `template`: reads the synthesized CloudFormation template and resolves its intrinsics.
- `deployer`: creates the template's tables, topic, functions and state machine in moto.
- `lambda_hook`: runs Lambda invocations in-process with the project's own handlers.
- `outbox`: records every email and notification the shop sends.
- `http_adapter`: serves the order API and the Function URL as AWS events, plus the outbox.
- `runtime`: starts and stops all of it; `__main__` is `make run`.
"""
