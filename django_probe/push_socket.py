"""The probe's PUSH socket, for the sender thread (``sender.py``), the only thread that
touches it: opening it (options, CurveZMQ), whether a monitor can take a message, and the
socket monitor that tells when a (new) monitor completed a handshake."""

from __future__ import annotations

from typing import Any

import zmq


def open_push(context: zmq.Context, config: Any) -> zmq.Socket:
    """A PUSH socket connected to ``config.endpoint`` (a ``conf.ProbeConfig``)."""
    sock = context.socket(zmq.PUSH)
    try:
        # IMMEDIATE: with no monitor connected, sends fail at once (and are counted)
        # instead of queueing stale messages for a monitor that may never come.
        sock.setsockopt(zmq.IMMEDIATE, 1)
        sock.setsockopt(zmq.SNDHWM, config.send_hwm)
        sock.setsockopt(zmq.LINGER, config.linger_ms)
        if config.curve_enabled:
            sock.curve_serverkey = str(config.curve_server_key).encode("ascii")
            sock.curve_publickey = str(config.curve_public_key).encode("ascii")
            sock.curve_secretkey = str(config.curve_secret_key).encode("ascii")
        sock.connect(config.endpoint)
    except Exception:
        sock.close(linger=0)
        raise
    return sock


def writable(sock: zmq.Socket) -> bool:
    # With IMMEDIATE set, POLLOUT means a connected monitor with room in its pipe.
    return bool(sock.get(zmq.EVENTS) & zmq.POLLOUT)


def handshakes_of(sock: zmq.Socket) -> zmq.Socket | None:
    """A socket that receives a message whenever ``sock`` completes a handshake with a
    (new) monitor (zmq's socket monitor), or None where libzmq cannot say."""
    try:
        return sock.get_monitor_socket(zmq.EVENT_HANDSHAKE_SUCCEEDED)
    except Exception:  # (an old libzmq: the periodic refresh covers late monitors)
        return None


def drained(monitor: zmq.Socket) -> bool:
    """Read every pending socket-monitor message without blocking; True if there was
    any. (Not monitor.poll(): pyzmq's poll reads time.monotonic, which tests mock.)"""
    seen = False
    while monitor.get(zmq.EVENTS) & zmq.POLLIN:
        monitor.recv(zmq.NOBLOCK)  # (each event is two parts: both are read here)
        seen = True
    return seen
