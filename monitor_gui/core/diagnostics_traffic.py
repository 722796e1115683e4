"""What wiring diagnostics read from stored traffic: keyword sets sent, receivers that
raised, receivers that ran for work a rollback undid."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from django_probe import wire
from monitor_gui.core.rollbacks import ROLLED_BACK
from monitor_gui.core.store import OUTCOME_CODES, unpack_kwargs
from monitor_gui.core.transactions import HAS_CALLBACKS

SAMPLE_ROWS = 16  # newest dispatches read per (signal, sender): key sets rarely vary
TRUNCATED = "…"  # the key the probe adds when it kept only the first kwargs
_RAISED = OUTCOME_CODES[wire.RAISED]
_RETURNED = OUTCOME_CODES[wire.RETURNED]
ROBUST = frozenset({"send_robust", "asend_robust"})


def keyword_sets(state: Any, signals: set[str] | None = None
                 ) -> dict[tuple[str, str], set[frozenset[str]]]:
    """(signal, sender) -> the distinct sets of keyword names its newest dispatches passed
    to each receiver (``signal`` and ``sender`` included), for ``signals`` only if given.
    A set the probe cut short keeps its ``…`` key, so a reader knows it may lack names."""
    store = state.store
    if not len(store):
        return {}
    signal = store.column("signal").astype(np.int64)
    sender = store.column("sender").astype(np.int64)
    pair = (signal << 32) | (sender & 0xFFFFFFFF)  # (a missing sender is -1)
    # Rows without receivers (STREAM_EMPTY) carry no kwargs summary: not evidence.
    wanted = store.column("nrecv") > 0
    if signals is not None:
        ids = [i for i in map(state.strings.lookup, signals) if i is not None]
        wanted &= np.isin(signal, np.asarray(ids, np.int64))
    order = np.flatnonzero(wanted)
    order = order[np.argsort(pair[order], kind="stable")]  # pairs together, oldest first
    ends = np.flatnonzero(np.diff(pair[order])) + 1
    rows: list[int] = []
    for group in np.split(order, ends) if len(order) else ():
        rows += group[-SAMPLE_ROWS:].tolist()
    absolute = np.asarray(rows, np.int64) + store.first
    slot, off, length = (store.column(c, absolute) for c in ("kwargs", "kwoff", "kwlen"))
    get = state.strings.get
    out: dict[tuple[str, str], set[frozenset[str]]] = {}
    for i, row in enumerate(rows):
        keys = frozenset(unpack_kwargs(slot[i], int(off[i]), int(length[i]))) | {"signal",
                                                                                 "sender"}
        key = (get(int(signal[row])) or "", get(int(sender[row])) or "")
        out.setdefault(key, set()).add(keys)
    return out


def mismatches(keysets: set[frozenset[str]], params: list[str], required: list[str],
               varkw: bool) -> tuple[list[str], list[str]]:
    """(names it would be passed but cannot take, required names some dispatch lacks)."""
    accepted = set(params)
    unexpected: set[str] = set()
    missing: set[str] = set()
    for keys in keysets:
        names = keys - {TRUNCATED}
        if not varkw:
            unexpected |= names - accepted
        if TRUNCATED not in keys:
            missing |= set(required) - names
    return sorted(unexpected), sorted(missing)


@dataclass(slots=True)
class Raised:
    """The calls of one receiver, for one signal and one kind of send, that raised."""

    count: int = 0
    exceptions: Counter[str] = field(default_factory=Counter)
    file: str = ""  # where the receiver is defined (from the calls)
    line: int = 0


def raised_receivers(state: Any) -> dict[tuple[str, str, bool], Raised]:
    """(signal, receiver label, under send_robust) -> its stored calls that raised."""
    store = state.store
    ring = store.receivers
    cols = ring.columns
    first = store.first
    method_names = wire.METHODS
    get = state.strings.get
    out: dict[tuple[str, str, bool], Raised] = {}
    for lo, hi, _ in ring.segments():
        hits = np.flatnonzero(cols["outcome"][lo:hi] == _RAISED) + lo
        owners = cols["dispatch"][hits]
        live = owners >= first  # receiver rows can outlive their evicted dispatch
        hits, owners = hits[live], owners[live]
        if not len(hits):
            continue
        signals = store.column("signal", owners)
        methods = store.column("method", owners)
        for i, hit in enumerate(hits.tolist()):
            robust = method_names[int(methods[i])] in ROBUST
            key = (get(int(signals[i])) or "", get(int(cols["label"][hit])) or "", robust)
            entry = out.get(key)
            if entry is None:
                entry = out[key] = Raised(file=get(int(cols["file"][hit])) or "",
                                          line=int(cols["line"][hit]))
            entry.count += 1
            entry.exceptions[get(int(cols["exc_type"][hit])) or "?"] += 1
    return out


@dataclass(slots=True)
class Undone:
    """The calls of one receiver that returned in dispatches a rollback undid."""

    count: int = 0
    file: str = ""  # where the receiver is defined (from the calls)
    line: int = 0


def undone_receivers(state: Any) -> dict[tuple[str, str], Undone]:
    """(signal, receiver label) -> its stored calls that returned in a dispatch a rollback
    undid, leaving out the dispatches where it queued an on_commit() callback itself (the
    callback's call site is in the receiver's file and function): what it did there outside
    the database was not undone."""
    store = state.store
    if not len(store):
        return {}
    first = store.first
    undone = (store.column("cb") & ROLLED_BACK) != 0
    if not undone.any():
        return {}
    # Receivers that used on_commit() in an undone dispatch: (row, file, function).
    used: set[tuple[int, str, str]] = set()
    for row in (np.flatnonzero(undone & ((store.column("cb") & HAS_CALLBACKS) != 0))
                + first).tolist():
        for cb in store.callbacks.of(row):
            if cb.site is not None:
                used.add((row, str(cb.site.file), str(cb.site.func)))
    used_rows = np.fromiter({row for row, _file, _func in used}, np.int64, len(used))
    ring = store.receivers
    cols = ring.columns
    get = state.strings.get
    out: dict[tuple[str, str], Undone] = {}
    for lo, hi, _ in ring.segments():
        owners = cols["dispatch"][lo:hi]
        live = owners >= first  # receiver rows can outlive their evicted dispatch
        hits = np.flatnonzero(live & (cols["outcome"][lo:hi] == _RETURNED))
        hits = hits[undone[owners[hits] - first]]
        if len(used_rows):  # (a few rows: checked one by one)
            keep = np.ones(len(hits), bool)
            for i in np.flatnonzero(np.isin(owners[hits], used_rows)).tolist():
                hit = int(hits[i]) + lo
                name = get(int(cols["name"][hit])) or ""
                keep[i] = (int(owners[hits[i]]), get(int(cols["file"][hit])) or "",
                           name.rsplit(".", 1)[-1]) not in used
            hits = hits[keep]
        if not len(hits):
            continue
        # Counted per (signal, label) at numpy speed: a test suite's recording is all undone.
        signals = store.column("signal", owners[hits]).astype(np.int64)
        pairs = (signals << 32) | (cols["label"][lo:hi][hits].astype(np.int64) & 0xFFFFFFFF)
        keys, firsts, n = np.unique(pairs, return_index=True, return_counts=True)
        for key, i, count in zip(keys.tolist(), firsts.tolist(), n.tolist(), strict=True):
            hit = int(hits[i]) + lo
            name = (get(key >> 32) or "", get(key & 0xFFFFFFFF) or "")
            entry = out.get(name)
            if entry is None:
                entry = out[name] = Undone(file=get(int(cols["file"][hit])) or "",
                                           line=int(cols["line"][hit]))
            entry.count += count
    return out
