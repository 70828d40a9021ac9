"""The one structured logger and the one metrics sink.

The logger never logs events, headers or bodies: tokens and secrets travel in them. Metrics go out as
CloudWatch embedded metric format in the function's log, flushed by ``metrics.log_metrics`` on the handler.
"""

from aws_lambda_powertools import Logger, Metrics
from aws_lambda_powertools.metrics import MetricUnit

logger = Logger(log_uncaught_exceptions=True)
metrics = Metrics(namespace="TradingApi")


class PowertoolsCounter:
    """Counts money-path outcomes (orders placed, compensations, repairs) for the alarms that watch them."""

    def count(self, name: str, value: int = 1) -> None:
        metrics.add_metric(name=name, unit=MetricUnit.Count, value=value)
