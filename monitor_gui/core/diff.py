"""What changed in signal traffic between two recordings: edges, calls, p95 and errors.

Each recording is loaded into its own ``MonitorState`` and summarised with
``stats.edge_stats`` (calls, errors, p95 per edge); the two summaries are compared edge
by edge. The rule for "beyond noise" (``NoiseRule``, documented in
docs/monitor-core.md, "Comparing two runs"):

* calls of a (signal, receiver) edge present in both runs changed when
  ``|b - a| > max(calls_fraction * a, calls_sigmas * sqrt(a + b))``: a and b are taken as
  Poisson counts, whose difference has a standard deviation of ``sqrt(a + b)``; the
  relative part keeps a large, steady count from flagging a 1 % drift;
* p95 changed when both runs have at least ``p95_min_calls`` calls, the larger p95 is at
  least ``p95_factor`` times the smaller, and they differ by at least ``p95_floor_ns``
  (a receiver of 5 µs that takes 15 µs on a loaded machine is not news);
* new errors: a (signal, receiver) edge with errors in B and none in A (a new edge
  included), or an exception type B raised there that A never did.
"""

from __future__ import annotations

import gc
import math
from collections.abc import Iterable
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from django_probe import wire
from monitor_gui.core.graph import SIGNAL_TO_RECEIVER, EdgeKey

if TYPE_CHECKING:
    from monitor_gui.core.state import MonitorState
    from monitor_gui.core.stats import StatsTable

# numpy and the state are imported where they are used: the command line builds its
# parser from CRITERIA even where only the probe's dependencies are installed.

# The criteria ``signal-monitor diff --fail-on`` accepts, in report order (importance).
NEW_ERRORS, VANISHED_EDGES, NEW_EDGES, CALLS, P95 = (
    "new-errors", "vanished-edges", "new-edges", "calls", "p95")
CRITERIA = (NEW_ERRORS, VANISHED_EDGES, NEW_EDGES, CALLS, P95)
DEFAULT_FAIL_ON = (NEW_ERRORS, VANISHED_EDGES, NEW_EDGES)
LOAD_EVENTS = 8_000  # events per apply() while loading (as the window loads a recording)


@dataclass(frozen=True, slots=True)
class NoiseRule:
    """When a change of calls or p95 counts as real (see the module docstring)."""

    calls_fraction: float = 0.10
    calls_sigmas: float = 3.0
    p95_factor: float = 1.5
    p95_floor_ns: int = 50_000
    p95_min_calls: int = 20

    def calls_changed(self, a: int, b: int) -> bool:
        return abs(b - a) > max(self.calls_fraction * a, self.calls_sigmas * math.sqrt(a + b))

    def p95_changed(self, a_calls: int, a_p95: float, b_calls: int, b_p95: float) -> bool:
        if min(a_calls, b_calls) < self.p95_min_calls:
            return False
        lo, hi = sorted((a_p95, b_p95))
        return hi - lo >= self.p95_floor_ns and hi >= self.p95_factor * max(lo, 1.0)


@dataclass(frozen=True, slots=True)
class EdgeChange:
    """One finding about one edge; ``what`` is one of CRITERIA."""

    what: str
    kind: str  # graph edge kind: "sender->signal" or "signal->receiver"
    src: str
    dst: str
    calls_a: int = 0
    calls_b: int = 0
    errors_a: int = 0
    errors_b: int = 0
    p95_a_ns: float = 0.0
    p95_b_ns: float = 0.0
    new_exceptions: tuple[str, ...] = ()  # exception types raised in B only

    @property
    def importance(self) -> float:
        """Sort key within a group: larger first."""
        if self.what == P95:
            return max(self.p95_a_ns, self.p95_b_ns) / max(min(self.p95_a_ns, self.p95_b_ns), 1)
        if self.what == NEW_ERRORS:
            return self.errors_b
        if self.what == CALLS:
            return abs(self.calls_b - self.calls_a) / math.sqrt(self.calls_a + self.calls_b)
        return max(self.calls_a, self.calls_b)


@dataclass(slots=True)
class DiffReport:
    """Every finding, grouped by criterion, each group sorted by importance."""

    a: str
    b: str
    dispatches_a: int
    dispatches_b: int
    changes: dict[str, list[EdgeChange]] = field(default_factory=dict)
    rule: NoiseRule = field(default_factory=NoiseRule)

    def found(self, criteria: Iterable[str] = CRITERIA) -> list[str]:
        """The criteria (of ``criteria``) with at least one finding."""
        return [c for c in criteria if self.changes.get(c)]

    def all_changes(self) -> list[EdgeChange]:
        return [c for what in CRITERIA for c in self.changes.get(what, [])]

    def to_json(self, fail_on: Iterable[str] = DEFAULT_FAIL_ON) -> dict[str, Any]:
        fail_on = list(fail_on)
        return {
            "a": self.a, "b": self.b,
            "dispatches": {"a": self.dispatches_a, "b": self.dispatches_b},
            "rule": asdict(self.rule),
            "summary": {c: len(self.changes.get(c, [])) for c in CRITERIA},
            "fail_on": fail_on, "differs": bool(self.found(fail_on)),
            "changes": {c: [_change_json(x) for x in self.changes.get(c, [])]
                        for c in CRITERIA},
        }


