"""The publisher over real ZeroMQ on loopback: order, sequence, heartbeats, drops, fork, CURVE."""

from __future__ import annotations

import gc
import os
import threading
import time

import pytest
import zmq

from django_probe import wire
from django_probe.conf import ProbeConfig
from django_probe.publisher import Publisher
from django_probe.sender import BEAT_RIDES_UP_TO

DEADLINE = 10.0  # seconds; generous for a loaded 2-core machine, only hit when broken


def dispatch(i: int, signal: str = "tests.signals.ping") -> wire.Dispatch:
    call = wire.ReceiverCall("on_ping", "tests.receivers", "/x.py", 3, False, 10,
                             wire.RETURNED, "None", None, None)
    return wire.Dispatch(wire.KIND_DISPATCH, time.time_ns(), i, None, signal, "tests.Sender",
                         "send", 100, "MainThread", 1, wire.CallSite("/a.py", 1, "f"), None,
                         {"n": str(i)}, [call], False, None)


@pytest.fixture
def context():
    ctx = zmq.Context()
    yield ctx
    ctx.destroy(linger=0)


def bind_pull(ctx: zmq.Context, endpoint: str = "tcp://127.0.0.1:*", **curve) -> zmq.Socket:
    sock = ctx.socket(zmq.PULL)
    sock.linger = 0
    for name, value in curve.items():
        setattr(sock, name, value)
    sock.bind(endpoint)
    return sock


@pytest.fixture
def pull(context):
    sock = bind_pull(context)
    yield sock
    sock.close(linger=0)


def endpoint_of(sock: zmq.Socket) -> str:
    return sock.get(zmq.LAST_ENDPOINT).decode()


def free_endpoint(ctx: zmq.Context) -> str:
    """A loopback endpoint with nobody bound to it (bound once, then released)."""
    sock = bind_pull(ctx)
    endpoint = endpoint_of(sock)
    sock.close(linger=0)
    return endpoint


@pytest.fixture
def publishers():
    made: list[Publisher] = []

    def make(endpoint: str, hello_info: dict | None = None, periodic=(), **options):
        config = ProbeConfig(endpoint=endpoint, **{"flush_interval": 0.01, **options})
        pub = Publisher(config, hello_info=hello_info or {"app": "tests"}, periodic=periodic)
        made.append(pub)
        return pub

    yield make
    for pub in made:
        pub.close(timeout=2.0)


def recv_frames(sock: zmq.Socket, until, timeout: float = DEADLINE) -> list[wire.Frame]:
    """Receive frames until ``until(frames)`` is true; fail the test at the deadline."""
    frames: list[wire.Frame] = []
    deadline = time.monotonic() + timeout
    while not until(frames):
        left = deadline - time.monotonic()
        assert left > 0, f"timed out; received {len(frames)} frames"
        if sock.poll(int(min(left, 0.2) * 1000)):
            frames.append(wire.decode_frame(sock.recv()))
    return frames


def events_of(frames: list[wire.Frame]) -> list[wire.Event]:
    return [event for frame in frames for event in frame.events]


def wait_for(condition, timeout: float = DEADLINE) -> None:
    deadline = time.monotonic() + timeout
    done = threading.Event()
    while not condition():
        assert time.monotonic() < deadline, "condition not reached"
        done.wait(0.005)  # polling a counter another thread updates


def connect(pub: Publisher, sock: zmq.Socket) -> list[wire.Frame]:
    """Submit marker events until one arrives: the PUSH connection is then established."""
    frames: list[wire.Frame] = []
    deadline = time.monotonic() + DEADLINE
    while not frames:
        assert time.monotonic() < deadline, "publisher never connected"
        pub.submit(dispatch(-1, "tests.signals.connect"))
        if sock.poll(20):
            frames.append(wire.decode_frame(sock.recv()))
    return frames


def dispatch_ids(events: list[wire.Event]) -> list[int]:
    return [e.id for e in events if e.kind == wire.KIND_DISPATCH and e.id >= 0]


