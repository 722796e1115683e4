"""Export dispatches to Chrome trace-event JSON, which Perfetto's UI and chrome://tracing open.

One complete ("X") event per dispatch and one per receiver call, on the pid/tid of the
process/thread that dispatched. Nested dispatches appear nested because their real
timestamps fall inside the parent's receiver. Receiver start times are not on the wire
(only durations), so each receiver is placed right after the previous one inside its
dispatch: a close approximation, since the probe adds well under a microsecond between.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from pathlib import Path
from typing import IO, Any

from django_probe import wire
from monitor_gui.core.graph import receiver_label


def _us(ns: int) -> float:
    return ns / 1000.0


def trace_events(frames: Iterable[wire.Frame]) -> list[dict[str, Any]]:
    """The trace events for ``frames`` (timestamps relative to the earliest dispatch)."""
    dispatches: list[tuple[wire.Proc, wire.Dispatch]] = []
    for frame in frames:
        dispatches.extend((frame.proc, e) for e in frame.events if e[0] == wire.KIND_DISPATCH)
    if not dispatches:
        return []
    origin = min(d.ts for _, d in dispatches)
    pids: dict[wire.Proc, int] = {}
    threads: dict[tuple[int, int], str] = {}
    events: list[dict[str, Any]] = []
    for proc, d in dispatches:
        pid = pids.get(proc)
        if pid is None:
            # Two hosts (or a restart) may share an OS pid; Perfetto needs distinct ints.
            pid = proc.pid if proc.pid not in pids.values() else 1_000_000 + len(pids)
            pids[proc] = pid
        threads.setdefault((pid, d.tid), d.thread)
        start = _us(d.ts - origin)
        args: dict[str, Any] = {"sender": d.sender, "method": d.method, "id": d.id,
                                "raised": d.raised}
        args.update((f"kwargs.{k}", v) for k, v in d.kwargs.items())
        if d.parent is not None:
            args["parent"] = d.parent
        if d.request is not None:
            args["request"] = f"{d.request.method} {d.request.path} ({d.request.id})"
        if d.site is not None:
            args["site"] = f"{d.site.file}:{d.site.line} in {d.site.func}"
        events.append({"name": d.signal, "cat": "dispatch", "ph": "X", "ts": start,
                       "dur": _us(d.dur), "pid": pid, "tid": d.tid, "args": args})
        offset = d.ts - origin
        for r in d.receivers:
            name = receiver_label(r.module, r.name)
            rargs: dict[str, Any] = {"outcome": r.outcome, "signal": d.signal,
                                     "location": f"{r.file}:{r.line}"}
            if r.value is not None:
                rargs["value"] = r.value
            if r.exc_type is not None:
                rargs["exception"] = f"{r.exc_type}: {r.exc_msg or ''}"
            events.append({"name": name, "cat": f"receiver,{r.outcome}", "ph": "X",
                           "ts": _us(offset), "dur": _us(r.dur), "pid": pid, "tid": d.tid,
                           "args": rargs})
            offset += r.dur
    for proc, pid in pids.items():
        events.append({"name": "process_name", "ph": "M", "pid": pid,
                       "args": {"name": f"{proc.host}:{proc.pid} ({proc.boot[:8]})"}})
    for (pid, tid), name in threads.items():
        events.append({"name": "thread_name", "ph": "M", "pid": pid, "tid": tid,
                       "args": {"name": name}})
    return events


def export(frames: Iterable[wire.Frame], out: str | Path | IO[str]) -> int:
    """Write a trace JSON object to ``out``; return the number of dispatches exported."""
    frames = list(frames)
    events = trace_events(frames)
    origin = min((e.ts for f in frames for e in f.events if e[0] == wire.KIND_DISPATCH),
                 default=0)
    doc = {"traceEvents": events, "displayTimeUnit": "ns",
           "otherData": {"origin_unix_ns": origin, "producer": "signal-monitor"}}
    if isinstance(out, (str, Path)):
        with open(out, "w", encoding="utf-8") as f:
            json.dump(doc, f)
    else:
        json.dump(doc, out)
    return sum(1 for e in events if e.get("cat") == "dispatch")
