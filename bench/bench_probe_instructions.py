"""Scenarios of bench_probe counted in CPU instructions (callgrind); JSON on stdout.

    python bench/bench_probe_instructions.py [--cycles 20]           # (d)
    python bench/bench_probe_instructions.py --scenario a [--ops 20000]
    python bench/bench_probe_instructions.py --scenario b [--ops 20000]

(a) and (b) count one ``send()`` (one trivial receiver / none) the same way: N sends
against 0, with and without the hook. For (a) the events go through a real Publisher (its
C submit path and its sender thread, whose instructions valgrind counts too) towards an
endpoint nobody listens on; (b) makes no events.

Wall-clock ratios of a ~5 ms login cycle move by several percent between rounds on a
shared VM, which is the size of the effect being measured. ``valgrind --tool=callgrind``
counts executed instructions instead: the same count for the same code and input, however
busy the machine is. One run measures four child processes: without / with the probe's
hook, each for 0 and for N login + page + logout cycles (the same Django setup as
bench_probe); the difference between N and 0 cycles is the per-cycle cost, so setup and
start-up cancel out. The probe's events are packed as the publisher's submit() packs them
and then dropped (the publisher thread's joining and sending is not included: it runs
concurrently and valgrind serialises threads). Needs valgrind.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import re
import shutil
import subprocess
import sys
import tempfile

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def child(scenario: str, variant: str, cycles: int) -> None:
    sys.path.insert(0, ROOT)
    from bench.bench_probe import configure, login_scenario

    configure()
    from django.dispatch import Signal

    from django_probe import _dispatch, runtime, wire
    from django_probe.conf import ProbeConfig

    if scenario == "d":
        d = login_scenario()
        runtime.start(ProbeConfig(endpoint="tcp://127.0.0.1:9"), sink=wire.pack_event)
        d(5)  # warm caches and lazy imports alike in every variant
        if variant == "without":
            _dispatch.uninstall()
        d(cycles)
        return
    if scenario == "a":
        runtime.start(ProbeConfig(endpoint="tcp://127.0.0.1:9", queue_size=1_000_000))
    else:  # no events, so no publisher (its timers would count)
        runtime.start(ProbeConfig(endpoint="tcp://127.0.0.1:9"), sink=wire.pack_event)
    signal = Signal()
    if scenario == "a":
        signal.connect(lambda sender, **kwargs: None, weak=False)
    for _ in range(200):  # warm
        signal.send(sender=None)
    if variant == "without":
        _dispatch.uninstall()
    send = signal.send  # bound after uninstall(): Django's own method
    for _ in range(cycles):
        send(sender=None)


def count(scenario: str, variant: str, cycles: int, tmp: str) -> int:
    out = os.path.join(tmp, f"cg.{scenario}.{variant}.{cycles}")
    env = {**os.environ, "PYTHONHASHSEED": "0"}
    proc = subprocess.run(
        ["valgrind", "--tool=callgrind", f"--callgrind-out-file={out}", sys.executable,
         __file__, "--child", scenario, variant, str(cycles)],
        env=env, capture_output=True, text=True, check=True)
    found = re.search(r"Collected : (\d+)", proc.stderr)
    if found is None:
        raise RuntimeError(f"no instruction count in valgrind output:\n{proc.stderr[-2000:]}")
    return int(found.group(1))


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--scenario", choices=("a", "b", "d"), default="d")
    parser.add_argument("--cycles", type=int, default=20, help="login cycles of (d)")
    parser.add_argument("--ops", type=int, default=20_000, help="sends of (a) and (b)")
    parser.add_argument("--child", nargs=3, metavar=("SCENARIO", "VARIANT", "N"),
                        help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        child(args.child[0], args.child[1], int(args.child[2]))
        return 0
    n = args.cycles if args.scenario == "d" else args.ops
    if shutil.which("valgrind") is None:
        print(json.dumps({"error": "valgrind not found (apt-get install valgrind)"}))
        return 1
    per_op = {}
    with tempfile.TemporaryDirectory() as tmp:
        for variant in ("without", "with"):
            base = count(args.scenario, variant, 0, tmp)
            total = count(args.scenario, variant, n, tmp)
            per_op[variant] = (total - base) / n
    added = per_op["with"] - per_op["without"]
    names = {"a": ("a_send_one_receiver", "sends", "target +2 us median (wall)"),
             "b": ("b_send_no_receiver", "sends", "target +0.3 us median (wall)"),
             "d": ("d_login_and_page", "cycles",
                   "ratio <= 1.03 (hook and packing; the publisher thread is not counted)")}
    name, unit, target = names[args.scenario]
    each = "dispatch" if unit == "sends" else "cycle"
    print(json.dumps({
        "benchmark": "probe_overhead_instructions", "scenario": name,
        "python": platform.python_version(), unit: n,
        f"instructions_per_{each}": {k: round(v) for k, v in per_op.items()},
        f"added_per_{each}": round(added),
        "ratio": round(per_op["with"] / per_op["without"], 4),
        "target": target,
    }, indent=2))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
