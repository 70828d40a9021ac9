"""template.yaml is the single source of truth: functions, routes, events and log groups must agree with it."""

import json
import re
from pathlib import Path

import pytest

from local.openapi import load_function_module
from local.template import PROJECT_ROOT, load_template

TEMPLATE = load_template()
FUNCTIONS = TEMPLATE.functions()


def resolver_routes(logical_id: str) -> set[tuple[str, str]]:
    app = load_function_module(TEMPLATE, logical_id).app
    schema = app.get_openapi_schema()
    return {
        (method.upper(), path)
        for path, item in schema.paths.items()
        for method in item.model_dump(exclude_none=True)
        if method in {"get", "put", "post", "delete", "patch"}
    }


@pytest.mark.parametrize("logical_id", [f for f, spec in FUNCTIONS.items() if spec.routes])
def test_template_routes_are_exactly_the_resolver_routes(logical_id):
    declared = {(route.method, route.path) for route in FUNCTIONS[logical_id].routes}
    assert resolver_routes(logical_id) == declared


def test_every_function_folder_is_deployed_and_every_deployed_function_has_a_folder():
    folders = {path.name for path in (PROJECT_ROOT / "functions").iterdir() if (path / "app.py").exists()}
    assert folders == {spec.code_dir.name for spec in FUNCTIONS.values()}


def test_every_function_has_its_own_log_group_with_retention():
    groups = [
        resource["Properties"]
        for resource in TEMPLATE.resources.values()
        if resource["Type"] == "AWS::Logs::LogGroup"
    ]
    named = {group["LogGroupName"]["Fn::Sub"] for group in groups}
    for logical_id in FUNCTIONS:
        assert f"/aws/lambda/${{{logical_id}}}" in named
    assert all("RetentionInDays" in group for group in groups)


def test_private_routes_are_authorized_and_public_routes_are_under_pub_or_hook():
    # /v1/hook/ routes are called by other systems (a strategy's signal source, Telegram), which authenticate
    # with a secret of their own instead of a user's token.
    for route in TEMPLATE.routes():
        assert route.public == route.path.startswith(("/v1/pub/", "/v1/hook/")), route


def test_every_route_has_a_ready_event_with_claims_when_private():
    events = [json.loads(path.read_text()) for path in (PROJECT_ROOT / "events").glob("*.json")]
    api_events = [event for event in events if "httpMethod" in event]
    covered = {(event["httpMethod"], event["resource"]) for event in api_events}
    assert covered >= {(route.method, route.path) for route in TEMPLATE.routes()}
    for event in api_events:
        claims = (event["requestContext"].get("authorizer") or {}).get("claims")
        assert bool(claims and claims.get("sub")) == event["resource"].startswith("/v1/priv/"), event[
            "resource"
        ]
        assert re.fullmatch(r"/v1/(pub|priv|hook)/.*", event["resource"])
        context = event["requestContext"]
        assert {"requestTime", "extendedRequestId", "resourceId", "requestTimeEpoch"} <= set(context)
        identity = set(context["identity"])
        assert {"sourceIp", "userAgent", "cognitoIdentityId", "userArn", "accessKey"} <= identity
        if claims:  # the Cognito ID token's claim set, as API Gateway passes it on: strings
            assert {"sub", "email", "email_verified", "cognito:username", "aud", "iss"} <= set(claims)
            assert {"token_use", "auth_time", "iat", "exp", "event_id", "origin_jti", "jti"} <= set(claims)
            assert all(isinstance(value, str) for value in claims.values())
    # And they are what `python -m local events` writes from local/event_files.py, the one place they come from.
    from local.event_files import write_events

    assert write_events(check=True) == []


def test_function_code_imports_only_the_layers():
    # Functions reach shared code through the core layer, never by relative paths or copies.
    for spec in FUNCTIONS.values():
        source = Path(spec.code_dir / "app.py").read_text()
        assert "sys.path" not in source
        assert "../" not in source


