"""Incremental sender -> signal -> receiver graph with per-edge timing aggregates."""

from __future__ import annotations

from dataclasses import dataclass

SENDER_TO_SIGNAL = "sender->signal"
SIGNAL_TO_RECEIVER = "signal->receiver"
EdgeKey = tuple[str, str, str]  # (kind, src, dst)


def receiver_label(module: str, name: str) -> str:
    """A receiver's node label: "module.qualname", or the name alone without a module."""
    return f"{module}.{name}" if module else name


@dataclass(slots=True, eq=False)
class Edge:
    """Aggregates of one edge, updated in place as events arrive."""

    kind: str
    src: str
    dst: str
    count: int = 0  # dispatches (sender->signal) or receiver calls that ran (signal->receiver)
    errors: int = 0  # dispatches that raised / receiver calls that raised
    total_ns: int = 0
    max_ns: int = 0
    last_ts: int = 0  # Unix ns of the latest call; 0 if it never fired
    known: bool = False  # present in a topology snapshot (connected right now)
    skipped: int = 0  # receiver calls skipped because an earlier receiver raised

    @property
    def key(self) -> EdgeKey:
        return (self.kind, self.src, self.dst)

    @property
    def mean_ns(self) -> float:
        return self.total_ns / self.count if self.count else 0.0


@dataclass(slots=True, frozen=True)
class Node:
    kind: str  # "sender" | "signal" | "receiver"
    name: str
    count: int  # dispatches sent / received, or receiver calls
    errors: int
    fired: bool  # it took part in at least one stored-or-evicted dispatch
    known_only: bool  # known from topology only (connected but never fired)
    last_ts: int = 0


class SignalGraph:
    """Edges keyed by interned ids for the hot path; nodes derived on demand (few hundred)."""

    def __init__(self) -> None:
        self.sent: dict[tuple[int, int], Edge] = {}  # (sender id, signal id)
        self.calls: dict[tuple[int, int], Edge] = {}  # (signal id, receiver label id)
        self.known_signals: set[str] = set()

    def edges(self) -> list[Edge]:
        return [*self.sent.values(), *self.calls.values()]

    def edge(self, kind: str, src: str, dst: str) -> Edge | None:
        for e in self.edges():
            if e.kind == kind and e.src == src and e.dst == dst:
                return e
        return None

    def nodes(self) -> list[Node]:
        acc: dict[tuple[str, str], list[int]] = {}  # -> [count, errors, last_ts, known]

        def add(kind: str, name: str, e: Edge, count: bool) -> None:
            n = acc.setdefault((kind, name), [0, 0, 0, 0])
            if count:
                n[0] += e.count
                n[1] += e.errors
            n[2] = max(n[2], e.last_ts)
            n[3] |= e.known

        for e in self.sent.values():
            add("sender", e.src, e, True)
            add("signal", e.dst, e, True)
        for e in self.calls.values():
            add("signal", e.src, e, False)
            add("receiver", e.dst, e, True)
        for name in self.known_signals:
            acc.setdefault(("signal", name), [0, 0, 0, 1])[3] = 1
        return [Node(kind, name, c, err, last > 0, last == 0 and bool(known), last)
                for (kind, name), (c, err, last, known) in acc.items()]

    def never_fired(self) -> list[Edge]:
        """Receivers connected (per topology) that have not been called so far."""
        return [e for e in self.edges() if e.kind == SIGNAL_TO_RECEIVER and e.known
                and e.last_ts == 0 and e.skipped == 0]

    def set_topology(self, wanted: dict[tuple[int, int], tuple[str, str]],
                     signals: set[str]) -> set[EdgeKey]:
        """Mark the union of connected receivers; return the edges whose ``known`` flag changed.

        ``wanted`` maps (signal id, receiver label id) to their names; an edge that has
        fired and one that is only connected are the same Edge object.
        """
        changed: set[EdgeKey] = set()
        self.known_signals = set(signals)
        for ids, edge in self.calls.items():
            known = ids in wanted
            if known != edge.known:
                edge.known = known
                changed.add(edge.key)
        for ids, (sig, rcv) in wanted.items():
            if ids not in self.calls:
                edge = self.calls[ids] = Edge(SIGNAL_TO_RECEIVER, sig, rcv, known=True)
                changed.add(edge.key)
        return changed

    def clear(self) -> None:
        self.sent.clear()
        self.calls.clear()
        self.known_signals.clear()
