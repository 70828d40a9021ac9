"""Scheduled every minute: the trade monitor records fills and closes, repairs interrupted trades, moves stops."""

from dataclasses import asdict
from typing import Any

from aws_lambda_powertools.utilities.typing import LambdaContext

from core.observability import logger, metrics, traced
from core.wiring import trade_monitor


@traced
@logger.inject_lambda_context(clear_state=True)
@metrics.log_metrics
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    return asdict(trade_monitor().run())
