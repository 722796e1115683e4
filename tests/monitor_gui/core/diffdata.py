"""Two small recordings for the diff tests: B differs from A in known ways, and only those."""

from __future__ import annotations

from pathlib import Path

from django_probe import wire
from monitor_gui.core.recording import RecordingWriter
from tests.monitor_gui.core.events import PROC, dispatch, receiver

SIGNAL = "django.db.models.signals.post_save"
MOD = "shop.receivers"


def _calls(name: str, n: int, dur: int = 10_000, raising: int = 0,
           exc: str = "builtins.ValueError") -> list[wire.ReceiverCall]:
    """n calls of receiver ``name``, the first ``raising`` of them raising ``exc``."""
    return [receiver(name, MOD, dur=dur + i % 7, outcome=wire.RAISED if i < raising
                     else wire.RETURNED, exc=(exc, "boom") if i < raising else None)
            for i in range(n)]


def plan(variant: str) -> list[tuple[str, wire.ReceiverCall]]:
    """(sender, call) of every dispatch; ``variant`` "a", "b", or "b-p95" (A but slower)."""
    a = variant != "b"  # "b-p95" is A in everything but the slow receiver's durations
    calls = [
        *(("auth.User", c) for c in _calls("steady", 200)),
        *(("auth.User", c) for c in _calls("doubling", 60 if a else 120)),
        *(("auth.User", c) for c in _calls("slow", 40, 100_000 if variant == "a"
                                             else 300_000)),
        *(("auth.User", c) for c in _calls("flaky", 40, raising=0 if a else 5)),
        *(("auth.User", c) for c in _calls("grumpy", 30, raising=3, exc="builtins.KeyError")),
    ]
    if variant == "b":
        calls += [("auth.User", c) for c in _calls("grumpy", 2, raising=2,
                                                   exc="builtins.TypeError")]
        calls += [("auth.User", c) for c in _calls("fresh", 10)]
        calls += [("shop.Order", c) for c in _calls("steady", 1)]
    else:
        calls += [("auth.User", c) for c in _calls("gone", 10)]
    return calls


def write(path: Path, variant: str) -> Path:
    """A recording of ``plan(variant)``: one dispatch per call, 1 ms apart."""
    events = [dispatch(i + 1, ts=1_700_000_000_000_000_000 + i * 1_000_000, signal=SIGNAL,
                       sender=sender, dur=call.dur + 2_000, receivers=[call],
                       raised=False)
              for i, (sender, call) in enumerate(plan(variant))]
    with RecordingWriter(path) as writer:
        for seq in range(0, len(events), 100):
            writer.write(wire.Frame(PROC, seq, events[seq:seq + 100], 0))
    return path
