"""API Gateway REST proxy events and Lambda contexts, shaped as AWS sends them."""

from __future__ import annotations

import base64
import hashlib
import time
import uuid
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

# The identity block of a REST API request that no IAM, Cognito identity pool or API key signed.
_IDENTITY_FIELDS = (
    "cognitoIdentityPoolId",
    "accountId",
    "cognitoIdentityId",
    "caller",
    "sourceIp",
    "principalOrgId",
    "accessKey",
    "cognitoAuthenticationType",
    "cognitoAuthenticationProvider",
    "userArn",
    "userAgent",
    "user",
)
# Cognito's numeric date claims that API Gateway's authorizer hands over as Java's Date.toString() in UTC
# ("Wed Dec 02 19:00:00 UTC 2026"); ``auth_time`` stays the epoch seconds, as a string.
_DATE_CLAIMS = frozenset({"exp", "iat"})
_DAYS = ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")
_MONTHS = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")


def authorizer_claims(claims: dict[str, Any]) -> dict[str, str]:
    """Verified ID-token claims as API Gateway's Cognito authorizer passes them on: every value a string."""
    passed: dict[str, str] = {}
    for name, value in claims.items():
        if name in _DATE_CLAIMS and isinstance(value, int | float) and not isinstance(value, bool):
            moment = datetime.fromtimestamp(value, tz=UTC)
            day, month = _DAYS[moment.weekday()], _MONTHS[moment.month - 1]
            passed[name] = f"{day} {month} {moment:%d %H:%M:%S} UTC {moment.year}"
        elif isinstance(value, bool):
            passed[name] = "true" if value else "false"
        else:
            passed[name] = str(value)
    return passed


def request_time(epoch_ms: int) -> str:
    """``requestContext.requestTime``: the CLF time of the request, e.g. "02/Dec/2026:18:00:00 +0000"."""
    moment = datetime.fromtimestamp(epoch_ms / 1000, tz=UTC)
    return f"{moment:%d}/{_MONTHS[moment.month - 1]}/{moment:%Y:%H:%M:%S} +0000"


def proxy_event(
    *,
    method: str,
    resource: str,
    path: str,
    path_parameters: dict[str, str] | None = None,
    query: dict[str, list[str]] | None = None,
    headers: dict[str, str] | None = None,
    body: bytes | str | None = None,
    claims: dict[str, Any] | None = None,
    stage: str = "local",
    source_ip: str = "127.0.0.1",
    request_id: str | None = None,
    request_time_epoch_ms: int | None = None,
) -> dict[str, Any]:
    """The event API Gateway's REST API (Lambda proxy integration) sends for one request. ``request_id`` and
    ``request_time_epoch_ms`` default to a new id and now; the ready events of ``events/`` fix them."""
    headers = dict(headers or {})
    query = query or {}
    is_base64 = False
    text: str | None
    if isinstance(body, bytes):
        try:
            text = body.decode("utf-8") if body else None
        except UnicodeDecodeError:
            text, is_base64 = base64.b64encode(body).decode("ascii"), True
    else:
        text = body or None
    request_id = request_id or str(uuid.uuid4())
    epoch_ms = int(time.time() * 1000) if request_time_epoch_ms is None else request_time_epoch_ms
    domain = header_value(headers, "Host") or "127.0.0.1"
    identity: dict[str, Any] = dict.fromkeys(_IDENTITY_FIELDS)
    identity.update(sourceIp=source_ip, userAgent=header_value(headers, "User-Agent"))
    request_context: dict[str, Any] = {
        "resourceId": _resource_id(resource),
        "resourcePath": resource,
        "httpMethod": method,
        "extendedRequestId": _extended_request_id(request_id),
        "requestTime": request_time(epoch_ms),
        "path": f"/{stage}{path}",
        "accountId": "123456789012",
        "protocol": "HTTP/1.1",
        "stage": stage,
        "domainPrefix": domain.split(".", 1)[0],
        "requestTimeEpoch": epoch_ms,
        "requestId": request_id,
        "identity": identity,
        "domainName": domain,
        "apiId": "local",
    }
    if claims is not None:
        request_context["authorizer"] = {"claims": authorizer_claims(claims)}
    return {
        "resource": resource,
        "path": path,
        "httpMethod": method,
        "headers": headers or None,
        "multiValueHeaders": {key: [value] for key, value in headers.items()} or None,
        "queryStringParameters": {key: values[-1] for key, values in query.items()} or None,
        "multiValueQueryStringParameters": query or None,
        "pathParameters": path_parameters or None,
        "stageVariables": None,
        "requestContext": request_context,
        "body": text,
        "isBase64Encoded": is_base64,
    }


