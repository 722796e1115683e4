"""How the probe records one dispatch: nesting, call sites, timings, threads, cancelled asend."""

from __future__ import annotations

import asyncio
import logging
import time

import pytest
from django.dispatch import Signal

from django_probe import _dispatch, wire
from tests.django_probe.support import dispatches
from tests.django_probe.testapp.models import Author


def test_nested_dispatch_records_parent_and_call_site(probe):
    outer, inner = Signal(), Signal()

    def on_outer(sender, **kwargs):
        inner.send(sender=sender)  # nested
        return "outer-done"

    inner.connect(lambda sender, **kw: "inner-done", weak=False)
    outer.connect(on_outer, weak=False)
    outer.send(sender=Author); line = __import__("inspect").currentframe().f_lineno  # noqa: E702

    inner_event, outer_event = probe.events  # inner finishes first
    assert inner_event.parent == outer_event.id
    assert outer_event.parent is None
    assert outer_event.site.file == __file__ and outer_event.site.line == line
    assert outer_event.site.func == "test_nested_dispatch_records_parent_and_call_site"
    assert inner_event.site.func == "on_outer"
    assert outer_event.sender == "testapp.Author"
    assert outer_event.receivers[0].value == "'outer-done'"
    assert outer_event.dur >= outer_event.receivers[0].dur > 0


def test_call_sites_stay_exact_per_line_when_a_function_sends_again_and_again(probe):
    # Call sites are cached per code object and instruction offset: each line keeps its own.
    ping = Signal()
    ping.connect(lambda sender, **kw: None, weak=False)

    def send_twice():
        ping.send(sender=None); first = __import__("inspect").currentframe().f_lineno  # noqa: E702
        ping.send(sender=None); second = __import__("inspect").currentframe().f_lineno  # noqa: E702
        return first, second

    lines = [send_twice() for _ in range(3)]
    sites = [(e.site.func, e.site.line) for e in dispatches(probe.events, "")]
    assert sites == [("send_twice", line) for pair in lines for line in pair]
    assert lines[0][1] == lines[0][0] + 1


def test_send_robust_logging_of_a_failure_is_not_charged_to_the_next_receiver(probe):
    # Django logs each failure under send_robust(); a slow log handler must not make the
    # following receiver look slow (its clock starts after the logging).
    class SlowHandler(logging.Handler):
        def emit(self, record):
            time.sleep(0.05)  # a slow log sink (not a wait in the test)

    robust = Signal()

    def fails(sender, **kwargs):
        raise ValueError("boom")

    robust.connect(fails, weak=False)
    robust.connect(lambda sender, **kw: None, weak=False)
    handler = SlowHandler()
    logger = logging.getLogger("django.dispatch")
    logger.addHandler(handler)
    try:
        robust.send_robust(sender=None)
    finally:
        logger.removeHandler(handler)
    (event,) = dispatches(probe.events, "")
    failed, after = event.receivers
    assert (failed.outcome, after.outcome) == (wire.RAISED, wire.RETURNED)
    assert after.dur < 40_000_000 <= 50_000_000 <= event.dur


@pytest.mark.skipif(not _dispatch.MODERN, reason="asend() is Django >= 5.0")
def test_a_cancelled_asend_is_recorded_and_its_nest_keeps_nothing(probe):
    # Cancelling asend() cancels its async receivers, but its sync ones go on in their
    # thread and end after the dispatch was recorded: their late rows must not be kept.
    import threading

    from asgiref.sync import sync_to_async

    from django_probe import capture

    cancelled = Signal()
    nests, gate = [], threading.Event()

    def blocks(sender, **kwargs):
        nests.append(capture.current_dispatch.get())
        gate.wait(30)
        return "late"

    async def never_returns(sender, **kwargs):
        await asyncio.sleep(3600)

    cancelled.connect(blocks, weak=False)
    cancelled.connect(never_returns, weak=False)

    async def main():
        task = asyncio.ensure_future(cancelled.asend(sender=None))
        while not nests:
            await asyncio.sleep(0)
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task
        gate.set()
        await sync_to_async(lambda: None)()  # the same thread: after blocks() has ended

    asyncio.run(main())
    name = probe.recorder.registry.name(cancelled)
    (event,) = [e for e in probe.events if e.kind == "D" and e.signal == name]
    assert event.raised is True and event.method == "asend"
    assert [(r.is_async, r.outcome) for r in event.receivers] == [
        (False, "skipped"), (True, "raised")]  # blocks() had not ended yet
    (nest,) = nests
    assert nest.done and list(nest.calls) == []  # its late row was not kept


def test_thread_names_are_those_of_the_dispatching_threads(probe):
    import threading

    signal = Signal()
    signal.connect(lambda sender, **kw: None, weak=False)
    signal.send(sender=None)
    for name in ("worker-a", "worker-b"):  # ids of finished threads are often reused
        thread = threading.Thread(target=signal.send, kwargs={"sender": None}, name=name)
        thread.start()
        thread.join()
    signal.send(sender=None)
    assert [e.thread for e in probe.events] == [
        "MainThread", "worker-a", "worker-b", "MainThread"]


def test_timestamps_are_wall_clock_times_of_the_dispatch_start(probe):
    # ts is derived from the monotonic start of the receivers plus a wall-clock offset
    # (one clock read fewer per dispatch): it must still read like time.time_ns().
    tick = Signal()
    tick.connect(lambda sender, **kw: time.sleep(0.002), weak=False)
    stamps = []
    for _ in range(3):
        before = time.time_ns()
        tick.send(sender=None)
        stamps.append((before, time.time_ns()))
    events = dispatches(probe.events, "")
    assert len(events) == 3
    for event, (before, after) in zip(events, stamps, strict=True):
        assert before - 1_000_000 <= event.ts <= after - event.dur + 1_000_000
    assert events[0].ts < events[1].ts < events[2].ts
