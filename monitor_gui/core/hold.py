"""Frames held back per process until the names they refer to are defined (protocol 2).

A monitor that starts (or restarts) while probes are running receives ids before their
definitions: the probe sends every definition again every few seconds and after a
reconnect. Until then that process's frames wait here, first in first out (once one frame
of a process waits, the following ones wait behind it, so events stay in order), bounded
per process and in all by bytes and by age. What is dropped from the hold is counted in
``ProcessInfo.unresolved`` (part of its ``lost``), never applied half-resolved.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Callable
from typing import Any, NamedTuple, TypeVar

from django_probe import wire
from django_probe.strings import Unresolved, Vocabulary
from monitor_gui.core.decode import Definer, decode

MAX_HELD_BYTES = 4 * 1024 * 1024  # per process, frames as received
MAX_HELD_NS = 5_000_000_000  # a frame waits at most this long for its definitions
MAX_HELD_TOTAL = 64 * 1024 * 1024  # all processes together
DECODED_EVENT_BYTES = 256  # what a decoded event (from a recording) counts against the bounds

T = TypeVar("T")
# Turns a frame into what the caller applies, with its process's vocabulary; raises
# Unresolved when an id is not defined (yet).
Convert = Callable[[wire.Frame, Vocabulary], T]


class Held(NamedTuple):
    item: bytes | wire.Frame  # raw bytes are kept (smaller) and decoded again when ready
    size: int
    arrived: int  # monitor clock, Unix ns
    events: int  # events of the frame that are not Strings (counted if it is dropped)


def frame_size(item: Any) -> int:
    """What a frame counts against the bounds: its bytes, or an estimate when decoded."""
    if isinstance(item, wire.Frame):
        return len(item.events) * DECODED_EVENT_BYTES
    return len(item)


class Holds:
    """The hold of every process of one ProcessTable, and the definitions they wait for."""

    def __init__(self) -> None:
        self.waiting: dict[Any, None] = {}  # ProcessInfo with frames held, oldest first
        self.bytes = 0
        self.definer = Definer()

    def take(self, info: Any, frame: wire.Frame, item: bytes | wire.Frame, now: int,
             convert: Convert[T]) -> list[T]:
        """Define ``frame``'s strings for ``info``, then return (converted, in order) the
        frames of ``info`` ready now: held ones that resolve and this one, unless it waits."""
        vocab = info.vocabulary
        if vocab is None:
            vocab = info.vocabulary = Vocabulary()
        defined = False
        for event in frame.events:
            if event[0] == wire.KIND_STRINGS:
                self.definer.define(info, event)
                defined = True
        if not info.held:
            try:
                return [convert(frame, vocab)]
            except Unresolved:
                pass
            self._hold(info, frame, item, now)
            return []
        dropped = self._hold(info, frame, item, now)
        # Only new definitions, or a dropped head, can let the first waiting frame through.
        return self._drain(info, convert) if defined or dropped else []

    def expire(self, now: int, convert: Convert[T]) -> list[tuple[Any, T]]:
        """Drop held frames older than MAX_HELD_NS; return the frames that then resolve."""
        out: list[tuple[Any, T]] = []
        for info in list(self.waiting):
            held = info.held
            if held and now - held[0].arrived > MAX_HELD_NS:
                while held and now - held[0].arrived > MAX_HELD_NS:
                    self._drop(info)
                out += [(info, ready) for ready in self._drain(info, convert)]
        return out

    def _hold(self, info: Any, frame: wire.Frame, item: bytes | wire.Frame, now: int) -> bool:
        """Queue a frame behind ``info``'s held ones; True if the bounds dropped any."""
        size = frame_size(item)
        events = sum(e[0] != wire.KIND_STRINGS for e in frame.events)
        if info.held is None:
            info.held = deque()
        info.held.append(Held(item, size, now, events))
        info.held_bytes += size
        self.bytes += size
        self.waiting[info] = None
        dropped = False
        while info.held and (info.held_bytes > MAX_HELD_BYTES or self.bytes > MAX_HELD_TOTAL):
            self._drop(info)  # the oldest: its definitions are the likeliest to be gone
            dropped = True
        return dropped

    def _drop(self, info: Any) -> None:
        held = info.held.popleft()
        info.unresolved += held.events
        self._release(info, held)

    def _release(self, info: Any, held: Held) -> None:
        info.held_bytes -= held.size
        self.bytes -= held.size
        if not info.held:
            self.waiting.pop(info, None)

    def _drain(self, info: Any, convert: Convert[T]) -> list[T]:
        out: list[T] = []
        held = info.held
        while held:
            first = held[0]
            item = first.item
            try:
                frame = item if isinstance(item, wire.Frame) else decode(item)
                out.append(convert(frame, info.vocabulary))
            except Unresolved:
                break
            held.popleft()
            self._release(info, first)
        return out

    def flush(self) -> None:
        """Drop everything held (counted as unresolved): the recorder is stopping."""
        for info in list(self.waiting):
            while info.held:
                self._drop(info)

    def clear(self) -> None:
        """Forget the held frames (not counted: everything is being forgotten)."""
        self.waiting.clear()
        self.bytes = 0
