"""Per-process accounting: who is sending, what was lost in transit, what the probe dropped."""

from __future__ import annotations

import io
from collections import deque
from dataclasses import dataclass, field
from typing import Any

import msgpack

from django_probe import wire
from django_probe.strings import Vocabulary
from monitor_gui.core.claims import MAX_COUNTER, MAX_EVENTS_PER_S, NS_PER_S, heartbeat_lie
from monitor_gui.core.hold import Held, Holds

ProcessKey = tuple[str, int, str]  # (host, pid, boot)

# Every frame names its sender and each new boot token is a new process, so anyone who
# can send frames could otherwise grow the table (and the totals' sums) without limit.
# Entries are never evicted: their index is stored in every row's ``proc`` column.
MAX_PROCESSES = 4096
# Refused process instances are counted by the hash of their key, up to this many (then
# the count is a lower bound): counting them exactly would be the unbounded table again.
MAX_REFUSED_TRACKED = 65_536

# Only the first three items of a frame that failed to decode are read, to find out who
# sent it: nothing in them may be larger than a valid process identity.
_PEEK_LIMITS: dict[str, Any] = dict(
    raw=False, max_bin_len=0, max_ext_len=0, max_str_len=wire.MAX_STR, max_array_len=8,
    max_map_len=0, max_buffer_size=wire.MAX_FRAME_BYTES,
)
# A Hello's info (wire: at most 256 entries of MAX_STR characters each) is kept for as long
# as its process is tracked: only this many characters of it (keys and values).
MAX_INFO_CHARS = 64 * 1024


@dataclass(slots=True, eq=False)
class ProcessInfo:
    """What the monitor knows about one probe process instance (a restart is a new one)."""

    pid: int
    host: str
    boot: str
    first_seen: int  # monitor clock, Unix ns
    last_seen: int
    index: int = 0  # dense id stored in the ``proc`` column
    label: str = ""
    events: int = 0  # valid events received
    dispatches: int = 0
    lost_gaps: int = 0  # events missing from the sequence: lost in transit
    dropped_queue: int = 0  # from the latest heartbeat: the probe's queue was full
    dropped_send: int = 0  # from the latest heartbeat: zmq would have blocked
    malformed: int = 0  # frames or events from this process that failed validation
    info: dict[str, str] = field(default_factory=dict)  # from the Hello event
    heartbeat: wire.Heartbeat | None = None  # the latest heartbeat that passed the checks
    heartbeat_at: int = 0  # monitor clock when it arrived
    next_seq: int | None = None
    # Why this process's counters are not believed (the first impossible claim it made),
    # or None. A lying process's loss is shown as claimed but left out of the totals.
    lying: str | None = None
    version_error: str | None = None  # the latest frame refused for its protocol version
    # Protocol 2: the names this process defined, and its frames waiting for definitions.
    vocabulary: Vocabulary | None = None  # created with its first frame
    vocabulary_bytes: int = 0
    held: deque[Held] | None = None
    held_bytes: int = 0
    unresolved: int = 0  # events dropped from the hold: their names were never defined

    @property
    def key(self) -> ProcessKey:
        return (self.host, self.pid, self.boot)

    @property
    def lost(self) -> int:
        """Every event this process produced that the monitor will never see."""
        return self.lost_gaps + self.dropped_queue + self.dropped_send + self.unresolved


def peek(data: Any) -> tuple[wire.Proc | None, str | None]:
    """Best-effort sender of an undecodable frame, and why its protocol version is not ours.

    So a bad frame is blamed on the right process, and a probe of another version is named.
    Reads the frame's first three items only (bounded work whatever follows them).
    """
    try:
        unpacker = msgpack.Unpacker(io.BytesIO(data), **_PEEK_LIMITS)  # reads ~16 KB at most
        if unpacker.read_array_header() < 3:
            return None, None
        top = [unpacker.unpack(), unpacker.unpack(), unpacker.unpack()]
    except Exception:  # anything unparsable simply has no identifiable sender
        return None, None
    if top[0] != wire.MAGIC:
        return None, None
    version = wire.version_error(top[1])
    proc = top[2]
    if (isinstance(proc, list) and len(proc) == 3 and type(proc[0]) is int
            and type(proc[1]) is str and type(proc[2]) is str
            and len(proc[1]) <= wire.MAX_STR and len(proc[2]) <= wire.MAX_STR):
        return wire.Proc(*proc), version
    return None, version