def assert_contiguous(frames: list[wire.Frame]) -> None:
    for before, after in zip(frames, frames[1:]):
        assert after.seq == before.seq + len(before.events)


def test_events_arrive_in_order_hello_first_seq_contiguous(pull, publishers):
    pub = publishers(endpoint_of(pull),
                     hello_info={"app": "tests", "django": "5.2", "pid": "999999"})
    frames = connect(pub, pull)
    for i in range(1200):
        pub.submit(dispatch(i))
    frames += recv_frames(pull, lambda fs: 1199 in dispatch_ids(events_of(fs)))

    first = frames[0]
    assert first.seq == 0
    assert first.malformed == 0
    hello = first.events[0]
    assert isinstance(hello, wire.Hello)
    assert hello.info["app"] == "tests" and hello.info["django"] == "5.2"
    assert hello.info["pid"] == str(os.getpid())  # the caller cannot fake the identity
    assert "argv" not in hello.info  # command-line arguments may carry secrets
    assert hello.info["protocol"] == str(wire.PROTOCOL_VERSION) == "3"
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
        pub.submit(dispatch(i))

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
            pub.submit(dispatch(i))
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


def test_no_monitor_drops_and_counts_and_close_is_bounded(context, publishers):
    pub = publishers(free_endpoint(context), linger_ms=200)
    for i in range(2000):
        pub.submit(dispatch(i))
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
        pub.submit(dispatch(i))
    stats = pub.stats()
    assert stats["dropped_queue"] == 15
    assert stats["captured"] == 10
    assert stats["queue_depth"] == 10
    pub.close(timeout=2.0)
    # close() flushed what was queued; with no monitor those sends fail and are counted.
    after = pub.stats()
    assert after["dropped_send"] == 10 + 1  # + the final heartbeat
    assert after["queue_depth"] == 0


def test_submit_then_close_at_once_still_delivers(context, publishers):
    # A short-lived process (a forked child, a management command) sends and exits before
    # its brand-new socket has connected: the events wait for the connection (bounded by
    # LINGER) instead of being dropped. The monitor is listening, but the publisher's
    # connection is still being set up when close() runs.
    late = bind_pull(context)
    pub = publishers(endpoint_of(late), linger_ms=3000)
    pub.submit(dispatch(1))
    pub.submit(dispatch(2))
    pub.close(timeout=5.0)
    try:
        frames = recv_frames(late, lambda fs: 2 in dispatch_ids(events_of(fs)))
    finally:
        late.close(linger=0)
    assert frames[0].seq == 0 and isinstance(frames[0].events[0], wire.Hello)
    assert dispatch_ids(events_of(frames)) == [1, 2]
    assert pub.stats()["dropped_send"] == 0


