"""Dispatches that found no receiver (the ``pre_init``/``post_init`` flood of a big
queryset): counted per (signal, sender, method) and sent every heartbeat as one
``Counts`` event, or streamed one by one (``STREAM_EMPTY``)."""

from __future__ import annotations

from typing import Any

from django.core import signals as core_signals
from django.dispatch import Signal

from . import clock, wire
from .context import current_parent, current_request

_now = clock.perf_counter_ns  # the real monotonic clock (django_probe.clock)
_WALL_OFFSET_NS = clock.WALL_OFFSET_NS
_KIND = wire.KIND_DISPATCH
_request_started = core_signals.request_started
_request_finished = core_signals.request_finished


class NoReceiverCounts:
    """The part of ``capture.Recorder`` that handles dispatches without receivers.

    ``empty_counts`` maps (id(signal), id(sender), method) to [signal ref, sender ref,
    count]; ``capture.Recorder.__init__`` creates it and ``_empty_since``. The rest
    (sink, describer, registry, thread state...) is the recorder's.
    """

    empty_counts: dict[tuple, list]
    _empty_since: int
    tx: Any  # the recorder's transaction context reader
    rules: Any  # live control (rules.MutedDispatches)
    streams: Any

    def empty(self, signal: Signal, sender: Any, method: str, named: dict[str, Any]) -> None:
        """Count a dispatch that found no receiver (the pre_init/post_init hot path)."""
        key: tuple = (id(signal), id(sender), method)
        if signal is _request_started or signal is _request_finished:
            # Keyed apart, so the mirrors' inline counting (a 3-tuple lookup) never matches
            # them and they always come here: the request starts and ends even if nobody
            # listens.
            key = (*key, "request")
            if signal is _request_started:
                self.begin_request(signal, named)
        entry = self.empty_counts.get(key)
        if entry is not None:
            entry[2] += 1  # may lose an increment under a thread race; counts are advisory
            if signal is _request_finished:
                current_request.set(None)
            return
        state = getattr(self._tls, "state", None)
        if state is not None and state.busy:
            return
        try:
            if self.registry.name(signal) in self.ignore:
                return
            name = self.registry.ref(signal)
            sender_ref = self._none if sender is None else self.describe.sender_ref(sender)
            if self.stream_empty:
                if self.rules is not None and not self.streams(name, sender, method, False):
                    return  # live control: muted or sampled out (and counted)
                state = self.thread_state()
                self.sink((
                    _KIND, clock.wall_ns(), self.next_id(), current_parent(), name,
                    sender_ref, method, 0, state.thread, state.ident, None,
                    current_request.get(), {}, (), False, self.tx()))
            else:
                self.empty_counts[key] = [name, sender_ref, 1]
        except Exception:  # the probe must never break a dispatch; the loss is counted
            self.on_failure()
        finally:
            if signal is _request_finished:
                current_request.set(None)

    def forget_empty(self) -> None:
        """Drop the no-receiver counts not drained yet (in a forked child: the parent's)."""
        self.empty_counts = {}
        self._empty_since = _now()

    def drain_empty(self) -> wire.Counts | None:
        """Periodic (publisher thread): the counts since the last call, or None."""
        counts, self.empty_counts = self.empty_counts, {}
        rows = [(name, sender, key[2], n) for key, (name, sender, n) in counts.items()]
        now = _now()
        window, self._empty_since = now - self._empty_since, now
        merged: dict[tuple[Any, Any, str], int] = {}
        for name, sender, method, n in rows:  # (names as refs: one per name)
            # Distinct sender objects may share a label (e.g. migration-state models).
            merged[(name, sender, method)] = merged.get((name, sender, method), 0) + n
        if not merged:
            return None
        items = [wire.EmptyCount(name, sender, method, n)
                 for (name, sender, method), n in merged.items()]
        return wire.Counts(wire.KIND_COUNTS, now + _WALL_OFFSET_NS, window, items)