def identify(data: Any) -> wire.Proc | None:
    """Best-effort sender of an undecodable frame, so it is blamed on the right process."""
    return peek(data)[0]


def hello_info(info: dict[str, str]) -> dict[str, str]:
    """A Hello's info as kept: its first entries up to MAX_INFO_CHARS characters in all."""
    kept: dict[str, str] = {}
    left = MAX_INFO_CHARS
    for key, value in info.items():
        left -= len(key) + len(value)
        if left < 0:
            break
        kept[key] = value
    return kept


class ProcessTable:
    """Accounts frames per process; shared by MonitorState and the headless recorder."""

    def __init__(self, max_processes: int = MAX_PROCESSES) -> None:
        self.max_processes = max_processes  # process instances tracked; later ones are refused
        self.processes: dict[ProcessKey, ProcessInfo] = {}
        self.by_index: list[ProcessInfo] = []
        self.unknown_malformed = 0  # bad frames whose sender could not be tracked
        # Frames from new processes while the table is full: their events are counted here
        # once (neither as a process's events nor as malformed) and not applied.
        self.refused_frames = 0
        self.refused_events = 0
        self._refused_keys: set[int] = set()  # hashes, at most MAX_REFUSED_TRACKED
        # Frames refused for their protocol version, and the latest reason (names both).
        self.version_errors = 0
        self.version_error: str | None = None
        self._host_pids: set[tuple[str, int]] = set()
        self.holds = Holds()  # frames waiting for their names' definitions, per process
        # The names of processes forgotten by clear(): their next frames still use the ids
        # they defined (bounded with all vocabularies by the holds' Definer).
        self._names: dict[ProcessKey, tuple[Vocabulary, int]] = {}

    def get(self, proc: wire.Proc, now: int) -> ProcessInfo | None:
        """The ProcessInfo for ``proc``, created on first sight; None if the table is full."""
        key = (proc.host, proc.pid, proc.boot)
        info = self.processes.get(key)
        if info is None:
            if len(self.by_index) >= self.max_processes:
                return None
            info = ProcessInfo(proc.pid, proc.host, proc.boot, now, now, index=len(self.by_index))
            if key in self._names:
                info.vocabulary, info.vocabulary_bytes = self._names.pop(key)
            same = (proc.host, proc.pid) in self._host_pids
            # A restarted or forked process reuses host:pid; the boot token tells them apart.
            info.label = f"{proc.host}:{proc.pid}" + (f"#{proc.boot[:6]}" if same else "")
            self.processes[key] = info
            self.by_index.append(info)
            self._host_pids.add((proc.host, proc.pid))
        return info

    @property
    def full(self) -> bool:
        """No new process instance can be tracked any more."""
        return len(self.by_index) >= self.max_processes

    @property
    def refused_processes(self) -> int:
        """New process instances refused because the table was full (a lower bound once it
        reaches MAX_REFUSED_TRACKED)."""
        return len(self._refused_keys)

    def _refuse(self, proc: wire.Proc, events: int) -> None:
        """Count a frame of ``events`` events from a process beyond the bound."""
        self.refused_frames += 1
        self.refused_events += events
        if len(self._refused_keys) < MAX_REFUSED_TRACKED:
            self._refused_keys.add(hash((proc.host, proc.pid, proc.boot)))

    def account(self, frame: wire.Frame, now: int) -> ProcessInfo | None:
        """Update counters for a decoded frame as it arrives (``scan`` its events once they
        are resolved). None when the frame was refused (a new process, the table full)."""
        return self.account_counts(frame.proc, frame.seq, len(frame.events), frame.malformed,
                                   now)

    def scan(self, info: ProcessInfo, events: list[wire.Event]) -> None:
        """Read heartbeats and hellos and count dispatches (for consumers of whole events)."""
        for event in events:
            kind = event[0]
            if kind == wire.KIND_DISPATCH:
                info.dispatches += 1
            elif kind == wire.KIND_HEARTBEAT:
                self.heartbeat(info, event)  # type: ignore[arg-type]
            elif kind == wire.KIND_HELLO:
                info.info = hello_info(event[2])  # type: ignore[arg-type]

    def account_counts(self, proc: wire.Proc, seq: int, events: int, malformed: int,
                       now: int) -> ProcessInfo | None:
        """Update counters for a frame of ``events`` valid and ``malformed`` rejected events.

        None when the frame's process is new and the table is full: the caller must skip
        the frame's events, which are counted as malformed in the unknown bucket.
        """
        info = self.get(proc, now)
        if info is None:
            self._refuse(proc, events + malformed)
            return None
        previous, info.last_seen = info.last_seen, now
        info.events += events
        info.malformed += malformed
        # seq numbers every event the probe handed to zmq, including ones we rejected.
        expected = info.next_seq
        end = seq + events + malformed
        if end > MAX_COUNTER:
            info.lying = info.lying or f"sequence number {seq} is beyond 2^53"
            return info  # neither a gap nor a new baseline
        if expected is not None and seq > expected:
            gap = seq - expected
            if gap > MAX_EVENTS_PER_S * max(NS_PER_S, now - previous) // NS_PER_S:
                info.lying = info.lying or (f"sequence number jumped by {gap} in "
                                            f"{max(NS_PER_S, now - previous) / NS_PER_S:.1f} s")
                return info
            info.lost_gaps += gap
        # The first frame seen sets the baseline: a monitor started late has lost nothing.
        info.next_seq = end if expected is None else max(expected, end)
        return info

    @staticmethod
    def heartbeat(info: ProcessInfo, event: wire.Heartbeat) -> None:
        """Keep the latest heartbeat (its counters are cumulative) unless it is impossible:
        then the process is flagged (``lying``) and its previous figures stay."""
        lie = heartbeat_lie(info, event)
        if lie is not None:
            info.lying = info.lying or lie
            return
        info.heartbeat = event
        info.heartbeat_at = info.last_seen
        info.dropped_queue = event.dropped_queue
        info.dropped_send = event.dropped_send

    def bad_frame(self, data: Any, now: int) -> ProcessInfo | None:
        """Count a frame that failed to decode, per process when the sender is identifiable."""
        proc, version_error = peek(data)
        if version_error is not None:
            self.version_errors += 1
            self.version_error = version_error
        info = None if proc is None else self.get(proc, now)
        if info is None:  # unidentifiable, or a new process while the table is full
            self.unknown_malformed += 1
            return None
        info.malformed += 1
        info.last_seen = now
        if version_error is not None:
            info.version_error = version_error
        return info

    @property
    def malformed(self) -> int:
        return self.unknown_malformed + sum(p.malformed for p in self.by_index)

    @property
    def lying(self) -> list[ProcessInfo]:
        """Processes whose counters are not believed (their loss is not in the totals)."""
        return [p for p in self.by_index if p.lying is not None]

    @property
    def lost(self) -> int:
        return sum(p.lost for p in self.by_index if p.lying is None)

    @property
    def dropped(self) -> int:
        return sum(p.dropped_queue + p.dropped_send for p in self.by_index if p.lying is None)

    @property
    def events(self) -> int:
        return sum(p.events for p in self.by_index)

    @property
    def unresolved(self) -> int:
        """Events dropped from the holds (names never defined), also counted in ``lost``."""
        return sum(p.unresolved for p in self.by_index)

    def clear(self) -> None:
        """Forget every process and its frames, but not the names they defined (a probe
        defines each id once, then resends them only every few seconds)."""
        self._names.update((p.key, (p.vocabulary, p.vocabulary_bytes)) for p in self.by_index
                           if p.vocabulary is not None and p.vocabulary_bytes)
        self.processes.clear()
        self.by_index.clear()
        self._host_pids.clear()
        self.unknown_malformed = 0
        self.refused_frames = self.refused_events = self.version_errors = 0
        self._refused_keys.clear()
        self.version_error = None
        self.holds.clear()  # the definitions' byte count stays: the names are kept
