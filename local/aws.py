"""AWS for the local stack: moto in server mode, with the template's tables, user pool and keys."""

from __future__ import annotations

import contextlib
import functools
import json
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
    """Gives moto's DynamoDB the atomicity the real one guarantees, at the real one's cost.

    DynamoDB applies a conditional write, and a whole transaction, atomically; moto checks the
    condition and then writes without a lock, so two threads can both pass a check that only one may
    pass (two creates taking the last key slot). One lock around moto's writes restores what the code
    relies on, so concurrency tests test the code, not moto's races.

    Under that lock, moto's TransactWriteItems deep-copies every table it touches to roll back a failed
    condition: with a table of a few thousand items, a key create's transaction took 80-500 ms (a plain
    put a few ms), and every other write waited for it. Transactions back up and restore only the items
    they name instead (``_item_level_rollback``); what a transaction does and answers is moto's own.
    """
    from moto.dynamodb.models import DynamoDBBackend

    _item_level_rollback()
    for name in _DYNAMODB_WRITES:
        original = getattr(DynamoDBBackend, name)
        if getattr(original, "_serialized", False):
            continue

        def serialized(self: Any, *args: Any, __original: Any = original, **kwargs: Any) -> Any:
            with _dynamodb_lock:
                return __original(self, *args, **kwargs)

        serialized._serialized = True  # type: ignore[attr-defined]
        setattr(DynamoDBBackend, name, serialized)


def _item_level_rollback() -> None:
    import copy

    from moto.dynamodb import models
    from moto.dynamodb.models.table import Table

    original = models.DynamoDBBackend.transact_write_items
    if getattr(original, "_item_level", False) or getattr(original, "_serialized", False):
        return  # patched already (the lock goes around this, never inside it)

    class _TablesNotCopied:
        """moto's ``copy`` for its DynamoDB models: tables are not copied (their backup is a no-op), items are."""

        @staticmethod
        def deepcopy(value: Any) -> Any:
            return value if isinstance(value, Table) else copy.deepcopy(value)

    models.copy = _TablesNotCopied  # type: ignore[assignment]

    def transact_write_items(self: Any, transact_items: list[dict[str, Any]]) -> None:
        backups = []
        for entry in transact_items:
            _, op = next(iter(entry.items()))
            name = op.get("TableName")
            if name not in self.tables:
                continue
            table = self.tables[name]
            key = op.get("Key")
            if key is None and "Item" in op:
                names = [table.hash_key_attr] + ([table.range_key_attr] if table.range_key_attr else [])
                key = {attribute: op["Item"][attribute] for attribute in names}
            if key is None:
                continue
            current = self.get_item(name, key)
            backups.append((name, key, None if current is None else current.to_json()["Attributes"]))
        try:
            original(self, transact_items)
        except Exception:
            for name, key, attributes in reversed(backups):
                if attributes is None:
                    if self.get_item(name, key) is not None:
                        self.delete_item(name, key)
                else:
                    self.put_item(name, attributes)
            raise

    transact_write_items._item_level = True  # type: ignore[attr-defined]
    models.DynamoDBBackend.transact_write_items = transact_write_items  # type: ignore[method-assign]


_GSI_INDEX = "_local_gsi_index"
_query_candidates = threading.local()


