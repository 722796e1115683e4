"""The half of the probe's ``Publisher`` that runs on its sender thread: the PUSH socket
(connect, curve, the socket monitor's handshakes), the flush loop and the frames.

Only that one thread touches the zmq context and socket (zmq sockets are not
thread-safe). It takes the packed events ``Publisher.submit()`` queued, prepends the
names this connection has not had yet (``Strings`` events), adds the heartbeat and the
periodic events, and sends each frame without blocking; what zmq does not take is
counted as dropped, never raised.
"""

from __future__ import annotations

import threading
import time

import zmq

from django_probe import clock, wire
from django_probe.push_socket import drained, handshakes_of, open_push, writable

_pack_event = wire.pack_event

# Seconds after the socket is opened during which "not writable" means "still connecting".
CONNECT_GRACE = 0.5
# A due heartbeat shares the last frame of its tick's flush when that frame holds at most
# this many events (one send a tick, what a lightly loaded app sees); beside a bigger one
# it goes in a frame of its own.
BEAT_RIDES_UP_TO = 64
# Every this many seconds the next frame defines every interned name again (from id 0),
# for a monitor that started or restarted after the names were first sent and whose
# connection the socket monitor did not report: it holds such a process's frames back
# until then. A refresh costs one frame's worth of strings (a few kB for most projects).
STRINGS_REFRESH_S = 4.0  # below the monitor's 5 s hold (monitor_gui/core/hold.py)


