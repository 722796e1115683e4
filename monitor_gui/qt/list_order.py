"""The dispatch list's rows in display order, with the nesting tree (root) of each."""

from __future__ import annotations

import numpy as np


class DisplayOrder:
    """Absolute rows in the order the list shows them, and the root row of each.

    ``roots`` is ascending (the primary sort key, see ``core.listorder.tree_order``), so
    one nesting tree is a contiguous run found by binary search. Like ``RowSelection``
    the buffer has headroom at the end and drops its front by moving ``lo``, so the
    common live changes (evict the oldest, append the newest) copy nothing else.
    """

    def __init__(self, capacity: int = 1024) -> None:
        self._buf = np.empty((2, max(16, capacity)), np.int64)  # [rows, roots]
        self.lo = self.hi = 0

    def __len__(self) -> int:
        return self.hi - self.lo

    @property
    def rows(self) -> np.ndarray:
        return self._buf[0, self.lo:self.hi]

    @property
    def roots(self) -> np.ndarray:
        return self._buf[1, self.lo:self.hi]

    def at(self, i: int) -> int:
        return int(self._buf[0, self.lo + i])

    def position(self, row: int) -> int | None:
        """Where absolute ``row`` is shown (a vectorised scan: user actions only)."""
        found = np.flatnonzero(self.rows == row)
        return int(found[0]) if len(found) else None

    def tree(self, root: int) -> tuple[int, int]:
        """The positions ``[a, b)`` of the rows of the tree whose root row is ``root``."""
        roots = self.roots
        return (int(np.searchsorted(roots, root, "left")),
                int(np.searchsorted(roots, root, "right")))

    def set(self, rows: np.ndarray, roots: np.ndarray) -> None:
        n = len(rows)
        if n > self._buf.shape[1]:
            self._buf = np.empty((2, 2 * n), np.int64)
        self._buf[0, :n] = rows
        self._buf[1, :n] = roots
        self.lo, self.hi = 0, n

    def append(self, rows: np.ndarray, roots: np.ndarray) -> None:
        n, m = len(self), len(rows)
        if self.hi + m > self._buf.shape[1]:
            if n + m > self._buf.shape[1]:
                buf = np.empty((2, 2 * (n + m)), np.int64)
                buf[:, :n] = self._buf[:, self.lo:self.hi]
                self._buf = buf
            else:
                self._buf[:, :n] = self._buf[:, self.lo:self.hi].copy()  # compact in place
            self.lo, self.hi = 0, n
        self._buf[0, self.hi:self.hi + m] = rows
        self._buf[1, self.hi:self.hi + m] = roots
        self.hi += m

    def drop_front(self, k: int) -> None:
        self.lo += k

    def clear(self) -> None:
        self.lo = self.hi = 0
