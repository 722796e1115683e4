"""The monitor's socket: a zmq PULL that binds (probes connect) and hands out raw frame batches.

Frames are returned undecoded: decoding is the core's job (``MonitorState.apply``), so
this module stays a thin, testable wrapper. It never imports Qt; the Qt worker and the
headless recorder both use it from a single thread (zmq sockets are not thread-safe).

Optional CurveZMQ (for non-loopback endpoints): give the server certificate written by
``signal-monitor keys DIR`` (``server.key_secret``) and, to admit only known probes, a
directory of client public certificates; see docs/monitor-core.md.
"""

from __future__ import annotations

import errno
import os
import shutil
import stat
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import zmq
import zmq.auth

from django_probe import wire

# Frames libzmq queues per connected probe before it stops reading from it (then the
# probe's own send buffer and queue fill, and its non-blocking sends fail and are counted
# as dropped): a burst buffer, bounded. A probe frame is ~200 events in ~50 KB; a hostile
# peer may send frames of up to MAX_FRAME_BYTES, so this many of them is what one
# connection can make the monitor hold before it reads them.
RCVHWM = 16
# What one recv_batch takes from the socket at most (at least one frame): a batch of
# hostile 16 MB frames never piles up in memory before the first is looked at.
BATCH_BYTES = wire.MAX_FRAME_BYTES


class ListenerError(RuntimeError):
    """The listener could not start; the message says what to do about it."""


@dataclass(frozen=True)
class CurveServer:
    """CurveZMQ server setup: our secret certificate and, optionally, allowed client keys."""

    secret_file: Path  # zmq.auth certificate holding public and secret key (server.key_secret)
    clients_dir: Path | None = None  # public certificates of admitted probes; None: any client

    def keys(self) -> tuple[bytes, bytes]:
        public, secret = zmq.auth.load_certificate(str(self.secret_file))
        if not secret:
            raise ListenerError(f"{self.secret_file} holds no secret key: use *.key_secret")
        return public, secret


def create_keys(directory: str | Path) -> dict[str, str]:
    """Write server and client certificates into ``directory``; return their Z85 public keys.

    The secret certificates (``*.key_secret``) are readable by their owner only (0600) and
    the directory is private (0700): it is created so, or tightened if it already exists
    and belongs to us. A directory that belongs to someone else is refused
    (PermissionError): its owner could read or swap the keys whatever we chmod.
    """
    path = Path(directory)
    path.mkdir(mode=0o700, parents=True, exist_ok=True)
    _make_private(path)
    result = {}
    for name in ("server", "client"):
        public_file, secret_file = zmq.auth.create_certificates(str(path), name)
        # Written with the umask's mode (usually 0644), but inside our 0700 directory:
        # nobody else could open it in between.
        os.chmod(secret_file, 0o600)
        result[name] = zmq.auth.load_certificate(public_file)[0].decode("ascii")
    # The directory of admitted probes (--curve-clients) starts with this one client.
    clients = path / "clients"
    clients.mkdir(mode=0o700, exist_ok=True)
    _make_private(clients)
    shutil.copy(path / "client.key", clients / "client.key")
    return result


def _make_private(path: Path) -> None:
    """chmod 0700 a directory of ours; PermissionError if it is not ours (or not a dir)."""
    st = path.stat()
    if not stat.S_ISDIR(st.st_mode):
        raise NotADirectoryError(f"{path} is not a directory")
    if hasattr(os, "geteuid") and st.st_uid != os.geteuid():
        raise PermissionError(f"{path} belongs to another user (uid {st.st_uid}): "
                              "secret keys must live in a directory of your own")
    if stat.S_IMODE(st.st_mode) != 0o700:
        os.chmod(path, 0o700)


