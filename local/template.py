"""Reads ``template.yaml``: the one route table, function list, environment and table definitions.

The local stack and the tests take everything from here, so they cannot drift from what is deployed.
Intrinsic functions are resolved against local stand-ins (parameter defaults, local physical names).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path
from typing import Any

import yaml

PROJECT_ROOT = Path(__file__).resolve().parent.parent
TEMPLATE_PATH = PROJECT_ROOT / "template.yaml"
LOCAL_STAGE = "local"


class _CloudFormationLoader(yaml.SafeLoader):
    """YAML loader that turns ``!Ref x`` into ``{"Ref": x}`` and ``!Sub``/``!GetAtt``... into ``Fn::`` maps."""


def _construct_tag(loader: yaml.SafeLoader, tag_suffix: str, node: yaml.Node) -> dict[str, Any]:
    if isinstance(node, yaml.ScalarNode):
        value: Any = loader.construct_scalar(node)
    elif isinstance(node, yaml.SequenceNode):
        value = loader.construct_sequence(node, deep=True)
    else:
        value = loader.construct_mapping(node, deep=True)  # type: ignore[arg-type]
    if tag_suffix == "Ref":
        return {"Ref": value}
    if tag_suffix == "GetAtt" and isinstance(value, str):
        value = value.split(".", 1)
    return {f"Fn::{tag_suffix}": value}


_CloudFormationLoader.add_multi_constructor("!", _construct_tag)


@dataclass(frozen=True)
class Route:
    method: str
    path: str
    public: bool
    function: str

    @property
    def pattern(self) -> re.Pattern[str]:
        regex = re.sub(r"\\\{(\w+)\\\}", r"(?P<\1>[^/]+)", re.escape(self.path))
        return re.compile(f"^{regex}$")

    @property
    def specificity(self) -> tuple[int, int]:
        # Static segments beat parameters, as in API Gateway: /order/{id}/list before /order/{id}.
        segments = self.path.strip("/").split("/")
        return (sum(not s.startswith("{") for s in segments), len(segments))


@dataclass(frozen=True)
class Schedule:
    job_name: str
    function: str
    event: dict[str, Any]


@dataclass
class FunctionSpec:
    logical_id: str
    code_dir: Path
    handler: str
    timeout: int
    environment: dict[str, str]
    routes: list[Route] = field(default_factory=list)
    schedules: list[Schedule] = field(default_factory=list)


@dataclass
class TableSpec:
    logical_id: str
    name: str
    properties: dict[str, Any]


def _kebab(name: str) -> str:
    return re.sub(r"(?<!^)(?=[A-Z])", "-", name).lower()


class Template:
    def __init__(self, document: dict[str, Any], parameter_overrides: dict[str, str] | None = None) -> None:
        self.document = document
        self.resources: dict[str, dict[str, Any]] = document.get("Resources", {})
        self.parameters = {
            name: str(spec.get("Default", "")) for name, spec in document.get("Parameters", {}).items()
        }
        self.parameters.update({"Stage": LOCAL_STAGE, **(parameter_overrides or {})})
        self.pseudo = {
            "AWS::Region": "us-east-1",
            "AWS::AccountId": "123456789012",
            "AWS::Partition": "aws",
            "AWS::StackName": f"trading-api-{LOCAL_STAGE}",
            "AWS::URLSuffix": "amazonaws.com",
            "AWS::NoValue": None,
        }
        self.local_values: dict[str, str] = {}
        # Values of {{resolve:...}} references by their last segment (e.g. "apiKey"): the local secrets.
        self.dynamic_values: dict[str, str] = {}

    # ----------------------------------------------------------- intrinsics
    def condition(self, name: str) -> bool:
        return bool(self.resolve(self.document.get("Conditions", {})[name]))

    def physical_name(self, logical_id: str) -> str:
        if logical_id in self.local_values:
            return self.local_values[logical_id]
        resource = self.resources[logical_id]
        properties = resource.get("Properties", {})
        for key in ("TableName", "QueueName", "Name"):
            if key in properties:
                return str(self.resolve(properties[key]))
        return logical_id

    def resolve(self, value: Any) -> Any:
        if isinstance(value, list):
            return [self.resolve(item) for item in value]
        if not isinstance(value, dict):
            return value
        if len(value) != 1:
            return {key: self.resolve(item) for key, item in value.items()}
        ((key, argument),) = value.items()
        if key == "Ref":
            if argument in self.parameters:
                return self.parameters[argument]
            if argument in self.pseudo:
                return self.pseudo[argument]
            return self.physical_name(argument)
        if key == "Fn::GetAtt":
            logical_id, attribute = argument
            return self.local_values.get(
                f"{logical_id}.{attribute}", f"arn:aws:local:::{logical_id}/{attribute}"
            )
        if key == "Fn::Sub":
            text, variables = (argument, {}) if isinstance(argument, str) else argument
            resolved = {name: self.resolve(v) for name, v in variables.items()}

            def substitute(match: re.Match[str]) -> str:
                name = match.group(1)
                if name in resolved:
                    return str(resolved[name])
                if "." in name:
                    return str(self.resolve({"Fn::GetAtt": name.split(".", 1)}))
                return str(self.resolve({"Ref": name}))

            return self._dynamic_references(re.sub(r"\$\{([^}!]+)\}", substitute, text))
        if key == "Fn::If":
            name, when_true, when_false = argument
            return self.resolve(when_true if self.condition(name) else when_false)
        if key == "Fn::Equals":
            left, right = self.resolve(argument)
            return str(left) == str(right)
        if key == "Fn::Not":
            return not self.resolve(argument[0])
        if key == "Fn::Select":
            index, items = argument
            return self.resolve(items)[int(index)]
        if key == "Fn::Split":
            separator, text = argument
            return str(self.resolve(text)).split(separator)
        if key == "Fn::Join":
            separator, items = argument
            return separator.join(str(item) for item in self.resolve(items))
        return {k: self.resolve(v) for k, v in value.items()}

    def _dynamic_references(self, text: str) -> str:
        """{{resolve:secretsmanager:...}} is resolved by CloudFormation at deploy; locally by a known value."""

        def local_value(match: re.Match[str]) -> str:
            segment = match.group(1).rstrip(":").rsplit(":", 1)[-1]
            return self.dynamic_values.get(segment, "local-dynamic-reference-value")

        return re.sub(r"\{\{resolve:([^}]+)\}\}", local_value, text)

    # ----------------------------------------------------------- views
    def functions(self) -> dict[str, FunctionSpec]:
        globals_ = self.document.get("Globals", {}).get("Function", {})
        global_env = globals_.get("Environment", {}).get("Variables", {})
        specs: dict[str, FunctionSpec] = {}
        for logical_id, resource in self.resources.items():
            if resource.get("Type") != "AWS::Serverless::Function":
                continue
            properties = resource.get("Properties", {})
            variables = {**global_env, **properties.get("Environment", {}).get("Variables", {})}
            spec = FunctionSpec(
                logical_id=logical_id,
                code_dir=PROJECT_ROOT / properties["CodeUri"],
                handler=properties.get("Handler", globals_.get("Handler", "app.lambda_handler")),
                timeout=int(properties.get("Timeout", globals_.get("Timeout", 3))),
                environment={name: str(self.resolve(v)) for name, v in variables.items()},
            )
            for event_name, event in properties.get("Events", {}).items():
                event_properties = event.get("Properties", {})
                if event.get("Type") == "Api":
                    authorizer = event_properties.get("Auth", {}).get("Authorizer")
                    spec.routes.append(
                        Route(
                            method=event_properties["Method"].upper(),
                            path=event_properties["Path"],
                            public=authorizer == "NONE",
                            function=logical_id,
                        )
                    )
                elif event.get("Type") in ("Schedule", "ScheduleV2"):
                    payload = self.resolve(event_properties.get("Input", "{}"))
                    spec.schedules.append(
                        Schedule(job_name=_kebab(event_name), function=logical_id, event={"input": payload})
                    )
            specs[logical_id] = spec
        return specs

    def routes(self) -> list[Route]:
        routes = [route for spec in self.functions().values() for route in spec.routes]
        return sorted(routes, key=lambda route: route.specificity, reverse=True)

    def tables(self) -> list[TableSpec]:
        return [
            TableSpec(
                logical_id, self.physical_name(logical_id), self.resolve(resource.get("Properties", {}))
            )
            for logical_id, resource in self.resources.items()
            if resource.get("Type") == "AWS::DynamoDB::Table"
        ]


@cache
def _document(path: Path) -> dict[str, Any]:
    return yaml.load(path.read_text(), Loader=_CloudFormationLoader)  # noqa: S506 - a SafeLoader subclass


def load_template(path: Path = TEMPLATE_PATH, parameter_overrides: dict[str, str] | None = None) -> Template:
    return Template(_document(path), parameter_overrides)


def create_table_request(table: TableSpec) -> dict[str, Any]:
    """The DynamoDB CreateTable call equivalent to the template's table (what moto supports of it)."""
    properties = table.properties
    request: dict[str, Any] = {
        "TableName": table.name,
        "AttributeDefinitions": properties["AttributeDefinitions"],
        "KeySchema": properties["KeySchema"],
        "BillingMode": properties.get("BillingMode", "PAY_PER_REQUEST"),
    }
    if properties.get("GlobalSecondaryIndexes"):
        request["GlobalSecondaryIndexes"] = [
            {
                "IndexName": index["IndexName"],
                "KeySchema": index["KeySchema"],
                "Projection": index["Projection"],
            }
            for index in properties["GlobalSecondaryIndexes"]
        ]
    return request
