"""Scheduled once a day: the USD balance of every active exchange key (feeds total balance and history)."""

from typing import Any

from aws_lambda_powertools.utilities.typing import LambdaContext

from adapters.exchange.binance import BinanceConnector
from core.config import get_settings
from core.observability import logger
from core.repositories.exchange_keys import ExchangeKeyRepository
from core.secret_cipher import KmsSecretCipher
from core.services.balance_snapshots import take_daily_snapshots
from core.timeutil import utc_now


@logger.inject_lambda_context(clear_state=True)
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    report = take_daily_snapshots(
        keys=ExchangeKeyRepository(),
        connector=BinanceConnector(),
        cipher=KmsSecretCipher(),
        date=utc_now().date().isoformat(),
        concurrency=get_settings().snapshot_concurrency,
        time_left_ms=context.get_remaining_time_in_millis,
    )
    return report.as_dict()
