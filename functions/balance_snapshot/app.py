"""Scheduled once a day: the USD balance of every active exchange key (feeds total balance and history)."""

from typing import Any

from aws_lambda_powertools.utilities.typing import LambdaContext

from core import wiring
from core.observability import logger
from core.timeutil import utc_now


@logger.inject_lambda_context(clear_state=True)
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    report = wiring.balance_snapshot_service().take_daily(
        date=utc_now().date().isoformat(), time_left_ms=context.get_remaining_time_in_millis
    )
    return report.as_dict()
