"""Per-signal statistics: counts, errors, no-receiver counts and a sliding event rate."""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass, field

RATE_WINDOW_S = 10  # the rate is averaged over this many seconds of event time


@dataclass(slots=True, eq=False)
class SignalStats:
    name: str
    count: int = 0  # dispatches that reached at least one receiver
    rate: float = 0.0  # dispatches per second over the last RATE_WINDOW_S of event time
    errors: int = 0  # dispatches that raised or had a receiver raise
    empty_count: int = 0  # dispatches that found no receiver (from Counts events)
    muted: int = 0  # dispatches live-control rules kept from streaming (Muted events)
    known: bool = False  # present in a topology snapshot
    _buckets: deque[tuple[int, int]] = field(default_factory=deque, repr=False)

    def add(self, second: int, count: int) -> None:
        """Add ``count`` dispatches to the rate bucket of Unix second ``second``."""
        buckets = self._buckets
        if buckets and buckets[-1][0] == second:
            buckets[-1] = (second, buckets[-1][1] + count)
        elif buckets and buckets[-1][0] > second:
            # Events from a process with a slower clock: credit them to the newest bucket.
            buckets[-1] = (buckets[-1][0], buckets[-1][1] + count)
        else:
            buckets.append((second, count))

    def update_rate(self, now_second: int) -> bool:
        """Recompute ``rate`` as of ``now_second``; return True if it changed."""
        buckets = self._buckets
        horizon = now_second - RATE_WINDOW_S
        while buckets and buckets[0][0] <= horizon:
            buckets.popleft()
        rate = sum(n for _, n in buckets) / RATE_WINDOW_S
        if rate != self.rate:
            self.rate = rate
            return True
        return False
