"""The ``signal-monitor`` command: the GUI (default), record, replay, export, diff, keys."""

from __future__ import annotations

import argparse
import os
import signal
import sys
import threading
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any, TextIO

from django_probe import wire
from monitor_gui import cli_diff, cli_otlp, interrupt

EXIT_OK, EXIT_ERROR, EXIT_USAGE = 0, 1, 2
PROGRESS_EVERY_S = 1.0
MAX_PAUSE_S = 5.0  # replay never waits longer than this between two frames
DRAIN_S = 1.0  # after a stop request, record what was already received for at most this


def _err(message: str) -> None:
    print(f"signal-monitor: {message}", file=sys.stderr)


def _parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog="signal-monitor",
        description="See every Django signal dispatch live. Without a command, opens the window.")
    sub = p.add_subparsers(dest="command", metavar="COMMAND")

    # Options accepted both before and after the command: the command's copy has no
    # default of its own (argparse would let it overwrite the value given before the
    # command: `signal-monitor --listen EP record` listening on the default instead).
    _gui_options(p)
    gui = sub.add_parser("gui", help="open the monitor window (the default)")
    _gui_options(gui, argparse.SUPPRESS)

    rec = sub.add_parser("record", help="capture events headlessly to a JSON Lines file")
    rec.add_argument("--listen", default=argparse.SUPPRESS, metavar="EP",
                     help=f"endpoint to bind (default {wire.DEFAULT_ENDPOINT})")
    rec.add_argument("--out", required=True, metavar="FILE",
                     help="output file; .gz or .zst compress")
    rec.add_argument("--duration", type=float, metavar="S", help="stop after S seconds")
    rec.add_argument("--count", type=int, metavar="N", help="stop after N events")
    rec.add_argument("--progress", type=float, metavar="S",
                     help="seconds between progress lines (default 1 on a terminal, else 5)")
    _curve_options(rec, argparse.SUPPRESS)

    rep = sub.add_parser("replay", help="send a recording to a monitor, as the probe would")
    rep.add_argument("file", metavar="FILE")
    rep.add_argument("--to", default=wire.DEFAULT_ENDPOINT, metavar="EP",
                     help=f"monitor endpoint (default {wire.DEFAULT_ENDPOINT})")
    speed = rep.add_mutually_exclusive_group()
    speed.add_argument("--speed", type=float, default=1.0, metavar="X",
                       help="replay X times faster than recorded (default 1)")
    speed.add_argument("--as-fast-as-possible", action="store_true",
                       help="send without waiting between events")
    rep.add_argument("--timeout", type=float, default=10.0, metavar="S",
                     help="give up when no monitor accepts events for S seconds (default 10)")

    exp = sub.add_parser("export", help="convert a recording to a trace, or draw it as a picture")
    exp.add_argument("file", metavar="FILE")
    exp.add_argument("--format", choices=["perfetto", "otlp", "svg", "png"], default="perfetto",
                     help="perfetto: Chrome trace-event JSON for ui.perfetto.dev; otlp: "
                          "OpenTelemetry spans (OTLP/JSON, or --endpoint); svg, png: "
                          "the window's graph as drawn at its default size (no screen needed)")
    exp.add_argument("--out", metavar="OUT",
                     help="output file (default FILE.trace.json, FILE.svg or FILE.png)")
    exp.add_argument("--signal", action="append", metavar="NAME", default=[],
                     help="svg/png: show only this signal (dotted or short name; repeatable)")
    exp.add_argument("--timeline", action="store_true",
                     help="svg/png: draw the timeline instead of the graph")
    exp.add_argument("--window", action="store_true",
                     help="svg/png: draw the whole window (for docs)")
    cli_otlp.add_arguments(exp)
    cli_diff.add_parser(sub)

    keys = sub.add_parser("keys", help="create CurveZMQ certificates for non-loopback use")
    keys.add_argument("directory", metavar="DIR")
    return p


