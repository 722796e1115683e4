"""Live control on the probe's hot path: rule matching, sampling, muted counts."""


from __future__ import annotations

import pytest
from django.dispatch import Signal

from django_probe import runtime, wire
from django_probe.conf import ProbeConfig
from django_probe.rules import RuleSet
from tests.django_probe.support import start_recording
from tests.django_probe.testapp.models import Author

ping = Signal()
pong = Signal()
PING = f"{__name__}.ping"
PONG = f"{__name__}.pong"
DEADLINE = 10.0


@pytest.fixture
def probe():
    running, running.events = start_recording(ProbeConfig(stream_empty=True))
    yield running
    runtime.stop()


def use_rules(probe, *rules: tuple[str | None, str | None, int]) -> None:
    listed = [wire.Rule(*r) for r in rules]
    probe.recorder.set_rules(RuleSet(listed, wire.rules_digest(listed), probe.strings.ref))


def muted(probe) -> list[tuple[str, str, str, int, int]]:
    """The drained muted counts, names resolved."""
    event = probe.recorder.drain_muted()
    if event is None:
        return []
    values = probe.strings.values
    name = lambda ref: ref if type(ref) is str else values[ref]  # noqa: E731
    return sorted((name(i.signal), name(i.sender), i.method, i.count, i.raised)
                  for i in event.items)


def received(receiver_calls: list) -> callable:
    def on_ping(sender, **kwargs):
        receiver_calls.append(sender)
        return "pong"

    return on_ping


def test_no_rules_is_one_attribute_and_everything_streams(probe):
    assert probe.recorder.rules is None
    calls: list = []
    ping.connect(received(calls), weak=False, dispatch_uid="t1")
    try:
        assert ping.send(sender=Author)[0][1] == "pong"
    finally:
        ping.disconnect(dispatch_uid="t1")
    assert [e.signal for e in probe.events if e.kind == "D"] == [PING]


def test_a_muted_signal_still_runs_its_receivers_and_is_counted(probe):
    calls: list = []
    receiver = received(calls)
    ping.connect(receiver, weak=False, dispatch_uid="t2")
    use_rules(probe, (PING, None, 0))
    try:
        responses = [ping.send(sender=Author) for _ in range(3)]
        robust = ping.send_robust(sender=Author)
    finally:
        ping.disconnect(dispatch_uid="t2")
    assert responses == [[(receiver, "pong")]] * 3 and robust == [(receiver, "pong")]
    assert calls == [Author] * 4  # every receiver ran, exactly as without the rule
    assert [e for e in probe.events if e.kind == "D"] == []
    assert muted(probe) == [(PING, "testapp.Author", "send", 3, 0),
                            (PING, "testapp.Author", "send_robust", 1, 0)]
    assert probe.recorder.muted_total == 4


def test_a_muted_dispatch_that_raises_still_raises_and_counts_as_raised(probe):
    def boom(sender, **kwargs):
        raise KeyError("k")

    ping.connect(boom, weak=False, dispatch_uid="t3")
    use_rules(probe, (PING, None, 0))
    try:
        with pytest.raises(KeyError):
            ping.send(sender=Author)
    finally:
        ping.disconnect(dispatch_uid="t3")
    assert muted(probe) == [(PING, "testapp.Author", "send", 1, 1)]


def test_a_muted_dispatch_keeps_nothing_of_the_application_alive(probe):
    import gc
    import weakref

    class Payload:
        pass

    kept: list = []

    def make(sender, **kwargs):
        payload = Payload()
        kept.append(weakref.ref(payload))
        return payload

    ping.connect(make, weak=False, dispatch_uid="t6")
    use_rules(probe, (PING, None, 0))
    try:
        ping.send(sender=Author, value=Payload())
    finally:
        ping.disconnect(dispatch_uid="t6")
    gc.collect()
    assert kept[0]() is None
    assert all(type(v) in (int, str) for key in probe.recorder.muted_counts
               for v in key) and probe.recorder.muted_counts


def test_sampling_streams_the_first_of_every_n(probe):
    ping.connect(received([]), weak=False, dispatch_uid="t4")
    use_rules(probe, (PING, None, 3))
    try:
        for _ in range(7):
            ping.send(sender=Author)
    finally:
        ping.disconnect(dispatch_uid="t4")
    assert len([e for e in probe.events if e.kind == "D"]) == 3  # the 1st, 4th and 7th
    assert muted(probe) == [(PING, "testapp.Author", "send", 4, 0)]


def test_the_most_specific_rule_wins_and_sender_rules_cover_every_signal(probe):
    for signal, uid in ((ping, "t5a"), (pong, "t5b")):
        signal.connect(received([]), weak=False, dispatch_uid=uid)
    # ping is muted, but ping from "None" (a pair rule) streams 1 in 1_000_000 (its first);
    # everything sent by Author is muted.
    use_rules(probe, (PING, None, 0), (PING, "None", 1_000_000), (None, "testapp.Author", 0))
    try:
        ping.send(sender=None)
        ping.send(sender=None)
        ping.send(sender=object)
        pong.send(sender=Author)
        pong.send(sender=None)
    finally:
        ping.disconnect(dispatch_uid="t5a")
        pong.disconnect(dispatch_uid="t5b")
    streamed = [(e.signal, e.sender) for e in probe.events if e.kind == "D"]
    assert streamed == [(PING, "None"), (PONG, "None")]
    assert muted(probe) == [(PING, "None", "send", 1, 0), (PING, "builtins.object", "send", 1, 0),
                            (PONG, "testapp.Author", "send", 1, 0)]


def test_stream_empty_dispatches_obey_the_rules_too(probe):
    use_rules(probe, (PONG, None, 0))
    pong.send(sender=Author)  # no receiver: streamed one by one under STREAM_EMPTY
    ping.send(sender=Author)
    assert [e.signal for e in probe.events if e.kind == "D"] == [PING]
    assert muted(probe) == [(PONG, "testapp.Author", "send", 1, 0)]


def test_an_empty_rule_set_switches_the_check_off(probe):
    use_rules(probe)
    assert probe.recorder.rules is None