def test_concurrent_submitters_every_event_is_accounted_for(context, publishers):
    pub = publishers(free_endpoint(context), queue_size=500, heartbeat_interval=3600.0)
    threads = [threading.Thread(target=lambda: [pub.submit(dispatch(i)) for i in range(5000)])
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
    pub.submit(dispatch(1))
    assert pub.stats()["dropped_queue"] == 1
    assert pub.stats()["queue_depth"] == 0


def test_monitor_started_after_publisher_receives_later_events(context, publishers):
    endpoint = free_endpoint(context)
    pub = publishers(endpoint)
    for i in range(50):
        pub.submit(dispatch(i))
    wait_for(lambda: pub.stats()["dropped_send"] >= 50)
    late = bind_pull(context, endpoint)
    try:
        frames = connect(pub, late)
        for i in range(100, 110):
            pub.submit(dispatch(i))
        frames += recv_frames(late, lambda fs: 109 in dispatch_ids(events_of(fs)))
    finally:
        late.close(linger=0)
    assert isinstance(frames[0].events[0], wire.Hello)  # the late monitor still gets a Hello
    assert frames[0].seq == 0  # nothing was handed to zmq before: dropped, not numbered
    assert dispatch_ids(events_of(frames)) == list(range(100, 110))
    assert_contiguous(frames)


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
    pub.submit(dispatch(5))
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


def test_unpackable_event_is_dropped_counted_and_neighbours_sent(pull, publishers):
    pub = publishers(endpoint_of(pull))
    connect(pub, pull)
    bad = dispatch(2)._replace(kwargs={"x": object()})  # a bug upstream: not plain data
    for event in (dispatch(1), bad, dispatch(3)):
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
    events = [dispatch(i) for i in range(100)]
    for event in events:
        pub.submit(event)
    queued = list(pub._queue)
    assert len(queued) == 100
    assert all(type(item) is bytes and not gc.is_tracked(item) for item in queued)
    frame = wire.decode_frame(wire.frame_of(pub.proc, 0, queued))
    assert frame.malformed == 0 and frame.events == events


def test_frames_too_big_for_the_monitor_are_split(pull, publishers, monkeypatch):
    monkeypatch.setattr(wire, "MAX_FRAME_BYTES", 4000)
    pub = publishers(endpoint_of(pull), flush_interval=0.2)
    frames = connect(pub, pull)
    for i in range(60):
        pub.submit(dispatch(i))
    frames += recv_frames(pull, lambda fs: 59 in dispatch_ids(events_of(fs)))
    assert dispatch_ids(events_of(frames)) == list(range(60))
    assert_contiguous(frames)
    assert len(frames) > 3
    assert pub.stats()["dropped_send"] == 0


def test_unusable_endpoint_counts_instead_of_crashing(publishers):
    # conf never lets this through, but a hand-built config must not kill the app either.
    pub = publishers("tcp://no-such-scheme")
    pub.submit(dispatch(1))
    wait_for(lambda: pub.stats()["dropped_send"] >= 1)
    assert pub.stats()["internal_errors"] == 1


def test_curve_encrypted_events_arrive(context, publishers):
    server_public, server_secret = zmq.curve_keypair()
    client_public, client_secret = zmq.curve_keypair()
    sock = bind_pull(context, curve_server=True, curve_secretkey=server_secret,
                     curve_publickey=server_public)
    try:
        pub = publishers(endpoint_of(sock), curve_server_key=server_public.decode(),
                         curve_public_key=client_public.decode(),
                         curve_secret_key=client_secret.decode())
        assert pub.config.curve_enabled
        connect(pub, sock)
        pub.submit(dispatch(42))
        frames = recv_frames(sock, lambda fs: 42 in dispatch_ids(events_of(fs)))
    finally:
        sock.close(linger=0)
    assert dispatch_ids(events_of(frames)) == [42]


def test_curve_with_wrong_server_key_delivers_nothing(context, publishers):
    server_public, server_secret = zmq.curve_keypair()
    wrong_public, _ = zmq.curve_keypair()
    client_public, client_secret = zmq.curve_keypair()
    sock = bind_pull(context, curve_server=True, curve_secretkey=server_secret,
                     curve_publickey=server_public)
    try:
        pub = publishers(endpoint_of(sock), curve_server_key=wrong_public.decode(),
                         curve_public_key=client_public.decode(),
                         curve_secret_key=client_secret.decode())
        for i in range(20):
            pub.submit(dispatch(i))
        wait_for(lambda: pub.stats()["dropped_send"] >= 20)
        assert not sock.poll(100)
    finally:
        sock.close(linger=0)


def _child_publishes(pub: Publisher, first: int, no_connection: int, not_sent: int) -> int:
    """In a forked child: connect, send dispatches ``first``..``first + 9``, close; 0 when
    all went out, else the status given for what failed."""
    deadline = time.monotonic() + DEADLINE
    while pub.stats()["sent"] == 0:  # wait for the child's own connection
        if time.monotonic() > deadline:
            return no_connection
        pub.submit(dispatch(-1, "tests.signals.connect"))
        threading.Event().wait(0.01)
    for i in range(first, first + 10):
        pub.submit(dispatch(i, "tests.signals.child"))
    pub.close(timeout=3.0)
    return 0 if pub.stats()["sent"] >= 11 else not_sent


def _child_main(pub: Publisher, parent_boot: str) -> int:
    """Runs in the forked child; returns the exit status (0 = all assertions held)."""
    stats = pub.stats()
    if stats["captured"] or stats["sent"] or stats["queue_depth"] or stats["dropped_queue"]:
        return 3  # the parent's counters or pending events leaked into the child
    if pub.proc.pid != os.getpid() or pub.proc.boot == parent_boot:
        return 4
    return _child_publishes(pub, 1000, no_connection=5, not_sent=6)


def test_forked_child_publishes_as_a_new_process_instance(pull, publishers):
    pub = publishers(endpoint_of(pull))
    connect(pub, pull)
    for i in range(100):
        pub.submit(dispatch(i))  # some may still be pending in the queue at fork time
    parent = pub.proc
    pid = os.fork()
    if pid == 0:  # the child: never return into pytest
        status = 1
        try:
            status = _child_main(pub, parent.boot)
        finally:
            os._exit(status)
    frames = recv_frames(
        pull, lambda fs: 1009 in dispatch_ids([e for f in fs if f.proc.pid == pid
                                                for e in f.events]))
    _, status = os.waitpid(pid, 0)
    assert os.waitstatus_to_exitcode(status) == 0
    child = [f for f in frames if f.proc.pid == pid]
    assert {f.proc.boot for f in child} != {parent.boot}
    assert len({f.proc for f in child}) == 1
    assert child[0].seq == 0 and isinstance(child[0].events[0], wire.Hello)
    assert child[0].events[0].info["pid"] == str(pid)
    assert_contiguous(child)
    child_ids = dispatch_ids(events_of(child))
    assert child_ids == list(range(1000, 1010))  # none of the parent's pending events
    # The parent keeps publishing with its own identity.
    pub.submit(dispatch(7777))
    later = recv_frames(pull, lambda fs: 7777 in dispatch_ids(events_of(fs)))
    assert later[-1].proc == parent


def _raw_child_main(pub: Publisher, parent: wire.Proc) -> int:
    """Runs in a child forked in C (no at-fork hook ran); 0 when all assertions held."""
    if pub.proc != parent:
        return 3  # a hook ran after all: this test would prove nothing
    pub.submit(dispatch(-2, "tests.signals.first"))  # wakes the sender: the fork is noticed
    if pub.proc.pid != os.getpid() or pub.proc.boot == parent.boot:
        return 4
    if pub.stats()["dropped_queue"] != 1:
        return 5  # the event queued before the fork was noticed is counted as dropped
    return _child_publishes(pub, 2000, no_connection=6, not_sent=7)


def test_a_child_forked_in_c_without_hooks_starts_over_when_it_first_wakes_the_sender(
        pull, publishers):
    # uWSGI forks its workers from C and runs Python's at-fork hooks only with
    # py-call-osafterfork: libc's fork() called with the GIL held (ctypes.PyDLL) is that.
    import ctypes

    pub = publishers(endpoint_of(pull))
    connect(pub, pull)
    wait_for(lambda: pub._idle and not pub._queue)  # the sender sleeps: one event wakes it
    parent = pub.proc
    pid = ctypes.PyDLL(None).fork()
    if pid == 0:  # the child: never return into pytest
        status = 1
        try:
            status = _raw_child_main(pub, parent)
        finally:
            os._exit(status)
    frames = recv_frames(
        pull, lambda fs: 2009 in dispatch_ids([e for f in fs if f.proc.pid == pid
                                                for e in f.events]))
    _, status = os.waitpid(pid, 0)
    assert os.waitstatus_to_exitcode(status) == 0
    child = [f for f in frames if f.proc.pid == pid]
    assert len({f.proc for f in child}) == 1 and child[0].proc.boot != parent.boot
    assert child[0].seq == 0 and isinstance(child[0].events[0], wire.Hello)
    assert_contiguous(child)
    assert dispatch_ids(events_of(child)) == list(range(2000, 2010))
    pub.submit(dispatch(8888))  # the parent goes on as itself
    later = recv_frames(pull, lambda fs: 8888 in dispatch_ids(events_of(fs)))
    assert later[-1].proc == parent


EXIT_SCRIPT = """
import sys, threading, time
from django_probe import wire
from django_probe.conf import ProbeConfig
from django_probe.publisher import Publisher
from django_probe.sender import BEAT_RIDES_UP_TO

endpoint, mode = sys.argv[1], sys.argv[2]
pub = Publisher(ProbeConfig(endpoint=endpoint, flush_interval=0.01, linger_ms=300),
                hello_info={"app": "exit-test"})

def event(i, size=10):
    return wire.Hello(wire.KIND_HELLO, i, {"i": str(i), "pad": "x" * size})

if mode == "flush":
    deadline = time.monotonic() + 10
    while pub.stats()["sent"] == 0 and time.monotonic() < deadline:
        pub.submit(event(-1))
        threading.Event().wait(0.01)
    for i in range(5):
        pub.submit(event(i))
else:  # "stuck": a monitor that accepts the connection but never reads
    for i in range(20000):
        pub.submit(event(i, 100))
    threading.Event().wait(0.5)
print("exiting", flush=True)
# No close(): the atexit handler must flush and return within its bound.
"""


def run_exit_script(endpoint: str, mode: str):
    import subprocess
    import sys

    return subprocess.run([sys.executable, "-c", EXIT_SCRIPT, endpoint, mode],
                          capture_output=True, text=True, timeout=30)


def test_exit_without_close_flushes_pending_events(pull):
    result = run_exit_script(endpoint_of(pull), "flush")
    assert result.returncode == 0, result.stderr
    def last_event_then_final_beat(fs):
        events = events_of(fs)
        last = [n for n, e in enumerate(events)
                if isinstance(e, wire.Hello) and e.info.get("i") == "4"]
        return bool(last) and any(isinstance(e, wire.Heartbeat) for e in events[last[0]:])

    frames = recv_frames(pull, last_event_then_final_beat)
    ids = [e.info["i"] for e in events_of(frames) if isinstance(e, wire.Hello) and "i" in e.info]
    assert ids[-5:] == ["0", "1", "2", "3", "4"]
    final = [e for e in events_of(frames) if isinstance(e, wire.Heartbeat)][-1]
    assert final.captured >= 6 and final.queue_depth == 0  # written by close() at exit


def test_exit_never_hangs_with_a_monitor_that_does_not_read(context):
    stuck = bind_pull(context)
    stuck.rcvhwm = 1  # it never calls recv(): the probe's pipe fills up
    try:
        # subprocess.run's timeout is the failure detector: a hang raises TimeoutExpired.
        result = run_exit_script(endpoint_of(stuck), "stuck")
    finally:
        stuck.close(linger=0)
    assert result.returncode == 0, result.stderr
    assert "exiting" in result.stdout


def test_exit_never_hangs_with_no_monitor(context):
    result = run_exit_script(free_endpoint(context), "stuck")
    assert result.returncode == 0, result.stderr


def test_a_full_batch_is_sent_at_once_and_a_partial_one_waits_for_the_interval(
        pull, publishers):
    pub = publishers(endpoint_of(pull), flush_interval=60.0, batch_size=20)
    frames = connect(pub, pull)  # its markers make full batches too
    frames += recv_frames(pull, lambda fs: not pub.stats()["queue_depth"], timeout=DEADLINE)
    while pull.poll(100):  # what the connecting markers left behind
        pull.recv()
    depth = pub.stats()["queue_depth"]
    for i in range(20 - depth):
        pub.submit(dispatch(i))  # completes a batch: sent long before the 60 s interval
    got = recv_frames(pull, lambda fs: 20 - depth - 1 in dispatch_ids(events_of(fs)))
    assert dispatch_ids(events_of(got)) == list(range(20 - depth))
    for i in range(100, 105):
        pub.submit(dispatch(i))  # a partial batch: it waits for the interval
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
    pub.submit(dispatch(7))
    frames = recv_frames(pull, lambda fs: 7 in dispatch_ids(events_of(fs)), timeout=10.0)
    assert dispatch_ids(events_of(frames))[-1] == 7
