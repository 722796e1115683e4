"""Nesting: an event's ``parent`` is the innermost dispatch still running around its send().

The scenarios are the ways code runs "inside a receiver": the same stack, asyncio tasks
that asend() gathers, async_to_sync/sync_to_async hops to other threads (asgiref copies the
context there and back), concurrent dispatches in sibling tasks, and work a receiver
schedules to run after its dispatch ended.
"""

from __future__ import annotations

import asyncio

import django
import pytest
from asgiref.sync import async_to_sync, sync_to_async
from django.dispatch import Signal

from django_probe import runtime, wire
from django_probe.conf import ProbeConfig
from tests.django_probe.support import start_recording

needs_async_signals = pytest.mark.skipif(django.VERSION < (5, 0),
                                         reason="asend() and async receivers: Django 5.0+")


# Each test's signals are created on lines of their own: an unnamed signal is named after
# the line that created it.


def by_signal(events, *signals: Signal) -> dict[Signal, list[wire.Dispatch]]:
    names = {signal: runtime.active().registry.name(signal) for signal in signals}
    return {signal: [e for e in events if e.kind == wire.KIND_DISPATCH and e.signal == name]
            for signal, name in names.items()}


def test_siblings_share_their_parent_and_the_stack_unwinds_after_a_raise(events):
    outer = Signal()
    inner = Signal()
    later = Signal()

    def on_outer(sender, **kwargs):
        inner.send(sender=None)
        inner.send(sender=None)
        raise RuntimeError("boom")

    outer.connect(on_outer, weak=False)
    inner.connect(lambda sender, **kw: None, weak=False)
    later.connect(lambda sender, **kw: None, weak=False)
    with pytest.raises(RuntimeError):
        outer.send(sender=None)
    later.send(sender=None)
    got = by_signal(events, outer, inner, later)
    (outer_event,) = got[outer]
    assert [e.parent for e in got[inner]] == [outer_event.id, outer_event.id]
    assert outer_event.parent is None and got[later][0].parent is None
    assert len({e.id for e in events}) == len(events) == 4


def test_async_to_sync_inside_a_receiver_keeps_the_parent_both_ways(events):
    # asgiref runs the coroutine in another thread with a copy of the context and copies
    # changed variables back afterwards: neither hop may lose or garble the parent.
    outer = Signal()
    hopped = Signal()
    after_hop = Signal()
    later = Signal()

    async def on_the_other_side():
        hopped.send(sender=None)

    def on_outer(sender, **kwargs):
        async_to_sync(on_the_other_side)()
        after_hop.send(sender=None)

    outer.connect(on_outer, weak=False)
    for signal in (hopped, after_hop, later):
        signal.connect(lambda sender, **kw: None, weak=False)
    outer.send(sender=None)
    later.send(sender=None)
    got = by_signal(events, outer, hopped, after_hop, later)
    outer_id = got[outer][0].id
    assert got[hopped][0].parent == outer_id
    assert got[after_hop][0].parent == outer_id
    assert got[later][0].parent is None


@needs_async_signals
def test_concurrent_asend_dispatches_in_sibling_tasks_keep_their_own_children(events):
    outer = Signal()
    inner = Signal()

    async def on_outer(sender, **kwargs):
        await asyncio.sleep(0)  # let the sibling dispatch run in between
        inner.send(sender=sender)
        await asyncio.sleep(0)
        await inner.asend(sender=sender)

    outer.connect(on_outer, weak=False)
    inner.connect(lambda sender, **kw: None, weak=False)

    async def main():
        await asyncio.gather(outer.asend(sender="a"), outer.asend(sender="b"))

    asyncio.run(main())
    got = by_signal(events, outer, inner)
    outer_ids = {e.sender: e.id for e in got[outer]}
    assert len(outer_ids) == 2 and all(e.parent is None for e in got[outer])
    assert sorted((e.sender, e.parent) for e in got[inner]) == sorted(
        [(s, outer_ids[s]) for s in ("'a'", "'b'") for _ in range(2)])


