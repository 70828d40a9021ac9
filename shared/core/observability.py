"""The one structured logger, the one metrics sink and the one tracer.

The logger never logs events, headers or bodies: tokens and secrets travel in them. Metrics go out as
CloudWatch embedded metric format in the function's log, flushed by ``metrics.log_metrics`` on the handler.

``traced`` puts a handler under Powertools' Tracer (X-Ray, active tracing in the template): each invocation
a segment, and a subsegment for every AWS call (botocore) and every HTTP request (``http.client``, which
the exchange, Stripe and Telegram clients send through). Outside Lambda, or with
``POWERTOOLS_TRACE_DISABLED``, the X-Ray SDK is not even imported (about 0.1 s in Lambda, 0.35 s outside,
where it builds a sampling client): the local stack's and the tests' processes start without it.
"""

import os
from collections.abc import Callable
from typing import Any, TypeVar, cast

from aws_lambda_powertools import Logger, Metrics
from aws_lambda_powertools.metrics import MetricUnit

logger = Logger(log_uncaught_exceptions=True)
metrics = Metrics(namespace="TradingApi")

Handler = TypeVar("Handler", bound=Callable[..., Any])
TRACED_MODULES = ("botocore", "httplib")


def _tracing_enabled() -> bool:
    disabled = os.environ.get("POWERTOOLS_TRACE_DISABLED", "false").lower() in ("1", "true", "yes", "on")
    return bool(os.environ.get("LAMBDA_TASK_ROOT")) and not disabled


def traced(handler: Handler) -> Handler:
    """The handler under the tracer where tracing is on (a deployed function); the handler itself elsewhere."""
    if not _tracing_enabled():
        return handler
    from aws_lambda_powertools import Tracer

    tracer = Tracer(patch_modules=TRACED_MODULES)
    # Responses carry users' data: the tracer keeps only timings, names and errors.
    return cast(Handler, tracer.capture_lambda_handler(handler, capture_response=False))


class PowertoolsCounter:
    """Counts money-path outcomes (orders placed, compensations, repairs) for the alarms that watch them."""

    def count(self, name: str, value: int = 1) -> None:
        metrics.add_metric(name=name, unit=MetricUnit.Count, value=value)
