"""``python -m local``: run the local stack, invoke one function as ``sam local invoke`` would, or seed a stage.

python -m local run [--port 3000]
python -m local invoke <FunctionLogicalId> --event events/<file>.json
python -m local seed --stack-name trading-api-dev [--region us-east-1]
python -m local seed --local                 (the reference data and the demo account of events/)
python -m local events [--check]             (writes events/ from local/event_files.py)
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import signal
import sys
import threading
from collections.abc import Callable, Mapping
from pathlib import Path

from local.template import PROJECT_ROOT


def _layers_on_path() -> None:
    for layer in (PROJECT_ROOT / "shared", PROJECT_ROOT / "layers" / "adapters"):
        if str(layer) not in sys.path:
            sys.path.insert(0, str(layer))


def run(port: int, host: str = "127.0.0.1", recaptcha: bool = False) -> None:
    from local.dev_routes import (
        register_notification_routes,
        register_simulator_routes,
        register_strategy_routes,
    )
    from local.gateway import Gateway, serve
    from local.stack import LocalStack

    stack = LocalStack(recaptcha=recaptcha)
    stack.start()
    gateway = Gateway(stack)
    register_simulator_routes(gateway)
    register_strategy_routes(gateway)
    register_notification_routes(gateway)
    server = serve(gateway, host, port)
    url = f"http://{host}:{server.server_address[1]}"
    stack.connect_webhooks(url)
    stack.write_state(url)
    stopping = threading.Event()

    def _stop(*_: object) -> None:
        if not stopping.is_set():
            stopping.set()
            threading.Thread(target=server.shutdown, daemon=True).start()

    signal.signal(signal.SIGTERM, _stop)
    signal.signal(signal.SIGINT, _stop)
    print(f"API ready at {url}", flush=True)
    try:
        server.serve_forever()
    finally:
        server.server_close()
        stack.stop()
        print("local stack stopped", flush=True)


def invoke(logical_id: str, event_path: Path) -> int:
    """Runs one function on one event, against the running local stack's services or, if none, fresh ones."""
    from local.stack import STATE_FILE, LocalStack
    from local.workers import FunctionPool

    event = json.loads(event_path.read_text())
    stack = LocalStack()
    functions = stack.template.functions()
    if logical_id not in functions:
        print(f"unknown function {logical_id}; one of: {', '.join(sorted(functions))}", file=sys.stderr)
        return 2
    if STATE_FILE.exists():
        state = json.loads(STATE_FILE.read_text())
        from local.aws import FAKE_CREDENTIALS

        stack.template.local_values.update(state["localValues"])
        stack.template.parameters.update(state.get("parameters", {}))
        environment = {**FAKE_CREDENTIALS, "AWS_ENDPOINT_URL": state["awsEndpointUrl"]}
        pool = FunctionPool(stack.template.functions()[logical_id], environment, max_workers=1)
        try:
            print(json.dumps(pool.invoke(event), indent=2))
        finally:
            pool.stop()
        return 0
    stack.start()
    try:
        print(json.dumps(stack.pools[logical_id].invoke(event), indent=2))
    finally:
        stack.stop()
    return 0


def seed(stack_name: str | None, table_name: str | None, region: str | None, local: bool = False) -> int:
    """Seeds a deployed stage (by stack or table name) or, with ``local``, the running local stack."""
    from local.seed import seed_reference_data, seed_signal_secrets, stage_of_table, table_name_of_stack

    _layers_on_path()
    if local:
        from local.aws import FAKE_CREDENTIALS
        from local.stack import STATE_FILE
        from local.template import load_template

        if not STATE_FILE.exists():
            print("no local stack is running (start it with `make run`)", file=sys.stderr)
            return 2
        state = json.loads(STATE_FILE.read_text())
        os.environ.update({**FAKE_CREDENTIALS, "AWS_ENDPOINT_URL": state["awsEndpointUrl"]})
        template = load_template(parameter_overrides=state.get("parameters"))
        template.local_values.update(state["localValues"])  # the stack's own KMS key, queues...
        table_name = next(table.name for table in template.tables() if table.logical_id == "MainTable")
    if region:
        os.environ["AWS_DEFAULT_REGION"] = region
    os.environ["TABLE_NAME"] = table_name or table_name_of_stack(stack_name or "", region)
    result = seed_reference_data()
    secrets = seed_signal_secrets(stage_of_table(os.environ["TABLE_NAME"]))
    print(f"seeded {os.environ['TABLE_NAME']}: {result}; signal secrets created: {secrets}")
    if local:
        from local.demo import seed_demo_account

        demo = seed_demo_account(template, _simulator_accounts(state["apiUrl"]))
        print(f"demo account: {demo}")
    return 0