def header_value(headers: dict[str, str], name: str) -> str | None:
    """A header's value whatever its case, as API Gateway and the authorizer read it."""
    return next((value for key, value in headers.items() if key.lower() == name.lower()), None)


def _resource_id(resource: str) -> str:
    """API Gateway's id of the resource (e.g. "2gxmpl"): short, the same for every request of a resource."""
    return hashlib.sha256(resource.encode()).hexdigest()[:6]


def _extended_request_id(request_id: str) -> str:
    """API Gateway's own id of the request (a short base64 text, e.g. "BQGojGNfoAMFfoQ="), per request."""
    return base64.b64encode(hashlib.sha256(request_id.encode()).digest()[:10]).decode("ascii")


@dataclass
class LocalLambdaContext:
    """What Powertools and handlers read from the Lambda context."""

    function_name: str
    timeout_seconds: int = 10
    memory_limit_in_mb: int = 256
    aws_request_id: str = field(default_factory=lambda: str(uuid.uuid4()))
    log_group_name: str = "local"
    log_stream_name: str = "local"
    _deadline: float = field(default=0.0, repr=False)

    def __post_init__(self) -> None:
        self._deadline = time.monotonic() + self.timeout_seconds
        self.invoked_function_arn = f"arn:aws:lambda:us-east-1:123456789012:function:{self.function_name}"
        self.function_version = "$LATEST"

    def get_remaining_time_in_millis(self) -> int:
        return max(0, int((self._deadline - time.monotonic()) * 1000))


# ---------------------------------------------------------------- SQS and EventBridge


def sqs_record(message: dict[str, Any], queue_arn: str, region: str = "us-east-1") -> dict[str, Any]:
    """One record of the event Lambda's SQS poller sends, from a boto3 ``receive_message`` message."""
    attributes = {key: str(value) for key, value in message.get("Attributes", {}).items()}
    message_attributes = {}
    for name, value in message.get("MessageAttributes", {}).items():
        binary = value.get("BinaryValue")
        message_attributes[name] = {
            "stringValue": value.get("StringValue"),
            "binaryValue": base64.b64encode(binary).decode("ascii") if binary is not None else None,
            "stringListValues": value.get("StringListValues", []),
            "binaryListValues": [
                base64.b64encode(b).decode("ascii") for b in value.get("BinaryListValues", [])
            ],
            "dataType": value["DataType"],
        }
    record: dict[str, Any] = {
        "messageId": message["MessageId"],
        "receiptHandle": message["ReceiptHandle"],
        "body": message["Body"],
        "attributes": attributes,
        "messageAttributes": message_attributes,
        "md5OfBody": message["MD5OfBody"],
        "eventSource": "aws:sqs",
        "eventSourceARN": queue_arn,
        "awsRegion": region,
    }
    if "MD5OfMessageAttributes" in message:
        record["md5OfMessageAttributes"] = message["MD5OfMessageAttributes"]
    return record


def sqs_event(messages: list[dict[str, Any]], queue_arn: str, region: str = "us-east-1") -> dict[str, Any]:
    return {"Records": [sqs_record(message, queue_arn, region) for message in messages]}


EVENTBRIDGE_ENVELOPE = (
    "version",
    "id",
    "detail-type",
    "source",
    "account",
    "time",
    "region",
    "resources",
    "detail",
)


def eventbridge_event(delivered: dict[str, Any], account: str) -> dict[str, Any]:
    """The event EventBridge sends a Lambda target, from what moto delivered to a tap queue (moto's default
    input template leaves out ``account``; its ``ingestion-time`` is not part of what AWS sends)."""
    event = {key: delivered[key] for key in EVENTBRIDGE_ENVELOPE if key in delivered}
    event.setdefault("version", "0")
    event.setdefault("account", account)
    event.setdefault("resources", [])
    return {key: event[key] for key in EVENTBRIDGE_ENVELOPE if key in event}
