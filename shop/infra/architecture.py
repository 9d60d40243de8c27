"""The picture of the system, docs/architecture.svg, drawn from the synthesized template.

Nodes are the template's resources, edges what the template says they do to each other: the IAM
policies of each function's role (which tables, topic, secret and state machine it may call, and
with which actions), the state machine's definition (which functions and tables its tasks call),
the API's routes and integrations, the Function URL's target, the topic's subscriptions, the
alarm's metric and actions, and environment variables that name a resource no policy covers (a
link the function puts in a message). Nothing is drawn by hand, so the picture cannot drift from
the stack: tests/infra/test_architecture.py redraws it from the session's template and compares.

`make architecture` writes it: `python -m shop.infra.architecture TEMPLATE SVG`. Graphviz lays it
out, as WebAssembly under node (render_svg.mjs): the same DOT gives the same SVG, byte for byte.
"""

from __future__ import annotations

import argparse
import json
import re
import subprocess
from collections import defaultdict
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from shop.local.template import construct_name, references

RENDERER = Path(__file__).with_name("render_svg.mjs")


@dataclass(frozen=True)
class Kind:
    caption: str  # the second line of the node's label: what kind of resource it is
    fill: str


# What is drawn, one node per resource. Every other type in the template must be listed in
# NOT_DRAWN: a resource type the stack gains is a decision about the picture, not an omission.
DRAWN: dict[str, Kind] = {
    "AWS::ApiGatewayV2::Api": Kind("API Gateway HTTP API", "#e6dcf7"),
    "AWS::Lambda::Url": Kind("Lambda Function URL", "#fff1dc"),
    "AWS::Lambda::Function": Kind("Lambda function", "#fddcb0"),
    "AWS::StepFunctions::StateMachine": Kind("Step Functions state machine", "#f7d3e4"),
    "AWS::DynamoDB::Table": Kind("DynamoDB table", "#d4e3f7"),
    "AWS::SNS::Topic": Kind("SNS topic", "#f6d5d5"),
    "AWS::SNS::Subscription": Kind("SNS subscription", "#f6d5d5"),
    "AWS::SecretsManager::Secret": Kind("Secrets Manager secret", "#f3dada"),
    "AWS::CloudWatch::Alarm": Kind("CloudWatch alarm", "#fbe4ef"),
}
NOT_DRAWN = {
    "AWS::IAM::Role", "AWS::IAM::Policy",  # read: they are the edges from functions
    "AWS::ApiGatewayV2::Route", "AWS::ApiGatewayV2::Integration",  # read: the API's edges
    "AWS::ApiGatewayV2::Stage", "AWS::Lambda::Permission", "AWS::SNS::TopicPolicy",
    "AWS::Lambda::LayerVersion",  # every function has it: an edge from each would say nothing
    "AWS::Logs::LogGroup", "AWS::CDK::Metadata",
}
EXTERNAL = Kind("", "#eeeeee")
# AWS services a policy grants with no resource of the stack behind them (SES's identities);
# tracing and logging plumbing is left out.
SERVICES = {"ses": "Amazon SES\nemail to customers"}
PLUMBING = {"logs", "xray", "cloudwatch"}
INTERNET = "Internet"


class UndrawnResource(Exception):
    pass


@dataclass
class Graph:
    title: str
    nodes: dict[str, tuple[str, Kind]] = field(default_factory=dict)  # id -> (label, kind)
    # (source, target) -> labels; dashed edges say "names" (a link, a metric), not "calls".
    edges: dict[tuple[str, str], set[str]] = field(default_factory=lambda: defaultdict(set))
    dashed: set[tuple[str, str]] = field(default_factory=set)

    def edge(self, source: str, target: str, label: str = "", *, dashed: bool = False) -> None:
        labels = self.edges[(source, target)]  # an edge with no label is an edge too
        if label:
            labels.add(label)
        if dashed:
            self.dashed.add((source, target))


def _literal(value: Any) -> str:
    """The expression's string pieces, joined: `arn:...:stateMachine:OrderShop-OrderWorkflow-...`."""
    if isinstance(value, str):
        return value
    if isinstance(value, list):
        return "".join(_literal(item) for item in value)
    if isinstance(value, dict):
        return "".join(_literal(item) for item in value.values())
    return ""


def label_of(logical_id: str, resource: dict[str, Any]) -> str:
    """`OrderShop/Storage/Orders/Resource` -> `Orders`, as local mode names it (shop/local/template.py)."""
    if resource["Type"] == "AWS::SNS::Subscription":  # its construct id is the endpoint itself
        return f"{resource['Properties']['Protocol']} subscription"
    return construct_name(logical_id, resource)


