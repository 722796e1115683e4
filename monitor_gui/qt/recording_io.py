"""Open/save recordings for the window: a thin adapter over monitor_gui.core.recording."""

from __future__ import annotations

import gc
from collections.abc import Iterator
from typing import Any, NamedTuple

from django_probe import wire

FILE_FILTER = "Signal recordings (*.jsonl *.jsonl.gz *.jsonl.zst);;All files (*)"
LOAD_EVENTS = 8_000  # events per apply() while loading (a recording's frames hold <= 1,000)
SAVE_CHUNK = 1_000  # events per frame written


class Loaded(NamedTuple):
    frames: int  # frames applied
    warning: str | None  # the file was cut short or damaged: what was recovered


def load(controller: Any, path: str) -> Loaded:
    """Replace what is shown by the recording at ``path``; pause live input so it stays.

    Malformed lines are the core's business (counted there); an unreadable file raises
    to the caller, which reports it; a file cut short (a killed recorder) is read up to
    the cut and ``warning`` says how much was recovered.

    Two things keep a million dispatches within seconds and the memory flat (measured in
    bench/bench_scale.py, docs/performance.md "Monitor at real scale"):
    * chunks of ~LOAD_EVENTS events, not of a fixed number of frames: decoded events are
      Python tuples until the core stores them in columns, and 256 frames of 1,000 events
      alive at once left the process ~550 MB larger for good (freed memory the allocator
      keeps);
    * the cyclic collector is off while loading: each chunk's tuples are freed by their
      reference counts (they hold no cycles), but allocating them triggered ~8,600
      collections, the full ones walking the filling store: 2/3 of the load's time.
    """
    from monitor_gui.core.recording import RecordingReader

    reader = RecordingReader(path, plain=True)  # only applied: positional tuples do
    controller.set_paused(True)
    controller.clear()
    total = 0
    collecting = gc.isenabled()
    gc.disable()
    try:
        chunk: list[Any] = []
        events = 0
        for frame in reader:
            chunk.append(frame)
            events += len(frame.events) + 1
            if events >= LOAD_EVENTS:
                controller.apply_now(chunk, notify=False)
                total += len(chunk)
                chunk, events = [], 0
        controller.apply_now(chunk, notify=False)
        total += len(chunk)
    finally:
        if collecting:
            gc.enable()
    controller.apply_now([], notify=True)
    controller.restart_rate()  # a million events loaded in 12 s are no "events/s" live
    return Loaded(total, reader.warning)


def frames_of(state: Any) -> Iterator[wire.Frame]:
    """Re-create wire frames from what the store holds: per process hello, topology, the
    no-receiver counts, dispatches with their on_commit() callbacks and rollbacks."""
    store = state.store
    procs: dict[Any, list[wire.Event]] = {}
    for key, info in state.processes.items():
        events: list[wire.Event] = procs.setdefault(key, [])
        if info.info:
            events.append(wire.Hello(wire.KIND_HELLO, info.first_seen, dict(info.info)))
        topology = state.topology.get(key)
        if topology is not None:
            events.append(topology)
    if state.empty_counts and procs:
        # The dispatches that found no receiver, summed over the processes (the state
        # keeps no split): under the first, so diagnostics read the same after a save.
        items = [wire.EmptyCount(signal, sender, method, n)
                 for (signal, sender, method), n in state.empty_counts.items()]
        first = next(iter(procs.values()))
        for at in range(0, len(items), wire.MAX_ITEMS):
            first.append(wire.Counts(wire.KIND_COUNTS, state.latest_ts, 0,
                                     items[at:at + wire.MAX_ITEMS]))
    # The store keeps whether a rollback undid a row, not its transaction: the rows are
    # written with made-up serials, one per run of undone rows of a thread's connection,
    # each run followed by a Rollback of the span of their starts (a savepoint's form: a
    # dispatch that began before the run, stored after it, is left out), so reading the
    # file marks the same rows.
    runs: dict[tuple[Any, int, str], list[Any]] = {}  # -> [serial, first, last, events, ...]

    def end_run(key: tuple[Any, int, str]) -> None:
        serial, first, last, events, tid, alias, by_test = runs.pop(key)
        events.append(wire.Rollback(wire.KIND_ROLLBACK, last, alias, serial, tid, False, first,
                                    by_test))

    for row in range(store.first, store.end):
        d = store.row(row)
        events = procs.setdefault(d.proc_key, [])
        dispatch = d.to_dispatch()
        if d.tx is not None:
            key = (d.proc_key, d.tid, d.tx.alias)
            if key in runs and (not d.rolled_back or runs[key][6] != d.by_test):
                end_run(key)  # (a row it did not undo, or undid otherwise: a run ends)
            if d.rolled_back:
                run = runs.setdefault(key, [row + 1, d.ts, d.ts, events, d.tid, d.tx.alias,
                                            d.by_test])
                run[1], run[2] = min(run[1], d.ts), max(run[2], d.ts)
                dispatch = dispatch._replace(tx=d.tx._replace(serial=run[0]))
        events.append(dispatch)
        events.extend(d.callbacks)  # on_commit() callbacks its receivers queued
    for key in list(runs):
        end_run(key)
    for (host, pid, boot), events in procs.items():
        proc = wire.Proc(pid, host, boot)
        for seq in range(0, len(events), SAVE_CHUNK):
            yield wire.Frame(proc, seq, events[seq:seq + SAVE_CHUNK], 0)


def save(state: Any, path: str) -> int:
    """Write every stored dispatch (and each process's hello/topology); return dispatches."""
    from monitor_gui.core.recording import RecordingWriter

    count = 0
    writer = RecordingWriter(path)
    try:
        for frame in frames_of(state):
            writer.write(frame)
            count += sum(1 for e in frame.events if e[0] == wire.KIND_DISPATCH)
    finally:
        writer.close()
    return count
