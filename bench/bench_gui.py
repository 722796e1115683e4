"""GUI responsiveness benchmark: event-loop stalls while 50,000 events/s arrive; JSON on stdout.

    QT_QPA_PLATFORM=offscreen python bench/bench_gui.py [--rate 50000] [--seconds 10]
        [--senders 500] [--quick]

A/B in one run with the real window (offscreen) listening on a real zmq socket:
  A  idle: the window is up, nothing arrives
  B  loaded: a separate producer process pushes synthetic login traffic at --rate events/s,
     its model saves from --senders distinct senders whose names keep appearing
A probe QTimer asks for a tick every 10 ms on the GUI thread; a stall is how late a tick
came. We report max/p99/p50 stalls of both phases and their ratio (target: loaded max
stall <= 50 ms), the events the GUI actually applied per second, RSS, and the paint time
of the timeline with 1,000,000 stored dispatches zoomed out (target: <= 16 ms).
"""

from __future__ import annotations

import argparse
import gc
import json
import multiprocessing as mp
import os
import platform
import statistics
import sys
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, ROOT)

PROBE_MS = 10
MODEL_SENDERS = frozenset({"auth.User", "sessions.Session"})


def produce(endpoint: str, rate: int, seconds: float, ready: mp.Event, senders: int = 0) -> None:
    """Producer process: push frames of ~250 events at ``rate`` events/s (GIL of its own).

    With ``senders``, the model dispatches' senders are that many distinct "app<k>.Model<j>"
    names (60 apps), not one: 50 at the start, and new ones keep appearing until all
    ``senders`` are in use at the end of the run, as when a real project warms up.
    """
    import zmq

    from tests.monitor_gui.qt.scenario import Scenario

    sc = Scenario(seed=5, start_ns=time.time_ns())
    sock = zmq.Context.instance().socket(zmq.PUSH)
    sock.setsockopt(zmq.LINGER, 0)
    sock.setsockopt(zmq.SNDHWM, 100_000)
    sock.connect(endpoint)
    ready.set()
    start = time.perf_counter()
    sent = 0
    while time.perf_counter() - start < seconds:
        events = []
        while len(events) < 250:
            events += sc.request(fail=sent % 97 == 0)
        if senders:
            pool = min(senders, 50 + int((senders - 50) * (time.perf_counter() - start)
                                         / seconds))
            for i, e in enumerate(events):
                if e.sender in MODEL_SENDERS:
                    k = (sent + i) * 7919 % pool
                    events[i] = e._replace(sender=f"app{k % 60}.Model{k // 60}")
        sock.send(sc.frame(events))
        sent += len(events)
        # Pace to the target rate; sleep only when ahead of schedule.
        ahead = sent / rate - (time.perf_counter() - start)
        if ahead > 0:
            time.sleep(ahead)
    sock.close(linger=1000)


def bound_endpoint(monitor, timeout_s: float = 10.0) -> str:
    """The endpoint the window's listener bound ("tcp://127.0.0.1:*" picks a free port);
    "" if it did not bind within ``timeout_s``."""
    endpoint = ""
    deadline = time.perf_counter() + timeout_s
    while not endpoint.rsplit(":", 1)[-1].isdigit() and time.perf_counter() < deadline:
        monitor.app.processEvents()
        endpoint = monitor.window.status.endpoint or ""
    return endpoint


def time_ticks(monitor) -> list[float]:
    """Time every apply slice (decode + apply + model notifications) on the GUI thread:
    the controller's timer calls a timed wrapper; the returned list fills in ms."""
    ticks: list[float] = []
    original = monitor.controller.tick

    def timed_tick() -> None:
        t = time.perf_counter()
        original()
        ticks.append((time.perf_counter() - t) * 1000)

    monitor.controller.timer.timeout.disconnect(original)
    monitor.controller.timer.timeout.connect(timed_tick)
    return ticks


def measure_stalls(app, seconds: float) -> list[float]:
    """Run the event loop for ``seconds``; return how late each 10 ms probe tick was (ms)."""
    from PySide6.QtCore import QElapsedTimer, QTimer

    clock = QElapsedTimer()
    clock.start()
    stalls: list[float] = []
    last = [clock.nsecsElapsed()]

    def tick() -> None:
        now = clock.nsecsElapsed()
        stalls.append(max(0.0, (now - last[0]) / 1e6 - PROBE_MS))
        last[0] = now

    probe = QTimer(interval=PROBE_MS)
    probe.setTimerType(probe.timerType().PreciseTimer)
    probe.timeout.connect(tick)
    probe.start()
    end = time.perf_counter() + seconds
    while time.perf_counter() < end:
        app.processEvents()
        time.sleep(0.001)  # the benchmark's own loop: yield like exec() would when idle
    probe.stop()
    return stalls


