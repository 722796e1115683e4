"""MonitorState: the pure, bounded reducer from untrusted frames to what the GUI shows."""

from __future__ import annotations

import time
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from django_probe import wire
from monitor_gui.core.graph import SENDER_TO_SIGNAL, SIGNAL_TO_RECEIVER, Edge, EdgeKey, SignalGraph
from monitor_gui.core.nesting import Nesting
from monitor_gui.core.processes import ProcessInfo, ProcessKey, ProcessTable
from monitor_gui.core.query import Filter, select
from monitor_gui.core.signals import SignalStats
from monitor_gui.core.store import (
    DISPATCH_COLUMNS,
    METHOD_CODES,
    NO_ID,
    NO_ROW,
    OUTCOME_CODES,
    RECEIVER_COLUMNS,
    DispatchStore,
    pack_kwargs,
)
from monitor_gui.core.strings import NO_STRING, StringTable

_RAISED = OUTCOME_CODES[wire.RAISED]
_SKIPPED = OUTCOME_CODES[wire.SKIPPED]


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
    updated: list[int] = field(default_factory=list)  # older rows whose parent/depth changed


@dataclass(slots=True, frozen=True)
class Totals:
    events: int  # valid events received
    dispatches: int  # dispatch events applied (stored, including since-evicted ones)
    malformed: int  # frames + events rejected, all processes and the unknown bucket
    lost: int  # all loss: gaps in transit + dropped by the probe
    dropped: int  # the part of ``lost`` the probe dropped itself (queue full, zmq blocked)
    stored: int = 0  # rows currently in the store


