"""Links nested dispatches (parent row, depth) whichever of parent and child arrives first."""

from __future__ import annotations

from collections.abc import Sequence
from itertools import repeat
from typing import Any

import numpy as np

from monitor_gui.core.store import NO_ROW, DispatchStore

_RECENT_MAX = 65_536  # dispatch ids remembered per process to resolve later children
_PENDING_MAX = 65_536  # parent ids awaited per process (a parent may never arrive)
_KIDS_MAX = 4 * _RECENT_MAX  # rows whose children are remembered for depth shifts
MAX_DEPTH = 32_767  # the depth column is int16
_FAST_CHAIN = 16  # nesting levels inside one batch resolved in whole-array passes
FAST_DEPTHS = True  # False: always walk chains one by one (tests compare both)


def _trim(d: dict[Any, Any], limit: int) -> None:
    if len(d) > limit:
        # Dicts keep insertion order: forgetting the oldest half keeps this amortised O(1).
        for key in list(d)[: len(d) - limit // 2]:
            del d[key]


def _add_kid(kids: dict[int, int | list[int]], row: int, child: int) -> None:
    found = kids.get(row)
    if found is None:
        kids[row] = child
    elif type(found) is int:
        kids[row] = [found, child]
    else:
        found.append(child)  # type: ignore[union-attr]


class Nesting:
    """Resolves ``Dispatch.parent`` (a dispatch id within one process) to absolute rows.

    The probe emits a dispatch when it ends, so children usually arrive before their
    parent: they wait in ``pending`` and are adopted (parent row set, the subtree's depth
    shifted) when the parent arrives. A child arriving after its parent finds it in
    ``recent``. A child whose parent is unknown has depth 1 and parent row NO_ROW.
    Work is per batch and only touches nested dispatches, so flat traffic costs ~nothing.
    """

    def __init__(self) -> None:
        # proc index -> ({dispatch id: row}, the previous generation of that dict)
        self.recent: dict[int, tuple[dict[int, int], dict[int, int]]] = {}
        self.pending: dict[int, dict[int, list[int]]] = {}  # proc -> {parent id: [rows]}
        # row -> its child row, or a list of them when it has several: single children
        # (the usual case) as plain ints keep the cyclic GC from tracking ~one list per
        # nested dispatch.
        self.kids: dict[int, int | list[int]] = {}

    def row_of(self, proc: int, dispatch_id: int) -> int | None:
        """The absolute row of a recent dispatch of process ``proc``, if known."""
        newer, older = self.recent.get(proc, ({}, {}))
        row = newer.get(dispatch_id, older.get(dispatch_id))
        return None if row is None else int(row)

    def link(self, store: DispatchStore, start: int, spans: list[tuple[int, int, int]],
             ids: Sequence[int], parent_ids: Sequence[int | None], nested: np.ndarray
             ) -> tuple[Any, Any, list[int]]:
        """Resolve a batch whose rows start at ``start``.

        ``spans`` are (process index, begin, end) slices of the batch; ``nested`` the
        ascending batch indices whose parent id is not None (only those need work).
        Returns the depth and parent-row columns for the batch, and the older rows updated.
        """
        n = len(ids)
        parent = np.full(n, NO_ROW, np.int64)
        adopted: dict[int, int] = {}  # older row -> its newly arrived parent row
        kids = self.kids
        for pidx, begin, end in spans:
            recent = self.recent.get(pidx)
            if recent is None:
                recent = self.recent[pidx] = ({}, {})
            elif len(recent[0]) >= _RECENT_MAX // 2:  # a new generation; the oldest goes
                recent = self.recent[pidx] = ({}, recent[0])
            newer, older = recent
            pending = self.pending.setdefault(pidx, {})
            frame_ids = ids[begin:end]
            newer.update(zip(frame_ids, range(start + begin, start + end), strict=True))
            adopting = False
            if pending:
                for did in pending.keys() & set(frame_ids):
                    prow = newer[did]
                    for child in pending.pop(did):
                        if child == prow:
                            continue
                        if child < start:
                            adopted[child] = prow
                        else:
                            parent[child - start] = prow
                            adopting = True
                        _add_kid(kids, prow, child)
            lo, hi = np.searchsorted(nested, (begin, end))
            if lo == hi:
                continue
            # Whole-column lookups; only the rare leftovers (a parent not seen yet, a
            # dispatch naming itself, a child adopted just above) take the loop.
            todo = nested[lo:hi]
            pids = list(map(parent_ids.__getitem__, todo.tolist()))
            prows = np.fromiter(map(newer.get, pids, map(older.get, pids, repeat(NO_ROW))),
                                np.int64, len(pids))
            rows = todo + start
            found = (prows != NO_ROW) & (prows != rows)
            if adopting:
                found &= parent[todo] == NO_ROW
            if not found.all():
                for i in np.flatnonzero(~found).tolist():
                    if parent[todo[i]] == NO_ROW:
                        pending.setdefault(pids[i], []).append(int(rows[i]))
            parent[todo[found]] = prows[found]
            new_parents, new_kids = prows[found].tolist(), rows[found].tolist()
            if len(set(new_parents)) == len(new_parents) and kids.keys().isdisjoint(new_parents):
                kids.update(zip(new_parents, new_kids, strict=True))
            else:
                for prow, child in zip(new_parents, new_kids, strict=True):
                    _add_kid(kids, prow, child)
            _trim(pending, _PENDING_MAX)
        depth = None if adopted or not FAST_DEPTHS else self._fast_depths(
            store, start, parent, parent_ids, nested)
        if depth is None:
            depth, updated = self._depths(store, start, parent.tolist(), parent_ids, nested,
                                          adopted)
        else:
            updated = []
        # Subtrees only need shifting while an ancestor is still awaited, which the probe's
        # end-of-dispatch order keeps short: forgetting the oldest entries is safe and O(1).
        _trim(kids, _KIDS_MAX)
        return depth, parent, updated

    @staticmethod
    def _fast_depths(store: DispatchStore, start: int, parent: list[int],
                     parent_ids: Sequence[int | None], nested: np.ndarray) -> Any:
        """Depths of a batch that adopted no older row, in whole-array steps; None if a
        chain inside the batch is too long or circular (then ``_depths`` walks them)."""
        depth = np.zeros(len(parent), np.int64)
        if not len(nested):
            return depth
        up = np.asarray(parent, np.int64)[nested]
        ring = store.dispatches
        # A nested dispatch whose parent is unknown has depth 1; under an older row, one
        # more than that row (0 if evicted); under a row of this batch, one more than it.
        base = np.ones(len(nested), np.int64)
        older = (up != NO_ROW) & (up < start)
        live = older & (up >= ring.first)
        if live.any():
            base[live] = ring.take("depth", up[live]).astype(np.int64) + 1
        inner = np.flatnonzero(up >= start)
        if not len(inner):
            depth[nested] = np.minimum(base, MAX_DEPTH)
            return depth
        depth[nested] = base
        child = nested[inner]
        above = up[inner] - start
        for _ in range(_FAST_CHAIN):
            new = depth[above] + 1
            if np.array_equal(new, depth[child]):
                return np.minimum(depth, MAX_DEPTH)
            depth[child] = new
        return None

    def _depths(self, store: DispatchStore, start: int, parent: list[int],
                parent_ids: Sequence[int | None], nested: np.ndarray,
                adopted: dict[int, int]) -> tuple[list[int], list[int]]:
        ring = store.dispatches
        first = ring.first
        kids = self.kids
        memo: dict[int, int] = {}
        fixed: dict[int, int] = {}  # older row -> new depth

        def depth_of(row: int) -> int:
            chain: list[int] = []  # batch rows walked upwards, child first
            seen: set[int] = set()
            node = row
            while True:
                if node in memo:
                    top = memo[node] + 1  # depth of chain[-1], the child of ``node``
                    break
                if node < start:  # an older row knows its depth (or was just shifted)
                    known = fixed.get(node)
                    if known is None:
                        known = int(ring.get("depth", node)) if node >= first else 0
                    top = known + 1
                    break
                if node in seen:  # hostile ids can form a cycle: cut it here
                    top = 1
                    break
                seen.add(node)
                chain.append(node)
                up = parent[node - start]
                if up == NO_ROW:  # the chain's top: a root, or a child of an unknown parent
                    top = 0 if parent_ids[node - start] is None else 1
                    break
                node = up
            if not chain:
                return top - 1
            for k, member in enumerate(reversed(chain)):
                memo[member] = min(top + k, MAX_DEPTH)
            return memo[row]

        for child, prow in adopted.items():  # shift adopted subtrees of older rows
            stack = [(child, depth_of(prow) + 1)]
            visited: set[int] = set()
            while stack:
                node, want = stack.pop()
                if node in visited or node >= start or node < first:
                    continue
                visited.add(node)
                fixed[node] = min(want, MAX_DEPTH)
                below = kids.get(node, ())
                stack.extend((k, want + 1) for k in ((below,) if type(below) is int else below))
        depth = [0] * len(parent)
        for i in nested.tolist():
            depth[i] = depth_of(start + i)
        # Report and write only what really changed (a depth may already have been right).
        live_fixed = [r for r in fixed if r >= first and fixed[r] != ring.get("depth", r)]
        updated = sorted({r for r in adopted if r >= first} | set(live_fixed))
        if updated:
            if live_fixed:
                ring.put("depth", np.asarray(live_fixed),
                         np.asarray([fixed[r] for r in live_fixed]))
            live_adopted = [r for r in adopted if r >= first]
            if live_adopted:
                ring.put("parent", np.asarray(live_adopted),
                         np.asarray([adopted[r] for r in live_adopted]))
        return depth, updated

    def clear(self) -> None:
        self.recent.clear()
        self.pending.clear()
        self.kids.clear()