def build(template: dict[str, Any], title: str) -> Graph:
    resources: dict[str, dict[str, Any]] = template.get("Resources", {})
    undrawn = {r["Type"] for r in resources.values()} - DRAWN.keys() - NOT_DRAWN
    if undrawn:
        raise UndrawnResource(f"add {sorted(undrawn)} to DRAWN or NOT_DRAWN in {__name__}")
    graph = Graph(title)
    for logical_id, resource in resources.items():
        if resource["Type"] in DRAWN:
            graph.nodes[logical_id] = (label_of(logical_id, resource), DRAWN[resource["Type"]])

    def of_type(kind: str) -> Iterator[tuple[str, dict[str, Any]]]:
        for logical_id, resource in resources.items():
            if resource["Type"] == kind:
                yield logical_id, resource.get("Properties", {})

    def drawn(value: Any) -> list[str]:
        return sorted({ref for ref in references(value) if ref in graph.nodes})

    _api(graph, of_type, drawn)
    for url_id, props in of_type("AWS::Lambda::Url"):
        for function_id in drawn(props["TargetFunctionArn"]):
            graph.edge(url_id, function_id, "invoke")
        if props.get("AuthType") == "NONE":
            graph.edge(INTERNET, url_id, "links in emails")
    _policies(graph, of_type, drawn)
    for machine_id, props in of_type("AWS::StepFunctions::StateMachine"):
        for target, integration in _tasks(props["DefinitionString"], graph.nodes):
            graph.edge(machine_id, target, integration)
    for function_id, props in of_type("AWS::Lambda::Function"):
        for name, value in sorted(props.get("Environment", {}).get("Variables", {}).items()):
            for target in drawn(value):
                if (function_id, target) not in graph.edges:
                    graph.edge(function_id, target, name, dashed=True)
    for subscription_id, props in of_type("AWS::SNS::Subscription"):
        for topic_id in drawn(props["TopicArn"]):
            graph.edge(topic_id, subscription_id)
    for alarm_id, props in of_type("AWS::CloudWatch::Alarm"):
        for source in drawn(props.get("Dimensions", [])):
            graph.edge(source, alarm_id, props.get("MetricName", ""), dashed=True)
        for target in drawn(props.get("AlarmActions", [])):
            graph.edge(alarm_id, target, "alarm action")
    return graph


def _api(graph: Graph, of_type: Any, drawn: Any) -> None:
    integrations = {logical_id: drawn(props["IntegrationUri"])
                    for logical_id, props in of_type("AWS::ApiGatewayV2::Integration")}
    for _, props in of_type("AWS::ApiGatewayV2::Route"):
        target = [ref for ref in references(props.get("Target", {})) if ref in integrations]
        for api_id in drawn(props["ApiId"]):
            for function_id in (f for integration in target for f in integrations[integration]):
                graph.edge(api_id, function_id, props["RouteKey"])
            if props.get("AuthorizationType", "NONE") == "NONE":
                graph.edge(INTERNET, api_id, "HTTPS")


def _policies(graph: Graph, of_type: Any, drawn: Any) -> None:
    """A function's policy statements: what it calls, with which actions."""
    owners = {}  # role -> the function that runs as it
    for function_id, props in of_type("AWS::Lambda::Function"):
        for role in references(props["Role"]):
            owners[role] = function_id
    # A name may be an expression (the stack instance's suffix in it), which CDK inlines into the
    # ARNs built from it: compare the string pieces of both.
    machine_names = {logical_id: _literal(props["StateMachineName"])
                     for logical_id, props in of_type("AWS::StepFunctions::StateMachine")
                     if props.get("StateMachineName")}
    for _, props in of_type("AWS::IAM::Policy"):
        principals = [owners[role] for role in references(props.get("Roles", [])) if role in owners]
        statements = props["PolicyDocument"]["Statement"]
        for statement, principal in ((s, p) for s in statements for p in principals):
            if statement.get("Effect", "Allow") != "Allow":
                continue
            actions = statement["Action"] if isinstance(statement["Action"], list) else [statement["Action"]]
            resource = statement.get("Resource", [])
            targets = set(drawn(resource))
            # A name written out (to break a dependency cycle) instead of a Ref: match it by name.
            text = _literal(resource)
            targets |= {machine for machine, name in machine_names.items() if f":stateMachine:{name}" in text}
            targets.discard(principal)
            if not targets:
                services = {action.split(":")[0] for action in actions} - PLUMBING
                targets = {f"service:{service}" for service in services}
                for service in services:
                    graph.nodes[f"service:{service}"] = (SERVICES.get(service, service), EXTERNAL)
            for target in targets:
                for action in actions:
                    graph.edge(principal, target, action.split(":", 1)[1])


def _tasks(definition: Any, nodes: dict[str, Any]) -> Iterator[tuple[str, str]]:
    """(resource, integration) for each task of the state machine: `lambda:invoke.waitForTaskToken`."""
    def placeholder(part: Any) -> str:
        if isinstance(part, str):
            return part
        refs = [ref for ref in references(part) if ref in nodes]
        return f"@@{refs[0]}@@" if refs else "x"

    if isinstance(definition, dict) and "Fn::Join" in definition:
        separator, parts = definition["Fn::Join"]
        definition = separator.join(placeholder(part) for part in parts)
    states = list(json.loads(definition)["States"].values())
    while states:
        state = states.pop()
        for nested in (*state.get("Branches", []), state.get("Iterator"), state.get("ItemProcessor")):
            if nested:
                states.extend(nested["States"].values())
        if state.get("Type") != "Task":
            continue
        integration = state["Resource"].rsplit(":::", 1)[-1] if ":::" in state["Resource"] else "invoke"
        called = json.dumps([state["Resource"], state.get("Parameters"), state.get("Arguments")])
        for target in sorted(set(re.findall(r"@@(\w+)@@", called))):
            yield target, integration


