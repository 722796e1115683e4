"""Per-process accounting: who is sending, what was lost in transit, what the probe dropped."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import msgpack

from django_probe import wire

ProcessKey = tuple[str, int, str]  # (host, pid, boot)

# Every frame names its sender and each new boot token is a new process, so anyone who
# can send frames could otherwise grow the table (and the totals' sums) without limit.
# Entries are never evicted: their index is stored in every row's ``proc`` column.
MAX_PROCESSES = 4096

# Looser than wire's limits: only used to find out who sent a frame that failed to decode.
_PEEK_LIMITS: dict[str, Any] = dict(
    raw=False, max_bin_len=0, max_ext_len=0, max_str_len=wire.MAX_FRAME_BYTES,
    max_array_len=wire.MAX_EVENTS_PER_FRAME, max_map_len=wire.MAX_ITEMS,
)


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
    heartbeat: wire.Heartbeat | None = None
    next_seq: int | None = None

    @property
    def key(self) -> ProcessKey:
        return (self.host, self.pid, self.boot)

    @property
    def lost(self) -> int:
        """Every event this process produced that the monitor will never see."""
        return self.lost_gaps + self.dropped_queue + self.dropped_send


def identify(data: Any) -> wire.Proc | None:
    """Best-effort sender of an undecodable frame, so it is blamed on the right process."""
    try:
        top = msgpack.unpackb(data, **_PEEK_LIMITS)
    except Exception:  # anything unparsable simply has no identifiable sender
        return None
    if not (isinstance(top, list) and len(top) >= 3 and top[0] == wire.MAGIC):
        return None
    proc = top[2]
    if (isinstance(proc, list) and len(proc) == 3 and type(proc[0]) is int
            and type(proc[1]) is str and type(proc[2]) is str
            and len(proc[1]) <= wire.MAX_STR and len(proc[2]) <= wire.MAX_STR):
        return wire.Proc(*proc)
    return None


class ProcessTable:
    """Accounts frames per process; shared by MonitorState and the headless recorder."""

    def __init__(self, max_processes: int = MAX_PROCESSES) -> None:
        self.max_processes = max_processes  # process instances tracked; later ones are refused
        self.processes: dict[ProcessKey, ProcessInfo] = {}
        self.by_index: list[ProcessInfo] = []
        # Bad frames whose sender could not be identified, plus the events (at least one
        # per frame) of frames refused because the table was full.
        self.unknown_malformed = 0
        self.refused_frames = 0  # frames from new processes beyond ``max_processes``
        self._host_pids: set[tuple[str, int]] = set()

    def get(self, proc: wire.Proc, now: int) -> ProcessInfo | None:
        """The ProcessInfo for ``proc``, created on first sight; None if the table is full."""
        key = (proc.host, proc.pid, proc.boot)
        info = self.processes.get(key)
        if info is None:
            if len(self.by_index) >= self.max_processes:
                return None
            info = ProcessInfo(proc.pid, proc.host, proc.boot, now, now, index=len(self.by_index))
            same = (proc.host, proc.pid) in self._host_pids
            # A restarted or forked process reuses host:pid; the boot token tells them apart.
            info.label = f"{proc.host}:{proc.pid}" + (f"#{proc.boot[:6]}" if same else "")
            self.processes[key] = info
            self.by_index.append(info)
            self._host_pids.add((proc.host, proc.pid))
        return info

    def _refuse(self, rejected: int) -> None:
        """Count a frame from a process beyond the bound in the unknown bucket."""
        self.refused_frames += 1
        self.unknown_malformed += max(1, rejected)

    def account(self, frame: wire.Frame, now: int, scan: bool = False) -> ProcessInfo | None:
        """Update counters for a decoded frame; ``scan`` also reads heartbeats and hellos.

        None when the frame was refused (a new process while the table is full).
        """
        info = self.account_counts(frame.proc, frame.seq, len(frame.events), frame.malformed, now)
        if info is not None and scan:
            for event in frame.events:
                kind = event[0]
                if kind == wire.KIND_HEARTBEAT:
                    self.heartbeat(info, event)  # type: ignore[arg-type]
                elif kind == wire.KIND_HELLO:
                    info.info = dict(event[2])  # type: ignore[arg-type]
                elif kind == wire.KIND_DISPATCH:
                    info.dispatches += 1
        return info

    def account_counts(self, proc: wire.Proc, seq: int, events: int, malformed: int,
                       now: int) -> ProcessInfo | None:
        """Update counters for a frame of ``events`` valid and ``malformed`` rejected events.

        None when the frame's process is new and the table is full: the caller must skip
        the frame's events, which are counted as malformed in the unknown bucket.
        """
        info = self.get(proc, now)
        if info is None:
            self._refuse(events + malformed)
            return None
        info.last_seen = now
        info.events += events
        info.malformed += malformed
        # seq numbers every event the probe handed to zmq, including ones we rejected.
        expected = info.next_seq
        if expected is not None and seq > expected:
            info.lost_gaps += seq - expected
        end = seq + events + malformed
        # The first frame seen sets the baseline: a monitor started late has lost nothing.
        info.next_seq = end if expected is None else max(expected, end)
        return info

    @staticmethod
    def heartbeat(info: ProcessInfo, event: wire.Heartbeat) -> None:
        # Heartbeat counters are cumulative since the process started: keep the latest.
        info.heartbeat = event
        info.dropped_queue = event.dropped_queue
        info.dropped_send = event.dropped_send

    def bad_frame(self, data: Any, now: int) -> ProcessInfo | None:
        """Count a frame that failed to decode, per process when the sender is identifiable."""
        proc = identify(data)
        if proc is None:
            self.unknown_malformed += 1
            return None
        info = self.get(proc, now)
        if info is None:
            self._refuse(1)
            return None
        info.malformed += 1
        info.last_seen = now
        return info

    @property
    def malformed(self) -> int:
        return self.unknown_malformed + sum(p.malformed for p in self.by_index)

    @property
    def lost(self) -> int:
        return sum(p.lost for p in self.by_index)

    @property
    def dropped(self) -> int:
        return sum(p.dropped_queue + p.dropped_send for p in self.by_index)

    @property
    def events(self) -> int:
        return sum(p.events for p in self.by_index)

    def clear(self) -> None:
        self.processes.clear()
        self.by_index.clear()
        self._host_pids.clear()
        self.unknown_malformed = 0
        self.refused_frames = 0