class SenderThread:
    """The part of ``publisher.Publisher`` run by its thread (``_run``).

    It uses the publisher's queue, counters, configuration and ``stats()``, set up by
    ``Publisher._reset()``: ``_taken``, ``_sent``, ``_dropped_send``, ``_defined``,
    ``_peer_ok`` and ``_hello_pending`` are written by this thread only.
    """

    def _run(self, stop: threading.Event) -> None:
        try:
            context = zmq.Context()
        except Exception:
            # e.g. out of file descriptors. Stay "running" so submit() does not retry on
            # every call: the queue fills up and further events are counted as dropped.
            next(self._internal)
            return
        sock = None
        try:
            sock = open_push(context, self.config)
        except Exception:
            next(self._internal)  # bad endpoint or keys: keep draining, count as dropped
        # Handshakes of (new) monitors: each gets every definition at once.
        handshakes = handshakes_of(sock) if sock is not None else None
        control = self._control
        control_sock = None
        try:  # live control: this thread owns that socket too (docs/live-control.md)
            control_sock = control.open(context) if control is not None else None
        except Exception:
            next(self._internal)
        self._zmq_objects = (context, sock, handshakes, control_sock)
        self._defined = 0  # a new socket: whoever it reaches has had no definitions
        # A new socket needs a moment to connect; until then "not writable" means
        # "connecting", not "no monitor", so events wait in the queue instead of dropping.
        connecting_until = clock.monotonic() + CONNECT_GRACE
        next_refresh = clock.monotonic() + STRINGS_REFRESH_S
        interval = self.config.flush_interval
        heartbeat_every = self.config.heartbeat_interval
        next_beat = clock.monotonic() + heartbeat_every
        wake = self._wake
        wait = interval
        try:
            while not stop.is_set():
                wake.wait(wait)
                wake.clear()  # a set() from now on means "another batch is ready"
                self._idle = False
                if stop.is_set():
                    break
                wait = interval
                try:
                    if control is not None:
                        control.poll(control_sock)  # never blocks; at most 16 messages
                    if handshakes is not None and drained(handshakes):
                        self._defined = 0  # a monitor (re)connected: define everything
                    if clock.monotonic() >= next_refresh:
                        self._defined = 0
                        next_refresh = clock.monotonic() + STRINGS_REFRESH_S
                    if (clock.monotonic() < connecting_until and sock is not None
                            and not writable(sock)):
                        continue
                    # A due heartbeat rides in the flush's last frame if that is small
                    # (BEAT_RIDES_UP_TO): each send costs the sender thread a GIL
                    # hand-back (~0.3 ms of CPU here, measured).
                    beat = clock.monotonic() >= next_beat
                    flushed = self._flush(sock, beat)
                    if beat:
                        next_beat = clock.monotonic() + heartbeat_every
                    if not flushed:
                        # Nothing came since the last tick: sleep until the next heartbeat
                        # unless submit() wakes us for the first new event.
                        self._idle = True
                        if self._queue:  # (one came meanwhile: no sleep for it)
                            self._idle = False
                        else:
                            wait = max(interval, next_beat - clock.monotonic())
                except Exception:
                    next(self._internal)  # never let one bad tick kill the thread
            try:  # the last flush and heartbeat: what was captured up to close()
                if clock.monotonic() < connecting_until and sock is not None:
                    # Closed right after starting (a short-lived child, a management
                    # command): give the connection up to LINGER to come up. Short naps,
                    # not sock.poll(): pyzmq's poll reads time.monotonic, which tests mock.
                    until = clock.monotonic() + max(0, self.config.linger_ms) / 1000
                    while not writable(sock) and clock.monotonic() < until:
                        time.sleep(0.002)
                self._flush(sock, beat=True)
            except Exception:
                next(self._internal)
        finally:
            try:
                if handshakes is not None:
                    # Stopped and closed before the socket and the context end: libzmq's
                    # own end of a socket monitor can keep term() waiting for ever.
                    if sock is not None:
                        sock.disable_monitor()
                    handshakes.close(linger=0)
            except Exception:
                next(self._internal)
            try:
                if control_sock is not None:
                    control_sock.close(linger=0)
                if sock is not None:
                    sock.close(linger=self.config.linger_ms)
                # Bounded: LINGER caps how long term() waits for pending messages.
                context.term()
            except Exception:
                next(self._internal)
            self._running = False

    def _flush(self, sock: zmq.Socket | None, beat: bool = False) -> int:
        """Send everything queued now, in frames of at most BATCH_SIZE events, with the
        heartbeat (and the periodic events) at the end of the last one if ``beat``; how
        many queued events it sent. Each frame starts with the definitions of the ids
        this connection has not had yet."""
        queue = self._queue
        batch_size = self.config.batch_size
        taken = pending = len(queue)  # events arriving meanwhile wait for the next tick
        while pending > 0 or beat:
            n = min(batch_size, pending)
            batch = [queue.popleft() for _ in range(n)]
            pending -= n
            self._taken += n
            rides = beat and pending == 0 and n <= BEAT_RIDES_UP_TO
            periodic = self._periodic_events() if rides else []
            # Read after the events were taken and the periodic ones built: an id is
            # handed out only after its string is stored, so every id they use (and the
            # later batches of this flush, queued before) is defined by then.
            definitions, defined = self._definitions()
            if rides:  # (a bigger last batch: the heartbeat goes next, alone)
                beat = False
                batch = [*definitions, *batch,
                         self._heartbeat(len(definitions) + n), *periodic]
            elif definitions:
                batch = [*definitions, *batch]
            self._send(sock, batch, len(definitions), defined)
        return taken

    def _definitions(self) -> tuple[list[bytes], int]:
        """The packed Strings events for the ids this connection has not had, and the
        count of ids they bring it to."""
        strings = self._strings
        if strings is None or len(strings.values) <= self._defined:
            return [], self._defined
        events = strings.definitions(self._defined)
        end = events[-1][1] + len(events[-1][2])
        return [_pack_event(event) for event in events], end

    def _periodic_events(self) -> list[bytes]:
        """The packed events of the periodic producers (no-receiver counts, topology)."""
        packed = []
        for produce in self._periodic:
            try:
                event = produce()
                if event is not None:
                    packed.append(_pack_event(event))
            except Exception:
                # A broken producer, or one that built something that is not plain data:
                # it must not stop the heartbeat.
                self.count_lost()
        return packed

    def _heartbeat(self, before: int) -> bytes:
        """The packed heartbeat to follow ``before`` events in one frame. Its ``sent`` is
        its own sequence number: everything ahead of it in the stream (that frame's Hello,
        definitions and first events included) counts as sent."""
        counters = self.stats()
        sent = counters["sent"] + (1 if self._hello_pending else 0) + before
        control = self._control
        return _pack_event(wire.Heartbeat(
            wire.KIND_HEARTBEAT, clock.wall_ns(), counters["captured"], sent,
            counters["dropped_queue"], counters["dropped_send"], counters["queue_depth"],
            counters["queue_max"], "" if control is None else control.digest,
            0 if control is None else control.muted(),
        ))

    def _send(self, sock: zmq.Socket | None, events: list[bytes], n_definitions: int = 0,
              defined: int = 0) -> None:
        """Hand packed ``events`` to zmq without blocking; count those it could not take.

        The first ``n_definitions`` are Strings events that bring this connection to
        ``defined`` ids once all of them went out. Like a Hello, definitions that did not
        go out are not lost (the next frame carries them, and all others, again), so they
        are not counted as dropped.

        Each frame is built just before its send with the current sequence number, so
        a frame that zmq refuses leaves no gap: its events are counted in dropped_send.
        """
        if sock is None or (not self._peer_ok and not writable(sock)):
            # Nobody connected (IMMEDIATE): count them instead of building a frame. While
            # sends go through, the check (a zmq call: ~30 µs here) is skipped; a send
            # that fails re-enables it.
            self._peer_ok = False
            self._dropped_send += len(events) - n_definitions
            self._start_over()
            return
        chunks = [(0, events)]  # (index of the chunk's first event in events, the chunk)
        all_went = True
        while chunks:
            offset, body = chunks.pop()
            n_hello = 1 if self._hello_pending else 0
            frame_events = [self._hello, *body] if n_hello else body
            data = wire.frame_of(self.proc, self._sent, frame_events)
            if len(data) > wire.MAX_FRAME_BYTES:
                if len(body) > 1:  # too big for the monitor to accept: split in halves
                    half = len(body) // 2
                    # pop() takes the first half next
                    chunks += [(offset + half, body[half:]), (offset, body[:half])]
                else:
                    # (a definition alone this big is skipped too, not retried for ever)
                    next(self._internal)
                    self._dropped_send += 1 if offset >= n_definitions else 0
                continue
            try:
                sock.send(data, zmq.NOBLOCK)
            except zmq.ZMQError as exc:
                self._peer_ok = False
                if not isinstance(exc, zmq.Again):
                    next(self._internal)
                # A Hello or definitions that did not go out are not lost: they are
                # prepended again next time.
                self._dropped_send += len(body) - max(0, min(n_definitions - offset,
                                                             len(body)))
                self._start_over()
                all_went = False
                continue
            # Sequence numbers advance only for events really handed to zmq.
            self._sent += len(frame_events)
            self._hello_pending = False
            self._peer_ok = True
            if all_went and offset + len(body) >= n_definitions:
                self._defined = defined

    def _start_over(self) -> None:
        """A send failed: the monitor may be gone, and the next frame that gets through
        may reach another one, which must get a Hello and every definition first."""
        self._hello_pending = True
        self._defined = 0

