"""A headless monitor for end-to-end tests: the real Listener feeding the real MonitorState."""

from __future__ import annotations

import time
from collections.abc import Callable

from django_probe import wire
from monitor_gui.core.state import MonitorState
from monitor_gui.core.store import DispatchRow
from monitor_gui.listener import Listener

WAIT_TIMEOUT = 30.0  # seconds; generous for a busy 2-core machine, never reached when green


class HeadlessMonitor:
    """What the window does minus Qt: receive batches, apply them, answer questions."""

    def __init__(self, endpoint: str, capacity: int = 200_000) -> None:
        self.endpoint = endpoint
        self.listener = Listener(endpoint)
        self.state = MonitorState(capacity=capacity)
        self.raw: list[bytes] = []  # every frame as received, for "no secret left" checks

    def pump(self, timeout_ms: int = 100) -> int:
        frames = self.listener.recv_batch(timeout_ms)
        if frames:
            self.raw.extend(frames)
            self.state.apply(frames)
        return len(frames)

    def wait_for(self, predicate: Callable[[MonitorState], bool], what: str,
                 timeout: float = WAIT_TIMEOUT) -> None:
        """Receive until ``predicate(state)`` holds; fail with a summary after ``timeout``."""
        deadline = time.monotonic() + timeout
        while not predicate(self.state):
            if time.monotonic() > deadline:
                raise AssertionError(f"timed out waiting for {what}; monitor saw: {self.summary()}")
            self.pump()

    def rows(self) -> list[DispatchRow]:
        store = self.state.store
        return [store.row(i) for i in range(store.first, store.end)]

    def rows_of(self, signal: str) -> list[DispatchRow]:
        return [row for row in self.rows() if row.signal == signal]

    def summary(self) -> str:
        names: dict[str, int] = {}
        for row in self.rows():
            names[row.signal] = names.get(row.signal, 0) + 1
        return f"totals={self.state.totals} processes={len(self.state.processes)} signals={names}"

    def close(self) -> None:
        self.listener.close()


def count_rows(state: MonitorState, signal: str) -> int:
    store = state.store
    return sum(1 for i in range(store.first, store.end) if store.row(i).signal == signal)


def frames_contain(raw: list[bytes], needle: str) -> bool:
    """Whether ``needle`` occurs in any frame, raw or decoded (msgpack may split nothing)."""
    encoded = needle.encode()
    return any(encoded in frame for frame in raw) or any(
        needle in repr(event) for frame in raw for event in wire.decode_frame(frame).events
    )
