"""Scenario (d) of bench_probe counted in CPU instructions (callgrind); JSON on stdout.

    python bench/bench_probe_instructions.py [--cycles 20]

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


def child(variant: str, cycles: int) -> None:
    sys.path.insert(0, ROOT)
    from bench.bench_probe import configure, login_scenario

    configure()
    from django_probe import _dispatch, runtime, wire
    from django_probe.conf import ProbeConfig

    d = login_scenario()
    runtime.start(ProbeConfig(endpoint="tcp://127.0.0.1:9"), sink=wire.pack_event)
    d(5)  # warm caches and lazy imports alike in every variant
    if variant == "without":
        _dispatch.uninstall()
    d(cycles)


def count(variant: str, cycles: int, tmp: str) -> int:
    out = os.path.join(tmp, f"cg.{variant}.{cycles}")
    env = {**os.environ, "PYTHONHASHSEED": "0"}
    proc = subprocess.run(
        ["valgrind", "--tool=callgrind", f"--callgrind-out-file={out}", sys.executable,
         __file__, "--child", variant, str(cycles)],
        env=env, capture_output=True, text=True, check=True)
    found = re.search(r"Collected : (\d+)", proc.stderr)
    if found is None:
        raise RuntimeError(f"no instruction count in valgrind output:\n{proc.stderr[-2000:]}")
    return int(found.group(1))


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cycles", type=int, default=20)
    parser.add_argument("--child", nargs=2, metavar=("VARIANT", "CYCLES"),
                        help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        child(args.child[0], int(args.child[1]))
        return 0
    if shutil.which("valgrind") is None:
        print(json.dumps({"error": "valgrind not found (apt-get install valgrind)"}))
        return 1
    per_cycle = {}
    with tempfile.TemporaryDirectory() as tmp:
        for variant in ("without", "with"):
            base = count(variant, 0, tmp)
            total = count(variant, args.cycles, tmp)
            per_cycle[variant] = (total - base) / args.cycles
    added = per_cycle["with"] - per_cycle["without"]
    print(json.dumps({
        "benchmark": "probe_overhead_instructions", "scenario": "d_login_and_page",
        "python": platform.python_version(), "cycles": args.cycles,
        "instructions_per_cycle": {k: round(v) for k, v in per_cycle.items()},
        "added_per_cycle": round(added),
        "ratio": round(per_cycle["with"] / per_cycle["without"], 4),
        "target": "ratio <= 1.03 (hook and packing; the publisher thread is not counted)",
    }, indent=2))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
