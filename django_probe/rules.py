"""Live-control rules on the probe: the hot path's immutable snapshot and the muted counts."""

from __future__ import annotations

import itertools
from collections.abc import Callable, Sequence
from typing import Any

from . import clock, wire

_now = clock.perf_counter_ns  # the real monotonic clock (django_probe.clock)
_WALL_OFFSET_NS = clock.WALL_OFFSET_NS


class Action:
    """What one rule does: ``every`` 0 mutes, N streams 1 dispatch in N (the first, the
    N+1-th...). ``seen`` is an ``itertools.count``: its ``next()`` is atomic (C), so
    threads sharing a rule never need a lock (a sampled rule streams 1 in N exactly)."""

    __slots__ = ("every", "seen")

    def __init__(self, every: int) -> None:
        self.every = every
        self.seen = itertools.count()

    def streams(self) -> bool:
        every = self.every
        return every != 0 and next(self.seen) % every == 0


class RuleSet:
    """An immutable snapshot of the monitor's rules, keyed by the refs events carry.

    Built on the publisher thread and swapped in whole (``Recorder.rules = ruleset``: one
    attribute store, atomic under the GIL), so the application's threads read a complete
    set or the previous one, never a half-updated one, without a lock. The most specific
    rule wins: (signal, sender), then the signal's, then the sender's.
    """

    __slots__ = ("_pairs", "_senders", "_signals", "count", "digest")

    def __init__(self, rules: Sequence[wire.Rule], digest: str,
                 intern: Callable[[str], int | str]) -> None:
        self.digest = digest
        self.count = len(rules)
        self._pairs: dict[tuple[Any, Any], Action] = {}
        self._signals: dict[Any, Action] = {}
        self._senders: dict[Any, Action] = {}
        for rule in rules:
            # Names as this process's refs: the same id the hot path caches for the signal
            # and the sender (a name past the interner's limit is compared as itself).
            signal = None if rule.signal is None else intern(rule.signal)
            sender = None if rule.sender is None else intern(rule.sender)
            if signal is not None and sender is not None:
                self._pairs[(signal, sender)] = Action(rule.every)
            elif signal is not None:
                self._signals[signal] = Action(rule.every)
            else:
                self._senders[sender] = Action(rule.every)

    def action(self, signal: Any, sender: Any) -> Action | None:
        """The rule that applies to a dispatch of ``signal`` by ``sender`` (refs), if any."""
        if self._pairs:
            found = self._pairs.get((signal, sender))
            if found is not None:
                return found
        found = self._signals.get(signal)
        return found if found is not None else self._senders.get(sender)


class MutedDispatches:
    """The part of ``capture.Recorder`` that applies the rules (``streams``) and counts
    the dispatches they keep from streaming, sent every heartbeat as one ``Muted`` event.

    ``Recorder.__init__`` calls ``_init_rules()``; ``describe`` and ``_none`` are the
    recorder's. Counts can lose an increment when two threads race on one key: advisory,
    like the no-receiver counts.
    """

    rules: RuleSet | None  # None: no rule (the hot path's one check)
    describe: Any
    _none: Any

    def _init_rules(self) -> None:
        self.rules = None
        self.forget_muted()

    def set_rules(self, rules: RuleSet | None) -> None:
        """Publisher thread: swap the snapshot in (None or an empty set: no rules)."""
        self.rules = rules if rules is not None and rules.count else None

    def streams(self, name: Any, sender: Any, method: str, raised: bool) -> bool:
        """Whether a dispatch streams under the rules; counts one that does not.

        Called by ``Recorder.finish`` only while rules are active, before anything of the
        dispatch is described: a muted dispatch costs a lookup and a count."""
        rules = self.rules
        if rules is None:
            return True
        sender_ref = self._none if sender is None else self.describe.sender_ref(sender)
        action = rules.action(name, sender_ref)
        if action is None or action.streams():
            return True
        key = (name, sender_ref, method)
        entry = self.muted_counts.get(key)
        if entry is None:
            self.muted_counts[key] = [1, 1 if raised else 0]
        else:
            entry[0] += 1
            if raised:
                entry[1] += 1
        return False

    def forget_muted(self) -> None:
        """Drop the muted counts not drained yet (in a forked child: the parent's)."""
        self.muted_counts: dict[tuple[Any, Any, str], list[int]] = {}
        self._muted_since = _now()
        self.muted_total = 0  # dispatches counted in the Muted events drained so far

    def drain_muted(self) -> wire.Muted | None:
        """Periodic (publisher thread): the counts since the last call, or None."""
        counts, self.muted_counts = self.muted_counts, {}
        now = _now()
        window, self._muted_since = now - self._muted_since, now
        if not counts:
            return None
        items = [wire.MutedCount(name, sender, method, n, raised)
                 for (name, sender, method), (n, raised) in counts.items()]
        self.muted_total += sum(item.count for item in items)
        return wire.Muted(wire.KIND_MUTED, now + _WALL_OFFSET_NS, window, items)
