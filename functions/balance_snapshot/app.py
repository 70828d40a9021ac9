"""Scheduled: once a day, one snapshot message per active key; every ten minutes (``{"refresh": "EQUITY"}``),
one account read per AUTOMATED key for the fan-out's equity cache. The snapshot worker takes both."""

from typing import Any

from aws_lambda_powertools.utilities.typing import LambdaContext

from core import wiring
from core.observability import logger
from core.timeutil import utc_now


@logger.inject_lambda_context(clear_state=True)
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    scheduler = wiring.balance_snapshot_scheduler()
    date = utc_now().date().isoformat()
    if event.get("refresh") == "EQUITY":
        return scheduler.enqueue_equity_refresh(date).as_dict()
    return scheduler.enqueue_daily(date).as_dict()
