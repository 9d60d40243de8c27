"""Where the stack can be deployed: the approval links are Lambda Function URLs, which some regions lack.

One list, read by the synthesis (shop/infra/stack.py refuses such a region before anything is
created) and by `make deploy`'s preflight.
"""

from __future__ import annotations

# The regions where Lambda has no Function URLs, per the Lambda Developer Guide ("Creating and
# managing Lambda function URLs": "Function URLs are not supported in the following regions").
# A stack with a Function URL fails halfway there, after the tables and the topic are created.
FUNCTION_URL_UNSUPPORTED_REGIONS = frozenset({
    "ap-south-2",      # Asia Pacific (Hyderabad)
    "ap-southeast-4",  # Asia Pacific (Melbourne)
    "ap-southeast-5",  # Asia Pacific (Malaysia)
    "ca-west-1",       # Canada West (Calgary)
    "eu-south-2",      # Europe (Spain)
    "eu-central-2",    # Europe (Zurich)
    "il-central-1",    # Israel (Tel Aviv)
    "me-central-1",    # Middle East (UAE)
})


class UnsupportedRegion(ValueError):
    """The stack cannot be deployed to this region."""


def supports_function_urls(region: str) -> bool:
    """Whether Lambda offers Function URLs in `region` (a region code such as "eu-west-1")."""
    return region.strip().lower() not in FUNCTION_URL_UNSUPPORTED_REGIONS


def check_region(region: str) -> None:
    """Raise UnsupportedRegion, with what to do about it, when the shop cannot run in `region`."""
    if not supports_function_urls(region):
        raise UnsupportedRegion(
            f"Region {region} has no Lambda Function URLs, which the owner's approve/reject links use; "
            f"deploy to another region (unsupported: {', '.join(sorted(FUNCTION_URL_UNSUPPORTED_REGIONS))})"
        )
