"""``python -m local``: run the local stack, invoke one function as ``sam local invoke`` would, or seed a stage.

python -m local run [--port 3000]
python -m local invoke <FunctionLogicalId> --event events/<file>.json
python -m local seed --stack-name trading-api-dev [--region us-east-1]
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import signal
import sys
import threading
from pathlib import Path

from local.template import PROJECT_ROOT


def _layers_on_path() -> None:
    for layer in (PROJECT_ROOT / "shared", PROJECT_ROOT / "layers" / "adapters"):
        if str(layer) not in sys.path:
            sys.path.insert(0, str(layer))


def run(port: int, host: str = "127.0.0.1") -> None:
    from local.dev_routes import (
        register_notification_routes,
        register_simulator_routes,
        register_strategy_routes,
    )
    from local.gateway import Gateway, serve
    from local.stack import LocalStack

    stack = LocalStack()
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
        table_name = next(table.name for table in template.tables() if table.logical_id == "MainTable")
    if region:
        os.environ["AWS_DEFAULT_REGION"] = region
    os.environ["TABLE_NAME"] = table_name or table_name_of_stack(stack_name or "", region)
    result = seed_reference_data()
    secrets = seed_signal_secrets(stage_of_table(os.environ["TABLE_NAME"]))
    print(f"seeded {os.environ['TABLE_NAME']}: {result}; signal secrets created: {secrets}")
    return 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m local")
    commands = parser.add_subparsers(dest="command", required=True)
    run_parser = commands.add_parser("run", help="start the local stack")
    run_parser.add_argument("--port", type=int, default=int(os.environ.get("PORT", "3000")))
    invoke_parser = commands.add_parser("invoke", help="invoke one function with one event")
    invoke_parser.add_argument("function", help="the function's logical id in template.yaml")
    invoke_parser.add_argument("--event", "-e", type=Path, required=True)
    seed_parser = commands.add_parser(
        "seed", help="write the reference data into a deployed stage or the local stack"
    )
    target = seed_parser.add_mutually_exclusive_group(required=True)
    target.add_argument("--stack-name")
    target.add_argument("--table-name")
    target.add_argument("--local", action="store_true", help="the running local stack")
    seed_parser.add_argument("--region")
    args = parser.parse_args(argv)

    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(message)s")
    _layers_on_path()
    if args.command == "run":
        run(args.port)
        return 0
    if args.command == "invoke":
        return invoke(args.function, args.event)
    return seed(args.stack_name, args.table_name, args.region, args.local)


if __name__ == "__main__":
    sys.exit(main())
