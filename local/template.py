"""Reads ``template.yaml``: the one route table, function list, environment and table definitions.

The local stack and the tests take everything from here, so they cannot drift from what is deployed.
Intrinsic functions are resolved against local stand-ins (parameter defaults, local physical names).
"""

from __future__ import annotations

import json
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
    sqs_mappings: list[SqsMapping] = field(default_factory=list)
    # Lambda's asynchronous invocation settings (SAM ``EventInvokeConfig``) and ``DeadLetterQueue``.
    event_invoke_config: dict[str, Any] = field(default_factory=dict)
    dead_letter_queue: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class QueueSpec:
    """An ``AWS::SQS::Queue``: its properties, intrinsics resolved (its DLQ's ARN once provisioned)."""

    logical_id: str
    name: str
    properties: dict[str, Any]


@dataclass(frozen=True)
class RuleTarget:
    """One target of a rule: a function of the template, or an ARN EventBridge itself delivers to."""

    id: str
    arn: str
    function: str | None = None
    input: str | None = None
    input_path: str | None = None
    input_transformer: dict[str, Any] | None = None
    retry_policy: dict[str, Any] | None = None
    dead_letter_arn: str | None = None


@dataclass(frozen=True)
class RuleSpec:
    """An EventBridge rule: a function's ``EventBridgeRule`` event or an ``AWS::Events::Rule`` resource."""

    logical_id: str
    name: str
    event_bus: str
    pattern: dict[str, Any]
    targets: tuple[RuleTarget, ...]
    enabled: bool = True