@needs_async_signals
def test_sync_to_async_and_async_receivers_of_send_see_the_dispatch(events):
    outer = Signal()
    inner = Signal()

    async def async_receiver(sender, **kwargs):
        await sync_to_async(inner.send)(sender="thread")  # a worker thread, copied context
        inner.send(sender="loop")

    outer.connect(async_receiver, weak=False)
    inner.connect(lambda sender, **kw: None, weak=False)
    outer.send(sender=None)  # Django runs the async receiver through async_to_sync
    got = by_signal(events, outer, inner)
    (outer_event,) = got[outer]
    assert sorted(e.sender for e in got[inner]) == ["'loop'", "'thread'"]
    assert all(e.parent == outer_event.id for e in got[inner])


def test_work_scheduled_by_a_receiver_that_runs_later_has_the_running_dispatch_as_parent(
        events):
    # A task created inside a receiver carries a copy of the context, but by the time it
    # sends, that receiver's dispatch has ended: its parent is the innermost dispatch that
    # is still running around it (here `request`), never the ended one.
    request = Signal()
    job = Signal()
    scheduled = Signal()
    tasks = []

    def on_job(sender, **kwargs):
        tasks.append(asyncio.get_running_loop().create_task(fire()))

    async def fire():
        scheduled.send(sender=None)

    async def on_request():
        job.send(sender=None)  # schedules fire(); job's dispatch ends here
        await asyncio.gather(*tasks)

    def request_receiver(sender, **kwargs):
        async_to_sync(on_request)()

    request.connect(request_receiver, weak=False)
    job.connect(on_job, weak=False)
    scheduled.connect(lambda sender, **kw: None, weak=False)
    request.send(sender=None)
    got = by_signal(events, request, job, scheduled)
    request_id = got[request][0].id
    assert got[job][0].parent == request_id
    assert got[scheduled][0].parent == request_id

    # With nothing running around it any more, such work has no parent at all.
    events.clear()
    tasks.clear()

    async def alone():
        job.send(sender=None)
        await asyncio.gather(*tasks)

    asyncio.run(alone())
    got = by_signal(events, job, scheduled)
    assert got[job][0].parent is None and got[scheduled][0].parent is None


def test_a_copied_context_keeps_seeing_what_it_copied(events):
    # A context copied inside `first` must keep first's (ended) nest, not whatever runs
    # later in the original context: here `second`, started after first ended.
    import contextvars

    outer = Signal()
    first = Signal()
    second = Signal()
    probe = Signal()
    copied = []

    def on_outer(sender, **kwargs):
        first.send(sender=None)
        second.send(sender=None)

    def on_second(sender, **kwargs):
        copied[0].run(probe.send, sender=None)

    outer.connect(on_outer, weak=False)
    first.connect(lambda sender, **kw: copied.append(contextvars.copy_context()), weak=False)
    second.connect(on_second, weak=False)
    probe.connect(lambda sender, **kw: None, weak=False)
    outer.send(sender=None)
    got = by_signal(events, outer, first, second, probe)
    outer_id = got[outer][0].id
    assert got[first][0].parent == got[second][0].parent == outer_id
    assert got[probe][0].parent == outer_id  # first ended; second is not its parent
    assert len({e.id for e in events}) == 4


def test_sequential_and_nested_dispatches_get_fresh_ids_and_the_right_parents(events):
    outer = Signal()
    inner = Signal()

    def on_outer(sender, **kwargs):
        for _ in range(3):
            inner.send(sender=None)

    outer.connect(on_outer, weak=False)
    inner.connect(lambda sender, **kw: None, weak=False)
    for _ in range(3):
        outer.send(sender=None)
    got = by_signal(events, outer, inner)
    assert len({e.id for e in events}) == len(events) == 12
    assert all(e.parent is None for e in got[outer])
    outer_ids = [e.id for e in got[outer]]
    assert [e.parent for e in got[inner]] == [i for i in outer_ids for _ in range(3)]


module_signal = Signal()  # receivers mode covers the signals found at start-up


def test_receivers_mode_events_have_fresh_ids_and_leave_the_context_alone():
    from django_probe import capture

    outer = module_signal
    _probe, captured = start_recording(ProbeConfig(mode="receivers"))
    try:
        before = capture.current_dispatch.get()
        for _ in range(3):
            outer.send(sender=None)
        assert capture.current_dispatch.get() is before  # no nest was made current
    finally:
        runtime.stop()
    sent = [e for e in captured if e.kind == wire.KIND_DISPATCH
            and e.signal.endswith("module_signal")]
    assert [e.method for e in sent] == ["receiver"] * 3
    assert len({e.id for e in sent}) == 3 and all(e.parent is None for e in sent)
