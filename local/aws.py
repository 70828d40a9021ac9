"""AWS for the local stack: moto in server mode, with the template's tables, user pool and keys."""

from __future__ import annotations

import contextlib
import json
import logging
import os
import secrets
import threading
from dataclasses import dataclass
from typing import Any

from local.template import Template, create_table_request

REGION = "us-east-1"
# moto accepts any credentials; fixed fake ones keep boto3 from looking for real ones.
FAKE_CREDENTIALS = {
    "AWS_ACCESS_KEY_ID": "testing",
    "AWS_SECRET_ACCESS_KEY": "testing",
    "AWS_SESSION_TOKEN": "testing",
    "AWS_DEFAULT_REGION": REGION,
    "AWS_REGION": REGION,
}


@dataclass
class LocalAws:
    endpoint_url: str
    user_pool_id: str
    user_pool_client_id: str
    server: Any | None = None

    @property
    def environment(self) -> dict[str, str]:
        """What a process needs so that every boto3/pynamodb client talks to this moto server."""
        return {**FAKE_CREDENTIALS, "AWS_ENDPOINT_URL": self.endpoint_url}

    @property
    def issuer(self) -> str:
        return f"https://cognito-idp.{REGION}.amazonaws.com/{self.user_pool_id}"

    @property
    def jwks_url(self) -> str:
        return f"{self.endpoint_url}/{self.user_pool_id}/.well-known/jwks.json"

    def client(self, service: str) -> Any:
        import boto3

        return boto3.client(
            service,
            endpoint_url=self.endpoint_url,
            region_name=REGION,
            aws_access_key_id="testing",
            aws_secret_access_key="testing",
            aws_session_token="testing",
        )

    def stop(self) -> None:
        if self.server is not None:
            self.server.stop()


_DYNAMODB_WRITES = ("put_item", "update_item", "delete_item", "transact_write_items", "batch_write_item")
_dynamodb_lock = threading.RLock()


def serialize_dynamodb_writes() -> None:
    """Gives moto's DynamoDB the atomicity the real one guarantees.

    DynamoDB applies a conditional write, and a whole transaction, atomically; moto checks the
    condition and then writes without a lock, so two threads can both pass a check that only one may
    pass (two creates taking the last key slot). One lock around moto's writes restores what the code
    relies on, so concurrency tests test the code, not moto's races.
    """
    from moto.dynamodb.models import DynamoDBBackend

    for name in _DYNAMODB_WRITES:
        original = getattr(DynamoDBBackend, name)
        if getattr(original, "_serialized", False):
            continue

        def serialized(self: Any, *args: Any, __original: Any = original, **kwargs: Any) -> Any:
            with _dynamodb_lock:
                return __original(self, *args, **kwargs)

        serialized._serialized = True  # type: ignore[attr-defined]
        setattr(DynamoDBBackend, name, serialized)


def start_moto(host: str = "127.0.0.1", port: int = 0) -> tuple[Any, str]:
    from moto.server import ThreadedMotoServer

    serialize_dynamodb_writes()
    logging.getLogger("werkzeug").setLevel(logging.ERROR)
    server = ThreadedMotoServer(ip_address=host, port=port, verbose=False)
    server.start()
    bound_host, bound_port = server.get_host_and_port()
    return server, f"http://{bound_host}:{bound_port}"


