"""The dispatch list's order: each nesting tree together, a parent before its children."""

from __future__ import annotations

from typing import Any

import numpy as np

# Ancestors followed per row. Real nesting is a few levels deep; the cap only bounds the
# work on hostile parent ids (the parent column can hold a cycle, see nesting.py).
MAX_LEVELS = 32


def tree_order(store: Any, rows: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """``(roots, perm)`` for absolute ``rows`` (all stored).

    ``roots[i]`` is the topmost *stored* ancestor of ``rows[i]`` (itself when it has none),
    and ``rows[perm]`` is the pre-order of the nesting trees: trees by root row (the
    order the list always had: roots complete, and so arrive, in that order), inside a
    tree each dispatch right after its parent, siblings by start time, then by row.
    Whole-array numpy steps, one per nesting level: flat traffic costs one ``take``.
    """
    rows = np.asarray(rows, dtype=np.int64)
    n = len(rows)
    if not n:
        return rows.copy(), np.empty(0, np.int64)
    first, end = store.first, store.end
    levels = [rows]  # levels[k][i]: the k-th ancestor of rows[i], or -1 (bottom-up)
    top = rows.copy()
    climbing = np.arange(n)
    for _ in range(MAX_LEVELS):
        up = store.column("parent", top[climbing])
        # NO_ROW (-1) and evicted parents both end the climb: first is never negative.
        ok = (up >= first) & (up < end)
        climbing, up = climbing[ok], up[ok]
        if not len(climbing):
            break
        level = np.full(n, -1, np.int64)
        level[climbing] = up
        top[climbing] = up
        levels.append(level)
    if len(levels) == 1:
        return rows.copy(), np.argsort(rows, kind="stable")
    chain = np.stack(levels)  # (levels, n)
    length = (chain >= 0).sum(axis=0)  # ancestors are contiguous from level 0
    col = np.arange(n)
    pairs: list[tuple[np.ndarray, np.ndarray]] = []  # (ts, row) per top-down level 1..
    # Top-down level k (1 = the root's child on the path) of each row; -1 sorts a row
    # before everything below it, so a parent comes first.
    for k in range(1, len(levels)):
        at = length - 1 - k
        valid = at >= 0
        node = np.where(valid, chain[np.maximum(at, 0), col], -1)
        ts = np.full(n, -1, np.int64)
        ts[valid] = store.column("ts", node[valid])
        pairs.append((ts, node))
    # np.lexsort sorts by its last key first: root, then level 1's (ts, row), level 2's...
    keys = [key for ts, node in reversed(pairs) for key in (node, ts)]
    return top, np.lexsort([*keys, top])
