"""The probe never calls a clock that time-mocking libraries replace (docs/probe.md, "Clocks").

Each test runs the real hook and publisher thread, streaming to a real zmq PULL socket with
``STREAM_EMPTY`` on, while time-machine or freezegun travels or freezes time: the test sees
exactly the times it would see without the probe, and the monitor gets real, monotonic
times. Waits here count poll rounds instead of reading a clock, for the same reason.
"""

from __future__ import annotations

import datetime as dt
import sys
import time

import freezegun
import freezegun.api
import pytest
import time_machine
import zmq
from django.dispatch import Signal

from django_probe import clock, runtime, wire
from django_probe.conf import ProbeConfig
from tests.django_probe.support import Monitor

DEST = dt.datetime(2001, 2, 3, 4, 5, 6, tzinfo=dt.timezone.utc)
DEST_NS = int(DEST.timestamp()) * 1_000_000_000
NAME = __name__

paid = Signal()
lonely = Signal()  # no receivers: streamed one by one (STREAM_EMPTY)
counted = Signal()  # no receivers, sent once with STREAM_EMPTY off: a Counts event


def on_paid(sender, **kwargs):
    time.sleep(0.002)  # (not a clock read: neither library mocks sleep)
    return "ok"


def on_paid_too(sender, **kwargs):
    return None


@pytest.fixture
def streaming():
    """The probe streaming to a connected monitor socket; yields (socket, probe)."""
    ctx = zmq.Context()
    sock = ctx.socket(zmq.PULL)
    port = sock.bind_to_random_port("tcp://127.0.0.1")
    paid.connect(on_paid)
    runtime.stop()
    probe = runtime.start(ProbeConfig(
        endpoint=f"tcp://127.0.0.1:{port}", stream_empty=True, flush_interval=0.01,
        heartbeat_interval=0.05, topology_interval=0.05))
    try:
        receive(sock, lambda events: any(e.kind == wire.KIND_TOPOLOGY for e in events))
        yield sock, probe
    finally:
        runtime.stop()
        paid.disconnect(on_paid)
        paid.disconnect(on_paid_too)
        _monitors.pop(id(sock), None)
        sock.close(linger=0)
        ctx.term()


_monitors: dict[int, Monitor] = {}  # id(socket) -> what has been read from it


def receive(sock, until, rounds: int = 1500) -> list[wire.Event]:
    """Events received until ``until(events)`` holds, names resolved; at most ``rounds``
    naps of 10 ms (not ``sock.poll()``: pyzmq's poll reads ``time.monotonic``, which
    freezegun mocks)."""
    monitor = _monitors.setdefault(id(sock), Monitor())
    events: list[wire.Event] = []
    for _ in range(rounds):
        if until(events):
            return events
        try:
            events.extend(monitor.read(sock.recv(zmq.NOBLOCK)).events)
        except zmq.Again:
            time.sleep(0.01)  # (neither library mocks sleep)
    raise AssertionError(f"timed out; received {[e.kind for e in events]}")


def probe_work(sock, probe) -> list[wire.Event]:
    """Dispatches (with and without receivers), a wiring change, no-receiver counts and the
    periodic events, run on this thread and on the publisher's; the events received."""
    # The periodic producers on this thread too (the sender thread runs them as well;
    # what these return is not sent).
    probe.publisher._periodic_events()
    probe.publisher._heartbeat(0)
    probe.watcher.snapshot()
    paid.send(sender=None, amount=1)
    lonely.send(sender=None)
    paid.send(sender=None, amount=2)
    probe.recorder.stream_empty = False
    counted.send(sender=None)  # counted, sent with the next heartbeat
    probe.recorder.stream_empty = True
    paid.connect(on_paid_too)  # the next topology poll sends a snapshot

    def done(events):
        kinds = [e.kind for e in events]
        if wire.KIND_HEARTBEAT not in kinds:
            return False
        seen = kinds[: len(kinds) - kinds[::-1].index(wire.KIND_HEARTBEAT)]  # up to a beat
        topologies = [e for e in events if e.kind == wire.KIND_TOPOLOGY]
        return (len(dispatches(events)) == 3 and wire.KIND_COUNTS in seen
                and any(len(receivers_of(t, f"{NAME}.paid")) == 2 for t in topologies))

    return receive(sock, done)


def dispatches(events) -> list[wire.Dispatch]:
    return [e for e in events if e.kind == wire.KIND_DISPATCH
            and e.signal in (f"{NAME}.paid", f"{NAME}.lonely")]


def receivers_of(topology: wire.Topology, name: str) -> list:
    return [r for s in topology.signals if s.name == name for r in s.receivers]


