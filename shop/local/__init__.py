"""Local mode: the whole shop on 127.0.0.1, AWS emulated by moto, the CDK template deployed into it.

- `template`: reads the synthesized CloudFormation template and resolves its intrinsics.
- `deployer`: creates the template's roles, tables, topic, functions and state machine in moto.
- `functions`: runs each Lambda function in-process as itself: its environment (`environment`),
  its role's credentials, its own container (`shop.container`).
- `iam`: who makes each AWS call, and whether the template's policies allow it.
- `patches`: every change to moto's internals, one module per seam, applied by one mechanism.
- `outbox`: records every email and notification the shop sends.
- `http_adapter` and `events`: serve the order API and the Function URL as AWS events, plus the outbox.
- `runtime`: starts and stops all of it; `__main__` is `make run`.
"""
