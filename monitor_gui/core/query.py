"""Filters over the dispatch store, answered with numpy masks over the live rows."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Literal

import numpy as np

from monitor_gui.core.processes import ProcessKey, ProcessTable
from monitor_gui.core.store import KV_SEP, PAIR_SEP, DispatchStore
from monitor_gui.core.strings import StringTable

EMPTY = np.empty(0, dtype=np.int64)


@dataclass(frozen=True, slots=True)
class Filter:
    """What to show; every criterion given must match (None / "" means "any")."""

    signals: frozenset[str] | None = None  # dotted signal names
    senders: frozenset[str] | None = None
    receivers: frozenset[str] | None = None  # receiver labels, "module.qualname"
    processes: frozenset[ProcessKey | str] | None = None  # keys (host, pid, boot) or labels
    request: str | None = None  # request id
    outcome: Literal["raised", "slow"] | None = None  # raised: dispatch or a receiver raised
    slow_ms: float = 100.0  # threshold for outcome="slow" (total dispatch duration)
    text: str = ""  # case-insensitive substring of signal/sender/receiver names or kwargs
    t0: int | None = None  # Unix ns, inclusive
    t1: int | None = None  # Unix ns, exclusive

    @property
    def is_empty(self) -> bool:
        """True when nothing is filtered (slow_ms alone filters nothing)."""
        return self == Filter(slow_ms=self.slow_ms)


def _ids(strings: StringTable, names: Iterable[str]) -> np.ndarray:
    found = [strings.lookup(n) for n in names]
    return np.asarray([i for i in found if i is not None], dtype=np.int64)


def _receiver_hits(store: DispatchStore, label_ids: np.ndarray) -> np.ndarray:
    """Absolute dispatch rows that called any receiver in ``label_ids``."""
    ring = store.receivers
    hits = [ring.columns["dispatch"][lo:hi][np.isin(ring.columns["label"][lo:hi], label_ids)]
            for lo, hi, _ in ring.segments()]
    rows = np.unique(np.concatenate(hits)) if hits else EMPTY
    return rows[rows >= store.first]


def _text_match(stored: object, needle: str) -> bool:
    if stored is None:
        return False
    if isinstance(stored, str):
        return needle in stored.replace(KV_SEP, "=").replace(PAIR_SEP, " ").lower()
    return needle in " ".join(f"{k}={v}" for k, v in stored.items()).lower()  # type: ignore[attr-defined]


def select(store: DispatchStore, strings: StringTable, processes: ProcessTable,
           f: Filter, since: int | None = None) -> np.ndarray:
    """Absolute rows matching ``f``, ascending. Reads the store in place; never copies it.

    ``since``: only rows from that absolute row on (a live view asking for its new rows
    must not rescan the store, least of all the kwargs that ``text`` reads in Python).
    """
    ring = store.dispatches
    cols = ring.columns
    first, n = store.first, len(store)
    if n == 0 or (since is not None and since >= store.end):
        return EMPTY
    # Criteria that name things nobody ever sent match nothing: answer without scanning.
    tests: list[tuple[str, np.ndarray]] = []
    for column, names in (("signal", f.signals), ("sender", f.senders)):
        if names is not None:
            ids = _ids(strings, names)
            if not len(ids):
                return EMPTY
            tests.append((column, ids))
    if f.processes is not None:
        wanted = [p.index for p in processes.by_index
                  if p.key in f.processes or p.label in f.processes]
        if not wanted:
            return EMPTY
        tests.append(("proc", np.asarray(wanted, dtype=np.int64)))
    if f.request is not None:
        rid = store.requests.lookup(f.request)
        if rid is None:
            return EMPTY
        tests.append(("request", np.asarray([rid], dtype=np.int64)))
    keep: np.ndarray | None = None  # boolean over the live range [first, end)
    if f.receivers is not None:
        ids = _ids(strings, f.receivers)
        if not len(ids):
            return EMPTY
        keep = np.zeros(n, dtype=bool)
        keep[_receiver_hits(store, ids) - first] = True

    found = []
    for lo, hi, base in ring.segments(since):
        mask = np.ones(hi - lo, dtype=bool) if keep is None else keep[base - first:
                                                                      base - first + hi - lo]
        for column, ids in tests:
            col = cols[column][lo:hi]
            mask &= (col == ids[0]) if len(ids) == 1 else np.isin(col, ids)
        if f.outcome == "raised":
            mask &= cols["error"][lo:hi]
        elif f.outcome == "slow":
            mask &= cols["dur"][lo:hi] >= int(f.slow_ms * 1_000_000)
        if f.t0 is not None:
            mask &= cols["ts"][lo:hi] >= f.t0
        if f.t1 is not None:
            mask &= cols["ts"][lo:hi] < f.t1
        found.append(np.flatnonzero(mask) + base)
    rows = np.concatenate(found) if found else EMPTY
    if f.text:
        rows = _filter_text(store, strings, rows, f.text.lower())
    return rows.astype(np.int64, copy=False)


def _filter_text(store: DispatchStore, strings: StringTable, rows: np.ndarray,
                 needle: str) -> np.ndarray:
    ids = np.asarray(strings.matching(needle), dtype=np.int64)
    by_name = np.zeros(len(rows), dtype=bool)
    if len(ids):
        by_name |= np.isin(store.column("signal", rows), ids)
        by_name |= np.isin(store.column("sender", rows), ids)
        by_name |= np.isin(rows, _receiver_hits(store, ids))
    # kwargs are free-form: scan them only for rows the names did not already match.
    rest = np.flatnonzero(~by_name)
    if len(rest):
        kwargs = store.column("kwargs", rows[rest])
        by_name[rest] = [_text_match(k, needle) for k in kwargs]
    return rows[by_name]