def _change_json(c: EdgeChange) -> dict[str, Any]:
    d = asdict(c)
    del d["what"]
    d["new_exceptions"] = list(c.new_exceptions)
    return d


def load_state(path: str | Path, capacity: int = 1_000_000) -> MonitorState:
    """A MonitorState holding the recording at ``path`` (read as the window reads it).

    Raises OSError/RuntimeError for an unreadable file; bad lines are counted, not raised.
    """
    from monitor_gui.core.recording import read_recording
    from monitor_gui.core.state import MonitorState

    state = MonitorState(capacity=capacity)
    collecting = gc.isenabled()
    gc.disable()  # chunks of tuples hold no cycles; collections would walk the store
    try:
        chunk: list[wire.Frame] = []
        events = 0
        for frame in read_recording(path, plain=True):
            chunk.append(frame)
            events += len(frame.events) + 1
            if events >= LOAD_EVENTS:
                state.apply(chunk)
                chunk, events = [], 0
        state.apply(chunk)
    finally:
        if collecting:
            gc.enable()
    return state


def exception_types(state: MonitorState) -> dict[EdgeKey, set[str]]:
    """The exception types raised per (signal, receiver) edge, over the stored calls."""
    import numpy as np

    from monitor_gui.core.store import OUTCOME_CODES

    raised_code = OUTCOME_CODES[wire.RAISED]
    store = state.store
    ring = store.receivers
    cols = ring.columns
    found: set[tuple[int, int, int]] = set()
    for lo, hi, _ in ring.segments():
        raised = cols["outcome"][lo:hi] == raised_code
        owners = cols["dispatch"][lo:hi][raised]
        live = owners >= store.first
        if not live.any():
            continue
        owners = owners[live]
        sig = store.column("signal", owners).astype(np.int64)
        label = cols["label"][lo:hi][raised][live].astype(np.int64)
        exc = cols["exc_type"][lo:hi][raised][live].astype(np.int64)
        found.update(zip(sig.tolist(), label.tolist(), exc.tolist(), strict=True))
    get = state.strings.get
    out: dict[EdgeKey, set[str]] = {}
    for s, lab, e in found:
        key = (SIGNAL_TO_RECEIVER, get(s) or "", get(lab) or "")
        out.setdefault(key, set()).add(get(e) or "?")
    return out


def _index(table: StatsTable) -> dict[EdgeKey, int]:
    return {k: i for i, k in enumerate(table.keys())}


def diff_states(a: MonitorState, b: MonitorState, rule: NoiseRule | None = None,
                names: tuple[str, str] = ("A", "B")) -> DiffReport:
    """Compare the stored traffic of ``a`` (before) with ``b`` (after)."""
    from monitor_gui.core.stats import edge_stats

    rule = rule or NoiseRule()
    ta, tb = edge_stats(a), edge_stats(b)
    ia, ib = _index(ta), _index(tb)
    xa, xb = exception_types(a), exception_types(b)
    report = DiffReport(names[0], names[1], len(a.store), len(b.store), rule=rule)
    found: dict[str, list[EdgeChange]] = {c: [] for c in CRITERIA}

    def change(what: str, key: EdgeKey, **extra: Any) -> EdgeChange:
        i, j = ia.get(key), ib.get(key)
        return EdgeChange(
            what, *key,
            calls_a=0 if i is None else int(ta.calls[i]),
            calls_b=0 if j is None else int(tb.calls[j]),
            errors_a=0 if i is None else int(ta.errors[i]),
            errors_b=0 if j is None else int(tb.errors[j]),
            p95_a_ns=0.0 if i is None else float(ta.p95_ns[i]),
            p95_b_ns=0.0 if j is None else float(tb.p95_ns[j]), **extra)

    for key in ia.keys() - ib.keys():
        found[VANISHED_EDGES].append(change(VANISHED_EDGES, key))
    for key, j in ib.items():
        i = ia.get(key)
        if i is None:
            found[NEW_EDGES].append(change(NEW_EDGES, key))
        if key[0] != SIGNAL_TO_RECEIVER:
            continue  # calls, p95 and errors are judged per (signal, receiver)
        new_types = tuple(sorted(xb.get(key, set()) - xa.get(key, set())))
        errors_a = 0 if i is None else int(ta.errors[i])
        if int(tb.errors[j]) and (not errors_a or new_types):
            found[NEW_ERRORS].append(change(NEW_ERRORS, key, new_exceptions=new_types))
        if i is None:
            continue
        if rule.calls_changed(int(ta.calls[i]), int(tb.calls[j])):
            found[CALLS].append(change(CALLS, key))
        if rule.p95_changed(int(ta.calls[i]), float(ta.p95_ns[i]),
                            int(tb.calls[j]), float(tb.p95_ns[j])):
            found[P95].append(change(P95, key))
    for what, items in found.items():
        # Importance first; then the edge's names, so the report is stable.
        items.sort(key=lambda c: (-c.importance, c.kind != SIGNAL_TO_RECEIVER, c.src, c.dst))
        report.changes[what] = items
    return report


def diff_recordings(a: str | Path, b: str | Path, rule: NoiseRule | None = None
                    ) -> DiffReport:
    """``diff_states`` of two recordings, loaded one after the other."""
    return diff_states(load_state(a), load_state(b), rule, (str(a), str(b)))
