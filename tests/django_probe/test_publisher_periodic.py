"""The publisher's periodic sources: called and sent, failures counted, heartbeats unaffected."""

from __future__ import annotations

import time

from django_probe import wire
from tests.django_probe.support import (
    connect,
    dispatch_ids,
    endpoint_of,
    events_of,
    make_dispatch,
    recv_frames,
    wait_for,
)


def test_periodic_sources_are_called_and_sent(pull, publishers):
    calls = []

    def counts() -> wire.Counts:
        calls.append(1)
        item = wire.EmptyCount("django.db.models.signals.pre_init", "auth.User", "send", 7)
        return wire.Counts(wire.KIND_COUNTS, time.time_ns(), 1_000_000, [item])

    pub = publishers(endpoint_of(pull), heartbeat_interval=0.05, periodic=[counts, lambda: None])
    connect(pub, pull)
    frames = recv_frames(pull, lambda fs: any(isinstance(e, wire.Counts) for e in events_of(fs)))
    sent = next(e for e in events_of(frames) if isinstance(e, wire.Counts))
    assert sent.items == [wire.EmptyCount("django.db.models.signals.pre_init", "auth.User",
                                          "send", 7)]
    assert calls


def test_raising_periodic_source_counts_errors_and_thread_survives(pull, publishers):
    def broken() -> None:
        raise RuntimeError("producer bug")

    pub = publishers(endpoint_of(pull), heartbeat_interval=0.02, periodic=[broken])
    connect(pub, pull)
    wait_for(lambda: pub.stats()["internal_errors"] >= 3)  # called again and again
    pub.submit(make_dispatch(5))
    frames = recv_frames(pull, lambda fs: 5 in dispatch_ids(events_of(fs)))
    assert any(isinstance(e, wire.Heartbeat) for e in events_of(frames))


def test_unpackable_periodic_event_is_counted_as_dropped_and_heartbeats_go_on(pull,
                                                                            publishers):
    def bad_counts():
        return wire.Counts(wire.KIND_COUNTS, 1, 1, [object()])  # a producer bug

    pub = publishers(endpoint_of(pull), heartbeat_interval=0.02, periodic=[bad_counts])
    connect(pub, pull)
    frames = recv_frames(pull, lambda fs: sum(isinstance(e, wire.Heartbeat)
                                              for e in events_of(fs)) >= 2)
    assert not any(isinstance(e, wire.Counts) for e in events_of(frames))
    pub.close()  # the counters are final once the thread has stopped
    stats = pub.stats()
    # Every heartbeat's bad Counts event is an internal error and a dropped event.
    assert stats["dropped_send"] >= stats["internal_errors"] >= 2
