"""Powertools' SQS batch processing, a batch's records handled on threads.

A worker whose records mostly wait on the exchange (the fan-out, the daily snapshot) handles a batch's
records at once. Powertools' partial failure semantics are kept exactly: each record ends as one success
or one failure of the processor (``_process_record`` records it: list appends, safe across threads), so
the response names exactly the failed records, and a batch whose records all failed fails as a whole.
"""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from typing import Any

from aws_lambda_powertools.utilities.batch import BatchProcessor, EventType


class ConcurrentBatchProcessor(BatchProcessor):
    """Powertools' SQS ``BatchProcessor``, its records handled by up to ``workers`` threads at once."""

    def __init__(self, workers: int) -> None:
        super().__init__(event_type=EventType.SQS)
        self.workers = max(1, workers)

    def process(self) -> list[tuple[Any, ...]]:
        if self.workers == 1 or len(self.records) <= 1:
            return super().process()
        with ThreadPoolExecutor(max_workers=min(self.workers, len(self.records))) as pool:
            return list(pool.map(self._process_record, self.records))
