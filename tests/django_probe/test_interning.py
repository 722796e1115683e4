"""Names travel interned (docs/protocol.md, "Interned names"): the real probe, its
publisher and a real zmq PULL socket read as a monitor reads them."""

from __future__ import annotations

import os
import threading
import time

import pytest
import zmq
from django.core.signals import request_finished, request_started
from django.dispatch import Signal

from django_probe import capture, publisher, runtime, wire
from django_probe import sender as probe_sender
from django_probe.conf import ProbeConfig
from django_probe.strings import Interner
from tests.django_probe.support import Monitor, reader

DEADLINE = 15.0  # seconds; only reached when something is broken
NAME = __name__

shipped = Signal()
audited = Signal()
quiet = Signal()  # no receivers: counted


def on_shipped(sender, **kwargs):
    return "ok"


def on_audited(sender, **kwargs):
    raise KeyError("missing")


@pytest.fixture
def context():
    ctx = zmq.Context()
    yield ctx
    ctx.destroy(linger=0)


def bind(ctx: zmq.Context, endpoint: str = "tcp://127.0.0.1:*") -> zmq.Socket:
    sock = ctx.socket(zmq.PULL)
    sock.linger = 0
    deadline = time.monotonic() + DEADLINE
    while True:
        try:
            sock.bind(endpoint)
            return sock
        except zmq.ZMQError as exc:  # a socket just closed there lets go of it shortly
            if exc.errno != zmq.EADDRINUSE or time.monotonic() > deadline:
                sock.close(linger=0)
                raise
            time.sleep(0.01)


@pytest.fixture
def wired():
    shipped.connect(on_shipped)
    audited.connect(on_audited)
    yield
    shipped.disconnect(on_shipped)
    audited.disconnect(on_audited)
    runtime.stop()


def start_streaming(endpoint: str, **options) -> runtime.Probe:
    runtime.stop()
    return runtime.start(ProbeConfig(endpoint=endpoint, **{
        "flush_interval": 0.01, "heartbeat_interval": 0.05, "topology_interval": 0.05,
        **options}))


def stream(sock: zmq.Socket, monitor: Monitor, until,
           timeout: float = DEADLINE) -> tuple[list[bytes], list[wire.Frame]]:
    """The frames received until ``until(frames read)`` holds: raw, and read by
    ``monitor`` once each, in order (it raises Unresolved for an id used before its
    definition)."""
    raw: list[bytes] = []
    frames: list[wire.Frame] = []
    deadline = time.monotonic() + timeout
    while not until(frames):
        left = deadline - time.monotonic()
        assert left > 0, f"timed out after {len(frames)} frames"
        if sock.poll(int(min(left, 0.1) * 1000)):
            raw.append(sock.recv())
            frames.append(monitor.read(raw[-1]))
    return raw, frames


def dispatches(frames: list[wire.Frame], suffix: str = "") -> list[wire.Dispatch]:
    return [e for f in frames for e in f.events
            if e.kind == wire.KIND_DISPATCH and e.signal.endswith(suffix)]


def has_dispatch(suffix: str):
    return lambda frames: bool(dispatches(frames, suffix))


def definitions(frames: list[wire.Frame]) -> list[wire.Strings]:
    return [e for f in frames for e in f.events if e.kind == wire.KIND_STRINGS]


