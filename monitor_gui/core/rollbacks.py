"""Rows whose transaction, or a savepoint around them, was rolled back (``wire.Rollback``):
what their receivers wrote to the database is gone."""

from __future__ import annotations

from bisect import bisect_left
from collections.abc import Sequence
from typing import Any

import numpy as np

from django_probe import wire

ROLLED_BACK = 8  # a bit of the store's "cb" column (next to transactions' callback bits)
ROLLED_BACK_BY_TEST = 16  # the same, by Django's test framework (a TestCase's test ended)
UNDONE = ROLLED_BACK | ROLLED_BACK_BY_TEST
MAX_OPEN = 100_000  # transactions remembered (those that commit are never told)
MAX_PENDING = 10_000  # rollbacks waiting for the end of an apply() call


class RolledBack:
    """Marks the rows a ``wire.Rollback`` undid.

    A dispatch's ``TxContext.serial`` names its transaction within its process instance;
    ``note`` remembers where each (process, serial) has rows. A Rollback marks,
    from that row on, the rows of the same process, thread and alias that ran inside a
    transaction and started before the rollback: all of them for a whole transaction,
    those that started after the savepoint was made for a savepoint. (On one thread a
    connection is in one transaction at a time, so no other transaction's rows match.)

    Rollbacks are applied at the end of an ``apply()`` call (``resolve``): a frame's other
    events are handled before its dispatches are stored, and the dispatches a rollback
    undid always come before it in its process's stream.
    """

    def __init__(self) -> None:
        # (process, serial) -> the first row of each batch that held the transaction, and
        # the newest start among its rows up to that batch (never decreasing): a savepoint
        # rollback skips the batches whose rows all began before the savepoint was made.
        self.spans: dict[tuple[int, int], tuple[list[int], list[int]]] = {}
        self.pending: list[tuple[int, wire.Rollback]] = []
        self.touched: list[int] = []  # rows marked since take_touched() (views refresh)
        self.count = 0  # rollbacks applied that undid at least one stored row

    def note(self, start: int, procs: Sequence[int], txs: Sequence[Any],
             ts: Sequence[int]) -> None:
        """Remember where the transactions of a batch stored from row ``start`` are."""
        if not any(txs):  # (most batches: no row ran in a transaction; checked at C speed)
            return
        serials = np.fromiter((0 if t is None else t[2] for t in txs), np.int64, len(txs))
        inside = np.flatnonzero(serials > 0)
        if not len(inside):
            return
        pairs = np.stack([np.asarray(procs, np.int64)[inside], serials[inside]], axis=1)
        keys, firsts, inverse = np.unique(pairs, axis=0, return_index=True,
                                          return_inverse=True)
        newest = np.full(len(keys), np.iinfo(np.int64).min, np.int64)
        np.maximum.at(newest, inverse.reshape(-1), np.asarray(ts, np.int64)[inside])
        if len(self.spans) + len(keys) > MAX_OPEN:
            self.spans.clear()  # (a commit is never told: forget them all, rarely)
        for (proc, serial), i, top in zip(keys.tolist(), firsts.tolist(), newest.tolist(),
                                          strict=True):
            rows, tops = self.spans.setdefault((proc, serial), ([], []))
            rows.append(start + int(inside[i]))
            tops.append(max(top, tops[-1]) if tops else top)

    def add(self, proc: int, event: wire.Rollback) -> None:
        if len(self.pending) < MAX_PENDING:
            self.pending.append((proc, event))

    def resolve(self, store: Any) -> None:
        """Mark the rows of the rollbacks that came since the last call."""
        pending, self.pending = self.pending, []
        for proc, event in pending:
            key = (proc, event.serial)
            spans = self.spans.pop(key, None) if event.whole else self.spans.get(key)
            if spans is None:
                continue
            rows, tops = spans
            i = 0 if event.whole or not event.since else bisect_left(tops, event.since)
            if i < len(rows) and self._mark(store, proc, event, rows[i]):
                self.count += 1

    def _mark(self, store: Any, proc: int, event: wire.Rollback, start: int) -> bool:
        ring = store.dispatches
        cols = ring.columns
        alias = store.strings.intern(event.alias)
        since = 0 if event.whole else event.since
        bit = ROLLED_BACK_BY_TEST if event.by_test else ROLLED_BACK
        marked = False
        for lo, hi, base in ring.segments(start):
            mask = cols["proc"][lo:hi] == proc
            mask &= cols["tid"][lo:hi] == event.tid
            mask &= cols["tx_alias"][lo:hi] == alias
            mask &= cols["tx_depth"][lo:hi] > 0
            ts = cols["ts"][lo:hi]
            mask &= ts <= event.ts
            if since:
                mask &= ts >= since
            flags = cols["cb"][lo:hi]
            new = mask & ((flags & bit) == 0)
            if new.any():
                flags[new] |= bit
                self.touched += (np.flatnonzero(new) + base).tolist()
            marked = marked or bool(mask.any())
        return marked

    def take_touched(self) -> list[int]:
        touched, self.touched = self.touched, []
        return touched

    def clear(self) -> None:
        self.spans.clear()
        self.pending.clear()
        self.touched.clear()
        self.count = 0
