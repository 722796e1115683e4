"""Live control's channel on the probe: hostile messages, leases, its socket, forks."""

from __future__ import annotations

import time

import msgpack
import pytest
import zmq

from django_probe import wire
from django_probe.conf import ProbeConfig
from django_probe.control import ProbeControl
from django_probe.publisher import Publisher
from django_probe.rules import RuleSet
from django_probe.strings import Interner

DEADLINE = 10.0


def control(**config) -> tuple[ProbeControl, list]:
    installed: list = []
    made = ProbeControl(ProbeConfig(**config), installed.append, Interner().ref)
    return made, installed


def message(*rules, ts: int = 10, lease: int = 10_000) -> bytes:
    return wire.encode_rules(ts, lease, [wire.Rule(*r) for r in rules])


def test_a_valid_message_installs_a_snapshot_and_the_same_one_only_renews():
    ctl, installed = control()
    assert ctl.receive(message(("a.sig", None, 0)), now=0.0)
    assert ctl.count == 1 and ctl.digest == wire.rules_digest([wire.Rule("a.sig", None, 0)])
    assert isinstance(installed[-1], RuleSet)
    assert ctl.receive(message(("a.sig", None, 0), ts=11), now=1.0)
    assert len(installed) == 1  # nothing new to install
    ctl.expire(10.5)
    assert ctl.count == 1  # renewed at 1.0 for 10 s
    ctl.expire(11.0)
    assert (ctl.count, ctl.digest, installed[-1]) == (0, "", None)  # the lease ran out


def test_an_older_message_is_refused_while_the_newer_holds():
    ctl, installed = control()
    assert ctl.receive(message(("a", None, 0), ts=20), now=0.0)
    assert not ctl.receive(message(ts=19), now=1.0)
    assert ctl.count == 1 and ctl.malformed == 1
    assert ctl.receive(message(ts=5), now=20.0)  # the applied set lapsed: any may start
    assert ctl.count == 0 and installed[-1] is None


def good_array() -> list:
    return ["dsm", wire.PROTOCOL_VERSION, "R", 1, 10_000, "", []]


def with_digest(array: list) -> bytes:
    rules = [wire.Rule(*r) for r in array[6]]
    array[5] = wire.rules_digest(rules)
    return msgpack.packb(array)


HOSTILE = {
    "not bytes": "text",
    "empty": b"",
    "not msgpack": b"\xc1\xc1",
    "too large": b"\x90" * (wire.MAX_CONTROL_BYTES + 1),
    "a frame": wire.encode_frame(wire.Proc(1, "h", "b"), 0, []),
    "nested deep": b"\x91" * 100_000,
    "wrong version": msgpack.packb(["dsm", 2, "R", 1, 10_000, "", []]),
    "version as float": msgpack.packb(["dsm", float(wire.PROTOCOL_VERSION), "R", 1, 10_000,
                                       "", []]),
    "wrong kind": msgpack.packb(["dsm", wire.PROTOCOL_VERSION, "D", 1, 10_000, "", []]),
    "short lease": msgpack.packb(["dsm", wire.PROTOCOL_VERSION, "R", 1, 10, "", []]),
    "negative ts": msgpack.packb(["dsm", wire.PROTOCOL_VERSION, "R", -1, 10_000, "", []]),
    "rule for anything": with_digest([*good_array()[:6], [[None, None, 0]]]),
    "every out of range": with_digest([*good_array()[:6], [["a", None, wire.MAX_SAMPLE + 1]]]),
    "every negative": with_digest([*good_array()[:6], [["a", None, -1]]]),
    "every a bool": msgpack.packb([*good_array()[:6], [["a", None, True]]]),
    "duplicate rules": with_digest([*good_array()[:6], [["a", None, 0], ["a", None, 2]]]),
    "digest not the rules'": msgpack.packb([*good_array()[:5], "0" * 16, [["a", None, 0]]]),
    "too many rules": with_digest([*good_array()[:6],
                                   [[f"s{i}", None, 0] for i in range(wire.MAX_RULES + 1)]]),
    "name too long": msgpack.packb([*good_array()[:6], [["a" * (wire.MAX_STR + 1), None, 0]]]),
    "extra field": msgpack.packb([*good_array(), 1]),
    "bin instead of str": msgpack.packb([*good_array()[:6], [[b"a", None, 0]]]),
}


@pytest.mark.parametrize("name", list(HOSTILE))
def test_hostile_control_messages_are_refused_counted_and_change_nothing(name):
    ctl, installed = control()
    assert ctl.receive(message(("kept", None, 0)), now=0.0)
    before = (ctl.digest, ctl.count, list(installed))
    assert not ctl.receive(HOSTILE[name], now=1.0)
    assert ctl.malformed == 1
    assert (ctl.digest, ctl.count, installed) == before


def test_the_digest_does_not_depend_on_the_order_of_the_rules():
    a = [wire.Rule("x", None, 0), wire.Rule(None, "y", 5), wire.Rule("x", "y", 2)]
    assert wire.rules_digest(a) == wire.rules_digest(a[::-1]) != ""
    assert wire.rules_digest([]) == ""
    assert wire.decode_rules(wire.encode_rules(1, 10_000, a)).rules == wire.canonical_rules(a)


@pytest.mark.parametrize("endpoint,expected", [
    ("tcp://127.0.0.1:5599", "tcp://127.0.0.1:5600"), ("tcp://[::1]:7000", "tcp://[::1]:7001"),
    ("tcp://127.0.0.1:65535", None), ("tcp://127.0.0.1:*", None),
    ("ipc:///tmp/m", "ipc:///tmp/m.control"), ("inproc://m", "inproc://m.control")])
