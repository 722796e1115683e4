"""Helpers for the probe's tests: read what the probe produced as a monitor reads it.

Names in events are refs (ids of the probe's ``Interner``, or strings); these helpers
resolve them through a ``Vocabulary`` fed only with what a monitor would have been given,
so assertions stay on readable names.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from typing import Any

import zmq
from django.dispatch import Signal

from django_probe import _dispatch, capture, runtime, wire
from django_probe.conf import ProbeConfig
from django_probe.publisher import Publisher
from django_probe.strings import Interner, Unresolved, Vocabulary


def reader(strings: Interner) -> Callable[[Any], wire.Event]:
    """``read(event)``: an event as the hot path built it, validated (``wire.typed``) and
    its names resolved with ``strings``'s definitions so far (what the publisher would
    have defined before sending it)."""
    vocabulary = Vocabulary()

    def read(event: Any) -> wire.Event:
        for _kind, first, values in strings.definitions(len(vocabulary.values)):
            vocabulary.define(first, values)
        return vocabulary.resolved(wire.typed(event))

    return read


def start_recording(config: ProbeConfig | None = None,
                    strings: Interner | None = None) -> tuple[runtime.Probe, list]:
    """(Re)start the probe with an in-memory sink; the list fills with each event as a
    monitor reads it (validated, names resolved). ``strings``: an interner of the test's
    own instead of the process's."""
    strings = strings if strings is not None else runtime.process_strings()
    read = reader(strings)
    captured: list = []
    runtime.stop()
    # A request an earlier test left open holds refs of whichever interner named it.
    capture.current_request.set(None)
    probe = runtime.start(config or ProbeConfig(), sink=lambda e: captured.append(read(e)),
                          strings=strings)
    return probe, captured


class Monitor:
    """Reads frames in the order received, as the monitor does: one Vocabulary per
    process instance, fed by its Strings events. ``read`` raises ``Unresolved`` for an
    event that uses an id its process has not defined yet (a monitor would hold it
    back); ``hold`` keeps such frames (in order), takes the definitions of every frame at
    once, and retries the held ones after each frame."""

    def __init__(self) -> None:
        self.vocabularies: dict[wire.Proc, Vocabulary] = {}
        self.held: list[wire.Frame] = []

    def read(self, data: bytes | wire.Frame) -> wire.Frame:
        """The frame with every event's names resolved (Strings events kept, so the
        sequence numbers still count them)."""
        frame = data if isinstance(data, wire.Frame) else wire.decode_frame(data)
        vocabulary = self.vocabularies.setdefault(frame.proc, Vocabulary())
        events = []
        for event in frame.events:  # strictly in order: a definition before its use
            if event.kind == wire.KIND_STRINGS:
                vocabulary.define(event.first, event.values)
            events.append(vocabulary.resolved(event))
        return frame._replace(events=events)

    def hold(self, data: bytes) -> list[wire.Frame]:
        """The frames that can be read now, in order: ``data``'s and those held back
        before it; frames of a process behind one held back wait with it."""
        frame = wire.decode_frame(data)
        vocabulary = self.vocabularies.setdefault(frame.proc, Vocabulary())
        for event in frame.events:  # definitions count at once, also in a held frame
            if event.kind == wire.KIND_STRINGS:
                vocabulary.define(event.first, event.values)
        self.held.append(frame)
        out, still = [], []
        for frame in self.held:
            if any(f.proc == frame.proc for f in still):
                still.append(frame)
                continue
            try:
                out.append(self.read(frame))
            except Unresolved:
                still.append(frame)
        self.held = still
        return out


def resolved(strings: Interner, event: Any) -> wire.Event:
    """One event (a periodic producer's, say) read with all of ``strings``'s definitions."""
    return reader(strings)(event)


def dispatches(events, suffix):
    return [e for e in events if e.kind == "D" and e.signal.endswith(suffix)]


# The publisher over real ZeroMQ on loopback (tests/django_probe/test_publisher_*.py).

DEADLINE = 10.0  # seconds; generous for a loaded 2-core machine, only hit when broken


def make_dispatch(i: int, signal: str = "tests.signals.ping") -> wire.Dispatch:
    call = wire.ReceiverCall("on_ping", "tests.receivers", "/x.py", 3, False, 10,
                             wire.RETURNED, "None", None, None)
    return wire.Dispatch(wire.KIND_DISPATCH, time.time_ns(), i, None, signal, "tests.Sender",
                         "send", 100, "MainThread", 1, wire.CallSite("/a.py", 1, "f"), None,
                         {"n": str(i)}, [call], False, None)


def bind_pull(ctx: zmq.Context, endpoint: str = "tcp://127.0.0.1:*", **curve) -> zmq.Socket:
    sock = ctx.socket(zmq.PULL)
    sock.linger = 0
    for name, value in curve.items():
        setattr(sock, name, value)
    sock.bind(endpoint)
    return sock


def endpoint_of(sock: zmq.Socket) -> str:
    return sock.get(zmq.LAST_ENDPOINT).decode()


def free_endpoint(ctx: zmq.Context) -> str:
    """A loopback endpoint with nobody bound to it (bound once, then released)."""
    sock = bind_pull(ctx)
    endpoint = endpoint_of(sock)
    sock.close(linger=0)
    return endpoint


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
        pub.submit(make_dispatch(-1, "tests.signals.connect"))
        if sock.poll(20):
            frames.append(wire.decode_frame(sock.recv()))
    return frames


def dispatch_ids(events: list[wire.Event]) -> list[int]:
    return [e.id for e in events if e.kind == wire.KIND_DISPATCH and e.id >= 0]


def assert_contiguous(frames: list[wire.Frame]) -> None:
    for before, after in zip(frames, frames[1:]):
        assert after.seq == before.seq + len(before.events)


# The probe is invisible (tests/django_probe/test_contract_*.py).

def twice(scenario):
    """Run scenario() without and then with the probe; return both observations."""
    runtime.stop()
    assert not _dispatch.installed()
    without = scenario()
    _probe, captured = start_recording()
    try:
        assert _dispatch.installed()
        with_probe = scenario()
    finally:
        runtime.stop()
    return without, with_probe, captured


# Describing never runs application code (tests/django_probe/test_describe_safety_*.py).

calls: list[str] = []  # every hook below appends its name when it runs


def dispatch(events, signal: Signal, method: str = "send_robust", **kwargs) -> wire.Dispatch:
    """``signal.<method>(**kwargs)`` with the probe recording; the event it captured.

    The same dispatch through Django's own method first: what Django itself reads (its
    send_robust logs an exception with str(), its _make_id reads a sender's __func__) is
    what the application runs anyway. With the probe, exactly that and nothing more."""
    sender = kwargs.pop("sender", None)
    calls.clear()
    try:
        _dispatch._ORIGINALS[method](signal, sender=sender, **kwargs)
    except Exception:
        pass
    django_calls = list(calls)
    calls.clear()
    try:
        getattr(signal, method)(sender=sender, **kwargs)
    except Exception:
        pass
    assert calls == django_calls  # describing the dispatch ran nothing of the application
    return [e for e in events if e.kind == wire.KIND_DISPATCH][-1]
