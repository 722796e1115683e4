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
    """Which receiver of which signal sent which (sender, signal), from the stored rows.

    Vectorised (a click at 1M rows must not wait for a Python loop over every nested
    dispatch): each parent's receivers get their cumulative durations in one ``cumsum``,
    offset per parent so that one ``searchsorted`` over all of them finds, for every child,
    the receiver whose time slice holds the child's start.
    """
    store = state.store
    if not len(store):
        return {}
    parents = store.column("parent")
    nested = np.flatnonzero(parents >= store.first) + store.first
    if not len(nested):
        return {}
    prow = store.column("parent", nested)
    offset = store.column("ts", nested) - store.column("ts", prow)
    rstart = store.column("rstart", prow)
    nrecv = store.column("nrecv", prow)
    keep = nrecv > 0
    nested, prow, offset, rstart, nrecv = (x[keep] for x in (nested, prow, offset, rstart,
                                                             nrecv))
    if not len(nested):
        return {}
    # The distinct parents' receiver rows, back to back, and where each parent's begin.
    uniq, first_child = np.unique(prow, return_index=True)
    ustart, ucount = rstart[first_child], nrecv[first_child]
    begin = np.cumsum(ucount) - ucount
    rows = np.repeat(ustart - begin, ucount) + np.arange(int(ucount.sum()))
    durs = store.receivers.take("dur", rows)
    # Cumulative durations within each parent, made global and increasing by adding a
    # per-parent base larger than any parent's total.
    cum = np.cumsum(durs)
    cum -= np.repeat(cum[begin] - durs[begin], ucount)
    span = int(cum.max()) + int(offset.max(initial=0)) + 1
    base = np.repeat(np.arange(len(uniq), dtype=np.int64) * span, ucount)
    which = np.searchsorted(uniq, prow)
    hit = np.searchsorted(cum + base, np.clip(offset, 0, None) + which * span, side="right")
    hit = np.minimum(hit, begin[which] + ucount[which] - 1)  # past the last: the last one
    label = store.receivers.take("label", rows[hit])
    psig = store.column("signal", prow)
    keys = np.unique(np.stack([psig, label, store.column("sender", nested),
                               store.column("signal", nested)], axis=1), axis=0)
    get = state.strings.get
    links: Links = defaultdict(set)
    for p, r, snd, sig in keys.tolist():
        links[(get(p) or "", get(r) or "")].add((get(snd) or "", get(sig) or ""))
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