def assert_real_and_monotonic(events, real_now_ns: int) -> None:
    sent = dispatches(events)
    assert [e.signal.rsplit(".", 1)[1] for e in sent] == ["paid", "lonely", "paid"]
    assert_real_and_monotonic_stamps(sent, real_now_ns)
    for event in events:  # dispatches, counts, topology and heartbeats alike
        if event.kind == wire.KIND_STRINGS:
            continue  # (definitions carry no time)
        assert abs(event.ts - real_now_ns) < 60 * 1_000_000_000, event


def assert_real_and_monotonic_stamps(sent: list[wire.Dispatch], real_now_ns: int) -> None:
    stamps = [e.ts for e in sent]
    assert stamps == sorted(stamps) and len(set(stamps)) == len(stamps)  # in order, distinct
    assert abs(stamps[0] - real_now_ns) < 60 * 1_000_000_000
    assert sent[0].receivers[0].dur >= 2_000_000  # the receiver's real 2 ms sleep


def test_time_machine_without_ticks_the_app_sees_the_destination_and_the_monitor_real_times(
        streaming):
    sock, probe = streaming
    with time_machine.travel(DEST, tick=False):
        assert time.time_ns() == DEST_NS
        events = probe_work(sock, probe)
        assert time.time_ns() == DEST_NS
        assert dt.datetime.now(dt.timezone.utc) == DEST
        real_now = time_machine.escape_hatch.time.time_ns()
    assert_real_and_monotonic(events, real_now)


def test_time_machine_the_first_call_after_travel_returns_the_destination_exactly(streaming):
    sock, probe = streaming
    with time_machine.travel(DEST, tick=True):
        probe_work(sock, probe)  # the probe ran on this thread and on its own meanwhile
        assert time.time_ns() == DEST_NS  # its first tick is still the app's
        assert time.time_ns() > DEST_NS


def test_freezegun_freeze_the_app_sees_the_frozen_time_and_the_monitor_real_times(streaming):
    sock, probe = streaming
    with freezegun.freeze_time(DEST):
        frozen = (time.time(), time.monotonic(), time.perf_counter_ns(), dt.datetime.now())
        events = probe_work(sock, probe)
        assert (time.time(), time.monotonic(), time.perf_counter_ns(),
                dt.datetime.now()) == frozen
    assert_real_and_monotonic(events, freezegun.api.real_time_ns())


def test_freezegun_auto_tick_every_clock_read_is_the_apps(streaming):
    # With auto_tick_seconds each read of any mocked clock (time, monotonic,
    # perf_counter...) advances time by a second: one read by the probe would show.
    sock, probe = streaming
    with freezegun.freeze_time(DEST, auto_tick_seconds=1):
        first = time.time()
        probe_work(sock, probe)
        assert time.time() == first + 1 == DEST.timestamp() + 1


def test_freezegun_auto_tick_a_probe_started_and_stopped_inside_a_freeze_reads_no_clock():
    # (override_settings(SIGNAL_PROBE=...) in a frozen test restarts the probe; a stop
    # within the connect grace waits for the connection, which must not read a clock.)
    ctx = zmq.Context()
    sock = ctx.socket(zmq.PULL)
    port = sock.bind_to_random_port("tcp://127.0.0.1")
    paid.connect(on_paid)
    try:
        with freezegun.freeze_time(DEST, auto_tick_seconds=1):
            first = time.time()
            runtime.stop()
            runtime.start(ProbeConfig(endpoint=f"tcp://127.0.0.1:{port}", stream_empty=True))
            paid.send(sender=None)
            lonely.send(sender=None)
            runtime.stop()
            assert time.time() == first + 1
        events = receive(sock, lambda events: len(dispatches(events)) == 2)
        assert_real_and_monotonic_stamps(dispatches(events), freezegun.api.real_time_ns())
    finally:
        runtime.stop()
        paid.disconnect(on_paid)
        sock.close(linger=0)
        ctx.term()


def test_no_probe_module_holds_a_clock_freezegun_would_replace():
    real = freezegun.api._real_time_object_ids
    for name, module in list(sys.modules.items()):
        if name == "django_probe" or name.startswith("django_probe."):
            for attr, value in vars(module).items():
                assert id(value) not in real, f"{name}.{attr} is a real clock function"
    assert clock.perf_counter_ns is not time.perf_counter_ns  # a private instance's


def test_wall_time_is_the_monotonic_clock_plus_one_offset():
    before = time.time_ns()
    now = clock.wall_ns()
    after = time.time_ns()
    assert before - 5_000_000 <= now <= after + 5_000_000
