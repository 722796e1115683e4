"""The ``signal-monitor`` command: GUI (default), record, replay, export, diff, diagnose, keys."""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from django_probe import wire
from monitor_gui import cli_diagnose, cli_diff, cli_otlp, interrupt
from monitor_gui.cli_common import EXIT_ERROR, EXIT_OK, EXIT_USAGE, UsageError, curve_server, err
from monitor_gui.cli_record import record, replay, warn_truncated


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

    rec = sub.add_parser("record", help="capture events headlessly to a JSON Lines file, "
                                        "or relay them live to an OpenTelemetry collector")
    rec.add_argument("--listen", default=argparse.SUPPRESS, metavar="EP",
                     help=f"endpoint to bind (default {wire.DEFAULT_ENDPOINT})")
    rec.add_argument("--out", metavar="FILE",
                     help="output file; .gz or .zst compress (needed unless --otlp)")
    rec.add_argument("--otlp", metavar="URL",
                     help="also send the dispatches as spans, live, to this OTLP/HTTP "
                          "collector (e.g. http://localhost:4318; docs/otel.md)")
    rec.add_argument("--service-name", default="django", metavar="NAME",
                     help="--otlp: the spans' service.name (default django)")
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
    exp.add_argument("--transactions", action="store_true",
                     help="svg/png: the whole window listing the dispatches inside a "
                          "transaction, the newest rolled-back one detailed (for docs)")
    cli_otlp.add_arguments(exp)
    cli_diff.add_parser(sub)
    cli_diagnose.add_parser(sub)

    keys = sub.add_parser("keys", help="create CurveZMQ certificates for non-loopback use")
    keys.add_argument("directory", metavar="DIR")
    return p


def _gui_options(p: argparse.ArgumentParser, default: Any = None) -> None:
    p.add_argument("--listen", default=wire.DEFAULT_ENDPOINT if default is None else default,
                   metavar="EP",
                   help=f"endpoint to bind (default {wire.DEFAULT_ENDPOINT}); '' to not listen")
    p.add_argument("--open", metavar="FILE", default=default,
                   help="open a recording at start")
    p.add_argument("--control-listen", metavar="EP", default=default,
                   help="live control: endpoint to bind for the probes' control sockets "
                        "(default: next to --listen, the next tcp port)")
    p.add_argument("--no-control", action="store_true",
                   default=False if default is None else default,
                   help="do not offer live control (mute/sample at the probes)")
    _curve_options(p, default)


def _curve_options(p: argparse.ArgumentParser, default: Any = None) -> None:
    p.add_argument("--curve-secret", type=Path, metavar="FILE", default=default,
                   help="CurveZMQ server certificate (server.key_secret from `keys`)")
    p.add_argument("--curve-clients", type=Path, metavar="DIR", default=default,
                   help="admit only probes whose public certificate is in DIR")


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
                err(f"{exc.name} is missing: install the monitor with "
                    "pip install 'django-signal-monitor[monitor]'")
                return EXIT_ERROR
        return {"gui": gui, "record": record, "replay": replay, "export": export,
                "diff": cli_diff.run, "diagnose": cli_diagnose.run, "keys": keys}[command](args)
    except UsageError as exc:
        err(str(exc))
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
        err(f"no display (DISPLAY/WAYLAND_DISPLAY unset), so the window cannot open; {hint}")
        return EXIT_ERROR
    curve = curve_server(args)
    try:
        from monitor_gui.qt.app import run_gui
    except ImportError as exc:
        err(f"the window needs PySide6, which could not be imported ({exc}); {hint}")
        return EXIT_ERROR
    from monitor_gui import qt_libraries

    # Qt aborts the process, with a misleading message, when its platform plugin's system
    # libraries are missing: try the plugin in a throwaway process first.
    problem = qt_libraries.check()
    if interrupt.install().received is not None:
        return EXIT_OK  # stopped before the window opened (the check may have died of it)
    if problem is not None:
        err(problem.message())
        return EXIT_ERROR
    return int(run_gui(listen=args.listen, open_file=args.open, curve=curve,
                       control=not getattr(args, "no_control", False),
                       control_endpoint=getattr(args, "control_listen", None)) or 0)


# --------------------------------------------------------------------------- export / keys


def export(args: argparse.Namespace) -> int:
    problem = cli_otlp.check(args)
    if problem is not None:
        raise UsageError(problem)
    if args.format == "otlp":
        return cli_otlp.run(args)
    if args.format in ("svg", "png"):
        return _export_picture(args)
    if args.signal or args.timeline or args.window or args.transactions:
        raise UsageError("--signal, --timeline, --window and --transactions draw pictures: "
                         "use --format svg or png")
    from monitor_gui.core import perfetto
    from monitor_gui.core.recording import RecordingReader

    out = args.out or f"{args.file}.trace.json"
    reader = RecordingReader(args.file)
    try:
        count = perfetto.export(reader, out)
    except (OSError, RuntimeError) as exc:
        err(f"cannot export {args.file}: {exc}")
        return EXIT_ERROR
    print(f"exported {count} dispatches to {out} (open it in https://ui.perfetto.dev)",
          file=sys.stderr)
    warn_truncated(reader)
    return EXIT_OK


def _export_picture(args: argparse.Namespace) -> int:
    from monitor_gui.qt.snapshot import render_recording

    out = args.out or f"{args.file}.{args.format}"
    if not out.lower().endswith(f".{args.format}"):
        raise UsageError(f"--out {out} does not end in .{args.format}")
    try:
        shot = render_recording(args.file, out, args.signal, timeline=args.timeline,
                                whole=args.window or args.transactions,
                                transactions=args.transactions)
    except (OSError, ValueError, RuntimeError) as exc:
        err(f"cannot export {args.file}: {exc}")
        return EXIT_ERROR
    what = ("window" if args.window or args.transactions
            else "timeline" if args.timeline else "graph")
    print(f"drew the {what} of {shot.dispatches:,} dispatches ({len(shot.signals)} signals) "
          f"to {out}", file=sys.stderr)
    return EXIT_OK


def keys(args: argparse.Namespace) -> int:
    from monitor_gui.listener import create_keys

    try:
        public = create_keys(args.directory)
    except OSError as exc:
        err(f"cannot create keys in {args.directory}: {exc}")
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
