"""The probe's sender: a bounded queue filled on request threads, drained by one zmq thread.

Request threads only ``submit()``: a length check, packing the event into ``bytes``
(msgspec, ~0.2 µs) and ``deque.append``. Packing there, not in the sender thread, means
the queue holds no tuples for the cyclic GC to scan: thousands of queued nested tuples
made the application's own collections cost ~1.8 µs per dispatch. One daemon
thread per process owns its own ``zmq.Context`` and PUSH socket (zmq sockets are not
thread-safe, and a forked child must never touch its parent's context), batches events
into frames and sends them without blocking. Anything that cannot be queued or sent is
dropped and counted; the counters travel to the monitor in heartbeats. Nothing here
raises into the application. This module is what any thread calls (``submit()``,
``stats()``, ``close()``) and the fork and exit hooks; what the sender thread runs is
``sender.py``.

Names travel as ids of the process's ``Interner`` (docs/protocol.md, "Interned names"):
each frame starts with the definitions (``Strings`` events) this connection has not had
yet, and every ``sender.STRINGS_REFRESH_S``, on a new socket, after a failed send and
when a monitor completes a handshake, all of them go again, so a monitor that starts or
restarts late can read everything within a few seconds at most.
"""

from __future__ import annotations

import atexit
import itertools
import os
import platform
import secrets
import socket
import sys
import threading
import weakref
from collections import deque
from collections.abc import Callable, Sequence

import zmq

from django_probe import clock, forks, wire
from django_probe.conf import ProbeConfig
from django_probe.control import ProbeControl
from django_probe.sender import SenderThread
from django_probe.strings import Interner

Producer = Callable[[], "wire.Event | None"]
_pack_event = wire.pack_event

_live: weakref.WeakSet[Publisher] = weakref.WeakSet()
# A forked child must not close or destroy its parent's zmq objects (their io threads do
# not exist in the child); references are parked here so they are never finalized.
_abandoned: list[object] = []


def _count_value(counter: itertools.count) -> int:
    """Current value of an ``itertools.count`` without advancing it (its repr is 'count(N)')."""
    return int(repr(counter)[6:-1])


def new_proc() -> wire.Proc:
    """The identity of this process instance; a fresh boot token on every call."""
    return wire.Proc(os.getpid(), socket.gethostname(), secrets.token_hex(8))