def _simulator_accounts(api_url: str) -> Callable[[Mapping[str, float]], Mapping[str, str]]:
    """Opens exchange-simulator accounts through the running stack's dev route."""
    import urllib.request

    def open_account(balances: Mapping[str, float]) -> Mapping[str, str]:
        request = urllib.request.Request(  # noqa: S310 - the local stack's own URL
            f"{api_url}/_local/exchange/accounts",
            data=json.dumps({"balances": dict(balances)}).encode(),
            headers={"Content-Type": "application/json"},
            method="POST",
        )
        with urllib.request.urlopen(request, timeout=30) as answer:  # noqa: S310
            account: dict[str, str] = json.load(answer)
        return account

    return open_account


def events(check: bool) -> int:
    """Writes events/ from local.event_files (``check``: only says which files differ, exit status 1 if any)."""
    from local.event_files import write_events

    changed = write_events(check=check)
    for name in changed:
        print(f"{'differs' if check else 'written'}: events/{name}")
    if check and changed:
        print("events/ is out of date: run `python -m local events`", file=sys.stderr)
        return 1
    return 0


def _aws_failure(error: Exception) -> int:
    """An AWS call that could not be made: a clear line instead of a traceback."""
    print(f"{type(error).__name__}: {error}", file=sys.stderr)
    print(
        "(set AWS credentials for the stage's account, and the region: --region or AWS_REGION)",
        file=sys.stderr,
    )
    return 2


def token(stack_name: str, region: str | None, email: str, create: bool) -> int:
    """Prints an ID token of a deployed stage's user pool (the password from $PASSWORD, else asked for)."""
    import getpass

    import boto3
    from botocore.exceptions import BotoCoreError, ClientError

    from local.stage_token import id_token, pool_of_stack

    password = os.environ.get("PASSWORD") or getpass.getpass(f"password of {email}: ")
    try:
        pool = pool_of_stack(stack_name, boto3.client("cloudformation", region_name=region))
        print(id_token(pool, email, password, boto3.client("cognito-idp", region_name=region), create=create))
    except (BotoCoreError, ClientError, RuntimeError) as error:
        return _aws_failure(error)
    return 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m local")
    commands = parser.add_subparsers(dest="command", required=True)
    run_parser = commands.add_parser("run", help="start the local stack")
    run_parser.add_argument("--port", type=int, default=int(os.environ.get("PORT", "3000")))
    run_parser.add_argument(
        "--recaptcha",
        action="store_true",
        help='require reCAPTCHA v3 on every write, as prod does (local siteverify; tokens like "local:0.9:submit")',
    )
    invoke_parser = commands.add_parser("invoke", help="invoke one function with one event")
    invoke_parser.add_argument("function", help="the function's logical id in template.yaml")
    invoke_parser.add_argument("--event", "-e", type=Path, required=True)
    seed_parser = commands.add_parser(
        "seed", help="write the reference data into a deployed stage or the local stack"
    )
    target = seed_parser.add_mutually_exclusive_group(required=True)
    target.add_argument("--stack-name")
    target.add_argument("--table-name")
    target.add_argument(
        "--local", action="store_true", help="the running local stack (with the demo account of events/)"
    )
    seed_parser.add_argument("--region")
    events_parser = commands.add_parser("events", help="write events/ from local/event_files.py")
    events_parser.add_argument(
        "--check", action="store_true", help="only compare; exit status 1 if out of date"
    )
    token_parser = commands.add_parser(
        "token", help="an ID token of a deployed stage's user (Cognito admin flow)"
    )
    token_parser.add_argument("--stack-name", required=True)
    token_parser.add_argument("--region")
    token_parser.add_argument("--email", required=True)
    token_parser.add_argument(
        "--create", action="store_true", help="create the user with that password if missing"
    )
    args = parser.parse_args(argv)

    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(message)s")
    _layers_on_path()
    if args.command == "run":
        run(args.port, recaptcha=args.recaptcha)
        return 0
    if args.command == "invoke":
        return invoke(args.function, args.event)
    if args.command == "events":
        return events(args.check)
    if args.command == "token":
        return token(args.stack_name, args.region, args.email, args.create)
    from botocore.exceptions import BotoCoreError, ClientError

    try:
        return seed(args.stack_name, args.table_name, args.region, args.local)
    except (BotoCoreError, ClientError) as error:
        return _aws_failure(error)


if __name__ == "__main__":
    sys.exit(main())