@pytest.mark.django_db  # (request_started/finished's receivers look at connections)
def test_every_id_is_defined_before_its_first_use_in_the_stream(context, wired):
    pull = bind(context)
    probe = start_streaming(pull.get(zmq.LAST_ENDPOINT).decode())
    request_started.send(sender=None, environ={"REQUEST_METHOD": "POST",
                                               "PATH_INFO": "/orders/17/ship/"})
    shipped.send(sender=None, order=17)
    request_finished.send(sender=None)
    audited.send_robust(sender=None)
    quiet.send(sender=None)  # counted: its names travel in a Counts event

    def worker():
        later = Signal()  # named and interned only now, on another thread
        later.connect(on_shipped, weak=False)
        globals()["later_signal"] = later
        later.send(sender=Interner)

    thread = threading.Thread(target=worker, name="interning-worker")
    thread.start()
    thread.join()

    def done(frames):
        # Wait for quiet's own count: an earlier window's Counts event (another
        # no-receiver signal counted before quiet.send, flushed on a loaded machine) is not it.
        kinds = {e.kind for f in frames for e in f.events}
        counted = {(i.signal, i.sender) for f in frames  # (frames as read: names resolved)
                   for e in f.events if e.kind == wire.KIND_COUNTS for i in e.items}
        return (dispatches(frames, "later_signal") and wire.KIND_TOPOLOGY in kinds
                and (f"{NAME}.quiet", "None") in counted)

    raw, frames = stream(pull, Monitor(), done)
    pull.close(linger=0)
    assert frames[0].events[0].kind == wire.KIND_HELLO
    assert frames[0].events[0].info["protocol"] == str(wire.PROTOCOL_VERSION)
    (ship,) = dispatches(frames, ".shipped")
    assert ship.request[1:] == ("POST", "/orders/17/ship/", None)
    assert ship.sender == "None" and ship.thread == threading.current_thread().name
    assert (ship.site.file, ship.site.func) == (__file__, "test_every_id_is_defined_"
                                                "before_its_first_use_in_the_stream")
    assert [(r.name, r.module, r.file) for r in ship.receivers] == [
        ("on_shipped", NAME, __file__)]
    (audit,) = dispatches(frames, ".audited")
    assert audit.receivers[0].exc_type == "KeyError"
    (late,) = dispatches(frames, "later_signal")
    assert late.thread == "interning-worker" and late.sender == "django_probe.strings.Interner"
    counts = [i for f in frames for e in f.events if e.kind == wire.KIND_COUNTS
              for i in e.items]
    assert (f"{NAME}.quiet", "None") in {(i.signal, i.sender) for i in counts}
    # On the wire those names are ids: undecoded, every name of the dispatch is an int.
    raw_ship = next(e for d in raw for e in wire.decode_frame(d).events
                    if e.kind == wire.KIND_DISPATCH and e.id == ship.id)
    site, request, (receiver,) = raw_ship.site, raw_ship.request, raw_ship.receivers
    refs = [raw_ship.signal, raw_ship.sender, raw_ship.thread, site.file, site.func,
            request.method, request.path, receiver.name, receiver.module, receiver.file]
    assert all(type(ref) is int for ref in refs), refs
    assert probe.strings.values[raw_ship.signal] == f"{NAME}.shipped"
    # Definitions count in the sequence numbers, also those a heartbeat reports as sent.
    assert all(b.seq == a.seq + len(a.events) for a, b in zip(frames, frames[1:]))
    beats = [(f.seq + i, e) for f in frames for i, e in enumerate(f.events)
             if e.kind == wire.KIND_HEARTBEAT]
    assert beats and all(beat.sent == seq for seq, beat in beats)


def test_no_name_is_sent_twice_in_the_steady_state(context, wired, monkeypatch):
    monkeypatch.setattr(probe_sender, "STRINGS_REFRESH_S", 3600.0)
    pull = bind(context)
    probe = start_streaming(pull.get(zmq.LAST_ENDPOINT).decode())
    monitor = Monitor()
    shipped.send(sender=None)
    stream(pull, monitor, has_dispatch(".shipped"))
    pub, strings = probe.publisher, probe.strings
    # Steady: everything so far defined, and a few ticks with nothing new to define.
    deadline = time.monotonic() + DEADLINE
    while pub._defined != len(strings.values):
        assert time.monotonic() < deadline
        time.sleep(0.01)
    time.sleep(0.2)
    while pull.poll(50):
        monitor.read(pull.recv())
    known = len(strings.values)

    fresh = [Signal() for _ in range(3)]
    for signal in fresh:
        signal.connect(on_shipped)
    for i in range(300):
        shipped.send(sender=None, i=i)
        fresh[i % 3].send(sender=None)
    marker = Signal()
    marker.connect(on_shipped)
    globals()["steady_marker"] = marker
    marker.send(sender=None)
    _raw, frames = stream(pull, monitor, has_dispatch("steady_marker"))
    assert len(dispatches(frames)) == 601
    defined = [(e.first, e.values) for e in definitions(frames)]
    ids = [i for first, values in defined for i in range(first, first + len(values))]
    assert ids == list(range(known, known + len(ids)))  # each new name once, in order
    names = [v for _, values in defined for v in values]
    assert f"{NAME}.steady_marker" in names
    assert len(ids) < 10  # the new signals' names and the marker's, not the others again
    assert not set(names) & set(strings.values[:known])


