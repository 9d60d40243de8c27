#!/usr/bin/env python3
"""CDK entry point: `cdk deploy` runs this, and so does `make synth` (no CDK CLI needed)."""

import os

from shop.infra.node_runtime import use_project_node

use_project_node()  # before aws_cdk is imported: jsii starts node from PATH

from shop.infra.stack import build_app  # noqa: E402

app, _ = build_app(outdir=os.environ.get("CDK_OUTDIR", "cdk.out"))
app.synth()
