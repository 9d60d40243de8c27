"""Which AWS regions the stack can be deployed to."""

from __future__ import annotations

# Regions without Lambda Function URLs (the Lambda developer guide's "Function URLs" page), which
# carry the owner's approval links: the stack would fail there halfway.
FUNCTION_URL_UNSUPPORTED_REGIONS = frozenset({"ap-south-2","ap-southeast-4","ap-southeast-5","ca-west-1","eu-south-2","eu-central-2","il-central-1","me-central-1"})


def supports_function_urls(region: str) -> bool:
    return region not in FUNCTION_URL_UNSUPPORTED_REGIONS
