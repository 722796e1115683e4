"""Helpers for the probe's tests: read what the probe produced as a monitor reads it.

Names in events are refs (ids of the probe's ``Interner``, or strings); these helpers
resolve them through a ``Vocabulary`` fed only with what a monitor would have been given,
so assertions stay on readable names.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from django_probe import capture, runtime, wire
from django_probe.conf import ProbeConfig
from django_probe.strings import Interner, Unresolved, Vocabulary


def reader(strings: Interner) -> Callable[[Any], wire.Event]:
    """``read(event)``: an event as the hot path built it, validated (``wire.typed``) and
    its names resolved with ``strings``'s definitions so far (what the publisher would
    have defined before sending it)."""
    vocabulary = Vocabulary()

    def read(event: Any) -> wire.Event:
        for _kind, first, values in strings.definitions(len(vocabulary.values)):
            vocabulary.define(first, values)
        return vocabulary.resolved(wire.typed(event))

    return read


def start_recording(config: ProbeConfig | None = None,
                    strings: Interner | None = None) -> tuple[runtime.Probe, list]:
    """(Re)start the probe with an in-memory sink; the list fills with each event as a
    monitor reads it (validated, names resolved). ``strings``: an interner of the test's
    own instead of the process's."""
    strings = strings if strings is not None else runtime.process_strings()
    read = reader(strings)
    captured: list = []
    runtime.stop()
    # A request an earlier test left open holds refs of whichever interner named it.
    capture.current_request.set(None)
    probe = runtime.start(config or ProbeConfig(), sink=lambda e: captured.append(read(e)),
                          strings=strings)
    return probe, captured


class Monitor:
    """Reads frames in the order received, as the monitor does: one Vocabulary per
    process instance, fed by its Strings events. ``read`` raises ``Unresolved`` for an
    event that uses an id its process has not defined yet (a monitor would hold it
    back); ``hold`` keeps such frames (in order), takes the definitions of every frame at
    once, and retries the held ones after each frame."""

    def __init__(self) -> None:
        self.vocabularies: dict[wire.Proc, Vocabulary] = {}
        self.held: list[wire.Frame] = []

    def read(self, data: bytes | wire.Frame) -> wire.Frame:
        """The frame with every event's names resolved (Strings events kept, so the
        sequence numbers still count them)."""
        frame = data if isinstance(data, wire.Frame) else wire.decode_frame(data)
        vocabulary = self.vocabularies.setdefault(frame.proc, Vocabulary())
        events = []
        for event in frame.events:  # strictly in order: a definition before its use
            if event.kind == wire.KIND_STRINGS:
                vocabulary.define(event.first, event.values)
            events.append(vocabulary.resolved(event))
        return frame._replace(events=events)

    def hold(self, data: bytes) -> list[wire.Frame]:
        """The frames that can be read now, in order: ``data``'s and those held back
        before it; frames of a process behind one held back wait with it."""
        frame = wire.decode_frame(data)
        vocabulary = self.vocabularies.setdefault(frame.proc, Vocabulary())
        for event in frame.events:  # definitions count at once, also in a held frame
            if event.kind == wire.KIND_STRINGS:
                vocabulary.define(event.first, event.values)
        self.held.append(frame)
        out, still = [], []
        for frame in self.held:
            if any(f.proc == frame.proc for f in still):
                still.append(frame)
                continue
            try:
                out.append(self.read(frame))
            except Unresolved:
                still.append(frame)
        self.held = still
        return out


def resolved(strings: Interner, event: Any) -> wire.Event:
    """One event (a periodic producer's, say) read with all of ``strings``'s definitions."""
    return reader(strings)(event)
