"""``signal-monitor record`` (headless: frames to a recording, per-process accounting)
and ``replay`` (a recording to a monitor, at its pace)."""

from __future__ import annotations

import argparse
import signal
import sys
import threading
import time
from pathlib import Path
from typing import Any, TextIO

from django_probe import wire
from monitor_gui import cli_otlp
from monitor_gui.cli_common import EXIT_ERROR, EXIT_OK, EXIT_USAGE, curve_server, err

PROGRESS_EVERY_S = 1.0
MAX_PAUSE_S = 5.0  # replay never waits longer than this between two frames
DRAIN_S = 1.0  # after a stop request, record what was already received for at most this


class _Progress:
    def __init__(self, stream: TextIO, every: float | None) -> None:
        self.stream = stream
        self.tty = stream.isatty()
        self.every = every if every is not None else (PROGRESS_EVERY_S if self.tty else 5.0)
        self.last = 0.0

    def show(self, text: str, final: bool = False) -> None:
        now = time.monotonic()
        if not final and now - self.last < self.every:
            return
        self.last = now
        end = "\n" if final or not self.tty else ""
        self.stream.write(("\r\x1b[K" if self.tty else "") + text + end)
        self.stream.flush()


def record(args: argparse.Namespace) -> int:
    from monitor_gui.core.processes import ProcessTable
    from monitor_gui.core.recording import RecordingWriter
    from monitor_gui.listener import Listener, ListenerError

    if args.count is not None and args.count < 1:
        err("--count must be at least 1")
        return EXIT_USAGE
    if args.out is None and args.otlp is None:
        err("give --out FILE, --otlp URL, or both")
        return EXIT_USAGE
    relay = None
    if args.otlp is not None:
        relay, problem = cli_otlp.relay(args)
        if relay is None:
            err(problem)
            return EXIT_USAGE if problem.startswith("--otlp") else EXIT_ERROR
    curve = curve_server(args)
    try:
        listener = Listener(args.listen, curve=curve)
    except (ListenerError, OSError, ValueError) as exc:
        err(str(exc))
        return EXIT_ERROR
    try:
        writers = [] if args.out is None else [RecordingWriter(args.out)]
    except (OSError, RuntimeError) as exc:
        listener.close()
        err(f"cannot write {args.out}: {exc}")
        return EXIT_ERROR
    writer = cli_otlp.Tee(writers + ([] if relay is None else [relay]))
    where = " and ".join(([args.out] if args.out else [])
                         + ([f"OTLP {args.otlp}"] if args.otlp else []))

    stop = threading.Event()
    previous = {s: signal.signal(s, lambda *_: stop.set())
                for s in (signal.SIGINT, signal.SIGTERM)}
    table = ProcessTable()
    progress = _Progress(sys.stderr, args.progress)
    deadline = None if args.duration is None else time.monotonic() + args.duration
    events = 0
    started = flushed = time.monotonic()

    def status() -> str:
        rate = events / max(time.monotonic() - started, 1e-9)
        full = " (table full)" if table.refused_frames else ""
        return (f"{events} events ({rate:,.0f}/s), {len(table.processes)} processes{full}, "
                f"{table.lost} lost, {table.malformed} malformed -> {where}"
                + ("" if relay is None else f"; otlp: {relay.status()}"))

    print(f"signal-monitor: recording on {listener.endpoint}; Ctrl-C to stop", file=sys.stderr)
    pending: list[bytes] = []  # received, not yet recorded when a stop was requested
    try:
        while not stop.is_set():
            timeout = 100
            if deadline is not None:
                left = deadline - time.monotonic()
                if left <= 0:
                    break
                timeout = max(1, min(timeout, int(left * 1000)))
            frames = listener.recv_batch(timeout)
            for i, data in enumerate(frames):
                if stop.is_set():  # checked between frames: a flood cannot delay the exit
                    pending = frames[i:]
                    break
                events += _record_frame(data, table, writer, None if args.count is None
                                        else args.count - events)
                if args.count is not None and events >= args.count:
                    stop.set()
                    break
            progress.show(status())
            if time.monotonic() - flushed >= PROGRESS_EVERY_S:
                writer.flush()  # a crash or kill -9 loses at most about a second
                flushed = time.monotonic()
        # Frames libzmq already received are ours too: record them before closing, for at
        # most DRAIN_S (the recorder exits within about that of a stop request).
        drain_until = time.monotonic() + DRAIN_S
        while (args.count is None or events < args.count) and time.monotonic() < drain_until:
            frames, pending = pending or listener.recv_batch(0), []
            if not frames:
                break
            for data in frames:
                room = None if args.count is None else args.count - events
                if (room is not None and room <= 0) or time.monotonic() >= drain_until:
                    break
                events += _record_frame(data, table, writer, room)
    finally:
        table.holds.flush()  # frames still waiting for their names: counted as unresolved
        writer.close()
        listener.close()
        for s, handler in previous.items():
            signal.signal(s, handler)
    progress.show(status(), final=True)
    print(_summary(events, table, where), file=sys.stderr)
    if relay is not None:
        print(f"otlp: {relay.status()}", file=sys.stderr)
    return EXIT_OK



