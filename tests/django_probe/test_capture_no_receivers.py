"""Dispatches with no receivers: counted per signal, sender and method, not streamed."""

from __future__ import annotations

import pytest
from django.dispatch import Signal

from django_probe import runtime
from django_probe.conf import ProbeConfig
from tests.django_probe.support import dispatches, resolved, start_recording
from tests.django_probe.testapp.models import Author


@pytest.mark.django_db
def test_no_receiver_dispatches_are_counted_not_streamed(probe):
    for i in range(5):
        Author(name=str(i))
    assert not dispatches(probe.events, "pre_init")
    counts = {(i.signal, i.sender): i.count
              for i in resolved(probe.strings, probe.recorder.drain_empty()).items}
    assert counts[("django.db.models.signals.pre_init", "testapp.Author")] == 5
    assert counts[("django.db.models.signals.post_init", "testapp.Author")] == 5
    assert probe.recorder.drain_empty() is None  # drained


def test_stream_empty_and_ignore_signals():
    _probe, events = start_recording(ProbeConfig(
        stream_empty=True, ignore_signals=frozenset({"django.db.models.signals.post_init"})))
    try:
        Author(name="x")
    finally:
        runtime.stop()
    assert [e.signal for e in events] == ["django.db.models.signals.pre_init"]
    assert events[0].receivers == []


@pytest.mark.filterwarnings("ignore:This process .* is multi-threaded:DeprecationWarning")
def test_a_forked_worker_does_not_report_the_no_receiver_counts_of_its_parent(probe):
    import os

    lonely = Signal()
    for _ in range(3):
        lonely.send(sender=Author)  # counted in the parent, not drained yet
    read, write = os.pipe()
    pid = os.fork()
    if pid == 0:
        try:
            lonely.send(sender=Author)
            drained = probe.recorder.drain_empty()
            os.write(write, str(sum(i.count for i in drained.items)).encode())
        finally:
            os._exit(0)
    os.waitpid(pid, 0)
    child_total = os.read(read, 100).decode()
    os.close(read)
    os.close(write)
    assert child_total == "1"  # its own dispatch only
    (item,) = [i for i in resolved(probe.strings, probe.recorder.drain_empty()).items
               if i.sender == "testapp.Author"]
    assert item.count == 3  # the parent still reports its own


def test_no_receiver_counts_are_kept_per_signal_sender_and_method(probe):
    first = Signal()
    second = Signal()
    for _ in range(4):
        first.send(sender=Author)
    first.send(sender=None)
    first.send_robust(sender=Author)
    second.send(sender=Author)
    counts = {(i.signal, i.sender, i.method): i.count
              for i in resolved(probe.strings, probe.recorder.drain_empty()).items}
    one, two = probe.recorder.registry.name(first), probe.recorder.registry.name(second)
    assert one != two
    assert counts == {(one, "testapp.Author", "send"): 4,
                      (one, "None", "send"): 1,
                      (one, "testapp.Author", "send_robust"): 1,
                      (two, "testapp.Author", "send"): 1}
    first.send(sender=Author)  # a drained pair is counted afresh
    (item,) = resolved(probe.strings, probe.recorder.drain_empty()).items
    assert (item.sender, item.count) == ("testapp.Author", 1)


def test_a_failure_while_counting_a_no_receiver_dispatch_never_reaches_the_app(probe,
                                                                              monkeypatch):
    def broken(signal):
        raise RuntimeError("naming bug")

    monkeypatch.setattr(probe.registry, "name", broken)
    lonely = Signal()
    assert lonely.send(sender=None) == []  # the app sees Django's own result
    assert next(probe.recorder.failures) == 1  # one failure counted (next() reads it)
