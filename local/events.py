"""API Gateway REST proxy events and Lambda contexts, shaped as AWS sends them."""

from __future__ import annotations

import base64
import time
import uuid
from dataclasses import dataclass, field
from typing import Any


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
) -> dict[str, Any]:
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
    request_context: dict[str, Any] = {
        "resourcePath": resource,
        "httpMethod": method,
        "path": f"/{stage}{path}",
        "stage": stage,
        "requestId": str(uuid.uuid4()),
        "requestTimeEpoch": int(time.time() * 1000),
        "accountId": "123456789012",
        "apiId": "local",
        "protocol": "HTTP/1.1",
        "domainName": headers.get("Host", "127.0.0.1"),
        "identity": {"sourceIp": source_ip, "userAgent": headers.get("User-Agent")},
    }
    if claims is not None:
        # API Gateway's Cognito authorizer hands claims over as strings.
        request_context["authorizer"] = {"claims": {key: str(value) for key, value in claims.items()}}
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
