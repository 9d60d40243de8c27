"""Synthesis refuses a region without Function URLs, before anything could be deployed; and the list
of such regions agrees with the pinned cfn-lint's per-region CloudFormation registry data."""

from __future__ import annotations

import json
from importlib.resources import files

import aws_cdk as cdk
import pytest

from shop.deploy.preflight import FUNCTION_URL_TYPE, template_resource_types
from shop.infra.regions import (
    CFN_LINT_REGIONS_WITHOUT_FUNCTION_URLS,
    FUNCTION_URL_UNSUPPORTED_REGIONS,
    LAMBDA_GUIDE_REGIONS_WITHOUT_FUNCTION_URLS,
    UnsupportedRegion,
    supports_function_urls,
)
from shop.infra.stack import REGION_CONTEXT_KEY, ShopStack, build_app
from shop.settings import DeployParameters
from tests.support import TEST_CONTEXT


def test_an_unsupported_region_from_the_context_fails_synthesis(tmp_path):
    with pytest.raises(UnsupportedRegion, match="Region eu-central-2 has no Lambda Function URLs"):
        build_app(str(tmp_path), context={**TEST_CONTEXT, REGION_CONTEXT_KEY: "eu-central-2"})


@pytest.mark.parametrize("region", ["ap-east-2", "ap-southeast-6", "ap-southeast-7", "mx-central-1"])
def test_a_region_new_to_the_list_fails_synthesis(tmp_path, region):
    with pytest.raises(UnsupportedRegion, match=f"Region {region} has no Lambda Function URLs"):
        build_app(str(tmp_path), context={**TEST_CONTEXT, REGION_CONTEXT_KEY: region})


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


# -- the list against cfn-lint's data ----------------------------------------------------------
def cfn_lint_registry() -> dict[str, set[str]]:
    """The resource types CloudFormation's registry has in each region, per the pinned cfn-lint's
    bundled data (one `<region>.json` each; read directly, never a cache `--update-specs` refreshed)."""
    providers = files("cfnlint") / "data" / "schemas" / "providers"
    registry = {entry.name.removesuffix(".json"): set(json.loads(entry.read_text()))
                for entry in providers.iterdir() if entry.name.endswith(".json") and entry.name != "sam.json"}
    assert len(registry) > 30 and "us-east-1" in registry, f"cfn-lint's data moved: {sorted(registry)}"
    return registry


def lacking(template: dict) -> dict[str, list[str]]:
    """Each region cfn-lint knows that lacks one of the template's resource types, and those types."""
    needed = template_resource_types(template)
    return {region: missing for region, known in sorted(cfn_lint_registry().items())
            if (missing := [name for name in needed if name not in known])}


def test_every_region_cfn_lint_says_lacks_a_resource_type_of_the_stack_is_refused_at_once(synthesized):
    assert FUNCTION_URL_TYPE in template_resource_types(synthesized.template)
    gaps = lacking(synthesized.template)
    assert gaps, "no region lacks a resource type: cfn-lint's data cannot be what this test expects"
    let_through = {region: missing for region, missing in gaps.items() if supports_function_urls(region)}
    assert not let_through, (
        f"cfn-lint's data says these regions lack resource types the stack uses: {let_through}; "
        "add them to shop/infra/regions.py (the preflight's DescribeType would refuse them only later)")
    # The static list knows one reason only: when another type goes missing, it must learn another.
    assert {name for missing in gaps.values() for name in missing} == {FUNCTION_URL_TYPE}, gaps


def test_each_region_listed_for_cfn_lint_lacks_function_urls_there():
    without_urls = {region for region, known in cfn_lint_registry().items() if FUNCTION_URL_TYPE not in known}
    listed, guide = CFN_LINT_REGIONS_WITHOUT_FUNCTION_URLS, LAMBDA_GUIDE_REGIONS_WITHOUT_FUNCTION_URLS
    assert listed == without_urls - guide, "each entry lacks the type in cfn-lint's data, and each such region is listed"
    assert listed | guide == FUNCTION_URL_UNSUPPORTED_REGIONS
