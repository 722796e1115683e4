"""on_commit() callbacks (wire.OnCommit) attached to the dispatch rows that queued them."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

from django_probe import wire

# Bits of the store's "cb" column: what the callbacks a dispatch queued became.
HAS_CALLBACKS = 1
DISCARDED = 2  # a rollback discarded at least one
FAILED = 4  # at least one raised, or was skipped after another raised
MAX_WAITING = 50_000  # callbacks whose dispatch has not arrived yet (bounded; oldest go)
MAX_ROWS = 200_000  # rows with callbacks remembered before evicted rows are forgotten


def flags_of(outcome: str) -> int:
    if outcome == wire.DISCARDED:
        return HAS_CALLBACKS | DISCARDED
    if outcome in (wire.RAISED, wire.SKIPPED):
        return HAS_CALLBACKS | FAILED
    return HAS_CALLBACKS


class CommitCallbacks:
    """Each dispatch row's callbacks, and the "cb" flags column kept in step.

    A callback is sent when its fate is known: usually after its dispatch (the commit
    comes later), but before it when it ran at once in autocommit. So a callback whose
    dispatch is not stored yet waits, keyed by (process index, dispatch id), and is
    adopted when that dispatch is stored (``adopt``).
    """

    def __init__(self) -> None:
        self.by_row: dict[int, list[wire.OnCommit]] = {}
        self.waiting: dict[tuple[int, int], list[wire.OnCommit]] = {}
        self.touched: list[int] = []  # older rows whose flags changed (the views refresh)

    def add(self, store: Any, proc: int, event: wire.OnCommit, row: int | None) -> None:
        """Attach ``event`` (names resolved) to ``row``, its dispatch's absolute row, or
        wait for that dispatch when ``row`` is None (or no longer stored)."""
        if row is None or row not in store:
            if len(self.waiting) >= MAX_WAITING:
                del self.waiting[next(iter(self.waiting))]
            self.waiting.setdefault((proc, event.dispatch), []).append(event)
            return
        self._attach(store, row, [event])
        self.touched.append(row)

    def adopt(self, store: Any, start: int, spans: Sequence[tuple[int, int, int]],
              ids: Sequence[int]) -> None:
        """Attach the waiting callbacks of a batch just stored from row ``start``."""
        if not self.waiting:
            return
        waiting = self.waiting
        for proc, begin, end in spans:
            for i in range(begin, end):
                events = waiting.pop((proc, int(ids[i])), None)
                if events is not None:
                    self._attach(store, start + i, events)

    def _attach(self, store: Any, row: int, events: list[wire.OnCommit]) -> None:
        if len(self.by_row) >= MAX_ROWS:
            first = store.first
            self.by_row = {r: v for r, v in self.by_row.items() if r >= first}
        self.by_row.setdefault(row, []).extend(events)
        flags = store.dispatches.columns["cb"]
        i = row % store.capacity
        for event in events:
            flags[i] |= flags_of(event.outcome)

    def of(self, row: int) -> list[wire.OnCommit]:
        """The callbacks row ``row``'s receivers queued, in the order their fates came."""
        return list(self.by_row.get(row, ()))

    def take_touched(self) -> list[int]:
        touched, self.touched = self.touched, []
        return touched

    def clear(self) -> None:
        self.by_row.clear()
        self.waiting.clear()
        self.touched.clear()


def tx_of(alias: str | None, depth: int) -> wire.TxContext | None:
    """A stored row's transaction context (depth 0: none)."""
    return None if depth <= 0 or alias is None else wire.TxContext(alias, depth)


def tx_columns(txs: Sequence[Any], intern_many: Any) -> tuple[list[Any], Any]:
    """The "tx_alias" and "tx_depth" columns of a batch's resolved TxContexts (or None)."""
    if not any(txs):
        return intern_many([None] * len(txs)), np.zeros(len(txs), np.int16)
    aliases = [None if t is None else t[0] for t in txs]
    depths = np.fromiter((0 if t is None else min(t[1], 32_767) for t in txs), np.int16,
                         len(txs))
    return intern_many(aliases), depths
