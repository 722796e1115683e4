"""Live control's socket: a zmq PUB, bound next to the data endpoint, that sends the rules."""

from __future__ import annotations

# Used from the thread that owns the ``Listener`` (zmq sockets are not thread-safe): the
# Qt worker's, or a test's. Other threads only hand it a new message (``ControlSender.
# offer``) or ask for a resend (``nudge``): plain attribute stores and a
# ``threading.Event``. No Qt here (an import-linter contract keeps ``monitor_gui`` Qt-free
# outside ``monitor_gui.qt``).
import threading
import time
from collections.abc import Callable

import zmq

from django_probe import wire
from monitor_gui.core.control import RESEND_S
from monitor_gui.listener import Listener, is_loopback


class ControlError(RuntimeError):
    """Live control could not start; the message says why and what to do."""


def control_endpoint_for(listener: Listener, endpoint: str | None = None) -> str:
    """Where to bind control: ``endpoint``, else derived from the listener's bound data
    endpoint like the probes derive it (docs/protocol.md, "Control channel")."""
    target = endpoint or wire.control_endpoint_of(listener.endpoint)
    if target is None:
        raise ControlError(f"no control endpoint can be derived from {listener.endpoint}; "
                           "give one with --control-listen")
    return target


def open_control(listener: Listener, endpoint: str | None = None) -> zmq.Socket:
    """A PUB socket in the listener's context, bound on the control endpoint, with the
    listener's CurveZMQ server keys (its authenticator admits the same probes). Refuses a
    non-loopback endpoint without CurveZMQ, like the probes do."""
    target = control_endpoint_for(listener, endpoint)
    curve = getattr(listener, "curve", None)
    if curve is None and not is_loopback(target):
        raise ControlError(f"live control on {target} is not on loopback and CurveZMQ is "
                           "off: refused (the probes would refuse it too); use --curve-secret")
    sock = listener.context.socket(zmq.PUB)
    try:
        sock.setsockopt(zmq.LINGER, 0)
        sock.setsockopt(zmq.SNDHWM, 16)  # a slow probe misses a set: the next one replaces it
        if curve is not None:
            public, secret = curve.keys()
            sock.curve_secretkey = secret
            sock.curve_publickey = public
            sock.curve_server = True
        sock.bind(target)
    except zmq.ZMQError as exc:
        sock.close(linger=0)
        raise ControlError(f"live control cannot listen on {target}: {exc}; free that port "
                           "or give another with --control-listen (and the probes' "
                           "CONTROL_ENDPOINT)") from None
    return sock


class ControlSender:
    """Sends the newest rule set on a PUB socket: at once when it changed or a new process
    appeared (``nudge``), and every ``resend_s`` anyway, so a probe that connected late,
    restarted or missed one gets it. Messages are whole rule sets: resending is harmless.
    """

    def __init__(self, make_message: Callable[[int], bytes] | None = None,
                 resend_s: float = RESEND_S) -> None:
        # make_message(ts_ns) -> bytes; set from the GUI thread with offer().
        self._make = make_message or (lambda ts: wire.encode_rules(ts, 10_000, []))
        self.resend_s = resend_s
        self._now = threading.Event()
        self._next = 0.0
        self.sent = 0
        self.endpoint: str | None = None

    def offer(self, make_message: Callable[[int], bytes]) -> None:
        """Any thread: use this message maker from now on and send at the next tick."""
        self._make = make_message
        self._now.set()

    def nudge(self) -> None:
        """Any thread: send the current rule set at the next tick (a new process came)."""
        self._now.set()

    def tick(self, sock: zmq.Socket) -> bool:
        """Owner thread: send if due; never blocks. True if a message went out."""
        now = time.monotonic()
        if not self._now.is_set() and now < self._next:
            return False
        self._now.clear()
        self._next = now + self.resend_s
        try:
            sock.send(self._make(time.time_ns()), zmq.NOBLOCK)
        except zmq.Again:
            return False
        self.sent += 1
        return True