def _gui_options(p: argparse.ArgumentParser, default: Any = None) -> None:
    p.add_argument("--listen", default=wire.DEFAULT_ENDPOINT if default is None else default,
                   metavar="EP",
                   help=f"endpoint to bind (default {wire.DEFAULT_ENDPOINT}); '' to not listen")
    p.add_argument("--open", metavar="FILE", default=default,
                   help="open a recording at start")
    _curve_options(p, default)


def _curve_options(p: argparse.ArgumentParser, default: Any = None) -> None:
    p.add_argument("--curve-secret", type=Path, metavar="FILE", default=default,
                   help="CurveZMQ server certificate (server.key_secret from `keys`)")
    p.add_argument("--curve-clients", type=Path, metavar="DIR", default=default,
                   help="admit only probes whose public certificate is in DIR")


class UsageError(Exception):
    """Options that cannot work together: reported by main() with exit status 2."""


def _curve(args: argparse.Namespace) -> Any:
    """The CurveServer the options ask for, None for none; raises UsageError on misuse.
    Warns when listening beyond loopback without it."""
    from monitor_gui.listener import CurveServer, is_loopback

    curve = None
    if args.curve_secret is not None:
        curve = CurveServer(args.curve_secret, args.curve_clients)
    elif args.curve_clients is not None:
        raise UsageError("--curve-clients needs --curve-secret")
    if curve is None and args.listen and not is_loopback(args.listen):
        _err(f"warning: {args.listen} is not a loopback address and CurveZMQ is off: any host "
             "that reaches it can send events. See `signal-monitor keys` and --curve-secret.")
    return curve


