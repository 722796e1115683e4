"""The publisher over real ZeroMQ on loopback: order, sequence, heartbeats, batching, frame size."""

from __future__ import annotations

import os

from django_probe import wire
from django_probe.sender import BEAT_RIDES_UP_TO
from tests.django_probe.support import (
    DEADLINE,
    assert_contiguous,
    bind_pull,
    connect,
    dispatch_ids,
    endpoint_of,
    events_of,
    free_endpoint,
    make_dispatch,
    recv_frames,
    wait_for,
)


def test_events_arrive_in_order_hello_first_seq_contiguous(pull, publishers):
    pub = publishers(endpoint_of(pull),
                     hello_info={"app": "tests", "django": "5.2", "pid": "999999"})
    frames = connect(pub, pull)
    for i in range(1200):
        pub.submit(make_dispatch(i))
    frames += recv_frames(pull, lambda fs: 1199 in dispatch_ids(events_of(fs)))

    first = frames[0]
    assert first.seq == 0
    assert first.malformed == 0
    hello = first.events[0]
    assert isinstance(hello, wire.Hello)
    assert hello.info["app"] == "tests" and hello.info["django"] == "5.2"
    assert hello.info["pid"] == str(os.getpid())  # the caller cannot fake the identity
    assert "argv" not in hello.info  # command-line arguments may carry secrets
    assert hello.info["protocol"] == str(wire.PROTOCOL_VERSION) == "4"
    assert sum(isinstance(e, wire.Hello) for e in events_of(frames)) == 1
    assert_contiguous(frames)
    assert dispatch_ids(events_of(frames)) == list(range(1200))
    assert all(f.proc == pub.proc for f in frames)
    assert pub.proc == (os.getpid(), pub.proc.host, pub.proc.boot)
    assert max(len(f.events) for f in frames) <= pub.config.batch_size + 1  # + the Hello


def test_heartbeat_carries_cumulative_counters(pull, publishers):
    pub = publishers(endpoint_of(pull), heartbeat_interval=0.05, queue_size=5000)
    frames = connect(pub, pull)
    for i in range(300):
        pub.submit(make_dispatch(i))

    def late_beat(fs):
        # The second beat that saw every event was built after a flush that took them all.
        beats = [e for e in events_of(fs) if isinstance(e, wire.Heartbeat)]
        return sum(b.captured >= 301 for b in beats) >= 2

    frames += recv_frames(pull, late_beat)
    beat = [e for e in events_of(frames) if isinstance(e, wire.Heartbeat)][-1]
    assert beat.queue_max == 5000
    assert beat.dropped_queue == 0 and beat.dropped_send == 0
    # Every captured event went out before this beat was built; sent also counts the
    # Hello and earlier heartbeats, which are numbered like any other event.
    assert beat.sent >= beat.captured + 1
    frame = next(f for f in frames if beat in f.events)
    # sent is the beat's own sequence number: everything ahead of it was handed to zmq.
    assert beat.sent == frame.seq + frame.events.index(beat)
    # A frame of many events never carries a heartbeat (the monitor's fast decoder takes
    # frames of dispatches only); 300 events queued at once make one such frame.
    big = [f for f in frames
           if sum(isinstance(e, wire.Dispatch) for e in f.events) > BEAT_RIDES_UP_TO]
    assert big and not any(isinstance(e, wire.Heartbeat) for f in big for e in f.events)
    stats = pub.stats()
    assert set(stats) == {"captured", "sent", "dropped_queue", "dropped_send", "queue_depth",
                          "queue_max", "internal_errors"}
    assert stats["captured"] >= beat.captured and stats["internal_errors"] == 0


def test_a_due_heartbeat_rides_in_the_frame_of_the_events_flushed_with_it(pull, publishers):
    # Every tick is a heartbeat tick: the events of a tick and its heartbeat share one
    # frame (one send), the heartbeat last, numbered after them.
    pub = publishers(endpoint_of(pull), heartbeat_interval=0.02, flush_interval=0.02)
    frames = connect(pub, pull)
    mixed = []
    for round_ in range(50):
        ids = range(round_ * 20, round_ * 20 + 20)
        for i in ids:
            pub.submit(make_dispatch(i))
        frames += recv_frames(pull, lambda fs, last=ids[-1]: last in dispatch_ids(events_of(fs)))
        mixed = [f for f in frames if any(isinstance(e, wire.Heartbeat) for e in f.events)
                 and any(isinstance(e, wire.Dispatch) for e in f.events)]
        if mixed:
            break
    assert mixed, "no heartbeat was sent with the events of its tick"
    frame = mixed[0]
    kinds = [type(e) for e in frame.events]
    beat_at = kinds.index(wire.Heartbeat)
    assert all(k is not wire.Dispatch for k in kinds[beat_at:])  # events first, then the beat
    assert frame.events[beat_at].sent == frame.seq + beat_at
    assert_contiguous(frames)


