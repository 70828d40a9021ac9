"""A share of the egress IPs' exchange request weight, spent by one container.

Binance counts request weight per IP over a rolling minute; every function that calls it leaves from the
same egress IPs, so each job gets a configured share per minute, divided among the containers that may
run at once (the event source mapping's maximum concurrency). ``RollingWeightBudget`` holds a container
to its part exactly as Binance counts: the weight spent in any 60 seconds stays within it.
"""

from __future__ import annotations

import threading
import time
from collections import deque
from collections.abc import Callable

WINDOW_SECONDS = 60.0


class RollingWeightBudget:
    def __init__(
        self,
        per_minute: float,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        self._per_minute = max(1.0, per_minute)
        self._clock = clock
        self._sleep = sleep
        self._spent: deque[tuple[float, int]] = deque()
        self._total = 0
        self._lock = threading.Lock()

    @classmethod
    def share(cls, per_minute: int, containers: int) -> RollingWeightBudget:
        """One container's part of a job's share (``per_minute`` over at most ``containers`` at once)."""
        return cls(per_minute / max(1, containers))

    @property
    def per_minute(self) -> float:
        return self._per_minute

    def take(self, weight: int, wait_seconds: float) -> bool:
        """Spends ``weight`` as soon as the last minute leaves room for it, waiting at most ``wait_seconds``;
        False (nothing spent) when it would have to wait longer."""
        deadline = self._clock() + wait_seconds
        while True:
            with self._lock:
                now = self._clock()
                while self._spent and self._spent[0][0] <= now - WINDOW_SECONDS:
                    self._total -= self._spent.popleft()[1]
                if self._total + weight <= self._per_minute or not self._spent:
                    self._spent.append((now, weight))
                    self._total += weight
                    return True
                free_at = self._spent[0][0] + WINDOW_SECONDS
            if free_at > deadline:
                return False
            self._sleep(max(0.01, free_at - now))
