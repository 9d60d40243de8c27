"""How the functions are packaged: our code in one asset, its dependencies in one layer.

Both are built by copying files at synth time, with no Docker and no network: the code asset is
`shop/` (minus infrastructure, local mode, the CLI and the deploy tooling) plus `templates/` (minus local mode's
pages); the layer holds the distributions pinned in `requirements/lambda.txt`, copied from the
environment that synthesizes.
boto3 is never bundled: the Lambda runtime provides it.

Neither ships bytecode. The project builds on Python 3.11 and the functions run on RUNTIME's
Python: a .pyc carries its interpreter's tag and magic number, so 3.13 ignores what 3.11 compiles
(it only makes the package bigger). Bytecode for the runtime would need its interpreter at
bundle time, and a package whose bytes depend on which Python built it would give the same
commit another asset hash on another machine. On the read-only /var/task and /opt, each cold
start compiles the modules it imports, in memory (`make bench` measures what that costs).
"""

from __future__ import annotations

import re
import shutil
from importlib import metadata
from pathlib import Path
from typing import cast

import aws_cdk as cdk
import jsii
from aws_cdk import aws_lambda as lambda_
from constructs import Construct

from shop.infra import nag
from shop.infra.naming import function_log_group_name, retained_log_group

ROOT = Path(__file__).resolve().parents[2]
LAMBDA_REQUIREMENTS = ROOT / "requirements" / "lambda.txt"
_NOT_DEPLOYED = shutil.ignore_patterns("__pycache__", "*.pyc", "infra", "local", "cli", "deploy")
_LOCAL_TEMPLATES = shutil.ignore_patterns("local", "console")
_COMPILED = (".so", ".pyd", ".c")
# What the installer wrote about this venv, not the distribution: RECORD hashes the venv's own
# console scripts (their shebangs name its python), REQUESTED says whether pip was asked for the
# distribution or pulled it in. Copied, they would make the layer's hash depend on the checkout's
# venv; nothing at run time reads them (importlib.metadata only needs METADATA for versions).
_INSTALLER_RECORDS = {"RECORD", "INSTALLER", "REQUESTED", "direct_url.json"}
# The managed policy CDK attaches to every function's role, as cdk-nag names it in its findings.
BASIC_EXECUTION_POLICY = "arn:<AWS::Partition>:iam::aws:policy/service-role/AWSLambdaBasicExecutionRole"


def lambda_requirements() -> list[str]:
    """Distribution names from requirements/lambda.txt (pins are checked by the tests)."""
    names = []
    for line in LAMBDA_REQUIREMENTS.read_text().splitlines():
        line = line.split("#", 1)[0].strip()
        if line:
            names.append(re.split(r"[=<>!~\[ ]", line, maxsplit=1)[0])
    return names


# The functions' runtime, and the layer's only compatible one. Its Python is not the project's
# (3.11, pyproject.toml): the code must run on both (tests/infra/test_lambda_runtime.py).
RUNTIME = lambda_.Runtime.PYTHON_3_13


@jsii.implements(cdk.ILocalBundling)
class _CopyCode:
    def try_bundle(self, output_dir: str, options: object = None) -> bool:
        shutil.copytree(ROOT / "shop", Path(output_dir) / "shop", ignore=_NOT_DEPLOYED)
        shutil.copytree(ROOT / "templates", Path(output_dir) / "templates", ignore=_LOCAL_TEMPLATES)
        return True


@jsii.implements(cdk.ILocalBundling)
class _CopyDependencies:
    def try_bundle(self, output_dir: str, options: object = None) -> bool:
        target = Path(output_dir) / "python"
        for name in lambda_requirements():
            distribution = metadata.distribution(name)
            for file in distribution.files or ():
                source = Path(str(distribution.locate_file(file)))
                # No bytecode either (see above): whichever Python wrote it, it is not the runtime's.
                if file.suffix in (*_COMPILED, ".pyc") or "__pycache__" in file.parts or ".." in file.parts:
                    continue
                if file.parent.name.endswith(".dist-info") and file.name in _INSTALLER_RECORDS:
                    continue
                if source.is_file():
                    destination = target / file
                    destination.parent.mkdir(parents=True, exist_ok=True)
                    shutil.copyfile(source, destination)
        return True


def _copied_asset(source: Path, local: object) -> lambda_.Code:
    return lambda_.Code.from_asset(
        str(source),
        asset_hash_type=cdk.AssetHashType.OUTPUT,
        bundling=cdk.BundlingOptions(
            # Never pulled: local bundling always succeeds. CDK requires an image to be named.
            image=cdk.DockerImage.from_registry(f"public.ecr.aws/sam/build-{RUNTIME.name}"),
            # jsii calls try_bundle(output_dir, options), one struct, not the Protocol's keywords.
            local=cast(cdk.ILocalBundling, local),
        ),
    )


class ShopCode(Construct):
    """The code asset and dependency layer every function of the shop shares."""

    RUNTIME = RUNTIME
    ARCHITECTURE = lambda_.Architecture.ARM_64

    def __init__(self, scope: Construct, construct_id: str) -> None:
        super().__init__(scope, construct_id)
        self.code = _copied_asset(ROOT / "shop", _CopyCode())
        self.dependencies = lambda_.LayerVersion(
            self,
            "Dependencies",
            code=_copied_asset(ROOT / "requirements", _CopyDependencies()),
            compatible_runtimes=[self.RUNTIME],
            compatible_architectures=[self.ARCHITECTURE],
            description="Powertools, Jinja2 and the other pinned runtime dependencies of the shop",
        )

    def function(
        self,
        scope: Construct,
        construct_id: str,
        *,
        handler: str,
        description: str,
        environment: dict[str, str],
        timeout_seconds: int = 10,
    ) -> lambda_.Function:
        """A function of the shop: `handler` is a module path under `shop.handlers`. It logs to a
        log group of the stack's (`<construct id>Logs`), not to the one Lambda would create itself at
        its first run, outside the stack, with no retention, which no destroy would list or remove.
        Its role's AWSLambdaBasicExecutionRole (added by CDK) lets it write there: the policy allows
        logs:CreateLogStream and PutLogEvents on every log group."""
        log_group = retained_log_group(scope, f"{construct_id}Logs", name=function_log_group_name(scope, construct_id))
        function = lambda_.Function(
            scope,
            construct_id,
            runtime=self.RUNTIME,
            architecture=self.ARCHITECTURE,
            code=self.code,
            handler=f"shop.handlers.{handler}.lambda_handler",
            layers=[self.dependencies],
            description=description,
            memory_size=256,
            timeout=cdk.Duration.seconds(timeout_seconds),
            environment={"POWERTOOLS_LOG_LEVEL": "INFO", **environment},
            log_group=log_group,
        )
        # cdk-nag findings on every function (and its service role), reviewed:
        nag.acknowledge(
            function,
            "AwsSolutions-L1",
            f"{RUNTIME.name} on purpose, not the newest Python runtime: AWS supports it as long as the "
            "newest (cfn-lint's runtime lifecycle data), every layer dependency declares it, and "
            "tests/infra/test_lambda_runtime.py fails a year before its deprecation date",
        )
        nag.acknowledge(
            function,
            f"AwsSolutions-IAM4[Policy::{BASIC_EXECUTION_POLICY}]",
            "Accepted: the AWS-maintained AWSLambdaBasicExecutionRole only allows what the function needs "
            "to write its own logs (logs:CreateLogGroup, CreateLogStream, PutLogEvents); the function's "
            "other permissions are inline grants on this stack's resources",
        )
        return function

