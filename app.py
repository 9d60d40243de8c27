#!/usr/bin/env python3
"""CDK entry point: `cdk deploy` runs this, and so does `make synth` (no CDK CLI needed)."""

import os

from shop.infra.stack import build_app

app, _ = build_app(outdir=os.environ.get("CDK_OUTDIR", "cdk.out"))
app.synth()
