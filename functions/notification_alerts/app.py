"""Alerts: the trade events of the event bus (through an SQS queue) sent to each user by email and Telegram
as they chose (notifications.md). One user's failure never holds up another's: a failed record is reported
back to SQS (partial batch failures), retried after the visibility timeout, then dead-lettered."""

from typing import Any

from aws_lambda_powertools.utilities.batch import BatchProcessor, EventType, process_partial_response
from aws_lambda_powertools.utilities.batch.types import PartialItemFailureResponse
from aws_lambda_powertools.utilities.data_classes.sqs_event import SQSRecord
from aws_lambda_powertools.utilities.typing import LambdaContext

from core import wiring
from core.observability import logger, metrics, traced
from core.schemas.trade_event import TradeEventEnvelope

processor = BatchProcessor(event_type=EventType.SQS)


def handle_record(record: SQSRecord) -> None:
    wiring.alert_service().handle(TradeEventEnvelope.model_validate_json(record.body))


@traced
@logger.inject_lambda_context(clear_state=True)
@metrics.log_metrics
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> PartialItemFailureResponse:
    return process_partial_response(
        event=event, record_handler=handle_record, processor=processor, context=context
    )