def provision(template: Template, endpoint_url: str, server: Any | None = None) -> LocalAws:
    """Creates what the template declares: tables, the user pool and its client, the KMS key."""
    aws = LocalAws(endpoint_url=endpoint_url, user_pool_id="", user_pool_client_id="", server=server)
    dynamodb = aws.client("dynamodb")
    for table in template.tables():
        dynamodb.create_table(**create_table_request(table))
        template.local_values[f"{table.logical_id}.Arn"] = (
            f"arn:aws:dynamodb:{REGION}:123456789012:table/{table.name}"
        )

    pool_properties = template.resolve(template.resources["UserPool"]["Properties"])
    cognito = aws.client("cognito-idp")
    pool = cognito.create_user_pool(
        PoolName=pool_properties["UserPoolName"],
        UsernameAttributes=pool_properties.get("UsernameAttributes", ["email"]),
        AutoVerifiedAttributes=pool_properties.get("AutoVerifiedAttributes", []),
    )["UserPool"]
    client_properties = template.resolve(template.resources["UserPoolClient"]["Properties"])
    client = cognito.create_user_pool_client(
        UserPoolId=pool["Id"],
        ClientName=client_properties["ClientName"],
        GenerateSecret=False,
        # The local token route signs in with a password; the deployed client allows SRP only.
        ExplicitAuthFlows=[*client_properties.get("ExplicitAuthFlows", []), "ALLOW_USER_PASSWORD_AUTH"],
    )["UserPoolClient"]
    aws.user_pool_id, aws.user_pool_client_id = pool["Id"], client["ClientId"]
    template.local_values.update(
        {"UserPool": pool["Id"], "UserPoolClient": client["ClientId"], "UserPool.Arn": pool["Arn"]}
    )

    for logical_id, resource in template.resources.items():
        if resource.get("Type") == "AWS::KMS::Key":
            key = aws.client("kms").create_key(Description=logical_id)["KeyMetadata"]
            template.local_values.update({logical_id: key["KeyId"], f"{logical_id}.Arn": key["Arn"]})
        elif resource.get("Type") == "AWS::SecretsManager::Secret":
            # A generated secret (GenerateSecretString), as CloudFormation creates it; Ref is its ARN.
            secret = aws.client("secretsmanager").create_secret(
                Name=f"{template.pseudo['AWS::StackName']}-{logical_id}",
                SecretString=secrets.token_urlsafe(36),
            )
            template.local_values.update({logical_id: secret["ARN"]})
    provision_messaging(template, aws.client)
    return aws


def provision_messaging(template: Template, client: Any) -> None:
    """Creates the template's log groups, event buses and queues (each queue's redrive policy once its
    dead-letter queue exists). ``client(service)`` returns a boto3 client: the local moto server's, or
    plain ``boto3.client`` inside ``mock_aws``. The rules and their delivery are ``local.messaging``'s."""
    template.assign_local_arns()
    logs = client("logs")
    for name in sorted(set(template.log_groups().values())):
        with contextlib.suppress(logs.exceptions.ResourceAlreadyExistsException):
            logs.create_log_group(logGroupName=name)
    events = client("events")
    for name in template.event_buses().values():
        if name != "default":
            with contextlib.suppress(events.exceptions.ResourceAlreadyExistsException):
                events.create_event_bus(Name=name)
    sqs = client("sqs")
    queues = template.queues()
    for queue in queues:
        attributes = {
            key: _queue_attribute(value)
            for key, value in queue.properties.items()
            if key in _QUEUE_ATTRIBUTES and value is not None
        }
        url = sqs.create_queue(QueueName=queue.name, Attributes=attributes)["QueueUrl"]
        # Ref of a queue is its URL, as is its QueueUrl attribute.
        template.local_values.update({queue.logical_id: url, f"{queue.logical_id}.QueueUrl": url})
    for queue in queues:
        if queue.properties.get("RedrivePolicy"):
            sqs.set_queue_attributes(
                QueueUrl=template.local_values[queue.logical_id],
                Attributes={"RedrivePolicy": _queue_attribute(queue.properties["RedrivePolicy"])},
            )


# The AWS::SQS::Queue properties that are queue attributes of the same name.
_QUEUE_ATTRIBUTES = {
    "ContentBasedDeduplication",
    "DeduplicationScope",
    "DelaySeconds",
    "FifoQueue",
    "FifoThroughputLimit",
    "MaximumMessageSize",
    "MessageRetentionPeriod",
    "ReceiveMessageWaitTimeSeconds",
    "VisibilityTimeout",
}


def _queue_attribute(value: Any) -> str:
    if isinstance(value, dict):
        return json.dumps(value)
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def apply_environment(environment: dict[str, str]) -> None:
    os.environ.update(environment)
