"""What a probe process may plausibly claim: bounds on its counters, the heartbeat check."""

from __future__ import annotations

from typing import TYPE_CHECKING

from django_probe import wire

if TYPE_CHECKING:
    from monitor_gui.core.processes import ProcessInfo

# What a heartbeat or a sequence number may plausibly claim. Counters beyond 2**53 would
# take a probe 28 years at 10M events/s; no Python process submits events faster than
# MAX_EVENTS_PER_S (submit() alone costs more than 0.1 µs), so a counter that grew faster
# since the previous heartbeat is made up.
MAX_COUNTER = 2**53
MAX_EVENTS_PER_S = 10_000_000
NS_PER_S = 1_000_000_000
_COUNTERS = ("captured", "sent", "dropped_queue", "dropped_send")
_PRODUCED = ("captured", "dropped_queue", "dropped_send")  # each event counts in one of them
# Every int field of a heartbeat (not kind, ts, nor the rules digest).
_BEAT_COUNTS = tuple(name for name in wire.Heartbeat._fields[2:] if name != "rules")


def heartbeat_lie(info: ProcessInfo, event: wire.Heartbeat) -> str | None:
    """Why ``event`` cannot be a true heartbeat of ``info``'s process, or None.

    Provable: counters are at most MAX_COUNTER, never go down within one process instance,
    and ``sent`` (the heartbeat's own sequence number) is within the sequence numbers
    received (plus the rejected events, whose position in a recording is approximate).
    Plausible: events produced since the previous heartbeat (captured + dropped) grew by
    at most MAX_EVENTS_PER_S per second elapsed, on the monitor's clock or the probe's
    (at least one second: heartbeats may arrive back to back after a backlog). The probe's
    clock is the sender's word, so this bounds a careless forger, not a careful one.
    """
    for name in _BEAT_COUNTS:
        value = getattr(event, name)
        if value > MAX_COUNTER:
            return f"heartbeat {name} {value} is beyond 2^53"
    if info.next_seq is not None and event.sent > info.next_seq + info.malformed:
        return (f"heartbeat sent {event.sent} is beyond the {info.next_seq} sequence numbers "
                "received")
    prev = info.heartbeat
    if prev is None:
        return None
    for name in _COUNTERS:
        old, new = getattr(prev, name), getattr(event, name)
        if new < old:
            return f"heartbeat {name} went down from {old} to {new}"
    elapsed = max(NS_PER_S, info.last_seen - info.heartbeat_at, event.ts - prev.ts)
    grown = sum(getattr(event, n) - getattr(prev, n) for n in _PRODUCED)
    if grown > MAX_EVENTS_PER_S * elapsed // NS_PER_S:
        return f"heartbeat counters grew by {grown} in {elapsed / NS_PER_S:.1f} s"
    return None
