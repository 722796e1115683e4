"""Focus: a node's neighbourhood, including the signals its receivers send in turn.

Qt-free. The cascade comes from the nesting data: a dispatch whose parent is stored was
sent by one of the parent's receivers. Receivers run one after the other, so the one
that was running is the one whose slice of the parent's time (their durations, in call
order) holds the child's start.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from typing import Any

import numpy as np

from monitor_gui.core.graph import SENDER_TO_SIGNAL, SIGNAL_TO_RECEIVER, Edge, EdgeKey

NodeKey = tuple[str, str]  # (kind, name)
# (parent signal, receiver label) -> {(child sender, child signal)}
Links = dict[tuple[str, str], set[tuple[str, str]]]


def cascade_links(state: Any) -> Links:
    """Which receiver of which signal sent which (sender, signal), from the stored rows."""
    store = state.store
    if not len(store):
        return {}
    parents = store.column("parent")
    nested = np.flatnonzero(parents >= store.first) + store.first
    if not len(nested):
        return {}
    get = state.strings.get
    prow = store.column("parent", nested)
    child_ts = store.column("ts", nested)
    child_sig = store.column("signal", nested)
    child_snd = store.column("sender", nested)
    links: Links = defaultdict(set)
    seen: set[tuple[int, int, int, int]] = set()
    ring = store.receivers
    for p, ts, sig, snd in zip(prow.tolist(), child_ts.tolist(), child_sig.tolist(),
                               child_snd.tolist(), strict=True):
        rows = store.receiver_rows(p)
        if not len(rows):
            continue
        offset = ts - int(store.dispatches.get("ts", p))
        durs = ring.take("dur", np.arange(rows.start, rows.stop))
        # The receiver whose slice of the parent's time holds the child's start.
        i = min(int(np.searchsorted(np.cumsum(durs), offset, side="right")), len(rows) - 1)
        label = int(ring.get("label", rows.start + i))
        psig = int(store.dispatches.get("signal", p))
        key = (psig, label, snd, sig)
        if key not in seen:
            seen.add(key)
            links[(get(psig) or "", get(label) or "")].add((get(snd) or "", get(sig) or ""))
    return dict(links)


def neighbourhood(edges: Iterable[Edge], links: Links, kind: str, name: str
                  ) -> tuple[set[NodeKey], set[EdgeKey]]:
    """The nodes and edges around (kind, name): upstream senders, downstream receivers and,
    transitively, the cascade of signals those receivers send."""
    sends: dict[str, set[str]] = defaultdict(set)  # signal -> senders
    sent: dict[str, set[str]] = defaultdict(set)  # sender -> signals
    receivers: dict[str, set[str]] = defaultdict(set)  # signal -> receivers
    receives: dict[str, set[str]] = defaultdict(set)  # receiver -> signals
    for e in edges:
        if e.kind == SENDER_TO_SIGNAL:
            sends[e.dst].add(e.src)
            sent[e.src].add(e.dst)
        elif e.kind == SIGNAL_TO_RECEIVER:
            receivers[e.src].add(e.dst)
            receives[e.dst].add(e.src)
    nodes: set[NodeKey] = {(kind, name)}
    edge_keys: set[EdgeKey] = set()
    calls: list[tuple[str, str]] = []  # (signal, receiver) pairs whose cascade to follow

    def down(signal: str, only: Iterable[str] | None = None) -> None:
        nodes.add(("signal", signal))
        for r in receivers.get(signal, ()) if only is None else only:
            nodes.add(("receiver", r))
            edge_keys.add((SIGNAL_TO_RECEIVER, signal, r))
            calls.append((signal, r))

    if kind == "sender":
        for s in sent.get(name, ()):
            edge_keys.add((SENDER_TO_SIGNAL, name, s))
            down(s)
    elif kind == "signal":
        for x in sends.get(name, ()):
            nodes.add(("sender", x))
            edge_keys.add((SENDER_TO_SIGNAL, x, name))
        down(name)
    elif kind == "receiver":
        for s in receives.get(name, ()):
            for x in sends.get(s, ()):
                nodes.add(("sender", x))
                edge_keys.add((SENDER_TO_SIGNAL, x, s))
            down(s, only=[name])
    done: set[tuple[str, str]] = set()
    while calls:
        call = calls.pop()
        if call in done:
            continue
        done.add(call)
        for sender, signal in links.get(call, ()):
            nodes.add(("sender", sender))
            edge_keys.add((SENDER_TO_SIGNAL, sender, signal))
            down(signal)
    return nodes, edge_keys
