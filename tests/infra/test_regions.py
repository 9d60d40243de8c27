"""Synthesis refuses a region without Function URLs, before anything could be deployed."""

from __future__ import annotations

import aws_cdk as cdk
import pytest

from shop.infra.regions import UnsupportedRegion
from shop.infra.stack import REGION_CONTEXT_KEY, ShopStack, build_app
from shop.settings import DeployParameters
from tests.conftest import TEST_CONTEXT


def test_an_unsupported_region_from_the_context_fails_synthesis(tmp_path):
    with pytest.raises(UnsupportedRegion, match="Region eu-central-2 has no Lambda Function URLs"):
        build_app(str(tmp_path), context={**TEST_CONTEXT, REGION_CONTEXT_KEY: "eu-central-2"})


def test_an_unsupported_region_of_the_cdk_cli_fails_synthesis(tmp_path, monkeypatch):
    # The CDK CLI passes the region of the profile or AWS_REGION to the app as CDK_DEFAULT_REGION.
    monkeypatch.setenv("CDK_DEFAULT_REGION", "me-central-1")
    with pytest.raises(UnsupportedRegion, match="Region me-central-1 has no Lambda Function URLs"):
        build_app(str(tmp_path), context=TEST_CONTEXT)


def test_an_unsupported_region_of_the_stacks_environment_fails_synthesis(tmp_path):
    app = cdk.App(outdir=str(tmp_path), context=TEST_CONTEXT)
    with pytest.raises(UnsupportedRegion, match="Region il-central-1 has no Lambda Function URLs"):
        ShopStack(app, "Shop", params=DeployParameters.from_context(app.node.try_get_context),
                  env=cdk.Environment(region="il-central-1"))


def test_the_stacks_own_region_comes_before_the_cli_default(tmp_path, monkeypatch):
    monkeypatch.setenv("CDK_DEFAULT_REGION", "eu-west-1")
    app = cdk.App(outdir=str(tmp_path), context=TEST_CONTEXT)
    with pytest.raises(UnsupportedRegion, match="ca-west-1"):
        ShopStack(app, "Shop", params=DeployParameters.from_context(app.node.try_get_context),
                  env=cdk.Environment(region="ca-west-1"))