def test_the_control_endpoint_is_derived_from_the_data_endpoint(endpoint, expected):
    assert wire.control_endpoint_of(endpoint) == expected


def test_control_off_loopback_without_curve_is_refused():
    assert ProbeConfig().control_target == "tcp://127.0.0.1:5600"
    assert ProbeConfig().control_refusal is None
    remote = ProbeConfig(endpoint="tcp://10.0.0.5:5599")
    assert "refused" in remote.control_refusal
    ctl = ProbeControl(remote, lambda rules: None, Interner().ref)
    assert not ctl.enabled and ctl.open(zmq.Context.instance()) is None
    assert ProbeConfig(control=False).control_target is None
    assert ProbeConfig(control_endpoint="ipc:///tmp/c").control_target == "ipc:///tmp/c"


# --------------------------------------------------------------------------- the socket


def monitor_sockets(ctx: zmq.Context) -> tuple[zmq.Socket, zmq.Socket, ProbeConfig]:
    """A monitor's data (PULL) and control (PUB) sockets on loopback, and a probe's
    config pointing at both."""
    pull, pub = ctx.socket(zmq.PULL), ctx.socket(zmq.PUB)
    pull.bind("tcp://127.0.0.1:*")
    pub.bind("tcp://127.0.0.1:*")
    return pull, pub, ProbeConfig(endpoint=pull.get(zmq.LAST_ENDPOINT).decode(),
                                  control_endpoint=pub.get(zmq.LAST_ENDPOINT).decode(),
                                  flush_interval=0.01, heartbeat_interval=0.05)


def test_the_publisher_thread_applies_rules_from_its_control_socket_and_reports_them():
    ctx = zmq.Context()
    pull, pub, config = monitor_sockets(ctx)
    installed: list = []
    ctl = ProbeControl(config, installed.append, Interner().ref, muted=lambda: 7)
    publisher = Publisher(config, hello_info={}, control=ctl)
    publisher.start()
    rules = [wire.Rule("a.sig", None, 0)]
    digest = wire.rules_digest(rules)
    try:
        deadline = time.monotonic() + DEADLINE
        beats: list[wire.Heartbeat] = []
        while not any(b.rules == digest for b in beats):
            assert time.monotonic() < deadline, f"no heartbeat with the rules: {beats[-3:]}"
            pub.send(b"garbage")  # refused and counted, the thread goes on
            pub.send(wire.encode_rules(time.time_ns(), 10_000, rules))
            if pull.poll(50):
                frame = wire.decode_frame(pull.recv())
                beats += [e for e in frame.events if e.kind == wire.KIND_HEARTBEAT]
                hello = [e for e in frame.events if e.kind == wire.KIND_HELLO]
                if hello:
                    assert hello[0].info["control"] == config.control_endpoint
        assert [b.muted for b in beats if b.rules == digest][0] == 7
        assert isinstance(installed[-1], RuleSet)
        while not ctl.malformed:  # (the first messages may have gone before the subscription)
            assert time.monotonic() < deadline
            pub.send(b"garbage")
            time.sleep(0.01)
        assert publisher.stats()["internal_errors"] == 0
    finally:
        publisher.close(timeout=2.0)
        pull.close(linger=0)
        pub.close(linger=0)
        ctx.term()


def _child_applies(publisher: Publisher, ctl: ProbeControl, digest: str) -> int:
    """In a forked child: its own publisher thread (started by a submit) opens its own
    control socket and applies the rules sent after the fork; 0 if it did."""
    publisher.submit((wire.KIND_HELLO, 1, {}))  # (not a real event: starts the thread)
    deadline = time.monotonic() + DEADLINE
    while ctl.digest != digest and time.monotonic() < deadline:
        time.sleep(0.01)  # polling state another thread sets
    time.sleep(0.2)  # a few heartbeats reporting it
    publisher.close(timeout=2.0)
    return 0 if ctl.digest == digest else 2


@pytest.mark.filterwarnings("ignore:This process .* is multi-threaded:DeprecationWarning")
def test_a_forked_child_opens_its_own_control_socket():
    import os

    ctx = zmq.Context()
    pull, pub, config = monitor_sockets(ctx)
    ctl = ProbeControl(config, lambda rules: None, Interner().ref)
    publisher = Publisher(config, hello_info={}, control=ctl)
    publisher.start()
    first = [wire.Rule("a.sig", None, 0)]
    second = [wire.Rule("b.sig", None, 5)]
    try:
        deadline = time.monotonic() + DEADLINE
        while ctl.digest != wire.rules_digest(first):
            assert time.monotonic() < deadline
            pub.send(wire.encode_rules(time.time_ns(), 10_000, first))
            time.sleep(0.02)
        pid = os.fork()
        if pid == 0:  # the child: never return into pytest
            status = 1
            try:
                status = _child_applies(publisher, ctl, wire.rules_digest(second))
            finally:
                os._exit(status)
        child_beats: list[str] = []
        deadline = time.monotonic() + DEADLINE
        while wire.rules_digest(second) not in child_beats:
            assert time.monotonic() < deadline, child_beats[-3:]
            pub.send(wire.encode_rules(time.time_ns(), 10_000, second))
            if pull.poll(20):
                frame = wire.decode_frame(pull.recv())
                if frame.proc.pid == pid:
                    child_beats += [e.rules for e in frame.events
                                    if e.kind == wire.KIND_HEARTBEAT]
        _, status = os.waitpid(pid, 0)
        assert os.waitstatus_to_exitcode(status) == 0
    finally:
        publisher.close(timeout=2.0)
        pull.close(linger=0)
        pub.close(linger=0)
        ctx.term()
