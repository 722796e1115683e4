"""What the publisher drops and counts instead of blocking: no monitor, full queue, bad events."""

from __future__ import annotations

import gc
import threading
import time

from django_probe import wire
from tests.django_probe.support import (
    assert_contiguous,
    connect,
    dispatch_ids,
    endpoint_of,
    events_of,
    free_endpoint,
    make_dispatch,
    recv_frames,
    wait_for,
)


def test_no_monitor_drops_and_counts_and_close_is_bounded(context, publishers):
    pub = publishers(free_endpoint(context), linger_ms=200)
    for i in range(2000):
        pub.submit(make_dispatch(i))
    wait_for(lambda: pub.stats()["dropped_send"] + pub.stats()["dropped_queue"] >= 2000)
    stats = pub.stats()
    assert stats["sent"] == 0
    assert stats["captured"] == 2000
    assert stats["queue_depth"] == 0
    started = time.monotonic()
    pub.close(timeout=1.0)
    # A functional bound (close must not hang on a missing monitor), not a benchmark.
    assert time.monotonic() - started < 5.0
    assert pub.stats()["internal_errors"] == 0


def test_full_queue_drops_are_counted(context, publishers):
    # A long flush interval keeps events in the queue while we overfill it.
    pub = publishers(free_endpoint(context), queue_size=10, flush_interval=60.0)
    for i in range(25):
        pub.submit(make_dispatch(i))
    stats = pub.stats()
    assert stats["dropped_queue"] == 15
    assert stats["captured"] == 10
    assert stats["queue_depth"] == 10
    pub.close(timeout=2.0)
    # close() flushed what was queued; with no monitor those sends fail and are counted.
    after = pub.stats()
    assert after["dropped_send"] == 10 + 1  # + the final heartbeat
    assert after["queue_depth"] == 0


def test_concurrent_submitters_every_event_is_accounted_for(context, publishers):
    pub = publishers(free_endpoint(context), queue_size=500, heartbeat_interval=3600.0)
    threads = [threading.Thread(target=lambda: [pub.submit(make_dispatch(i)) for i in range(5000)])
               for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    stats = pub.stats()
    assert stats["captured"] + stats["dropped_queue"] == 8 * 5000
    assert stats["dropped_queue"] > 0  # 500 places for 40 000 events submitted at once
    wait_for(lambda: pub.stats()["queue_depth"] == 0)
    stats = pub.stats()
    assert stats["dropped_send"] == stats["captured"]  # nobody listening: all counted


def test_submit_after_close_is_dropped_and_counted(pull, publishers):
    pub = publishers(endpoint_of(pull))
    pub.close()
    pub.close()  # idempotent
    pub.submit(make_dispatch(1))
    assert pub.stats()["dropped_queue"] == 1
    assert pub.stats()["queue_depth"] == 0


def test_unpackable_event_is_dropped_counted_and_neighbours_sent(pull, publishers):
    pub = publishers(endpoint_of(pull))
    connect(pub, pull)
    bad = make_dispatch(2)._replace(kwargs={"x": object()})  # a bug upstream: not plain data
    for event in (make_dispatch(1), bad, make_dispatch(3)):
        pub.submit(event)
    frames = recv_frames(pull, lambda fs: 3 in dispatch_ids(events_of(fs)))
    assert dispatch_ids(events_of(frames)) == [1, 3]
    assert pub.stats()["internal_errors"] == 1
    assert pub.stats()["dropped_send"] == 1
    assert_contiguous(frames)


def test_queued_events_are_packed_bytes_the_gc_never_scans(context, publishers):
    # Queued tuples would be scanned (and promoted) by the application's own collections;
    # packed bytes are not tracked at all. The thread waits 30 s before its first flush.
    pub = publishers(free_endpoint(context), flush_interval=30)
    events = [make_dispatch(i) for i in range(100)]
    for event in events:
        pub.submit(event)
    queued = list(pub._queue)
    assert len(queued) == 100
    assert all(type(item) is bytes and not gc.is_tracked(item) for item in queued)
    frame = wire.decode_frame(wire.frame_of(pub.proc, 0, queued))
    assert frame.malformed == 0 and frame.events == events


def test_unusable_endpoint_counts_instead_of_crashing(publishers):
    # conf never lets this through, but a hand-built config must not kill the app either.
    pub = publishers("tcp://no-such-scheme")
    pub.submit(make_dispatch(1))
    wait_for(lambda: pub.stats()["dropped_send"] >= 1)
    assert pub.stats()["internal_errors"] == 1