@pytest.mark.parametrize("how", ["handshake", "refresh"])
def test_a_monitor_that_starts_late_reads_everything(context, wired, monkeypatch, how):
    # The first monitor goes away; another one binds the same endpoint. Sends that fail
    # meanwhile would make the publisher define everything again by themselves: that is
    # switched off here, so only the mechanism under test can bring the definitions.
    monkeypatch.setattr(publisher.Publisher, "_start_over",
                        lambda self: setattr(self, "_hello_pending", True))
    if how == "handshake":
        monkeypatch.setattr(probe_sender, "STRINGS_REFRESH_S", 3600.0)
    else:
        monkeypatch.setattr(probe_sender, "STRINGS_REFRESH_S", 0.5)
        monkeypatch.setattr(probe_sender, "handshakes_of", lambda sock: None)
    first = bind(context)
    endpoint = first.get(zmq.LAST_ENDPOINT).decode()
    start_streaming(endpoint)
    shipped.send(sender=None)
    stream(first, Monitor(), has_dispatch(".shipped"))
    first.close(linger=0)

    second = bind(context, endpoint)
    late = Monitor()
    frames: list[wire.Frame] = []
    deadline = time.monotonic() + DEADLINE
    while not dispatches(frames, ".shipped"):
        assert time.monotonic() < deadline, f"{len(late.held)} frames held back"
        shipped.send(sender=None)
        if second.poll(20):
            frames += late.hold(second.recv())
    second.close(linger=0)
    assert late.held == []
    (vocabulary,) = late.vocabularies.values()
    assert f"{NAME}.shipped" in vocabulary.values
    assert any(s.first == 0 for s in definitions(frames))  # all of them, from id 0


@pytest.mark.filterwarnings("ignore:This process .* is multi-threaded:DeprecationWarning")
def test_a_forked_child_defines_its_names_again(context, wired):
    pull = bind(context)
    start_streaming(pull.get(zmq.LAST_ENDPOINT).decode())
    shipped.send(sender=None)
    monitor = Monitor()
    stream(pull, monitor, has_dispatch(".shipped"))  # the parent has defined its names
    pid = os.fork()
    if pid == 0:  # the child: a new process instance with the parent's table
        try:
            shipped.send(sender=None, where="child")
            runtime.stop()  # flushes within LINGER
        finally:
            os._exit(0)
    os.waitpid(pid, 0)
    _raw, frames = stream(pull, monitor, lambda fs: dispatches(
        [f for f in fs if f.proc.pid == pid], ".shipped"))
    child = [f for f in frames if f.proc.pid == pid]
    events = [e for f in child for e in f.events]
    assert events[0].kind == wire.KIND_HELLO
    assert events[1].kind == wire.KIND_STRINGS and events[1].first == 0
    (event,) = dispatches(child, ".shipped")
    assert event.kwargs == {"where": "'child'"} and event.receivers[0].name == "on_shipped"


def test_past_the_limit_names_travel_as_themselves(wired):
    strings = Interner()
    raw: list = []
    runtime.stop()
    capture.current_request.set(None)  # (an open request's refs are another interner's)
    runtime.start(ProbeConfig(), sink=raw.append, strings=strings)
    shipped.send(sender=None)  # its names get ids
    strings.limit = len(strings.values)  # the table is full from now on
    beyond = Signal()
    beyond.connect(on_shipped, weak=False)
    globals()["beyond_limit"] = beyond

    def elsewhere(sender, **kwargs):
        return None

    shipped.connect(elsewhere)
    try:
        beyond.send(sender=Interner)
        shipped.send(sender=None)
    finally:
        shipped.disconnect(elsewhere)
        runtime.stop()
    first, second, third = raw
    assert type(first[4]) is int and type(third[4]) is int  # shipped: defined before
    assert second[4] == f"{NAME}.beyond_limit"  # new: as itself
    assert second[5] == "django_probe.strings.Interner"
    assert type(third[13][0][0]) is int and third[13][1][0].endswith("elsewhere")
    assert len(strings.values) == strings.limit
    read = reader(strings)  # (a monitor resolves both kinds of ref)
    assert [read(e).signal for e in raw] == [f"{NAME}.shipped", f"{NAME}.beyond_limit",
                                             f"{NAME}.shipped"]
