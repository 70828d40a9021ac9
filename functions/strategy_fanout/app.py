"""The signal fan-out worker: SQS batches of (trigger, follower) messages, each placed once through the order
engine. One follower's failure never holds up another's: failed records are reported back to SQS
(partial batch failures), retried after the visibility timeout, then dead-lettered.

A batch's records run at once on threads (``FANOUT_RECORD_CONCURRENCY``, ``core.sqs_batch``): a follower's
time is mostly waiting on the exchange, and each follower has its own key and so its own ccxt client.
"""

from typing import Any

from aws_lambda_powertools.utilities.batch import process_partial_response
from aws_lambda_powertools.utilities.batch.types import PartialItemFailureResponse
from aws_lambda_powertools.utilities.data_classes.sqs_event import SQSRecord
from aws_lambda_powertools.utilities.typing import LambdaContext

from core import wiring
from core.config import get_settings
from core.models.signals import FanOutOrder
from core.observability import logger, metrics
from core.sqs_batch import ConcurrentBatchProcessor

processor = ConcurrentBatchProcessor(workers=get_settings().fanout_record_concurrency)
# A record not started this close to the function's timeout is failed at once (SQS delivers it again): a
# timeout would fail the whole batch, the records already placed with it.
RESERVE_MS = 8_000


class NotStarted(Exception):
    """Too close to the function's timeout to start this follower: left to SQS's next delivery."""


@logger.inject_lambda_context(clear_state=True)
@metrics.log_metrics
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> PartialItemFailureResponse:
    # Built here, before the records' threads: built by several at once, each would get its own weight
    # budget, price read and caches.
    worker = wiring.fan_out_worker()

    def handle_record(record: SQSRecord) -> None:
        if context.get_remaining_time_in_millis() < RESERVE_MS:
            raise NotStarted(record.message_id)
        worker.handle(FanOutOrder.model_validate_json(record.body))

    return process_partial_response(
        event=event, record_handler=handle_record, processor=processor, context=context
    )
