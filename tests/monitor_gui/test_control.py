"""Live control's PUB socket on the monitor: where it binds, what it refuses, when it sends."""

from __future__ import annotations

import pytest
import zmq

from django_probe import wire
from monitor_gui.control import ControlError, ControlSender, control_endpoint_for, open_control
from monitor_gui.listener import Listener


def test_control_binds_next_to_the_data_endpoint_and_sends_state():
    with Listener("tcp://127.0.0.1:*") as listener:
        port = int(listener.endpoint.rsplit(":", 1)[1])
        try:
            pub = open_control(listener)
        except ControlError:
            pytest.skip("the next port happens to be taken")
        sub = listener.context.socket(zmq.SUB)
        sub.setsockopt(zmq.SUBSCRIBE, b"")
        sub.connect(f"tcp://127.0.0.1:{port + 1}")
        sender = ControlSender(resend_s=0.05)
        try:
            assert control_endpoint_for(listener) == f"tcp://127.0.0.1:{port + 1}"
            rules = [wire.Rule("a.sig", None, 0)]
            sender.offer(lambda ts: wire.encode_rules(ts, 10_000, rules))
            got = None
            for _ in range(400):  # the subscription takes a moment to reach the PUB
                sender.tick(pub)
                if sub.poll(10):
                    got = wire.decode_rules(sub.recv())
                    break
            assert got is not None and got.rules == rules
        finally:
            sub.close(linger=0)
            pub.close(linger=0)


def test_ticks_send_when_due_or_asked(monkeypatch):
    sent: list[bytes] = []

    class Sock:
        def send(self, data: bytes, flags: int = 0) -> None:
            sent.append(data)

    sender = ControlSender(lambda ts: b"m", resend_s=3600)
    assert sender.tick(Sock()) and not sender.tick(Sock())  # the first is due at once
    sender.nudge()  # a new process: at once, not in an hour
    assert sender.tick(Sock()) and len(sent) == 2


def test_control_off_loopback_without_curve_is_refused():
    with Listener("tcp://127.0.0.1:*") as listener:
        with pytest.raises(ControlError, match="not on loopback"):
            open_control(listener, "tcp://0.0.0.0:5600")
        with pytest.raises(ControlError, match="--control-listen"):
            control_endpoint_for(type("L", (), {"endpoint": "tcp://127.0.0.1:65535"})())
