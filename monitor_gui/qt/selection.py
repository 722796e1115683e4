"""The absolute store rows that pass the current filter, maintained incrementally."""

from __future__ import annotations

from typing import Any

import numpy as np


class RowSelection:
    """Ascending absolute rows shown by the table and the timeline.

    The store only appends at the end and evicts from the front, so a batch changes
    the selection by dropping a prefix and appending rows ``>= old_end``. With no
    filter the new rows are simply ``range(old_end, end)``; with one, the core's
    ``select`` decides, over the new rows only.
    """

    def __init__(self, state: Any) -> None:
        self.state = state
        self.filter: Any = None  # a core Filter, or None for "everything"
        # Room for the whole store plus headroom, so steady-state appends only ever
        # compact in place (see append) instead of reallocating inside a GUI slice.
        self._buf = np.empty(max(1024, state.store.capacity * 3 // 2), np.int64)
        self.lo = self.hi = 0

    def __len__(self) -> int:
        return self.hi - self.lo

    @property
    def rows(self) -> np.ndarray:
        return self._buf[self.lo:self.hi]

    def at(self, i: int) -> int:
        return int(self._buf[self.lo + i])

    def index_of(self, row: int) -> int | None:
        """Position of absolute ``row`` in the selection, if it is selected."""
        i = int(np.searchsorted(self.rows, row))
        return i if i < len(self) and self._buf[self.lo + i] == row else None

    def append(self, rows: np.ndarray) -> None:
        n = len(self)
        if self.hi + len(rows) > len(self._buf):
            if n + len(rows) <= len(self._buf):
                self._buf[:n] = self.rows  # compact in place
            else:
                buf = np.empty(2 * (n + len(rows)), np.int64)
                buf[:n] = self.rows
                self._buf = buf
            self.lo, self.hi = 0, n
        self._buf[self.hi:self.hi + len(rows)] = rows
        self.hi += len(rows)

    def reset(self, filter_: Any) -> None:
        """Recompute from scratch (a filter change or a clear; never on the hot path)."""
        self.filter = filter_
        self.lo = self.hi = 0
        store = self.state.store
        if filter_ is None:
            self.append(np.arange(store.first, store.end, dtype=np.int64))
        else:
            self.append(np.asarray(self.state.select(filter_), dtype=np.int64))

    # The controller calls these three between the models' begin*/end* notifications,
    # because Qt requires the announced row count to change only inside those brackets.
    def evictable(self) -> int:
        """How many leading rows the store has evicted since the last call."""
        return int(np.searchsorted(self.rows, self.state.store.first))

    def drop_front(self, n: int) -> None:
        self.lo += n

    def new_rows(self, old_end: int) -> np.ndarray:
        """Rows appended to the store since ``old_end`` that pass the filter."""
        store = self.state.store
        start = max(old_end, store.first)
        if store.end <= start:
            return np.empty(0, np.int64)
        if self.filter is None:
            return np.arange(start, store.end, dtype=np.int64)
        return np.asarray(self.state.select(self.filter, since=start), dtype=np.int64)