@dataclass(frozen=True)
class SqsMapping:
    """A function's ``SQS`` event: Lambda's event source mapping of one queue to the function."""

    name: str
    function: str
    queue: str  # the queue's logical id
    batch_size: int = 10
    batching_window: float = 0.0
    report_batch_item_failures: bool = False
    maximum_concurrency: int | None = None
    enabled: bool = True


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
        self.pseudo: dict[str, str | None] = {
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
        for key in ("TableName", "QueueName", "LogGroupName", "Name"):
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
        if key == "Fn::Or":
            return any(self.resolve(item) for item in argument)
        if key == "Fn::And":
            return all(self.resolve(item) for item in argument)
        if key in ("Condition", "Fn::Condition"):  # the YAML loader spells !Condition either way
            return self.condition(argument)
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
                elif event.get("Type") == "SQS":
                    spec.sqs_mappings.append(self._sqs_mapping(logical_id, event_name, event_properties))
            spec.event_invoke_config = self.resolve(properties.get("EventInvokeConfig", {})) or {}
            spec.dead_letter_queue = self.resolve(properties.get("DeadLetterQueue", {})) or {}
            specs[logical_id] = spec
        return specs

    def _sqs_mapping(self, function: str, event_name: str, properties: dict[str, Any]) -> SqsMapping:
        queue = properties["Queue"]
        if isinstance(queue, dict) and "Fn::GetAtt" in queue:
            queue_id = queue["Fn::GetAtt"][0]
        else:  # an ARN: one of the template's queues by its ARN or its name
            arn = str(self.resolve(queue))
            queue_id = next(
                (q.logical_id for q in self.queues() if arn in (self.queue_arn(q.logical_id), q.name)),
                arn.rsplit(":", 1)[-1],
            )
        scaling = self.resolve(properties.get("ScalingConfig", {})) or {}
        return SqsMapping(
            name=f"{function}{event_name}",
            function=function,
            queue=queue_id,
            batch_size=int(self.resolve(properties.get("BatchSize", 10))),
            batching_window=float(self.resolve(properties.get("MaximumBatchingWindowInSeconds", 0))),
            report_batch_item_failures="ReportBatchItemFailures"
            in (self.resolve(properties.get("FunctionResponseTypes", [])) or []),
            maximum_concurrency=int(scaling["MaximumConcurrency"])
            if "MaximumConcurrency" in scaling
            else None,
            enabled=str(self.resolve(properties.get("Enabled", True))).lower() != "false",
        )

    def function_arn(self, logical_id: str) -> str:
        return f"arn:aws:lambda:{self.pseudo['AWS::Region']}:{self.pseudo['AWS::AccountId']}:function:{logical_id}"

    def queue_arn(self, logical_id: str) -> str:
        return self.local_values.get(
            f"{logical_id}.Arn",
            f"arn:aws:sqs:{self.pseudo['AWS::Region']}:{self.pseudo['AWS::AccountId']}:"
            f"{self.physical_name(logical_id)}",
        )

    def assign_local_arns(self) -> None:
        """The ARNs AWS would give the template's functions, queues, buses, rules and log groups, as moto
        gives them locally (``!GetAtt X.Arn`` then resolves before, and to the same value as, provisioning)."""
        region, account = self.pseudo["AWS::Region"], self.pseudo["AWS::AccountId"]
        for logical_id, _ in self._of_type("AWS::Serverless::Function"):
            self.local_values.setdefault(f"{logical_id}.Arn", self.function_arn(logical_id))
        for queue in self.queues():
            self.local_values.setdefault(
                f"{queue.logical_id}.Arn", f"arn:aws:sqs:{region}:{account}:{queue.name}"
            )
            self.local_values.setdefault(f"{queue.logical_id}.QueueName", queue.name)
        for logical_id, name in self.event_buses().items():
            self.local_values.setdefault(
                f"{logical_id}.Arn", f"arn:aws:events:{region}:{account}:event-bus/{name}"
            )
            self.local_values.setdefault(f"{logical_id}.Name", name)
        for logical_id, name in self.log_groups().items():
            self.local_values.setdefault(
                f"{logical_id}.Arn", f"arn:aws:logs:{region}:{account}:log-group:{name}:*"
            )
        for rule in self.rules():
            bus = "" if rule.event_bus == "default" else f"{rule.event_bus}/"
            self.local_values.setdefault(
                f"{rule.logical_id}.Arn", f"arn:aws:events:{region}:{account}:rule/{bus}{rule.name}"
            )

    def _of_type(self, resource_type: str) -> list[tuple[str, dict[str, Any]]]:
        return [
            (logical_id, resource)
            for logical_id, resource in self.resources.items()
            if resource.get("Type") == resource_type
            and ("Condition" not in resource or self.condition(resource["Condition"]))
        ]

    def queues(self) -> list[QueueSpec]:
        specs = []
        for logical_id, resource in self._of_type("AWS::SQS::Queue"):
            properties = resource.get("Properties", {})
            if "QueueName" in properties:
                name = str(self.resolve(properties["QueueName"]))
            else:  # CloudFormation's generated name: stack-logicalId-suffix
                suffix = (
                    ".fifo" if str(self.resolve(properties.get("FifoQueue", False))).lower() == "true" else ""
                )
                name = f"{self.pseudo['AWS::StackName']}-{logical_id}{suffix}"
                self.local_values.setdefault(logical_id, name)
            specs.append(QueueSpec(logical_id, name, self.resolve(properties)))
        return specs

    def event_buses(self) -> dict[str, str]:
        """Event bus logical id -> name."""
        return {
            logical_id: self.physical_name(logical_id)
            for logical_id, _ in self._of_type("AWS::Events::EventBus")
        }

    def log_groups(self) -> dict[str, str]:
        """Log group logical id -> name."""
        return {
            logical_id: self.physical_name(logical_id)
            for logical_id, _ in self._of_type("AWS::Logs::LogGroup")
        }

    def _bus_name(self, value: Any) -> str:
        name = str(self.resolve(value)) if value is not None else "default"
        return name.rsplit("/", 1)[-1] if name.startswith("arn:") else name

    def rules(self) -> list[RuleSpec]:
        """Every EventBridge rule with an event pattern: function events, then ``AWS::Events::Rule`` resources."""
        rules: list[RuleSpec] = []
        functions = {
            self.function_arn(logical_id): logical_id
            for logical_id, _ in self._of_type("AWS::Serverless::Function")
        }
        for logical_id, resource in self._of_type("AWS::Serverless::Function"):
            for event_name, event in resource.get("Properties", {}).get("Events", {}).items():
                if event.get("Type") not in ("EventBridgeRule", "CloudWatchEvent"):
                    continue
                properties = event.get("Properties", {})
                dead_letter = self.resolve(properties.get("DeadLetterConfig", {})) or {}
                dead_letter_arn = dead_letter.get("Arn")
                if dead_letter.get("QueueLogicalId") in self.resources:
                    dead_letter_arn = self.queue_arn(dead_letter["QueueLogicalId"])
                target = RuleTarget(
                    id=str(
                        self.resolve(
                            properties.get("Target", {}).get("Id", f"{logical_id}{event_name}LambdaTarget")
                        )
                    ),
                    arn=self.function_arn(logical_id),
                    function=logical_id,
                    input=self.resolve(properties.get("Input")),
                    input_path=self.resolve(properties.get("InputPath")),
                    input_transformer=self.resolve(properties.get("InputTransformer")),
                    retry_policy=self.resolve(properties.get("RetryPolicy")),
                    dead_letter_arn=dead_letter_arn,
                )
                state = str(self.resolve(properties.get("State", "ENABLED")))
                rules.append(
                    RuleSpec(
                        logical_id=f"{logical_id}{event_name}",
                        name=str(self.resolve(properties.get("RuleName", f"{logical_id}-{event_name}")))[:64],
                        event_bus=self._bus_name(properties.get("EventBusName")),
                        pattern=self.resolve(properties.get("Pattern", {})),
                        targets=(target,),
                        enabled=state == "ENABLED",
                    )
                )
        for logical_id, resource in self._of_type("AWS::Events::Rule"):
            properties = resource.get("Properties", {})
            if "EventPattern" not in properties:
                continue  # a schedule: run it with POST /_local/jobs
            targets = []
            for target in properties.get("Targets", []):
                arn = str(self.resolve(target["Arn"]))
                function = None
                if isinstance(target["Arn"], dict) and "Fn::GetAtt" in target["Arn"]:
                    referenced = target["Arn"]["Fn::GetAtt"][0]
                    if self.resources.get(referenced, {}).get("Type") == "AWS::Serverless::Function":
                        function, arn = referenced, self.function_arn(referenced)
                function = function or functions.get(arn)
                targets.append(
                    RuleTarget(
                        id=str(self.resolve(target["Id"])),
                        arn=arn,
                        function=function,
                        input=self.resolve(target.get("Input")),
                        input_path=self.resolve(target.get("InputPath")),
                        input_transformer=self.resolve(target.get("InputTransformer")),
                        retry_policy=self.resolve(target.get("RetryPolicy")),
                        dead_letter_arn=(self.resolve(target.get("DeadLetterConfig", {})) or {}).get("Arn"),
                    )
                )
            pattern = self.resolve(properties["EventPattern"])
            rules.append(
                RuleSpec(
                    logical_id=logical_id,
                    name=str(self.resolve(properties.get("Name", logical_id))),
                    event_bus=self._bus_name(properties.get("EventBusName")),
                    pattern=json.loads(pattern) if isinstance(pattern, str) else pattern,
                    targets=tuple(targets),
                    enabled=str(self.resolve(properties.get("State", "ENABLED"))) == "ENABLED",
                )
            )
        return rules

    def sqs_mappings(self) -> list[SqsMapping]:
        return [mapping for spec in self.functions().values() for mapping in spec.sqs_mappings]

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