def indexed_gsi_queries() -> None:
    """moto answers a query on a global secondary index by sorting and testing every item of the table: on
    the local stack a 1,000-follower fan-out, whose followers each query an index a few times while the
    table grows by thousands of items, cost O(items) a query, O(followers^2) in all. DynamoDB reads only
    the index partition. This keeps, per table, the items of each index hash value, updated on every
    write (all of them pass through ``DynamoDBBackend.put_item``, ``update_item`` and ``delete_item``,
    transactions and batches included, under the writes' lock), and hands moto's own query only the
    items of the queried hash value: what a query answers is moto's own, only sooner. A query of the table
    itself (no index) is handed its partition's items the same way, for moto sorts the whole table for it."""
    from moto.dynamodb.models import DynamoDBBackend
    from moto.dynamodb.models.dynamo_type import DynamoType
    from moto.dynamodb.models.table import Table

    if getattr(Table.query, "_indexed", False):
        return
    original_query, original_all_items = Table.query, Table.all_items

    def place(index: dict[str, Any], key: tuple[Any, Any], item: Any) -> None:
        for attribute, value in index["by_key"].pop(key, {}).items():
            bucket = index["by_value"][attribute].get(value)
            if bucket is not None:
                bucket.pop(key, None)
        if item is None:
            return
        values = {a: item.attrs[a] for a in index["by_value"] if item.attrs.get(a) is not None}
        for attribute, value in values.items():
            index["by_value"][attribute].setdefault(value, {})[key] = item
        if values:
            index["by_key"][key] = values

    def index_of(table: Any) -> dict[str, Any]:
        index = table.__dict__.get(_GSI_INDEX)
        if index is None:
            attributes = {
                key["AttributeName"]
                for gsi in table.global_indexes
                for key in gsi.schema
                if key["KeyType"] == "HASH"
            }
            index = {"by_value": {a: {} for a in attributes}, "by_key": {}}
            for item in original_all_items(table):
                place(index, (item.hash_key, item.range_key), item)
            setattr(table, _GSI_INDEX, index)
        return index

    def reindex(backend: Any, table_name: str, key: dict[str, Any] | None) -> None:
        table = backend.tables.get(table_name)
        if table is None or _GSI_INDEX not in table.__dict__ or not key:
            return
        hash_value = DynamoType(key[table.hash_key_attr])
        range_value = DynamoType(key[table.range_key_attr]) if table.range_key_attr else None
        place(index_of(table), (hash_value, range_value), table.get_item(hash_value, range_value))

    def reindexed(name: str, key_of: Any) -> None:
        original = getattr(DynamoDBBackend, name)

        def write(self: Any, table_name: str, attributes: dict[str, Any], *args: Any, **kwargs: Any) -> Any:
            with _dynamodb_lock:
                try:
                    return original(self, table_name, attributes, *args, **kwargs)
                finally:
                    reindex(self, table_name, key_of(attributes))

        setattr(DynamoDBBackend, name, write)

    reindexed("put_item", lambda item: item)
    reindexed("update_item", lambda key: key)
    reindexed("delete_item", lambda key: key)

    def partition(self: Any, hash_key: Any) -> list[Any]:
        """A base-table query's candidates: the items of its partition (moto sorts every item)."""
        with _dynamodb_lock:
            found = self.items.get(hash_key)
            if found is None:
                return []
            return list(found.values()) if self.range_key_attr else [found]

    def query(self: Any, *args: Any, **kwargs: Any) -> Any:
        index_name = args[7] if len(args) > 7 else kwargs.get("index_name")
        if not index_name:
            hash_key = args[0] if args else kwargs.get("hash_key")
            if hash_key is None:
                return original_query(self, *args, **kwargs)
            items = partition(self, hash_key)
            _query_candidates.table, _query_candidates.items = self, items
            try:
                return original_query(self, *args, **kwargs)
            finally:
                _query_candidates.table = _query_candidates.items = None
        gsi = next((i for i in self.global_indexes if i.name == index_name), None)
        hashes = [k["AttributeName"] for k in gsi.schema if k["KeyType"] == "HASH"] if gsi else []
        conditions = dict(kwargs.get("hash_key_conditions") or [])
        value = conditions.get(hashes[0]) if len(hashes) == 1 else None
        if value is None:
            return original_query(self, *args, **kwargs)
        with _dynamodb_lock:
            items = list(index_of(self)["by_value"][hashes[0]].get(value, {}).values())
        items.sort(key=lambda x: (x.hash_key, x.range_key) if x.range_key else x.hash_key)
        _query_candidates.table, _query_candidates.items = self, items
        try:
            return original_query(self, *args, **kwargs)
        finally:
            _query_candidates.table = _query_candidates.items = None

    def all_items(self: Any) -> Any:
        if getattr(_query_candidates, "table", None) is self:
            return list(_query_candidates.items)
        return original_all_items(self)

    query._indexed = True  # type: ignore[attr-defined]
    Table.query = query  # type: ignore[method-assign]
    Table.all_items = all_items  # type: ignore[method-assign]


