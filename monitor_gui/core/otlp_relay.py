"""Live OpenTelemetry: dispatches as they arrive, sent to an OTLP/HTTP collector in batches.

``signal-monitor record --otlp URL`` gives each resolved frame to ``OtlpRelay.write`` (the
interface of ``recording.RecordingWriter``). A dispatch is sent with its whole tree: a
nested dispatch ends, and is streamed, before the one whose receiver sent it, so it waits
until its top-level ancestor has come (or ``MAX_WAIT_S``, then it goes as it is) and the
spans of one request keep their parents and their trace. A background thread does the
HTTP (``otlp_export.send``, the SDK's exporter), so a slow or absent collector never
stalls the listener: batches it cannot take in time are dropped and counted.
"""

from __future__ import annotations

import queue
import threading
import time
from collections.abc import Callable
from typing import Any

from django_probe import wire
from monitor_gui.core.otlp import OtlpError

MAX_WAIT_S = 30.0  # a nested dispatch whose parent never comes is sent alone after this
MAX_WAITING = 100_000  # dispatches held for their parents (bounded: the oldest go first)
MAX_BATCHES = 32  # frames lists queued for the sending thread; more are dropped, counted

Send = Callable[[list[wire.Frame]], Any]


class OtlpRelay:
    """Buffers resolved frames and hands complete dispatch trees to a sending thread."""

    def __init__(self, send: Send, *, clock: Callable[[], float] = time.monotonic) -> None:
        self._send = send  # frames -> otlp.Summary; raises OtlpError or OSError
        self._clock = clock
        # (proc, dispatch id) -> (dispatch, when it came): dispatches not sent yet.
        self._waiting: dict[tuple[wire.Proc, int], tuple[wire.Dispatch, float]] = {}
        self._queue: queue.Queue[list[wire.Frame] | None] = queue.Queue(MAX_BATCHES)
        self._lock = threading.Lock()  # the counters below (the sending thread writes)
        self.dispatches = self.spans = self.requests = 0  # sent and accepted
        self.dropped = 0  # dispatches not sent: queue full, refused or unreachable
        self.error = ""  # the last error from the collector, for the status line
        self._thread = threading.Thread(target=self._run, name="otlp-relay", daemon=True)
        self._thread.start()

    # ------------------------------------------------------------------ the listener's side
    def write(self, frame: wire.Frame) -> None:
        now = self._clock()
        for event in frame.events:
            if event[0] == wire.KIND_DISPATCH:
                if len(self._waiting) >= MAX_WAITING:
                    self._drop([self._waiting.pop(next(iter(self._waiting)))[0]])
                self._waiting[(frame.proc, event.id)] = (event, now)

    def write_bad_frame(self, proc: wire.Proc | None) -> None:
        """(Malformed input is counted by the listener's process table.)"""

    def flush(self, everything: bool = False) -> None:
        """Queue every complete tree (and what waited too long, or all: ``everything``)."""
        ready = self._ready(everything)
        if not ready:
            return
        by_proc: dict[wire.Proc, list[Any]] = {}
        for proc, d in ready:
            by_proc.setdefault(proc, []).append(d)
        frames = [wire.Frame(proc, 0, events, 0) for proc, events in by_proc.items()]
        try:
            self._queue.put_nowait(frames)
        except queue.Full:
            self._drop([d for _p, d in ready])

    def close(self, timeout: float = 10.0) -> None:
        """Send what is left, wait for the sending thread (at most ``timeout`` s)."""
        self.flush(everything=True)
        try:
            self._queue.put(None, timeout=timeout)
        except queue.Full:
            pass
        self._thread.join(timeout)

    def _ready(self, everything: bool) -> list[tuple[wire.Proc, wire.Dispatch]]:
        waiting = self._waiting
        if everything:
            out = [(key[0], d) for key, (d, _t) in waiting.items()]
            waiting.clear()
            return out
        oldest = self._clock() - MAX_WAIT_S
        roots: dict[tuple[wire.Proc, int], bool] = {}

        def complete(key: tuple[wire.Proc, int]) -> bool:
            """Its chain of parents reaches a top-level dispatch that has come."""
            path = []
            while key not in roots:
                entry = waiting.get(key)
                if entry is None:
                    ok = False
                    break
                path.append(key)
                parent = entry[0].parent
                if parent is None:
                    ok = True
                    break
                key = (key[0], parent)
                if key in path:  # a cycle (hostile input): send it as it is
                    ok = True
                    break
            else:
                ok = roots[key]
            for k in path:
                roots[k] = ok
            return ok

        out = [key for key, (_d, came) in waiting.items() if came < oldest or complete(key)]
        return [(key[0], waiting.pop(key)[0]) for key in out]

    def _drop(self, dispatches: list[Any]) -> None:
        with self._lock:
            self.dropped += len(dispatches)

    # ------------------------------------------------------------------ the sending thread
    def _run(self) -> None:
        while True:
            frames = self._queue.get()
            if frames is None:
                return
            n = sum(len(f.events) for f in frames)
            try:
                summary = self._send(frames)
            except (OtlpError, OSError, RuntimeError) as exc:
                with self._lock:
                    self.dropped += n
                    self.error = str(exc)
                continue
            with self._lock:
                self.dispatches += n
                self.spans += summary.spans
                self.requests += summary.requests
                self.error = ""

    def status(self) -> str:
        with self._lock:
            text = (f"{self.dispatches:,} dispatches sent as {self.spans:,} spans"
                    f" in {self.requests:,} requests")
            if self.dropped:
                text += f", {self.dropped:,} dropped"
            if self.error:
                text += f" (last error: {self.error})"
        return text
