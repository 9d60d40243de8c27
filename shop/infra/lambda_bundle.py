"""How the functions are packaged: our code in one asset, its dependencies in one layer.

Both are built by copying files at synth time, with no Docker and no network: the code asset is
`shop/` (minus infrastructure, local mode, the CLI and the deploy tooling) plus `templates/` (minus local mode's
pages); the layer holds the distributions pinned in `requirements/lambda.txt`, copied from the
environment that synthesizes.
boto3 is never bundled: the Lambda runtime provides it.
"""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
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


# Where Lambda puts the code asset and a layer's contents.
LAMBDA_CODE_DIR = "/var/task"
LAMBDA_LAYER_DIR = "/opt"


def _precompile(directory: Path, deployed_at: str) -> None:
    """Ship bytecode: Lambda's code directory is read-only, so without it every cold start
    compiles every module again. Unchecked-hash .pyc files are used as they are, whatever the
    zip did to the sources' timestamps; a runtime other than 3.11 simply ignores them.

    The .pyc bytes must depend on the sources alone, or the same commit built in two folders
    gives two asset hashes (a new layer version on every deploy from a fresh clone):
    - each .pyc records its source's path, and bundling happens in a staging folder under the
      checkout's cdk.out. `-d` records the path the file has on Lambda instead (so tracebacks
      name /var/task/... and /opt/python/..., not the build machine's folders);
    - marshal writes an object shared within a module as a back-reference or not depending on
      the compiling process's reference counts, so the synthesizing process (whatever it loaded
      before) gives other bytes. A fresh interpreter with a fixed environment gives the same:
      -S keeps the venv's .pth files (which name the checkout) out, PYTHONHASHSEED fixes the
      order of string sets.
    """
    subprocess.run(
        [sys.executable, "-S", "-m", "compileall", "-q", "-d", deployed_at,
         "--invalidation-mode", "unchecked-hash", str(directory)],
        env={"PYTHONHASHSEED": "0"}, check=True,
    )


@jsii.implements(cdk.ILocalBundling)
class _CopyCode:
    def try_bundle(self, output_dir: str, options: object = None) -> bool:
        shutil.copytree(ROOT / "shop", Path(output_dir) / "shop", ignore=_NOT_DEPLOYED)
        shutil.copytree(ROOT / "templates", Path(output_dir) / "templates", ignore=_LOCAL_TEMPLATES)
        _precompile(Path(output_dir), LAMBDA_CODE_DIR)
        return True


@jsii.implements(cdk.ILocalBundling)
class _CopyDependencies:
    def try_bundle(self, output_dir: str, options: object = None) -> bool:
        target = Path(output_dir) / "python"
        for name in lambda_requirements():
            distribution = metadata.distribution(name)
            for file in distribution.files or ():
                source = Path(str(distribution.locate_file(file)))
                if file.suffix in _COMPILED or "__pycache__" in file.parts or ".." in file.parts:
                    continue
                if file.parent.name.endswith(".dist-info") and file.name in _INSTALLER_RECORDS:
                    continue
                if source.is_file():
                    destination = target / file
                    destination.parent.mkdir(parents=True, exist_ok=True)
                    shutil.copyfile(source, destination)
        _precompile(target, f"{LAMBDA_LAYER_DIR}/python")
        return True


def _copied_asset(source: Path, local: object) -> lambda_.Code:
    return lambda_.Code.from_asset(
        str(source),
        asset_hash_type=cdk.AssetHashType.OUTPUT,
        bundling=cdk.BundlingOptions(
            # Never pulled: local bundling always succeeds. CDK requires an image to be named.
            image=cdk.DockerImage.from_registry("public.ecr.aws/sam/build-python3.11"),
            # jsii calls try_bundle(output_dir, options), one struct, not the Protocol's keywords.
            local=cast(cdk.ILocalBundling, local),
        ),
    )


class ShopCode(Construct):
    """The code asset and dependency layer every function of the shop shares."""

    RUNTIME = lambda_.Runtime.PYTHON_3_11
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
            "Python 3.11 on purpose: the code and its dependency layer are built and tested on 3.11 "
            "(pyproject requires-python <3.12); move RUNTIME with the project's Python, not alone",
        )
        nag.acknowledge(
            function,
            f"AwsSolutions-IAM4[Policy::{BASIC_EXECUTION_POLICY}]",
            "Accepted: the AWS-maintained AWSLambdaBasicExecutionRole only allows what the function needs "
            "to write its own logs (logs:CreateLogGroup, CreateLogStream, PutLogEvents); the function's "
            "other permissions are inline grants on this stack's resources",
        )
        return function

