"""Each strategy's signal secret, in Secrets Manager (one secret per strategy, rotatable without a deploy).

The secret ``trading-api-<stage>-strategy-<strategyId>-signal`` holds the secret as its plain string.
It is read at first use and cached for five minutes (Powertools parameters), so a rotated secret is
picked up within that time; it is compared in constant time and never logged.
"""

from __future__ import annotations

import hmac

from core.config import get_settings

CACHE_SECONDS = 300


def secret_name(stage: str, strategy_id: str) -> str:
    return f"trading-api-{stage}-strategy-{strategy_id}-signal"


class SecretsManagerSignalSecrets:
    def verify(self, strategy_id: str, presented: object) -> bool:
        if not isinstance(presented, str) or not presented:
            return False
        from aws_lambda_powertools.utilities import parameters

        try:
            expected = parameters.get_secret(
                secret_name(get_settings().stage, strategy_id), max_age=CACHE_SECONDS
            )
        except parameters.exceptions.GetParameterError:
            return False  # a strategy without a secret accepts no signal
        return hmac.compare_digest(str(expected).encode(), presented.encode())