class MonitorState:
    """Apply batches of frames; expose store, graph, signals, processes and totals.

    Only one thread may call ``apply``/``clear`` (the GUI thread); reads from that same
    thread are consistent between calls. Malformed input is counted, never raised.
    """

    def __init__(self, capacity: int = 1_000_000, receiver_capacity: int | None = None) -> None:
        self.strings = StringTable()
        self.process_table = ProcessTable()
        self.store = DispatchStore(capacity, self.strings, self.process_table, receiver_capacity)
        self.graph = SignalGraph()
        self.signals: dict[str, SignalStats] = {}
        self.empty_counts: dict[tuple[str, str, str], int] = {}  # (signal, sender, method)
        self.topology: dict[ProcessKey, wire.Topology] = {}  # latest snapshot per process
        self.nesting = Nesting()
        self.dispatch_count = 0
        self.latest_ts = 0  # newest event timestamp seen (Unix ns); the clock for rates

    @property
    def processes(self) -> dict[ProcessKey, ProcessInfo]:
        return self.process_table.processes

    @property
    def totals(self) -> Totals:
        pt = self.process_table
        return Totals(pt.events, self.dispatch_count, pt.malformed, pt.lost, pt.dropped,
                      len(self.store))

    def select(self, f: Filter) -> np.ndarray:
        return select(self.store, self.strings, self.process_table, f)

    def clear(self) -> None:
        """Forget everything (the next frame of each process sets a fresh seq baseline)."""
        self.store.clear()
        self.strings.clear()
        self.process_table.clear()
        self.graph.clear()
        self.signals.clear()
        self.empty_counts.clear()
        self.topology.clear()
        self.nesting.clear()
        self.dispatch_count = 0
        self.latest_ts = 0

    def _signal(self, name: str) -> SignalStats:
        stats = self.signals.get(name)
        if stats is None:
            stats = self.signals[name] = SignalStats(name)
        return stats

    def apply(self, frames: Iterable[bytes | wire.Frame], now: int | None = None) -> Changes:
        """Decode, validate and apply a batch; ``now`` is the monitor clock (Unix ns)."""
        now = time.time_ns() if now is None else now
        ch = Changes()
        store, pt, graph = self.store, self.process_table, self.graph
        intern = self.strings.intern
        cols: dict[str, list[Any]] = {name: [] for name in DISPATCH_COLUMNS}
        rcols: dict[str, list[Any]] = {name: [] for name in RECEIVER_COLUMNS}
        c_ts, c_dur, c_did, c_pdid = cols["ts"].append, cols["dur"].append, cols["did"].append, \
            cols["pdid"].append
        c_signal, c_sender, c_proc = cols["signal"].append, cols["sender"].append, \
            cols["proc"].append
        c_method, c_raised, c_error = cols["method"].append, cols["raised"].append, \
            cols["error"].append
        c_nrecv, c_rstart, c_thread = cols["nrecv"].append, cols["rstart"].append, \
            cols["thread"].append
        c_tid, c_request, c_kwargs = cols["tid"].append, cols["request"].append, \
            cols["kwargs"].append
        c_sfile, c_sline, c_sfunc = cols["site_file"].append, cols["site_line"].append, \
            cols["site_func"].append
        r_dispatch, r_label, r_name = rcols["dispatch"].append, rcols["label"].append, \
            rcols["name"].append
        r_module, r_file, r_line = rcols["module"].append, rcols["file"].append, \
            rcols["line"].append
        r_async, r_dur, r_outcome = rcols["is_async"].append, rcols["dur"].append, \
            rcols["outcome"].append
        r_exc, r_text = rcols["exc_type"].append, rcols["text"].append
        sent, calls, requests = graph.sent, graph.calls, store.requests
        fired: dict[EdgeKey, None] = {}
        sig_counts: dict[int, list[int]] = {}  # signal id -> [count, errors]
        nest = self.nesting.begin(store, cols)
        row = store.end
        rrow = store.receivers.end
        latest = self.latest_ts
        for data in frames:
            if isinstance(data, wire.Frame):
                frame = data
            else:
                try:
                    frame = wire.decode_frame(data)
                except Exception:  # WireError, or anything else a hostile frame provokes
                    pt.bad_frame(data, now)
                    ch.processes_changed = True
                    continue
            info = pt.account(frame, now)
            ch.processes_changed = True
            pidx = info.index
            for ev in frame.events:
                kind = ev[0]
                if kind != wire.KIND_DISPATCH:
                    self._other_event(info, ev, ch)
                    continue
                (_, ts, did, pdid, sig, snd, method, dur, thread, tid, site, req, kwargs,
                 receivers, raised) = ev
                sid = intern(sig)
                error = raised
                c_rstart(rrow)
                for rc in receivers:
                    label = f"{rc.module}.{rc.name}" if rc.module else rc.name
                    lid = intern(label)
                    outcome = OUTCOME_CODES[rc.outcome]
                    edge = calls.get((sid, lid))
                    if edge is None:
                        edge = calls[(sid, lid)] = Edge(SIGNAL_TO_RECEIVER, sig, label)
                    if outcome == _SKIPPED:
                        edge.skipped += 1
                        text = None
                    else:
                        edge.count += 1
                        rdur = rc.dur
                        edge.total_ns += rdur
                        if rdur > edge.max_ns:
                            edge.max_ns = rdur
                        if ts > edge.last_ts:
                            edge.last_ts = ts
                        if outcome == _RAISED:
                            edge.errors += 1
                            error = True
                            text = rc.exc_msg
                        else:
                            text = rc.value
                    fired[(SIGNAL_TO_RECEIVER, sig, label)] = None
                    r_dispatch(row)
                    r_label(lid)
                    r_name(intern(rc.name))
                    r_module(intern(rc.module))
                    r_file(intern(rc.file))
                    r_line(rc.line)
                    r_async(rc.is_async)
                    r_dur(rc.dur)
                    r_outcome(outcome)
                    r_exc(NO_STRING if rc.exc_type is None else intern(rc.exc_type))
                    r_text(text)
                    rrow += 1
                sndid = intern(snd)
                edge = sent.get((sndid, sid))
                if edge is None:
                    edge = sent[(sndid, sid)] = Edge(SENDER_TO_SIGNAL, snd, sig)
                edge.count += 1
                edge.total_ns += dur
                if dur > edge.max_ns:
                    edge.max_ns = dur
                if ts > edge.last_ts:
                    edge.last_ts = ts
                if error:
                    edge.errors += 1
                fired[(SENDER_TO_SIGNAL, snd, sig)] = None
                counts = sig_counts.get(sid)
                if counts is None:
                    counts = sig_counts[sid] = [0, 0]
                counts[0] += 1
                if error:
                    counts[1] += 1
                if ts > latest:
                    latest = ts
                nest(row, pidx, did, pdid)
                c_ts(ts)
                c_dur(dur)
                c_did(did)
                c_pdid(NO_ID if pdid is None else pdid)
                c_signal(sid)
                c_sender(sndid)
                c_proc(pidx)
                c_method(METHOD_CODES[method])
                c_raised(raised)
                c_error(error)
                c_nrecv(len(receivers))
                c_thread(intern(thread))
                c_tid(tid)
                if req is None:
                    c_request(NO_STRING)
                else:
                    rid = intern(req.id)
                    if rid not in requests:
                        requests[rid] = (intern(req.method), intern(req.path))
                    c_request(rid)
                c_kwargs(pack_kwargs(kwargs))
                if site is None:
                    c_sfile(NO_STRING)
                    c_sline(0)
                    c_sfunc(NO_STRING)
                else:
                    c_sfile(intern(site.file))
                    c_sline(site.line)
                    c_sfunc(intern(site.func))
                row += 1
        count = row - store.end
        old_first, old_end = store.first, store.end
        store.append(cols, count, rcols, rrow - store.receivers.end)
        ch.updated = self.nesting.finish(store)
        ch.evicted = min(store.first, old_end) - old_first
        ch.appended = store.end - max(old_end, store.first)
        self.dispatch_count += count
        self._per_process_dispatches(cols["proc"])
        ch.fired = list(fired)
        ch.edges_changed.update(fired)
        self.latest_ts = latest
        self._update_signals(sig_counts, ch)
        return ch

    def _per_process_dispatches(self, procs: list[int]) -> None:
        if procs:
            by_index = self.process_table.by_index
            for index, n in zip(*np.unique(np.asarray(procs), return_counts=True), strict=True):
                by_index[int(index)].dispatches += int(n)

    def _update_signals(self, sig_counts: dict[int, list[int]], ch: Changes) -> None:
        get = self.strings.get
        second = self.latest_ts // 1_000_000_000
        for sid, (n, errors) in sig_counts.items():
            stats = self._signal(get(sid) or "")
            stats.count += n
            stats.errors += errors
            stats.add(second, n)
            ch.signals_changed.add(stats.name)
        for stats in self.signals.values():
            if stats.update_rate(second):
                ch.signals_changed.add(stats.name)

    def _other_event(self, info: ProcessInfo, ev: Any, ch: Changes) -> None:
        kind = ev[0]
        if kind == wire.KIND_HEARTBEAT:
            ProcessTable.heartbeat(info, ev)
        elif kind == wire.KIND_COUNTS:
            for item in ev.items:
                key = (item.signal, item.sender, item.method)
                self.empty_counts[key] = self.empty_counts.get(key, 0) + item.count
                self._signal(item.signal).empty_count += item.count
                ch.signals_changed.add(item.signal)
        elif kind == wire.KIND_TOPOLOGY:
            self.topology[info.key] = ev
            self._apply_topology(ch)
        elif kind == wire.KIND_HELLO:
            info.info = dict(ev.info)

    def _apply_topology(self, ch: Changes) -> None:
        """Union the latest snapshot of every process into the graph's known edges."""
        intern = self.strings.intern
        wanted: dict[tuple[int, int], tuple[str, str]] = {}
        names: set[str] = set()
        for topo in self.topology.values():
            for wiring in topo.signals:
                names.add(wiring.name)
                sid = intern(wiring.name)
                for r in wiring.receivers:
                    label = f"{r.module}.{r.name}" if r.module else r.name
                    wanted[(sid, intern(label))] = (wiring.name, label)
        changed = self.graph.set_topology(wanted, names)
        flipped = {name for name, stats in self.signals.items() if stats.known != (name in names)}
        flipped |= names - self.signals.keys()
        for name in flipped:
            stats = self._signal(name)
            stats.known = name in names
        ch.signals_changed |= flipped
        ch.topology_changed = ch.topology_changed or bool(changed or flipped)
        ch.edges_changed.update(changed)


__all__ = ["NO_ROW", "Changes", "Filter", "MonitorState", "Totals"]
