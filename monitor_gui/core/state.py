"""MonitorState: the pure, bounded reducer from untrusted frames to what the GUI shows."""

from __future__ import annotations

import gc
import time
from collections.abc import Iterable
from dataclasses import dataclass, field
from itertools import chain
from typing import Any

import numpy as np

from django_probe import wire
from monitor_gui.core.batch import Batch, aggregate, build, merge
from monitor_gui.core.decode import Columns, decode, frame_columns
from monitor_gui.core.graph import EdgeKey, SignalGraph
from monitor_gui.core.nesting import Nesting
from monitor_gui.core.other_events import apply_other_event
from monitor_gui.core.processes import MAX_PROCESSES, ProcessInfo, ProcessKey, ProcessTable
from monitor_gui.core.query import Filter, select
from monitor_gui.core.signals import SignalStats
from monitor_gui.core.store import NO_ROW, DispatchStore
from monitor_gui.core.strings import StringTable
from monitor_gui.core.sub_batches import sub_batches


@dataclass(slots=True)
class Changes:
    """What one ``apply`` changed; the GUI updates incrementally from it."""

    appended: int = 0  # new rows are [store.end - appended, store.end)
    evicted: int = 0  # rows removed from the front (of those visible before this batch)
    edges_changed: set[EdgeKey] = field(default_factory=set)
    signals_changed: set[str] = field(default_factory=set)
    processes_changed: bool = False
    topology_changed: bool = False
    fired: list[EdgeKey] = field(default_factory=list)  # edges called in this batch
    # older rows whose parent/depth changed, or that got an on_commit callback's fate
    updated: list[int] = field(default_factory=list)


@dataclass(slots=True, frozen=True)
class Totals:
    events: int  # valid events received
    dispatches: int  # dispatch events applied (stored, including since-evicted ones)
    malformed: int  # frames + events rejected, all processes and the unknown bucket
    lost: int  # all loss: gaps in transit + dropped by the probe
    dropped: int  # the part of ``lost`` the probe dropped itself (queue full, zmq blocked)
    stored: int = 0  # rows currently in the store
    unresolved: int = 0  # the part of ``lost`` held for names never defined, then dropped


