"""Weekly and monthly reports (notifications.md). Two event sources, one function:

- the schedules (Monday and the 1st, 00:30 UTC) send ``{"report": "WEEKLY"|"MONTHLY"}``: every user of the
  pool is queued, a message each;
- the report queue's batches: each user's report built (balance, trades, the chart) and sent, with partial
  batch failures, retries and a dead-letter queue like every worker.
"""

from typing import Any

from aws_lambda_powertools.utilities.batch import BatchProcessor, EventType, process_partial_response
from aws_lambda_powertools.utilities.data_classes.sqs_event import SQSRecord
from aws_lambda_powertools.utilities.typing import LambdaContext
from chart import render_balance_chart

from core import wiring
from core.models.notifications import ReportKind
from core.observability import logger, metrics, traced
from core.services.reports import parse_request
from core.timeutil import utc_now

processor = BatchProcessor(event_type=EventType.SQS)


def handle_record(record: SQSRecord) -> None:
    wiring.report_service(render_balance_chart).send(parse_request(record.body))


@traced
@logger.inject_lambda_context(clear_state=True)
@metrics.log_metrics
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> Any:
    if "Records" in event:
        return process_partial_response(
            event=event, record_handler=handle_record, processor=processor, context=context
        )
    kind = ReportKind(str(event.get("report", "")).upper())
    return {"report": kind.value, "queued": wiring.report_scheduler().schedule(kind, utc_now())}