def test_every_write_route_needs_recaptcha_in_prod_or_is_machine_facing():
    """Every function serving a POST, PUT or DELETE for the web app may read the reCAPTCHA secret; the
    exempt routes are exactly the machine-facing ones."""
    from core.api.recaptcha import CHECKED_METHODS, MACHINE_RESOURCES

    policy = {"Fn::If": ["HasRecaptchaSecret", {"Ref": "RecaptchaSecretReadPolicy"}, {"Ref": "AWS::NoValue"}]}
    writes = {
        (logical_id, route.path)
        for logical_id, spec in FUNCTIONS.items()
        for route in spec.routes
        if route.method in CHECKED_METHODS
    }
    assert {path for _, path in writes} >= MACHINE_RESOURCES
    for logical_id, path in writes:
        if path in MACHINE_RESOURCES:
            continue
        policies = TEMPLATE.document["Resources"][logical_id]["Properties"]["Policies"]
        assert policy in policies, logical_id
    environment = TEMPLATE.document["Globals"]["Function"]["Environment"]["Variables"]
    assert environment["RECAPTCHA_REQUIRED"] == {"Fn::If": ["RecaptchaRequired", "true", "false"]}
    assert TEMPLATE.document["Conditions"]["RecaptchaRequired"]["Fn::Or"][0] == {"Fn::Condition": "IsProd"}


def test_every_scheduled_or_queued_function_has_a_dead_letter_queue_with_an_alarm():
    resources = TEMPLATE.document["Resources"]
    alarmed = {
        json.dumps(resource["Properties"]["Dimensions"][0]["Value"])
        for resource in resources.values()
        if resource["Type"] == "AWS::CloudWatch::Alarm"
        and resource["Properties"].get("Namespace") == "AWS/SQS"
    }
    for logical_id, resource in resources.items():
        if resource["Type"] != "AWS::Serverless::Function":
            continue
        events = (resource["Properties"].get("Events") or {}).values()
        kinds = {event["Type"] for event in events}
        dead_letters = []
        if kinds & {"Schedule", "ScheduleV2", "EventBridgeRule", "CloudWatchEvent"}:
            destination = resource["Properties"]["EventInvokeConfig"]["DestinationConfig"]["OnFailure"]
            dead_letters.append(destination["Destination"]["Fn::GetAtt"][0])
        for event in events:
            if event["Type"] == "SQS":
                queue = resources[event["Properties"]["Queue"]["Fn::GetAtt"][0]]
                dead_letters.append(
                    queue["Properties"]["RedrivePolicy"]["deadLetterTargetArn"]["Fn::GetAtt"][0]
                )
        for queue_id in dead_letters:
            assert json.dumps({"Fn::GetAtt": [queue_id, "QueueName"]}) in alarmed, (logical_id, queue_id)


def test_samconfig_default_deploys_exactly_the_dev_environment_and_prod_its_own_stack():
    import tomllib

    config = tomllib.loads((PROJECT_ROOT / "samconfig.toml").read_text())
    assert config["default"]["deploy"] == config["dev"]["deploy"]
    assert config["prod"]["deploy"]["parameters"]["stack_name"] == "trading-api-prod"
    assert "Stage=prod" in config["prod"]["deploy"]["parameters"]["parameter_overrides"]
    for environment in ("default", "dev", "prod"):
        stage = "prod" if environment == "prod" else "dev"
        parameters = config[environment]["deploy"]["parameters"]
        assert parameters["stack_name"] == f"trading-api-{stage}"
        assert f"Stage={stage}" in parameters["parameter_overrides"]


def test_prod_refuses_to_deploy_without_what_it_cannot_run_without():
    rules = TEMPLATE.document["Rules"]
    assert rules["ProdHasItsSettings"]["RuleCondition"] == {"Fn::Equals": [{"Ref": "Stage"}, "prod"]}
    asserted = json.dumps(rules["ProdHasItsSettings"]["Assertions"])
    for parameter in ("StripeSecretArn", "EgressIps", "ExchangeSubnetIds", "CorsAllowOrigin"):
        assert parameter in asserted
    assert "RecaptchaSecretArn" in json.dumps(rules["RecaptchaNeedsItsSecret"])


# What pages the on-call: a follower's order not processed, the monitor not running, a trade left unprotected.
MONEY_PATH_ALARMS = {
    "StrategyFanOutDeadLetterAlarm",
    "TradeMonitorFailedRunsAlarm",
    "CompensationFailedAlarm",
    "TradeRepairedAlarm",
}


def test_money_path_alarms_page_and_every_other_alarm_goes_to_operations():
    alarms = {
        logical_id: resource["Properties"]["AlarmActions"]
        for logical_id, resource in TEMPLATE.document["Resources"].items()
        if resource["Type"] == "AWS::CloudWatch::Alarm"
    }
    assert set(alarms) >= MONEY_PATH_ALARMS
    for logical_id, actions in alarms.items():
        topic = "MoneyPathAlarmTopic" if logical_id in MONEY_PATH_ALARMS else "OperationsAlarmTopic"
        assert actions == [{"Ref": topic}], logical_id
