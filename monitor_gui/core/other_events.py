"""The events that are not dispatches, as MonitorState applies them: beats, counts, topology."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from django_probe import wire
from monitor_gui.core.graph import receiver_label
from monitor_gui.core.processes import ProcessInfo, ProcessTable, hello_info

if TYPE_CHECKING:
    from monitor_gui.core.state import Changes, MonitorState


def apply_other_event(state: MonitorState, info: ProcessInfo, ev: Any, ch: Changes) -> None:
    """Apply one heartbeat, empty count, muted count, topology, hello or on_commit event."""
    kind = ev[0]
    if kind == wire.KIND_HEARTBEAT:
        ProcessTable.heartbeat(info, ev)
    elif kind == wire.KIND_COUNTS:
        for item in ev.items:
            key = (item.signal, item.sender, item.method)
            state.empty_counts[key] = state.empty_counts.get(key, 0) + item.count
            state.signal_stats(item.signal).empty_count += item.count
            ch.signals_changed.add(item.signal)
    elif kind == wire.KIND_MUTED:
        for item in ev.items:
            entry = state.muted_counts.setdefault((item.signal, item.sender, item.method),
                                                  [0, 0])
            entry[0] += item.count
            entry[1] += item.raised
            state.signal_stats(item.signal).muted += item.count
            ch.signals_changed.add(item.signal)
    elif kind == wire.KIND_TOPOLOGY:
        state.topology[info.key] = ev
        apply_topology(state, ch)
    elif kind == wire.KIND_HELLO:
        info.info = hello_info(ev.info)
    elif kind == wire.KIND_ON_COMMIT:
        state.store.callbacks.add(state.store, info.index, ev, state.nesting.row_of(
            info.index, ev.dispatch))
    elif kind == wire.KIND_ROLLBACK:
        state.store.rollbacks.add(info.index, ev)  # applied once the frame's rows are stored


def apply_topology(state: MonitorState, ch: Changes) -> None:
    """Union the latest snapshot of every process into the graph's known edges."""
    intern = state.strings.intern
    wanted: dict[tuple[int, int], tuple[str, str]] = {}
    names: set[str] = set()
    for topo in state.topology.values():
        for wiring in topo.signals:
            names.add(wiring.name)
            sid = intern(wiring.name)
            for r in wiring.receivers:
                label = receiver_label(r.module, r.name)
                wanted[(sid, intern(label))] = (wiring.name, label)
    changed = state.graph.set_topology(wanted, names)
    flipped = {name for name, stats in state.signals.items() if stats.known != (name in names)}
    flipped |= names - state.signals.keys()
    for name in flipped:
        stats = state.signal_stats(name)
        stats.known = name in names
    ch.signals_changed |= flipped
    ch.topology_changed = ch.topology_changed or bool(changed or flipped)
    ch.edges_changed.update(changed)
