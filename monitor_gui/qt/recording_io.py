"""Open/save recordings for the window: a thin adapter over monitor_gui.core.recording."""

from __future__ import annotations

from collections.abc import Iterator
from itertools import islice
from typing import Any

from django_probe import wire

FILE_FILTER = "Signal recordings (*.jsonl *.jsonl.gz *.jsonl.zst);;All files (*)"
LOAD_CHUNK = 256  # frames per apply() while loading, so the model notifications stay small
SAVE_CHUNK = 1_000  # events per frame written


def load(controller: Any, path: str) -> int:
    """Replace what is shown by the recording at ``path``; pause live input so it stays.

    Returns the number of frames applied. Malformed lines are the core's business
    (counted there); an unreadable file raises to the caller, which reports it.
    """
    from monitor_gui.core.recording import read_recording

    controller.set_paused(True)
    controller.clear()
    frames = iter(read_recording(path))
    total = 0
    while chunk := list(islice(frames, LOAD_CHUNK)):
        controller.apply_now(chunk, notify=False)
        total += len(chunk)
    controller.apply_now([], notify=True)
    return total


def frames_of(state: Any) -> Iterator[wire.Frame]:
    """Re-create wire frames from what the store holds: per process hello, topology, dispatches."""
    store = state.store
    procs: dict[Any, list[wire.Event]] = {}
    for key, info in state.processes.items():
        events: list[wire.Event] = procs.setdefault(key, [])
        if info.info:
            events.append(wire.Hello(wire.KIND_HELLO, info.first_seen, dict(info.info)))
        topology = state.topology.get(key)
        if topology is not None:
            events.append(topology)
    for row in range(store.first, store.end):
        d = store.row(row)
        procs.setdefault(d.proc_key, []).append(d.to_dispatch())
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
