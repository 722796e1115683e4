"""The probe's end of live control: a SUB socket, on the publisher thread, for the rules."""

from __future__ import annotations

# The monitor this probe streams to binds a PUB socket on its control endpoint and
# publishes its whole rule set (``wire.Rules``) every few seconds and when a new process
# says Hello. The probe's publisher thread, which owns every zmq object of the probe (zmq
# sockets are not thread-safe), connects a SUB socket to that one endpoint only, reads it
# without blocking at each of its wake-ups (so within ``HEARTBEAT_INTERVAL``), validates
# what came and swaps the recorder's rules snapshot; the application's threads only read
# that snapshot. Everything here is untrusted input: a bad message is counted, never
# raised. docs/live-control.md describes the channel and its security model.
from collections.abc import Callable
from typing import Any

import zmq

from . import clock, wire
from .conf import ProbeConfig
from .rules import RuleSet

# Messages read per wake-up at most (only the last valid one matters: each is the whole
# rule set); the rest wait for the next wake-up, so a flood cannot hold the thread.
MAX_PER_TICK = 16
RCVHWM = 4  # rule sets libzmq keeps for us between wake-ups; older ones are dropped


class ProbeControl:
    """The rules this process applies and where they came from (publisher thread only,
    except the plain attributes heartbeats read: ``digest``, ``count``)."""

    def __init__(self, config: ProbeConfig, install: Callable[[RuleSet | None], None],
                 intern: Callable[[str], int | str],
                 muted: Callable[[], int] = lambda: 0) -> None:
        self.endpoint = config.control_target
        self.refusal = config.control_refusal  # why control is off although asked for
        self._config = config
        self._install = install
        self._intern = intern
        self.muted = muted  # dispatches the rules kept from streaming so far (heartbeats)
        self.digest = ""  # the rules applied now ("" for none), for heartbeats
        self.count = 0
        self.received = 0  # valid rule sets received
        self.malformed = 0  # control messages refused (bad format, bounds, digest, stale)
        self._ts = 0  # the monitor's ts of the rule set applied
        self._expires = 0.0  # clock.monotonic() when the applied rules lapse

    @property
    def enabled(self) -> bool:
        return self.endpoint is not None and self.refusal is None

    def open(self, context: zmq.Context) -> zmq.Socket | None:
        """The SUB socket connected to the monitor's control endpoint, or None when
        control is off (not asked for, or refused: see ``refusal``)."""
        if not self.enabled:
            return None
        config = self._config
        sock = context.socket(zmq.SUB)
        try:
            sock.setsockopt(zmq.LINGER, 0)
            sock.setsockopt(zmq.RCVHWM, RCVHWM)
            # libzmq drops a longer message and disconnects its sender before we see it.
            sock.setsockopt(zmq.MAXMSGSIZE, wire.MAX_CONTROL_BYTES)
            if config.curve_enabled:
                # The monitor is the curve server with the same key pair as for data:
                # the handshake fails unless the peer holds CURVE_SERVER_KEY's secret.
                sock.curve_serverkey = str(config.curve_server_key).encode("ascii")
                sock.curve_publickey = str(config.curve_public_key).encode("ascii")
                sock.curve_secretkey = str(config.curve_secret_key).encode("ascii")
            sock.setsockopt(zmq.SUBSCRIBE, b"")
            sock.connect(str(self.endpoint))
        except Exception:
            sock.close(linger=0)
            raise
        return sock

    def poll(self, sock: zmq.Socket | None) -> None:
        """Read what the monitor sent since the last call (never blocks) and apply the
        newest valid rule set; let the rules lapse when their lease ran out."""
        if sock is not None:
            for _ in range(MAX_PER_TICK):
                # (not sock.poll(): pyzmq's poll reads time.monotonic, which tests mock)
                if not sock.get(zmq.EVENTS) & zmq.POLLIN:
                    break
                try:
                    data = sock.recv(zmq.NOBLOCK)
                except zmq.Again:
                    break
                self.receive(data)
        self.expire(clock.monotonic())

    def receive(self, data: Any, now: float | None = None) -> bool:
        """Apply one untrusted control message; False (and counted) if it is refused."""
        try:
            message = wire.decode_rules(data)
        except wire.WireError:
            self.malformed += 1
            return False
        now = clock.monotonic() if now is None else now
        if message.ts < self._ts and now < self._expires:
            # An older rule set than the one in force (delivered late): refused, so the
            # newest always wins. Once the applied set lapsed, any set may start again
            # (a monitor restarted with a clock set back).
            self.malformed += 1
            return False
        self.received += 1
        self._ts = message.ts
        self._expires = now + message.lease / 1000
        if message.digest != self.digest:  # the same set again only renews the lease
            self._apply(message.rules, message.digest)
        return True

    def expire(self, now: float) -> None:
        """No rule set for a whole lease (the monitor closed or is gone): no rules."""
        if self.count and now >= self._expires:
            self._apply([], "")

    def _apply(self, rules: list[wire.Rule], digest: str) -> None:
        self._install(RuleSet(rules, digest, self._intern) if rules else None)
        self.digest, self.count = digest, len(rules)
