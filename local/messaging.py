"""EventBridge rules and SQS event source mappings, run locally as AWS runs them.

Rules: each rule of the template (a function's ``EventBridgeRule`` event or an ``AWS::Events::Rule``) is
created in moto on its bus with its pattern, so moto (EventBridge's pattern matching) decides what
matches. Targets moto delivers itself (CloudWatch Logs, SQS, another bus) are given to it as they are;
a function target becomes a "tap" SQS queue, polled here: each event it receives is handed to the
function as Lambda's asynchronous invocation does (the EventBridge envelope, retried on error by the
function's ``EventInvokeConfig``, then its on-failure destination or dead-letter queue).

SQS event source mappings: one poller per mapping receives up to ``BatchSize`` messages (gathering for
up to ``MaximumBatchingWindowInSeconds``), invokes the function with the SQS event, deletes what
succeeded (``batchItemFailures`` honoured with ``ReportBatchItemFailures``; an error fails the whole
batch) and leaves the rest to moto: visible again after the queue's visibility timeout, moved to the
dead-letter queue after ``maxReceiveCount`` receives. Batches run concurrently up to the function's
pool size (or the mapping's ``ScalingConfig.MaximumConcurrency``), as Lambda scales its pollers.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import logging
import threading
import time
import uuid
from collections.abc import Callable, Iterable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from local.events import eventbridge_event, sqs_event
from local.template import RuleSpec, RuleTarget, SqsMapping, Template

logger = logging.getLogger("local.messaging")

# Lambda retries a failed asynchronous invocation after about one minute, then two; locally, seconds.
ASYNC_RETRY_DELAYS = (1.0, 2.0)
DEFAULT_ASYNC_RETRIES = 2
DEFAULT_EVENT_AGE_SECONDS = 6 * 3600
# How long one receive waits for messages (SQS long polling); also how quickly pollers notice stop().
POLL_SECONDS = 1
TAP_PREFIX = "local-tap-"
WHOLE_EVENT = {"InputTemplate": "<aws.events.event.json>"}


def _tap_name(rule: RuleSpec, target: RuleTarget) -> str:
    digest = hashlib.sha256(f"{rule.event_bus}/{rule.name}/{target.id}".encode()).hexdigest()[:10]
    readable = "".join(c if c.isalnum() or c in "-_" else "-" for c in f"{rule.name}-{target.id}")
    return f"{TAP_PREFIX}{readable[: 80 - len(TAP_PREFIX) - 11]}-{digest}"


@dataclass
class _Tap:
    rule: RuleSpec
    target: RuleTarget
    queue_url: str


class _Activity:
    """In-flight work (received batches, pending async invocations) and a counter of every change."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._busy: dict[str, int] = {}
        self.changes = 0

    def begin(self, key: str) -> None:
        with self._lock:
            self._busy[key] = self._busy.get(key, 0) + 1
            self.changes += 1

    def end(self, key: str) -> None:
        with self._lock:
            self._busy[key] -= 1
            self.changes += 1

    def busy(self, keys: Iterable[str]) -> bool:
        with self._lock:
            return any(self._busy.get(key, 0) for key in keys)


