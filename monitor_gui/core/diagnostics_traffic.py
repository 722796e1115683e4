"""What wiring diagnostics read from stored traffic: keyword sets sent, receivers that raised."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from django_probe import wire
from monitor_gui.core.store import OUTCOME_CODES, unpack_kwargs

SAMPLE_ROWS = 16  # newest dispatches read per (signal, sender): key sets rarely vary
TRUNCATED = "…"  # the key the probe adds when it kept only the first kwargs
_RAISED = OUTCOME_CODES[wire.RAISED]
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
