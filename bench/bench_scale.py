"""The monitor at real scale (issue 13): open, relayout, live stalls, memory; JSON on stdout.

    QT_QPA_PLATFORM=offscreen python bench/bench_scale.py [--only open42k,open1m,live]
        [--data-dir /tmp] [--seconds 10]

Every case runs the real window (``monitor_gui.qt.app.build``, 1600x1000, shown) in a
process of its own, so RSS and caches are its own:

  open42k  open tests/data/real-suites-42k.jsonl.zst: from the start of the load until the
           window has processed every pending event and painted once (target <= 3 s)
  open1m   open 1,000,000 dispatches from 1,000 senders x 50 signals x 200 receivers
           (generated once into --data-dir, reused after; target <= 15 s), then RSS
           (target <= 600 MB), then the graph's relayout on that state with ~1,250 nodes:
           a signal filter set and cleared, and every fold and group opened (target
           <= 100 ms each)
  live     longest GUI stall while 50,000 events/s arrive from 500 distinct senders whose
           names keep appearing over the run (bench_gui's producer; target <= 50 ms)
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import subprocess
import sys
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, ROOT)

TARGETS = {"open42k_s": 3.0, "open1m_s": 15.0, "relayout_ms": 100.0, "max_stall_ms": 50.0,
           "rss_1m_mb": 600.0}


def rss_mb() -> float:
    import psutil

    return round(psutil.Process().memory_info().rss / 2**20, 1)


def window(capacity: int = 1_000_000):
    """The real window, as run_gui makes it (gc frozen), 1600x1000 and shown."""
    os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
    from monitor_gui.qt.app import build

    monitor = build(None, capacity=capacity, freeze_gc=True)
    monitor.window.resize(1600, 1000)
    monitor.window.show()
    settle(monitor.app)
    return monitor


def settle(app) -> float:
    """processEvents until three calls in a row find (almost) nothing to do; seconds spent."""
    t = time.perf_counter()
    quiet = 0
    while quiet < 3:
        s = time.perf_counter()
        app.processEvents()
        quiet = quiet + 1 if time.perf_counter() - s < 0.002 else 0
    return time.perf_counter() - t


def open_recording(monitor, path: str) -> dict:
    """Seconds from the start of the load until the window settled and painted once."""
    w, app = monitor.window, monitor.app
    t0 = time.perf_counter()
    w.open_recording(path)
    t1 = time.perf_counter()
    settle(app)
    t2 = time.perf_counter()
    w.grab()
    t3 = time.perf_counter()
    g = w.graph
    return {"total_s": round(t3 - t0, 2), "load_s": round(t1 - t0, 2),
            "settle_s": round(t2 - t1, 2), "paint_s": round(t3 - t2, 2),
            "stored_dispatches": len(monitor.state.store),
            "graph_rows_drawn": len(g.nodes), "graph_edges_drawn": len(g.edges),
            "graph_names": len(g.names())}


def timed(fn, repeat: int = 5) -> dict:
    samples = []
    for _ in range(repeat):
        t = time.perf_counter()
        fn()
        samples.append((time.perf_counter() - t) * 1000)
    samples.sort()
    return {"median_ms": round(samples[len(samples) // 2], 1), "max_ms": round(samples[-1], 1)}


def relayout(monitor) -> dict:
    """Graph relayout on the loaded state: signal filter on/off, everything opened."""
    from monitor_gui.core.query import Filter

    w, app, g = monitor.window, monitor.app, monitor.window.graph
    signals = sorted(monitor.state.signals)
    some = frozenset(signals[::5])
    out = {"nodes_known": len(g.names())}

    def graph_filter(on: bool) -> None:
        g.set_signal_filter(some if on else None)

    state = {"on": False}

    def toggle_graph() -> None:
        state["on"] = not state["on"]
        graph_filter(state["on"])

    out["signal_filter_graph"] = timed(toggle_graph, 6)

    def toggle_window() -> None:  # the whole window: list, timeline and graph
        state["on"] = not state["on"]
        w.apply_filter(Filter(signals=some) if state["on"] else None)

    out["signal_filter_window"] = timed(toggle_window, 4)
    w.apply_filter(None)
    settle(app)

    def open_folds() -> None:
        g.opts.opened.update({"sender+*", "signal+*", "receiver+*"})
        g.rebuild()

    def close_all() -> None:
        g.opts.opened.clear()
        g.opts.expanded.clear()
        g.rebuild()

    def expand_all() -> None:  # every group opened with all its members: every node drawn
        wiring = g.wiring
        g.opts.opened.update({"sender+*", "signal+*", "receiver+*"})
        for kind in ("sender", "receiver"):
            groups = {wiring.row(key).group for (k, _), key in wiring.row_of.items() if k == kind}
            g.opts.expanded.update(f"{kind}@{grp}" for grp in groups)
            g.opts.opened.update(f"{kind}+{grp}" for grp in groups)
        g.rebuild()

    samples = {"open_folds": [], "expand_all": [], "collapse_all": []}
    for _ in range(3):
        for name, fn in (("open_folds", open_folds), ("expand_all", expand_all),
                         ("collapse_all", close_all)):
            t = time.perf_counter()
            fn()
            samples[name].append((time.perf_counter() - t) * 1000)
            if name == "expand_all":
                out["expanded_rows_drawn"] = len(g.nodes)
                out["expanded_edges_drawn"] = len(g.edges)
                t = time.perf_counter()
                w.grab()
                out["expanded_paint_ms"] = round((time.perf_counter() - t) * 1000, 1)
    for name, s in samples.items():
        s.sort()
        out[name] = {"median_ms": round(s[1], 1), "max_ms": round(s[-1], 1)}
    worst = max(out["signal_filter_graph"]["max_ms"], out["open_folds"]["max_ms"],
                out["expand_all"]["max_ms"], out["collapse_all"]["max_ms"])
    out["worst_graph_relayout_ms"] = worst
    return out


def case_open42k(args) -> dict:
    monitor = window()
    res = open_recording(monitor, os.path.join(ROOT, "tests/data/real-suites-42k.jsonl.zst"))
    res["target_s"] = TARGETS["open42k_s"]
    res["pass"] = res["total_s"] <= TARGETS["open42k_s"]
    res["rss_mb"] = rss_mb()
    monitor.dispose()
    return res


def case_open1m(args) -> dict:
    from bench.scale_data import DATA_NAME, generate

    path = os.path.join(args.data_dir, DATA_NAME)
    gen = None
    if not os.path.exists(path):
        t = time.perf_counter()
        generate(path + ".tmp.zst")
        os.replace(path + ".tmp.zst", path)
        gen = round(time.perf_counter() - t, 1)
    monitor = window()
    before = rss_mb()
    res = open_recording(monitor, path)
    res |= {"recording": path, "generated_in_s": gen, "target_s": TARGETS["open1m_s"],
            "pass": res["total_s"] <= TARGETS["open1m_s"]}
    after = rss_mb()
    memory = {"rss_mb": after, "rss_before_load_mb": before, "target_mb": TARGETS["rss_1m_mb"],
              "pass": after <= TARGETS["rss_1m_mb"]}
    lay = relayout(monitor)
    lay["target_ms"] = TARGETS["relayout_ms"]
    lay["pass"] = lay["worst_graph_relayout_ms"] <= TARGETS["relayout_ms"]
    monitor.dispose()
    return {"open": res, "memory": memory, "relayout": lay}


def case_live(args) -> dict:
    import multiprocessing as mp

    from bench.bench_gui import (
        GcPauses,
        bound_endpoint,
        measure_stalls,
        produce,
        summary,
        time_ticks,
    )

    os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
    from monitor_gui.qt.app import build

    monitor = build("tcp://127.0.0.1:*", capacity=1_000_000, freeze_gc=True)
    w, app, state = monitor.window, monitor.app, monitor.state
    w.resize(1600, 1000)
    w.show()
    endpoint = bound_endpoint(monitor)
    ticks = time_ticks(monitor)
    ctx = mp.get_context("spawn")
    ready = ctx.Event()
    producer = ctx.Process(target=produce, args=(endpoint, 50_000, args.seconds, ready, 500),
                           daemon=True)
    producer.start()
    ready.wait(30)
    before = state.totals.events
    gc_pauses = GcPauses()
    started = time.perf_counter()
    stalls = measure_stalls(app, args.seconds)
    elapsed = time.perf_counter() - started
    import gc

    gc.callbacks.remove(gc_pauses._callback)
    producer.join(10)
    senders = {e.src for e in state.graph.edges() if e.kind == "sender->signal"}
    res = summary(stalls) | {
        "rate_target_events_s": 50_000,
        "applied_events_s": round((state.totals.events - before) / elapsed),
        "distinct_senders": len(senders),
        "apply_slice_max_ms": round(max(ticks, default=0), 2),
        "pending_frames_after": len(monitor.controller.pending),
        "gc": gc_pauses.report(),
        "rss_mb": rss_mb(),
        "target_ms": TARGETS["max_stall_ms"],
    }
    res["pass"] = res["max_stall_ms"] <= TARGETS["max_stall_ms"]
    monitor.dispose()
    return res


CASES = {"open42k": case_open42k, "open1m": case_open1m, "live": case_live}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--only", default=",".join(CASES))
    parser.add_argument("--data-dir", default=os.environ.get("TMPDIR", "/tmp"))
    parser.add_argument("--seconds", type=float, default=10.0, help="live phase length")
    parser.add_argument("--case", help=argparse.SUPPRESS)  # run one case in this process
    args = parser.parse_args()
    if args.case:
        json.dump(CASES[args.case](args), sys.stdout)
        return
    env = dict(os.environ, QT_QPA_PLATFORM=os.environ.get("QT_QPA_PLATFORM", "offscreen"))
    result: dict = {"benchmark": "monitor_at_scale", "python": platform.python_version(),
                    "pyside6": __import__("PySide6").__version__, "cpus": os.cpu_count(),
                    "targets": TARGETS}
    for name in args.only.split(","):
        proc = subprocess.run([sys.executable, __file__, "--case", name, "--data-dir",
                               args.data_dir, "--seconds", str(args.seconds)],
                              capture_output=True, text=True, env=env, cwd=ROOT)
        try:
            result[name] = json.loads(proc.stdout.strip().splitlines()[-1])
        except (IndexError, ValueError):
            result[name] = {"error": proc.stderr[-2000:]}
    json.dump(result, sys.stdout, indent=2)
    sys.stdout.write("\n")


if __name__ == "__main__":
    main()
