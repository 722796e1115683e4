"""The live OTLP relay: dispatch trees go out whole, in order, off the listener's thread; a
parent that never comes, a full queue and a refusing collector are handled and counted."""

from __future__ import annotations

import threading

from django_probe import wire
from monitor_gui.core import otlp_relay
from monitor_gui.core.otlp import OtlpError, Summary
from monitor_gui.core.otlp_relay import OtlpRelay
from tests.monitor_gui.core.events import PROC, dispatch


class Collector:
    """Stands in for otlp_export.send: records what it is given; can refuse or block."""

    def __init__(self) -> None:
        self.batches: list[list[tuple[wire.Proc, int]]] = []
        self.refuse = False
        self.gate = threading.Event()
        self.gate.set()
        self.entered = threading.Event()  # the sending thread has called it
        self.got = threading.Condition()

    def __call__(self, frames: list[wire.Frame]) -> Summary:
        self.entered.set()
        self.gate.wait()
        if self.refuse:
            raise OtlpError("the collector at http://x/v1/traces did not accept the spans")
        with self.got:
            self.batches.append([(f.proc, e.id) for f in frames for e in f.events])
            self.got.notify_all()
        n = sum(len(f.events) for f in frames)
        return Summary(dispatches=n, spans=2 * n, requests=1)

    def wait_for(self, count: int) -> list[list[tuple[wire.Proc, int]]]:
        with self.got:
            assert self.got.wait_for(lambda: len(self.batches) >= count, timeout=10)
        return self.batches


def frame(*events) -> wire.Frame:
    return wire.Frame(PROC, 0, list(events), 0)


def test_a_nested_dispatch_waits_for_its_top_level_ancestor():
    collector = Collector()
    relay = OtlpRelay(collector)
    # Streamed in the order they end: the innermost first.
    relay.write(frame(dispatch(3, parent=2), dispatch(2, parent=1)))
    relay.flush()
    relay.write(frame(dispatch(1), dispatch(9)))
    relay.flush()
    (batch,) = collector.wait_for(1)
    assert sorted(i for _p, i in batch) == [1, 2, 3, 9]  # one tree, whole, and a lone one
    relay.close()
    assert (relay.dispatches, relay.spans, relay.requests, relay.dropped) == (4, 8, 1, 0)
    assert relay.status() == "4 dispatches sent as 8 spans in 1 requests"


def test_a_dispatch_whose_parent_never_comes_goes_alone_after_a_while():
    now = [100.0]
    collector = Collector()
    relay = OtlpRelay(collector, clock=lambda: now[0])
    relay.write(frame(dispatch(5, parent=4)))  # its parent was muted or dropped
    relay.flush()
    assert collector.batches == []
    now[0] += otlp_relay.MAX_WAIT_S + 1
    relay.flush()
    assert collector.wait_for(1) == [[(PROC, 5)]]
    relay.close()


def test_a_refusing_collector_and_a_full_queue_are_counted_not_raised(monkeypatch):
    monkeypatch.setattr(otlp_relay, "MAX_BATCHES", 1)
    collector = Collector()
    collector.refuse = True
    collector.gate.clear()  # the sending thread blocks on the first batch
    relay = OtlpRelay(collector)
    relay.write(frame(dispatch(1)))
    relay.flush()
    assert collector.entered.wait(10)  # batch 1 is in the (blocked) sending thread
    for i in range(2, 5):
        relay.write(frame(dispatch(i)))
        relay.flush()  # 2: queued, 3 and 4: the queue is full
    assert relay.dropped == 2
    collector.gate.set()
    relay.close()
    assert relay.dropped == 4 and relay.dispatches == 0
    assert "did not accept the spans" in relay.status()


def test_close_sends_what_is_still_waiting():
    collector = Collector()
    relay = OtlpRelay(collector)
    relay.write(frame(dispatch(7, parent=6)))
    relay.close()
    assert collector.batches == [[(PROC, 7)]]
