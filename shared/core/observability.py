"""The one structured logger, the one metrics sink and the one tracer.

The logger never logs events, headers or bodies: tokens and secrets travel in them. Metrics go out as
CloudWatch embedded metric format in the function's log, flushed by ``metrics.log_metrics`` on the handler.

``traced`` puts a handler under Powertools' Tracer (X-Ray, active tracing in the template): each invocation
a segment, and a subsegment for every AWS call (botocore) and every HTTP request (``http.client``, which
the exchange, Stripe and Telegram clients send through). Outside Lambda, or with
``POWERTOOLS_TRACE_DISABLED``, the X-Ray SDK is not even imported (about 0.1 s in Lambda, 0.35 s outside,
where it builds a sampling client): the local stack's and the tests' processes start without it.

botocore is patched when it is first imported, not at init: patching it imports it (about 45 ms), and a
function loads botocore only once its first request reaches DynamoDB, SQS or KMS (``core.wiring``), so its
cold start no longer pays for it twice. Every AWS call is traced all the same.
"""

import os
from collections.abc import Callable
from typing import Any, TypeVar, cast

from aws_lambda_powertools import Logger, Metrics
from aws_lambda_powertools.metrics import MetricUnit

logger = Logger(log_uncaught_exceptions=True)
metrics = Metrics(namespace="TradingApi")

Handler = TypeVar("Handler", bound=Callable[..., Any])
# Patched at init; botocore (AWS calls) is patched as its client module is imported (Powertools imports
# the botocore package itself, for its user agent, but not the client).
TRACED_AT_INIT = ("httplib",)
TRACED_ON_IMPORT = "botocore"
TRACED_ON_IMPORT_OF = "botocore.client"


def _tracing_enabled() -> bool:
    disabled = os.environ.get("POWERTOOLS_TRACE_DISABLED", "false").lower() in ("1", "true", "yes", "on")
    return bool(os.environ.get("LAMBDA_TASK_ROOT")) and not disabled


def traced(handler: Handler) -> Handler:
    """The handler under the tracer where tracing is on (a deployed function); the handler itself elsewhere."""
    if not _tracing_enabled():
        return handler
    import wrapt
    from aws_lambda_powertools import Tracer

    tracer = Tracer(patch_modules=TRACED_AT_INIT)

    def patch_botocore(client_module: Any) -> None:
        import botocore

        # The hook runs before the import binds the submodule to its package; the patch reads it from there.
        botocore.client = client_module
        tracer.patch([TRACED_ON_IMPORT])

    # Runs at once when botocore's client is already loaded, else right after its import.
    wrapt.register_post_import_hook(patch_botocore, TRACED_ON_IMPORT_OF)
    # Responses carry users' data: the tracer keeps only timings, names and errors.
    return cast(Handler, tracer.capture_lambda_handler(handler, capture_response=False))


class PowertoolsCounter:
    """Counts money-path outcomes (orders placed, compensations, repairs) for the alarms that watch them."""

    def count(self, name: str, value: int = 1) -> None:
        metrics.add_metric(name=name, unit=MetricUnit.Count, value=value)
