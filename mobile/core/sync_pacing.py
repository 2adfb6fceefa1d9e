"""How fast the sync client talks to the server: sizes and timeouts that follow the link, and backoff.

:class:`LinkTuner`: batch size, pull page size and timeouts shrink after a timeout or failure and
grow after successes. :func:`backoff_delay`: exponential backoff with full jitter, so many tablets
coming back after the same outage spread their retries.
"""

from __future__ import annotations

import math
import random
from dataclasses import dataclass

from peacewatch.common.sync_protocol import MAX_PULL_LIMIT, MAX_PUSH_BATCH
from peacewatch.mobile.core.errors import InvalidInput

__all__ = ["LinkTuner", "backoff_delay"]


@dataclass
class LinkTuner:
    """Batch size, page size and timeouts that follow the link: halve on failure, grow on success."""

    batch: int = 25
    min_batch: int = 1
    max_batch: int = MAX_PUSH_BATCH
    page: int = 200
    min_page: int = 20
    max_page: int = MAX_PULL_LIMIT
    timeout: float = 20.0  # seconds for the server to answer, on top of transfer time
    min_timeout: float = 5.0
    max_timeout: float = 120.0
    throughput: float = 64_000.0  # bytes/s, a running estimate
    min_throughput: float = 4_000.0

    def __post_init__(self) -> None:
        if not 1 <= self.min_batch <= self.batch <= self.max_batch <= MAX_PUSH_BATCH:
            raise InvalidInput("batch", f"need 1 <= min_batch <= batch <= max_batch <= {MAX_PUSH_BATCH}")
        if not 1 <= self.min_page <= self.page <= self.max_page <= MAX_PULL_LIMIT:
            raise InvalidInput("page", f"need 1 <= min_page <= page <= max_page <= {MAX_PULL_LIMIT}")
        if not 0 < self.min_timeout <= self.timeout <= self.max_timeout:
            raise InvalidInput("timeout", "need 0 < min_timeout <= timeout <= max_timeout")

    def timeout_for(self, nbytes: int) -> float:
        """Allow the answer time plus twice the expected transfer time of ``nbytes``."""
        return min(self.max_timeout, self.timeout + 2.0 * nbytes / self.throughput)

    def success(self, *, elapsed: float, nbytes: int, grow_batch: bool = False, grow_page: bool = False) -> None:
        if nbytes >= 16_384 and elapsed > 0:
            # Only sizeable transfers say anything about bandwidth; small ones measure latency.
            self.throughput = max(self.min_throughput, 0.7 * self.throughput + 0.3 * nbytes / elapsed)
        # Keep the timeout a comfortable multiple of what answers actually take.
        self.timeout = min(self.max_timeout, max(self.min_timeout, 0.8 * self.timeout + 0.2 * 4 * elapsed))
        if grow_batch:
            self.batch = min(self.max_batch, max(self.batch + 1, math.ceil(self.batch * 1.5)))
        if grow_page:
            self.page = min(self.max_page, max(self.page + 1, math.ceil(self.page * 1.5)))

    def failure(self, *, timed_out: bool) -> None:
        self.batch = max(self.min_batch, self.batch // 2)
        self.page = max(self.min_page, self.page // 2)
        if timed_out:
            self.timeout = min(self.max_timeout, self.timeout * 1.5)

    def too_large(self, batch_size: int) -> None:
        """The server refused a batch of ``batch_size`` as too large (413): never send that many again."""
        self.max_batch = max(1, batch_size // 2)
        self.min_batch = min(self.min_batch, self.max_batch)
        self.batch = min(self.batch, self.max_batch)


def backoff_delay(rng: random.Random, *, consecutive: int, base: float, cap: float,
                  retry_after: float | None = None) -> float:
    """Seconds to wait after the ``consecutive``-th failure in a row: full jitter, at least ``retry_after``."""
    ceiling = min(cap, base * 2 ** (consecutive - 1))
    delay = rng.uniform(0, ceiling)
    if retry_after is not None:
        delay = max(delay, min(retry_after, cap))
    return delay
