"""The processes bench_probe_instructions counts under callgrind: login cycles and sends."""

from __future__ import annotations

import json
import sys
import time

WARM = 5  # cycles run first in every (d) child: caches and lazy imports alike


def _wrap_counting(counter: list[int]) -> None:
    """Count every dispatch that reaches at least one receiver (Django's own methods,
    wrapped; the native check of what the live monitor must receive)."""
    from django.dispatch import Signal
    from django.dispatch.dispatcher import NO_RECEIVERS

    def counting(original):
        def method(self, sender, **named):
            if self.receivers and (not self.use_caching or self.sender_receivers_cache.get(
                    sender) is not NO_RECEIVERS):
                live = self._live_receivers(sender)
                if isinstance(live, tuple):  # Django 5+: (sync, async)
                    live = live[0] + live[1]
                if live:
                    counter[0] += 1
            return original(self, sender, **named)
        return method

    for name in ("send", "send_robust", "asend", "asend_robust"):
        if name in Signal.__dict__:
            setattr(Signal, name, counting(Signal.__dict__[name]))



def child_live(variant: str, cycles: int, endpoint: str, dilation: float) -> None:
    """(d) with a live monitor. Prints one JSON line: the wall time of the N cycles, and
    the probe's counters ("with") or the dispatches with receivers ("count")."""
    from bench.bench_probe import configure, login_scenario

    configure()
    d = login_scenario()
    result: dict = {}
    if variant in ("with", "without"):
        sys.setswitchinterval(sys.getswitchinterval() * dilation)
    if variant == "with":
        from django_probe import runtime
        from django_probe import sender as timers  # (the sender thread's constants)
        from django_probe.conf import ProbeConfig

        base = ProbeConfig()
        timers.STRINGS_REFRESH_S *= dilation
        timers.CONNECT_GRACE *= dilation
        probe = runtime.start(ProbeConfig(
            endpoint=endpoint, flush_interval=base.flush_interval * dilation,
            heartbeat_interval=base.heartbeat_interval * dilation,
            topology_interval=base.topology_interval * dilation,
            linger_ms=round(base.linger_ms * dilation)))
        probe.watcher.refresh *= dilation
    counter = [0]
    if variant == "count":
        _wrap_counting(counter)
    d(WARM)
    warm = counter[0]
    t0 = time.perf_counter()
    d(cycles)
    result["wall_s"] = time.perf_counter() - t0
    if variant == "with":
        # The real shutdown: the last flush and heartbeat, then the context waits (up to
        # LINGER) until zmq has handed everything to the monitor.
        probe.publisher.close(timeout=3600)
        result["stats"] = probe.publisher.stats()
        runtime.stop()
    if variant == "count":
        result["dispatches_with_receivers"] = {"warm": warm, "cycles": counter[0] - warm}
    print(json.dumps(result), flush=True)


def child(scenario: str, variant: str, cycles: int) -> None:
    from bench.bench_probe import configure, login_scenario

    configure()
    from django.dispatch import Signal

    from django_probe import _dispatch, runtime, wire
    from django_probe.conf import ProbeConfig

    if scenario == "d":
        d = login_scenario()
        runtime.start(ProbeConfig(endpoint="tcp://127.0.0.1:9"), sink=wire.pack_event)
        d(WARM)
        if variant == "without":
            _dispatch.uninstall()
        d(cycles)
        return
    if scenario == "c":  # model instances: pre_init and post_init, no receivers
        from django.contrib.auth.models import User

        runtime.start(ProbeConfig(endpoint="tcp://127.0.0.1:9"), sink=wire.pack_event)
        for i in range(200):  # warm
            User(username="u", pk=i)
        if variant == "without":
            _dispatch.uninstall()
        for i in range(cycles):
            User(username="u", pk=i)
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
