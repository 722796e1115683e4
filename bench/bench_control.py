"""What live control costs a dispatch: streamed, muted, sampled, rules for other signals.

    python bench/bench_control.py [--rounds 20] [--ops 20000]

``send()`` with one trivial receiver, per dispatch, in interleaved rounds:
  django    Django's own method (probe uninstalled)
  streamed  the probe, no rule (the one ``rules is None`` check)
  other     the probe, 50 rules for other signals (a lookup that misses)
  muted     the probe, this signal muted: counted, not described, packed nor queued
  sampled   the probe, this signal sampled 1 in 10
Events go to a real Publisher with no monitor (each is still packed and queued; the
sender thread counts them as dropped), so the hot path is the whole of what is measured.
Medians of the rounds (ns per dispatch, wall and this thread's CPU) on stdout as JSON;
each round waits for the sender thread to drain the previous variant's events.
"""

from __future__ import annotations

import argparse
import gc
import json
import os
import statistics
import sys
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, ROOT)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rounds", type=int, default=20)
    parser.add_argument("--ops", type=int, default=20_000)
    args = parser.parse_args()

    import django
    from django.conf import settings

    settings.configure(INSTALLED_APPS=[], SIGNAL_PROBE={"ENABLED": False})
    django.setup()
    from django.dispatch import Signal

    from django_probe import _dispatch, runtime, wire
    from django_probe.conf import ProbeConfig
    from django_probe.rules import RuleSet

    signal = Signal()
    globals()["bench_signal"] = signal  # a module attribute: the probe names it
    signal.connect(lambda sender, **kw: None, weak=False)
    name = f"{__name__}.bench_signal"
    probe = runtime.start(ProbeConfig(endpoint="tcp://127.0.0.1:9", control=False))
    recorder = probe.recorder

    def rules(*listed: wire.Rule) -> RuleSet:
        return RuleSet(listed, wire.rules_digest(listed), probe.strings.ref)

    variants = {
        "django": None,
        "streamed": None,
        "other": rules(*(wire.Rule(f"x.other{i}", None, 0) for i in range(50))),
        "muted": rules(wire.Rule(name, None, 0)),
        "sampled": rules(wire.Rule(name, None, 10)),
    }
    publisher = probe.publisher
    wall: dict[str, list[float]] = {v: [] for v in variants}
    cpu: dict[str, list[float]] = {v: [] for v in variants}
    for _ in range(args.rounds):
        for variant, ruleset in variants.items():
            if variant == "django":
                _dispatch.uninstall()
            else:
                _dispatch.install(recorder)
                recorder.set_rules(ruleset)
            # The previous variant's events drained first: the sender thread must not
            # compete for the GIL with this one's loop.
            while publisher.stats()["queue_depth"]:
                time.sleep(0.01)
            send = signal.send  # bound now: Django's method or the probe's mirror
            gc.collect()
            start, start_cpu = time.perf_counter_ns(), time.thread_time_ns()
            for _ in range(args.ops):
                send(sender=None)
            cpu[variant].append((time.thread_time_ns() - start_cpu) / args.ops)
            wall[variant].append((time.perf_counter_ns() - start) / args.ops)
            recorder.drain_muted()
    _dispatch.install(recorder)
    recorder.set_rules(None)
    runtime.stop()
    json.dump({"wall_ns_per_dispatch": {v: round(statistics.median(ns), 1)
                                        for v, ns in wall.items()},
               # this thread's CPU time: what the dispatches cost it, not waits for the
               # GIL or for the CPU on a shared machine
               "cpu_ns_per_dispatch": {v: round(statistics.median(ns), 1)
                                       for v, ns in cpu.items()},
               "rounds": args.rounds, "ops": args.ops,
               "python": sys.version.split()[0], "django": django.get_version()},
              sys.stdout, indent=1)
    print()


if __name__ == "__main__":
    main()
