"""Monitor ingest benchmark: a publisher process floods real zmq; JSON results on stdout.

Phases (one run, all numbers next to their targets, see docs/performance.md):

* ``decode_apply`` - in-process: where the time of decode + apply goes per event
  (wire's derived decoder alone, then ``MonitorState.apply`` of the same frames).
* ``throughput`` - a publisher process floods ``--events`` synthetic dispatches (built
  with wire NamedTuples, encoded with wire.encode_frame) over tcp loopback with blocking
  sends; the monitor receives and applies them; events/s of decode+apply (target 200k/s).
  Frames are protocol 2 as the probe sends them: names interned, a Strings frame first,
  then frames of ids.
* ``throughput_prebuilt_frames`` - the same flood, but the publisher encodes every frame
  before its first send and then only sends: the monitor's capacity without the synthetic
  publisher's encoding competing for the two cores.
* ``memory`` / ``refilter`` - after the flood the store holds min(events, capacity)
  dispatches: process RSS (target <= 600 MB at 1M; also measured in a fresh process that
  only applied them) and select() by signal (target <= 200 ms).
* ``recording`` - in-process speed of the ``signal-monitor record`` path (plain and gzip)
  and of reading a recording back.
* ``sustained`` - the publisher paces ``--rate`` events/s for ``--duration`` s with
  non-blocking sends like the probe (a send that would block is dropped and counted, then
  reported in a heartbeat); the monitor must lose nothing (gaps + drops == 0).

Usage: ``python bench/bench_ingest.py`` (full: 1M events, 60 s at 50k/s) or ``--quick``.
"""

from __future__ import annotations

import argparse
import json
import multiprocessing as mp
import os
import platform
import statistics
import sys
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench.ingest_traffic import (
    FRAME_EVENTS,
    POOL,
    SIGNALS,
    interned_pool,
    numbered,
    publisher,
    repeated_frames,
)
from django_probe import wire


def rss_mb() -> float:
    import psutil

    return psutil.Process().memory_info().rss / 2**20


def run_phase(state: Any, mode: str, total: int, rate: float, duration: float,
              timeout: float) -> dict[str, Any]:
    """Start a publisher, receive and apply until its final heartbeat; return measurements."""
    from monitor_gui.listener import Listener

    with Listener("tcp://127.0.0.1:*") as listener:
        child = mp.get_context("spawn").Process(
            target=publisher, args=(listener.endpoint, mode, total, rate, duration))
        child.start()
        first = None
        cpu0 = time.process_time()
        deadline = time.monotonic() + timeout
        done = None
        max_batch = 0
        while time.monotonic() < deadline:
            frames = listener.recv_batch(100)
            if not frames:
                continue
            if first is None:
                first = time.monotonic()
            max_batch = max(max_batch, len(frames))
            state.apply(frames)
            done = next((p for p in state.processes.values()
                         if p.boot == f"bench-{mode}" and p.heartbeat is not None), None)
            if done is not None:
                break
        end = time.monotonic()
        cpu = time.process_time() - cpu0
        child.join(60)
    if done is None:
        return {"error": "publisher's end marker never arrived", "timeout_s": timeout}
    wall = end - (first or end)
    return {"events": done.dispatches, "seconds": round(wall, 3),
            "events_per_s": round(done.dispatches / wall) if wall else None,
            "lost_in_transit": done.lost_gaps, "dropped_by_publisher": done.dropped_send,
            "lost_total": done.lost, "malformed": done.malformed,
            "monitor_cpu_share": round(cpu / wall, 2) if wall else None,
            "largest_batch_frames": max_batch}


def store_rss(count: int, capacity: int, queue: Any) -> None:
    """Child process: RSS of a fresh monitor that applied ``count`` dispatches, nothing else."""
    from monitor_gui.core.state import MonitorState

    proc = wire.Proc(1, "rss", "rss")
    pool, strings = interned_pool(POOL)
    state = MonitorState(capacity=capacity)
    before = rss_mb()
    state.apply([wire.encode_frame(proc, 0, strings)])
    n = 0
    while n < count:
        frames = []
        for _ in range(20):
            events = numbered(pool, n)
            frames.append(wire.encode_frame(proc, len(strings) + n, events))
            n += len(events)
        state.apply(frames)
    queue.put({"stored": len(state.store), "rss_mb": round(rss_mb(), 1),
               "rss_mb_empty_state": round(before, 1)})


def decode_apply(events: int) -> dict[str, Any]:
    """In-process, the same interned frames: wire's derived decoder alone, then the whole
    of MonitorState.apply (decode, resolve, build columns, store, aggregate)."""
    from monitor_gui.core.state import MonitorState

    proc = wire.Proc(1, "ab", "ab")
    frames = repeated_frames(proc, events)
    n = (len(frames) - 1) * FRAME_EVENTS
    runs: dict[str, list[float]] = {"wire_decode_frame_only": [], "apply": []}
    for _ in range(3):
        t = time.perf_counter()
        for f in frames:
            wire.decode_frame(f)
        runs["wire_decode_frame_only"].append(n / (time.perf_counter() - t))
        state = MonitorState(capacity=n)
        t = time.perf_counter()
        for i in range(0, len(frames), 10):
            state.apply(frames[i:i + 10])
        runs["apply"].append(n / (time.perf_counter() - t))
        assert len(state.store) == n, "every event applied"
    results = {name: round(statistics.median(r)) for name, r in runs.items()}
    return {"events": n, "events_per_s (median of 3)": results,
            "us_per_event": {name: round(1e6 / v, 2) for name, v in results.items()}}