def sqs_sends_without_counting() -> None:
    """moto reads a queue's every attribute for each message sent (to learn whether it deduplicates by
    content), and three of them count the queue's messages one by one: sending a strategy's 1,000 orders
    into a queue that already holds a thousand took 43 s, O(messages) a send. While a message is sent or
    added, only that attribute is computed; everything else reads the attributes as moto has them."""
    from moto.sqs.models import Queue, SQSBackend

    if getattr(SQSBackend.send_message, "_uncounted", False):
        return
    full_attributes = Queue.attributes
    sending = threading.local()

    def attributes(self: Any) -> dict[str, Any]:
        if getattr(sending, "depth", 0):
            if not self.fifo_queue:
                return {}  # the key only FIFO queues have
            return {"ContentBasedDeduplication": str(bool(self.content_based_deduplication)).lower()}
        return full_attributes.fget(self)  # type: ignore[attr-defined]

    def while_sending(original: Any) -> Any:
        def send(*args: Any, **kwargs: Any) -> Any:
            sending.depth = getattr(sending, "depth", 0) + 1
            try:
                return original(*args, **kwargs)
            finally:
                sending.depth -= 1

        send._uncounted = True  # type: ignore[attr-defined]
        return send

    Queue.attributes = property(attributes)  # type: ignore[assignment, method-assign]
    SQSBackend.send_message = while_sending(SQSBackend.send_message)  # type: ignore[method-assign]
    Queue.add_message = while_sending(Queue.add_message)  # type: ignore[method-assign]


def sqs_receives_without_counting() -> None:
    """moto checks each message it hands out against the queue's retention period by reading every attribute
    of the queue, three of which count its messages one by one: a receive from a queue of a thousand orders
    went through it ten thousand times. The retention period is read as the queue holds it."""
    from moto.core.utils import unix_time
    from moto.sqs.models import Message, SQSBackend

    def is_message_valid_based_on_retention_period(self: Any, queue_name: str, message: Message) -> bool:
        retention = int(self.get_queue(queue_name).message_retention_period)
        return bool(retention + message.sent_timestamp / 1000 > unix_time())  # type: ignore[operator]

    SQSBackend.is_message_valid_based_on_retention_period = is_message_valid_based_on_retention_period  # type: ignore[method-assign]


def events_parse_paths_once() -> None:
    """moto's EventBridge builds a JSONPath parser (a yacc table) for every path of every event it delivers
    to a target: a tenth of moto's time in a fan-out whose orders each publish an event. A path parses to
    the same expression every time, so each is parsed once."""
    import jsonpath_ng.ext

    if hasattr(jsonpath_ng.ext.parse, "cache_info"):
        return
    jsonpath_ng.ext.parse = functools.lru_cache(maxsize=256)(jsonpath_ng.ext.parse)


def dispatch_without_rescanning() -> None:
    """moto's server finds each request's service under one global lock, and on the way lists its own
    package folder (a listdir and ~200 stats) for every request: measured, 31 s of a 200-follower fan-out
    spent there with every other request queued behind it. The folder does not change while it runs."""
    from moto import backends

    if getattr(backends.list_of_moto_modules, "_listed_once", False):
        return
    modules = tuple(backends.list_of_moto_modules())

    def list_of_moto_modules() -> tuple[str, ...]:
        return modules

    list_of_moto_modules._listed_once = True  # type: ignore[attr-defined]
    backends.list_of_moto_modules = list_of_moto_modules


def moto_as_aws() -> None:
    """moto's fidelity and speed fixes above, for a process that serves it (``local.moto_process``)."""
    serialize_dynamodb_writes()
    indexed_gsi_queries()
    sqs_sends_without_counting()
    sqs_receives_without_counting()
    events_parse_paths_once()
    dispatch_without_rescanning()


def start_moto(host: str = "127.0.0.1", port: int = 0) -> tuple[Any, str]:
    """moto in server mode, in a process of its own: the server (``stop()``) and its URL."""
    from local.moto_process import MotoProcess

    server = MotoProcess(host, port)
    return server, server.url


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