def test_submit_then_close_at_once_still_delivers(context, publishers):
    # A short-lived process (a forked child, a management command) sends and exits before
    # its brand-new socket has connected: the events wait for the connection (bounded by
    # LINGER) instead of being dropped. The monitor is listening, but the publisher's
    # connection is still being set up when close() runs.
    late = bind_pull(context)
    pub = publishers(endpoint_of(late), linger_ms=3000)
    pub.submit(make_dispatch(1))
    pub.submit(make_dispatch(2))
    pub.close(timeout=5.0)
    try:
        frames = recv_frames(late, lambda fs: 2 in dispatch_ids(events_of(fs)))
    finally:
        late.close(linger=0)
    assert frames[0].seq == 0 and isinstance(frames[0].events[0], wire.Hello)
    assert dispatch_ids(events_of(frames)) == [1, 2]
    assert pub.stats()["dropped_send"] == 0


def test_monitor_started_after_publisher_receives_later_events(context, publishers):
    endpoint = free_endpoint(context)
    pub = publishers(endpoint)
    for i in range(50):
        pub.submit(make_dispatch(i))
    wait_for(lambda: pub.stats()["dropped_send"] >= 50)
    late = bind_pull(context, endpoint)
    try:
        frames = connect(pub, late)
        for i in range(100, 110):
            pub.submit(make_dispatch(i))
        frames += recv_frames(late, lambda fs: 109 in dispatch_ids(events_of(fs)))
    finally:
        late.close(linger=0)
    assert isinstance(frames[0].events[0], wire.Hello)  # the late monitor still gets a Hello
    assert frames[0].seq == 0  # nothing was handed to zmq before: dropped, not numbered
    assert dispatch_ids(events_of(frames)) == list(range(100, 110))
    assert_contiguous(frames)


def test_frames_too_big_for_the_monitor_are_split(pull, publishers, monkeypatch):
    monkeypatch.setattr(wire, "MAX_FRAME_BYTES", 4000)
    pub = publishers(endpoint_of(pull), flush_interval=0.2)
    frames = connect(pub, pull)
    for i in range(60):
        pub.submit(make_dispatch(i))
    frames += recv_frames(pull, lambda fs: 59 in dispatch_ids(events_of(fs)))
    assert dispatch_ids(events_of(frames)) == list(range(60))
    assert_contiguous(frames)
    assert len(frames) > 3
    assert pub.stats()["dropped_send"] == 0


def test_a_full_batch_is_sent_at_once_and_a_partial_one_waits_for_the_interval(
        pull, publishers):
    pub = publishers(endpoint_of(pull), flush_interval=60.0, batch_size=20)
    frames = connect(pub, pull)  # its markers make full batches too
    frames += recv_frames(pull, lambda fs: not pub.stats()["queue_depth"], timeout=DEADLINE)
    while pull.poll(100):  # what the connecting markers left behind
        pull.recv()
    depth = pub.stats()["queue_depth"]
    for i in range(20 - depth):
        pub.submit(make_dispatch(i))  # completes a batch: sent long before the 60 s interval
    got = recv_frames(pull, lambda fs: 20 - depth - 1 in dispatch_ids(events_of(fs)))
    assert dispatch_ids(events_of(got)) == list(range(20 - depth))
    for i in range(100, 105):
        pub.submit(make_dispatch(i))  # a partial batch: it waits for the interval
    later = []
    while pull.poll(300):  # (a heartbeat may still come from the batch's wake-up)
        later.append(wire.decode_frame(pull.recv()))
    assert dispatch_ids(events_of(later)) == []
    assert pub.stats()["queue_depth"] == 5


def test_an_idle_sender_sleeps_until_the_heartbeat_and_the_first_event_wakes_it(
        pull, publishers):
    pub = publishers(endpoint_of(pull), flush_interval=0.01, heartbeat_interval=30.0)
    connect(pub, pull)
    wait_for(lambda: pub._idle)  # nothing more came: it sleeps until the heartbeat
    pub.submit(make_dispatch(7))
    frames = recv_frames(pull, lambda fs: 7 in dispatch_ids(events_of(fs)), timeout=10.0)
    assert dispatch_ids(events_of(frames))[-1] == 7
