"""End to end inside one test: the real hook, the real publisher, a real zmq PULL socket."""

from __future__ import annotations

import asyncio
import os
import time

import pytest
import zmq
from django.dispatch import Signal

from django_probe import runtime, wire
from django_probe._dispatch import MODERN
from django_probe.conf import ProbeConfig
from tests.django_probe.support import Monitor

order_placed = Signal()
stock_checked = Signal()


def reserve_stock(sender, **kwargs):
    stock_checked.send(sender=sender, sku=kwargs["sku"])  # nested dispatch
    return "reserved"


def charge_card(sender, **kwargs):
    raise RuntimeError("card declined")


def send_receipt(sender, **kwargs):  # never runs: charge_card raised first
    return "sent"


async def notify_async(sender, **kwargs):
    await asyncio.sleep(0)
    return "notified"


def log_stock(sender, **kwargs):
    return None


@pytest.fixture
def pull():
    ctx = zmq.Context()
    sock = ctx.socket(zmq.PULL)
    port = sock.bind_to_random_port("tcp://127.0.0.1")
    yield sock, f"tcp://127.0.0.1:{port}"
    sock.close(linger=0)
    ctx.term()


def collect(sock, until, timeout=15.0):
    """Receive and decode frames until ``until(frames)`` holds (or fail after timeout);
    names resolved as a monitor reads them, strictly in order (Monitor.read raises for
    an id used before its definition)."""
    monitor = Monitor()
    frames: list[wire.Frame] = []
    deadline = time.monotonic() + timeout
    while not until(frames):
        remaining = deadline - time.monotonic()
        assert remaining > 0, f"timed out; got {[e for f in frames for e in f.events]}"
        if sock.poll(int(remaining * 1000)):
            frames.append(monitor.read(sock.recv()))
    return frames


def dispatches(frames, pid=None):
    return [e for f in frames for e in f.events
            if e.kind == wire.KIND_DISPATCH and (pid is None or f.proc.pid == pid)]


@pytest.mark.filterwarnings("ignore:This process .* is multi-threaded:DeprecationWarning")
def test_real_socket_receives_exact_events_including_fork(pull):
    sock, endpoint = pull
    order_placed.connect(reserve_stock)
    order_placed.connect(charge_card)
    order_placed.connect(send_receipt)
    order_placed.connect(notify_async)
    stock_checked.connect(log_stock)
    runtime.stop()
    runtime.start(ProbeConfig(endpoint=endpoint, flush_interval=0.01, heartbeat_interval=0.2))
    try:
        send_line = _line() + 2
        with pytest.raises(RuntimeError, match="card declined"):
            order_placed.send(sender=None, sku="A-1")
        order_placed.disconnect(charge_card)
        if MODERN:
            responses = asyncio.run(order_placed.asend(sender=None, sku="B-2"))
        else:  # Django 4.2: no asend() and no async receivers
            order_placed.disconnect(notify_async)
            responses = order_placed.send(sender=None, sku="B-2") + [(None, "notified")]
        assert [r for _, r in responses] == ["reserved", "sent", "notified"]

        pid = os.fork()
        if pid == 0:  # child: its own publisher thread and zmq context, then exit
            try:
                stock_checked.send(sender=None, sku="child")
                runtime.stop()  # flushes within LINGER
            finally:
                os._exit(0)
        os.waitpid(pid, 0)

        frames = collect(sock, lambda fs: len(dispatches(fs, os.getpid())) >= 4
                         and dispatches(fs, pid) and any(
                             e.kind == wire.KIND_HEARTBEAT for f in fs for e in f.events))
    finally:
        runtime.stop()
        for r in (reserve_stock, charge_card, send_receipt, notify_async):
            order_placed.disconnect(r)
        stock_checked.disconnect(log_stock)

    parent = [f for f in frames if f.proc.pid == os.getpid()]
    assert parent[0].events[0].kind == wire.KIND_HELLO and parent[0].seq == 0
    seqs = [(f.seq, len(f.events)) for f in parent]
    assert all(a + n == b for (a, n), (b, _) in zip(seqs, seqs[1:]))  # contiguous

    nested, failed, nested2, async_event = dispatches(frames, os.getpid())[:4]
    assert failed.signal == "tests.django_probe.test_streaming.order_placed"
    assert failed.method == "send" and failed.raised is True
    assert (failed.site.file, failed.site.line) == (__file__, send_line)
    expected = [("reserve_stock", "returned"), ("charge_card", "raised"),
                ("send_receipt", "skipped"), ("notify_async", "skipped")]
    assert [(r.name, r.outcome) for r in failed.receivers] == expected
    assert failed.receivers[1].exc_type == "RuntimeError"
    assert failed.receivers[1].exc_msg == "card declined"
    assert nested.signal.endswith("stock_checked") and nested.parent == failed.id
    assert nested.site.func == "reserve_stock" and nested.kwargs == {"sku": "'A-1'"}

    assert async_event.method == ("asend" if MODERN else "send")
    assert async_event.raised is False
    assert [(r.name, r.is_async, r.outcome, r.value) for r in async_event.receivers] == [
        ("reserve_stock", False, "returned", "'reserved'"),
        ("send_receipt", False, "returned", "'sent'"),
        ("notify_async", True, "returned", "'notified'")][: 3 if MODERN else 2]
    assert nested2.parent == async_event.id

    child_frames = [f for f in frames if f.proc.pid == pid]
    assert {f.proc.boot for f in child_frames}.isdisjoint({f.proc.boot for f in parent})
    (child_event,) = dispatches(frames, pid)
    assert child_event.kwargs == {"sku": "'child'"} and child_event.parent is None


def _line() -> int:
    import sys

    return sys._getframe(1).f_lineno


def test_an_idle_process_says_hello_and_sends_heartbeats(pull):
    sock, endpoint = pull
    runtime.stop()
    runtime.start(ProbeConfig(endpoint=endpoint, heartbeat_interval=0.1))
    try:  # nothing is dispatched at all
        frames = collect(sock, lambda fs: any(e.kind == wire.KIND_HEARTBEAT
                                              for f in fs for e in f.events))
    finally:
        runtime.stop()
    kinds = [e.kind for f in frames for e in f.events]
    assert kinds[0] == wire.KIND_HELLO and wire.KIND_HEARTBEAT in kinds
    assert frames[0].proc.pid == os.getpid()


def test_an_event_the_probe_fails_to_build_is_counted_as_dropped(pull, monkeypatch):
    # A probe bug while building an event must neither break the dispatch nor vanish:
    # the heartbeat reports it in dropped_send, so the monitor shows it as lost.
    sock, endpoint = pull
    audited = Signal()
    audited.connect(log_stock, weak=False)
    runtime.stop()
    probe = runtime.start(ProbeConfig(endpoint=endpoint, flush_interval=0.01,
                                      heartbeat_interval=0.05))
    try:
        def broken(named):
            raise RuntimeError("describer bug")

        monkeypatch.setattr(probe.describer, "kwargs", broken)
        assert audited.send(sender=None, amount=3) == [(log_stock, None)]
        monkeypatch.undo()
        audited.send(sender=None, amount=4)  # the next one goes out as usual
        frames = collect(sock, lambda fs: any(
            isinstance(e, wire.Heartbeat) and e.dropped_send == 1 for f in fs for e in f.events)
            and any(e.kwargs == {"amount": "4"} for e in dispatches(fs)))
    finally:
        runtime.stop()
    assert [e.kwargs for e in dispatches(frames) if "amount" in e.kwargs] == [{"amount": "4"}]
    assert probe.publisher.stats()["internal_errors"] == 1
