"""Function workers: each function runs in its own processes, as Lambda runs it in its own containers.

A worker imports the handler once (its cold start) with the function's own environment, then serves
invocations one at a time. A function gets more workers when requests overlap, up to a limit, so
concurrent requests really run concurrently, as they would on Lambda.
"""

from __future__ import annotations

import importlib
import multiprocessing
import os
import sys
import threading
from multiprocessing.connection import Connection
from typing import Any

from local.events import LocalLambdaContext
from local.template import PROJECT_ROOT, FunctionSpec

LAYER_PATHS = [str(PROJECT_ROOT / "shared"), str(PROJECT_ROOT / "layers" / "adapters")]


class InvocationTimeout(Exception):
    pass


class InvocationFailed(Exception):
    pass


def _serve(
    connection: Connection, code_dir: str, handler: str, environment: dict[str, str], name: str
) -> None:
    os.environ.update(environment)
    # A function's logs are not its response: they go to stderr, so `invoke` prints only the response.
    sys.stdout = sys.stderr
    # Lambda puts the function's code first, then the layers (/opt/python).
    sys.path[:0] = [code_dir, *LAYER_PATHS]
    module_name, function_name = handler.rsplit(".", 1)
    try:
        entry = getattr(importlib.import_module(module_name), function_name)
        connection.send(("ready", None))
    except Exception as error:  # a broken function must not take the gateway down
        connection.send(("init-error", f"{type(error).__name__}: {error}"))
        return
    timeout = int(environment.get("LOCAL_FUNCTION_TIMEOUT", "10"))
    while True:
        try:
            event = connection.recv()
        except (EOFError, KeyboardInterrupt):
            return
        try:
            result = entry(event, LocalLambdaContext(function_name=name, timeout_seconds=timeout))
            connection.send(("ok", result))
        except Exception as error:
            import traceback

            traceback.print_exc()
            connection.send(("error", type(error).__name__))


class FunctionWorker:
    def __init__(self, spec: FunctionSpec, environment: dict[str, str]) -> None:
        context = multiprocessing.get_context("spawn")
        self._connection, child = context.Pipe()
        env = {**environment, **spec.environment, "LOCAL_FUNCTION_TIMEOUT": str(spec.timeout)}
        self.process = context.Process(
            target=_serve,
            args=(child, str(spec.code_dir), spec.handler, env, spec.logical_id),
            name=f"lambda-{spec.logical_id}",
            daemon=True,
        )
        self.process.start()
        status, detail = self._connection.recv()
        if status != "ready":
            self.process.join(timeout=1)
            raise InvocationFailed(f"{spec.logical_id} failed to initialise: {detail}")

    def invoke(self, event: dict[str, Any], timeout_seconds: float) -> dict[str, Any]:
        try:
            self._connection.send(event)
        except (BrokenPipeError, ConnectionError):
            self.stop()
            raise InvocationFailed("the function's process died") from None
        if not self._connection.poll(timeout_seconds):
            self.stop()
            raise InvocationTimeout
        try:
            status, payload = self._connection.recv()
        except (EOFError, ConnectionError):
            self.stop()  # the process died mid-invocation, as a Lambda container can
            raise InvocationFailed("the function's process died") from None
        if status != "ok":
            raise InvocationFailed(payload)
        return payload

    @property
    def alive(self) -> bool:
        return self.process.is_alive()

    def stop(self) -> None:
        if self.process.is_alive():
            self.process.kill()
        self.process.join(timeout=2)


class FunctionPool:
    def __init__(self, spec: FunctionSpec, environment: dict[str, str], max_workers: int = 4) -> None:
        self.spec = spec
        self._environment = environment
        self._max_workers = max_workers
        self._idle: list[FunctionWorker] = []
        self._count = 0
        self._available = threading.Condition()

    @property
    def max_workers(self) -> int:
        """At most this many invocations run at once (the function's local concurrency limit)."""
        return self._max_workers

    def _acquire(self) -> FunctionWorker:
        with self._available:
            while True:
                # A worker whose process died while idle is gone, as a crashed container is replaced.
                while self._idle and not self._idle[-1].alive:
                    self._idle.pop().stop()
                    self._count -= 1
                if self._idle or self._count < self._max_workers:
                    break
                self._available.wait()
            if self._idle:
                return self._idle.pop()
            self._count += 1
        try:
            return FunctionWorker(self.spec, self._environment)
        except BaseException:
            with self._available:
                self._count -= 1
                self._available.notify()
            raise

    def _release(self, worker: FunctionWorker) -> None:
        with self._available:
            if worker.alive:
                self._idle.append(worker)
            else:
                self._count -= 1
            self._available.notify()

    def invoke(self, event: dict[str, Any]) -> dict[str, Any]:
        worker = self._acquire()
        try:
            # A little over the function's timeout: the handler's own deadline should fire first.
            return worker.invoke(event, timeout_seconds=self.spec.timeout + 2)
        finally:
            self._release(worker)

    def stop(self) -> None:
        with self._available:
            for worker in self._idle:
                worker.stop()
            self._idle.clear()