def _record_frame(data: bytes, table: Any, writer: Any, room: int | None) -> int:
    """Account one raw frame and write the frames of its process that are now resolved
    (held ones first); return the events written (at most ``room``)."""
    from django_probe.strings import Unresolved, Vocabulary
    from monitor_gui.core.decode import decode, resolved_frame

    now = time.time_ns()
    try:
        frame = decode(data)
    except wire.WireError:  # untrusted input: a malformed frame
        info = table.bad_frame(data, now)
        writer.write_bad_frame(None if info is None else wire.Proc(info.pid, info.host, info.boot))
        return 0
    info = table.account(frame, now)
    if info is None:  # the table is full: written without accounting if it needs no ids
        try:
            ready = [resolved_frame(frame, Vocabulary())]
        except Unresolved:
            return 0
    else:
        ready = table.holds.take(info, frame, data, now, resolved_frame)
    written = 0
    for out in ready:
        if room is not None and len(out.events) > room - written:
            out = out._replace(events=out.events[:max(0, room - written)], malformed=0)
        if info is not None:
            table.scan(info, out.events)
        writer.write(out)
        written += len(out.events)
    return written


def _summary(events: int, table: Any, out: str) -> str:
    lying = table.lying
    lines = [f"recorded {events} events from {len(table.processes)} processes to {out}: "
             f"lost {table.lost}" + (f" (not counting {len(lying)} lying)" if lying else "")
             + (f" (of which {table.unresolved} unresolved: held for names never defined)"
                if table.unresolved else "")
             + f", malformed {table.malformed}"]
    for p in table.by_index:
        lost = f"lost {p.lost}" if p.lying is None else f"claims lost {p.lost} (not trusted)"
        unresolved = f", unresolved {p.unresolved}" if p.unresolved else ""
        lines.append(f"  {p.label}: {p.events} events, {p.dispatches} dispatches, {lost} "
                     f"(gaps {p.lost_gaps}, dropped {p.dropped_queue + p.dropped_send}"
                     f"{unresolved}), malformed {p.malformed}")
        if p.lying is not None:
            lines.append(f"    LYING: {p.lying}")
        if p.version_error is not None:
            lines.append(f"    {p.version_error}")
    if table.unknown_malformed:
        lines.append(f"  unknown sender: malformed {table.unknown_malformed}")
    if table.version_errors:
        lines.append(f"  {table.version_errors} frames refused for their protocol version; "
                     f"latest: {table.version_error}")
    if table.refused_frames:
        from monitor_gui.core.processes import MAX_REFUSED_TRACKED

        more = "+" if table.refused_processes >= MAX_REFUSED_TRACKED else ""
        lines.append(
            f"  process table full ({table.max_processes} processes): {table.refused_processes}"
            f"{more} more processes not tracked; their {table.refused_events} events in "
            f"{table.refused_frames} frames are recorded without per-process accounting")
    return "\n".join(lines)


# --------------------------------------------------------------------------- replay


def replay(args: argparse.Namespace) -> int:
    import zmq

    from monitor_gui.core.recording import RecordingReader

    if not args.as_fast_as_possible and args.speed <= 0:
        err("--speed must be positive")
        return EXIT_USAGE
    if not Path(args.file).is_file():
        err(f"no such recording: {args.file}")
        return EXIT_ERROR
    reader = RecordingReader(args.file)
    context = zmq.Context()
    sock = context.socket(zmq.PUSH)
    sock.setsockopt(zmq.IMMEDIATE, 1)  # fail (after --timeout) rather than queue for nobody
    sock.setsockopt(zmq.SNDTIMEO, int(args.timeout * 1000))
    sock.setsockopt(zmq.LINGER, int(args.timeout * 1000))  # deliver what is queued at exit
    sent = frames = 0
    try:
        sock.connect(args.to)
        origin_ts = origin_wall = None
        for frame in reader:
            if not args.as_fast_as_possible and frame.events:
                ts = frame.events[0][1]
                if origin_ts is None:
                    origin_ts, origin_wall = ts, time.monotonic()
                delay = origin_wall + (ts - origin_ts) / 1e9 / args.speed - time.monotonic()
                if delay > MAX_PAUSE_S:
                    # Idle stretches (or a skewed clock) would stall the replay: shorten them.
                    origin_ts, origin_wall = ts, time.monotonic() + MAX_PAUSE_S
                    delay = MAX_PAUSE_S
                if delay > 0:
                    time.sleep(delay)
            # A rejected event is replayed as one the monitor rejects too, keeping seq honest.
            placeholders = [["malformed"]] * frame.malformed
            sock.send(wire.encode_frame(frame.proc, frame.seq, [*frame.events, *placeholders]))
            sent += len(frame.events)
            frames += 1
    except zmq.Again:
        err(f"no monitor accepted events at {args.to} within {args.timeout:g} s "
            "(is `signal-monitor` running there?)")
        return EXIT_ERROR
    except zmq.ZMQError as exc:
        err(f"cannot send to {args.to}: {exc}; check --to")
        return EXIT_ERROR
    except (OSError, RuntimeError) as exc:
        err(f"cannot read {args.file}: {exc}")
        return EXIT_ERROR
    finally:
        sock.close()
        context.term()
    print(f"replayed {sent} events in {frames} frames to {args.to}"
          + (f" ({reader.malformed} unreadable lines skipped)" if reader.malformed else ""),
          file=sys.stderr)
    warn_truncated(reader)
    return EXIT_OK


def warn_truncated(reader: Any) -> None:
    """A recording cut short (a killed recorder) was read up to the cut: say so."""
    if reader.warning is not None:
        err(f"warning: {reader.warning}")
