"""A synthesized CloudFormation template, with its intrinsic functions resolved locally.

Only the intrinsics CDK emits for this stack are supported; anything else fails loudly, so a
change to the stack that local mode cannot follow is caught by the tests, not by a user.
"""

from __future__ import annotations

import json
import re
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

# Local mode's one account and region, everywhere: moto's default account (tests/unit/test_template.py
# checks it is still moto's), and the region moto's in-process clients are made for.
ACCOUNT_ID = "123456789012"
REGION = "us-east-1"


class UnsupportedTemplate(Exception):
    pass


@dataclass
class Template:
    stack_name: str
    resources: dict[str, dict[str, Any]]
    outputs: dict[str, dict[str, Any]]

    @classmethod
    def load(cls, path: Path) -> Template:
        body = json.loads(Path(path).read_text())
        return cls(
            stack_name=Path(path).name.removesuffix(".template.json"),
            resources=body.get("Resources", {}),
            outputs=body.get("Outputs", {}),
        )

    def of_type(self, resource_type: str) -> dict[str, dict[str, Any]]:
        return {lid: r for lid, r in self.resources.items() if r["Type"] == resource_type}

    def construct_path(self, logical_id: str) -> str:
        """`OrderShop/ApprovalCallback/Function/Resource`, from CDK's metadata."""
        return self.resources[logical_id].get("Metadata", {}).get("aws:cdk:path", logical_id)

    def referenced(self, value: Any, resource_type: str) -> list[str]:
        """The resources of that type the expression refers to, wherever in it (sorted)."""
        return sorted({ref for ref in references(value) if self.resources.get(ref, {}).get("Type") == resource_type})


# Construct ids that say what kind of resource a construct is, not which one:
# `OrderShop/ApprovalCallback/Function/Resource` is the function "ApprovalCallback".
GENERIC_CONSTRUCT_IDS = frozenset({"Resource", "Default", "Function", "FunctionUrl", "HttpApi", "StateMachine", "Topic"})


def construct_name(logical_id: str, resource: dict[str, Any]) -> str:
    """What the stack calls a resource: the last construct id of its path that is not generic, or
    without CDK's metadata, its logical id without the hash suffix CDK adds."""
    path = resource.get("Metadata", {}).get("aws:cdk:path", "")
    names = [part for part in path.split("/")[1:] if part not in GENERIC_CONSTRUCT_IDS]
    return names[-1] if names else re.sub(r"[0-9A-F]{8}$", "", logical_id)


def references(value: Any) -> Iterator[str]:
    """Every logical id an expression refers to (Ref, Fn::GetAtt, Fn::Sub), wherever it is in it:
    what the expression means, whatever shape (a Join, a Sub, a Select of a Split) CDK gives it."""
    if isinstance(value, list):
        for item in value:
            yield from references(item)
    elif isinstance(value, dict):
        for key, argument in value.items():
            if key == "Ref" and isinstance(argument, str) and not argument.startswith("AWS::"):
                yield argument
            elif key == "Fn::GetAtt":
                yield (argument if isinstance(argument, list) else argument.split("."))[0]
            elif key == "Fn::Sub":
                text = argument if isinstance(argument, str) else argument[0]
                for name in re.findall(r"\$\{([^}!]+)\}", text):
                    if not name.startswith("AWS::"):
                        yield name.split(".")[0]
                if not isinstance(argument, str):
                    yield from references(argument[1])
            else:
                yield from references(argument)


@dataclass
class Resolver:
    """Resolves Ref, Fn::GetAtt, Fn::Join, Fn::Select, Fn::Split and Fn::Sub against local values."""

    stack_name: str
    refs: dict[str, str] = field(default_factory=dict)
    attributes: dict[tuple[str, str], str] = field(default_factory=dict)
    # AWS::StackId: as CloudFormation's, new for each creation of the stack (names of retained
    # resources end in a part of it: shop/infra/naming.py).
    stack_id: str = ""

    def __post_init__(self) -> None:
        self.stack_id = self.stack_id or f"arn:aws:cloudformation:{REGION}:{ACCOUNT_ID}:stack/{self.stack_name}/{uuid.uuid4()}"

    PSEUDO = {
        "AWS::Partition": "aws",
        "AWS::Region": REGION,
        "AWS::AccountId": ACCOUNT_ID,
        "AWS::URLSuffix": "amazonaws.com",
        "AWS::NoValue": None,
    }

    def resolve(self, value: Any) -> Any:
        if isinstance(value, list):
            return [self.resolve(item) for item in value]
        if not isinstance(value, dict):
            return value
        if len(value) == 1:
            (key, argument), = value.items()
            if key == "Ref":
                return self._ref(argument)
            if key == "Fn::GetAtt":
                logical_id, attribute = argument if isinstance(argument, list) else argument.split(".", 1)
                try:
                    return self.attributes[(logical_id, attribute)]
                except KeyError:
                    raise UnsupportedTemplate(f"no local value for {logical_id}.{attribute}") from None
            if key == "Fn::Join":
                separator, parts = argument
                return separator.join(str(self.resolve(part)) for part in self.resolve(parts))
            if key == "Fn::Select":
                index, items = argument
                return self.resolve(items)[int(self.resolve(index))]
            if key == "Fn::Split":
                separator, text = argument
                return str(self.resolve(text)).split(separator)
            if key == "Fn::Sub":
                return self._sub(argument)
            if key.startswith("Fn::") or key == "Condition":
                raise UnsupportedTemplate(f"intrinsic {key} is not supported locally")
        return {key: self.resolve(inner) for key, inner in value.items()}

    def _sub(self, argument: Any) -> str:
        text, variables = (argument, {}) if isinstance(argument, str) else argument
        variables = {name: self.resolve(value) for name, value in variables.items()}

        def replace(match: re.Match) -> str:
            name = match.group(1)
            if name.startswith("!"):
                return "${" + name[1:] + "}"
            if name in variables:
                return str(variables[name])
            if "." in name:
                return str(self.resolve({"Fn::GetAtt": name.split(".", 1)}))
            return str(self._ref(name))

        return re.sub(r"\$\{([^}]+)\}", replace, text)

    def _ref(self, name: str) -> Any:
        if name == "AWS::StackName":
            return self.stack_name
        if name == "AWS::StackId":
            return self.stack_id
        if name in self.PSEUDO:
            return self.PSEUDO[name]
        try:
            return self.refs[name]
        except KeyError:
            raise UnsupportedTemplate(f"no local value for Ref {name}") from None
