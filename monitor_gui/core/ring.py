"""A bounded columnar ring buffer of numpy arrays addressed by absolute row numbers."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from typing import Any

import numpy as np


def _as_array(values: Sequence[Any], dtype: np.dtype) -> np.ndarray:
    """Convert a column batch, clamping integers that do not fit (the input is untrusted)."""
    try:
        return np.asarray(values, dtype=dtype)
    except (OverflowError, ValueError, TypeError):
        # Rare slow path: a peer sent an int beyond the column's range. Clamp rather than
        # drop the event: the row stays visible and the rest of the batch is unaffected.
        info = np.iinfo(dtype)
        return np.asarray(
            [min(max(int(v), info.min), info.max) for v in values], dtype=dtype
        )


class Ring:
    """Fixed-capacity columns; absolute row ``i`` lives at physical index ``i % capacity``.

    Rows ``[first, end)`` are live. Appending past capacity evicts from the front by
    moving ``first``; nothing is ever copied or shifted, so numpy views handed out for a
    query stay valid until the rows they index are overwritten.
    """

    def __init__(self, capacity: int, columns: dict[str, Any]) -> None:
        if capacity < 1:
            raise ValueError("capacity must be at least 1")
        self.capacity = capacity
        self.first = 0
        self.end = 0
        # np.zeros maps untouched pages lazily, so an empty store costs almost no RSS.
        self.columns: dict[str, np.ndarray] = {
            name: (np.empty(capacity, dtype=object) if dtype is object
                   else np.zeros(capacity, dtype=dtype))
            for name, dtype in columns.items()
        }
        self._specs = [(name, column, column.dtype == object)
                       for name, column in self.columns.items()]

    def __len__(self) -> int:
        return self.end - self.first

    def append(self, values: dict[str, Sequence[Any]], count: int) -> int:
        """Append ``count`` rows given as one sequence per column; return rows evicted."""
        if count <= 0:
            return 0
        cap = self.capacity
        skip = max(0, count - cap)  # a batch larger than the ring keeps only its tail
        n = count - skip
        phys = (self.end + skip) % cap
        split = min(n, cap - phys)
        for name, column, is_object in self._specs:
            data = values[name]
            if skip:
                data = data[skip:]
            if is_object:
                # fromiter stores each item as one object (a list would be read as rows).
                data = np.fromiter(data, dtype=object, count=n)
            elif split == n:
                try:  # the common case: numpy converts the list straight into the slot
                    column[phys:phys + n] = data
                    continue
                except (OverflowError, ValueError, TypeError):
                    data = _as_array(data, column.dtype)  # clamps what does not fit
            else:
                data = _as_array(data, column.dtype)
            column[phys:phys + split] = data[:split]
            if split < n:
                column[:n - split] = data[split:]
        self.end += count
        old_first = self.first
        # Slots of rows pushed out were just overwritten, so moving ``first`` is enough.
        self.first = max(self.first, self.end - cap)
        return self.first - old_first

    def evict_to(self, new_first: int) -> int:
        """Drop rows before ``new_first``; return how many were dropped."""
        new_first = min(max(new_first, self.first), self.end)
        dropped = new_first - self.first
        if dropped:
            # Release Python objects of dropped rows now rather than when overwritten.
            for column in self.columns.values():
                if column.dtype == object:
                    for lo, hi, _ in self.segments(self.first, new_first):
                        column[lo:hi] = None
            self.first = new_first
        return dropped

    def segments(self, lo: int | None = None, hi: int | None = None
                 ) -> Iterator[tuple[int, int, int]]:
        """Physical slices covering absolute rows [lo, hi): (phys_lo, phys_hi, abs_lo)."""
        lo = self.first if lo is None else max(lo, self.first)
        hi = self.end if hi is None else min(hi, self.end)
        cap = self.capacity
        while lo < hi:
            phys = lo % cap
            n = min(hi - lo, cap - phys)
            yield phys, phys + n, lo
            lo += n

    def get(self, name: str, row: int) -> Any:
        return self.columns[name][row % self.capacity]

    def take(self, name: str, rows: np.ndarray) -> np.ndarray:
        """Values of column ``name`` at absolute ``rows`` (a copy of just those rows)."""
        return self.columns[name][np.asarray(rows, dtype=np.int64) % self.capacity]

    def put(self, name: str, rows: np.ndarray, values: Any) -> None:
        self.columns[name][np.asarray(rows, dtype=np.int64) % self.capacity] = values

    def clear(self) -> None:
        self.evict_to(self.end)
        self.first = self.end = 0