class LocalMessaging:
    """The template's rules and SQS event source mappings, delivering to the stack's function pools."""

    def __init__(
        self,
        template: Template,
        client: Callable[[str], Any],
        pools: dict[str, Any],
        *,
        async_retry_delays: tuple[float, ...] = ASYNC_RETRY_DELAYS,
    ) -> None:
        self.template = template
        self._client = client
        self.pools = pools
        self.async_retry_delays = async_retry_delays
        self.account = str(template.pseudo["AWS::AccountId"])
        self.region = str(template.pseudo["AWS::Region"])
        self.taps: list[_Tap] = []
        self.mappings: list[SqsMapping] = []
        self._stopping = threading.Event()
        self._threads: list[threading.Thread] = []
        self._executors: list[ThreadPoolExecutor] = []
        self._activity = _Activity()
        self._local = threading.local()

    def client(self, service: str) -> Any:
        """A boto3 client per thread (clients are not meant to be shared across threads)."""
        clients = self._local.__dict__.setdefault("clients", {})
        if service not in clients:
            clients[service] = self._client(service)
        return clients[service]

    # ---------------------------------------------------------------- lifecycle
    def start(self) -> None:
        for rule in self.template.rules():
            self._create_rule(rule)
        for tap in self.taps:
            self._spawn(f"tap-{tap.rule.name}-{tap.target.id}", self._poll_tap, tap)
        self.mappings = [mapping for mapping in self.template.sqs_mappings() if mapping.enabled]
        queues = {queue.logical_id: queue for queue in self.template.queues()}
        for mapping in self.mappings:
            pool = self.pools.get(mapping.function)
            if pool is None:
                continue
            visibility = (
                int(queues[mapping.queue].properties.get("VisibilityTimeout", 30))
                if mapping.queue in queues
                else 30
            )
            if visibility < pool.spec.timeout:
                # Lambda refuses this mapping at deploy: a batch could reappear while it is still processed.
                logger.warning(
                    "%s: queue %s's visibility timeout (%d s) is shorter than the function's timeout (%d s);"
                    " AWS refuses this event source mapping",
                    mapping.name,
                    mapping.queue,
                    visibility,
                    pool.spec.timeout,
                )
            self._spawn(f"sqs-{mapping.name}", self._poll_mapping, mapping)

    def stop(self) -> None:
        self._stopping.set()
        for thread in self._threads:
            thread.join(timeout=POLL_SECONDS + 5)
        for executor in self._executors:
            executor.shutdown(wait=False, cancel_futures=True)

    def _spawn(self, name: str, target: Callable[..., None], *args: Any) -> None:
        thread = threading.Thread(target=target, args=args, name=name, daemon=True)
        thread.start()
        self._threads.append(thread)

    def _executor(self, workers: int, name: str) -> ThreadPoolExecutor:
        executor = ThreadPoolExecutor(max_workers=workers, thread_name_prefix=name)
        self._executors.append(executor)
        return executor

    # ---------------------------------------------------------------- rules
    def _create_rule(self, rule: RuleSpec) -> None:
        events, sqs = self.client("events"), self.client("sqs")
        events.put_rule(
            Name=rule.name,
            EventBusName=rule.event_bus,
            EventPattern=json.dumps(rule.pattern),
            State="ENABLED" if rule.enabled else "DISABLED",
        )
        targets = []
        for target in rule.targets:
            entry: dict[str, Any] = {"Id": target.id}
            if target.function is not None:
                name = _tap_name(rule, target)
                url = sqs.create_queue(QueueName=name)["QueueUrl"]
                arn = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])["Attributes"][
                    "QueueArn"
                ]
                self.taps.append(_Tap(rule, target, url))
                entry["Arn"] = arn
            elif target.arn.split(":")[2:3] in (["logs"], ["sqs"], ["events"]):
                # A log group's ARN from !GetAtt ends in ":*"; EventBridge takes it with or without.
                entry["Arn"] = target.arn.removesuffix(":*")
                if target.input is not None:
                    logger.warning("rule %s: Input on target %s is not applied locally", rule.name, target.id)
            else:
                logger.warning(
                    "rule %s: target %s (%s) is not delivered locally", rule.name, target.id, target.arn
                )
                continue
            # moto's default input template drops ``account``; this one passes the whole event, as AWS does.
            entry["InputTransformer"] = target.input_transformer or WHOLE_EVENT
            targets.append(entry)
        # moto delivers to a disabled rule's targets too; EventBridge does not.
        if targets and rule.enabled:
            events.put_targets(Rule=rule.name, EventBusName=rule.event_bus, Targets=targets)

    def _poll_tap(self, tap: _Tap) -> None:
        assert tap.target.function is not None
        executor = self._executor(16, f"async-{tap.target.function}")
        while not self._stopping.is_set():
            try:
                self._forward_tap(tap, executor)
            except Exception:
                if not self._stopping.is_set():
                    logger.exception("rule %s: polling its tap for %s", tap.rule.name, tap.target.id)
                    self._stopping.wait(POLL_SECONDS)

    def _forward_tap(self, tap: _Tap, executor: ThreadPoolExecutor) -> None:
        messages = self._receive(tap.queue_url, 10, POLL_SECONDS)
        for message in messages:
            payload = self._target_input(tap.target, json.loads(message["Body"]))
            # Lambda has accepted the event: it is now in its asynchronous queue, not EventBridge's.
            self._activity.begin(tap.queue_url)
            executor.submit(self._invoke_async, tap, payload, time.monotonic())
        if messages:
            self.client("sqs").delete_message_batch(
                QueueUrl=tap.queue_url,
                Entries=[{"Id": str(i), "ReceiptHandle": m["ReceiptHandle"]} for i, m in enumerate(messages)],
            )

    def _target_input(self, target: RuleTarget, delivered: Any) -> Any:
        if target.input is not None:
            return json.loads(target.input)
        if target.input_transformer:
            return delivered  # moto applied it
        event: Any = eventbridge_event(delivered, self.account)
        if target.input_path:
            for segment in target.input_path.removeprefix("$").strip(".").split("."):
                if segment:
                    event = event.get(segment) if isinstance(event, dict) else None
        return event

    def _invoke_async(self, tap: _Tap, event: Any, accepted: float) -> None:
        """Lambda's asynchronous invocation: retried on error, then to the failure destination."""
        function = tap.target.function
        assert function is not None
        try:
            pool = self.pools.get(function)
            if pool is None:
                self._undeliverable(tap, event, f"function {function} is not running")
                return
            config = pool.spec.event_invoke_config
            retries = int(config.get("MaximumRetryAttempts", DEFAULT_ASYNC_RETRIES))
            max_age = float(config.get("MaximumEventAgeInSeconds", DEFAULT_EVENT_AGE_SECONDS))
            request_id = str(uuid.uuid4())
            error, attempts, condition = "", 0, "RetriesExhausted"
            for attempt in range(retries + 1):
                if attempt:
                    delay = self.async_retry_delays[min(attempt, len(self.async_retry_delays)) - 1]
                    if time.monotonic() + delay - accepted > max_age:
                        condition = "EventAgeExceeded"
                        break
                    if self._stopping.wait(delay):
                        break
                attempts += 1
                try:
                    pool.invoke(event)
                    return
                except Exception as failure:
                    error = f"{type(failure).__name__}: {failure}"
                    logger.warning("%s: asynchronous invocation %d failed: %s", function, attempts, error)
            if not self._stopping.is_set():
                self._async_failure(pool.spec, event, request_id, attempts, error, condition)
        except Exception:
            logger.exception("delivering an event to %s", function)
        finally:
            self._activity.end(tap.queue_url)

    def _async_failure(
        self, spec: Any, event: Any, request_id: str, attempts: int, error: str, condition: str
    ) -> None:
        on_failure = spec.event_invoke_config.get("DestinationConfig", {}).get("OnFailure", {})
        destination = on_failure.get("Destination")
        if destination and on_failure.get("Type", "SQS") == "SQS":
            record = {
                "version": "1.0",
                "timestamp": datetime.now(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z"),
                "requestContext": {
                    "requestId": request_id,
                    "functionArn": f"{self.template.function_arn(spec.logical_id)}:$LATEST",
                    "condition": condition,
                    "approximateInvokeCount": attempts,
                },
                "requestPayload": event,
                "responseContext": {
                    "statusCode": 200,
                    "executedVersion": "$LATEST",
                    "functionError": "Unhandled",
                },
                "responsePayload": {"errorMessage": error},
            }
            self._send(destination, json.dumps(record))
            return
        dead_letter = spec.dead_letter_queue
        if dead_letter.get("TargetArn") and dead_letter.get("Type", "SQS") == "SQS":
            self._send(
                dead_letter["TargetArn"],
                json.dumps(event),
                {
                    "RequestID": {"DataType": "String", "StringValue": request_id},
                    "ErrorMessage": {"DataType": "String", "StringValue": error[:256] or "error"},
                },
            )
            return
        logger.error("%s: event dropped after %d attempts: %s", spec.logical_id, attempts, error)

    def _undeliverable(self, tap: _Tap, event: Any, reason: str) -> None:
        """EventBridge could not invoke the target at all: its dead-letter queue, if the rule has one."""
        if tap.target.dead_letter_arn:
            self._send(tap.target.dead_letter_arn, json.dumps(event))
        else:
            logger.error("rule %s: event not delivered to %s: %s", tap.rule.name, tap.target.id, reason)

    def _send(self, queue_arn: str, body: str, attributes: dict[str, Any] | None = None) -> None:
        sqs = self.client("sqs")
        name = queue_arn.rsplit(":", 1)[-1]
        url = sqs.get_queue_url(QueueName=name)["QueueUrl"]
        sqs.send_message(QueueUrl=url, MessageBody=body, MessageAttributes=attributes or {})

    # ---------------------------------------------------------------- SQS event source mappings
    def queue_url(self, logical_id: str) -> str:
        return self.client("sqs").get_queue_url(
            QueueName=self.template.queue_arn(logical_id).rsplit(":", 1)[-1]
        )["QueueUrl"]

    def _poll_mapping(self, mapping: SqsMapping) -> None:
        pool = self.pools[mapping.function]
        concurrency = mapping.maximum_concurrency or pool.max_workers
        slots = threading.Semaphore(concurrency)
        executor = self._executor(concurrency, f"sqs-{mapping.function}")
        try:
            queue_url = self.queue_url(mapping.queue)
        except Exception:
            logger.exception(
                "%s: queue %s is not in the local stack: not polled", mapping.name, mapping.queue
            )
            return
        queue_arn = self.template.queue_arn(mapping.queue)
        while not self._stopping.is_set():
            if not slots.acquire(timeout=POLL_SECONDS):
                continue
            try:
                batch = self._gather(queue_url, mapping)
            except Exception:
                slots.release()
                if not self._stopping.is_set():
                    logger.exception("%s: receiving from %s", mapping.name, mapping.queue)
                    self._stopping.wait(POLL_SECONDS)
                continue
            if not batch:
                slots.release()
                continue
            self._activity.begin(queue_url)
            executor.submit(self._process_batch, mapping, pool, queue_url, queue_arn, batch, slots)

    def _gather(self, queue_url: str, mapping: SqsMapping) -> list[dict[str, Any]]:
        """One batch: what the first receive returns, topped up until ``BatchSize`` or the batching window."""
        batch = {
            m["MessageId"]: m for m in self._receive(queue_url, min(10, mapping.batch_size), POLL_SECONDS)
        }
        if not batch or mapping.batching_window <= 0:
            return list(batch.values())
        deadline = time.monotonic() + mapping.batching_window
        while len(batch) < mapping.batch_size and not self._stopping.is_set():
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                break
            received = self._receive(queue_url, min(10, mapping.batch_size - len(batch)), int(remaining))
            if not received:
                time.sleep(min(0.05, remaining))
            # A message received again (its visibility timeout shorter than the window): its newest receipt.
            batch.update({m["MessageId"]: m for m in received})
        return list(batch.values())

    def _receive(self, queue_url: str, count: int, wait: float) -> list[dict[str, Any]]:
        return (
            self.client("sqs")
            .receive_message(
                QueueUrl=queue_url,
                MaxNumberOfMessages=count,
                WaitTimeSeconds=max(0, int(wait)),
                MessageSystemAttributeNames=["All"],
                MessageAttributeNames=["All"],
            )
            .get("Messages", [])
        )

    def _process_batch(
        self,
        mapping: SqsMapping,
        pool: Any,
        queue_url: str,
        queue_arn: str,
        batch: list[dict[str, Any]],
        slots: threading.Semaphore,
    ) -> None:
        try:
            event = sqs_event(batch, queue_arn, self.region)
            failed = self._invoke_batch(mapping, pool, event)
            done = [m for m in batch if m["MessageId"] not in failed]
            for start in range(0, len(done), 10):
                self.client("sqs").delete_message_batch(
                    QueueUrl=queue_url,
                    Entries=[
                        {"Id": str(i), "ReceiptHandle": m["ReceiptHandle"]}
                        for i, m in enumerate(done[start : start + 10])
                    ],
                )
        except Exception:
            logger.exception("%s: processing a batch", mapping.name)
        finally:
            self._activity.end(queue_url)
            slots.release()

    def _invoke_batch(self, mapping: SqsMapping, pool: Any, event: dict[str, Any]) -> set[str]:
        """The message ids that failed: all of them on an error, else those the response reports."""
        ids = {record["messageId"] for record in event["Records"]}
        try:
            response = pool.invoke(event)
        except Exception as error:
            logger.warning(
                "%s: batch of %d failed: %s: %s", mapping.name, len(ids), type(error).__name__, error
            )
            return ids
        if not mapping.report_batch_item_failures or not isinstance(response, dict):
            return set()
        failures = response.get("batchItemFailures") or []
        reported = {item.get("itemIdentifier") if isinstance(item, dict) else None for item in failures}
        if not reported <= ids:
            # Lambda treats a malformed or foreign itemIdentifier as the whole batch failing.
            logger.warning("%s: invalid batchItemFailures %r: the whole batch fails", mapping.name, failures)
            return ids
        return reported  # type: ignore[return-value]

    # ---------------------------------------------------------------- observation
    def _queues_of(self, functions: Iterable[str] | None) -> list[str]:
        wanted = None if functions is None else set(functions)
        urls = [tap.queue_url for tap in self.taps if wanted is None or tap.target.function in wanted]
        urls += [self.queue_url(m.queue) for m in self.mappings if wanted is None or m.function in wanted]
        return urls

    def _idle(self, urls: list[str]) -> bool:
        if self._activity.busy(urls):
            return False
        sqs = self.client("sqs")
        for url in urls:
            attributes = sqs.get_queue_attributes(
                QueueUrl=url,
                AttributeNames=[
                    "ApproximateNumberOfMessages",
                    "ApproximateNumberOfMessagesNotVisible",
                    "ApproximateNumberOfMessagesDelayed",
                ],
            )["Attributes"]
            if any(int(value) for value in attributes.values()):
                return False
        return not self._activity.busy(urls)

    def wait_until_idle(self, functions: Iterable[str] | None = None, timeout: float = 60.0) -> None:
        """Returns once the queues feeding ``functions`` (their SQS mappings and rule taps; all of them if
        None) are empty, nothing is in flight and no asynchronous invocation or retry is pending: every
        message was processed, or went to its dead-letter queue. ``TimeoutError`` after ``timeout``."""
        functions = None if functions is None else list(functions)
        urls = self._queues_of(functions)
        deadline = time.monotonic() + timeout
        while True:
            changes = self._activity.changes
            if self._idle(urls) and self._idle(urls) and changes == self._activity.changes:
                return
            if time.monotonic() > deadline:
                raise TimeoutError(f"queues of {functions or 'every function'} not drained in {timeout} s")
            time.sleep(0.05)

    def log_events(self, log_group: str) -> list[dict[str, Any]]:
        """What a log group received (an EventBridge target's events), oldest first, JSON messages parsed."""
        logs = self.client("logs")
        name = self.template.log_groups().get(log_group, log_group)
        events: list[dict[str, Any]] = []
        for page in logs.get_paginator("filter_log_events").paginate(logGroupName=name):
            events += page["events"]
        events.sort(key=lambda event: (event["timestamp"], event.get("ingestionTime", 0)))
        parsed = []
        for event in events:
            with contextlib.suppress(ValueError):
                message = json.loads(event["message"])
                if isinstance(message, dict):
                    message.pop("ingestion-time", None)
                parsed.append(message)
                continue
            parsed.append(event["message"])
        return parsed