class Listener:
    """Bind a PULL socket on ``endpoint`` and receive raw frames in batches.

    ``endpoint`` may use a wildcard port (``tcp://127.0.0.1:*``); the bound address is
    then in ``self.endpoint``. Raises ListenerError with advice if binding fails.
    """

    def __init__(self, endpoint: str = wire.DEFAULT_ENDPOINT, curve: CurveServer | None = None,
                 context: zmq.Context | None = None) -> None:
        # A private context by default: terminating it in close() waits until libzmq has
        # really released the port (closing a socket alone finishes asynchronously).
        self._own_context = context is None
        self.context = context or zmq.Context()
        self.curve = curve  # live control's PUB uses the same keys (monitor_gui/control.py)
        self._auth: Any = None
        sock = self.context.socket(zmq.PULL)
        sock.setsockopt(zmq.LINGER, 0)
        sock.setsockopt(zmq.RCVHWM, RCVHWM)
        # libzmq drops oversized messages and disconnects their sender before we see them.
        sock.setsockopt(zmq.MAXMSGSIZE, wire.MAX_FRAME_BYTES)
        try:
            if curve is not None:
                self._setup_curve(sock, curve)
            sock.bind(endpoint)
        except zmq.ZMQError as exc:
            sock.close(linger=0)
            self._release()
            raise ListenerError(_advice(endpoint, exc)) from None
        except Exception:
            sock.close(linger=0)
            self._release()
            raise
        self.socket = sock
        self.endpoint: str = sock.getsockopt_string(zmq.LAST_ENDPOINT) or endpoint
        self.poller = zmq.Poller()
        self.poller.register(sock, zmq.POLLIN)

    def _setup_curve(self, sock: zmq.Socket, curve: CurveServer) -> None:
        from zmq.auth.thread import ThreadAuthenticator

        public, secret = curve.keys()
        # The authenticator (ZAP handler) decides which client keys may connect.
        self._auth = ThreadAuthenticator(self.context)
        self._auth.start()
        if curve.clients_dir is None:
            self._auth.configure_curve(domain="*", location=zmq.auth.CURVE_ALLOW_ANY)
        else:
            self._auth.configure_curve(domain="*", location=str(curve.clients_dir))
        sock.curve_secretkey = secret
        sock.curve_publickey = public
        sock.curve_server = True

    def recv_batch(self, timeout_ms: int = 100, max_frames: int = 1_000,
                   max_bytes: int = BATCH_BYTES) -> list[bytes]:
        """Wait up to ``timeout_ms`` for a frame, then drain what is queued (up to
        ``max_frames`` frames, and no more once they hold ``max_bytes``)."""
        if not self.poller.poll(timeout_ms):
            return []
        frames: list[bytes] = []
        recv = self.socket.recv
        size = 0
        try:
            while len(frames) < max_frames and size < max_bytes:
                frame = recv(zmq.NOBLOCK)
                frames.append(frame)
                size += len(frame)
        except zmq.Again:
            pass
        return frames

    def _stop_auth(self) -> None:
        if self._auth is not None:
            self._auth.stop()
            self._auth = None

    def _release(self) -> None:
        self._stop_auth()
        if self._own_context and not self.context.closed:
            self.context.term()

    def close(self) -> None:
        """Close the socket (linger 0: unreceived frames are discarded) and free the port.

        Returns once the endpoint can be bound again (the private context is terminated).
        """
        if getattr(self, "socket", None) is not None:
            self.socket.close(linger=0)
            self.socket = None  # type: ignore[assignment]
        self._release()

    def __enter__(self) -> Listener:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def is_loopback(endpoint: str) -> bool:
    """True for inproc/ipc endpoints and tcp endpoints bound to a loopback address."""
    if not endpoint.startswith("tcp://"):
        return True
    host = endpoint[len("tcp://"):].rsplit(":", 1)[0].strip("[]")
    return host == "localhost" or host.startswith("127.") or host == "::1"


def _advice(endpoint: str, exc: zmq.ZMQError) -> str:
    if exc.errno == errno.EADDRINUSE:
        return (f"cannot listen on {endpoint}: the address is already in use "
                "(another monitor running?); choose another endpoint with --listen, "
                "e.g. --listen tcp://127.0.0.1:5600, and point the probe's ENDPOINT at it")
    if exc.errno in (errno.EADDRNOTAVAIL, errno.ENODEV):
        return f"cannot listen on {endpoint}: no such local address ({exc}); check --listen"
    return f"cannot listen on {endpoint}: {exc}; check --listen"
