"""Which regions the stack can go to: Function URLs (the owner's approve/reject links) are not everywhere."""

from __future__ import annotations

import pytest

from shop.infra.regions import (
    FUNCTION_URL_UNSUPPORTED_REGIONS,
    LAMBDA_GUIDE_REGIONS_WITHOUT_FUNCTION_URLS,
    UnsupportedRegion,
    check_region,
    supports_function_urls,
)

# The Lambda Developer Guide's list ("Lambda function URLs"), spelled out here so that a change to
# the module is a decision. tests/infra/test_regions.py checks the rest against cfn-lint's data.
DOCUMENTED = {"ap-east-2", "ap-south-2", "ap-southeast-4", "ap-southeast-5", "ap-southeast-6", "ap-southeast-7",
              "ca-west-1", "eu-south-2", "eu-central-2", "il-central-1", "me-central-1"}


def test_the_guides_list_is_the_documented_one():
    assert LAMBDA_GUIDE_REGIONS_WITHOUT_FUNCTION_URLS == DOCUMENTED
    assert DOCUMENTED <= FUNCTION_URL_UNSUPPORTED_REGIONS


@pytest.mark.parametrize("region", sorted(FUNCTION_URL_UNSUPPORTED_REGIONS))
def test_regions_without_function_urls_are_refused(region):
    assert not supports_function_urls(region)
    assert not supports_function_urls(f" {region.upper()} ")
    with pytest.raises(UnsupportedRegion, match=f"Region {region} has no Lambda Function URLs"):
        check_region(region)


@pytest.mark.parametrize("region", ["us-east-1", "eu-west-1", "eu-central-1", "ap-south-1", "ap-southeast-2", "ca-central-1"])
def test_other_regions_are_accepted(region):
    assert supports_function_urls(region)
    check_region(region)
