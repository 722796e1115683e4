"""Barycentre ordering of the graph's three columns, to keep edges from crossing.

Qt-free. Each block of rows (a node, or an app group with its members kept together)
moves to the mean position of the rows it is wired to, sweeping the outer columns against
the signals and the signals against both, a few times (Sugiyama's layered layout, its
second step). Folded "+N more" rows stay last.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from typing import Any

SWEEPS = 3  # barycentre passes (each orders the outer columns, then the signals)
NODE, FOLD = "node", "fold"  # wiring's Row.role values used here


def order_columns(blocks: list[list[list[Any]]], edges: list[Any]) -> None:
    """Barycentre sweeps: each block moves to the mean position of its neighbours."""
    neighbours: dict[str, list[str]] = defaultdict(list)
    for e in edges:
        neighbours[e.src].append(e.dst)
        neighbours[e.dst].append(e.src)

    def positions(column: list[list[Any]]) -> dict[str, float]:
        flat = [r for b in column for r in b]
        n = max(len(flat) - 1, 1)
        return {r.key: i / n for i, r in enumerate(flat)}

    def centre(keys: Iterable[str], pos: dict[str, float]) -> float | None:
        found = [pos[k] for key in keys for k in neighbours.get(key, ()) if k in pos]
        return sum(found) / len(found) if found else None

    def sort_column(column: list[list[Any]], pos: dict[str, float]) -> None:
        old = positions(column)
        for b in column:  # members inside an expanded group, "+N more" stays last
            if len(b) > 2:
                members = [r for r in b[1:] if r.role == NODE]
                members.sort(key=lambda r: centre([r.key], pos) or old[r.key])
                b[1:] = members + [r for r in b[1:] if r.role != NODE]

        def key(b: list[Any]) -> tuple[bool, float]:
            c = centre([r.key for r in b], pos)
            return (b[0].role == FOLD, old[b[0].key] if c is None else c)

        column.sort(key=key)

    senders, signals, receivers = blocks
    for _ in range(SWEEPS):
        mid = positions(signals)
        sort_column(senders, mid)
        sort_column(receivers, mid)
        both = {**positions(senders), **positions(receivers)}
        sort_column(signals, both)
