"""The signal fan-out worker: SQS batches of (trigger, follower) messages, each placed once through the order
engine. One follower's failure never holds up another's: failed records are reported back to SQS
(partial batch failures), retried after the visibility timeout, then dead-lettered."""

from typing import Any

from aws_lambda_powertools.utilities.batch import BatchProcessor, EventType, process_partial_response
from aws_lambda_powertools.utilities.batch.types import PartialItemFailureResponse
from aws_lambda_powertools.utilities.data_classes.sqs_event import SQSRecord
from aws_lambda_powertools.utilities.typing import LambdaContext

from core import wiring
from core.models.signals import FanOutOrder
from core.observability import logger, metrics

processor = BatchProcessor(event_type=EventType.SQS)


def handle_record(record: SQSRecord) -> None:
    wiring.fan_out_worker().handle(FanOutOrder.model_validate_json(record.body))


@logger.inject_lambda_context(clear_state=True)
@metrics.log_metrics
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> PartialItemFailureResponse:
    return process_partial_response(
        event=event, record_handler=handle_record, processor=processor, context=context
    )