class MonitorState:
    """Apply batches of frames; expose store, graph, signals, processes and totals.

    Only one thread may call ``apply``/``clear`` (the GUI thread); reads from that same
    thread are consistent between calls. Malformed input is counted, never raised.
    """

    def __init__(self, capacity: int = 1_000_000, receiver_capacity: int | None = None,
                 max_processes: int = MAX_PROCESSES) -> None:
        self.strings = StringTable()
        self.process_table = ProcessTable(max_processes)
        self.store = DispatchStore(capacity, self.strings, self.process_table, receiver_capacity)
        self.graph = SignalGraph()
        self.signals: dict[str, SignalStats] = {}
        self.empty_counts: dict[tuple[str, str, str], int] = {}  # (signal, sender, method)
        # Live control: dispatches the probes' rules kept from streaming, [count, raised]
        # per (signal, sender, method) (docs/live-control.md).
        self.muted_counts: dict[tuple[str, str, str], list[int]] = {}
        self.topology: dict[ProcessKey, wire.Topology] = {}  # latest snapshot per process
        self.nesting = Nesting()
        self._labels: dict[tuple[int, int], int] = {}  # (module id, name id) -> label id
        self.dispatch_count = 0
        self.latest_ts = 0  # newest event timestamp seen (Unix ns); the clock for rates
        self._latest_at = 0  # monitor clock when latest_ts last advanced

    @property
    def processes(self) -> dict[ProcessKey, ProcessInfo]:
        return self.process_table.processes

    @property
    def totals(self) -> Totals:
        pt = self.process_table
        return Totals(pt.events, self.dispatch_count, pt.malformed, pt.lost, pt.dropped,
                      len(self.store),
                      sum(p.unresolved for p in pt.by_index if p.lying is None))

    def select(self, f: Filter, since: int | None = None) -> np.ndarray:
        return select(self.store, self.strings, self.process_table, f, since)

    def clear(self) -> None:
        """Forget everything (the next frame of each process sets a fresh seq baseline)."""
        self.store.clear()
        self.strings.clear()
        self.process_table.clear()
        self.graph.clear()
        self.signals.clear()
        self.empty_counts.clear()
        self.muted_counts.clear()
        self.topology.clear()
        self.nesting.clear()
        self._labels.clear()
        self.dispatch_count = 0
        self.latest_ts = 0
        self._latest_at = 0

    def signal_stats(self, name: str) -> SignalStats:
        """The SignalStats of ``name``, created on first use."""
        stats = self.signals.get(name)
        if stats is None:
            stats = self.signals[name] = SignalStats(name)
        return stats

    def apply(self, frames: Iterable[bytes | wire.Frame], now: int | None = None) -> Changes:
        """Decode, validate and apply a batch; ``now`` is the monitor clock (Unix ns).

        Never raises on bad input: undecodable frames and invalid events are counted
        (per process when the sender is identifiable) and skipped.
        """
        # The batch allocates many short-lived containers but creates no reference cycles;
        # the cyclic GC would repeatedly rescan them for nothing (it halves throughput).
        gc_was_enabled = gc.isenabled()
        gc.disable()
        now = time.time_ns() if now is None else now
        ch = Changes()
        store = self.store
        old_first, old_end = store.first, store.end
        updated: list[int] = []
        fired: dict[EdgeKey, None] = {}
        applied: list[Batch] = []
        try:
            # Bounded sub-batches keep the transient decoded objects (~1 KB per event)
            # from inflating RSS when a caller hands over a huge backlog at once.
            # Frames held too long for their names' definitions are dropped (counted); the
            # ones behind them may then resolve.
            expired = self.process_table.holds.expire(now, frame_columns)
            if expired:
                ch.processes_changed = True
                self._apply_columns(expired, now, ch, updated, applied)
            for chunk in sub_batches(frames):
                self._apply(chunk, now, ch, updated, applied)
            if applied:  # the graph and signal counts are folded once per call (batch.merge)
                merged = merge(applied)
                fired.update(dict.fromkeys(aggregate(merged, self.graph, self.strings)))
                self._count_signals(merged, ch)
        finally:
            if gc_was_enabled:
                gc.enable()
        self._update_signals(ch, now)
        store.rollbacks.resolve(store)
        updated += store.callbacks.take_touched()
        updated += store.rollbacks.take_touched()
        # Rows appended by this very call are new to the views anyway: report older ones.
        ch.updated = sorted({r for r in updated if store.first <= r < old_end})
        ch.evicted = min(store.first, old_end) - old_first
        ch.appended = store.end - max(old_end, store.first)
        ch.fired = list(fired)
        ch.edges_changed.update(fired)
        return ch

    def _apply(self, frames: list[bytes | wire.Frame], now: int, ch: Changes,
               updated: list[int], applied: list[Batch]) -> None:
        pt = self.process_table
        ready: list[tuple[ProcessInfo, Columns]] = []
        for data in frames:
            if isinstance(data, wire.Frame):
                frame = data
            else:
                try:
                    frame = decode(data)
                except wire.WireError:
                    pt.bad_frame(data, now)
                    ch.processes_changed = True
                    continue
            info = pt.account(frame, now)
            ch.processes_changed = True
            if info is None:  # a new process while the table is full: counted, skipped
                continue
            # Resolved with the process's names now, or held until they are defined.
            ready += [(info, c) for c in pt.holds.take(info, frame, data, now, frame_columns)]
        if ready:
            self._apply_columns(ready, now, ch, updated, applied)

    def _apply_columns(self, ready: list[tuple[ProcessInfo, Columns]], now: int, ch: Changes,
                       updated: list[int], applied: list[Batch]) -> None:
        store = self.store
        parts: list[Columns] = []
        procs: list[int] = []
        spans: list[tuple[int, int, int]] = []
        for info, part in ready:
            if part.count:
                begin = len(procs)
                parts.append(part)
                procs += [info.index] * part.count
                spans.append((info.index, begin, len(procs)))
                info.dispatches += part.count
            for event in part.others:
                apply_other_event(self, info, event, ch)
        if not procs:
            return
        if len(parts) == 1:  # the usual sub-batch: one frame, its columns as they are
            part = parts[0]
            cols, sites, reqs, rcols = part.dispatch, part.sites, part.requests, part.receivers
        else:
            def cat(columns: Any) -> list[list[Any]]:
                return [list(chain.from_iterable(c)) for c in zip(*columns, strict=True)]

            cols = cat(p.dispatch for p in parts)
            sites = cat(p.sites for p in parts)
            reqs = list(chain.from_iterable(p.requests for p in parts))
            rcols = cat(p.receivers for p in parts)
        start = store.end
        batch = build(cols, sites, reqs, rcols, procs, start, store.receivers.end,
                      self.strings, store.requests, store.threads, self._labels)
        self._store(batch, spans, batch.rows["did"], now, updated, applied)
        store.rollbacks.note(start, procs, cols[15], cols[1])

    def _store(self, batch: Batch, spans: list[tuple[int, int, int]], ids: Any, now: int,
               updated: list[int], applied: list[Batch]) -> None:
        """Link a built batch's nesting and append it to the store."""
        store = self.store
        old_end = store.end
        depth, parent, fixed = self.nesting.link(
            store, old_end, spans, ids, batch.parents, batch.nested)
        batch.rows["depth"] = depth
        batch.rows["parent"] = parent
        store.append(batch.rows, batch.count, batch.receivers, batch.rcount)
        store.callbacks.adopt(store, old_end, spans, ids)  # callbacks sent before these
        updated += fixed
        self.dispatch_count += batch.count
        batch.rows = batch.receivers = {}  # stored: keep only the aggregation inputs
        applied.append(batch)
        newest = int(batch.ts.max())
        if newest > self.latest_ts:
            self.latest_ts, self._latest_at = newest, now

    def _count_signals(self, batch: Batch, ch: Changes) -> None:
        """Per-signal counts of the (merged) batch, credited to the newest event's second."""
        sids, counts = np.unique(batch.signal, return_counts=True)
        errors = np.bincount(np.searchsorted(sids, batch.signal), weights=batch.error,
                             minlength=len(sids))
        get = self.strings.get
        second = self.latest_ts // 1_000_000_000
        for sid, n, err in zip(sids.tolist(), counts.tolist(), errors.tolist(), strict=True):
            stats = self.signal_stats(get(sid) or "")
            stats.count += n
            stats.errors += int(err)
            stats.add(second, n)
            ch.signals_changed.add(stats.name)

    def event_clock(self, now: int | None = None) -> int:
        """Event time "now": the newest event's timestamp plus monitor time since it came.

        Rates use it, so they decay when traffic stops, and a replayed recording (old
        timestamps) still gets meaningful rates.
        """
        now = time.time_ns() if now is None else now
        return self.latest_ts + max(0, now - self._latest_at)

    def refresh_rates(self, now: int | None = None) -> set[str]:
        """Recompute every signal's rate as of ``now`` (call it on a timer while idle)."""
        ch = Changes()
        self._update_signals(ch, time.time_ns() if now is None else now)
        return ch.signals_changed

    def _update_signals(self, ch: Changes, now: int) -> None:
        """Let rates decay with event time, also for signals absent from this batch."""
        second = self.event_clock(now) // 1_000_000_000
        for stats in self.signals.values():
            if stats.update_rate(second):
                ch.signals_changed.add(stats.name)


__all__ = ["NO_ROW", "Changes", "Filter", "MonitorState", "Totals"]