def _quote(text: str) -> str:
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n") + '"'


def _html(text: str) -> str:
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def _edge_label(labels: set[str]) -> str:
    """One action a line: in a left-to-right layout a label's width widens the gap between ranks."""
    return "\n".join(label.replace(".waitForTaskToken", "\n.waitForTaskToken") for label in sorted(labels))


# Graphviz sizes boxes by its own table of the font's metrics. Laid out in Helvetica, the labels
# overflow their boxes where the browser has no Helvetica or Arial (DejaVu Sans is about 10 % wider);
# laid out in DejaVu Sans, they fit in Verdana (the same metrics) and in any narrower sans-serif.
LAYOUT_FONT = "DejaVu Sans"
SVG_FONTS = "DejaVu Sans,Verdana,sans-serif"


def _dot_ids(graph: Graph) -> dict[str, str]:
    """`OrderApi (Lambda function)`: what a node is called in the DOT and in the SVG's tooltips.
    Not the logical id, whose hash and, for a subscription, the owner's address change with
    construct paths and deploy parameters; and in this order, which Graphviz's layout follows."""
    ids = {INTERNET: INTERNET}
    seen: dict[str, int] = defaultdict(int)
    for node in sorted(graph.nodes):
        label, kind = graph.nodes[node]
        name = label.split("\n")[0] + (f" ({kind.caption})" if kind.caption else "")
        seen[name] += 1
        ids[node] = name if seen[name] == 1 else f"{name} {seen[name]}"
    return ids


def to_dot(graph: Graph) -> str:
    """Sorted everywhere: the same graph gives the same DOT, and Graphviz the same SVG."""
    font = f'fontname="{LAYOUT_FONT}"'
    lines = [
        "digraph architecture {",
        f'  rankdir=LR; nodesep=0.35; ranksep=0.6; {font}; fontsize=13; labelloc=t;',
        f"  node [shape=box, style=\"rounded,filled\", {font}, fontsize=12, penwidth=0.8, margin=\"0.15,0.08\"];",
        f"  edge [{font}, fontsize=9, color=\"#555555\", fontcolor=\"#333333\", arrowsize=0.7];",
    ]
    ids = _dot_ids(graph)
    inside = sorted((n for n in graph.nodes if not n.startswith("service:")), key=ids.__getitem__)
    outside = sorted((n for n in graph.nodes if n.startswith("service:")), key=ids.__getitem__)
    if INTERNET in ids.values():
        lines.append(f'  {_quote(INTERNET)} [shape=ellipse, style=filled, fillcolor="#eeeeee", '
                     'label="Internet\\ncustomers, the owner"];')
    lines.append(f'  subgraph cluster_stack {{ label={_quote(graph.title)}; labeljust=l; style="rounded,dashed"; color="#999999";')
    for node in inside:
        label, kind = graph.nodes[node]
        html = f'<<B>{_html(label)}</B><BR/><FONT POINT-SIZE="9">{_html(kind.caption)}</FONT>>'
        lines.append(f'    {_quote(ids[node])} [label={html}, fillcolor="{kind.fill}"];')
    lines.append("  }")
    for node in outside:
        label, kind = graph.nodes[node]
        lines.append(f'  {_quote(ids[node])} [label={_quote(label)}, fillcolor="{kind.fill}"];')
    for (source, target), labels in sorted(graph.edges.items(), key=lambda item: (ids[item[0][0]], ids[item[0][1]])):
        # A dashed edge names its target (a link in a message, a metric): it does not call it, so
        # it does not push the target further right.
        style = ", style=dashed, constraint=false" if (source, target) in graph.dashed else ""
        lines.append(f"  {_quote(ids[source])} -> {_quote(ids[target])} [label={_quote(_edge_label(labels))}{style}];")
    lines.append("}")
    return "\n".join(lines) + "\n"


def render(dot: str) -> str:
    """SVG from DOT, by Graphviz as WebAssembly under node (from package.json's dependencies)."""
    done = subprocess.run(["node", str(RENDERER)], input=dot, capture_output=True, text=True,
                          check=False, cwd=RENDERER.parent)
    if done.returncode != 0:
        raise RuntimeError(f"rendering the architecture failed (is `npm ci` done?): {done.stderr.strip()}")
    return done.stdout.replace(f'font-family="{LAYOUT_FONT}"', f'font-family="{SVG_FONTS}"')


def architecture_svg(template_path: Path) -> str:
    template = json.loads(Path(template_path).read_text())
    stack = Path(template_path).name.removesuffix(".template.json")
    return render(to_dot(build(template, f"stack {stack} (one AWS account and region)")))


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("template", type=Path)
    parser.add_argument("output", type=Path)
    args = parser.parse_args(argv)
    args.output.write_text(architecture_svg(args.template))
    print(f"wrote {args.output}")


if __name__ == "__main__":
    main()
