"""The daily snapshot worker: SQS batches of one key each, within the snapshot's share of request weight.

A key whose snapshot fails is reported back to SQS (partial batch failures): retried after the visibility
timeout, then dead-lettered (an alarm watches the dead-letter queue). A batch's keys are read at once on
threads (``SNAPSHOT_CONCURRENCY``, ``core.sqs_batch``).
"""

from typing import Any

from aws_lambda_powertools.utilities.batch import process_partial_response
from aws_lambda_powertools.utilities.batch.types import PartialItemFailureResponse
from aws_lambda_powertools.utilities.data_classes.sqs_event import SQSRecord
from aws_lambda_powertools.utilities.typing import LambdaContext

from core import wiring
from core.config import get_settings
from core.models.exchange import SnapshotOrder
from core.observability import logger
from core.sqs_batch import ConcurrentBatchProcessor

processor = ConcurrentBatchProcessor(workers=get_settings().snapshot_concurrency)


@logger.inject_lambda_context(clear_state=True)
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> PartialItemFailureResponse:
    service = wiring.balance_snapshot_worker()

    def handle_record(record: SQSRecord) -> str:
        return service.take(
            SnapshotOrder.model_validate_json(record.body), context.get_remaining_time_in_millis
        )

    return process_partial_response(
        event=event, record_handler=handle_record, processor=processor, context=context
    )
