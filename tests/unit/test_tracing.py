"""The tracer: on in a deployed function, off (and the X-Ray SDK not imported) everywhere else."""

from __future__ import annotations

import subprocess
import sys

import pytest

from local.template import PROJECT_ROOT

TRACED_HANDLER = """
import sys
sys.path[:0] = ["shared"]
from core.observability import traced

@traced
def handler(event, context):
    return {"ok": True}

print(hasattr(handler, "__wrapped__"), "aws_xray_sdk.core" in sys.modules)
"""

# A deployed function's first request loads botocore (core.wiring): its calls are traced from then on.
BOTOCORE_AFTER_INIT = TRACED_HANDLER.replace(
    "print(",
    """loaded_at_init = "botocore.client" in sys.modules
import botocore.client
traced_call = hasattr(botocore.client.BaseClient._make_api_call, "__wrapped__")
print(loaded_at_init, traced_call,""",
)

# Its first HTTP client (urllib3: ccxt, Stripe, Telegram; urllib.request: reCAPTCHA) patches http.client.
HTTP_AFTER_INIT = TRACED_HANDLER.replace(
    "print(",
    """loaded_at_init = "urllib3" in sys.modules or "http.client" in sys.modules
import CLIENT
import http.client
traced_send = hasattr(http.client.HTTPConnection._send_request, "__wrapped__")
print(loaded_at_init, traced_send,""",
)


def _run(environment: dict[str, str], code: str = TRACED_HANDLER) -> str:
    result = subprocess.run(
        [sys.executable, "-c", code],
        cwd=PROJECT_ROOT,
        env={"PATH": "/usr/bin:/bin", "AWS_DEFAULT_REGION": "us-east-1", **environment},
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    )
    return result.stdout.strip()


def test_outside_lambda_the_handler_is_itself_and_the_sdk_is_not_imported():
    assert _run({}) == "False False"


def test_in_a_deployed_function_the_handler_is_captured_by_the_tracer():
    # Lambda sets LAMBDA_TASK_ROOT: the tracer wraps the handler, with the X-Ray SDK loaded.
    assert _run({"LAMBDA_TASK_ROOT": "/var/task", "AWS_LAMBDA_FUNCTION_NAME": "f"}) == "True True"


def test_botocore_is_patched_when_first_imported_not_loaded_at_init():
    deployed = {"LAMBDA_TASK_ROOT": "/var/task", "AWS_LAMBDA_FUNCTION_NAME": "f"}
    assert _run(deployed, BOTOCORE_AFTER_INIT) == "False True True True"


def test_botocore_loaded_before_the_handler_is_patched_at_once():
    deployed = {"LAMBDA_TASK_ROOT": "/var/task", "AWS_LAMBDA_FUNCTION_NAME": "f"}
    early = BOTOCORE_AFTER_INIT.replace(
        "from core.observability", "import botocore.client\nfrom core.observability"
    )
    assert _run(deployed, early) == "True True True True"


@pytest.mark.parametrize("client", ["urllib3", "urllib.request"])
def test_http_is_patched_when_the_first_http_client_is_imported_not_at_init(client):
    deployed = {"LAMBDA_TASK_ROOT": "/var/task", "AWS_LAMBDA_FUNCTION_NAME": "f"}
    assert _run(deployed, HTTP_AFTER_INIT.replace("CLIENT", client)) == "False True True True"


def test_the_disable_switch_wins():
    disabled = {"LAMBDA_TASK_ROOT": "/var/task", "POWERTOOLS_TRACE_DISABLED": "true"}
    assert _run(disabled) == "False False"
