"""How often the current selection of dispatches used each graph edge (filtered counts).

A small read-only adapter over the core store for filters the graph cannot express by
hiding signals (process, outcome, text, sender/receiver node). Sorting a million pairs
(np.unique) took ~260 ms here; instead every sender, signal and receiver that has an edge
gets a dense index through a lookup table and the pairs are counted with one bincount.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from monitor_gui.core.graph import SENDER_TO_SIGNAL, SIGNAL_TO_RECEIVER, EdgeKey


def _dense(state: Any, names: list[str]) -> np.ndarray:
    """Lookup table: interned string id -> index into ``names`` (-1 for anything else)."""
    lut = np.full(len(state.strings) + 1, -1, np.int64)
    for i, name in enumerate(names):
        sid = state.strings.lookup(name)
        if sid is not None:
            lut[sid] = i
    return lut


def _pairs(a: np.ndarray, b: np.ndarray, na: int, nb: int) -> list[tuple[int, int, int]]:
    """(i, j, how many times) for each pair present in the columns ``a``, ``b``."""
    keep = (a >= 0) & (b >= 0)
    counts = np.bincount(a[keep] * nb + b[keep], minlength=na * nb)
    found = np.flatnonzero(counts)
    return [(int(p) // nb, int(p) % nb, int(n)) for p, n in zip(found, counts[found], strict=True)]


def edge_counts(state: Any, rows: np.ndarray) -> dict[EdgeKey, int]:
    """Calls per edge key (kind, src, dst) made by the dispatches at absolute ``rows``."""
    store = state.store
    counts: dict[EdgeKey, int] = {}
    rows = rows[rows >= store.first]
    if not len(rows):
        return counts
    edges = state.graph.edges()
    senders = sorted({e.src for e in edges if e.kind == SENDER_TO_SIGNAL})
    signals = sorted({e.src if e.kind == SIGNAL_TO_RECEIVER else e.dst for e in edges})
    labels = sorted({e.dst for e in edges if e.kind == SIGNAL_TO_RECEIVER})
    sender_lut, signal_lut = _dense(state, senders), _dense(state, signals)
    sig = signal_lut[store.column("signal", rows)]
    snd = sender_lut[store.column("sender", rows)]
    for i, j, n in _pairs(snd, sig, len(senders), len(signals)):
        counts[(SENDER_TO_SIGNAL, senders[i], signals[j])] = n
    # Receiver rows of these dispatches: only the ring range from the first one's rstart.
    selected = np.zeros(store.end - store.first, bool)
    selected[rows - store.first] = True
    label_lut = _dense(state, labels)
    ring = store.receivers
    start = int(store.column("rstart", rows[:1])[0])
    for lo, hi, _ in ring.segments(lo=start):
        owners = ring.columns["dispatch"][lo:hi]
        live = owners >= store.first  # receiver rows can outlive their evicted dispatch
        owners, rlabels = owners[live], ring.columns["label"][lo:hi][live]
        hit = selected[owners - store.first]
        if not hit.any():
            continue
        owner_sig = signal_lut[store.column("signal", owners[hit])]
        for i, j, n in _pairs(owner_sig, label_lut[rlabels[hit]], len(signals), len(labels)):
            key = (SIGNAL_TO_RECEIVER, signals[i], labels[j])
            counts[key] = counts.get(key, 0) + n
    return counts


def add_counts(total: dict[EdgeKey, int], more: dict[EdgeKey, int]) -> None:
    for key, n in more.items():
        total[key] = total.get(key, 0) + n


def needs_dimming(filter_: Any) -> bool:
    """True if the filter narrows more than the signal set (which the graph shows by hiding)."""
    if filter_ is None:
        return False
    return bool(filter_.senders is not None or filter_.receivers is not None
                or filter_.processes is not None or filter_.request is not None
                or filter_.outcome is not None or filter_.text
                or filter_.t0 is not None or filter_.t1 is not None)
