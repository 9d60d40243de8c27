"""Where the stack can be deployed: the approval links are Lambda Function URLs, which some regions lack.

One list, read by the synthesis (shop/infra/stack.py refuses such a region before anything is
created) and by `make deploy`'s preflight, as a fast first check that needs no AWS call. The
preflight then asks the region itself (CloudFormation DescribeType for each resource type of the
template), so a region missing from this list is still refused before anything is bootstrapped;
tests/unit/test_regions.py checks the list against the pinned cfn-lint's per-region data.
"""

from __future__ import annotations

# Where Lambda has no Function URLs, so CloudFormation has no AWS::Lambda::Url: synthesis and
# `cdk bootstrap` succeed there, then CloudFormation refuses the template ("Unrecognized resource
# types: [AWS::Lambda::Url]") while validating it, before it creates any of the stack's resources.
# Two sources, each entry named where it is found; tests/unit/test_regions.py checks both.
# The Lambda Developer Guide ("Lambda function URLs": "Function URLs are not supported in the
# following regions").
LAMBDA_GUIDE_REGIONS_WITHOUT_FUNCTION_URLS = frozenset({
    "ap-east-2",       # Asia Pacific (Taipei)
    "ap-south-2",      # Asia Pacific (Hyderabad)
    "ap-southeast-4",  # Asia Pacific (Melbourne)
    "ap-southeast-5",  # Asia Pacific (Malaysia)
    "ap-southeast-6",  # Asia Pacific (New Zealand)
    "ap-southeast-7",  # Asia Pacific (Thailand)
    "ca-west-1",       # Canada West (Calgary)
    "eu-central-2",    # Europe (Zurich)
    "eu-south-2",      # Europe (Spain)
    "il-central-1",    # Israel (Tel Aviv)
    "me-central-1",    # Middle East (UAE)
})
# The regions whose CloudFormation registry data in the pinned cfn-lint
# (cfnlint/data/schemas/providers/<region>.json) has no AWS::Lambda::Url, beyond the guide's.
CFN_LINT_REGIONS_WITHOUT_FUNCTION_URLS = frozenset({
    "cn-northwest-1",  # China (Ningxia)
    "mx-central-1",    # Mexico (Central)
    "us-gov-east-1",   # AWS GovCloud (US-East)
    "us-gov-west-1",   # AWS GovCloud (US-West)
})
FUNCTION_URL_UNSUPPORTED_REGIONS = LAMBDA_GUIDE_REGIONS_WITHOUT_FUNCTION_URLS | CFN_LINT_REGIONS_WITHOUT_FUNCTION_URLS


class UnsupportedRegion(ValueError):
    """The stack cannot be deployed to this region."""


def supports_function_urls(region: str) -> bool:
    """Whether Lambda offers Function URLs in `region` (a region code such as "eu-west-1"), as far
    as the list knows."""
    return region.strip().lower() not in FUNCTION_URL_UNSUPPORTED_REGIONS


def check_region(region: str) -> None:
    """Raise UnsupportedRegion, with what to do about it, when the shop cannot run in `region`."""
    if not supports_function_urls(region):
        raise UnsupportedRegion(
            f"Region {region} has no Lambda Function URLs, which the owner's approve/reject links use; "
            f"deploy to another region (unsupported: {', '.join(sorted(FUNCTION_URL_UNSUPPORTED_REGIONS))})"
        )