def record_speed(events: int) -> dict[str, Any]:
    """In-process: the `signal-monitor record` path (decode, account, JSON Lines) per event."""
    import tempfile

    from monitor_gui.cli_record import _record_frame
    from monitor_gui.core.processes import ProcessTable
    from monitor_gui.core.recording import RecordingWriter, read_recording

    proc = wire.Proc(1, "rec", "rec")
    frames = repeated_frames(proc, events)
    n = len(frames) * FRAME_EVENTS
    result: dict[str, Any] = {"events": n}
    with tempfile.TemporaryDirectory() as tmp:
        for suffix in (".jsonl", ".jsonl.gz"):
            path = Path(tmp) / f"rec{suffix}"
            writer, table = RecordingWriter(path), ProcessTable()
            t = time.perf_counter()
            for f in frames:
                _record_frame(f, table, writer, None)
            writer.close()
            result[f"record_events_per_s{suffix}"] = round(n / (time.perf_counter() - t))
        t = time.perf_counter()
        read = sum(len(f.events) for f in read_recording(Path(tmp) / "rec.jsonl"))
        result["read_events_per_s"] = round(read / (time.perf_counter() - t))
    return result


def refilter(state: Any) -> dict[str, Any]:
    from monitor_gui.core.query import Filter

    def timed(f: Filter) -> tuple[float, int]:
        runs = []
        for _ in range(5):
            t = time.perf_counter()
            rows = state.select(f)
            runs.append((time.perf_counter() - t) * 1000)
        return round(statistics.median(runs), 2), len(rows)

    one, n_one = timed(Filter(signals=frozenset({SIGNALS[1]})))
    three, n_three = timed(Filter(signals=frozenset(SIGNALS[:3])))
    receiver, n_recv = timed(Filter(receivers=frozenset({"app1.receivers.on_post_save_1"})))
    text, n_text = timed(Filter(text="article: 12"))
    return {"stored": len(state.store), "by_one_signal_ms": one, "rows": n_one,
            "by_three_signals_ms": three, "rows_three": n_three,
            "by_receiver_ms": receiver, "rows_receiver": n_recv,
            "free_text_kwargs_ms": text, "rows_text": n_text}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true",
                        help="smoke run: 200k events, 10 s sustained")
    parser.add_argument("--events", type=int, help="flood size (default 1,000,000)")
    parser.add_argument("--rate", type=float, default=50_000.0, help="sustained events/s")
    parser.add_argument("--duration", type=float, help="sustained seconds (default 60)")
    parser.add_argument("--capacity", type=int, default=1_000_000, help="store capacity")
    args = parser.parse_args()
    events = args.events or (200_000 if args.quick else 1_000_000)
    duration = args.duration or (10.0 if args.quick else 60.0)

    from monitor_gui.core.state import MonitorState

    out: dict[str, Any] = {
        "command": " ".join([Path(sys.executable).name, *sys.argv]),
        "machine": {"cpus": os.cpu_count(), "python": platform.python_version(),
                    "load_avg_1m": round(os.getloadavg()[0], 2)},
        "targets": {"throughput_events_per_s": 200_000, "sustained_loss": 0,
                    "rss_mb_at_1M": 600, "refilter_ms": 200},
    }
    rss_before = rss_mb()
    state = MonitorState(capacity=args.capacity)
    flood = run_phase(state, "flood", events, 0, 0, timeout=600)
    out["throughput"] = flood | {"met": (flood.get("events_per_s") or 0) >= 200_000}
    rss = rss_mb()
    ctx = mp.get_context("spawn")
    queue = ctx.Queue()
    child = ctx.Process(target=store_rss, args=(min(events, args.capacity), args.capacity, queue))
    child.start()
    clean = queue.get(timeout=600)
    child.join(60)
    out["memory"] = {
        "stored": len(state.store), "rss_mb_after_flood": round(rss, 1),
        "rss_mb_before_store": round(rss_before, 1), "fresh_process": clean,
        "met": len(state.store) >= min(events, args.capacity)
        and max(rss, clean["rss_mb"]) <= 600,
    }
    out["refilter"] = refilter(state)
    out["refilter"]["met"] = out["refilter"]["by_one_signal_ms"] <= 200
    # The same flood from a publisher that only sends frames it encoded beforehand: what
    # the monitor sustains when the sender does not compete for this machine's two cores.
    prebuilt = run_phase(MonitorState(capacity=args.capacity), "prebuilt", events, 0, 0,
                         timeout=600)
    out["throughput_prebuilt_frames"] = prebuilt | {
        "met": (prebuilt.get("events_per_s") or 0) >= 200_000}
    out["decode_apply"] = decode_apply(50_000 if args.quick else 200_000)
    out["recording"] = record_speed(20_000 if args.quick else 100_000)
    sustained = run_phase(state, "paced", 0, args.rate, duration, timeout=duration + 120)
    out["sustained"] = sustained | {"rate": args.rate, "duration_s": duration,
                                    "met": sustained.get("lost_total", 1) == 0
                                    and "error" not in sustained}
    print(json.dumps(out, indent=2))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