class GcPauses:
    """Durations of the cyclic garbage collector's runs (they stall whichever thread runs them)."""

    def __init__(self) -> None:
        self.pauses: dict[int, list[float]] = {0: [], 1: [], 2: []}
        self._start = 0.0
        gc.callbacks.append(self._callback)

    def _callback(self, phase: str, info: dict) -> None:
        if phase == "start":
            self._start = time.perf_counter()
        else:
            self.pauses[info["generation"]].append((time.perf_counter() - self._start) * 1000)

    def report(self) -> dict[str, float]:
        return {f"gen{g}_max_ms": round(max(p, default=0.0), 2) for g, p in self.pauses.items()} | {
            f"gen{g}_runs": len(p) for g, p in self.pauses.items()}


def summary(stalls: list[float]) -> dict[str, float]:
    ordered = sorted(stalls) or [0.0]
    return {
        "ticks": len(stalls),
        "max_stall_ms": round(ordered[-1], 2),
        "p99_stall_ms": round(ordered[int(0.99 * (len(ordered) - 1))], 2),
        "p50_stall_ms": round(statistics.median(ordered), 2),
    }


def timeline_paint(rows: int) -> dict[str, float]:
    """Paint time of the timeline zoomed out over ``rows`` dispatches (aggregated)."""
    import numpy as np

    from monitor_gui.qt.timeline_data import TimelineData
    from monitor_gui.qt.timeline_view import TimelineView

    rng = np.random.default_rng(1)
    data = TimelineData(lambda i: f"django.db.models.signals.sig_{i}")
    ts = np.sort(rng.integers(0, 600_000_000_000, rows))
    data.append(np.arange(rows, dtype=np.int64), ts, rng.integers(1_000, 2_000_000, rows),
                rng.integers(0, 12, rows), rng.integers(0, 3, rows), rng.random(rows) < 0.01,
                rng.integers(0, 12, rows))
    view = TimelineView(data)
    view.resize(1400, 320)
    times = {}
    for name, window in (("zoomed_out", None), ("one_minute", (0, 60e9)),
                         ("ten_ms", (1e9, 1.01e9))):
        if window is None:
            view.fit_all()
        else:
            view.set_window(*window)
        samples = []
        for _ in range(15):
            view.grab()
            samples.append(view.last_paint_ms)
        times[name] = {"median_ms": round(statistics.median(samples), 2),
                       "max_ms": round(max(samples), 2),
                       "marks_in_window": int(view.last_visible_total),
                       "aggregated": bool(view.last_aggregated)}
    return times


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rate", type=int, default=50_000)
    parser.add_argument("--seconds", type=float, default=10.0)
    parser.add_argument("--senders", type=int, default=500,
                        help="distinct model senders, appearing over the run (0: two)")
    parser.add_argument("--quick", action="store_true", help="3 s phases, 200k timeline rows")
    args = parser.parse_args()
    seconds = 3.0 if args.quick else args.seconds
    os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

    import psutil

    from monitor_gui.qt.app import build

    monitor = build("tcp://127.0.0.1:*", capacity=1_000_000, freeze_gc=True)  # as run_gui
    window, app, state = monitor.window, monitor.app, monitor.state
    window.resize(1500, 950)
    window.show()
    endpoint = bound_endpoint(monitor)
    idle = measure_stalls(app, seconds)

    ticks = time_ticks(monitor)
    ready = mp.get_context("spawn").Event()
    producer = mp.get_context("spawn").Process(
        target=produce, args=(endpoint, args.rate, seconds, ready, args.senders), daemon=True)
    producer.start()
    ready.wait(30)
    events_before = state.totals.events
    started = time.perf_counter()
    gc_pauses = GcPauses()
    loaded = measure_stalls(app, seconds)
    gc.callbacks.remove(gc_pauses._callback)
    elapsed = time.perf_counter() - started
    applied = state.totals.events - events_before
    producer.join(10)
    backlog = len(monitor.controller.pending)
    rss = psutil.Process().memory_info().rss
    received = monitor.listener.worker.received

    a, b = summary(idle), summary(loaded)
    result = {
        "benchmark": "gui_responsiveness",
        "python": platform.python_version(),
        "pyside6": __import__("PySide6").__version__,
        "cpus": os.cpu_count(),
        "rate_target_events_s": args.rate,
        "distinct_senders": len({e.src for e in state.graph.edges()
                                 if e.kind == "sender->signal"}),
        "phase_seconds": seconds,
        "idle": a,
        "loaded": b,
        "max_stall_ratio_loaded_vs_idle": round(b["max_stall_ms"] / max(a["max_stall_ms"], 0.1),
                                                2),
        "applied_events_s": round(applied / elapsed),
        "received_frames": received,
        "apply_slices": len(ticks),
        "apply_slice_max_ms": round(max(ticks, default=0), 2),
        "apply_busy_fraction": round(sum(ticks) / 1000 / elapsed, 3),
        "pending_frames_after": backlog,
        "gc_during_loaded": gc_pauses.report(),
        "stored_dispatches": len(state.store),
        "rss_mb": round(rss / 2**20),
        "max_stall_target_ms": 50,
        "timeline_paint": timeline_paint(200_000 if args.quick else 1_000_000),
        "timeline_paint_target_ms": 16,
    }
    json.dump(result, sys.stdout, indent=2)
    sys.stdout.write("\n")
    monitor.dispose()  # as run_gui does: no Qt teardown left to interpreter exit


if __name__ == "__main__":
    main()
