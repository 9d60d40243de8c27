"""Finding a deployed shop: its stack outputs from CloudFormation, with the errors a user can act
on. A stub CloudFormation client; no AWS."""

from __future__ import annotations

import pytest
from botocore.exceptions import ClientError, EndpointConnectionError, NoCredentialsError, NoRegionError

from shop.adapters.stack import REQUIRED_OUTPUTS, ShopUnreachable, outputs_from_cloudformation


class StubCloudFormation:
    def __init__(self, outputs=None, error=None):
        self.outputs, self.error = outputs, error

    def describe_stacks(self, StackName):  # noqa: N803 (boto3's parameter name)
        if self.error:
            raise self.error
        return {"Stacks": [{"StackName": StackName, "Outputs": [{"OutputKey": key, "OutputValue": value}
                                                                 for key, value in self.outputs.items()]}]}


ALL = {name: f"value-of-{name}" for name in REQUIRED_OUTPUTS}


def test_the_outputs_of_the_stack():
    assert outputs_from_cloudformation("OrderShop", StubCloudFormation(ALL)) == ALL


def test_an_unknown_stack_says_how_to_get_one():
    missing = ClientError({"Error": {"Code": "ValidationError", "Message": "Stack with id X does not exist"}},
                          "DescribeStacks")

    with pytest.raises(ShopUnreachable, match="stack OrderShop not found: deploy it with `make deploy`"):
        outputs_from_cloudformation("OrderShop", StubCloudFormation(error=missing))


def test_no_region_or_credentials_is_unreachable_not_a_crash_and_says_what_to_set():
    with pytest.raises(ShopUnreachable, match="no AWS region: set AWS_REGION"):
        outputs_from_cloudformation("OrderShop", StubCloudFormation(error=NoRegionError()))
    with pytest.raises(ShopUnreachable, match="no AWS credentials: set AWS_PROFILE, or AWS_ACCESS_KEY_ID"):
        outputs_from_cloudformation("OrderShop", StubCloudFormation(error=NoCredentialsError()))
    with pytest.raises(ShopUnreachable, match="cannot reach AWS CloudFormation"):
        outputs_from_cloudformation("OrderShop", StubCloudFormation(error=EndpointConnectionError(endpoint_url="x")))


def test_credentials_aws_refuses_are_unreachable_saying_so():
    expired = ClientError({"Error": {"Code": "ExpiredToken", "Message": "expired"}}, "DescribeStacks")

    with pytest.raises(ShopUnreachable, match=r"AWS refused your credentials \(ExpiredToken\)"):
        outputs_from_cloudformation("OrderShop", StubCloudFormation(error=expired))


def test_a_stack_from_an_older_version_names_the_outputs_it_lacks():
    older = {key: value for key, value in ALL.items() if key not in ("DecisionsTableName", "LinkSigningSecretArn")}

    with pytest.raises(ShopUnreachable, match="lacks the outputs DecisionsTableName, LinkSigningSecretArn: redeploy"):
        outputs_from_cloudformation("OrderShop", StubCloudFormation(older))


def test_other_aws_errors_are_left_to_the_caller():
    throttled = ClientError({"Error": {"Code": "Throttling", "Message": "slow down"}}, "DescribeStacks")

    with pytest.raises(ClientError):
        outputs_from_cloudformation("OrderShop", StubCloudFormation(error=throttled))