class Publisher(SenderThread):
    """Queues events from any thread and streams them to the monitor from one thread."""

    def __init__(self, config: ProbeConfig, *, hello_info: dict[str, str],
                 periodic: Sequence[Producer] = (), strings: Interner | None = None,
                 control: ProbeControl | None = None) -> None:
        self.config = config
        # Live control's state; its socket is opened and read by the sender thread.
        self._control = control
        # The names events refer to by id; None: events carry names as strings only.
        self._strings = strings
        self._hello_info = {str(k): str(v)[: wire.MAX_STR] for k, v in hello_info.items()}
        self._periodic = tuple(periodic)
        self._start_lock = threading.Lock()
        self._closed = False
        self._reset()
        _live.add(self)

    def _reset(self) -> None:
        """Fresh per-process-instance state (at creation and in a forked child)."""
        self.proc: wire.Proc = new_proc()
        self._queue: deque[bytes] = deque()  # packed events (wire.pack_event)
        # 0 after close(): every later submit() is counted as dropped, nothing restarts.
        self._queue_max = 0 if self._closed else self.config.queue_size
        # Written by submitters on many threads: itertools.count's next() is atomic (C).
        self._dropped_queue = itertools.count()
        self._internal = itertools.count()
        # Events lost before they could be queued: not plain data, or the recorder failed
        # to build them (count_lost()). Reported in dropped_send, never silently gone.
        self._lost_before_queue = itertools.count()
        # Written only by the sender thread.
        self._taken = 0  # events removed from the queue by the sender
        self._sent = 0  # events handed to zmq == next sequence number
        self._dropped_send = 0
        # Ids of self._strings this connection has been sent (Strings events handed to
        # zmq): the next frame defines those from here on. 0 defines all of them again.
        self._defined = 0
        self._running = False
        # The sender thread sleeps FLUSH_INTERVAL between flushes, or until submit() has
        # queued a full batch (_wake_at events) or close() is called: each wake-up of a
        # Python thread costs the app a GIL hand-over, so a busy app is not woken for
        # every few events, and a flood does not wait out the interval.
        self._wake = threading.Event()
        self._wake_at = max(1, self.config.batch_size)
        # True while the sender thread sleeps until the next heartbeat because nothing
        # came: the first event wakes it (an idle app costs no wake-ups but heartbeats).
        self._idle = False
        self._peer_ok = False  # the last send went through: skip the writability check
        self._thread: threading.Thread | None = None
        self._zmq_objects: tuple[object, ...] = ()  # the sender thread's context and socket
        self._stop = threading.Event()
        # Only the program name, not the whole argv: arguments may carry secrets.
        program = os.path.basename(sys.argv[0]) if sys.argv and sys.argv[0] else ""
        info = {
            "python": platform.python_version(),
            "implementation": sys.implementation.name,
            "program": program[:200],
            "pyzmq": zmq.__version__,
            "libzmq": zmq.zmq_version(),
            "protocol": str(wire.PROTOCOL_VERSION),
            "endpoint": self.config.endpoint,
            "mode": self.config.mode,
            "queue_size": str(self.config.queue_size),
            "control": self.config.control_target or "",
            **self._hello_info,
            # Last, so the caller's (parent's, after a fork) values never win.
            "pid": str(self.proc.pid),
            "host": self.proc.host,
        }
        self._hello = _pack_event(wire.Hello(wire.KIND_HELLO, clock.wall_ns(), info))
        self._hello_pending = True

    # ------------------------------------------------------------------ any thread

    def submit(self, event: wire.Event) -> None:
        """Queue ``event`` for sending. O(1); never blocks, never raises, no zmq call.

        An event that is not plain data (a bug upstream) is dropped and counted as an
        internal error and in ``dropped_send``; its neighbours go out as usual.
        """
        queue = self._queue
        if len(queue) >= self._queue_max:
            next(self._dropped_queue)
            return
        try:
            packed = _pack_event(event)
        except Exception:
            self.count_lost()
            return
        queue.append(packed)
        depth = len(queue)
        # Every full batch (also if a flush waited), and the first event after idling.
        if depth % self._wake_at == 0 or (depth == 1 and self._idle):
            self._wake_up()
        if not self._running:
            self._start()

    def _wake_up(self) -> None:
        """Wake the sender thread: a full batch is queued, or the first event after
        idling.

        Also where a fork that ran no hooks is noticed (django_probe.forks: a worker
        forked in C, e.g. by uWSGI): such a child inherited a publisher whose thread does
        not exist, so its queue would only fill up. It starts over as a new process
        instance, as after os.fork(); the events queued until then are counted as
        dropped."""
        if self.proc.pid != os.getpid():
            queued = len(self._queue)
            if forks.noticed():  # (this publisher's own hook resets it)
                for _ in range(queued):
                    next(self._dropped_queue)
                self._start()
                return
        self._idle = False
        self._wake.set()

    def count_lost(self) -> None:
        """Count one event that a bug kept from being queued (any thread; never raises)."""
        next(self._lost_before_queue)
        next(self._internal)

    def start(self) -> None:
        """Start the sender thread now (so even an idle process says hello and sends
        heartbeats); otherwise the first submit() starts it, e.g. in a forked child."""
        self._start()

    def _start(self) -> None:
        # Not the hot path: runs once per process instance (or after the thread died).
        try:
            with self._start_lock:
                if self._running or self._closed:
                    return
                self._stop = threading.Event()
                thread = threading.Thread(target=self._run, args=(self._stop,),
                                          name="django-probe-publisher", daemon=True)
                self._running = True
                self._thread = thread
                thread.start()
        except Exception:  # e.g. "can't create new thread" during interpreter shutdown
            self._running = False
            next(self._internal)

    def stats(self) -> dict[str, int]:
        """Cumulative counters of this process instance (a moment's view; never raises)."""
        depth = len(self._queue)
        return {
            "captured": self._taken + depth,
            "sent": self._sent,
            "dropped_queue": _count_value(self._dropped_queue),
            "dropped_send": self._dropped_send + _count_value(self._lost_before_queue),
            "queue_depth": depth,
            "queue_max": self.config.queue_size,
            "internal_errors": _count_value(self._internal),
        }

    def close(self, timeout: float = 1.0) -> None:
        """Stop the thread after a last best-effort flush. Idempotent; returns within
        about ``timeout`` seconds even if the monitor is gone or the thread is stuck."""
        with self._start_lock:
            self._closed = True
            self._queue_max = 0
            thread, stop = self._thread, self._stop
        stop.set()
        self._wake.set()
        if thread is not None and thread is not threading.current_thread():
            thread.join(timeout)
        _live.discard(self)

    # ------------------------------------------------------------------ fork

    def _after_fork_in_child(self) -> None:
        # The parent's thread does not exist here and its context must not be used; the
        # parent's pending events are the parent's. Start over as a new process instance.
        _abandoned.append(self._zmq_objects)
        self._start_lock = threading.Lock()  # may have been held by a parent thread
        self._reset()


def _after_fork_in_child() -> None:
    for publisher in list(_live):
        try:
            publisher._after_fork_in_child()
        except Exception:
            pass  # a fork hook must never break the child


def _close_all_at_exit() -> None:
    # Bounded in total: the app must never hang at exit, even with the monitor gone.
    deadline = clock.monotonic() + 2.0
    for publisher in list(_live):
        publisher.close(timeout=max(0.0, min(1.0, deadline - clock.monotonic())))


forks.register(_after_fork_in_child)
atexit.register(_close_all_at_exit)
