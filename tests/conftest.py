"""Session-wide fixtures: the CDK app is synthesized once and every test level shares it."""

from __future__ import annotations

import json
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from shop.infra.node_runtime import use_project_node

# Synthesis runs on the Node that make uses (the project's own LTS when the machine's is too
# old), also when pytest is started directly; before anything imports aws_cdk.
use_project_node()
# Tests never reach AWS: fake credentials and a region, set before any client exists.
os.environ.update(
    AWS_ACCESS_KEY_ID="testing", AWS_SECRET_ACCESS_KEY="testing", AWS_DEFAULT_REGION="us-east-1"
)
os.environ.pop("AWS_PROFILE", None)
os.environ.pop("AWS_ENDPOINT_URL", None)
os.environ.pop("CDK_DEFAULT_REGION", None)  # the CDK CLI's region: synthesis checks it (shop/infra/regions.py)

ROOT = Path(__file__).resolve().parents[1]
COURSE_CATALOG = ROOT.parent / "shared" / "data" / "course-catalog" / "products.json"

# The deploy parameters the tests synthesize with (cdk.json's values, explicitly).
TEST_CONTEXT = {
    "ownerEmail": "owner@shop.test",
    "senderEmail": "orders@shop.test",
    "approvalTimeoutSeconds": 86400,
    "feedbackDelaySeconds": 86400,
}
# The session's one synthesis also runs cdk-nag (AwsSolutions). A finding does not abort it, so the
# other tests still run; tests/infra/test_nag.py reads the cloud assembly's validation report.
NAG_CONTEXT = {"nag": True, "@aws-cdk/core:failSynthOnValidationErrors": False}


@dataclass(frozen=True)
class Synthesized:
    outdir: Path
    template_path: Path
    template: dict[str, Any]


@pytest.fixture(scope="session")
def synthesized(tmp_path_factory: pytest.TempPathFactory) -> Synthesized:
    from shop.infra.stack import build_app
    from shop.settings import STACK_NAME

    outdir = tmp_path_factory.mktemp("cdk.out")
    app, _ = build_app(str(outdir), context={**TEST_CONTEXT, **NAG_CONTEXT})
    app.synth()
    template_path = outdir / f"{STACK_NAME}.template.json"
    return Synthesized(outdir=outdir, template_path=template_path, template=json.loads(template_path.read_text()))
