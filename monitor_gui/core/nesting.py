"""Links nested dispatches (parent row, depth) whichever of parent and child arrives first."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np

from monitor_gui.core.store import NO_ROW, DispatchStore

_RECENT_MAX = 65_536  # dispatch ids remembered per process to resolve later children
_PENDING_MAX = 65_536  # parent ids awaited per process (a parent may never arrive)


def _trim(d: dict[Any, Any], limit: int) -> None:
    if len(d) > limit:
        # Dicts keep insertion order: forgetting the oldest half keeps this amortised O(1).
        for key in list(d)[: len(d) - limit // 2]:
            del d[key]


class Nesting:
    """Resolves ``Dispatch.parent`` (a dispatch id within one process) to absolute rows.

    The probe emits a dispatch when it ends, so children usually arrive before their
    parent: such children wait in ``pending`` and are adopted (parent row set, whole
    subtree's depth shifted) when the parent arrives. A child arriving after its parent
    finds it in ``recent``. Until adopted a child has depth 1 and parent row NO_ROW.
    """

    def __init__(self) -> None:
        self.recent: dict[int, dict[int, int]] = {}  # proc index -> {dispatch id: row}
        self.pending: dict[int, dict[int, list[int]]] = {}  # proc -> {parent id: [rows]}
        self.kids: dict[int, list[int]] = {}  # row -> adopted child rows (for depth shifts)
        self._depth_fix: dict[int, int] = {}
        self._parent_fix: dict[int, int] = {}

    def begin(self, store: DispatchStore, cols: dict[str, list[Any]]
              ) -> Callable[[int, int, int, int | None], None]:
        """Return the per-dispatch hook for one batch; it appends ``depth`` and ``parent``."""
        start = store.end
        depth_col, parent_col = cols["depth"], cols["parent"]
        depth_fix, parent_fix = self._depth_fix, self._parent_fix
        ring = store.dispatches
        kids = self.kids

        def depth_of(row: int) -> int:
            if row >= start:
                return depth_col[row - start]
            if row in depth_fix:
                return depth_fix[row]
            return int(ring.get("depth", row)) if row >= ring.first else 0

        def set_depth(row: int, depth: int) -> None:
            if row >= start:
                depth_col[row - start] = depth
            else:
                depth_fix[row] = depth

        def nest(row: int, pidx: int, did: int, pdid: int | None) -> None:
            recent = self.recent.get(pidx)
            if recent is None:
                recent = self.recent[pidx] = {}
                self.pending[pidx] = {}
            if pdid is None:
                depth, prow = 0, NO_ROW
            else:
                prow = recent.get(pdid, NO_ROW)
                if prow != NO_ROW:
                    depth = depth_of(prow) + 1
                    kids.setdefault(prow, []).append(row)
                else:
                    depth = 1
                    pending = self.pending[pidx]
                    pending.setdefault(pdid, []).append(row)
                    _trim(pending, _PENDING_MAX)
            depth_col.append(min(depth, 32_767))
            parent_col.append(prow)
            recent[did] = row
            _trim(recent, _RECENT_MAX)
            children = self.pending[pidx].pop(did, None)
            if children is None:
                return
            kids.setdefault(row, []).extend(children)
            for child in children:
                if child >= start:
                    parent_col[child - start] = row
                else:
                    parent_fix[child] = row
            stack = [(child, depth + 1) for child in children]
            seen = {row}  # hostile ids can form cycles; visit every row at most once
            while stack:  # shift the adopted subtrees; nesting is shallow, so this is short
                node, want = stack.pop()
                if node in seen:
                    continue
                seen.add(node)
                want = min(want, 32_767)
                if depth_of(node) != want:
                    set_depth(node, want)
                    stack.extend((k, want + 1) for k in kids.get(node, ()))

        return nest

    def finish(self, store: DispatchStore) -> list[int]:
        """Write fix-ups for rows stored by earlier batches; return those still live rows."""
        ring = store.dispatches
        first = ring.first
        updated = sorted({r for r in (*self._depth_fix, *self._parent_fix) if r >= first})
        for fix, column in ((self._depth_fix, "depth"), (self._parent_fix, "parent")):
            live = [(r, v) for r, v in fix.items() if r >= first]
            if live:
                rows, values = zip(*live, strict=True)
                ring.put(column, np.asarray(rows), np.asarray(values))
            fix.clear()
        if len(self.kids) > 2 * _RECENT_MAX:
            self.kids = {r: k for r, k in self.kids.items() if r >= first}
        return updated

    def clear(self) -> None:
        self.recent.clear()
        self.pending.clear()
        self.kids.clear()
        self._depth_fix.clear()
        self._parent_fix.clear()
