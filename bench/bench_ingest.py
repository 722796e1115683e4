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

from django_probe import wire
from django_probe.strings import Interner

SIGNALS = [f"django.db.models.signals.{n}" for n in ("pre_save", "post_save", "pre_init",
                                                      "post_init", "pre_delete", "post_delete")]
SIGNALS += [f"app.signals.custom_{i}" for i in range(14)]
SENDERS = ["auth.User", "articles.Article", "articles.Comment", "accounts.Profile",
           "sessions.Session"]
FRAME_EVENTS = 200
POOL = 5_000  # distinct synthetic events, reused with fresh ids


def synthetic_events(count: int, interner: Interner | None = None) -> list[wire.Dispatch]:
    """A plausible mix: 1-3 receivers, 20% nested, 2% raising, kwargs summaries. With an
    ``interner``, names are its ids, as the probe sends them (protocol 2)."""
    ref = interner.ref if interner is not None else str
    events = []
    for i in range(count):
        receivers = [
            wire.ReceiverCall(ref(f"on_{SIGNALS[i % 20].rsplit('.', 1)[1]}_{k}"),
                              ref(f"app{k}.receivers"), ref(f"app{k}/receivers.py"), 10 + k,
                              False, 2_000 + 97 * (i % 50),
                              wire.RAISED if (i % 50 == 0 and k == 0) else wire.RETURNED,
                              None if i % 50 == 0 and k == 0 else "None",
                              ref("builtins.ValueError") if i % 50 == 0 and k == 0 else None,
                              "bad value" if i % 50 == 0 and k == 0 else None)
            for k in range(1 + i % 3)
        ]
        events.append(wire.Dispatch(
            wire.KIND_DISPATCH, 0, i, None if i % 5 else i + 1, ref(SIGNALS[i % 20]),
            ref(SENDERS[i % 5]), "send", 10_000 + i % 1000, ref("MainThread"),
            140_000 + i % 4, wire.CallSite(ref("app/views.py"), 40 + i % 30, ref("create")),
            wire.RequestInfo(f"req-{i // 20}", ref("POST"), ref("/articles/new/")),
            {"instance": f"<Article: {i}>", "created": "True", "using": "default"},
            receivers, False, None))
    return events


def interned_pool(count: int) -> tuple[list[wire.Dispatch], list[Any]]:
    """``count`` synthetic dispatches with interned names, and the Strings events that
    define their ids (sent first, in a frame of their own, as the probe does)."""
    interner = Interner()
    pool = synthetic_events(count, interner)
    return pool, interner.definitions()


def numbered(pool: list[wire.Dispatch], base: int) -> list[wire.Dispatch]:
    """The next frame of pool events, renumbered from dispatch id ``base`` (POOL is a
    multiple of FRAME_EVENTS, so a frame never wraps around the pool)."""
    return [e._replace(id=base + i, parent=None if e.parent is None else base + i + 1)
            for i, e in enumerate(pool[base % POOL: base % POOL + FRAME_EVENTS])]


def repeated_frames(proc: wire.Proc, events: int) -> list[bytes]:
    """The Strings frame, then events // FRAME_EVENTS frames of one synthetic frame's
    events, numbered in sequence (in-process measurements: the same decode work each frame)."""
    pool, strings = interned_pool(FRAME_EVENTS)
    return [wire.encode_frame(proc, 0, strings)] + [
        wire.encode_frame(proc, len(strings) + i * FRAME_EVENTS, pool)
        for i in range(events // FRAME_EVENTS)]


def publisher(endpoint: str, mode: str, total: int, rate: float, duration: float) -> None:
    """Child process: flood (blocking sends) or pace (non-blocking, drops counted)."""
    import zmq

    proc = wire.Proc(os.getpid(), platform.node(), f"bench-{mode}")
    pool, strings = interned_pool(POOL)
    ctx = zmq.Context()
    sock = ctx.socket(zmq.PUSH)
    if mode == "paced":
        sock.setsockopt(zmq.IMMEDIATE, 1)  # like the probe: no monitor -> drop, not queue
    sock.connect(endpoint)
    names = wire.encode_frame(proc, 0, strings)  # sent first, as the probe does
    seq = len(strings)
    sent = dropped = 0
    if mode != "prebuilt":
        sock.send(names)  # blocking: delivered (IMMEDIATE waits for the connection)
    else:
        # Every frame encoded before the first send: the monitor's side alone is measured
        # (the probe's own encoding cost is bench_probe's business), not this process's.
        frames = [names]
        while sent < total:
            events = numbered(pool, sent)
            frames.append(wire.encode_frame(proc, seq, events))
            seq += len(events)
            sent += len(events)
        for frame in frames:
            sock.send(frame)  # sent == total: the loop below ends at once
    per_frame = FRAME_EVENTS if mode != "paced" else max(1, int(rate / 500))  # 2 ms frames
    start = time.monotonic()
    next_send = start
    while True:
        if mode != "paced" and sent >= total:
            break
        if mode == "paced":
            if time.monotonic() - start >= duration:
                break
            next_send += per_frame / rate
            delay = next_send - time.monotonic()
            if delay > 0:
                time.sleep(delay)
        base = sent + dropped
        now = time.time_ns()
        events = [e._replace(id=base + j, ts=now,
                             parent=None if e.parent is None else base + j + 1)
                  for j, e in enumerate(pool[base % POOL: base % POOL + per_frame])]
        if len(events) < per_frame:
            events += [e._replace(id=base + len(events) + j, ts=now, parent=None)
                       for j, e in enumerate(pool[: per_frame - len(events)])]
        frame = wire.encode_frame(proc, seq, events)
        try:
            sock.send(frame, 0 if mode == "flood" else zmq.NOBLOCK)
        except zmq.Again:
            dropped += len(events)  # not sent, so no seq assigned: counted in the heartbeat
            continue
        seq += len(events)
        sent += len(events)
    hb = wire.Heartbeat(wire.KIND_HEARTBEAT, time.time_ns(), sent + dropped, sent, 0, dropped,
                        0, 0)
    sock.send(wire.encode_frame(proc, seq, [hb]))  # blocking: the end marker must arrive
    sock.close(linger=30_000)
    ctx.term()


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

    from monitor_gui.cli import _record_frame
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
