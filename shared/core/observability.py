"""The one structured logger, the one metrics sink and the one tracer.

The logger never logs events, headers or bodies: tokens and secrets travel in them. Metrics go out as
CloudWatch embedded metric format in the function's log, flushed by ``metrics.log_metrics`` on the handler.

``traced`` puts a handler under Powertools' Tracer (X-Ray, active tracing in the template): each invocation
a segment, and a subsegment for every AWS call (botocore) and every HTTP request (``http.client``, which
the exchange, Stripe and Telegram clients send through). Outside Lambda, or with
``POWERTOOLS_TRACE_DISABLED``, the X-Ray SDK is not even imported (about 0.1 s in Lambda, 0.35 s outside,
where it builds a sampling client): the local stack's and the tests' processes start without it.

Nothing is patched at init: each library is patched when its module is first imported. Patching imports
what it patches (botocore about 45 ms, urllib3 for ``http.client`` about 12 ms), and a function loads
botocore only once its first request reaches DynamoDB, SQS or KMS (``core.wiring``) and an HTTP client only
once it calls the exchange, Stripe, Telegram or reCAPTCHA, so its cold start no longer pays for them twice.
Every AWS call and every HTTP request is traced all the same: every HTTP client here goes through urllib3
(ccxt and Stripe through requests, Telegram directly) or ``urllib.request`` (reCAPTCHA).
"""

import os
from collections.abc import Callable
from typing import Any, TypeVar, cast

from aws_lambda_powertools import Logger, Metrics
from aws_lambda_powertools.metrics import MetricUnit

logger = Logger(log_uncaught_exceptions=True)
metrics = Metrics(namespace="TradingApi")

Handler = TypeVar("Handler", bound=Callable[..., Any])
# The tracer's module to patch, by the module whose first import patches it. Powertools imports the
# botocore package itself, for its user agent, but not its client.
TRACED_ON_IMPORT = {
    "botocore.client": "botocore",
    "urllib3.connection": "httplib",
    "urllib.request": "httplib",
}


def _tracing_enabled() -> bool:
    disabled = os.environ.get("POWERTOOLS_TRACE_DISABLED", "false").lower() in ("1", "true", "yes", "on")
    return bool(os.environ.get("LAMBDA_TASK_ROOT")) and not disabled


def traced(handler: Handler) -> Handler:
    """The handler under the tracer where tracing is on (a deployed function); the handler itself elsewhere."""
    if not _tracing_enabled():
        return handler
    import wrapt
    from aws_lambda_powertools import Tracer

    tracer = Tracer(patch_modules=())
    patched: set[str] = set()

    def patcher(traced_module: str) -> Callable[[Any], None]:
        def patch(imported: Any) -> None:
            # Once: patching http.client after urllib.request imports urllib3, whose hook must not start again.
            if traced_module in patched:
                return
            patched.add(traced_module)
            if traced_module == "botocore":
                import botocore

                # The hook runs before the import binds the submodule to its package; the patch reads it there.
                botocore.client = imported
            tracer.patch([traced_module])

        return patch

    for imported_module, traced_module in TRACED_ON_IMPORT.items():
        # Runs at once when the module is already loaded, else right after its import.
        wrapt.register_post_import_hook(patcher(traced_module), imported_module)
    # Responses carry users' data: the tracer keeps only timings, names and errors.
    return cast(Handler, tracer.capture_lambda_handler(handler, capture_response=False))


class PowertoolsCounter:
    """Counts money-path outcomes (orders placed, compensations, repairs) for the alarms that watch them."""

    def count(self, name: str, value: int = 1) -> None:
        metrics.add_metric(name=name, unit=MetricUnit.Count, value=value)