def main(argv: Sequence[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    command = args.command or "gui"
    try:  # Ctrl-C before a command took over its signals: stop quietly, no traceback
        if command == "gui":
            # Before importing Qt (see monitor_gui.interrupt): from here on a Ctrl-C is
            # remembered, and closes the window once it is up.
            interrupt.install()
        if command != "keys":
            try:  # the monitor's own dependencies are an extra, not needed by the probe
                import msgspec  # noqa: F401
                import numpy  # noqa: F401
            except ImportError as exc:
                _err(f"{exc.name} is missing: install the monitor with "
                     "pip install 'django-signal-monitor[monitor]'")
                return EXIT_ERROR
        return {"gui": gui, "record": record, "replay": replay, "export": export,
                "diff": cli_diff.run, "keys": keys}[command](args)
    except UsageError as exc:
        _err(str(exc))
        return EXIT_USAGE
    except KeyboardInterrupt:
        return 130
    finally:
        if command == "gui":
            interrupt.uninstall()


# --------------------------------------------------------------------------- gui


def gui(args: argparse.Namespace) -> int:
    hint = "record headlessly instead: signal-monitor record --out events.jsonl"
    if (sys.platform.startswith("linux") and not os.environ.get("QT_QPA_PLATFORM")
            and not os.environ.get("DISPLAY") and not os.environ.get("WAYLAND_DISPLAY")):
        # Qt would abort() the process without a display; say so instead.
        _err(f"no display (DISPLAY/WAYLAND_DISPLAY unset), so the window cannot open; {hint}")
        return EXIT_ERROR
    curve = _curve(args)
    try:
        from monitor_gui.qt.app import run_gui
    except ImportError as exc:
        _err(f"the window needs PySide6, which could not be imported ({exc}); {hint}")
        return EXIT_ERROR
    from monitor_gui import qt_libraries

    # Qt aborts the process, with a misleading message, when its platform plugin's system
    # libraries are missing: try the plugin in a throwaway process first.
    problem = qt_libraries.check()
    if interrupt.install().received is not None:
        return EXIT_OK  # stopped before the window opened (the check may have died of it)
    if problem is not None:
        _err(problem.message())
        return EXIT_ERROR
    return int(run_gui(listen=args.listen, open_file=args.open, curve=curve) or 0)


# --------------------------------------------------------------------------- record


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
        _err("--count must be at least 1")
        return EXIT_USAGE
    curve = _curve(args)
    try:
        listener = Listener(args.listen, curve=curve)
    except (ListenerError, OSError, ValueError) as exc:
        _err(str(exc))
        return EXIT_ERROR
    try:
        writer = RecordingWriter(args.out)
    except (OSError, RuntimeError) as exc:
        listener.close()
        _err(f"cannot write {args.out}: {exc}")
        return EXIT_ERROR

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
                f"{table.lost} lost, {table.malformed} malformed -> {args.out}")

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
    print(_summary(events, table, args.out), file=sys.stderr)
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
        _err("--speed must be positive")
        return EXIT_USAGE
    if not Path(args.file).is_file():
        _err(f"no such recording: {args.file}")
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
        _err(f"no monitor accepted events at {args.to} within {args.timeout:g} s "
             "(is `signal-monitor` running there?)")
        return EXIT_ERROR
    except zmq.ZMQError as exc:
        _err(f"cannot send to {args.to}: {exc}; check --to")
        return EXIT_ERROR
    except (OSError, RuntimeError) as exc:
        _err(f"cannot read {args.file}: {exc}")
        return EXIT_ERROR
    finally:
        sock.close()
        context.term()
    print(f"replayed {sent} events in {frames} frames to {args.to}"
          + (f" ({reader.malformed} unreadable lines skipped)" if reader.malformed else ""),
          file=sys.stderr)
    _warn_truncated(reader)
    return EXIT_OK


def _warn_truncated(reader: Any) -> None:
    """A recording cut short (a killed recorder) was read up to the cut: say so."""
    if reader.warning is not None:
        _err(f"warning: {reader.warning}")


# --------------------------------------------------------------------------- export / keys


def export(args: argparse.Namespace) -> int:
    problem = cli_otlp.check(args)
    if problem is not None:
        raise UsageError(problem)
    if args.format == "otlp":
        return cli_otlp.run(args)
    if args.format in ("svg", "png"):
        return _export_picture(args)
    if args.signal or args.timeline or args.window:
        raise UsageError("--signal, --timeline and --window draw pictures: use --format svg "
                         "or png")
    from monitor_gui.core import perfetto
    from monitor_gui.core.recording import RecordingReader

    out = args.out or f"{args.file}.trace.json"
    reader = RecordingReader(args.file)
    try:
        count = perfetto.export(reader, out)
    except (OSError, RuntimeError) as exc:
        _err(f"cannot export {args.file}: {exc}")
        return EXIT_ERROR
    print(f"exported {count} dispatches to {out} (open it in https://ui.perfetto.dev)",
          file=sys.stderr)
    _warn_truncated(reader)
    return EXIT_OK


def _export_picture(args: argparse.Namespace) -> int:
    from monitor_gui.qt.snapshot import render_recording

    out = args.out or f"{args.file}.{args.format}"
    if not out.lower().endswith(f".{args.format}"):
        raise UsageError(f"--out {out} does not end in .{args.format}")
    try:
        shot = render_recording(args.file, out, args.signal, timeline=args.timeline,
                                whole=args.window)
    except (OSError, ValueError, RuntimeError) as exc:
        _err(f"cannot export {args.file}: {exc}")
        return EXIT_ERROR
    what = "window" if args.window else "timeline" if args.timeline else "graph"
    print(f"drew the {what} of {shot.dispatches:,} dispatches ({len(shot.signals)} signals) "
          f"to {out}", file=sys.stderr)
    return EXIT_OK


def keys(args: argparse.Namespace) -> int:
    from monitor_gui.listener import create_keys

    try:
        public = create_keys(args.directory)
    except OSError as exc:
        _err(f"cannot create keys in {args.directory}: {exc}")
        return EXIT_ERROR
    d = Path(args.directory)
    print(f"""Wrote {d}/server.key(_secret) and {d}/client.key(_secret).
Monitor:  signal-monitor record --listen tcp://0.0.0.0:5599 \\
              --curve-secret {d}/server.key_secret --curve-clients {d}/clients
          ({d}/clients/ holds the public certificates of admitted probes)
Probe settings (SIGNAL_PROBE):
    "CURVE_SERVER_KEY": "{public['server']}",
    "CURVE_PUBLIC_KEY": "{public['client']}",
    "CURVE_SECRET_KEY": <the secret-key line of {d}/client.key_secret>,""")
    return EXIT_OK
